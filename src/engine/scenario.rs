//! Running one scenario on one target: steps in order, requests (repeated, concurrent), expectations,
//! captures, marks and waits, and the judgements they give each covered requirement.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use authconform_scenario::model::{
    Action, Blame, Body, Level, RequestSpec, RequestStep, Scenario, StatusSet, Step, Within,
};
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use tokio::task::JoinSet;

use super::events::EngineEvent;
use super::expect::{Mismatch, RenderedExpectations, lookup};
use super::http::{NoResponse, PreparedRequest, Response, TargetClient, record};
use super::render::{
    CapturedResponse, RenderError, ScenarioVars, Scope, for_each_template, needs_admin_token,
    template_any, varies_per_evaluation,
};
use super::results::{
    Check, Exchange, Finding, Observation, ObservationKind, ReadingSeen, SampleExchange, Verdict,
};
use super::target::TargetRun;

/// What a scenario found, per requirement.
#[derive(Debug, Default)]
pub(crate) struct ScenarioOutcome {
    /// Requirements a step judged with nothing wrong.
    pub(crate) passes: Vec<String>,
    pub(crate) findings: Vec<(String, Finding)>,
    /// Every judging step, per requirement, with its sample exchanges.
    pub(crate) checks: Vec<(String, Check)>,
    pub(crate) readings: Vec<(String, ReadingSeen)>,
    pub(crate) steps_run: usize,
    pub(crate) requests: u64,
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
    /// Expectations that only make the step's check meaningful (`precondition`).
    Precondition,
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
    /// The step failed, and its `blame` probe put the failure on another requirement: (that id, why).
    blamed: Option<(String, String)>,
    /// The step failed and its `blame` probe did not hold: the blame's requirement, cleared of the failure.
    cleared: Option<String>,
    /// The first response that failed a must expectation, for a `blame` without a probe.
    first_failure: Option<Response>,
    total: u64,
    /// When the step's own requests were done (before any `blame` probe), on the target's clock.
    done_ms: Option<u64>,
    statuses: BTreeSet<u16>,
    /// How many answers had each status (for tallies).
    status_counts: BTreeMap<u16, u64>,
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
        self.blocked.is_some() || self.aggregates.iter().any(|a| a.tier == Tier::Must)
    }

    /// The first expectation of the step's `precondition` that did not hold.
    fn precondition_failed(&self) -> Option<&Aggregate> {
        self.aggregates
            .iter()
            .find(|a| a.tier == Tier::Precondition)
    }
}

pub(crate) async fn run_scenario(
    run: &mut TargetRun<'_>,
    scenario: &Scenario,
    events: &mut dyn FnMut(&EngineEvent<'_>),
) -> ScenarioOutcome {
    let mut outcome = ScenarioOutcome::default();
    let mut vars = ScenarioVars::default();
    let mut marks: HashMap<String, u64> = HashMap::new();
    let forwarded_for = run.next_forwarded_for();

    for (index, step) in scenario.steps.iter().enumerate() {
        let number = index + 1;
        let started_ms = run.clock.now_ms();
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
            Action::Wait(wait) => match run.wait(wait, &scenario.name, &step.name, events).await {
                Ok(()) => StepResult::default(),
                Err(reason) => StepResult::blocked(reason),
            },
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
            run,
            scenario,
            step,
            number,
            &result,
            overtime.as_deref(),
            &mut outcome,
        );
        run.secrets.append(&mut vars.secrets);
        let step_verdict = step_verdict(&result, overtime.is_some());
        events(&EngineEvent::StepFinished {
            scenario: &scenario.name,
            step_number: number,
            step: &step.name,
            verdict: step_verdict,
            requests: result.total,
        });
        if let Some(blocker) = stop {
            not_reached(run, scenario, number, step, blocker, &mut outcome);
            break;
        }
    }
    outcome
}

