//! Judging: a step's collected result turned into findings, passes, checks and readings for each
//! requirement it covers. Pure: it reads the step, its result and the catalogue, and sends nothing.

use std::collections::BTreeSet;

use authconform_scenario::model::{Action, Catalogue, Level, Profile, RequestStep, Scenario, Step};

use super::collect::{Aggregate, StepResult, Tier};
use super::results::{
    Check, Finding, Observation, ObservationKind, ReadingSeen, Verdict, WaitSpan,
};

/// The requirements as one target sees them: which apply to its profiles, and at what level.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Requirements<'a> {
    pub(crate) catalogue: &'a Catalogue,
    pub(crate) profiles: &'a [Profile],
}

impl Requirements<'_> {
    /// Whether a requirement applies to the target's profiles.
    pub(crate) fn applies(&self, requirement: &str) -> bool {
        self.catalogue
            .get(requirement)
            .is_some_and(|r| r.profiles.iter().any(|p| self.profiles.contains(p)))
    }

    pub(crate) fn level(&self, requirement: &str) -> Level {
        self.catalogue
            .get(requirement)
            .map_or(Level::Must, |r| r.level)
    }
}

/// What a scenario found, per requirement.
#[derive(Debug, Default, Clone)]
pub(crate) struct ScenarioOutcome {
    /// Requirements a step judged with nothing wrong.
    pub(crate) passes: Vec<String>,
    pub(crate) findings: Vec<(String, Finding)>,
    /// Every judging step, per requirement, with its sample exchanges.
    pub(crate) checks: Vec<(String, Check)>,
    pub(crate) readings: Vec<(String, ReadingSeen)>,
    /// What the scenario saw besides verdicts (readings, token details), in order.
    pub(crate) observations: Vec<Observation>,
    pub(crate) steps_run: usize,
    pub(crate) requests: u64,
    /// Its waits, in virtual time.
    pub(crate) waits: Vec<WaitSpan>,
    /// Requirements of steps left out because the target lacks what they require: (id, why).
    pub(crate) skipped: Vec<(String, String)>,
}

impl ScenarioOutcome {
    pub(crate) fn verdict(&self) -> Verdict {
        self.findings
            .iter()
            .map(|(_, f)| f.severity)
            .max()
            .unwrap_or(Verdict::Pass)
    }
}

pub(super) fn step_verdict(result: &StepResult, overtime: bool) -> Verdict {
    let undecided = result.blocked.is_some()
        || result.blamed.is_some()
        || result.precondition_failed().is_some();
    if undecided || (overtime && result.must_failed()) {
        Verdict::Inconclusive
    } else if result.must_failed() {
        Verdict::Fail
    } else if result.aggregates.is_empty() {
        Verdict::Pass
    } else {
        Verdict::Warn
    }
}

/// The requirements a step judges on this target; empty for a setup step.
pub(super) fn judged<'s>(run: &Requirements<'_>, step: &'s Step) -> Vec<&'s String> {
    step.covers.iter().filter(|id| run.applies(id)).collect()
}

pub(super) fn scenario_covers<'s>(
    run: &Requirements<'_>,
    scenario: &'s Scenario,
) -> Vec<&'s String> {
    scenario
        .covers
        .iter()
        .filter(|id| run.applies(id))
        .collect()
}

/// The requirements a step's readings and observations are about: its own, or for a setup step the
/// scenario's.
pub(super) fn noted_covers<'s>(
    run: &Requirements<'_>,
    scenario: &'s Scenario,
    step: &'s Step,
) -> Vec<&'s String> {
    if step.covers.is_empty() {
        scenario_covers(run, scenario)
    } else {
        judged(run, step)
    }
}

/// Notes a reading observation on `covers`, naming `reading` (seen at `status`) for each when given.
pub(super) fn note_reading(
    outcome: &mut ScenarioOutcome,
    scenario: &Scenario,
    step: &Step,
    covers: &[&String],
    reading: Option<(u16, &str)>,
    detail: String,
) {
    if let Some((status, reading)) = reading {
        for id in covers {
            outcome.readings.push((
                (*id).clone(),
                ReadingSeen {
                    scenario: scenario.name.clone(),
                    step: step.name.clone(),
                    status,
                    reading: reading.to_owned(),
                },
            ));
        }
    }
    outcome.observations.push(Observation {
        scenario: scenario.name.clone(),
        step: step.name.clone(),
        requirements: covers.iter().map(|id| (*id).clone()).collect(),
        kind: ObservationKind::Reading,
        detail,
    });
}

pub(super) fn record_readings(
    run: &Requirements<'_>,
    scenario: &Scenario,
    step: &Step,
    request: &RequestStep,
    result: &StepResult,
    outcome: &mut ScenarioOutcome,
) {
    let covers = noted_covers(run, scenario, step);
    for status in &result.statuses {
        let Some(reading) = request.reading.get(status) else {
            continue;
        };
        note_reading(
            outcome,
            scenario,
            step,
            &covers,
            Some((*status, reading)),
            format!("status {status}: {reading}"),
        );
    }
    for (kind, detail) in &result.observations {
        outcome.observations.push(Observation {
            scenario: scenario.name.clone(),
            step: step.name.clone(),
            requirements: covers.iter().map(|id| (*id).clone()).collect(),
            kind: *kind,
            detail: detail.clone(),
        });
    }
}

