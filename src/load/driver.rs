//! goose drives a load run's floods. Each concurrent step of a load run becomes one goose attack: its users
//! take the step's requests as the engine prepares them, send each on a lane of their own (one keep-alive
//! connection per user) and hand every answer back to the engine, which judges it as `run` does. goose
//! schedules the users and the `--rate` throttle, and with `--report-dir` writes its own HTML, JSON and
//! Markdown reports of each flood.

use std::path::PathBuf;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use goose::client::GooseClientBuilder;
use goose::config::GooseConfiguration;
use goose::goose::{GooseUser, Scenario, Transaction, TransactionResult};
use goose::{GooseAttack, GooseError};
use tokio::sync::mpsc::UnboundedSender;

use crate::engine::{DrivenAnswer, DrivenStep, Driver, RequestQueue};
use crate::target::{Lane, TargetClient};

/// The goose reports of flood `n` (from 1) of a run: `goose-report-N.html`, `.json` and `.md`.
pub fn report_files(dir: &std::path::Path, flood: u16) -> Vec<PathBuf> {
    ["html", "json", "md"]
        .iter()
        .map(|ext| dir.join(format!("goose-report-{flood}.{ext}")))
        .collect()
}

/// How a load run's floods are sent.
#[derive(Debug, Clone, Default)]
pub struct GooseDriver {
    /// At most this many requests per second (goose's throttle); as fast as the target answers when `None`.
    pub rate: Option<usize>,
    /// Where goose writes its reports of each flood.
    pub report_dir: Option<PathBuf>,
    /// The target's timeout, in whole seconds (goose's own bound on a request).
    pub timeout_s: u64,
    /// The floods run side by side and send this many requests in all (the mixed profile): each is
    /// throttled to its share of `rate`, in proportion to its requests, so together they keep to `rate`
    /// and end together.
    pub side_by_side: Option<u64>,
}

impl Driver for GooseDriver {
    fn drive(&self, step: DrivenStep) -> BoxFuture<'static, Result<(), String>> {
        let driver = self.clone();
        Box::pin(async move { driver.attack(step).await.map_err(|error| describe(&error)) })
    }
}

fn describe(error: &GooseError) -> String {
    match error {
        GooseError::InvalidOption {
            option,
            value,
            detail,
        } => format!("goose: {option} = {value}: {detail}"),
        other => format!("goose: {other}"),
    }
}

/// What every goose user of one flood shares.
struct Flood {
    /// One lane per user, by the user's number: made on the user's first send (and again after a send
    /// cancelled midway took it), taken out while the user sends on it and put back after (a user sends one
    /// request at a time, so the lock is never waited for and never held across a send).
    lanes: Vec<parking_lot::Mutex<Option<Lane>>>,
    /// Where the lanes come from.
    client: TargetClient,
    requests: RequestQueue,
    answers: UnboundedSender<DrivenAnswer>,
    /// Whether goose keeps per-request metrics (only for its reports: they cost more than a fast target's
    /// answers).
    metrics: bool,
}

impl GooseDriver {
    /// The rate one flood of `total` requests is throttled to: all of `rate`, or its share of it when the
    /// floods run side by side (at least one request per second).
    fn flood_rate(&self, rate: usize, total: u64) -> usize {
        match self.side_by_side {
            Some(all) if all > total => {
                let share = (rate as f64 * total as f64 / all as f64).round();
                (share as usize).max(1)
            }
            _ => rate,
        }
    }

