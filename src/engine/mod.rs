//! The conformance engine: runs scenarios against targets and judges requirements. It never prints; it
//! emits [`EngineEvent`]s and returns a [`RunReport`].

mod events;
mod exchange;
mod expect;
mod jwt;
mod render;
mod results;
mod run;
mod scenario;
mod schedule;
mod selection;
mod target;

pub use events::EngineEvent;
pub use results::*;
pub use run::{DEFAULT_JOBS, RunPlan, TargetPlan, run};
pub use selection::{Selection, SelectionError};

/// Why a run could not be carried out (a failed requirement is a verdict, never an error).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("target {target} is unreachable at {url}: {reason}")]
    Unreachable {
        target: String,
        url: String,
        reason: String,
    },
    #[error(
        "target {target} is described with clock = control, but {problem}; start it with its test clock on, or use --clock real"
    )]
    ClockProtocol { target: String, problem: String },
    #[error(transparent)]
    Client(#[from] crate::target::ClientError),
}
