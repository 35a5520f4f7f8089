//! `docs/scenario-format.md` agrees with the parser: its example file validates and its example error is
//! the one the parser gives.

use std::path::Path;

use authconform_scenario::model::{Action, Catalogue, Phase, WindowName};
use authconform_scenario::{parse_catalogue, parse_scenario_file};

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative);
    std::fs::read_to_string(&path).expect("a workspace file is readable")
}

fn catalogue() -> Catalogue {
    parse_catalogue(
        Path::new("scenarios/requirements.toml"),
        &read("scenarios/requirements.toml"),
    )
    .expect("the built-in catalogue validates")
}

/// The first ```toml block after `heading`.
fn toml_block(doc: &str, heading: &str) -> String {
    let section = &doc[doc.find(heading).expect("the heading is in the doc")..];
    let start = section.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let end = section[start..].find("```").expect("the block ends") + start;
    section[start..end].to_owned()
}

#[test]
fn the_example_file_validates() {
    let doc = read("docs/scenario-format.md");
    let example = toml_block(&doc, "## A file");
    let scenarios = match parse_scenario_file(Path::new("example.toml"), &example, &catalogue()) {
        Ok(scenarios) => scenarios,
        Err(diagnostics) => panic!("the example in docs/scenario-format.md:\n{diagnostics}"),
    };
    let [scenario] = scenarios.as_slice() else {
        panic!("one scenario")
    };
    assert_eq!(scenario.phase, Phase::Normal);
    assert_eq!(scenario.steps.len(), 2);
    let Action::Request(second) = &scenario.steps[1].action else {
        panic!("a request step")
    };
    let within = second.within.as_ref().expect("`within`");
    assert_eq!(within.since, "first");
    assert_eq!(within.window, WindowName::CsInvalidWindow);
}

#[test]
fn the_example_error_is_the_parsers() {
    let text = "[[scenario]]\nname = \"cs-invalid-window\"\ntitle = \"t\"\ncovers = [\"CS-INVALID-02\"]\n\n[[scenario.step]]\nwiat.window = \"cs_invalid_window\"\n";
    let diagnostics = parse_scenario_file(
        Path::new("scenarios/creditsafe-invalid.toml"),
        text,
        &catalogue(),
    )
    .expect_err("`wiat` is unknown");
    let rendered = diagnostics.to_string();
    assert!(
        rendered.starts_with(
            "error: unknown step field `wiat`\n --> scenarios/creditsafe-invalid.toml:7:1\n"
        ),
        "{rendered}"
    );
    assert!(
        rendered.contains("\n7 | wiat.window = \"cs_invalid_window\"\n  | ^^^^"),
        "{rendered}"
    );
    assert!(
        rendered.contains("help: did you mean `wait`?"),
        "{rendered}"
    );
    // The misspelt `wait` is the only problem reported: not also a step without a request or a wait.
    assert_eq!(diagnostics.len(), 1, "{rendered}");
}
