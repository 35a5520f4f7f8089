//! One flood of requests driven by goose: `total` requests to one path at `users` concurrency, spread
//! round-robin over the target's base URLs, each answer's status and latency recorded. Expected statuses
//! (429s included) count as goose successes.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use goose::client::GooseClientBuilder;
use goose::config::GooseConfiguration;
use goose::goose::{
    GooseMethod, GooseRequest, GooseResponse, GooseUser, Scenario, Transaction, TransactionResult,
};
use goose::{GooseAttack, GooseError};
use parking_lot::Mutex;
use reqwest::header::{CONTENT_TYPE, HeaderName, HeaderValue, USER_AGENT};
use serde_json::Value;

use super::LoadEvent;
use super::transport::{UserConnection, WireRequest};
use crate::target::{
    ClientError, TargetDescription, endpoint_url, http_client, read_capped, target_headers,
};

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
    transport: Transport,
    /// The target's `--max-body`.
    max_body_bytes: usize,
    next: AtomicU64,
    stats: Mutex<FloodStats>,
}

/// How the flood's requests travel (see [`super::transport`]). Request `n` goes to base URL `n mod len`.
enum Transport {
    /// Plain HTTP: each goose user keeps one lean keep-alive connection per base URL (indexed by the user's
    /// number); each answer is recorded in goose's metrics as a custom request.
    Http1 {
        requests: Vec<WireRequest>,
        connections: Vec<tokio::sync::Mutex<Vec<UserConnection>>>,
    },
    /// HTTPS: every user sends through one shared reqwest client (one pool, root certificates loaded once).
    Reqwest {
        urls: Vec<reqwest::Url>,
        headers: Vec<(HeaderName, HeaderValue)>,
        client: reqwest::Client,
    },
}

