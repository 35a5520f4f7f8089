//! Measuring a run under load: when a target plan carries a [`Meter`], every concurrent step runs at the
//! meter's number of users (or on its driver's schedule), and each of its requests is timed. What a load
//! run reports as figures is computed from these answers (`figures.rs`); the verdicts are the scenarios'
//! own.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;

use parking_lot::Mutex;

use super::figures::{
    Circumstances, FigureCheck, LoadFigures, LoadModel, MeteredAnswer, TransportError, figures_of,
    process_cpu_time,
};

use crate::target::{Lane, NoResponse, PreparedRequest, Response, TargetClient, Unanswered};

/// What sends a metered step's requests. The engine prepares each request and judges each answer; a driver
/// only sends: it takes the requests from [`DrivenStep::requests`] as they come, keeps at most
/// [`DrivenStep::users`] in flight on lanes of [`DrivenStep::client`], and hands every answer to
/// [`DrivenStep::answers`]. It returns once the requests channel is closed and drained; the engine ends the
/// step at its last answer and waits for the driver before the run reports (`Meter::settle`).
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
    /// Requests the driver took but did not send (the open model's drops when `--max-in-flight` are
    /// waiting): they are neither answered nor judged.
    pub dropped: Arc<AtomicU64>,
}

impl DrivenStep {
    /// A lane of the target's client: its own keep-alive connection to each base URL.
    pub(crate) fn lane(&self) -> Lane {
        self.client.lane()
    }
}

/// The requests of a driven step, shared by the driver's users: `None` once every one has been taken.
/// Many users take from it at once without a lock between them (a multi-consumer channel).
#[derive(Clone)]
pub struct RequestQueue(flume::Receiver<QueuedRequest>);

impl RequestQueue {
    pub async fn next(&self) -> Option<QueuedRequest> {
        self.0.recv_async().await.ok()
    }

    /// How many requests wait in the queue, prepared and not taken.
    pub fn waiting(&self) -> usize {
        self.0.len()
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
    /// When it was scheduled to start (open model), else when it was sent.
    pub sent: Instant,
    /// From `sent` to the answer (or to the failure).
    pub latency: Duration,
    /// From the scheduled start to the actual send (zero in the closed model).
    pub lag: Duration,
    /// It waited for a free connection (open model, every one busy): its lag is the target's doing.
    pub queued: bool,
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
        self.send_on_schedule(lane, None, false).await
    }

    /// Sends it on `lane`, timed from `scheduled` when it was meant to start then (the open model's
    /// correction for coordinated omission), else from the send; `queued` when it waited for a connection.
    pub(crate) async fn send_on_schedule(
        self,
        lane: &mut Lane,
        scheduled: Option<Instant>,
        queued: bool,
    ) -> DrivenAnswer {
        let started = Instant::now();
        let outcome = lane.send(&self.request).await;
        let sent = scheduled.unwrap_or(started).min(started);
        DrivenAnswer {
            index: self.index,
            request: self.request,
            outcome,
            sent,
            latency: sent.elapsed(),
            lag: started - sent,
            queued,
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

    /// What kind of failure left the request without an answer.
    pub fn error(&self) -> Option<TransportError> {
        self.outcome.as_ref().err().map(|no| match no.kind {
            Unanswered::TimedOut => TransportError::Timeout,
            Unanswered::Unreachable => TransportError::Refused,
            Unanswered::Reset => TransportError::Reset,
            Unanswered::Other => TransportError::Other,
        })
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
pub(crate) fn request_queue(capacity: usize) -> (flume::Sender<QueuedRequest>, RequestQueue) {
    let (sender, receiver) = flume::bounded(capacity.max(1));
    (sender, RequestQueue(receiver))
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
    model: Option<LoadModel>,
    /// What paces the floods (an open schedule, or `--rate`): what the projection of the run cannot tell
    /// from its requests.
    pace: Option<Pace>,
    shares_process_with_target: bool,
    /// Threads the generator runs on.
    threads: usize,
    dropped: AtomicU64,
    /// CPU time and wall time spent in steps, and when (and at what CPU time) the running one began.
    cpu: Mutex<CpuClock>,
    /// Drivers whose steps have every answer but which are still winding down (goose notices its users
    /// are done on its own half-second tick, then writes its reports): the run goes on, and waits for them
    /// before it reports.
    lingering: Mutex<Vec<LingeringDriver>>,
}

/// A driver still winding down after its step's last answer.
#[derive(Debug)]
struct LingeringDriver {
    scenario: String,
    step: String,
    driving: tokio::task::JoinHandle<Result<(), String>>,
}

/// A driver that failed after its step's last answer (its step was judged on every answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LateDriverFailure {
    pub(crate) scenario: String,
    pub(crate) step: String,
    pub(crate) reason: String,
}

#[derive(Debug, Default)]
struct CpuClock {
    cpu: Duration,
    wall: Duration,
    /// When the first of the steps running now began, at what CPU time, and how many run.
    running: Option<(Instant, Duration)>,
    steps_running: usize,
    unknown: bool,
}

/// What sets a load run's floods' pace, whatever the target's speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// An open model's schedule, this long.
    Schedule { ms: u64 },
    /// `--rate`: the floods together send at most this many requests a second.
    Rate { per_second: u64 },
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
            model: None,
            pace: None,
            shares_process_with_target: false,
            threads: 1,
            dropped: AtomicU64::new(0),
            cpu: Mutex::new(CpuClock::default()),
            lingering: Mutex::new(Vec::new()),
        }
    }

