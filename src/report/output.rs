//! Where a report goes: stdout, or a file created for it. `run`, `load` and `detect` all open their
//! outputs here.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

/// An opened output.
pub struct Output {
    pub writer: Box<dyn Write + Send>,
    /// Stdout on a terminal (colour and progress bars may be drawn).
    pub is_terminal: bool,
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Output")
            .field("is_terminal", &self.is_terminal)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("could not create {}", path.display())]
pub struct OutputError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

/// The file at `path`, created if missing and appended to (a file other steps write too).
pub fn append(path: &Path) -> Result<Output, OutputError> {
    let file = File::options()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| OutputError {
            path: path.to_owned(),
            source,
        })?;
    Ok(Output {
        writer: Box::new(file),
        is_terminal: false,
    })
}

/// Stdout for `None`, else the file at `path`, created (or truncated) and buffered.
pub fn open(path: Option<&Path>) -> Result<Output, OutputError> {
    match path {
        None => Ok(Output {
            writer: Box::new(io::stdout()),
            is_terminal: io::stdout().is_terminal(),
        }),
        Some(path) => {
            let error = |source| OutputError {
                path: path.to_owned(),
                source,
            };
            // A report may go to a folder not made yet (`--format html=reports/run.html`, `--report-dir`).
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(error)?;
            }
            let file = File::create(path).map_err(error)?;
            Ok(Output {
                writer: Box::new(BufWriter::new(file)),
                is_terminal: false,
            })
        }
    }
}
