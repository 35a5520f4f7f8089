//! The suite a run uses: the built-in one (compiled into the binary by `build.rs` from `scenarios/`) plus
//! any vendor scenario directories, validated against the built-in requirement catalogue.

use std::path::{Path, PathBuf};

use authconform_scenario::Diagnostics;
use authconform_scenario::model::{Catalogue, Suite};

include!(concat!(env!("OUT_DIR"), "/builtin_suite.rs"));

/// The file holding the requirement catalogue, in the built-in suite and in scenario directories.
pub const CATALOGUE_FILE: &str = "requirements.toml";

#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("could not read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} has no scenario files (*.toml)", path.display())]
    Empty { path: PathBuf },
    /// Rendered diagnostics: `file:line:col` with the offending text underlined.
    #[error("invalid scenarios\n{0}")]
    Invalid(Diagnostics),
    #[error("the built-in suite has no {CATALOGUE_FILE}")]
    NoBuiltinCatalogue,
}

/// The built-in requirement catalogue.
pub fn builtin_catalogue() -> Result<Catalogue, SuiteError> {
    let (path, text) = BUILTIN_FILES
        .iter()
        .find(|(path, _)| {
            Path::new(path)
                .file_name()
                .is_some_and(|name| name == CATALOGUE_FILE)
        })
        .ok_or(SuiteError::NoBuiltinCatalogue)?;
    authconform_scenario::parse_catalogue(Path::new(path), text).map_err(SuiteError::Invalid)
}

/// The built-in scenario files (the catalogue excluded).
fn builtin_scenario_files() -> Vec<(PathBuf, String)> {
    BUILTIN_FILES
        .iter()
        .filter(|(path, _)| !path.ends_with(CATALOGUE_FILE))
        .map(|(path, text)| (PathBuf::from(path), (*text).to_owned()))
        .collect()
}

/// The built-in suite plus the scenario files of each vendor directory.
pub fn load(vendor_dirs: &[PathBuf]) -> Result<Suite, SuiteError> {
    let catalogue = builtin_catalogue()?;
    let mut files = builtin_scenario_files();
    for dir in vendor_dirs {
        let vendor = read_dir(dir)?;
        if vendor.is_empty() {
            return Err(SuiteError::Empty { path: dir.clone() });
        }
        files.extend(vendor);
    }
    authconform_scenario::assemble_suite(catalogue, files).map_err(SuiteError::Invalid)
}

/// Validates a directory of scenario files: against its own `requirements.toml` when it has one, else
/// against the built-in catalogue. Returns the suite it makes.
pub fn check_dir(dir: &Path) -> Result<Suite, SuiteError> {
    let own_catalogue = dir.join(CATALOGUE_FILE);
    let catalogue = if own_catalogue.is_file() {
        let text = std::fs::read_to_string(&own_catalogue).map_err(|source| SuiteError::Read {
            path: own_catalogue.clone(),
            source,
        })?;
        authconform_scenario::parse_catalogue(&own_catalogue, &text).map_err(SuiteError::Invalid)?
    } else {
        builtin_catalogue()?
    };
    let files = read_dir(dir)?;
    if files.is_empty() {
        return Err(SuiteError::Empty {
            path: dir.to_owned(),
        });
    }
    authconform_scenario::assemble_suite(catalogue, files).map_err(SuiteError::Invalid)
}

/// Every `*.toml` file of a directory except the catalogue, by file name.
fn read_dir(dir: &Path) -> Result<Vec<(PathBuf, String)>, SuiteError> {
    let read_error = |source| SuiteError::Read {
        path: dir.to_owned(),
        source,
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(read_error)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.extension().is_some_and(|ext| ext == "toml")
                && path.file_name().is_some_and(|name| name != CATALOGUE_FILE)
        })
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| match std::fs::read_to_string(&path) {
            Ok(text) => Ok((path, text)),
            Err(source) => Err(SuiteError::Read { path, source }),
        })
        .collect()
}
