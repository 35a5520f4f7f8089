//! Embeds the built-in suite (`scenarios/*.toml`, the requirement catalogue included) into the binary, so
//! `authconform` works from any directory.

use std::fmt::Write as _;
use std::path::Path;
use std::{env, fs};

fn main() {
    let manifest_dir = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let out_dir = env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let scenarios = Path::new(&manifest_dir).join("scenarios");
    println!("cargo::rerun-if-changed={}", scenarios.display());

    let mut files: Vec<String> = fs::read_dir(&scenarios)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(".toml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();

    let mut code = String::new();
    code.push_str(
        "/// Every `scenarios/*.toml` file (the catalogue included): (display path, text).\n",
    );
    code.push_str("pub(crate) const BUILTIN_FILES: &[(&str, &str)] = &[\n");
    for name in &files {
        let path = scenarios.join(name);
        println!("cargo::rerun-if-changed={}", path.display());
        writeln!(
            code,
            "    ({:?}, include_str!({:?})),",
            format!("scenarios/{name}"),
            path.display().to_string()
        )
        .expect("writing to a String cannot fail");
    }
    code.push_str("];\n");
    fs::write(Path::new(&out_dir).join("builtin_suite.rs"), code).expect("OUT_DIR is writable");
}
