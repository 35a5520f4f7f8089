//! Running one scenario on one target: steps in order, requests (repeated, concurrent), expectations,
//! captures, marks and waits, and the judgements they give each covered requirement.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use authconform_scenario::model::{
    Action, Body, Level, RequestSpec, RequestStep, Scenario, Step, Within,
};
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use tokio::task::JoinSet;

use super::events::EngineEvent;
use super::exchange::record;
use super::expect::{Mismatch, RenderedExpectations, lookup};
use super::render::{CapturedResponse, RenderError, ScenarioVars, Scope};
use super::results::{
    Check, Exchange, Finding, Observation, ObservationKind, ReadingSeen, SampleExchange, Verdict,
    WaitSpan,
};
use super::target::SharedTarget;
use crate::target::{NoResponse, PreparedRequest, Response, TargetClient, excerpt};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tier {
    Must,
    Should,
}

/// Mismatches of one kind across all of a step's responses.
#[derive(Debug)]
struct Aggregate {
    tier: Tier,
    mismatch: Mismatch,
    count: u64,
    first_index: u64,
    exchange: Option<Exchange>,
}

/// What a step produced before it is judged.
#[derive(Debug, Default)]
struct StepResult {
    aggregates: Vec<Aggregate>,
    /// The step could not be carried out (a template, the clock): its requirements are inconclusive.
    blocked: Option<String>,
    total: u64,
    statuses: BTreeSet<u16>,
    observations: Vec<(ObservationKind, String)>,
    /// The first exchange and, when there were more, the last (by repeat number).
    samples: Vec<SampleExchange>,
}

impl StepResult {
    fn blocked(reason: impl Into<String>) -> StepResult {
        StepResult {
            blocked: Some(reason.into()),
            ..StepResult::default()
        }
    }

    fn must_failed(&self) -> bool {
        self.blocked.is_some()
            || self
                .aggregates
                .iter()
                .any(|a| a.tier == Tier::Must && !a.mismatch.warning_only)
    }
}