/// Why a scenario stopped at a step: the requirement whose breach blocked it, when one is known.
pub(super) type Stop = Option<String>;

/// Turns a step's result into findings and passes. `Some` when the scenario must stop here.
pub(super) fn judge(
    run: &Requirements<'_>,
    scenario: &Scenario,
    step: &Step,
    number: usize,
    result: &StepResult,
    overtime: Option<&str>,
    outcome: &mut ScenarioOutcome,
) -> Option<Stop> {
    let location = format!("{}:{}", step.origin.file.display(), step.origin.line);
    let finding = |severity: Verdict,
                   aggregate: Option<&Aggregate>,
                   note: Option<String>,
                   blocked_by: Option<String>| Finding {
        severity,
        scenario: scenario.name.clone(),
        step_number: number,
        step: step.name.clone(),
        location: location.clone(),
        expected: aggregate.map(|a| a.mismatch.expected.clone()),
        actual: aggregate.map(|a| describe_actual(a, result.total)),
        note,
        blocked_by,
        exchange: aggregate.and_then(|a| a.exchange.clone()),
        curl: None,
    };
    let is_wait = matches!(step.action, Action::Wait(_));
    let setup = step.covers.is_empty() || is_wait;
    // The requirements a step that cannot judge leaves undetermined: its own, or for a setup step (or a
    // wait) every requirement of the scenario.
    let undetermined = if setup {
        scenario_covers(run, scenario)
    } else {
        judged(run, step)
    };

    let precondition = match (&step.action, result.precondition_failed()) {
        (Action::Request(request), Some(aggregate)) => request
            .precondition
            .as_ref()
            .map(|p| (aggregate, p.requirement.clone())),
        _ => None,
    };
    if let Some((aggregate, requirement)) = precondition {
        // Too late to tell says nothing about the requirement the precondition belongs to.
        let blocker = requirement.filter(|_| overtime.is_none());
        let note = overtime.map_or_else(
            || match &blocker {
                Some(id) => format!(
                    "step {number} `{}`: a precondition of this check, part of {id}, did not hold",
                    step.name
                ),
                None => format!(
                    "step {number} `{}`: a precondition of this check did not hold",
                    step.name
                ),
            },
            str::to_owned,
        );
        for id in undetermined {
            outcome.findings.push((
                id.clone(),
                finding(
                    Verdict::Inconclusive,
                    Some(aggregate),
                    Some(note.clone()),
                    blocker.clone(),
                ),
            ));
        }
        return Some(blocker);
    }

    if let Some((blocker, why)) = &result.blamed {
        let first = result.aggregates.iter().find(|a| a.tier == Tier::Must);
        // A blame on a requirement the scenario covers but this step does not judge: the probe showed its
        // breach, so it is that requirement's failure here too.
        if !undetermined.contains(&blocker)
            && let Some(id) = scenario_covers(run, scenario)
                .into_iter()
                .find(|id| *id == blocker)
        {
            let severity = match (first.is_some(), run.level(id)) {
                (true, Level::Must) => Verdict::Fail,
                _ => Verdict::Warn,
            };
            outcome.findings.push((
                id.clone(),
                finding(severity, first, Some(why.clone()), None),
            ));
        }
        for id in undetermined {
            // A blame naming one of the step's own requirements puts the failure on it.
            let (severity, blocked_by) = if id == blocker {
                let severity = match (first.is_some(), run.level(id)) {
                    (true, Level::Must) => Verdict::Fail,
                    _ => Verdict::Warn,
                };
                (severity, None)
            } else {
                (Verdict::Inconclusive, Some(blocker.clone()))
            };
            outcome.findings.push((
                id.clone(),
                finding(severity, first, Some(why.clone()), blocked_by),
            ));
        }
        return Some(Some(blocker.clone()));
    }

    let must_failed = result.must_failed();
    if setup {
        // A setup step (or a wait) judges nothing itself; when it fails, nothing after it can be judged.
        if must_failed {
            let first = result.aggregates.iter().find(|a| a.tier == Tier::Must);
            let why = result
                .blocked
                .clone()
                .unwrap_or_else(|| "its expectations did not hold".into());
            let note = if is_wait {
                format!("step {number} `{}` failed: {why}", step.name)
            } else {
                format!(
                    "setup step {number} `{}` failed ({why}): the target could not be brought into the state the check needs",
                    step.name
                )
            };
            for id in undetermined {
                outcome.findings.push((
                    id.clone(),
                    finding(Verdict::Inconclusive, first, Some(note.clone()), None),
                ));
            }
        }
        return must_failed.then_some(None);
    }

    let mut ids = judged(run, step);
    // A blame that did not hold clears its requirement when the step judges one other: the failure is
    // that one's, and the cleared requirement is inconclusive, blocked by it.
    if let Some(cleared) = result.cleared.as_ref().filter(|_| overtime.is_none())
        && ids.len() == 2
        && let Some(at) = ids.iter().position(|id| *id == cleared)
    {
        let id = ids.remove(at);
        let first = result.aggregates.iter().find(|a| a.tier == Tier::Must);
        outcome.findings.push((
            id.clone(),
            finding(
                Verdict::Inconclusive,
                first,
                Some(format!(
                    "step {number} `{}`: its probe does not show a breach of {id}; the failure is {}'s",
                    step.name, ids[0]
                )),
                Some(ids[0].clone()),
            ),
        ));
    }
    // A failure stops the scenario; what it leaves unjudged is blocked by the step's requirement when the
    // step judges only one.
    let blocker = match (ids.as_slice(), overtime) {
        ([only], None) => Some((*only).clone()),
        _ => None,
    };
    for id in ids {
        let level = run.level(id);
        let mut any = false;
        let mut worst = Verdict::Pass;
        for aggregate in &result.aggregates {
            let severity = match (aggregate.tier, level) {
                (Tier::Must, Level::Must) => Verdict::Fail,
                _ => Verdict::Warn,
            };
            let (severity, note) = match overtime {
                Some(note) => (Verdict::Inconclusive, Some(note.to_owned())),
                None => (severity, None),
            };
            worst = worst.max(severity);
            outcome
                .findings
                .push((id.clone(), finding(severity, Some(aggregate), note, None)));
            any = true;
        }
        if let Some(reason) = &result.blocked {
            worst = worst.max(Verdict::Inconclusive);
            outcome.findings.push((
                id.clone(),
                finding(Verdict::Inconclusive, None, Some(reason.clone()), None),
            ));
            any = true;
        }
        if !any {
            outcome.passes.push(id.clone());
        }
        outcome.checks.push((
            id.clone(),
            Check {
                scenario: scenario.name.clone(),
                step_number: number,
                step: step.name.clone(),
                location: location.clone(),
                verdict: worst,
                requests: result.total,
                exchanges: result.samples.clone(),
            },
        ));
    }
    must_failed.then_some(blocker)
}

