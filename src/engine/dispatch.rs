//! Dispatching one scenario on one target: its steps in order, each request step rendered and sent
//! (repeated, concurrent) and each wait moved through the shared target; every step's result goes to
//! [`super::collect`], a failed step's `blame` to [`super::blame`], and then to [`super::judge`]; a failed
//! sequence a clock boundary could explain is repeated as [`super::clock_boundary`] places it.

use std::collections::HashMap;
use std::sync::Arc;

use authconform_scenario::model::{Action, RequestStep, Scenario, Wait, Within};
use reqwest::header::{HeaderName, HeaderValue};

use super::blame::probe_blame;
use super::clock_boundary::{ALIGNED_READING, BOUNDARY_STEP, BoundaryState, Snapshot};
use super::collect::{Collector, StepResult, capture};
use super::events::EngineEvent;
use super::expect::RenderedExpectations;
use super::judge::{
    ScenarioOutcome, judge, judged, not_reached, not_started, note_reading, noted_covers,
    record_readings, step_verdict,
};
use super::render::{RenderError, ScenarioVars, Scope, prepare};
use super::results::{Verdict, WaitSpan};
use super::schedule::needs::is_signup;
use super::sending::Sending;
use super::target::{ROOM_STEP, SharedTarget};
use crate::target::PreparedRequest;

/// What belongs to one scenario's run alone: its variables and captures, its marks, its client address and
/// what it found (observations included). Several scenarios may run on one [`SharedTarget`] at once; none
/// sees another's.
#[derive(Debug, Default)]
struct ScenarioRun {
    vars: ScenarioVars,
    /// Virtual time at each `mark`, for `within`.
    marks: HashMap<String, u64>,
    /// `X-Forwarded-For` on every request, when the target trusts it.
    client_address: Option<(HeaderName, HeaderValue)>,
    outcome: ScenarioOutcome,
}

impl ScenarioRun {
    fn start(shared: &SharedTarget<'_>) -> ScenarioRun {
        ScenarioRun {
            client_address: shared.next_client_address(),
            ..ScenarioRun::default()
        }
    }
}

/// A scenario that cannot be checked on this target (its needs' `cannot_run`): nothing is sent, and every
/// requirement it covers is inconclusive, with why.
pub(crate) fn not_checkable(
    run: &SharedTarget<'_>,
    scenario: &Scenario,
    why: &str,
) -> ScenarioOutcome {
    let mut outcome = ScenarioOutcome::default();
    not_started(
        &run.requirements,
        scenario,
        "before its first step",
        &format!("not checkable on this target: {why}"),
        &mut outcome,
    );
    outcome
}

