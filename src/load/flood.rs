//! One flood of requests driven by goose: `total` requests to one path at `users` concurrency, spread
//! round-robin over the target's base URLs, each answer's status and latency recorded. Expected statuses
//! (429s included) count as goose successes.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use goose::client::GooseClientBuilder;
use goose::config::GooseConfiguration;
use goose::goose::{GooseUser, Scenario, Transaction, TransactionResult};
use goose::{GooseAttack, GooseError};
use parking_lot::Mutex;
use reqwest::Method;
use reqwest::header::{HeaderName, HeaderValue, USER_AGENT};
use serde_json::Value;

use super::LoadEvent;
use crate::target::{ClientError, Lane, PreparedRequest, TargetClient, TargetDescription};

/// Builds the JSON body of request number `n`.
pub type BodyFn = Arc<dyn Fn(u64) -> Value + Send + Sync>;

/// What to send.
#[derive(Clone)]
pub struct FloodPlan {
    pub path: String,
    pub total: u64,
    pub users: usize,
    pub rate: Option<usize>,
    pub report_dir: Option<PathBuf>,
    /// Sent as `X-Forwarded-For` with every request.
    pub forwarded_for: Option<String>,
    pub authorization: Option<String>,
    /// Statuses that count as goose successes.
    pub expected: Vec<u16>,
    pub body: BodyFn,
}

/// What came back.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FloodStats {
    pub sent: u64,
    pub statuses: BTreeMap<u16, u64>,
    pub transport_errors: u64,
    /// Answers whose body went on past `--max-body` (read up to it; the rest left unread).
    pub cut_bodies: u64,
    pub duration_ms: u64,
    #[serde(skip)]
    pub latencies_us: Vec<u64>,
    /// When the first answer with one of these statuses arrived (lockout checks use it).
    #[serde(skip)]
    pub first_refusal: Option<Instant>,
    /// When the flood started.
    #[serde(skip)]
    pub started: Option<Instant>,
    #[serde(skip)]
    pub refusal_statuses: Vec<u16>,
    /// Every answer in the order it arrived (up to [`SAMPLE_LIMIT`]), for the load report's charts.
    #[serde(skip)]
    pub samples: Vec<Sample>,
}

/// How many answers a flood keeps one by one for the charts (its counts and latencies keep every answer).
pub const SAMPLE_LIMIT: usize = 200_000;

/// One answer of the flood.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// When the request was sent, in microseconds since the flood started.
    pub sent_us: u64,
    pub latency_us: u64,
    /// `None`: no answer (a transport error).
    pub status: Option<u16>,
}

impl FloodStats {
    /// The stats of answers the engine timed (a load run's concurrent steps).
    pub fn from_answers(answers: &[crate::engine::MeteredAnswer]) -> FloodStats {
        let mut stats = FloodStats::default();
        for answer in answers {
            stats.sent += 1;
            stats.latencies_us.push(answer.latency_us);
            match answer.status {
                Some(status) => *stats.statuses.entry(status).or_insert(0) += 1,
                None => stats.transport_errors += 1,
            }
        }
        let first = answers.iter().map(|a| a.sent_us).min().unwrap_or(0);
        let last = answers
            .iter()
            .map(|a| a.sent_us + a.latency_us)
            .max()
            .unwrap_or(0);
        stats.duration_ms = last.saturating_sub(first).div_ceil(1000).max(1);
        stats
    }

    pub fn count(&self, statuses: &[u16]) -> u64 {
        statuses
            .iter()
            .map(|s| self.statuses.get(s).copied().unwrap_or(0))
            .sum()
    }

    pub fn rps(&self) -> f64 {
        if self.duration_ms == 0 {
            return 0.0;
        }
        self.sent as f64 * 1000.0 / self.duration_ms as f64
    }