pub(crate) async fn run_scenario(
    run: &SharedTarget<'_>,
    scenario: &Scenario,
    events: &mut dyn FnMut(&EngineEvent<'_>),
) -> ScenarioOutcome {
    let mut outcome = ScenarioOutcome::default();
    let mut vars = ScenarioVars::default();
    let mut marks: HashMap<String, u64> = HashMap::new();
    let forwarded_for = run.next_client_address();

    for (index, step) in scenario.steps.iter().enumerate() {
        let number = index + 1;
        let started_ms = run.clock().now_ms();
        let result = match &step.action {
            Action::Request(request) => {
                if let Some(mark) = &request.mark {
                    marks.insert(mark.clone(), started_ms);
                }
                let result = run_request(run, request, &mut vars, forwarded_for.as_ref()).await;
                outcome.requests += result.total;
                record_readings(run, scenario, step, request, &result, &mut outcome);
                result
            }
            Action::Wait(wait) => {
                let waited = run.wait(wait, &scenario.name, &step.name, events).await;
                outcome.waits.push(WaitSpan {
                    step: step.name.clone(),
                    start_ms: started_ms,
                    end_ms: run.clock().now_ms(),
                });
                match waited {
                    Ok(()) => StepResult::default(),
                    Err(reason) => StepResult::blocked(reason.to_string()),
                }
            }
        };
        outcome.steps_run += 1;
        let overtime = match &step.action {
            Action::Request(request) => request
                .within
                .as_ref()
                .and_then(|within| overtime(run, within, &marks)),
            Action::Wait(_) => None,
        };
        let stop = judge(
            run,
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
        if stop {
            not_reached(run, scenario, number, step, &mut outcome);
            break;
        }
    }
    outcome
}

fn step_verdict(result: &StepResult, overtime: bool) -> Verdict {
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

/// The note for a `within` step that completed too late to tell, or `None` when it was in time.
fn overtime(
    run: &SharedTarget<'_>,
    within: &Within,
    marks: &HashMap<String, u64>,
) -> Option<String> {
    let since = *marks.get(&within.since)?;
    let elapsed = run.clock().now_ms().saturating_sub(since);
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

async fn run_request(
    run: &SharedTarget<'_>,
    step: &RequestStep,
    vars: &mut ScenarioVars,
    forwarded_for: Option<&(HeaderName, HeaderValue)>,
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
        Ok((repeat, must, should))
    })();
    let (repeat, must, should) = match rendered {
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
    let mut collector = Collector::new(&must, should.as_ref());
    let concurrency = usize::try_from(step.concurrency.max(1)).unwrap_or(1);
    let mut next_index = 0;
    let mut in_flight: JoinSet<(u64, Arc<PreparedRequest>, Result<Response, NoResponse>)> =
        JoinSet::new();
    loop {
        while in_flight.len() < concurrency && next_index < repeat {
            let request = match &fixed {
                Some(request) => Arc::clone(request),
                None => {
                    scope.repeat_index = next_index;
                    match prepare(&client, &step.request, &mut scope, forwarded_for) {
                        Ok(request) => Arc::new(request),
                        Err(reason) => {
                            in_flight.abort_all();
                            return StepResult::blocked(reason);
                        }
                    }
                }
            };
            let client = client.clone();
            let index = next_index;
            in_flight.spawn(async move {
                let outcome = client.send(&request).await;
                (index, request, outcome)
            });
            next_index += 1;
        }
        match in_flight.join_next().await {
            Some(Ok((index, request, outcome))) => collector.add(&client, index, request, outcome),
            Some(Err(err)) => return StepResult::blocked(format!("a request task failed: {err}")),
            None => break,
        }
    }

    let (mut result, last) = collector.finish(&client);
    let vars = scope.vars;
    capture(step, last.as_ref(), vars, &mut result);
    result
}

/// Renders a request. `Err` says why it cannot be sent.
fn prepare(
    client: &TargetClient,
    spec: &RequestSpec,
    scope: &mut Scope<'_>,
    forwarded_for: Option<&(HeaderName, HeaderValue)>,
) -> Result<PreparedRequest, String> {
    let fail = |err: RenderError| format!("could not render the request: {err}");
    let method = Method::from_bytes(spec.method.as_bytes())
        .map_err(|_| format!("`{}` is not a valid HTTP method", spec.method))?;
    let path = scope.render_string(&spec.path).map_err(fail)?;
    let path = client.path(&path)?;
    let mut headers = Vec::with_capacity(spec.headers.len() + 2);
    for (name, template) in &spec.headers {
        let value = scope.render_string(template).map_err(fail)?;
        if value.is_empty() {
            continue;
        }
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("`{name}` is not a header name"))?;
        let value = HeaderValue::from_str(&value)
            .map_err(|_| format!("the value of `{name}` is not a valid header"))?;
        headers.push((name, value));
    }
    let body: Option<Arc<[u8]>> = match &spec.body {
        Body::None => None,
        Body::Json(template) => {
            let value = scope.render_json(template).map_err(fail)?;
            if spec.content_type.is_none() {
                headers.push((CONTENT_TYPE, HeaderValue::from_static("application/json")));
            }
            Some(value.to_string().into_bytes().into())
        }
        Body::Raw(template) => Some(
            scope
                .render_string(template)
                .map_err(fail)?
                .into_bytes()
                .into(),
        ),
    };
    if let Some(content_type) = &spec.content_type {
        let value = HeaderValue::from_str(content_type)
            .map_err(|_| format!("content type `{content_type}` is not a valid header"))?;
        headers.push((CONTENT_TYPE, value));
    }
    if let Some((name, value)) = forwarded_for {
        headers.push((name.clone(), value.clone()));
    }
    Ok(PreparedRequest {
        method,
        path,
        headers,
        body,
    })
}

/// Gathers every response of a step into aggregated mismatches, tallies, the last response and the sample
/// exchanges reports show.
struct Collector<'e> {
    must: &'e RenderedExpectations,
    should: Option<&'e RenderedExpectations>,
    result: StepResult,
    tally_counts: Vec<u64>,
    /// The exchange of the step's first request (repeat number 1), recorded when it completes.
    first: Option<Exchange>,
    /// The answered request with the highest repeat index, kept whole for captures.
    last: Option<(u64, Arc<PreparedRequest>, Response)>,
    /// The unanswered request with the highest repeat index.
    last_unanswered: Option<(u64, Arc<PreparedRequest>, NoResponse)>,
    scratch: Vec<Mismatch>,
}

impl<'e> Collector<'e> {
    fn new(
        must: &'e RenderedExpectations,
        should: Option<&'e RenderedExpectations>,
    ) -> Collector<'e> {
        Collector {
            must,
            should,
            result: StepResult::default(),
            tally_counts: vec![0; must.tally.len()],
            first: None,
            last: None,
            last_unanswered: None,
            scratch: Vec::new(),
        }
    }

    fn add(
        &mut self,
        client: &TargetClient,
        index: u64,
        request: Arc<PreparedRequest>,
        outcome: Result<Response, NoResponse>,
    ) {
        self.result.total += 1;
        if index == 0 {
            self.first = Some(record(client, &request, outcome.as_ref()));
        }
        let response = match outcome {
            Ok(response) => response,
            Err(no) => {
                let mismatch = Mismatch {
                    expected: "a response (the connection kept)".into(),
                    actual: no.summary.clone(),
                    warning_only: false,
                };
                self.note(Tier::Must, mismatch, index, || {
                    record(client, &request, Err(&no))
                });
                if self
                    .last_unanswered
                    .as_ref()
                    .is_none_or(|(last, _, _)| index >= *last)
                {
                    self.last_unanswered = Some((index, request, no));
                }
                return;
            }
        };
        self.result.statuses.insert(response.status);
        for (count, (status, _)) in self.tally_counts.iter_mut().zip(&self.must.tally) {
            if status.matches(response.status) {
                *count += 1;
            }
        }
        let mut observations = std::mem::take(&mut self.result.observations);
        let mut observe = |kind: ObservationKind, detail: String| {
            if !observations.iter().any(|(k, d)| *k == kind && *d == detail) {
                observations.push((kind, detail));
            }
        };
        let mut scratch = std::mem::take(&mut self.scratch);
        for (tier, expectations) in [(Tier::Must, Some(self.must)), (Tier::Should, self.should)] {
            let Some(expectations) = expectations else {
                continue;
            };
            expectations.check(&response, &mut scratch, &mut observe);
            for mismatch in scratch.drain(..) {
                self.note(tier, mismatch, index, || {
                    record(client, &request, Ok(&response))
                });
            }
        }
        self.scratch = scratch;
        self.result.observations = observations;
        if self.last.as_ref().is_none_or(|(last, _, _)| index >= *last) {
            self.last = Some((index, request, response));
        }
    }

    fn note(
        &mut self,
        tier: Tier,
        mismatch: Mismatch,
        index: u64,
        exchange: impl FnOnce() -> Exchange,
    ) {
        let existing = self
            .result
            .aggregates
            .iter_mut()
            .find(|a| a.tier == tier && a.mismatch.expected == mismatch.expected);
        match existing {
            Some(aggregate) => aggregate.count += 1,
            None => self.result.aggregates.push(Aggregate {
                tier,
                mismatch,
                count: 1,
                first_index: index,
                exchange: Some(exchange()),
            }),
        }
    }

    fn finish(mut self, client: &TargetClient) -> (StepResult, Option<Response>) {
        if let Some(first) = self.first.take() {
            self.result.samples.push(SampleExchange {
                request_number: 1,
                exchange: first,
                curl: None,
            });
        }
        let answered = self
            .last
            .as_ref()
            .map(|(index, request, response)| (*index, record(client, request, Ok(response))));
        let unanswered = self
            .last_unanswered
            .as_ref()
            .map(|(index, request, no)| (*index, record(client, request, Err(no))));
        let latest = match (answered, unanswered) {
            (Some(a), Some(u)) => Some(if a.0 >= u.0 { a } else { u }),
            (a, u) => a.or(u),
        };
        if let Some((index, exchange)) = latest.filter(|(index, _)| *index > 0) {
            self.result.samples.push(SampleExchange {
                request_number: index + 1,
                exchange,
                curl: None,
            });
        }
        for ((status, expected), counted) in self.must.tally.iter().zip(&self.tally_counts) {
            if counted != expected {
                self.result.aggregates.push(Aggregate {
                    tier: Tier::Must,
                    mismatch: Mismatch {
                        expected: format!("exactly {expected} responses with status {status}"),
                        actual: format!(
                            "{counted} of {} responses had status {status}",
                            self.result.total
                        ),
                        warning_only: false,
                    },
                    count: 1,
                    first_index: 0,
                    exchange: None,
                });
            }
        }
        (self.result, self.last.map(|(_, _, response)| response))
    }
}

