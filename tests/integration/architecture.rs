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
        "HTTP" => vec!["reqwest", "hyper::", "httparse"],
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

/// The module a source file defines, as path segments from the crate root (`engine/meter.rs` →
/// `["engine", "meter"]`, `engine/mod.rs` → `["engine"]`, `lib.rs` → `[]`).
fn module_of(file: &str) -> Vec<String> {
    let stem = file.trim_end_matches(".rs");
    let mut segments: Vec<String> = stem.split('/').map(str::to_owned).collect();
    if matches!(segments.last().map(String::as_str), Some("mod" | "lib")) {
        segments.pop();
    }
    segments
}

/// Expands a `use` tree (`super::{a::B, c::{D, E}}`) into its paths.
fn use_paths(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        return vec![tree.to_owned()];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|part| !part.trim().is_empty())
        .flat_map(|part| use_paths(&format!("{prefix}{}", part.trim())))
        .collect()
}

/// The files a source file imports from (by `use` or by a path in its code), in a crate whose files are
/// `files`. A path is resolved to the deepest file it names; a module's `mod.rs` (or `lib.rs`) re-exports
/// its children, so a path that stops there is a way in, not an import of anything the file decides.
fn imports_of(file: &str, text: &str, files: &[(String, String)]) -> Vec<String> {
    let own = module_of(file);
    let code = text
        .split("#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or_default();
    let code: String = code
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut paths = Vec::new();
    let statement = regex::Regex::new(r"(?s)\buse\s+((?:crate|super|self)::[^;]*);").unwrap();
    for found in statement.captures_iter(&code) {
        paths.extend(use_paths(&found[1].split_whitespace().collect::<String>()));
    }
    let inline = regex::Regex::new(r"\b(?:crate|super|self)(?:::[A-Za-z_]\w*)+").unwrap();
    paths.extend(inline.find_iter(&code).map(|m| m.as_str().to_owned()));
    let module_file = |segments: &[String]| -> Option<String> {
        let joined = segments.join("/");
        [format!("{joined}.rs"), format!("{joined}/mod.rs")]
            .into_iter()
            .find(|candidate| files.iter().any(|(path, _)| path == candidate))
    };
    let mut imports = Vec::new();
    for path in paths {
        let mut segments = path.split("::").map(str::to_owned);
        let mut module = match segments.next().as_deref() {
            Some("crate") => Vec::new(),
            Some("self") => own.clone(),
            Some("super") => own[..own.len().saturating_sub(1)].to_vec(),
            _ => continue,
        };
        for segment in segments {
            if segment == "super" {
                module.pop();
            } else {
                module.push(segment);
            }
        }
        let deepest = (0..=module.len())
            .rev()
            .find_map(|len| module_file(&module[..len]));
        if let Some(target) = deepest
            && target != file
            && !target.ends_with("mod.rs")
            && target != "lib.rs"
            && !imports.contains(&target)
        {
            imports.push(target);
        }
    }
    imports
}

/// A loop in `graph` (file → the files it imports), if there is one.
fn import_loop(graph: &std::collections::BTreeMap<String, Vec<String>>) -> Option<Vec<String>> {
    fn visit(
        file: &str,
        graph: &std::collections::BTreeMap<String, Vec<String>>,
        path: &mut Vec<String>,
        done: &mut std::collections::BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|f| f == file) {
            let mut found = path[start..].to_vec();
            found.push(file.to_owned());
            return Some(found);
        }
        if done.contains(file) {
            return None;
        }
        path.push(file.to_owned());
        for next in graph.get(file).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(file.to_owned());
        None
    }
    let mut done = std::collections::BTreeSet::new();
    graph
        .keys()
        .find_map(|file| visit(file, graph, &mut Vec::new(), &mut done))
}

fn import_graph(root: &Path) -> std::collections::BTreeMap<String, Vec<String>> {
    let files = rust_files_from(root, root);
    files
        .iter()
        .filter(|(path, _)| path != "main.rs")
        .map(|(path, text)| (path.clone(), imports_of(path, text, &files)))
        .collect()
}

/// No two source files import each other, directly or through others, in the runner, the scenario crate
/// or the reference server: each file builds on the ones below it.
#[test]
fn no_source_file_imports_itself_through_others() {
    let scenario = Path::new(SOURCES).join("../crates/scenario/src");
    let server = Path::new(SOURCES).join("../reference-server/src");
    for root in [Path::new(SOURCES).to_owned(), scenario, server] {
        let graph = import_graph(&root);
        assert!(
            graph.values().map(Vec::len).sum::<usize>() > 10,
            "{graph:?}"
        );
        assert_eq!(
            import_loop(&graph),
            None,
            "an import loop under {}",
            root.display()
        );
    }
}

/// The loop finder sees a loop through three files, and the import reader resolves `super`, groups and
/// inline paths to the deepest file.
#[test]
fn the_import_loop_finder_can_fail() {
    let files: Vec<(String, String)> = [
        ("lib.rs", "mod a; mod b;"),
        ("a/mod.rs", "mod x; mod y;"),
        (
            "a/x.rs",
            "use super::{y::Thing, z};\nfn f() { crate::b::go(); }",
        ),
        ("a/y.rs", "use crate::b;"),
        ("b.rs", "fn go() { super::a::x::f(); }"),
    ]
    .iter()
    .map(|(path, text)| ((*path).to_owned(), (*text).to_owned()))
    .collect();
    assert_eq!(
        imports_of("a/x.rs", &files[2].1, &files),
        ["a/y.rs", "b.rs"]
    );
    let graph: std::collections::BTreeMap<String, Vec<String>> = files
        .iter()
        .map(|(path, text)| (path.clone(), imports_of(path, text, &files)))
        .collect();
    let found = import_loop(&graph).expect("a loop");
    assert_eq!(found, ["a/x.rs", "a/y.rs", "b.rs", "a/x.rs"]);
}
