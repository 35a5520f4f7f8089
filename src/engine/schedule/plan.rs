//! The projected schedule of a run, known before anything is sent: which scenario runs when and holding
//! what, the wall time it should take for each target's clock mode and windows, the requests per endpoint
//! and what will be locked out. `authconform plan` prints it; `run` announces its projected time.

use std::collections::BTreeMap;

use authconform_scenario::model::{HoldMode, Phase, Resource, Scenario, Suite};
use serde::Serialize;

use super::admission::{Slot, project};
use super::needs::{ScenarioNeeds, needs};
use super::run_plan::{RunPlan, planned_scenarios};
use super::signups::SignupLedger;
use crate::target::state;
use crate::target::{ClockMode, TargetDescription, signup_rule, unmet};

pub use super::needs::PROJECTED_REQUEST_MS;

/// What one advance of a test clock is taken to cost.
const PROJECTED_ADVANCE_MS: u64 = 5;

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub jobs: usize,
    pub targets: Vec<TargetSchedule>,
    /// The whole run's projected wall time: targets side by side, or one after another with one job.
    pub projected_ms: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetSchedule {
    pub name: String,
    pub clock: ClockMode,
    pub forwarded_for: bool,
    /// In suite order; offsets in virtual milliseconds since the target's run begins.
    pub scenarios: Vec<PlannedScenario>,
    /// Virtual time from the first start to the last end.
    pub span_ms: u64,
    /// Projected wall time with these jobs: the span with a real clock, the requests alone with a test clock.
    pub projected_ms: u64,
    /// The same with as many jobs as scenarios: the floor the resources allow.
    pub floor_ms: u64,
    /// The same with one job (today's order).
    pub one_by_one_ms: u64,
    /// `METHOD path` → requests.
    pub requests: BTreeMap<String, u64>,
    pub lockouts: Vec<Lockout>,
    /// What in this target's description will keep checks from being judged.
    pub warnings: Vec<String>,
    /// What earlier runs left on the target that the schedule counts (from its state file).
    pub carried_over: Option<CarriedOver>,
    /// When its IP limit is what makes the run long: the limit that would let it finish sooner.
    pub faster_with: Option<FasterWith>,
    /// On a real clock, should a window aligned to the clock start its count afresh inside a limit
    /// sequence: the run's projected wall time with the costliest such repeat (each check repeats a
    /// sequence once at most, and the boundary then only names its reading). `None` when no repeat would
    /// add a second.
    pub with_boundary_repeat: Option<WithBoundaryRepeat>,
}

/// The wall time a run takes when one check repeats a limit sequence after a window boundary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WithBoundaryRepeat {
    /// The check whose repeat costs the run most, of those a boundary falls inside often enough to say.
    pub scenario: String,
    pub projected_ms: u64,
    /// How often a boundary falls inside that sequence, in percent: the share of its window it spans.
    pub chance_percent: u64,
}

/// A repeat a boundary would cause less often than this (in percent) is not projected: a sequence of a few
/// requests in a long window nearly never meets one.
const LIKELY_REPEAT_PERCENT: u64 = 10;

/// A higher IP limit that would shorten a real-clock run on one client address: every scenario's signups
/// share that address, and at the target's limit they need several windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FasterWith {
    /// The signups the checks other than the IP check send (and reserve) from the address: at an IP limit
    /// of at least this many they fit in one window.
    pub signup_ip: u64,
    /// The run's projected wall time at that limit.
    pub projected_ms: u64,
}

/// What earlier runs (the state file) left on a target that still counts when the run starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CarriedOver {
    /// Signups from the runner's own address still inside the IP window.
    pub signups: u64,
    /// Of those, the ones not known to count (refused, or failing validation): waited out, unless the
    /// target says what its window holds.
    pub unknown_counting: u64,
    /// How long the last of them keeps counting.
    pub counting_ms: u64,
    /// Forged client addresses (`X-Forwarded-For`) with signups still inside a window: handed out last.
    pub busy_addresses: usize,
    /// Requests (`METHOD path`) whose cost on this target an earlier run measured: the projection takes
    /// that cost instead of [`PROJECTED_REQUEST_MS`].
    pub measured_requests: usize,
    /// The target said what its IP window held when an earlier run started (`RateLimit` `r`): the run is
    /// expected to read it again and count those signups in, however each one counted.
    pub window_read: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedScenario {
    pub name: String,
    pub start_ms: u64,
    pub end_ms: u64,
    /// What it holds, e.g. `client-address (exclusive), endpoint:/user (shared)`.
    pub holds: String,
    pub requests: u64,
    pub wait_ms: u64,
    /// Why it will not run on this target.
    pub skipped: Option<String>,
}

/// An endpoint a scenario will lock out.
#[derive(Debug, Clone, Serialize)]
pub struct Lockout {
    pub endpoint: String,
    pub scenario: String,
    /// Virtual time from which it is locked out (about).
    pub from_ms: u64,
    pub for_ms: u64,
}

