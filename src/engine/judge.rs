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
#[derive(Debug, Default)]
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
    if result.blocked.is_some() || (overtime && result.must_failed()) {
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

/// Turns a step's result into findings and passes. Returns whether the scenario must stop here.
pub(super) fn judge(
    run: &Requirements<'_>,
    scenario: &Scenario,
    step: &Step,
    number: usize,
    result: &StepResult,
    overtime: Option<&str>,
    outcome: &mut ScenarioOutcome,
) -> bool {
    let location = format!("{}:{}", step.origin.file.display(), step.origin.line);
    let finding =
        |severity: Verdict, aggregate: Option<&Aggregate>, note: Option<String>| Finding {
            severity,
            scenario: scenario.name.clone(),
            step_number: number,
            step: step.name.clone(),
            location: location.clone(),
            expected: aggregate.map(|a| a.mismatch.expected.clone()),
            actual: aggregate.map(|a| describe_actual(a, result.total)),
            note,
            exchange: aggregate.and_then(|a| a.exchange.clone()),
            curl: None,
        };
    let must_failed = result.must_failed();
    let is_wait = matches!(step.action, Action::Wait(_));

    if step.covers.is_empty() || is_wait {
        // A setup step (or a wait) judges nothing itself; when it fails, nothing after it can be judged.
        if must_failed {
            let first = result
                .aggregates
                .iter()
                .find(|a| a.tier == Tier::Must && !a.mismatch.warning_only);
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
            for id in scenario_covers(run, scenario) {
                outcome.findings.push((
                    id.clone(),
                    finding(Verdict::Inconclusive, first, Some(note.clone())),
                ));
            }
        }
        return must_failed;
    }

    for id in judged(run, step) {
        let level = run.level(id);
        let mut any = false;
        let mut worst = Verdict::Pass;
        for aggregate in &result.aggregates {
            let severity = match (aggregate.mismatch.warning_only, aggregate.tier, level) {
                (true, _, _) | (false, Tier::Should, _) | (false, Tier::Must, Level::Should) => {
                    Verdict::Warn
                }
                (false, Tier::Must, Level::Must) => Verdict::Fail,
            };
            let (severity, note) = match overtime {
                Some(note) if !aggregate.mismatch.warning_only => {
                    (Verdict::Inconclusive, Some(note.to_owned()))
                }
                _ => (severity, None),
            };
            worst = worst.max(severity);
            outcome
                .findings
                .push((id.clone(), finding(severity, Some(aggregate), note)));
            any = true;
        }
        if let Some(reason) = &result.blocked {
            worst = worst.max(Verdict::Inconclusive);
            outcome.findings.push((
                id.clone(),
                finding(Verdict::Inconclusive, None, Some(reason.clone())),
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
    must_failed
}

/// After a step stopped the scenario: what later steps would have judged is inconclusive.
pub(super) fn not_reached(
    run: &Requirements<'_>,
    scenario: &Scenario,
    number: usize,
    step: &Step,
    outcome: &mut ScenarioOutcome,
) {
    let mut seen: BTreeSet<&String> = BTreeSet::new();
    let location = format!("{}:{}", step.origin.file.display(), step.origin.line);
    for later in &scenario.steps[number..] {
        if matches!(later.action, Action::Wait(_)) {
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
        }))
    }

    fn step(covers: &[&str], action: Action) -> Step {
        Step {
            name: "the step".into(),
            covers: covers.iter().map(|id| (*id).to_owned()).collect(),
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

    fn aggregate(tier: Tier, warning_only: bool) -> Aggregate {
        Aggregate {
            tier,
            mismatch: Mismatch {
                expected: "status 200".into(),
                actual: "status 500".into(),
                warning_only,
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
        (findings, outcome.passes, stop)
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
        let must = |warning_only| aggregate(Tier::Must, warning_only);
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
                result(vec![must(false)], None),
                None,
                findings(&[("R-MUST", Fail)]),
                vec![],
                true,
            ),
            (
                "a must mismatch warns a SHOULD",
                step(&["R-SHOULD"], request()),
                result(vec![must(false)], None),
                None,
                findings(&[("R-SHOULD", Warn)]),
                vec![],
                true,
            ),
            (
                "a should mismatch warns and goes on",
                step(&["R-MUST"], request()),
                result(vec![aggregate(Tier::Should, false)], None),
                None,
                findings(&[("R-MUST", Warn)]),
                vec![],
                false,
            ),
            (
                "a warning-only mismatch warns and goes on",
                step(&["R-MUST"], request()),
                result(vec![must(true)], None),
                None,
                findings(&[("R-MUST", Warn)]),
                vec![],
                false,
            ),
            (
                "too late to tell is inconclusive",
                step(&["R-MUST"], request()),
                result(vec![must(false)], None),
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
                result(vec![must(false)], None),
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
