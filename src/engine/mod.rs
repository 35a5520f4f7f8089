//! The conformance engine: runs scenarios against targets and judges requirements. It never prints; it
//! emits [`EngineEvent`]s and returns a [`RunReport`].
//!
//! `run` walks the targets and scenarios; `target` is the state every scenario on one target shares;
//! `dispatch` carries one scenario's steps out, `collect` folds a step's responses into its result, `blame`
//! probes who broke a failed step, and `judge` turns that result into findings per requirement;
//! `verdicts` folds every scenario's findings into one verdict per requirement on a target;
//! `clock_boundary` places the one repeat of a sequence a window aligned to the clock could have reset;
//! `interrupt` is the stop (Ctrl-C) that ends waits and sends no further step.

mod blame;
mod clock_boundary;
mod collect;
mod dispatch;
mod events;
mod exchange;
mod expect;
mod figures;
mod interrupt;
mod json_match;
mod judge;
mod jwt;
mod meter;
mod mismatch;
mod ratelimit_fields;
mod render;
mod results;
mod run;
mod schedule;
mod selection;
mod sending;
mod target;
mod verdicts;

pub use events::EngineEvent;
#[cfg(test)]
pub(crate) use figures::{Circumstances, figures_of};
pub use figures::{
    Compared, FigureCheck, FigureVerdict, FirstRefusal, GeneratorFigures, LATE_AFTER_US,
    LoadFigures, LoadModel, Measured, MeteredAnswer, Percentiles, REFUSED, Second, StepFigures,
    TransportError,
};
pub use interrupt::{INTERRUPTED, INTERRUPTED_DURING, Interrupt};
pub use meter::{
    CHARTED_ANSWERS, DrivenAnswer, DrivenStep, Driver, Meter, Pace, QueuedRequest, RequestQueue,
};
pub use results::*;
pub use run::{DEFAULT_JOBS, run};
pub use schedule::plan::{
    FasterWith, Lockout, PROJECTED_REQUEST_MS, Plan, PlannedScenario, TargetSchedule,
    WithBoundaryRepeat, plan,
};
pub use schedule::run_plan::{RunPlan, TargetPlan, planned_scenarios};
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