/// Runs one scenario. `reserved` is what it reserved of the shared address's IP limit when it was let
/// start (signups it sends before any `wait.empty_window`); it first waits until they fit.
pub(crate) async fn run_scenario(
    run: &SharedTarget<'_>,
    scenario: &Scenario,
    reserved: u64,
    events: &mut (dyn FnMut(&EngineEvent<'_>) + Send),
) -> ScenarioOutcome {
    let ScenarioRun {
        mut vars,
        mut marks,
        client_address: mut forwarded_for,
        mut outcome,
    } = ScenarioRun::start(run);
    let mut reserved = reserved;
    if reserved > 0 {
        let started_ms = run.clock().now_ms();
        let waited = run.wait_for_signup_room(&scenario.name, events).await;
        record_wait(run, ROOM_STEP, started_ms, &waited, &mut outcome);
        if let Err(reason) = waited {
            not_started(
                &run.requirements,
                scenario,
                ROOM_STEP,
                &reason.to_string(),
                &mut outcome,
            );
            run.release_signups(reserved);
            return outcome;
        }
    }

    let initial_reservation = reserved;
    let mut boundary = BoundaryState::default();
    // An IP check that counted in the signups its run knows of (a `wait.empty_window` that found the window
    // holding only those): the wait's step. A step before its first `within` that then fails may have met
    // signups the run did not send (the limit refusing early), so the sequence is repeated once from an
    // empty window.
    let mut counted_from: Option<usize> = None;
    let mut count_known = true;
    let first_within = scenario.steps.iter().position(
        |step| matches!(&step.action, Action::Request(request) if request.within.is_some()),
    );
    let mut index = 0;
    while let Some(step) = scenario.steps.get(index) {
        let number = index + 1;
        if run.interrupt.fired() {
            // Stopped from outside: what was judged stands, the rest is inconclusive.
            not_started(
                &run.requirements,
                scenario,
                &step.name,
                super::INTERRUPTED,
                &mut outcome,
            );
            break;
        }
        let now = run.clock().now_ms();
        boundary.before_step(index, step, now, || Snapshot {
            outcome: outcome.clone(),
            vars: vars.clone(),
            marks: marks.clone(),
        });
        if boundary.leaves_out(step) {
            index += 1;
            continue;
        }
        let wait_ms = boundary.placing_wait(index, now);
        if wait_ms > 0 {
            let waited = run
                .wait_until(now + wait_ms, &scenario.name, BOUNDARY_STEP, events)
                .await;
            record_wait(run, BOUNDARY_STEP, now, &Ok::<_, ()>(true), &mut outcome);
            if let Err(reason) = waited {
                not_started(
                    &run.requirements,
                    scenario,
                    BOUNDARY_STEP,
                    &reason.to_string(),
                    &mut outcome,
                );
                break;
            }
        }
        let started_ms = run.clock().now_ms();
        if let Some(reason) = run.unmet(&step.requires) {
            for id in judged(&run.requirements, step) {
                outcome
                    .skipped
                    .push((id.clone(), format!("{}: {reason}", scenario.name)));
            }
            index += 1;
            continue;
        }
        let result = match &step.action {
            Action::Request(request) => {
                if let Some(mark) = &request.mark {
                    marks.insert(mark.clone(), started_ms);
                }
                let result = run_request(
                    run,
                    (&scenario.name, &step.name),
                    request,
                    &mut vars,
                    forwarded_for.as_ref(),
                    events,
                )
                .await;
                if let Some(mark) = &request.mark {
                    vars.sent.insert(mark.clone(), result.total as u64);
                }
                run.record_signups(
                    result.signups,
                    &mut reserved,
                    forwarded_for.as_ref().map(|(_, value)| value),
                );
                outcome.requests += result.total;
                record_readings(
                    &run.requirements,
                    scenario,
                    step,
                    request,
                    &result,
                    &mut outcome,
                );
                result
            }
            Action::Wait(Wait::EmptyWindow(_)) if run.signup_rule().is_none() => {
                // An address of its own: a new one has an empty window.
                forwarded_for = run.next_client_address();
                StepResult::default()
            }
            Action::Wait(wait) => {
                let empties_window = matches!(wait, Wait::EmptyWindow(_));
                let since_ms = match wait {
                    Wait::Window {
                        since: Some(mark), ..
                    } => marks.get(mark).copied(),
                    _ => None,
                };
                let waited = run
                    .wait(
                        wait,
                        since_ms,
                        count_known,
                        &scenario.name,
                        &step.name,
                        events,
                    )
                    .await;
                record_wait(run, &step.name, started_ms, &waited, &mut outcome);
                boundary.waited(step, started_ms, run.clock().now_ms());
                if empties_window {
                    // What is left in the window is known to count: the check counts it in its own.
                    vars.counted_signups = run.counted_signups();
                    counted_from = (count_known && run.counts_known_signups()).then_some(index);
                }
                match waited {
                    Ok(_) => StepResult::default(),
                    Err(reason) => StepResult::blocked(reason.to_string()),
                }
            }
        };
        outcome.steps_run += 1;
        let overtime = match &step.action {
            Action::Request(request) => request
                .within
                .as_ref()
                .and_then(|within| overtime(run, within, &marks, result.done_ms)),
            Action::Wait(_) => None,
        };
        let stop = judge(
            &run.requirements,
            scenario,
            step,
            number,
            &result,
            overtime.as_deref(),
            &mut outcome,
        );
        run.add_secrets(&mut vars.secrets);
        let step_verdict = step_verdict(&result, overtime.is_some());
        events(&EngineEvent::StepFinished {
            scenario: &scenario.name,
            step_number: number,
            step: &step.name,
            verdict: step_verdict,
            requests: result.total,
        });
        if let Some(from) = counted_from
            && matches!(step.action, Action::Request(_))
            && step_verdict == Verdict::Fail
            && first_within.is_none_or(|first| index < first)
            && let Some(snapshot) = boundary.checkpoint(from)
        {
            restore(&mut outcome, &mut vars, &mut marks, snapshot);
            let covers = noted_covers(&run.requirements, scenario, step);
            note_reading(
                &mut outcome,
                scenario,
                step,
                &covers,
                None,
                format!(
                    "{step_verdict} after counting in the signups this run knew of: signups it did not send (another client, `detect`, a run without the state file) may have counted toward the IP window; the sequence is repeated once from step {}, from an empty window, with fresh identities",
                    from + 1
                ),
            );
            count_known = false;
            counted_from = None;
            index = from;
            continue;
        }
        if let Action::Request(request) = &step.action
            && let Some(within) = &request.within
            && overtime.is_none()
        {
            let covers = noted_covers(&run.requirements, scenario, step);
            let end_ms = result.done_ms.unwrap_or_else(|| run.clock().now_ms());
            let window_ms = run.target.limits.window_ms(within.window);
            if let Some(rewind) = boundary.after_failure(
                scenario,
                index,
                within,
                step_verdict,
                &marks,
                end_ms,
                window_ms,
            ) {
                restore(&mut outcome, &mut vars, &mut marks, rewind.snapshot);
                note_reading(&mut outcome, scenario, step, &covers, None, rewind.note);
                if let Some(fresh) = run.next_client_address() {
                    forwarded_for = Some(fresh);
                }
                if initial_reservation > 0 && !rewind.empties_window {
                    run.reserve_signups(initial_reservation);
                    reserved += initial_reservation;
                    let now = run.clock().now_ms();
                    let waited = run.wait_for_signup_room(&scenario.name, events).await;
                    record_wait(run, ROOM_STEP, now, &waited, &mut outcome);
                }
                index = rewind.to;
                continue;
            }
            if let Some((held, note)) = boundary.repeated(index, step_verdict) {
                let status = result.statuses.first().copied().unwrap_or(0);
                let reading = held.then_some((status, ALIGNED_READING));
                note_reading(
                    &mut outcome,
                    scenario,
                    step,
                    &covers,
                    reading,
                    note.to_owned(),
                );
            }
        }
        if let Some(blocker) = stop
            && !step.continue_on_failure
        {
            not_reached(
                &run.requirements,
                scenario,
                number,
                step,
                blocker,
                &|later| run.unmet(&later.requires).is_none(),
                &mut outcome,
            );
            break;
        }
        index += 1;
    }
    run.release_signups(reserved);
    outcome
}

/// Puts a scenario back as it stood before a step it starts over from, keeping what it sent and waited.
fn restore(
    outcome: &mut ScenarioOutcome,
    vars: &mut ScenarioVars,
    marks: &mut HashMap<String, u64>,
    snapshot: Snapshot,
) {
    let (requests, steps_run) = (outcome.requests, outcome.steps_run);
    let waits = std::mem::take(&mut outcome.waits);
    *outcome = snapshot.outcome;
    outcome.requests = requests;
    outcome.steps_run = steps_run;
    outcome.waits = waits;
    *vars = snapshot.vars;
    *marks = snapshot.marks;
}

/// Keeps a wait that took time (or failed) for the report's timeline; one whose end had passed leaves none.
fn record_wait<E>(
    run: &SharedTarget<'_>,
    step: &str,
    start_ms: u64,
    waited: &Result<bool, E>,
    outcome: &mut ScenarioOutcome,
) {
    if !matches!(waited, Ok(false)) {
        outcome.waits.push(WaitSpan {
            step: step.to_owned(),
            start_ms,
            end_ms: run.clock().now_ms(),
        });
    }
}

/// The note for a `within` step that completed too late to tell, or `None` when it was in time. The time is
/// taken when the step's own requests were done (`done_ms`), or now.
pub(super) fn overtime(
    run: &SharedTarget<'_>,
    within: &Within,
    marks: &HashMap<String, u64>,
    done_ms: Option<u64>,
) -> Option<String> {
    let since = *marks.get(&within.since)?;
    let elapsed = done_ms
        .unwrap_or_else(|| run.clock().now_ms())
        .saturating_sub(since);
    let window = run.target.limits.window_ms(within.window);
    let margin = window.saturating_sub(run.target.slack_ms);
    (elapsed > margin).then(|| {
        format!(
            "{elapsed} ms had passed since mark `{}`, more than {} ({window} ms) less the slack ({} ms): too late to tell",
            within.since,
            within.window.as_str(),
            run.target.slack_ms
        )
    })
}

/// How many requests a step sends before its progress is shown, and how often it is told.
const PROGRESS_FROM: u64 = 500;
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

pub(super) async fn run_request(
    run: &SharedTarget<'_>,
    (scenario_name, step_name): (&str, &str),
    step: &RequestStep,
    vars: &mut ScenarioVars,
    forwarded_for: Option<&(HeaderName, HeaderValue)>,
    events: &mut (dyn FnMut(&EngineEvent<'_>) + Send),
) -> StepResult {
    let varies = step.request_varies();
    let admin_token = if step.needs_admin_token() {
        run.ensure_admin_token().await
    } else {
        run.admin_token().await
    };

    let now_s = run.clock().unix_now_s();
    let mut scope = Scope {
        target: run.target,
        ids: run.ids,
        admin_token: admin_token.as_ref(),
        vars,
        repeat_index: 0,
        now_s,
    };
    let rendered = (|| -> Result<_, RenderError> {
        let repeat = match &step.repeat {
            Some(t) => u64::try_from(scope.render_integer(t)?.max(0)).unwrap_or(0),
            None => 1,
        };
        let must = RenderedExpectations::render(&step.expect, &mut scope)?;
        let should = step
            .expect
            .should
            .as_deref()
            .map(|should| RenderedExpectations::render(should, &mut scope))
            .transpose()?;
        let precondition = step
            .precondition
            .as_ref()
            .map(|precondition| RenderedExpectations::render(&precondition.expect, &mut scope))
            .transpose()?;
        Ok((repeat, must, should, precondition))
    })();
    let (repeat, must, should, precondition) = match rendered {
        Ok(rendered) => rendered,
        Err(err) => return StepResult::blocked(format!("could not render the step: {err}")),
    };

    let client = run.client.clone();
    let fixed = if varies {
        None
    } else {
        match prepare(&client, &step.request, &mut scope, forwarded_for) {
            Ok(request) => Some(Arc::new(request)),
            Err(reason) => return StepResult::blocked(reason),
        }
    };
    let blames_read_messages = step.blame.iter().any(|blame| {
        blame.request.is_none()
            && blame
                .expect
                .tally
                .iter()
                .any(|t| t.message.is_some() || t.policy.is_some())
    });
    let mut collector = Collector::new(&must, should.as_ref(), precondition.as_ref())
        .counting_messages(blames_read_messages);
    let meter = run.meter.clone().filter(|_| step.concurrency > 1);
    let concurrency = match &meter {
        Some(meter) => meter.users(),
        None => usize::try_from(step.concurrency.max(1)).unwrap_or(1),
    };
    let meter = meter.map(|meter| {
        let step_number = meter.begin_step(step_name);
        (meter, step_number)
    });
    let mut next_request = |index: u64| -> Result<Arc<PreparedRequest>, String> {
        match &fixed {
            Some(request) => Ok(Arc::clone(request)),
            None => {
                scope.repeat_index = index;
                prepare(&client, &step.request, &mut scope, forwarded_for).map(Arc::new)
            }
        }
    };
    let mut progress_told = std::time::Instant::now();
    let mut tell_progress = |answered: u64| {
        if repeat >= PROGRESS_FROM && progress_told.elapsed() >= PROGRESS_EVERY {
            progress_told = std::time::Instant::now();
            events(&EngineEvent::StepProgress {
                scenario: scenario_name,
                step: step_name,
                answered,
                total: repeat,
            });
        }
    };
    let sending_started = std::time::Instant::now();
    let sending = Sending {
        client: &client,
        interrupt: &run.interrupt,
        names: (scenario_name, step_name),
        repeat,
        concurrency,
        collector: &mut collector,
        next_request: &mut next_request,
        tell_progress: &mut tell_progress,
    };
    // A load run's driver sends a metered step; otherwise the step's own tasks send, timed when metered.
    let sent = match &meter {
        Some((meter, number)) => match meter.driver().cloned() {
            Some(driver) => sending.driven(meter, *number, driver).await,
            None => sending.on_lanes(Some((meter, *number))).await,
        },
        None => sending.on_lanes(None).await,
    };
    let next_index = match sent {
        Ok(prepared) => prepared,
        Err(blocked) => return blocked,
    };

    let (mut result, last) = collector.finish(&client);
    result.done_ms = Some(run.clock().now_ms());
    if meter.is_none() && repeat > 0 {
        let rounds = repeat.div_ceil(u64::try_from(concurrency).unwrap_or(1).max(1));
        run.record_cost(&step.request, sending_started.elapsed(), rounds);
    }
    if is_signup(&step.request) {
        result.signups = next_index;
    }
    if !step.blame.is_empty()
        && result.must_failed()
        && result.blocked.is_none()
        && result.precondition_failed().is_none()
    {
        for blame in &step.blame {
            let mut probes = 0;
            result.blamed = probe_blame(
                &client,
                blame,
                &result,
                &mut scope,
                forwarded_for,
                &mut probes,
            )
            .await;
            if blame.request.as_ref().is_some_and(is_signup) {
                result.signups += probes;
            }
            if result.blamed.is_some() {
                break;
            }
        }
        if result.blamed.is_none()
            && let [blame] = step.blame.as_slice()
        {
            result.cleared = Some(blame.requirement.clone());
        }
    }
    let vars = scope.vars;
    capture(step, last.as_ref(), vars, &mut result);
    result
}
