//! Whatever the input, parsing and rendering diagnostics never panic.

use std::path::Path;
use std::sync::OnceLock;

use authconform_scenario::model::Catalogue;
use authconform_scenario::{assemble_suite, parse_catalogue, parse_scenario_file, parse_template};
use proptest::prelude::*;

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative);
    std::fs::read_to_string(&path).expect("a workspace file is readable")
}

fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        parse_catalogue(
            Path::new("scenarios/requirements.toml"),
            &read("scenarios/requirements.toml"),
        )
        .expect("the built-in catalogue validates")
    })
}

/// A real scenario file to mutate.
fn sample() -> &'static str {
    static SAMPLE: OnceLock<String> = OnceLock::new();
    SAMPLE.get_or_init(|| read("scenarios/creditsafe-invalid-limit.toml"))
}

/// Pieces that tend to reach deep into the parser when spliced into a file or a template.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~]{0,12}",
        Just("{{".to_owned()),
        Just("}}".to_owned()),
        Just("{{ captured.".to_owned()),
        Just("tamper(".to_owned()),
        Just("long_string(99999999999999999999)".to_owned()),
        Just("\\u00e9\\".to_owned()),
        Just("é".to_owned()),
        Just("\"\"\"".to_owned()),
        Just("\n[[scenario.step]]\n".to_owned()),
        Just("\nexpect.should.should = 1\n".to_owned()),
        Just("= ".to_owned()),
        Just("\r\n".to_owned()),
    ]
}

/// Renders every diagnostic, which exercises the span arithmetic of the renderer.
fn render<T>(result: Result<T, authconform_scenario::Diagnostics>) {
    if let Err(diagnostics) = result {
        assert!(!diagnostics.is_empty());
        let rendered = diagnostics.to_string();
        assert!(!rendered.is_empty());
        for diagnostic in diagnostics.iter() {
            assert!(diagnostic.line >= 1 && diagnostic.col >= 1);
            assert!(diagnostic.span.end <= diagnostic.file.text.len());
        }
    }
}

proptest! {
    // PROPTEST_CASES (scripts/fuzz.sh) runs a longer campaign; 256 cases otherwise.
    #![proptest_config(ProptestConfig {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() { ProptestConfig::default().cases } else { 256 },
        ..ProptestConfig::default()
    })]

    #[test]
    fn templates_never_panic(pieces in proptest::collection::vec(fragment(), 0..6)) {
        let text = pieces.concat();
        if let Err(error) = parse_template(&text) {
            prop_assert!(error.span.start <= error.span.end && error.span.end <= text.len());
            prop_assert!(text.is_char_boundary(error.span.start));
            prop_assert!(text.is_char_boundary(error.span.end));
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        render(parse_scenario_file(Path::new("arbitrary.toml"), &text, catalogue()));
        render(parse_catalogue(Path::new("requirements.toml"), &text));
    }

    #[test]
    fn edited_scenario_files_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0usize..40, fragment()), 1..4)
    ) {
        let mut text = sample().to_owned();
        for (at, remove, insert) in edits {
            let mut start = at.index(text.len() + 1);
            while !text.is_char_boundary(start) {
                start -= 1;
            }
            let mut end = (start + remove).min(text.len());
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.replace_range(start..end, &insert);
        }
        render(parse_scenario_file(Path::new("edited.toml"), &text, catalogue()));
        render(assemble_suite(
            catalogue().clone(),
            vec![("a.toml".into(), text.clone()), ("b.toml".into(), text)],
        ));
    }
}
