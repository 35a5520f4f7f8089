//! The load profiles: goose drives many concurrent requests at a target — the Creditsafe 10,000-request
//! lockout (verified requirement by requirement), and Appmixer sign-in and signup benchmarks — and the
//! results come back as a [`LoadReport`] with rates, latency percentiles and threshold verdicts. Like the
//! engine, a load run never prints: it emits [`LoadEvent`]s, and `report/` writes the outcome.

mod events;
mod flood;
mod results;
mod threshold;

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::json;

pub use events::LoadEvent;
pub use flood::{FloodError, FloodPlan, FloodStats, SAMPLE_LIMIT, Sample, run as run_flood};
pub use results::{LOAD_PAGE, LoadReport, LoadVerdict};
pub use threshold::{Threshold, ThresholdError, ThresholdResult};

use authconform_scenario::model::Suite;

use crate::engine::{
    self, EngineEvent, FigureCheck, Meter, RunPlan, RunReport, Selection, TargetPlan, Verdict,
};
use crate::target::{
    ClientError, ClockError, RunIds, SignInError, TargetClient, TargetDescription, sign_in,
};

/// What a load run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LoadProfile {
    /// Creditsafe `POST /authenticate`: cross the overall threshold under concurrency and verify
    /// CS-LOCKOUT-01 to 05.
    Lockout,
    /// Appmixer `POST /user/auth` with the admin account: sign-in throughput and latency.
    Signin,
    /// Appmixer `POST /user` with fresh identities: signup throughput and latency.
    Signup,
}

impl LoadProfile {
    pub fn as_str(self) -> &'static str {
        match self {
            LoadProfile::Lockout => "lockout",
            LoadProfile::Signin => "signin",
            LoadProfile::Signup => "signup",
        }
    }
}

