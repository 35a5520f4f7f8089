//! Parser error cases in `fixtures/scenario-parser/`: each file starts with `# expect LINE:COL MESSAGE` lines,
//! one per diagnostic it must produce; the rendered diagnostics (no colour) are snapshotted.

use std::path::{Path, PathBuf};

use authconform_scenario::model::Catalogue;
use authconform_scenario::{Diagnostics, assemble_suite, parse_catalogue};

const FIXTURES: &str = "fixtures/scenario-parser";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(relative: &Path) -> String {
    std::fs::read_to_string(workspace().join(relative))
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", relative.display()))
}

fn builtin_catalogue() -> Catalogue {
    let path = Path::new("scenarios/requirements.toml");
    parse_catalogue(path, &read(path)).expect("the built-in catalogue validates")
}

/// `(line, col, message)` from the `# expect` lines of a fixture.
fn expectations(text: &str) -> Vec<(usize, usize, String)> {
    text.lines()
        .filter_map(|line| line.strip_prefix("# expect "))
        .map(|rest| {
            let (position, message) = rest.split_once(' ').expect("`# expect L:C MESSAGE`");
            let (line, col) = position.split_once(':').expect("`L:C`");
            (
                line.parse().expect("a line number"),
                col.parse().expect("a column"),
                message.to_owned(),
            )
        })
        .collect()
}

/// Every expectation of every file is met by exactly one diagnostic, and there are no others.
fn check_expectations(files: &[(PathBuf, String)], diagnostics: &Diagnostics) {
    let mut expected = 0;
    for (path, text) in files {
        for (line, col, message) in expectations(text) {
            expected += 1;
            let found = diagnostics.iter().any(|d| {
                d.path() == path && d.line == line && d.col == col && d.message.contains(&message)
            });
            assert!(
                found,
                "expected `{message}` at {}:{line}:{col}, got:\n{diagnostics}",
                path.display()
            );
        }
    }
    assert_eq!(
        diagnostics.len(),
        expected,
        "unexpected diagnostics:\n{diagnostics}"
    );
}

/// Parses the fixture files of one case as one suite against the built-in catalogue.
fn rendered_case(files: &[&str]) -> String {
    let files: Vec<(PathBuf, String)> = files
        .iter()
        .map(|name| {
            let path = Path::new(FIXTURES).join(name);
            let text = read(&path);
            (path, text)
        })
        .collect();
    let diagnostics = match assemble_suite(builtin_catalogue(), files.clone()) {
        Ok(_) => panic!("{files:?} should not validate"),
        Err(diagnostics) => diagnostics,
    };
    check_expectations(&files, &diagnostics);
    let rendered = diagnostics.to_string();
    assert!(
        !rendered.contains('\u{1b}'),
        "the Display rendering has no colour"
    );
    rendered
}

macro_rules! case {
    ($test:ident, $($file:literal),+) => {
        #[test]
        fn $test() {
            insta::assert_snapshot!(rendered_case(&[$($file),+]));
        }
    };
}

case!(unknown_key_with_typo, "unknown-key-typo.toml");
case!(unknown_requirement_id, "unknown-requirement-id.toml");
case!(unknown_profile, "unknown-profile.toml");
case!(bad_template_name, "bad-template-name.toml");
case!(
    bad_template_function_argument,
    "bad-template-function-arg.toml"
);
case!(
    template_error_inside_an_escaped_string,
    "template-in-escaped-string.toml"
);
case!(
    captured_value_not_captured_earlier,
    "captured-before-capture.toml"
);
case!(same_as_unknown_capture, "same-as-unknown-capture.toml");
case!(bad_status_pattern, "bad-status-pattern.toml");
case!(toml_syntax_error, "toml-syntax-error.toml");
case!(wrong_type, "wrong-type.toml");
case!(repeat_zero, "repeat-zero.toml");
case!(concurrency_too_large, "concurrency-too-large.toml");
case!(unknown_window, "unknown-window.toml");
case!(level_mismatch, "level-mismatch.toml");
case!(nested_should, "nested-should.toml");
case!(step_without_action, "step-without-action.toml");
case!(
    profile_not_matching_requirement,
    "profile-not-matching-requirement.toml"
);
case!(
    profile_leaves_a_requirement_out,
    "profile-leaves-requirement-out.toml"
);
case!(
    duplicate_scenario_name_across_files,
    "duplicate-name/a.toml",
    "duplicate-name/b.toml"
);

#[test]
fn catalogue_errors() {
    let path = Path::new(FIXTURES).join("catalogue/requirements.toml");
    let text = read(&path);
    let diagnostics = match parse_catalogue(&path, &text) {
        Ok(_) => panic!("the fixture catalogue should not validate"),
        Err(diagnostics) => diagnostics,
    };
    check_expectations(&[(path, text)], &diagnostics);
    insta::assert_snapshot!(diagnostics.to_string());
}

#[test]
fn every_fixture_has_a_case() {
    let source = include_str!("parser_fixtures.rs");
    let entries = std::fs::read_dir(workspace().join(FIXTURES)).expect("the fixtures are readable");
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .expect("a file name");
        if path.is_file() {
            assert!(
                source.contains(&format!("\"{name}\"")),
                "{name} has no case in this file"
            );
        }
    }
}
