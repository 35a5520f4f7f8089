//! The seams the compiler does not guard: the checker reaches the reference server only over HTTP (only the
//! embedded default and the `serve` command may start it), and nothing outside the engine reaches into its
//! modules. Each test reads the runner's sources.

use std::path::{Path, PathBuf};

const SOURCES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");

/// Every `.rs` file under `dir`, with its path relative to `src/`.
fn rust_files(dir: &Path) -> Vec<(String, String)> {
    rust_files_from(dir, Path::new(SOURCES))
}

/// Every `.rs` file under `dir`, with its path relative to `root`.
fn rust_files_from(dir: &Path, root: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut pending: Vec<PathBuf> = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let relative = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                files.push((relative, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

/// The files of `files` whose code (not their comments) mentions `needle`.
fn mentioning<'f>(files: &'f [(String, String)], needle: &str) -> Vec<&'f str> {
    files
        .iter()
        .filter(|(_, text)| {
            text.lines()
                .map(str::trim_start)
                .filter(|line| !line.starts_with("//"))
                .any(|line| line.contains(needle))
        })
        .map(|(path, _)| path.as_str())
        .collect()
}

#[test]
fn only_the_embedded_default_and_serve_use_the_reference_server() {
    let files = rust_files(Path::new(SOURCES));
    assert!(files.iter().any(|(path, _)| path == "engine/run.rs"));
    let users = mentioning(&files, "authconform_reference_server");
    let allowed = [
        "cli.rs",
        "commands/error.rs",
        "commands/serve.rs",
        "embedded.rs",
    ];
    let strays: Vec<&&str> = users
        .iter()
        .filter(|path| !allowed.contains(path))
        .collect();
    assert!(
        strays.is_empty(),
        "{strays:?} use the reference server's crate; the checker meets it only over HTTP"
    );
    for checker in ["engine/", "load/", "target/", "detect.rs"] {
        assert!(
            users.iter().all(|path| !path.starts_with(checker)),
            "{checker} uses the reference server: {users:?}"
        );
    }
}

#[test]
fn nothing_outside_the_engine_uses_its_modules() {
    let files = rust_files(Path::new(SOURCES));
    let modules: Vec<String> = rust_files(&Path::new(SOURCES).join("engine"))
        .iter()
        .filter_map(|(path, _)| {
            let name = path.strip_prefix("engine/")?.strip_suffix(".rs")?;
            let module = name.split('/').next()?;
            (module != "mod").then(|| format!("engine::{module}::"))
        })
        .collect();
    assert!(modules.iter().any(|module| module == "engine::judge::"));
    for (path, text) in &files {
        if path.starts_with("engine/") {
            continue;
        }
        for module in &modules {
            assert!(
                !text.contains(module.as_str()),
                "{path} reaches into `{module}`; use what `engine` exports"
            );
        }
    }
}

/// The code of the files a part of the table names: a folder (`target/`), a file (`detect.rs`), or the
/// scenario crate.
fn part_files(part: &str) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if part == "crates/scenario" {
        return rust_files_from(&root.join("crates/scenario/src"), root);
    }
    let files = rust_files(Path::new(SOURCES));
    files
        .into_iter()
        .filter(|(path, _)| {
            if part.ends_with('/') {
                path.starts_with(part)
            } else {
                path == part
            }
        })
        .collect()
}

/// What each phrase of the table's "must not use" column means in code.
fn forbidden(phrase: &str) -> Vec<&'static str> {
    match phrase {
        "`engine`" => vec!["crate::engine", "super::engine"],
        "`load`" => vec!["crate::load", "super::load"],
        "`report`" => vec!["crate::report", "super::report"],
        "`detect`" => vec!["crate::detect", "super::detect"],
        "the reference server" => vec!["authconform_reference_server"],
        "HTTP" => vec!["reqwest", "hyper::"],
        "tokio" => vec!["tokio::"],
        "the runner" => vec!["authconform::"],
        // `engine`'s exports (crate::engine::Verdict) are allowed; its modules are not.
        "engine modules" => vec![
            "engine::run::",
            "engine::judge::",
            "engine::dispatch::",
            "engine::target::",
            "engine::schedule::",
            "engine::collect::",
        ],
        "anything that sends requests" => vec!["TargetClient", "reqwest::Client", ".send("],
        other => panic!(
            "docs/architecture.md forbids `{other}`, which this test cannot check: teach `forbidden` what it means"
        ),
    }
}

/// Every row of docs/architecture.md's "Who may use what" table holds: no file of a part uses what its row
/// says it must not.
#[test]
fn every_row_of_the_architecture_table_holds() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/architecture.md"))
        .unwrap();
    let table = doc
        .split("## Who may use what")
        .nth(1)
        .expect("the table's section");
    let rows: Vec<Vec<&str>> = table
        .lines()
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .skip(2)
        .map(|line| line.trim_matches('|').split('|').map(str::trim).collect())
        .collect();
    assert!(rows.len() >= 8, "the table has its rows: {rows:?}");
    let mut checked = 0;
    for row in &rows {
        let [part, _, must_not] = row.as_slice() else {
            panic!("a row of three cells: {row:?}");
        };
        if *must_not == "—" {
            continue;
        }
        let parts: Vec<&str> = part.split(", ").map(|p| p.trim_matches('`')).collect();
        let needles: Vec<&str> = must_not
            .split(", ")
            .flat_map(|phrase| forbidden(phrase))
            .collect();
        for part in parts {
            let files = part_files(part);
            assert!(!files.is_empty(), "`{part}` names no source files");
            for needle in &needles {
                let users = mentioning(&files, needle);
                assert!(
                    users.is_empty(),
                    "{users:?} ({part}) use `{needle}`, which docs/architecture.md says {part} must not use"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 8, "every part was checked");
}
