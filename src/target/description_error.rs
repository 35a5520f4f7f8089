//! Why a target could not be described: the target file unreadable or mistaken (with where), a flag's
//! value wrong (with its name), or something the description needs missing.

use std::path::PathBuf;

use authconform_scenario::diagnostics::Diagnostic;

use super::values::profile_names;

#[derive(Debug, thiserror::Error)]
pub enum DescriptionError {
    #[error("could not read target file {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A mistake in the target file; [`DescriptionError::snippet`] shows where.
    #[error("{}: {}", .0.location(), .0.message)]
    InFile(Box<Diagnostic>),
    #[error("{flag}: {message}")]
    Flag { flag: &'static str, message: String },
    #[error(
        "no target URL: give --target URL (once per instance) or `base_url` / `base_urls` in the target file"
    )]
    NoUrl,
    #[error(
        "no profiles: say what the target implements with --profile or `profiles` in the target file ({})",
        profile_names()
    )]
    NoProfiles,
    #[error("max_body must be at least one byte")]
    ZeroMaxBody,
    #[error("timeout_ms must be at least 1")]
    ZeroTimeout,
}

impl DescriptionError {
    /// The offending text of the target file underlined, with a hint, for a mistake in the file.
    pub fn snippet(&self, styled: bool) -> Option<String> {
        match self {
            DescriptionError::InFile(diagnostic) => Some(diagnostic.render_snippet(styled)),
            _ => None,
        }
    }
}
