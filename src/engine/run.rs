//! A whole run: every target in turn, every selected scenario on it, and the verdict per (target, requirement).

use parking_lot::Mutex;
use std::collections::HashMap;
use std::time::Instant;

use futures_util::StreamExt;
use futures_util::future::join_all;
use futures_util::stream::FuturesUnordered;

use authconform_scenario::model::{Scenario, Suite};

use super::EngineError;
use super::dispatch::{not_checkable, run_scenario};
use super::events::EngineEvent;
use super::judge::ScenarioOutcome;
use super::results::{
    Observation, ObservationKind, RunReport, SCHEMA_VERSION, ScenarioReport, Summary, TargetReport,
    Verdict,
};
use super::schedule::admission::{admission_order, startable};
use super::schedule::needs::{ScenarioNeeds, needs};
use super::schedule::run_plan::{RunPlan, TargetPlan, planned_scenarios};
use super::target::SharedTarget;
use super::verdicts::{Judgement, judge_outcome, requirement_report, trace_blockers};
use crate::target::RunIds;

/// How many scenarios of one target run at once unless `--jobs` says otherwise.
pub const DEFAULT_JOBS: usize = 8;

/// Hands events to the caller's sink from every scenario running at the same time (one task polls them
/// all, so a borrow never spans an await).
struct EventSink<'e, 'f>(Mutex<&'e mut (dyn FnMut(&EngineEvent<'_>) + Send + 'f)>);

impl EventSink<'_, '_> {
    fn emit(&self, event: &EngineEvent<'_>) {
        (self.0.lock())(event);
    }
}