/// Projects the run without sending anything.
pub fn plan(suite: &Suite, run: &RunPlan) -> Plan {
    let jobs = run.jobs.max(1);
    let targets: Vec<TargetSchedule> = run
        .targets
        .iter()
        .map(|target| {
            let description = &target.description;
            let mut skipped = Vec::new();
            let mut runnable = Vec::new();
            for scenario in planned_scenarios(suite, run, target) {
                match unmet(description, &scenario.requires) {
                    Some(reason) => skipped.push((scenario, reason)),
                    None => runnable.push(scenario),
                }
            }
            let all: Vec<ScenarioNeeds> = runnable.iter().map(|s| needs(s, description)).collect();
            let rule = signup_rule(description);
            let earlier = target
                .earlier
                .as_ref()
                .filter(|_| description.clock == ClockMode::Real);
            let now_unix_ms = state::now_unix_ms();
            let ledger = match (earlier, rule) {
                // A state file is kept: it holds every signup of the address inside a window.
                // A target that said what its IP window held is expected to say it again to the run.
                (Some(earlier), Some(rule)) => {
                    let ledger =
                        SignupLedger::earlier(earlier, now_unix_ms, rule).knowing_its_history();
                    if earlier.ip_window_read.is_some() {
                        ledger.expecting_a_reading(rule)
                    } else {
                        ledger
                    }
                }
                _ => SignupLedger::default(),
            };
            let carried_over = earlier.map(|earlier| {
                let window_ms = description.limits.signup_ip_window_ms;
                let counting = earlier.counting(state::DIRECT, now_unix_ms, window_ms);
                CarriedOver {
                    measured_requests: earlier.request_costs.len(),
                    signups: counting.iter().map(|sent| sent.count).sum(),
                    unknown_counting: counting
                        .iter()
                        .filter(|sent| !sent.counted)
                        .map(|sent| sent.count)
                        .sum(),
                    counting_ms: counting
                        .iter()
                        .map(|sent| {
                            window_ms.saturating_sub(now_unix_ms.saturating_sub(sent.at_unix_ms))
                        })
                        .max()
                        .unwrap_or(0),
                    busy_addresses: earlier.busy_addresses(now_unix_ms, window_ms).len(),
                    window_read: earlier.ip_window_read.is_some(),
                }
            });
            let no_costs = BTreeMap::new();
            let costs = earlier.map_or(&no_costs, |earlier| &earlier.request_costs);
            let real_ms = |needs: &ScenarioNeeds| real_ms(needs, costs);
            let control_ms = |needs: &ScenarioNeeds| control_ms(needs, costs);
            let virtual_slots = project(&all, jobs, &real_ms, rule, &ledger);
            let faster_with = if description.clock == ClockMode::Real {
                faster_with(&runnable, &all, description, jobs, &real_ms, &ledger)
            } else {
                None
            };
            // A load run's paced floods (a schedule's length, or its requests at `--rate`: the few that
            // are not flooded are counted in too) take what their costs cannot tell.
            let paced_ms = target
                .meter
                .as_ref()
                .and_then(|meter| {
                    meter.paced_ms(all.iter().map(ScenarioNeeds::total_requests).sum())
                })
                .unwrap_or(0);
            let wall = |jobs: usize| -> u64 {
                let slots = match description.clock {
                    ClockMode::Real => project(&all, jobs, &real_ms, rule, &ledger),
                    ClockMode::Control => {
                        project(&all, jobs, &control_ms, None, &SignupLedger::default())
                    }
                };
                span(&slots).max(paced_ms)
            };
            let projected_ms = wall(jobs);
            let with_boundary_repeat = (description.clock == ClockMode::Real)
                .then(|| {
                    all.iter()
                        .zip(&runnable)
                        .filter_map(|(repeating, scenario)| {
                            let cost = repeating.boundary_repeat.as_ref()?;
                            let requests = requests_ms(&cost.rounds_by_request, costs);
                            let chance_percent = cost.chance_percent(requests);
                            if chance_percent < LIKELY_REPEAT_PERCENT {
                                return None;
                            }
                            let repeat_ms = cost.waits_ms.saturating_add(requests);
                            let with_repeat = |needs: &ScenarioNeeds| {
                                real_ms(needs).saturating_add(if std::ptr::eq(needs, repeating) {
                                    repeat_ms
                                } else {
                                    0
                                })
                            };
                            let slots = project(&all, jobs, &with_repeat, rule, &ledger);
                            Some(WithBoundaryRepeat {
                                scenario: scenario.name.clone(),
                                projected_ms: span(&slots).max(paced_ms),
                                chance_percent,
                            })
                        })
                        .max_by_key(|repeat| repeat.projected_ms)
                        .filter(|repeat| repeat.projected_ms >= projected_ms.saturating_add(1_000))
                })
                .flatten();
            let mut requests: BTreeMap<String, u64> = BTreeMap::new();
            for needs in &all {
                for (endpoint, count) in &needs.requests {
                    *requests.entry(endpoint.clone()).or_default() += count;
                }
            }
            let mut lockouts = Vec::new();
            let mut scenarios = Vec::new();
            let mut warnings = Vec::new();
            for (scenario, needs) in runnable.iter().zip(&all) {
                if let Some(why) = &needs.cannot_run {
                    warnings.push(format!(
                        "{} is inconclusive on this target, nothing sent: {why}",
                        scenario.name
                    ));
                }
            }
            for ((scenario, needs), slot) in runnable.iter().zip(&all).zip(&virtual_slots) {
                if scenario.phase == Phase::Lockout {
                    for (resource, mode) in &needs.holds {
                        if let (Resource::Endpoint(path), HoldMode::Exclusive) = (resource, mode) {
                            lockouts.push(Lockout {
                                endpoint: path.clone(),
                                scenario: scenario.name.clone(),
                                from_ms: slot.start_ms
                                    + needs.waits_ms.first().copied().unwrap_or(0),
                                for_ms: description.limits.cs_overall_window_ms,
                            });
                        }
                    }
                }
                scenarios.push(PlannedScenario {
                    name: scenario.name.clone(),
                    start_ms: slot.start_ms,
                    end_ms: slot.end_ms,
                    holds: needs.describe_holds(),
                    requests: needs.total_requests(),
                    wait_ms: needs.total_wait_ms(),
                    skipped: None,
                });
            }
            for (scenario, reason) in skipped {
                scenarios.push(PlannedScenario {
                    name: scenario.name.clone(),
                    start_ms: 0,
                    end_ms: 0,
                    holds: String::new(),
                    requests: 0,
                    wait_ms: 0,
                    skipped: Some(reason),
                });
            }
            TargetSchedule {
                name: description.name.clone(),
                clock: description.clock,
                forwarded_for: description.forwarded_for,
                carried_over,
                scenarios,
                span_ms: span(&virtual_slots),
                projected_ms,
                floor_ms: wall(all.len().max(1)),
                one_by_one_ms: wall(1),
                requests,
                lockouts,
                warnings,
                with_boundary_repeat,
                faster_with: faster_with.filter(|faster| {
                    // Worth saying when it saves a window at least.
                    faster
                        .projected_ms
                        .saturating_add(description.limits.signup_ip_window_ms)
                        <= projected_ms
                }),
            }
        })
        .collect();
    let projected_ms = if jobs == 1 {
        targets.iter().map(|t| t.projected_ms).sum()
    } else {
        targets.iter().map(|t| t.projected_ms).max().unwrap_or(0)
    };
    Plan {
        jobs,
        targets,
        projected_ms,
    }
}

