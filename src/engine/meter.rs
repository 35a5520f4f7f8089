//! Measuring a run under load: when a target plan carries a [`Meter`], every concurrent step runs at the
//! meter's number of users, and each of its requests is timed from the moment it was sent. What a load
//! run reports as figures (throughput, latency percentiles, statuses) is computed from these answers; the
//! verdicts are the scenarios' own.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use futures_util::future::BoxFuture;

use parking_lot::Mutex;
use serde::Serialize;

use crate::target::{Lane, NoResponse, PreparedRequest, Response, TargetClient};

/// One timed answer of a concurrent step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeteredAnswer {
    /// When it was sent, from the meter's start, in microseconds.
    pub sent_us: u64,
    pub latency_us: u64,
    /// `None`: no answer (reset, timeout).
    pub status: Option<u16>,
    /// Which concurrent step sent it: an index into [`LoadFigures::steps`].
    pub step: u16,
}

/// A pass/fail check on a load run's answers (`--threshold p99<1s`), judged when its figures are taken.
pub trait FigureCheck: std::fmt::Debug + Send + Sync {
    fn judge(&self, answers: &[MeteredAnswer]) -> FigureVerdict;
}

/// How one check on the figures came out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FigureVerdict {
    /// The check as given (`p99<1s`).
    pub threshold: String,
    pub actual: f64,
    pub passed: bool,
}

/// What sends a metered step's requests. The engine prepares each request and judges each answer; a driver
/// only sends: it takes the requests from [`DrivenStep::requests`] as they come, keeps at most
/// [`DrivenStep::users`] in flight on lanes of [`DrivenStep::client`], and hands every answer to
/// [`DrivenStep::answers`]. It returns once the requests channel is closed and drained.
pub trait Driver: std::fmt::Debug + Send + Sync {
    fn drive(&self, step: DrivenStep) -> BoxFuture<'static, Result<(), String>>;
}

/// One metered step, handed to its [`Driver`].
pub struct DrivenStep {
    pub(crate) client: TargetClient,
    pub users: usize,
    /// How many requests the step sends.
    pub total: u64,
    /// The step's number among the metered steps of the run (from 0), and its name.
    pub number: u16,
    pub name: String,
    pub requests: RequestQueue,
    pub answers: tokio::sync::mpsc::UnboundedSender<DrivenAnswer>,
}

impl DrivenStep {
    /// A lane of the target's client: its own keep-alive connection to each base URL.
    pub(crate) fn lane(&self) -> Lane {
        self.client.lane()
    }
}

/// The requests of a driven step, shared by the driver's users: `None` once every one has been taken.
#[derive(Clone)]
pub struct RequestQueue(Arc<tokio::sync::Mutex<tokio::sync::mpsc::Receiver<QueuedRequest>>>);

impl RequestQueue {
    pub async fn next(&self) -> Option<QueuedRequest> {
        self.0.lock().await.recv().await
    }
}

/// A request of a driven step: its index in the step, and the request.
pub struct QueuedRequest {
    pub index: u64,
    pub(crate) request: Arc<PreparedRequest>,
}

/// What came back for a request of a driven step, and when it was sent.
pub struct DrivenAnswer {
    pub index: u64,
    pub(crate) request: Arc<PreparedRequest>,
    pub(crate) outcome: Result<Response, NoResponse>,
    pub sent: Instant,
    /// From the send to the answer (or to the failure).
    pub latency: std::time::Duration,
}

impl QueuedRequest {
    /// The request's method (`POST`).
    pub fn method(&self) -> &str {
        self.request.method.as_str()
    }

    /// The request's path and query.
    pub fn path(&self) -> &str {
        &self.request.path
    }

    /// Sends it on `lane` and gives the answer (or why there was none), timed from the send.
    pub(crate) async fn send_on(self, lane: &mut Lane) -> DrivenAnswer {
        let sent = Instant::now();
        let outcome = lane.send(&self.request).await;
        DrivenAnswer {
            index: self.index,
            request: self.request,
            outcome,
            sent,
            latency: sent.elapsed(),
        }
    }
}

impl DrivenAnswer {
    /// The status answered, or `None` when there was no answer.
    pub fn status(&self) -> Option<u16> {
        self.outcome.as_ref().ok().map(|response| response.status)
    }