/// Runs the plan, emitting events as it goes. `Err` only when a target could not be checked at all.
/// With more than one job, the targets run at the same time, each with up to `jobs` scenarios at once.
pub async fn run(
    suite: &Suite,
    plan: &RunPlan,
    events: &mut (dyn FnMut(&EngineEvent<'_>) + Send),
) -> Result<RunReport, EngineError> {
    let ids = RunIds::new();
    let started = Instant::now();
    let planned: usize = plan
        .targets
        .iter()
        .map(|target| planned_scenarios(suite, plan, target).count())
        .sum();
    let projected = super::plan(suite, plan);
    let warnings: Vec<String> = projected
        .targets
        .iter()
        .flat_map(|target| {
            target
                .warnings
                .iter()
                .map(move |warning| format!("{}: {warning}", target.name))
        })
        .collect();
    let sooner: Vec<(&str, _)> = projected
        .targets
        .iter()
        .filter_map(|target| Some((target.name.as_str(), target.faster_with?)))
        .collect();
    // One repeat in the run, where it lengthens it most.
    let with_boundary_repeat_ms = projected
        .targets
        .iter()
        .filter_map(|target| {
            let repeat = target.with_boundary_repeat.as_ref()?;
            Some(repeat.projected_ms.saturating_sub(target.projected_ms))
        })
        .max()
        .map(|added| projected.projected_ms.saturating_add(added));
    events(&EngineEvent::RunStarted {
        run_id: &ids.run_id,
        targets: plan.targets.len(),
        scenarios: planned,
        projected_ms: projected.projected_ms,
        with_boundary_repeat_ms,
        warnings: &warnings,
        sooner: &sooner,
    });
    let sink = EventSink(Mutex::new(events));
    let mut targets = Vec::with_capacity(plan.targets.len());
    if plan.jobs <= 1 || !distinct_servers(plan) {
        for target in &plan.targets {
            let report = run_target(suite, plan, target, &ids, &sink).await?;
            sink.emit(&EngineEvent::TargetFinished(&report));
            targets.push(report);
        }
    } else {
        let all = plan.targets.iter().map(|target| async {
            let report = run_target(suite, plan, target, &ids, &sink).await;
            if let Ok(report) = &report {
                sink.emit(&EngineEvent::TargetFinished(report));
            }
            report
        });
        for report in join_all(all).await {
            targets.push(report?);
        }
    }
    let mut summary = Summary::default();
    for report in &targets {
        summary.add(&report.summary);
    }
    let report = RunReport {
        schema_version: SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        run_id: ids.run_id.clone(),
        strict: plan.strict,
        duration_ms: millis(started),
        requirements: Summary::by_requirement(&targets),
        targets,
        summary,
        expectation_problems: Vec::new(),
    };
    sink.emit(&EngineEvent::RunFinished(&report));
    Ok(report)
}

/// Targets checked at the same time must not be one server seen twice: their counts would mix.
fn distinct_servers(plan: &RunPlan) -> bool {
    let mut seen = std::collections::HashSet::new();
    plan.targets
        .iter()
        .flat_map(|target| target.description.all_base_urls())
        .all(|url| {
            seen.insert((
                url.host_str().map(str::to_owned),
                url.port_or_known_default(),
            ))
        })
}

/// What became of one planned scenario.
struct Ran {
    report: ScenarioReport,
    outcome: Option<ScenarioOutcome>,
}

async fn run_target(
    suite: &Suite,
    plan: &RunPlan,
    target_plan: &TargetPlan,
    ids: &RunIds,
    sink: &EventSink<'_, '_>,
) -> Result<TargetReport, EngineError> {
    let target = &target_plan.description;
    let started = std::time::Instant::now();
    sink.emit(&EngineEvent::TargetStarted {
        name: &target.name,
        base_url: target.base_url.as_str(),
        profiles: &target.profiles,
        clock: target.clock,
    });
    // A state file is read on a real clock only; on a test clock `earlier` holds at most what was sent
    // just before the run (the declared limits' probe).
    let earlier = target_plan.earlier.as_ref();
    let mut run = SharedTarget::new(
        target,
        &suite.catalogue,
        ids,
        earlier,
        target_plan.knows_history,
    )?;
    run.meter = target_plan.meter.clone();
    run.interrupt = target_plan.interrupt.clone();
    run.probe().await?;

    let planned: Vec<&Scenario> = planned_scenarios(suite, plan, target_plan).collect();
    let needs: Vec<ScenarioNeeds> = planned.iter().map(|s| needs(s, target)).collect();
    let mut ran: Vec<Option<Ran>> = planned.iter().map(|_| None).collect();
    let mut pending = Vec::new();
    for (index, scenario) in planned.iter().enumerate() {
        match run.unmet(&scenario.requires) {
            Some(reason) => {
                sink.emit(&EngineEvent::ScenarioFinished {
                    scenario: &scenario.name,
                    verdict: Verdict::Skip,
                    skip_reason: Some(&reason),
                });
                let now = run.clock().now_ms();
                ran[index] = Some(Ran {
                    report: scenario_report(scenario, Verdict::Skip, Some(reason), now),
                    outcome: None,
                });
            }
            None => pending.push(index),
        }
    }

    let mut pending = admission_order(&needs, &pending, run.signup_rule());
    let mut running: Vec<usize> = Vec::new();
    let mut tasks = FuturesUnordered::new();
    loop {
        for index in startable(
            &needs,
            &pending,
            &running,
            plan.jobs.max(1),
            run.signup_room(),
        ) {
            pending.retain(|&p| p != index);
            running.push(index);
            run.waits.join();
            let reserved = needs[index].signups;
            run.reserve_signups(reserved);
            let scenario = planned[index];
            sink.emit(&EngineEvent::ScenarioStarted {
                target: &target.name,
                scenario: &scenario.name,
                title: &scenario.title,
            });
            let run = &run;
            let cannot_run = needs[index].cannot_run.as_deref();
            tasks.push(async move {
                let start_ms = run.clock().now_ms();
                let wall = Instant::now();
                let outcome = match cannot_run {
                    Some(why) => not_checkable(run, scenario, why),
                    None => {
                        run_scenario(run, scenario, reserved, &mut |event| sink.emit(event)).await
                    }
                };
                (index, outcome, start_ms, wall)
            });
        }
        // A scenario that finished may have been the last one busy while the others wait.
        run.waits.settle().await;
        let Some((index, outcome, start_ms, wall)) = tasks.next().await else {
            break;
        };
        running.retain(|&r| r != index);
        run.waits.depart();
        let scenario = planned[index];
        let verdict = outcome.verdict();
        sink.emit(&EngineEvent::ScenarioFinished {
            scenario: &scenario.name,
            verdict,
            skip_reason: None,
        });
        let mut report = scenario_report(scenario, verdict, None, start_ms);
        report.steps_run = outcome.steps_run;
        report.requests = outcome.requests;
        report.duration_ms = millis(wall);
        report.end_ms = run.clock().now_ms();
        report.waits.clone_from(&outcome.waits);
        ran[index] = Some(Ran {
            report,
            outcome: Some(outcome),
        });
    }

    // Judged in suite order, whatever order the scenarios finished in.
    let mut judgements: HashMap<String, Judgement> = HashMap::new();
    let mut scenario_reports = Vec::new();
    let mut observations = Vec::new();
    // Drivers still winding down after their floods' last answers finish before the run reports (goose
    // writes its own reports then).
    if let Some(meter) = &run.meter {
        for late in meter.settle().await {
            let requirements = planned
                .iter()
                .find(|scenario| scenario.name == late.scenario)
                .map(|scenario| scenario.covers.clone())
                .unwrap_or_default();
            observations.push(Observation {
                scenario: late.scenario,
                step: late.step,
                requirements,
                kind: ObservationKind::LoadDriver,
                detail: format!(
                    "the load driver failed after the step's last answer (every answer was judged): {}",
                    late.reason
                ),
            });
        }
    }
    for (scenario, ran) in planned.iter().zip(ran.into_iter().flatten()) {
        match ran.outcome {
            None => {
                let reason = ran.report.skip_reason.clone().unwrap_or_default();
                for id in scenario
                    .covers
                    .iter()
                    .filter(|id| run.requirements.applies(id))
                {
                    judgements
                        .entry(id.clone())
                        .or_default()
                        .skip_reasons
                        .push(format!("{}: {reason}", scenario.name));
                }
            }
            Some(outcome) => judge_outcome(scenario, outcome, &mut judgements, &mut observations),
        }
        scenario_reports.push(ran.report);
    }

    let narrowed = plan.selection.is_narrowed() || target_plan.only_requiring.is_some();
    let mut summary = Summary::default();
    let mut requirements = Vec::new();
    for requirement in &suite.catalogue.requirements {
        let covered_here = planned.iter().any(|s| s.covers.contains(&requirement.id));
        if narrowed && !covered_here {
            continue;
        }
        let report = requirement_report(
            requirement,
            &target.profiles,
            judgements.remove(&requirement.id),
            plan.strict,
        );
        summary.count_requirement(&report, &target.profiles);
        requirements.push(report);
    }
    trace_blockers(&mut requirements);

    Ok(TargetReport {
        name: target.name.clone(),
        base_url: target.base_url.to_string(),
        other_base_urls: target
            .other_base_urls
            .iter()
            .map(ToString::to_string)
            .collect(),
        profiles: target.profiles.clone(),
        clock: target.clock,
        only_requiring: target_plan
            .only_requiring
            .map(|cap| cap.as_str().to_owned()),
        duration_ms: millis(started),
        summary,
        requirements,
        scenarios: scenario_reports,
        observations,
        load: target_plan.meter.as_ref().map(|meter| meter.figures()),
        sent_signups: run.sent_signups(),
        request_costs: run.request_costs(),
        secrets: run.take_secrets(),
    })
}

fn scenario_report(
    scenario: &Scenario,
    verdict: Verdict,
    skip_reason: Option<String>,
    start_ms: u64,
) -> ScenarioReport {
    ScenarioReport {
        name: scenario.name.clone(),
        title: scenario.title.clone(),
        location: format!(
            "{}:{}",
            scenario.origin.file.display(),
            scenario.origin.line
        ),
        covers: scenario.covers.clone(),
        verdict,
        skip_reason,
        steps_run: 0,
        requests: 0,
        duration_ms: 0,
        start_ms,
        end_ms: start_ms,
        waits: Vec::new(),
    }
}

fn millis(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}
