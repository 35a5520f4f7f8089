//! The crate's public surface is what the CLI and the tests need, and nothing of its behaviour: every module
//! is private and the crate root re-exports exactly these names, so the runner can start the server but
//! not reach into how it decides.

use std::collections::BTreeSet;

/// What the crate exports: starting and serving, configuring, the state, the clock, the fault switches.
const PUBLIC: &[&str] = &[
    "AppState",
    "AppmixerProfile",
    "Clock",
    "Config",
    "ConfigError",
    "Fault",
    "LockoutScope",
    "PasswordCost",
    "RunError",
    "RunningServer",
    "SeedAccount",
    "ServerArgs",
    "StartError",
    "StoreLocation",
    "WindowKind",
    "app",
    "random_password",
    "run",
    "serve",
];

#[test]
fn the_crate_root_exports_only_what_starting_and_configuring_need() {
    let lib = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/lib.rs")).unwrap();
    // Join each statement onto one line, so a re-export list spread over lines reads as one.
    let statements = lib
        .split(';')
        .map(|statement| statement.split_whitespace().collect::<Vec<_>>().join(" "));
    let mut exported = BTreeSet::new();
    for statement in statements {
        let statement = statement
            .rsplit_once("] ")
            .map_or(statement.as_str(), |(_, rest)| rest)
            .to_owned();
        let words: Vec<&str> = statement.split_whitespace().collect();
        assert!(
            !(words.first() == Some(&"pub") && words.get(1) == Some(&"mod")),
            "a public module: {statement}"
        );
        if let Some(path) = statement.strip_prefix("pub use ") {
            let names = path.rsplit_once("::").map_or(path, |(_, names)| names);
            for name in names.trim_matches(|c| c == '{' || c == '}').split(',') {
                if !name.trim().is_empty() {
                    exported.insert(name.trim().to_owned());
                }
            }
        }
    }
    for line in lib.lines().map(str::trim_start) {
        assert!(
            !line.starts_with("pub ") || line.starts_with("pub use "),
            "an item defined public at the crate root: {line}"
        );
    }
    let expected: BTreeSet<String> = PUBLIC.iter().map(|name| (*name).to_owned()).collect();
    assert_eq!(exported, expected);
}
