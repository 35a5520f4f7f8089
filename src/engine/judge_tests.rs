//! The judge's tests: each kind of step result against the findings it must give.

use std::path::PathBuf;

use authconform_scenario::model::{Expectations, Origin, Phase, RequestSpec, Requirement, Wait};
use authconform_scenario::template::Template;

use super::*;
use crate::engine::mismatch::Mismatch;

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