    /// Whether the answer's body went on past `--max-body`.
    pub fn cut(&self) -> bool {
        self.outcome
            .as_ref()
            .is_ok_and(|response| response.truncated)
    }

    /// Why there was no answer, when there was none.
    pub fn failure(&self) -> Option<String> {
        self.outcome
            .as_ref()
            .err()
            .map(|no| format!("{}: {}", no.summary, no.detail))
    }
}

/// A channel for a driven step's requests: the engine's sending end, and the queue the driver takes from.
pub(crate) fn request_queue(
    capacity: usize,
) -> (tokio::sync::mpsc::Sender<QueuedRequest>, RequestQueue) {
    let (sender, receiver) = tokio::sync::mpsc::channel(capacity.max(1));
    (
        sender,
        RequestQueue(Arc::new(tokio::sync::Mutex::new(receiver))),
    )
}

/// The users concurrent steps run at, every answer they got, and the checks their figures must pass.
#[derive(Debug)]
pub struct Meter {
    users: usize,
    driver: Option<Arc<dyn Driver>>,
    started: Instant,
    answers: Mutex<Vec<MeteredAnswer>>,
    /// The names of the concurrent steps measured, in the order they ran.
    steps: Mutex<Vec<String>>,
    checks: Vec<Box<dyn FigureCheck>>,
    threshold: Option<u64>,
}

/// How many answers the figures keep one by one for the report's chart (the counts and percentiles use
/// every answer).
pub const CHARTED_ANSWERS: usize = 200_000;

impl Meter {
    pub fn new(users: usize) -> Meter {
        Meter {
            users: users.max(1),
            driver: None,
            started: Instant::now(),
            answers: Mutex::new(Vec::new()),
            steps: Mutex::new(Vec::new()),
            checks: Vec::new(),
            threshold: None,
        }
    }

    /// The same meter, its chart marking the documented count after which the target refuses.
    pub fn marking_threshold(mut self, threshold: u64) -> Meter {
        self.threshold = Some(threshold);
        self
    }

    /// The same meter, judging these checks on its figures.
    pub fn checking(mut self, checks: Vec<Box<dyn FigureCheck>>) -> Meter {
        self.checks = checks;
        self
    }

    /// The same meter, its steps' requests sent by `driver` (else by the engine's own tasks).
    pub fn driven_by(mut self, driver: Arc<dyn Driver>) -> Meter {
        self.driver = Some(driver);
        self
    }

    pub(crate) fn driver(&self) -> Option<&Arc<dyn Driver>> {
        self.driver.as_ref()
    }

    /// How many requests a concurrent step keeps in flight.
    pub fn users(&self) -> usize {
        self.users
    }

    /// A concurrent step starts: its answers are recorded under the number this returns.
    pub(crate) fn begin_step(&self, name: &str) -> u16 {
        let mut steps = self.steps.lock();
        steps.push(name.to_owned());
        u16::try_from(steps.len() - 1).unwrap_or(u16::MAX)
    }

    pub(crate) fn record(
        &self,
        step: u16,
        sent: Instant,
        latency: std::time::Duration,
        status: Option<u16>,
    ) {
        let answer = MeteredAnswer {
            sent_us: micros(sent.saturating_duration_since(self.started)),
            latency_us: micros(latency),
            status,
            step,
        };
        self.answers.lock().push(answer);
    }

    /// Every answer so far, in the order they came.
    pub fn answers(&self) -> Vec<MeteredAnswer> {
        self.answers.lock().clone()
    }

    /// The figures of every answer so far, with the checks judged on them.
    pub fn figures(&self) -> LoadFigures {
        let answers = self.answers();
        let mut figures = LoadFigures::of(self.users, &answers);
        figures.threshold = self.threshold;
        figures.steps = self.steps.lock().clone();
        figures.thresholds = self.checks.iter().map(|c| c.judge(&answers)).collect();
        let mut charted = answers;
        charted.sort_by_key(|answer| answer.sent_us);
        charted.truncate(CHARTED_ANSWERS);
        figures.answers = charted;
        figures
    }
}