    /// Keeps a driver that is still winding down after every answer of its step came back.
    pub(crate) fn linger(
        &self,
        scenario: &str,
        step: &str,
        driving: tokio::task::JoinHandle<Result<(), String>>,
    ) {
        self.lingering.lock().push(LingeringDriver {
            scenario: scenario.to_owned(),
            step: step.to_owned(),
            driving,
        });
    }

    /// Waits for every driver still winding down, and says which of them failed.
    pub(crate) async fn settle(&self) -> Vec<LateDriverFailure> {
        let lingering = std::mem::take(&mut *self.lingering.lock());
        let mut failures = Vec::new();
        for LingeringDriver {
            scenario,
            step,
            driving,
        } in lingering
        {
            let reason = match driving.await {
                Ok(Ok(())) => continue,
                Ok(Err(reason)) => reason,
                Err(error) => error.to_string(),
            };
            failures.push(LateDriverFailure {
                scenario,
                step,
                reason,
            });
        }
        failures
    }

    /// The same meter, its steps sent on a schedule (the open model) rather than by `users` in turn.
    pub fn with_model(mut self, model: LoadModel) -> Meter {
        self.model = Some(model);
        self
    }

    /// The same meter, its floods paced: they take at least as long as the pace lets them.
    pub fn paced(mut self, pace: Pace) -> Meter {
        self.pace = Some(pace);
        self
    }

    /// How long floods of `requests` in all take at least, when they are paced.
    pub fn paced_ms(&self, requests: u64) -> Option<u64> {
        self.pace.map(|pace| match pace {
            Pace::Schedule { ms } => ms,
            Pace::Rate { per_second } => requests.saturating_mul(1000) / per_second.max(1),
        })
    }

    /// The same meter, told that the target runs in this process (its CPU is the generator's too).
    pub fn sharing_process_with_target(mut self, shared: bool) -> Meter {
        self.shares_process_with_target = shared;
        self
    }

    /// The same meter, told how many threads the generator runs on (the cores it can use).
    pub fn on_threads(mut self, threads: usize) -> Meter {
        self.threads = threads.max(1);
        self
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
        let mut clock = self.cpu.lock();
        clock.steps_running += 1;
        match process_cpu_time() {
            Some(cpu) => {
                clock.running.get_or_insert((Instant::now(), cpu));
            }
            None => clock.unknown = true,
        }
        drop(clock);
        u16::try_from(steps.len() - 1).unwrap_or(u16::MAX)
    }

    /// A concurrent step is over; `dropped` of its requests were never sent.
    pub(crate) fn end_step(&self, dropped: u64) {
        self.dropped.fetch_add(dropped, Ordering::Relaxed);
        let mut clock = self.cpu.lock();
        clock.steps_running = clock.steps_running.saturating_sub(1);
        if clock.steps_running > 0 {
            return;
        }
        if let (Some((began, cpu_then)), Some(cpu_now)) = (clock.running.take(), process_cpu_time())
        {
            clock.cpu += cpu_now.saturating_sub(cpu_then);
            clock.wall += began.elapsed();
        }
    }

    /// Records a batch of answers under one lock.
    pub(crate) fn record_all(&self, step: u16, answers: &[DrivenAnswer]) {
        self.answers
            .lock()
            .extend(answers.iter().map(|answer| self.metered(step, answer)));
    }

    fn metered(&self, step: u16, answer: &DrivenAnswer) -> MeteredAnswer {
        MeteredAnswer {
            sent_us: micros(answer.sent.saturating_duration_since(self.started)),
            latency_us: micros(answer.latency),
            lag_us: micros(answer.lag),
            queued: answer.queued,
            status: answer.status(),
            error: answer.error(),
            step,
        }
    }

    pub(crate) fn record(&self, step: u16, answer: &DrivenAnswer) {
        self.record_all(step, std::slice::from_ref(answer));
    }

    /// Every answer so far, in the order they came.
    pub fn answers(&self) -> Vec<MeteredAnswer> {
        self.answers.lock().clone()
    }

    /// The figures of every answer so far, with the checks judged on them.
    pub fn figures(&self) -> LoadFigures {
        let answers = self.answers();
        let clock = self.cpu.lock();
        let circumstances = Circumstances {
            model: self
                .model
                .clone()
                .unwrap_or(LoadModel::Closed { users: self.users }),
            users: self.users,
            dropped: self.dropped.load(Ordering::Relaxed),
            cpu: (!clock.unknown && !clock.wall.is_zero()).then_some((clock.cpu, clock.wall)),
            shares_process_with_target: self.shares_process_with_target,
            threads: self.threads,
        };
        drop(clock);
        let mut figures = figures_of(&answers, &circumstances, &self.checks);
        figures.threshold = self.threshold;
        figures.steps = self.steps.lock().clone();
        let mut charted = answers;
        charted.sort_by_key(|answer| answer.sent_us);
        charted.truncate(CHARTED_ANSWERS);
        figures.answers = charted;
        figures
    }
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}