    /// The latency at percentile `p` (0–100), in milliseconds.
    pub fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let mut sorted = self.latencies_us.clone();
        sorted.sort_unstable();
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
    }

    /// Transport errors and 5xx answers, as a percentage.
    pub fn error_percent(&self) -> f64 {
        if self.sent == 0 {
            return 0.0;
        }
        let server_errors: u64 = self.statuses.range(500..600).map(|(_, n)| n).sum();
        (server_errors + self.transport_errors) as f64 * 100.0 / self.sent as f64
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FloodError {
    #[error("goose: {0}")]
    Goose(String),
    #[error("the flood needs at least one user and one request")]
    Empty,
    #[error("cannot join the path {0:?} to the target's base URL: {1}")]
    Url(String, String),
    #[error("cannot build the HTTP client")]
    Client(#[from] reqwest::Error),
    #[error("the header {0:?} is not a valid HTTP header")]
    Header(String),
    #[error(transparent)]
    TargetHeader(#[from] ClientError),
}

impl From<GooseError> for FloodError {
    fn from(error: GooseError) -> FloodError {
        match error {
            GooseError::InvalidOption {
                option,
                value,
                detail,
            } => FloodError::Goose(format!("{option} = {value}: {detail}")),
            other => FloodError::Goose(other.to_string()),
        }
    }
}

struct Shared {
    plan: FloodPlan,
    /// One lane (its own keep-alive connection to each base URL) per goose user, by the user's number.
    lanes: Vec<tokio::sync::Mutex<Lane>>,
    /// The headers the plan adds to the target's own.
    headers: Vec<(HeaderName, HeaderValue)>,
    next: AtomicU64,
    stats: Mutex<FloodStats>,
}

/// The headers every request of the flood carries beside the target's own.
fn plan_headers(plan: &FloodPlan) -> Result<Vec<(HeaderName, HeaderValue)>, FloodError> {
    let mut headers = vec![(
        USER_AGENT,
        HeaderValue::from_static(concat!("authconform/", env!("CARGO_PKG_VERSION"))),
    )];
    let plan_headers = [
        ("x-forwarded-for", &plan.forwarded_for),
        ("authorization", &plan.authorization),
    ];
    for (name, value) in plan_headers {
        if let Some(value) = value {
            let value =
                HeaderValue::from_str(value).map_err(|_| FloodError::Header(name.to_owned()))?;
            headers.push((HeaderName::from_static(name), value));
        }
    }
    Ok(headers)
}

/// How often the flood reports how many requests it has sent.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

/// Sends the flood and waits for every answer, reporting progress as it goes.
pub async fn run(
    target: &TargetDescription,
    plan: FloodPlan,
    events: &mut dyn FnMut(&LoadEvent<'_>),
) -> Result<FloodStats, FloodError> {
    if plan.users == 0 || plan.total == 0 {
        return Err(FloodError::Empty);
    }
    let users = plan
        .users
        .min(usize::try_from(plan.total).unwrap_or(usize::MAX));
    let iterations = usize::try_from(plan.total.div_ceil(users as u64)).unwrap_or(usize::MAX);
    let refusal_statuses = vec![429, 403, 503];
    let client = TargetClient::new(target)?;
    client
        .path(&plan.path)
        .map_err(|error| FloodError::Url(plan.path.clone(), error))?;
    let shared = Arc::new(Shared {
        lanes: (0..users)
            .map(|_| tokio::sync::Mutex::new(client.lane()))
            .collect(),
        headers: plan_headers(&plan)?,
        next: AtomicU64::new(0),
        stats: Mutex::new(FloodStats {
            refusal_statuses: refusal_statuses.clone(),
            latencies_us: Vec::with_capacity(usize::try_from(plan.total).unwrap_or(0).min(1 << 20)),
            ..FloodStats::default()
        }),
        plan: plan.clone(),
    });

    let mut configuration = GooseConfiguration::default();
    configuration.host = Some(target.base_url.as_str().trim_end_matches('/').to_owned());
    configuration.users = Some(users);
    // Launch every user at once: the flood, not the ramp, is what is measured.
    configuration.increase_rate = Some((users * 1000).to_string());
    configuration.iterations = Some(iterations);
    configuration.quiet = 1;
    configuration.no_print_metrics = true;
    configuration.no_error_summary = true;
    configuration.no_telnet = true;
    configuration.no_autostart = false;
    configuration.throttle_requests = plan.rate;
    configuration.timeout = Some(format!("{}", target.timeout_ms.div_ceil(1000).max(1)));
    configuration.accept_invalid_certs = target.insecure;
    // goose's own per-request metrics cost more than the requests on a fast target: they are gathered
    // only when its reports are asked for (our own counts and latencies are always kept).
    if plan.report_dir.is_none() {
        configuration.no_metrics = true;
    }
    if let Some(dir) = &plan.report_dir {
        let _ = std::fs::create_dir_all(dir);
        configuration.report_file = ["html", "json", "md"]
            .iter()
            .map(|ext| {
                dir.join(format!("goose-report.{ext}"))
                    .display()
                    .to_string()
            })
            .collect();
    }

    let transaction_state = shared.clone();
    let transaction = Transaction::new(Arc::new(move |user: &mut GooseUser| {
        let shared = transaction_state.clone();
        Box::pin(async move { one_request(user, &shared).await })
    }))
    .set_name("request");
    let started = Instant::now();
    shared.stats.lock().started = Some(started);
    // goose would otherwise build a client (root certificates and all) per user before the flood starts.
    let placeholder_client = GooseClientBuilder::new().without_cookies().gzip(false);
    let attack = GooseAttack::initialize_with_config(configuration)?
        .set_client_builder_without_cookies(placeholder_client)?
        .register_scenario(Scenario::new("flood").register_transaction(transaction));
    events(&LoadEvent::FloodStarted { total: plan.total });
    let execute = attack.execute();
    tokio::pin!(execute);
    let mut ticks = tokio::time::interval(PROGRESS_INTERVAL);
    let result = loop {
        tokio::select! {
            result = &mut execute => break result,
            _ = ticks.tick() => events(&LoadEvent::FloodProgress {
                sent: shared.next.load(Ordering::Relaxed).min(plan.total),
                total: plan.total,
            }),
        }
    };
    let elapsed = started.elapsed();
    events(&LoadEvent::FloodFinished);
    result?;
    let mut stats = std::mem::take(&mut *shared.stats.lock());
    stats.duration_ms = u64::try_from(elapsed.as_millis())
        .unwrap_or(u64::MAX)
        .max(1);
    Ok(stats)
}

async fn one_request(user: &mut GooseUser, shared: &Shared) -> TransactionResult {
    let n = shared.next.fetch_add(1, Ordering::Relaxed);
    if n >= shared.plan.total {
        return Ok(());
    }
    let plan = &shared.plan;
    let mut request = PreparedRequest::json(Method::POST, &plan.path, Some(&(plan.body)(n)));
    request.headers.extend(shared.headers.iter().cloned());
    let started = Instant::now();
    let mut lane = shared.lanes[user.weighted_users_index % shared.lanes.len()]
        .lock()
        .await;
    let outcome = lane.send(&request).await;
    drop(lane);
    let elapsed = started.elapsed();
    let status = outcome.as_ref().ok().map(|answer| answer.status);
    if outcome.as_ref().is_ok_and(|answer| answer.truncated) {
        shared.stats.lock().cut_bodies += 1;
    }
    if plan.report_dir.is_some() {
        let success = status.is_some_and(|status| plan.expected.contains(&status));
        // Described only for a failure: successes are the hot path.
        let error = (!success).then(|| match &outcome {
            Ok(answer) => format!("unexpected status {}", answer.status),
            Err(no) => format!("{}: {}", no.summary, no.detail),
        });
        user.record_custom_request_duration(
            "POST",
            &plan.path,
            elapsed,
            success,
            status,
            error.as_deref(),
        )
        .await?;
    }
    let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    let mut stats = shared.stats.lock();
    stats.sent += 1;
    stats.latencies_us.push(latency_us);
    if stats.samples.len() < SAMPLE_LIMIT
        && let Some(flood_started) = stats.started
    {
        let sent_us = started.saturating_duration_since(flood_started).as_micros();
        stats.samples.push(Sample {
            sent_us: u64::try_from(sent_us).unwrap_or(u64::MAX),
            latency_us,
            status,
        });
    }
    match status {
        Some(status) => {
            *stats.statuses.entry(status).or_insert(0) += 1;
            if stats.refusal_statuses.contains(&status) && stats.first_refusal.is_none() {
                stats.first_refusal = Some(Instant::now());
            }
        }
        None => stats.transport_errors += 1,
    }
    Ok(())
}
