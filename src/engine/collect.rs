//! Collecting a step's responses: every answer checked against the rendered expectations and folded into
//! aggregated mismatches, tallies, sample exchanges and the last response, which captures read.

use std::collections::BTreeSet;
use std::sync::Arc;

use authconform_scenario::model::RequestStep;

use super::exchange::record;
use super::expect::{Mismatch, RenderedExpectations, lookup};
use super::render::{CapturedResponse, ScenarioVars};
use super::results::{Exchange, ObservationKind, SampleExchange};
use crate::target::{NoResponse, PreparedRequest, Response, TargetClient, excerpt};

/// Which table of expectations a mismatch broke: `must` fails (or warns, for a SHOULD requirement), `should`
/// only warns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tier {
    Must,
    Should,
}

/// Mismatches of one kind across all of a step's responses.
#[derive(Debug)]
pub(super) struct Aggregate {
    pub(super) tier: Tier,
    pub(super) mismatch: Mismatch,
    pub(super) count: u64,
    pub(super) first_index: u64,
    pub(super) exchange: Option<Exchange>,
}

/// What a step produced before it is judged.
#[derive(Debug, Default)]
pub(super) struct StepResult {
    pub(super) aggregates: Vec<Aggregate>,
    /// The step could not be carried out (a template, the clock): its requirements are inconclusive.
    pub(super) blocked: Option<String>,
    pub(super) total: u64,
    pub(super) statuses: BTreeSet<u16>,
    pub(super) observations: Vec<(ObservationKind, String)>,
    /// The first exchange and, when there were more, the last (by repeat number).
    pub(super) samples: Vec<SampleExchange>,
}

impl StepResult {
    pub(super) fn blocked(reason: impl Into<String>) -> StepResult {
        StepResult {
            blocked: Some(reason.into()),
            ..StepResult::default()
        }
    }

    pub(super) fn must_failed(&self) -> bool {
        self.blocked.is_some()
            || self
                .aggregates
                .iter()
                .any(|a| a.tier == Tier::Must && !a.mismatch.warning_only)
    }
}

/// Gathers every response of a step into aggregated mismatches, tallies, the last response and the sample
/// exchanges reports show.
pub(super) struct Collector<'e> {
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
    pub(super) fn new(
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

    pub(super) fn add(
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

    pub(super) fn finish(mut self, client: &TargetClient) -> (StepResult, Option<Response>) {
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
pub(super) fn capture(
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
