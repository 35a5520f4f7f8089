//! The seams the compiler does not guard: the checker reaches the reference server only over HTTP (only the
//! embedded default and the `serve` command may start it), and nothing outside the engine reaches into its
//! modules. Each test reads the runner's sources.

use std::path::{Path, PathBuf};

const SOURCES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");

/// Every `.rs` file under `dir`, with its path relative to `src/`.
fn rust_files(dir: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut pending: Vec<PathBuf> = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let relative = path
                    .strip_prefix(SOURCES)
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