/// How hard and how long to push.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub profile: LoadProfile,
    /// Concurrent goose users (requests in flight).
    pub users: usize,
    /// Requests to send: for `lockout`, how many beyond the threshold (default 200); for the benchmarks,
    /// the total (default 2,000).
    pub requests: Option<u64>,
    /// At most this many requests per second (goose's throttle); unlimited when `None`.
    pub rate: Option<usize>,
    /// Where goose writes its HTML, JSON and Markdown reports.
    pub report_dir: Option<PathBuf>,
    pub thresholds: Vec<Threshold>,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Flood(#[from] FloodError),
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Clock(#[from] ClockError),
    #[error("{request}: {detail}")]
    NoAnswer { request: String, detail: String },
    #[error("the admin account could not sign in: {0}")]
    SignIn(#[from] SignInError),
    #[error("the {profile} profile needs {what} in the target description")]
    Missing {
        profile: &'static str,
        what: &'static str,
    },
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
    #[error("the lockout profile runs through the engine: use load::run_lockout")]
    LockoutRunsInTheEngine,
}

/// The catalogue's lockout check, which the lockout profile runs under load.
pub const LOCKOUT_SCENARIO: &str = "creditsafe-lockout-after-threshold";

/// The lockout profile: the catalogue's lockout check ([`LOCKOUT_SCENARIO`], CS-LOCKOUT-01 to 05) run by
/// the engine as `run` runs it, its concurrent steps at `options.users` and timed. The verdicts are the
/// scenario's, judged by the same code as `run`'s; the figures and `--threshold`s are data on the report
/// (`TargetReport::load`). Emits the engine's events, so the run's reporters write it.
pub async fn run_lockout(
    suite: &Suite,
    target: &TargetDescription,
    options: &LoadOptions,
    strict: bool,
    events: &mut dyn FnMut(&EngineEvent<'_>),
) -> Result<RunReport, LoadError> {
    let checks: Vec<Box<dyn FigureCheck>> = options
        .thresholds
        .iter()
        .map(|t| Box::new(t.clone()) as Box<dyn FigureCheck>)
        .collect();
    let meter = Arc::new(
        Meter::new(options.users)
            .checking(checks)
            .marking_threshold(target.limits.cs_overall_threshold),
    );
    let mut plan_target = TargetPlan::new(target.clone());
    plan_target.meter = Some(meter);
    let plan = RunPlan {
        targets: vec![plan_target],
        selection: Selection::new(&[LOCKOUT_SCENARIO.to_owned()], &[])
            .expect("a scenario name is a valid glob"),
        strict,
        jobs: 1,
    };
    Ok(engine::run(suite, &plan, events).await?)
}

/// Runs one benchmark profile (sign-in, signup) against a target, emitting events as it goes.
pub async fn run(
    target: &TargetDescription,
    options: &LoadOptions,
    events: &mut dyn FnMut(&LoadEvent<'_>),
) -> Result<LoadReport, LoadError> {
    let mut report = match options.profile {
        LoadProfile::Lockout => return Err(LoadError::LockoutRunsInTheEngine),
        LoadProfile::Signin => benchmark_signin(target, options, events).await?,
        LoadProfile::Signup => benchmark_signup(target, options, events).await?,
    };
    for threshold in &options.thresholds {
        report.thresholds.push(threshold.evaluate(&report.stats));
    }
    events(&LoadEvent::Finished(&report));
    Ok(report)
}

async fn benchmark_signin(
    target: &TargetDescription,
    options: &LoadOptions,
    events: &mut dyn FnMut(&LoadEvent<'_>),
) -> Result<LoadReport, LoadError> {
    let Some(admin) = target.admin.clone() else {
        return Err(LoadError::Missing {
            profile: "signin",
            what: "an admin account ([accounts.admin] or --admin)",
        });
    };
    let body = json!({ "username": admin.username, "password": admin.password });
    let plan = FloodPlan {
        path: "/user/auth".into(),
        total: options.requests.unwrap_or(2_000),
        users: options.users,
        rate: options.rate,
        report_dir: options.report_dir.clone(),
        forwarded_for: None,
        authorization: None,
        expected: vec![200],
        body: Arc::new(move |_| body.clone()),
    };
    let stats = flood::run(target, plan, events).await?;
    Ok(benchmark_report(target, options, stats, &[200]))
}

async fn benchmark_signup(
    target: &TargetDescription,
    options: &LoadOptions,
    events: &mut dyn FnMut(&LoadEvent<'_>),
) -> Result<LoadReport, LoadError> {
    // Admin signups bypass the rate limits; without an admin, each request comes from its own address
    // when the target trusts X-Forwarded-For.
    let authorization = match &target.admin {
        Some(admin) => Some(format!(
            "Bearer {}",
            sign_in(&TargetClient::new(target)?, admin).await?
        )),
        None => None,
    };
    let run_id = RunIds::new().run_id;
    let plan = FloodPlan {
        path: "/user".into(),
        total: options.requests.unwrap_or(2_000),
        users: options.users,
        rate: options.rate,
        report_dir: options.report_dir.clone(),
        forwarded_for: None,
        authorization,
        expected: vec![200],
        body: Arc::new(move |n| {
            let name = format!("load.{run_id}.{n}@example.com");
            json!({ "username": name, "email": name, "password": format!("pw-{run_id}-{n}") })
        }),
    };
    let stats = flood::run(target, plan, events).await?;
    Ok(benchmark_report(target, options, stats, &[200]))
}

fn benchmark_report(
    target: &TargetDescription,
    options: &LoadOptions,
    stats: FloodStats,
    ok: &[u16],
) -> LoadReport {
    let unexpected: u64 = stats
        .statuses
        .iter()
        .filter(|(status, _)| !ok.contains(status))
        .map(|(_, count)| count)
        .sum::<u64>()
        + stats.transport_errors;
    let verdict = LoadVerdict {
        id: format!("{}-answers", options.profile.as_str()),
        verdict: if unexpected == 0 {
            Verdict::Pass
        } else {
            Verdict::Fail
        },
        expected: format!(
            "every answer {}",
            ok.iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(" or ")
        ),
        actual: format!("{unexpected} other answers of {}", stats.sent),
        note: None,
    };
    LoadReport::new(target, options, stats, vec![verdict])
}
