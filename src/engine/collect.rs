//! Collecting a step's responses: every answer checked against the rendered expectations and folded into
//! aggregated mismatches, tallies, sample exchanges and the last response, which captures read.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use authconform_scenario::model::RequestStep;

use super::exchange::record;
use super::expect::{RenderedExpectations, RenderedTally, answer_message};
use super::json_match::lookup;
use super::mismatch::Mismatch;
use super::ratelimit_fields;
use super::render::{CapturedResponse, ScenarioVars};
use super::results::{Exchange, ObservationKind, SampleExchange};
use crate::target::{NoResponse, PreparedRequest, Response, TargetClient, Unanswered, excerpt};

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
    /// How many error answers had each status, message and used-up policies (for tallies that name the
    /// limit that refused).
    pub(super) refusal_counts: BTreeMap<Refusal, u64>,
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
    /// Requests nothing listened for (refused), and where the first went: the target was gone, which
    /// says nothing of the behaviour the step checks.
    unreachable: Option<(u64, reqwest::Url)>,
    scratch: Vec<Mismatch>,
    /// Whether a tally names a message, so error answers' messages are counted (a flood whose tallies
    /// count statuses alone does not parse its answers for them).
    counts_messages: bool,
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
            unreachable: None,
            scratch: Vec::new(),
            counts_messages: must
                .tally
                .iter()
                .any(|tally| tally.message.is_some() || tally.policy.is_some()),
        }
    }

    /// Counts error answers' messages also when something other than the expectations will read them (a
    /// `blame` that tallies the step's own answers by message).
    pub(super) fn counting_messages(mut self, also: bool) -> Collector<'e> {
        self.counts_messages |= also;
        self
    }

    /// How many answers (or failures to answer) it has collected.
    pub(super) fn answered(&self) -> u64 {
        self.result.total
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
            Err(no) if no.kind == Unanswered::Unreachable => {
                // Nothing listens (the server stopped): the step cannot be judged, and no requirement is
                // blamed for it (the request that brought the server down, if one did, was answered by a
                // reset, not a refusal).
                let unreachable = self.unreachable.get_or_insert((0, no.url.clone()));
                unreachable.0 += 1;
                self.keep_unanswered(index, request, no);
                return;
            }
            Err(no) => {
                let mismatch = Mismatch {
                    expected: "a response (the connection kept)".into(),
                    actual: no.summary.clone(),
                };
                self.note(Tier::Must, mismatch, index, || {
                    record(client, &request, Err(&no))
                });
                self.keep_unanswered(index, request, no);
                return;
            }
        };
        self.result.statuses.insert(response.status);
        *self
            .result
            .status_counts
            .entry(response.status)
            .or_default() += 1;
        if self.counts_messages && response.status >= 400 {
            let refusal = Refusal {
                status: response.status,
                message: answer_message(&response),
                exhausted: ratelimit_fields::exhausted_policies(&response),
            };
            *self.result.refusal_counts.entry(refusal).or_default() += 1;
        }
        let mut observations = std::mem::take(&mut self.result.observations);
        let mut observe = |kind: ObservationKind, detail: String| {
            if !observations.iter().any(|(k, d)| *k == kind && *d == detail) {
                observations.push((kind, detail));
            }
        };
        if response.truncated {
            observe(
                ObservationKind::BodyCut,
                format!(
                    "status {}: the body went on past {} bytes (`--max-body`); it was judged on those and the rest was not read",
                    response.status,
                    response.body.len()
                ),
            );
        }
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

    /// Keeps the unanswered request with the highest repeat index (the report's last sample).
    fn keep_unanswered(&mut self, index: u64, request: Arc<PreparedRequest>, no: NoResponse) {
        if self
            .last_unanswered
            .as_ref()
            .is_none_or(|(last, _, _)| index >= *last)
        {
            self.last_unanswered = Some((index, request, no));
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
        if let Some((refused, url)) = &self.unreachable
            && self.result.blocked.is_none()
        {
            self.result.blocked = Some(format!(
                "the target refused {refused} of {} connection(s): nothing listens at {url} (the server stopped, or is not running), so the step is not judged",
                self.result.total
            ));
        }
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
        let tallies = tally_mismatches(&self.must.tally, &self.result);
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

/// The tallies that do not hold over a step's answers, counted by status (and message, where a tally
/// names one).
pub(super) fn tally_mismatches(tally: &[RenderedTally], step: &StepResult) -> Vec<Mismatch> {
    tally
        .iter()
        .filter_map(|tally| {
            let RenderedTally {
                status,
                message,
                policy,
                count: expected,
                at_most,
                at_least,
            } = tally;
            let counted: u64 = if message.is_none() && policy.is_none() {
                step.status_counts
                    .iter()
                    .filter(|(code, _)| status.matches(**code))
                    .map(|(_, n)| n)
                    .sum()
            } else {
                step.refusal_counts
                    .iter()
                    .filter(|(refusal, _)| {
                        status.matches(refusal.status)
                            && (message.is_some() && refusal.message == *message
                                || policy.is_some_and(|p| refusal.exhausted.contains(&p)))
                    })
                    .map(|(_, n)| n)
                    .sum()
            };
            let holds = if *at_most {
                counted <= *expected
            } else if *at_least {
                counted >= *expected
            } else {
                counted == *expected
            };
            let what = match (message, policy) {
                (None, None) => format!("status {status}"),
                (Some(message), None) => format!("status {status} and message \"{message}\""),
                (None, Some((q, w))) => format!("status {status} and a policy q={q};w={w} used up"),
                (Some(message), Some((q, w))) => format!(
                    "status {status} and message \"{message}\" (or a policy q={q};w={w} used up)"
                ),
            };
            (!holds).then(|| Mismatch {
                expected: format!(
                    "{} {expected} responses with {what}",
                    if *at_most {
                        "at most"
                    } else if *at_least {
                        "at least"
                    } else {
                        "exactly"
                    }
                ),
                actual: format!("{counted} of {} responses had {what}", step.total),
            })
        })
        .collect()
}

/// One kind of error answer, as tallies tell limits apart: its status, its message, and the policies its
/// `RateLimit` fields show used up (`(q, w)`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Refusal {
    pub(super) status: u16,
    pub(super) message: Option<String>,
    pub(super) exhausted: Vec<(i64, i64)>,
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

#[cfg(test)]
mod tests {
    use authconform_scenario::model::{StatusPattern, StatusSet};

    use super::*;

    const EMAIL: &str = "Too many signup attempts for this email address. Please try again later.";
    const IP: &str = "Too many signup attempts from your IP address. Please try again later.";

    fn tally(message: Option<&str>, count: u64) -> RenderedTally {
        RenderedTally {
            status: StatusSet(vec![StatusPattern::Code(429)]),
            message: message.map(str::to_owned),
            policy: None,
            count,
            at_most: false,
            at_least: false,
        }
    }

    fn refusal(message: &str, exhausted: &[(i64, i64)]) -> Refusal {
        Refusal {
            status: 429,
            message: Some(message.to_owned()),
            exhausted: exhausted.to_vec(),
        }
    }

    #[test]
    fn a_tally_naming_a_message_counts_only_the_refusals_of_that_limit() {
        let mut step = StepResult {
            total: 7,
            ..StepResult::default()
        };
        step.status_counts.insert(200, 6);
        step.status_counts.insert(429, 1);
        step.refusal_counts.insert(refusal(IP, &[]), 1);
        // One 429, but it is the IP limit's: it is no evidence of the e-mail limit.
        assert!(tally_mismatches(&[tally(None, 1)], &step).is_empty());
        assert!(tally_mismatches(&[tally(Some(IP), 1)], &step).is_empty());
        let mismatches = tally_mismatches(&[tally(Some(EMAIL), 1)], &step);
        assert_eq!(mismatches.len(), 1);
        assert!(
            mismatches[0].actual.starts_with("0 of 7 responses"),
            "{mismatches:?}"
        );
        assert!(mismatches[0].actual.contains(EMAIL), "{mismatches:?}");
    }

    #[test]
    fn a_refusal_names_its_limit_by_its_policy_when_its_text_is_not_the_documented_one() {
        let mut step = StepResult {
            total: 3,
            ..StepResult::default()
        };
        // The e-mail limit (3 per hour) refused with a text of its own, and its policy used up.
        step.refusal_counts
            .insert(refusal("Slow down", &[(3, 3600)]), 1);
        step.refusal_counts.insert(refusal(IP, &[(6, 3600)]), 1);
        let email = |policy| RenderedTally {
            policy,
            ..tally(Some(EMAIL), 1)
        };
        assert!(tally_mismatches(&[email(Some((3, 3600)))], &step).is_empty());
        assert_eq!(
            tally_mismatches(&[email(None)], &step).len(),
            1,
            "by text alone, the e-mail limit never refused"
        );
        // The IP limit's refusal shows the IP policy, never the e-mail one.
        let ip_policy = RenderedTally {
            message: None,
            policy: Some((6, 3600)),
            ..tally(None, 1)
        };
        assert!(tally_mismatches(&[ip_policy], &step).is_empty());
    }
}
