//! Why a command could not be carried out, and the exit code each cause maps to.

use std::io;
use std::path::PathBuf;

use crate::detect::DetectError;
use crate::embedded::EmbeddedError;
use crate::engine::{EngineError, SelectionError};
use crate::expectations::ExpectationsError;
use crate::report::output::OutputError;
use crate::suite::SuiteError;
use crate::target::DescriptionError;

/// Exit codes, fixed by cause.
pub mod exit {
    pub const PASSED: u8 = 0;
    pub const FAILED: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const RUNTIME: u8 = 3;
    /// Stopped by Ctrl-C (128 + SIGINT, as shells report it); the reports and the state file were
    /// written with what was done.
    pub const INTERRUPTED: u8 = 130;
}

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Description(#[from] DescriptionError),
    #[error(transparent)]
    Selection(#[from] SelectionError),
    #[error(transparent)]
    Expectations(#[from] ExpectationsError),
    /// The selection (`--only`, `--skip`, the profiles) left nothing to check: never a green run.
    #[error("{0}")]
    NothingToCheck(String),
    #[error("{} exists: add --force to overwrite it", path.display())]
    Exists { path: PathBuf },
    #[error("init needs a target: add --target URL (or --target-file FILE to start from)")]
    InitWithoutTarget,
    #[error(
        "{} holds {holds}, not the state of {expected} that {} would describe: add --force to replace it, or write the target file under another name",
        state.display(),
        output.display()
    )]
    InitOverState {
        output: PathBuf,
        state: PathBuf,
        /// What the state file holds: another target's state, or one this build cannot read.
        holds: String,
        expected: String,
    },
    #[error(transparent)]
    Suite(#[from] SuiteError),
    #[error("{flag} describes a target, but none is given: add --target URL or --target-file FILE")]
    TargetFlagWithoutTarget { flag: &'static str },
    #[error("detect needs a target: add --target URL or --target-file FILE")]
    DetectWithoutTarget,
    #[error(transparent)]
    SeveralOnStdout(#[from] crate::report::SeveralOnStdout),
    #[error(
        "{flag} applies to the signin and signup benchmarks; the lockout profile sends what its check needs"
    )]
    NotForLockout { flag: &'static str },
    #[error("--compare {given}: {reason}")]
    CompareUrl { given: String, reason: String },
    #[error("--compare {given}")]
    CompareTarget {
        given: String,
        #[source]
        source: DescriptionError,
    },
    #[error("no embedded instance serves {profile}")]
    NoEmbeddedInstance {
        profile: authconform_scenario::model::Profile,
    },
    /// The reference server's flags or address (its message names the flag).
    #[error("{0}")]
    ServeSetup(authconform_reference_server::RunError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Embedded(#[from] EmbeddedError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("could not write the report")]
    Write(#[source] io::Error),
    #[error("could not start the async runtime")]
    Runtime(#[source] io::Error),
    #[error("the load run stopped before it finished")]
    LoadTask(#[source] tokio::task::JoinError),
    #[error(transparent)]
    Load(#[from] crate::load::LoadError),
    #[error(transparent)]
    Detect(#[from] DetectError),
    #[error(transparent)]
    Declared(#[from] crate::target::declared::DeclaredMismatch),
    #[error("the reference server failed")]
    Serve(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error(transparent)]
    State(#[from] crate::target::state::StateError),
}

impl CommandError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CommandError::Description(_)
            | CommandError::Selection(_)
            | CommandError::Expectations(_)
            | CommandError::NothingToCheck(_)
            | CommandError::Exists { .. }
            | CommandError::InitWithoutTarget
            | CommandError::InitOverState { .. }
            | CommandError::Suite(_)
            | CommandError::TargetFlagWithoutTarget { .. }
            | CommandError::DetectWithoutTarget
            | CommandError::SeveralOnStdout(_)
            | CommandError::NotForLockout { .. }
            | CommandError::CompareUrl { .. }
            | CommandError::CompareTarget { .. }
            | CommandError::NoEmbeddedInstance { .. }
            | CommandError::ServeSetup(_)
            | CommandError::Output(_)
            | CommandError::State(
                crate::target::state::StateError::Corrupt { .. }
                | crate::target::state::StateError::Foreign { .. },
            )
            | CommandError::Declared(_)
            | CommandError::Engine(EngineError::ClockProtocol { .. })
            | CommandError::Load(
                crate::load::LoadError::Requests(_)
                | crate::load::LoadError::NothingMeasured { .. }
                | crate::load::LoadError::NotImplemented { .. }
                | crate::load::LoadError::TooManyScheduled(_)
                | crate::load::LoadError::NothingScheduled
                | crate::load::LoadError::NotPastTheLimit { .. }
                | crate::load::LoadError::Baseline(_),
            ) => exit::USAGE,
            CommandError::Engine(_)
            | CommandError::Embedded(_)
            | CommandError::Write(_)
            | CommandError::Runtime(_)
            | CommandError::LoadTask(_)
            | CommandError::Serve(_)
            | CommandError::Load(_)
            | CommandError::Detect(_)
            | CommandError::State(_) => exit::RUNTIME,
        }
    }

    /// What to print under the message: a mistake in the target file, underlined in its text.
    pub fn snippet(&self, styled: bool) -> Option<String> {
        match self {
            CommandError::Description(error)
            | CommandError::CompareTarget { source: error, .. } => error.snippet(styled),
            _ => None,
        }
    }

    /// Stdout was closed early (`authconform run | head`): not worth an error.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, CommandError::Write(err) if err.kind() == io::ErrorKind::BrokenPipe)
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    use super::*;
    use crate::load::LoadError;

    fn not_found() -> io::Error {
        io::Error::new(io::ErrorKind::NotFound, "no such file or directory")
    }

    /// No message in the chain repeats the message of its cause (main prints the whole chain).
    fn assert_each_cause_once(error: &(dyn Error + 'static)) {
        let mut current = Some(error);
        while let Some(error) = current {
            if let Some(cause) = error.source() {
                assert!(
                    !error.to_string().contains(&cause.to_string()),
                    "`{error}` repeats its cause `{cause}`"
                );
            }
            current = error.source();
        }
    }

    #[test]
    fn a_chain_names_each_cause_once() {
        let errors = [
            CommandError::Description(DescriptionError::Read {
                path: "t.toml".into(),
                source: not_found(),
            }),
            CommandError::Output(OutputError {
                path: "report.json".into(),
                source: not_found(),
            }),
            CommandError::CompareTarget {
                given: "other.toml".into(),
                source: DescriptionError::Read {
                    path: "other.toml".into(),
                    source: not_found(),
                },
            },
            CommandError::Write(not_found()),
            CommandError::Runtime(not_found()),
            CommandError::Embedded(EmbeddedError::Bind(not_found())),
            CommandError::Load(LoadError::Requests(0)),
            CommandError::Serve(Box::new(not_found())),
        ];
        for error in &errors {
            assert_each_cause_once(error);
        }
        let printed = format!(
            "{:#}",
            anyhow::Error::from(CommandError::Output(OutputError {
                path: "reports/report.json".into(),
                source: not_found(),
            }))
        );
        assert_eq!(
            printed,
            "could not create reports/report.json: no such file or directory"
        );
    }

    #[test]
    fn a_client_that_cannot_be_built_is_a_runtime_failure() {
        let error = CommandError::Detect(DetectError::Client(crate::target::ClientError::Header(
            "X-Bad".into(),
        )));
        assert_eq!(error.exit_code(), exit::RUNTIME);
        let error = CommandError::Engine(EngineError::Client(crate::target::ClientError::Header(
            "X-Bad".into(),
        )));
        assert_eq!(error.exit_code(), exit::RUNTIME);
    }
}