fn step_verdict(result: &StepResult, overtime: bool) -> Verdict {
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

/// The note for a `within` step that completed too late to tell, or `None` when it was in time.
fn overtime(
    run: &TargetRun<'_>,
    within: &Within,
    marks: &HashMap<String, u64>,
    done_ms: Option<u64>,
) -> Option<String> {
    let since = *marks.get(&within.since)?;
    let elapsed = done_ms
        .unwrap_or_else(|| run.clock.now_ms())
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

async fn run_request(
    run: &mut TargetRun<'_>,
    step: &RequestStep,
    vars: &mut ScenarioVars,
    forwarded_for: Option<&(HeaderName, HeaderValue)>,
) -> StepResult {
    let mut needs_token = false;
    let mut varies = false;
    let request_templates = {
        let mut request_only = step.clone();
        request_only.expect = Default::default();
        request_only.repeat = None;
        request_only
    };
    for_each_template(step, &mut |t| {
        needs_token |= template_any(t, &needs_admin_token)
    });
    for_each_template(&request_templates, &mut |t| {
        varies |= template_any(t, &varies_per_evaluation)
    });
    if needs_token {
        run.ensure_admin_token().await;
    }

    let now_s = run.clock.unix_now_s();
    let mut scope = Scope {
        target: run.target,
        ids: run.ids,
        admin_token: run.admin_token.as_ref(),
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
    let mut collector = Collector::new(&must, should.as_ref(), precondition.as_ref());
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
    result.done_ms = Some(run.clock.now_ms());
    if !step.blame.is_empty()
        && result.must_failed()
        && result.blocked.is_none()
        && result.precondition_failed().is_none()
    {
        for blame in &step.blame {
            result.blamed = probe_blame(&client, blame, &result, &mut scope, forwarded_for).await;
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

/// Decides one of a failed step's `blame`s: its probe is sent (`repeat` times, default once) and the
/// expectations judge every answer and tally them; without a probe, the tallies count the step's own
/// answers and the other expectations judge its first failing one. When they hold, the failure is put on
/// the blame's requirement (the id and why). A probe that cannot be sent or does not hold leaves the
/// failure standing.
async fn probe_blame(
    client: &TargetClient,
    blame: &Blame,
    step: &StepResult,
    scope: &mut Scope<'_>,
    forwarded_for: Option<&(HeaderName, HeaderValue)>,
) -> Option<(String, String)> {
    let mut expect = RenderedExpectations::render(&blame.expect, scope).ok()?;
    let what = match &blame.request {
        Some(spec) => {
            let repeat = match &blame.repeat {
                Some(t) => u64::try_from(scope.render_integer(t).ok()?.max(0)).unwrap_or(0),
                None => 1,
            };
            let mut collector = Collector::new(&expect, None, None);
            let mut statuses = Vec::new();
            for index in 0..repeat {
                scope.repeat_index = index;
                let request = Arc::new(prepare(client, spec, scope, forwarded_for).ok()?);
                let outcome = client.send(&request).await;
                if let Ok(response) = &outcome {
                    statuses.push(response.status.to_string());
                }
                collector.add(client, index, request, outcome);
            }
            let (result, _) = collector.finish(client);
            if repeat == 0 || result.must_failed() {
                return None;
            }
            format!(
                "a probe ({} {}, {repeat} time(s)) answered {}",
                spec.method,
                scope.render_string(&spec.path).unwrap_or_default(),
                statuses.join(", ")
            )
        }
        None => {
            let tally = std::mem::take(&mut expect.tally);
            let mut mismatches = tally_mismatches(&tally, &step.status_counts, step.total);
            let per_answer = expect;
            let what = match &step.first_failure {
                Some(response) => {
                    per_answer.check(response, &mut mismatches, &mut |_, _| {});
                    format!("the failing answer ({})", response.status)
                }
                None if per_answer.is_empty() => format!("the step's {} answers", step.total),
                None => return None,
            };
            if !mismatches.is_empty() {
                return None;
            }
            what
        }
    };
    Some((
        blame.requirement.clone(),
        format!("{what}: that puts the failure on {}", blame.requirement),
    ))
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
    precondition: Option<&'e RenderedExpectations>,
    result: StepResult,
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
        precondition: Option<&'e RenderedExpectations>,
    ) -> Collector<'e> {
        Collector {
            must,
            should,
            precondition,
            result: StepResult::default(),
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
        *self
            .result
            .status_counts
            .entry(response.status)
            .or_default() += 1;
        let mut observations = std::mem::take(&mut self.result.observations);
        let mut observe = |kind: ObservationKind, detail: String| {
            if !observations.iter().any(|(k, d)| *k == kind && *d == detail) {
                observations.push((kind, detail));
            }
        };
        let mut scratch = std::mem::take(&mut self.scratch);
        let tiers = [
            (Tier::Precondition, self.precondition),
            (Tier::Must, Some(self.must)),
            (Tier::Should, self.should),
        ];
        for (tier, expectations) in tiers {
            let Some(expectations) = expectations else {
                continue;
            };
            expectations.check(&response, &mut scratch, &mut observe);
            if tier == Tier::Must && !scratch.is_empty() && self.result.first_failure.is_none() {
                self.result.first_failure = Some(response.clone());
            }
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
        let tallies = tally_mismatches(
            &self.must.tally,
            &self.result.status_counts,
            self.result.total,
        );
        for mismatch in tallies {
            self.result.aggregates.push(Aggregate {
                tier: Tier::Must,
                mismatch,
                count: 1,
                first_index: 0,
                exchange: None,
            });
        }
        (self.result, self.last.map(|(_, _, response)| response))
    }
}

/// The tallies that do not hold over answers counted by status.
fn tally_mismatches(
    tally: &[(StatusSet, u64, bool)],
    counts: &BTreeMap<u16, u64>,
    total: u64,
) -> Vec<Mismatch> {
    tally
        .iter()
        .filter_map(|(status, expected, at_most)| {
            let counted: u64 = counts
                .iter()
                .filter(|(code, _)| status.matches(**code))
                .map(|(_, n)| n)
                .sum();
            let holds = if *at_most {
                counted <= *expected
            } else {
                counted == *expected
            };
            (!holds).then(|| Mismatch {
                expected: format!(
                    "{} {expected} responses with status {status}",
                    if *at_most { "at most" } else { "exactly" }
                ),
                actual: format!("{counted} of {total} responses had status {status}"),
            })
        })
        .collect()
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
                        super::expect::excerpt(&response.body)
                    ),
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
fn judged<'s>(run: &TargetRun<'_>, step: &'s Step) -> Vec<&'s String> {
    step.covers.iter().filter(|id| run.applies(id)).collect()
}

fn scenario_covers<'s>(run: &TargetRun<'_>, scenario: &'s Scenario) -> Vec<&'s String> {
    scenario
        .covers
        .iter()
        .filter(|id| run.applies(id))
        .collect()
}

fn record_readings(
    run: &mut TargetRun<'_>,
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
        run.observations.push(Observation {
            scenario: scenario.name.clone(),
            step: step.name.clone(),
            requirements: covers.iter().map(|id| (*id).clone()).collect(),
            kind: ObservationKind::Reading,
            detail: format!("status {status}: {reading}"),
        });
    }
    for (kind, detail) in &result.observations {
        run.observations.push(Observation {
            scenario: scenario.name.clone(),
            step: step.name.clone(),
            requirements: covers.iter().map(|id| (*id).clone()).collect(),
            kind: *kind,
            detail: detail.clone(),
        });
    }
}

/// Why a scenario stopped at a step: the requirement whose breach blocked it, when one is known.
type Stop = Option<String>;

/// Turns a step's result into findings and passes. `Some` when the scenario must stop here.
fn judge(
    run: &TargetRun<'_>,
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

/// After a step stopped the scenario: what later steps would have judged is inconclusive, blocked by the
/// requirement that stopped it when one is known.
fn not_reached(
    run: &TargetRun<'_>,
    scenario: &Scenario,
    number: usize,
    step: &Step,
    blocker: Stop,
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
                        blocked_by: blocker.clone(),
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