    async fn attack(&self, step: DrivenStep) -> Result<(), GooseError> {
        if step.total == 0 {
            return Ok(());
        }
        let users = step
            .users
            .clamp(1, usize::try_from(step.total).unwrap_or(usize::MAX));
        // Every user takes requests until none are left; the last ones find the queue closed and stop.
        let iterations = usize::try_from(step.total.div_ceil(users as u64)).unwrap_or(usize::MAX);
        let mut configuration = GooseConfiguration::default();
        // goose wants a host; the requests carry their own URLs.
        configuration.host = Some("http://127.0.0.1".to_owned());
        configuration.users = Some(users);
        // Launch every user at once: the flood, not the ramp, is what is measured.
        configuration.increase_rate = Some((users * 1000).to_string());
        configuration.iterations = Some(iterations);
        configuration.quiet = 1;
        configuration.no_print_metrics = true;
        configuration.no_error_summary = true;
        configuration.no_telnet = true;
        configuration.throttle_requests = self.rate.map(|rate| self.flood_rate(rate, step.total));
        configuration.timeout = Some(self.timeout_s.max(1).to_string());
        configuration.no_metrics = self.report_dir.is_none();
        if let Some(dir) = &self.report_dir {
            let _ = std::fs::create_dir_all(dir);
            configuration.report_file = report_files(dir, step.number + 1)
                .iter()
                .map(|path| path.display().to_string())
                .collect();
        }
        let flood = Arc::new(Flood {
            lanes: (0..users).map(|_| parking_lot::Mutex::new(None)).collect(),
            client: step.client.clone(),
            requests: step.requests.clone(),
            answers: step.answers.clone(),
            metrics: self.report_dir.is_some(),
        });
        let transaction = Transaction::new(Arc::new(move |user: &mut GooseUser| {
            let flood = flood.clone();
            Box::pin(async move { one_request(user, &flood).await })
        }))
        .set_name(&step.name);
        // goose would otherwise build a client (root certificates and all) per user; ours are the lanes.
        let placeholder_client = GooseClientBuilder::new().without_cookies().gzip(false);
        let _quiet_stdout = QuietStdout::hold();
        GooseAttack::initialize_with_config(configuration)?
            .set_client_builder_without_cookies(placeholder_client)?
            .register_scenario(Scenario::new("flood").register_transaction(transaction))
            .execute()
            .await?;
        Ok(())
    }
}

/// goose prints "N users launched." on stdout as each attack starts: chatter about its own machinery, and
/// stdout is the report's. Nothing else writes stdout while an attack runs (the reporters write once every
/// driver has wound down), so meanwhile stdout goes to the null device. Attacks overlap (the mixed
/// profile's floods side by side, or one winding down while the next starts), so they share one gag, lifted
/// when the last of them ends.
static QUIET_STDOUT: parking_lot::Mutex<(usize, Option<gag::Gag>)> =
    parking_lot::Mutex::new((0, None));

/// One attack's hold on the shared redirect of stdout.
struct QuietStdout;

impl QuietStdout {
    fn hold() -> QuietStdout {
        let mut quiet = QUIET_STDOUT.lock();
        if quiet.0 == 0 {
            quiet.1 = gag::Gag::stdout().ok();
        }
        quiet.0 += 1;
        QuietStdout
    }
}

impl Drop for QuietStdout {
    fn drop(&mut self) {
        let mut quiet = QUIET_STDOUT.lock();
        quiet.0 = quiet.0.saturating_sub(1);
        if quiet.0 == 0 {
            quiet.1 = None;
        }
    }
}

async fn one_request(user: &mut GooseUser, flood: &Flood) -> TransactionResult {
    // goose's throttle (`--rate`) gates only the requests goose sends itself; these go on lanes, so each
    // takes its token from the same bucket first. The bucket closes when the attack ends.
    if user.is_throttled
        && let Some(throttle) = &user.throttle
        && throttle.send_async(true).await.is_err()
    {
        return Ok(());
    }
    let Some(queued) = flood.requests.next().await else {
        return Ok(());
    };
    // Only goose's own reports name the request.
    let named = flood
        .metrics
        .then(|| (queued.method().to_owned(), queued.path().to_owned()));
    let slot = &flood.lanes[user.weighted_users_index % flood.lanes.len()];
    let mut lane = slot.lock().take().unwrap_or_else(|| flood.client.lane());
    let answer = queued.send_on(&mut lane).await;
    *slot.lock() = Some(lane);
    if let Some((method, path)) = named {
        // The engine judges the answers; for goose, an answer is a success and no answer a failure.
        let failure = answer.failure();
        user.record_custom_request_duration(
            &method,
            &path,
            answer.latency,
            failure.is_none(),
            answer.status(),
            failure.as_deref(),
        )
        .await?;
    }
    // The engine stops listening only when the step is abandoned.
    let _ = flood.answers.send(answer);
    Ok(())
}