/// A scenario that could not begin (its wait for room under the IP limit failed): every requirement it
/// covers is inconclusive, with why.
pub(super) fn not_started(
    run: &Requirements<'_>,
    scenario: &Scenario,
    step: &str,
    why: &str,
    outcome: &mut ScenarioOutcome,
) {
    for id in scenario_covers(run, scenario) {
        outcome.findings.push((
            id.clone(),
            Finding {
                severity: Verdict::Inconclusive,
                scenario: scenario.name.clone(),
                step_number: 0,
                step: step.to_owned(),
                location: format!(
                    "{}:{}",
                    scenario.origin.file.display(),
                    scenario.origin.line
                ),
                expected: None,
                actual: None,
                note: Some(format!("`{step}` failed: {why}")),
                blocked_by: None,
                exchange: None,
                curl: None,
            },
        ));
    }
}

/// After a step stopped the scenario: what later steps would have judged is inconclusive, blocked by the
/// requirement that stopped it when one is known. Steps `runs` says the target leaves out are passed over.
pub(super) fn not_reached(
    run: &Requirements<'_>,
    scenario: &Scenario,
    number: usize,
    step: &Step,
    blocker: Stop,
    runs: &dyn Fn(&Step) -> bool,
    outcome: &mut ScenarioOutcome,
) {
    let mut seen: BTreeSet<&String> = BTreeSet::new();
    let location = format!("{}:{}", step.origin.file.display(), step.origin.line);
    for later in &scenario.steps[number..] {
        if matches!(later.action, Action::Wait(_)) || !runs(later) {
            continue;
        }
        for id in judged(run, later) {
            if seen.insert(id) {
                outcome.findings.push((
                    id.clone(),
                    Finding {
                        severity: Verdict::Inconclusive,
                        scenario: scenario.name.clone(),
                        step_number: number,
                        step: step.name.clone(),
                        location: location.clone(),
                        expected: None,
                        actual: None,
                        note: Some(format!("not reached: step {number} `{}` failed", step.name)),
                        blocked_by: blocker.clone(),
                        exchange: None,
                        curl: None,
                    },
                ));
            }
        }
    }
}

pub(super) fn describe_actual(aggregate: &Aggregate, total: u64) -> String {
    if total > 1 && aggregate.exchange.is_some() {
        format!(
            "{} (on {} of {total} responses; first at repeat {})",
            aggregate.mismatch.actual,
            aggregate.count,
            aggregate.first_index + 1
        )
    } else {
        aggregate.mismatch.actual.clone()
    }
}

#[cfg(test)]
#[path = "judge_tests.rs"]
mod tests;