/// On one client address: the IP limit at which the signups of every check but the IP check's fit in one
/// window, and the run's projected wall time at it, when that limit is above the target's.
fn faster_with(
    runnable: &[&Scenario],
    all: &[ScenarioNeeds],
    description: &TargetDescription,
    jobs: usize,
    real_ms: &dyn Fn(&ScenarioNeeds) -> u64,
    ledger: &SignupLedger,
) -> Option<FasterWith> {
    signup_rule(description)?;
    let others: u64 = all
        .iter()
        .filter(|needs| needs.own_signups.is_some())
        .map(|needs| needs.signups)
        .sum();
    if others <= description.limits.signup_ip {
        return None;
    }
    let mut raised = description.clone();
    raised.limits.signup_ip = others;
    let all: Vec<ScenarioNeeds> = runnable
        .iter()
        .map(|scenario| needs(scenario, &raised))
        .collect();
    let slots = project(&all, jobs, real_ms, signup_rule(&raised), ledger);
    Some(FasterWith {
        signup_ip: others,
        projected_ms: span(&slots),
    })
}

/// A scenario's length when every wait really passes.
fn real_ms(needs: &ScenarioNeeds, costs: &BTreeMap<String, u64>) -> u64 {
    needs.total_wait_ms() + requests_ms(&needs.rounds_by_request, costs)
}

/// Its wall time with a test clock: waits cost one advance each at most.
fn control_ms(needs: &ScenarioNeeds, costs: &BTreeMap<String, u64>) -> u64 {
    needs.waits_ms.len() as u64 * PROJECTED_ADVANCE_MS
        + requests_ms(&needs.rounds_by_request, costs)
}

/// Its rounds of requests, each at the cost an earlier run measured for it (microseconds per round), or
/// [`PROJECTED_REQUEST_MS`].
fn requests_ms(rounds_by_request: &BTreeMap<String, u64>, costs: &BTreeMap<String, u64>) -> u64 {
    let us: u64 = rounds_by_request
        .iter()
        .map(|(request, rounds)| {
            rounds.saturating_mul(
                costs
                    .get(request)
                    .copied()
                    .unwrap_or(PROJECTED_REQUEST_MS * 1000),
            )
        })
        .sum();
    us.div_ceil(1000)
}

fn span(slots: &[Slot]) -> u64 {
    slots.iter().map(|s| s.end_ms).max().unwrap_or(0)
}
