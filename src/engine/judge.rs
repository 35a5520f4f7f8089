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

pub(super) fn record_readings(
    run: &Requirements<'_>,
    scenario: &Scenario,
    step: &Step,
    request: &RequestStep,
    result: &StepResult,
    outcome: &mut ScenarioOutcome,
) {
    let covers = if step.covers.is_empty() {
        scenario_covers(run, scenario)
    } else {
        judged(run, step)
    };
    for status in &result.statuses {
        let Some(reading) = request.reading.get(status) else {
            continue;
        };
        for id in &covers {
            outcome.readings.push((
                (*id).clone(),
                ReadingSeen {
                    scenario: scenario.name.clone(),
                    step: step.name.clone(),
                    status: *status,
                    reading: reading.clone(),
                },
            ));
        }
        outcome.observations.push(Observation {
            scenario: scenario.name.clone(),
            step: step.name.clone(),
            requirements: covers.iter().map(|id| (*id).clone()).collect(),
            kind: ObservationKind::Reading,
            detail: format!("status {status}: {reading}"),
        });
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
mod tests {
    use std::path::PathBuf;

    use authconform_scenario::model::{
        Expectations, Origin, Phase, RequestSpec, Requirement, Wait,
    };
    use authconform_scenario::template::Template;

    use super::*;
    use crate::engine::expect::Mismatch;

    fn catalogue() -> Catalogue {
        let requirement = |id: &str, level| Requirement {
            id: id.into(),
            level,
            profiles: vec![Profile::Appmixer6],
            requirement: String::new(),
            clause: String::new(),
            source: String::new(),
            accept: None,
        };
        Catalogue {
            requirements: vec![
                requirement("R-MUST", Level::Must),
                requirement("R-SHOULD", Level::Should),
                requirement("R-OTHER", Level::Must),
            ],
        }
    }

    fn origin() -> Origin {
        Origin {
            file: PathBuf::from("s.toml"),
            line: 1,
            column: 1,
        }
    }

    fn request() -> Action {
        Action::Request(Box::new(RequestStep {
            request: RequestSpec {
                method: "GET".into(),
                path: Template::literal("/"),
                headers: Vec::new(),
                body: authconform_scenario::model::Body::None,
                content_type: None,
            },
            repeat: None,
            concurrency: 1,
            expect: Expectations::default(),
            capture: Default::default(),
            capture_response: None,
            mark: None,
            within: None,
            reading: Default::default(),
            precondition: None,
            blame: Vec::new(),
        }))
    }

    fn step(covers: &[&str], action: Action) -> Step {
        Step {
            name: "the step".into(),
            covers: covers.iter().map(|id| (*id).to_owned()).collect(),
            requires: Vec::new(),
            continue_on_failure: false,
            skip_after_clock_boundary: false,
            action,
            origin: origin(),
        }
    }

    fn scenario(steps: Vec<Step>) -> Scenario {
        Scenario {
            name: "the-scenario".into(),
            title: String::new(),
            covers: vec!["R-MUST".into(), "R-SHOULD".into()],
            profiles: vec![Profile::Appmixer6],
            tags: Vec::new(),
            requires: Vec::new(),
            phase: Phase::Normal,
            holds: Vec::new(),
            steps,
            origin: origin(),
        }
    }

    fn aggregate(tier: Tier) -> Aggregate {
        Aggregate {
            tier,
            mismatch: Mismatch {
                expected: "status 200".into(),
                actual: "status 500".into(),
            },
            count: 1,
            first_index: 0,
            exchange: None,
        }
    }

    /// What judging one step gave: per requirement its findings' severities, the passes, and whether the
    /// scenario stops.
    fn judged_step(
        step: &Step,
        result: &StepResult,
        overtime: Option<&str>,
    ) -> (Vec<(String, Verdict)>, Vec<String>, bool) {
        let catalogue = catalogue();
        let requirements = Requirements {
            catalogue: &catalogue,
            profiles: &[Profile::Appmixer6],
        };
        let scenario = scenario(vec![step.clone()]);
        let mut outcome = ScenarioOutcome::default();
        let stop = judge(
            &requirements,
            &scenario,
            step,
            1,
            result,
            overtime,
            &mut outcome,
        );
        let findings = outcome
            .findings
            .into_iter()
            .map(|(id, finding)| (id, finding.severity))
            .collect();
        (findings, outcome.passes, stop.is_some())
    }

    /// A name, the step and its result, the overtime note, then the findings, passes and stop expected.
    type Case<'a> = (
        &'a str,
        Step,
        StepResult,
        Option<&'a str>,
        Vec<(String, Verdict)>,
        Vec<&'a str>,
        bool,
    );

    #[test]
    fn a_steps_result_is_judged_per_requirement_level_and_tier() {
        use Verdict::{Fail, Inconclusive, Warn};
        let must = || aggregate(Tier::Must);
        let result = |aggregates: Vec<Aggregate>, blocked: Option<&str>| StepResult {
            aggregates,
            blocked: blocked.map(str::to_owned),
            total: 1,
            ..StepResult::default()
        };
        let findings = |list: &[(&str, Verdict)]| -> Vec<(String, Verdict)> {
            list.iter().map(|(id, v)| ((*id).to_owned(), *v)).collect()
        };
        let cases: Vec<Case<'_>> = vec![
            (
                "nothing wrong passes",
                step(&["R-MUST"], request()),
                result(vec![], None),
                None,
                findings(&[]),
                vec!["R-MUST"],
                false,
            ),
            (
                "a must mismatch fails a MUST",
                step(&["R-MUST"], request()),
                result(vec![must()], None),
                None,
                findings(&[("R-MUST", Fail)]),
                vec![],
                true,
            ),
            (
                "a must mismatch warns a SHOULD",
                step(&["R-SHOULD"], request()),
                result(vec![must()], None),
                None,
                findings(&[("R-SHOULD", Warn)]),
                vec![],
                true,
            ),
            (
                "a should mismatch warns and goes on",
                step(&["R-MUST"], request()),
                result(vec![aggregate(Tier::Should)], None),
                None,
                findings(&[("R-MUST", Warn)]),
                vec![],
                false,
            ),
            (
                "too late to tell is inconclusive",
                step(&["R-MUST"], request()),
                result(vec![must()], None),
                Some("too late"),
                findings(&[("R-MUST", Inconclusive)]),
                vec![],
                true,
            ),
            (
                "a blocked step is inconclusive",
                step(&["R-MUST"], request()),
                result(vec![], Some("could not render")),
                None,
                findings(&[("R-MUST", Inconclusive)]),
                vec![],
                true,
            ),
            (
                "a requirement of another profile is not judged",
                step(&["R-MUST", "R-ABSENT"], request()),
                result(vec![], None),
                None,
                findings(&[]),
                vec!["R-MUST"],
                false,
            ),
            (
                "a failed setup step makes the scenario inconclusive",
                step(&[], request()),
                result(vec![must()], None),
                None,
                findings(&[("R-MUST", Inconclusive), ("R-SHOULD", Inconclusive)]),
                vec![],
                true,
            ),
            (
                "a passing setup step judges nothing",
                step(&[], request()),
                result(vec![], None),
                None,
                findings(&[]),
                vec![],
                false,
            ),
            (
                "a wait that could not be carried out blocks the scenario",
                step(&["R-MUST"], Action::Wait(Wait::Millis(1))),
                result(vec![], Some("no clock")),
                None,
                findings(&[("R-MUST", Inconclusive), ("R-SHOULD", Inconclusive)]),
                vec![],
                true,
            ),
        ];
        for (name, step, result, overtime, expected, passes, stop) in cases {
            let (findings, judged_passes, judged_stop) = judged_step(&step, &result, overtime);
            assert_eq!(findings, expected, "{name}: findings");
            assert_eq!(judged_passes, passes, "{name}: passes");
            assert_eq!(judged_stop, stop, "{name}: stops");
        }
    }

    /// A request step whose `precondition` belongs to `requirement`.
    fn with_precondition(requirement: Option<&str>) -> Action {
        let mut action = request();
        if let Action::Request(step) = &mut action {
            step.precondition = Some(authconform_scenario::model::Precondition {
                requirement: requirement.map(str::to_owned),
                expect: Expectations::default(),
            });
        }
        action
    }

    /// A name, the step and its result, the overtime note, then per finding its requirement, severity and
    /// blocker, and the stop expected (`Some(blocker)` when the scenario stops).
    type BlockerCase<'a> = (
        &'a str,
        Step,
        StepResult,
        Option<&'a str>,
        Vec<(&'a str, Verdict, Option<&'a str>)>,
        Option<Option<&'a str>>,
    );

    #[test]
    fn preconditions_and_blames_decide_which_requirement_a_failure_is_on() {
        use Verdict::{Fail, Inconclusive};
        let failed = |tier| StepResult {
            aggregates: vec![aggregate(tier)],
            total: 1,
            ..StepResult::default()
        };
        let blamed = |id: &str| StepResult {
            blamed: Some((id.to_owned(), "a probe".into())),
            ..failed(Tier::Must)
        };
        let cases: Vec<BlockerCase<'_>> = vec![
            (
                "a failed precondition makes the check inconclusive, blocked by its requirement",
                step(&["R-MUST"], with_precondition(Some("R-OTHER"))),
                failed(Tier::Precondition),
                None,
                vec![("R-MUST", Inconclusive, Some("R-OTHER"))],
                Some(Some("R-OTHER")),
            ),
            (
                "a precondition too late to tell names no blocker",
                step(&["R-MUST"], with_precondition(Some("R-OTHER"))),
                failed(Tier::Precondition),
                Some("too late"),
                vec![("R-MUST", Inconclusive, None)],
                Some(None),
            ),
            (
                "a blame that holds puts the failure on another requirement",
                step(&["R-MUST"], request()),
                blamed("R-OTHER"),
                None,
                vec![("R-MUST", Inconclusive, Some("R-OTHER"))],
                Some(Some("R-OTHER")),
            ),
            (
                "a blame naming one of the step's requirements fails it alone",
                step(&["R-MUST", "R-OTHER"], request()),
                blamed("R-OTHER"),
                None,
                vec![
                    ("R-MUST", Inconclusive, Some("R-OTHER")),
                    ("R-OTHER", Fail, None),
                ],
                Some(Some("R-OTHER")),
            ),
            (
                "a blame that did not hold clears its requirement",
                step(&["R-MUST", "R-OTHER"], request()),
                StepResult {
                    cleared: Some("R-OTHER".into()),
                    ..failed(Tier::Must)
                },
                None,
                vec![
                    ("R-OTHER", Inconclusive, Some("R-MUST")),
                    ("R-MUST", Fail, None),
                ],
                Some(Some("R-MUST")),
            ),
            (
                "a failure of a step judging two requirements names no blocker",
                step(&["R-MUST", "R-OTHER"], request()),
                failed(Tier::Must),
                None,
                vec![("R-MUST", Fail, None), ("R-OTHER", Fail, None)],
                Some(None),
            ),
        ];
        let catalogue = catalogue();
        let requirements = Requirements {
            catalogue: &catalogue,
            profiles: &[Profile::Appmixer6],
        };
        for (name, step, result, overtime, expected, stop) in cases {
            let scenario = scenario(vec![step.clone()]);
            let mut outcome = ScenarioOutcome::default();
            let judged_stop = judge(
                &requirements,
                &scenario,
                &step,
                1,
                &result,
                overtime,
                &mut outcome,
            );
            let findings: Vec<(&str, Verdict, Option<&str>)> = outcome
                .findings
                .iter()
                .map(|(id, f)| (id.as_str(), f.severity, f.blocked_by.as_deref()))
                .collect();
            assert_eq!(findings, expected, "{name}: findings");
            assert_eq!(
                judged_stop.as_ref().map(|b| b.as_deref()),
                stop,
                "{name}: stops"
            );
        }
    }

    #[test]
    fn later_steps_of_a_stopped_scenario_are_not_reached() {
        let catalogue = catalogue();
        let requirements = Requirements {
            catalogue: &catalogue,
            profiles: &[Profile::Appmixer6],
        };
        let scenario = scenario(vec![
            step(&[], request()),
            step(&["R-MUST"], Action::Wait(Wait::Millis(1))),
            step(&["R-MUST"], request()),
            step(&["R-MUST", "R-SHOULD"], request()),
        ]);
        let mut outcome = ScenarioOutcome::default();
        not_reached(
            &requirements,
            &scenario,
            1,
            &scenario.steps[0],
            None,
            &|_| true,
            &mut outcome,
        );
        let ids: Vec<(&str, Verdict)> = outcome
            .findings
            .iter()
            .map(|(id, finding)| (id.as_str(), finding.severity))
            .collect();
        assert_eq!(
            ids,
            [
                ("R-MUST", Verdict::Inconclusive),
                ("R-SHOULD", Verdict::Inconclusive)
            ]
        );
    }
}
