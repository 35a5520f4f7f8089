//! The built-in suite in `scenarios/`: every file parses and assembles, and every requirement is covered.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use authconform_scenario::model::{Catalogue, Suite};
use authconform_scenario::{assemble_suite, parse_catalogue, parse_scenario_file};

const CATALOGUE_FILE: &str = "requirements.toml";

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios")
}

/// Each file as (path relative to the workspace, text), sorted by name.
fn scenario_files() -> Vec<(PathBuf, String)> {
    let mut files: Vec<(PathBuf, String)> = std::fs::read_dir(scenarios_dir())
        .expect("scenarios/ is readable")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| {
            path.extension().is_some_and(|ext| ext == "toml")
                && path.file_name().is_some_and(|name| name != CATALOGUE_FILE)
        })
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("a scenario file is readable");
            let name = path.file_name().expect("a file name").to_owned();
            (Path::new("scenarios").join(name), text)
        })
        .collect();
    files.sort();
    files
}

fn catalogue() -> Catalogue {
    let text = std::fs::read_to_string(scenarios_dir().join(CATALOGUE_FILE))
        .expect("the catalogue is readable");
    match parse_catalogue(Path::new("scenarios/requirements.toml"), &text) {
        Ok(catalogue) => catalogue,
        Err(diagnostics) => panic!("the catalogue does not validate:\n{diagnostics}"),
    }
}

fn suite() -> Suite {
    match assemble_suite(catalogue(), scenario_files()) {
        Ok(suite) => suite,
        Err(diagnostics) => panic!("the built-in suite does not validate:\n{diagnostics}"),
    }
}

#[test]
fn catalogue_parses_with_unique_ids() {
    let catalogue = catalogue();
    assert!(!catalogue.requirements.is_empty());
    let ids: BTreeSet<&str> = catalogue
        .requirements
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(ids.len(), catalogue.requirements.len());
}

#[test]
fn every_scenario_file_parses_on_its_own() {
    let catalogue = catalogue();
    let files = scenario_files();
    assert!(
        files.len() >= 8,
        "found only {} scenario files",
        files.len()
    );
    let mut failures = String::new();
    for (path, text) in &files {
        match parse_scenario_file(path, text, &catalogue) {
            Ok(scenarios) => assert!(!scenarios.is_empty(), "{} is empty", path.display()),
            Err(diagnostics) => failures.push_str(&format!("{diagnostics}\n")),
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

#[test]
fn builtin_suite_assembles_with_lockout_scenarios_last() {
    let suite = suite();
    assert!(!suite.scenarios.is_empty());
    let first_lockout = suite
        .scenarios
        .iter()
        .position(|s| s.phase == authconform_scenario::model::Phase::Lockout)
        .unwrap_or(suite.scenarios.len());
    assert!(
        suite.scenarios[first_lockout..]
            .iter()
            .all(|s| s.phase == authconform_scenario::model::Phase::Lockout),
        "a normal scenario is ordered after a lockout scenario"
    );
    for scenario in &suite.scenarios {
        assert!(
            !scenario.profiles.is_empty(),
            "{} has no profiles",
            scenario.name
        );
        assert!(!scenario.steps.is_empty(), "{} has no steps", scenario.name);
        assert!(scenario.origin.file.starts_with("scenarios"));
    }
}

#[test]
fn every_must_and_should_requirement_is_covered() {
    let suite = suite();
    let covered: BTreeSet<&str> = suite
        .scenarios
        .iter()
        .flat_map(|scenario| {
            scenario
                .steps
                .iter()
                .flat_map(|step| step.covers.iter())
                .chain(scenario.covers.iter())
        })
        .map(String::as_str)
        .collect();
    let uncovered: Vec<&str> = suite
        .catalogue
        .requirements
        .iter()
        .map(|r| r.id.as_str())
        .filter(|id| !covered.contains(id))
        .collect();
    assert!(
        uncovered.is_empty(),
        "requirements no built-in scenario covers: {}",
        uncovered.join(", ")
    );
}