impl Transport {
    fn new(
        target: &TargetDescription,
        plan: &FloodPlan,
        users: usize,
    ) -> Result<Transport, FloodError> {
        let urls = target
            .all_base_urls()
            .map(|base| {
                endpoint_url(base.as_str(), &plan.path)
                    .map_err(|error| FloodError::Url(plan.path.clone(), error))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let headers = request_headers(target, plan)?;
        let timeout = Duration::from_millis(target.timeout_ms.max(1));
        if urls.iter().all(|url| url.scheme() == "http") {
            let requests: Vec<WireRequest> = urls
                .iter()
                .map(|url| plain_http_request(url, &headers, timeout, target.max_body_bytes))
                .collect();
            let per_user = || {
                (0..requests.len())
                    .map(|_| UserConnection::default())
                    .collect()
            };
            return Ok(Transport::Http1 {
                connections: (0..users)
                    .map(|_| tokio::sync::Mutex::new(per_user()))
                    .collect(),
                requests,
            });
        }
        let client = http_client(target, users)?;
        Ok(Transport::Reqwest {
            urls,
            headers,
            client,
        })
    }
}

/// A request to a plain-http `url`, with the flood's headers.
fn plain_http_request(
    url: &reqwest::Url,
    headers: &[(HeaderName, HeaderValue)],
    timeout: Duration,
    max_body_bytes: usize,
) -> WireRequest {
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or(80);
    let authority = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let path_and_query = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    WireRequest {
        authority,
        path_and_query,
        headers: headers.to_vec(),
        timeout,
        max_body_bytes,
    }
}

/// The headers every request of the flood carries: the target's own, then the plan's.
fn request_headers(
    target: &TargetDescription,
    plan: &FloodPlan,
) -> Result<Vec<(HeaderName, HeaderValue)>, FloodError> {
    let mut headers = vec![
        (CONTENT_TYPE, HeaderValue::from_static("application/json")),
        (
            USER_AGENT,
            HeaderValue::from_static(concat!("authconform/", env!("CARGO_PKG_VERSION"))),
        ),
    ];
    headers.extend(
        target_headers(target)?
            .iter()
            .map(|(name, value)| (name.clone(), value.clone())),
    );
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
    let shared = Arc::new(Shared {
        transport: Transport::new(target, &plan, users)?,
        max_body_bytes: target.max_body_bytes.max(1),
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
    // Over HTTPS every user sends through the flood's one reqwest client.
    let client_state = shared.clone();
    let use_flood_client = Transaction::new(Arc::new(move |user: &mut GooseUser| {
        if let Transport::Reqwest { client, .. } = &client_state.transport {
            user.client = client.clone();
        }
        Box::pin(async move { Ok(()) })
    }))
    .set_name("client")
    .set_on_start();
    let started = Instant::now();
    shared.stats.lock().started = Some(started);
    // goose would otherwise build a client (root certificates and all) per user before the flood starts.
    let placeholder_client = GooseClientBuilder::new().without_cookies().gzip(false);
    let attack = GooseAttack::initialize_with_config(configuration)?
        .set_client_builder_without_cookies(placeholder_client)?
        .register_scenario(
            Scenario::new("flood")
                .register_transaction(use_flood_client)
                .register_transaction(transaction),
        );
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

/// Which base URL request `n` goes to.
fn url_index(n: u64, urls: usize) -> usize {
    usize::try_from(n % urls.max(1) as u64).unwrap_or(0)
}

async fn one_request(user: &mut GooseUser, shared: &Shared) -> TransactionResult {
    let n = shared.next.fetch_add(1, Ordering::Relaxed);
    if n >= shared.plan.total {
        return Ok(());
    }
    let plan = &shared.plan;
    let body = (plan.body)(n);
    let started = Instant::now();
    let status = match &shared.transport {
        Transport::Http1 {
            requests,
            connections,
        } => {
            let body = Bytes::from(serde_json::to_vec(&body).unwrap_or_default());
            let which = url_index(n, requests.len());
            let mut own = connections[user.weighted_users_index % connections.len()]
                .lock()
                .await;
            let outcome = own[which].post(&requests[which], body).await;
            drop(own);
            let elapsed = started.elapsed();
            let status = outcome.as_ref().ok().map(|answer| answer.status);
            if outcome.as_ref().is_ok_and(|answer| answer.cut) {
                shared.stats.lock().cut_bodies += 1;
            }
            if plan.report_dir.is_some() {
                let success = status.is_some_and(|status| plan.expected.contains(&status));
                // Described only for a failure: successes are the hot path.
                let error = (!success).then(|| match &outcome {
                    Ok(answer) => format!("unexpected status {}", answer.status),
                    Err(error) => error.to_string(),
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
            status
        }
        Transport::Reqwest { urls, headers, .. } => {
            let url = urls[url_index(n, urls.len())].clone();
            let mut builder = user.client.post(url).json(&body);
            for (name, value) in headers {
                builder = builder.header(name, value);
            }
            let request = GooseRequest::builder()
                .method(GooseMethod::Post)
                .path(plan.path.as_str())
                .set_request_builder(builder)
                .expect_status_code(200)
                .build();
            let GooseResponse {
                request: mut metric,
                response,
            } = user.request(request).await?;
            let status = match response {
                // Reading the body to its end hands the keep-alive connection back to the pool.
                Ok(mut response) => {
                    let status = response.status().as_u16();
                    match read_capped(&mut response, shared.max_body_bytes, &mut |_| {}).await {
                        Ok(cut) => {
                            if cut {
                                shared.stats.lock().cut_bodies += 1;
                            }
                            Some(status)
                        }
                        Err(_) => None,
                    }
                }
                Err(_) => None,
            };
            if let Some(status) = status
                && plan.report_dir.is_some()
                && plan.expected.contains(&status)
            {
                // Goose records an unexpected status as an error and keeps it even after set_success.
                metric.error.clear();
                user.set_success(&mut metric)?;
            }
            status
        }
    };
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
