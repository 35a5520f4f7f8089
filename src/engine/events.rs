//! What the engine tells the outside world while it runs. The engine never prints; reporters consume these.

use authconform_scenario::model::Profile;

use super::results::{RunReport, TargetReport, Verdict};
use super::schedule::plan::FasterWith;
use crate::target::ClockMode;

#[derive(Debug)]
pub enum EngineEvent<'a> {
    RunStarted {
        run_id: &'a str,
        targets: usize,
        scenarios: usize,
        /// The wall time the schedule projects (`authconform plan`).
        projected_ms: u64,
        /// The same should a window aligned to the clock make one check repeat a limit sequence, when that
        /// lengthens the run (`authconform plan`'s `with_boundary_repeat`).
        with_boundary_repeat_ms: Option<u64>,
        /// What in the targets' descriptions will keep checks from being judged (`authconform plan`'s
        /// warnings), each naming its target.
        warnings: &'a [String],
        /// How the run could be shorter, by target: the higher IP limit that would let the signups of a
        /// target whose scenarios share one client address through in one window.
        sooner: &'a [(&'a str, FasterWith)],
    },
    TargetStarted {
        name: &'a str,
        base_url: &'a str,
        profiles: &'a [Profile],
        clock: ClockMode,
    },
    ScenarioStarted {
        target: &'a str,
        scenario: &'a str,
        title: &'a str,
    },
    StepFinished {
        scenario: &'a str,
        step_number: usize,
        step: &'a str,
        /// The worst finding of the step, or pass.
        verdict: Verdict,
        requests: u64,
    },
    /// A step of many requests is under way (told every so often, from 500 requests on).
    StepProgress {
        scenario: &'a str,
        step: &'a str,
        answered: u64,
        total: u64,
    },
    WaitStarted {
        scenario: &'a str,
        step: &'a str,
        total_ms: u64,
        clock: ClockMode,
    },
    /// Only while really waiting (clock `real`).
    WaitProgress {
        scenario: &'a str,
        step: &'a str,
        elapsed_ms: u64,
        total_ms: u64,
    },
    WaitFinished {
        scenario: &'a str,
        step: &'a str,
    },
    ScenarioFinished {
        scenario: &'a str,
        verdict: Verdict,
        skip_reason: Option<&'a str>,
    },
    TargetFinished(&'a TargetReport),
    RunFinished(&'a RunReport),
}
