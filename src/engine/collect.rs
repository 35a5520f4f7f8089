//! Collecting a step's responses: every answer checked against the rendered expectations and folded into
//! aggregated mismatches, tallies, sample exchanges and the last response, which captures read.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use authconform_scenario::model::{RequestStep, StatusSet};

use super::exchange::record;
use super::expect::{Mismatch, RenderedExpectations, lookup};
use super::render::{CapturedResponse, ScenarioVars};
use super::results::{Exchange, ObservationKind, SampleExchange};
use crate::target::{NoResponse, PreparedRequest, Response, TargetClient, excerpt};

/// Which table of expectations a mismatch broke: `must` fails (or warns, for a SHOULD requirement), `should`
/// only warns, `precondition` makes the step's requirements inconclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tier {
    Must,
    Should,
    /// Expectations that only make the step's check meaningful (`precondition`).
    Precondition,
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
    /// The step failed, and its `blame` probe put the failure on another requirement: (that id, why).
    pub(super) blamed: Option<(String, String)>,
    /// The step failed and its `blame` probe did not hold: the blame's requirement, cleared of the failure.
    pub(super) cleared: Option<String>,
    /// The first response that failed a must expectation, for a `blame` without a probe.
    pub(super) first_failure: Option<Response>,
    pub(super) total: u64,
    /// Signups (`POST /user`) sent, the step's own and its blames' probes.
    pub(super) signups: u64,
    /// When the step's own requests were done (before any `blame` probe), on the target's clock.
    pub(super) done_ms: Option<u64>,
    pub(super) statuses: BTreeSet<u16>,
    /// How many answers had each status (for tallies).
    pub(super) status_counts: BTreeMap<u16, u64>,
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
        self.blocked.is_some() || self.aggregates.iter().any(|a| a.tier == Tier::Must)
    }

    /// The first expectation of the step's `precondition` that did not hold.
    pub(super) fn precondition_failed(&self) -> Option<&Aggregate> {
        self.aggregates
            .iter()
            .find(|a| a.tier == Tier::Precondition)
    }
}

/// Gathers every response of a step into aggregated mismatches, tallies, the last response and the sample
/// exchanges reports show.
pub(super) struct Collector<'e> {
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
    pub(super) fn new(
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
pub(super) fn tally_mismatches(
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