fn micros(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// What a load run measured, beside its verdicts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadFigures {
    pub users: usize,
    pub requests: u64,
    /// The time spent under load: for each concurrent step, from its first request sent to its last
    /// answer (the waits between steps left out).
    pub duration_ms: u64,
    pub requests_per_second: f64,
    pub latency_ms: Percentiles,
    pub statuses: BTreeMap<u16, u64>,
    pub no_answer: u64,
    /// The `--threshold` checks, judged on these answers.
    pub thresholds: Vec<FigureVerdict>,
    /// The documented count after which the target refuses (the lockout threshold), for the chart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<u64>,
    /// The names of the concurrent steps measured, in the order they ran.
    pub steps: Vec<String>,
    /// The answers in the order their requests were sent (the first [`CHARTED_ANSWERS`]), for the chart.
    #[serde(skip)]
    pub answers: Vec<MeteredAnswer>,
}

impl LoadFigures {
    /// Whether every threshold passed.
    pub fn passed(&self) -> bool {
        self.thresholds.iter().all(|t| t.passed)
    }
}

/// Latency percentiles, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl LoadFigures {
    pub(crate) fn of(users: usize, answers: &[MeteredAnswer]) -> LoadFigures {
        let mut statuses = BTreeMap::new();
        let mut no_answer = 0;
        for answer in answers {
            match answer.status {
                Some(status) => *statuses.entry(status).or_insert(0) += 1,
                None => no_answer += 1,
            }
        }
        // Each step from its first send to its last answer: the waits between steps are not load.
        let mut spans: BTreeMap<u16, (u64, u64)> = BTreeMap::new();
        for answer in answers {
            let end = answer.sent_us + answer.latency_us;
            let span = spans.entry(answer.step).or_insert((answer.sent_us, end));
            span.0 = span.0.min(answer.sent_us);
            span.1 = span.1.max(end);
        }
        let duration_us = spans
            .values()
            .map(|(first, last)| last - first)
            .sum::<u64>()
            .max(1);
        let mut latencies: Vec<u64> = answers.iter().map(|a| a.latency_us).collect();
        latencies.sort_unstable();
        let at = |q: f64| -> f64 {
            if latencies.is_empty() {
                return 0.0;
            }
            let rank = ((q * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len());
            latencies[rank - 1] as f64 / 1000.0
        };
        LoadFigures {
            users,
            requests: answers.len() as u64,
            duration_ms: duration_us.div_ceil(1000),
            requests_per_second: answers.len() as f64 * 1_000_000.0 / duration_us as f64,
            latency_ms: Percentiles {
                p50: at(0.50),
                p95: at(0.95),
                p99: at(0.99),
                max: at(1.0),
            },
            statuses,
            no_answer,
            thresholds: Vec::new(),
            threshold: None,
            steps: Vec::new(),
            answers: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_count_statuses_and_take_nearest_rank_percentiles() {
        let answers: Vec<MeteredAnswer> = (0..100)
            .map(|n| MeteredAnswer {
                sent_us: n * 1_000,
                latency_us: (n + 1) * 100,
                step: 0,
                status: if n == 99 {
                    None
                } else {
                    Some(if n < 90 { 401 } else { 429 })
                },
            })
            .collect();
        let figures = LoadFigures::of(8, &answers);
        assert_eq!(figures.requests, 100);
        assert_eq!(figures.statuses.get(&401), Some(&90));
        assert_eq!(figures.statuses.get(&429), Some(&9));
        assert_eq!(figures.no_answer, 1);
        assert_eq!(figures.latency_ms.p50, 5.0);
        assert_eq!(figures.latency_ms.p99, 9.9);
        assert_eq!(figures.latency_ms.max, 10.0);
        // From the first send (0) to the last answer (99 ms + 10 ms).
        assert_eq!(figures.duration_ms, 109);
        // Two steps with a wait between them: only the steps count.
        let two_steps = [
            MeteredAnswer {
                sent_us: 0,
                latency_us: 1_000,
                status: Some(401),
                step: 0,
            },
            MeteredAnswer {
                sent_us: 60_000_000,
                latency_us: 1_000,
                status: Some(401),
                step: 1,
            },
        ];
        assert_eq!(LoadFigures::of(1, &two_steps).duration_ms, 2);
    }
}