/// Keeps values (and the whole response) from the last response, as the step asks.
fn capture(
    step: &RequestStep,
    last: Option<&Response>,
    vars: &mut ScenarioVars,
    result: &mut StepResult,
) {
    if step.capture.is_empty() && step.capture_response.is_none() {
        return;
    }
    let Some(response) = last else {
        result.blocked = Some("nothing to capture: the step got no response".into());
        return;
    };
    let body = if step.capture.is_empty() {
        None
    } else {
        response.json()
    };
    for (name, path) in &step.capture {
        match body.as_ref().and_then(|body| lookup(body, path)) {
            Some(value) => {
                vars.captured.insert(name.clone(), value.clone());
            }
            None => result.aggregates.push(Aggregate {
                tier: Tier::Must,
                mismatch: Mismatch {
                    expected: format!("`{path}` in the body (to capture as `{name}`)"),
                    actual: format!(
                        "status {}, body {}",
                        response.status,
                        excerpt(&response.body)
                    ),
                    warning_only: false,
                },
                count: 1,
                first_index: 0,
                exchange: None,
            }),
        }
    }
    if let Some(name) = &step.capture_response {
        vars.responses.insert(
            name.clone(),
            CapturedResponse {
                status: response.status,
                body: response.body.clone(),
            },
        );
    }
}

/// The requirements a step judges on this target; empty for a setup step.
fn judged<'s>(run: &SharedTarget<'_>, step: &'s Step) -> Vec<&'s String> {
    step.covers.iter().filter(|id| run.applies(id)).collect()
}

fn scenario_covers<'s>(run: &SharedTarget<'_>, scenario: &'s Scenario) -> Vec<&'s String> {
    scenario
        .covers
        .iter()
        .filter(|id| run.applies(id))
        .collect()
}

fn record_readings(
    run: &SharedTarget<'_>,
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
fn judge(
    run: &SharedTarget<'_>,
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
fn not_reached(
    run: &SharedTarget<'_>,
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

fn describe_actual(aggregate: &Aggregate, total: u64) -> String {
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
