//! The load profiles. Each is a run of the engine with a [`Meter`]: the Creditsafe lockout runs the
//! catalogue's own lockout check (CS-LOCKOUT-01 to 05) at the documented threshold, and the Appmixer
//! benchmarks (sign-in, sign-up) run one flood each from `benchmarks.toml`. goose drives every flood
//! ([`GooseDriver`]); the engine prepares the requests and judges the answers exactly as `run` does, so a
//! load run's verdicts, events and reports are a run's, with the figures (rates, latencies, statuses,
//! `--threshold` checks) as data on the target's report.

mod arrival;
mod baseline;
mod compare;
mod driver;
mod mix;
mod threshold;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use arrival::{
    ArrivalDriver, MAX_SCHEDULED, Rate, Schedule, ScheduleError, Stage, Stages, parse_length,
    parse_stages,
};
pub use baseline::{
    Baseline, BaselineError, DEFAULT_LIMITS, LimitsError, Regression, RegressionLimits,
};
pub use compare::compare;
pub use driver::{GooseDriver, report_files};
pub use mix::{DEFAULT_MIX, Mix, MixError};
pub use threshold::{Metric, Threshold, ThresholdError};

use authconform_scenario::model::{Action, Profile, Suite};

use crate::engine::{
    self, EngineEvent, FigureCheck, Meter, Pace, RunPlan, RunReport, Selection, TargetPlan,
};
use crate::suite::SuiteError;
use crate::target::TargetDescription;

/// What a load run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LoadProfile {
    /// Creditsafe `POST /authenticate`: cross the overall threshold under concurrency and verify
    /// CS-LOCKOUT-01 to 05.
    Lockout,
    /// Appmixer `POST /user/auth` by a user it creates: sign-in throughput and latency.
    Signin,
    /// Appmixer `POST /user` with fresh identities: signup throughput and latency.
    Signup,
    /// Appmixer sign-ins, `GET /user` with the session's token and sign-ups with fresh identities, side
    /// by side in the shares of --mix: a day of traffic.
    Mixed,
    /// Appmixer sign-ups from one client past the IP limit, many in flight: exactly the limit's worth
    /// created, every further one refused (AM-SIGNUP-RL-02 under load).
    SignupLimit,
}

impl LoadProfile {
    /// The one scenario the profile runs; the mixed profile runs one per kind of request (`Mix::split`),
    /// each named with [`MIXED_SCENARIO_PREFIX`].
    fn scenario(self) -> Option<&'static str> {
        match self {
            LoadProfile::Lockout => Some(LOCKOUT_SCENARIO),
            LoadProfile::Signin => Some("load-signin"),
            LoadProfile::Signup => Some("load-signup"),
            LoadProfile::SignupLimit => Some("load-signup-ip-limit"),
            LoadProfile::Mixed => None,
        }
    }

    /// The profile that runs the scenario `name`, if a load profile does.
    pub fn running(name: &str) -> Option<LoadProfile> {
        if name.starts_with(MIXED_SCENARIO_PREFIX) {
            return Some(LoadProfile::Mixed);
        }
        <LoadProfile as clap::ValueEnum>::value_variants()
            .iter()
            .copied()
            .find(|profile| profile.scenario() == Some(name))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LoadProfile::Lockout => "lockout",
            LoadProfile::Signin => "signin",
            LoadProfile::Signup => "signup",
            LoadProfile::Mixed => "mixed",
            LoadProfile::SignupLimit => "signup-limit",
        }
    }
}

/// How hard and how long to push.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub profile: LoadProfile,
    /// Requests in flight in each flood (goose users).
    pub users: usize,
    /// The benchmarks' requests in all (default 2,000); the lockout sends what its check needs.
    pub requests: Option<u64>,
    /// At most this many requests per second (goose's throttle); unlimited when `None`.
    pub rate: Option<usize>,
    /// Where goose writes its HTML, JSON and Markdown reports of each flood.
    pub report_dir: Option<PathBuf>,
    pub thresholds: Vec<Threshold>,
    /// The open model: requests started on this schedule, at most `max_in_flight` waiting at once
    /// (instead of `users` each sending when answered).
    pub open: Option<OpenModel>,
    /// Checks against an earlier run's figures (`--baseline` with `--max-regression`).
    pub regressions: Vec<Regression>,
    /// The mixed profile's shares of each kind of request.
    pub mix: Mix,
    /// The target runs in this process (the bundled reference server): its CPU is the generator's too.
    pub target_in_process: bool,
    /// Threads the generator runs on (`--threads`): the cores it can use, at most the machine's.
    pub threads: usize,
    /// Stops the run from outside (Ctrl-C): the floods end, and what was measured is reported.
    pub interrupt: crate::engine::Interrupt,
}

impl LoadOptions {
    /// The profile with the defaults of the command line: 64 users, the profile's own request count, no
    /// throttle, no reports written, no checks, the closed model, the default mix.
    pub fn new(profile: LoadProfile) -> LoadOptions {
        LoadOptions {
            profile,
            users: 64,
            requests: None,
            rate: None,
            report_dir: None,
            thresholds: Vec::new(),
            open: None,
            regressions: Vec::new(),
            mix: Mix::default(),
            target_in_process: false,
            threads: 1,
            interrupt: crate::engine::Interrupt::default(),
        }
    }
}

/// How the open model starts requests.
#[derive(Debug, Clone)]
pub struct OpenModel {
    pub schedule: Schedule,
    pub max_in_flight: usize,
    /// At most this many more wait for a connection; one due beyond them is dropped.
    pub max_queued: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Suite(#[from] SuiteError),
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
    #[error("--requests {0}: a benchmark sends from 1 to {max} requests", max = MAX_SCHEDULED)]
    Requests(u64),
    #[error("the {profile} profile measured nothing: {why}")]
    NothingMeasured { profile: &'static str, why: String },
    #[error(
        "the {profile} profile loads an API the target does not implement: it needs {needs}, and the target implements {has} (--profile, or `profiles` in the target file)"
    )]
    NotImplemented {
        profile: &'static str,
        needs: String,
        has: String,
    },
    #[error("the schedule starts {0} requests; at most {max} fit in one run (lower the rate or the length)", max = MAX_SCHEDULED)]
    TooManyScheduled(u64),
    #[error(transparent)]
    Baseline(#[from] BaselineError),
    #[error(
        "the schedule starts no request (a rate above zero for long enough starts at least one)"
    )]
    NothingScheduled,
    #[error(
        "the signup-limit profile sends {requests} sign-ups, not more than the IP limit ({limit}): it needs at least one to be refused"
    )]
    NotPastTheLimit { requests: u64, limit: u64 },
}

/// The catalogue's lockout check, which the lockout profile runs under load.
pub const LOCKOUT_SCENARIO: &str = "creditsafe-lockout-after-threshold";

/// What the names of the mixed profile's scenarios start with (`benchmarks.toml`, `Mix::split`).
const MIXED_SCENARIO_PREFIX: &str = "load-mixed-";

/// The page the HTML report is written to in `--report-dir`, beside goose's reports.
pub const LOAD_PAGE: &str = "authconform-load.html";

const BENCHMARKS_FILE: &str = "benchmarks.toml";
const BENCHMARKS: &str = include_str!("benchmarks.toml");

/// Runs a load profile against one target, emitting the engine's events as it goes.
pub async fn run(
    target: &TargetDescription,
    options: &LoadOptions,
    strict: bool,
    events: &mut (dyn FnMut(&EngineEvent<'_>) + Send),
) -> Result<RunReport, LoadError> {
    let requests = match &options.open {
        Some(open) => {
            let total = open.schedule.total();
            if total == 0 {
                return Err(LoadError::NothingScheduled);
            }
            if total > MAX_SCHEDULED {
                return Err(LoadError::TooManyScheduled(total));
            }
            Some(total)
        }
        None => options.requests,
    };
    let (suite, scenarios): (Suite, Vec<&str>) = match options.profile.scenario() {
        Some(LOCKOUT_SCENARIO) => (crate::suite::load(&[])?, vec![LOCKOUT_SCENARIO]),
        Some(name) => {
            if options.profile == LoadProfile::SignupLimit
                && let Some(requests) = requests
                && requests <= target.limits.signup_ip
            {
                return Err(LoadError::NotPastTheLimit {
                    requests,
                    limit: target.limits.signup_ip,
                });
            }
            let repeats: Vec<(&str, u64)> = requests.map(|n| (name, n)).into_iter().collect();
            (benchmarks(&repeats)?, vec![name])
        }
        None => {
            let shares = options.mix.split(requests.unwrap_or(DEFAULT_REQUESTS));
            let names = shares.iter().map(|(name, _)| *name).collect();
            (benchmarks(&shares)?, names)
        }
    };
    // A profile whose scenarios apply to none of the target's profiles would send nothing.
    let profiles_needed: Vec<Profile> = suite
        .scenarios
        .iter()
        .filter(|scenario| scenarios.contains(&scenario.name.as_str()))
        .flat_map(|scenario| scenario.profiles.iter().copied())
        .collect();
    if !profiles_needed
        .iter()
        .any(|needed| target.profiles.contains(needed))
    {
        return Err(LoadError::NotImplemented {
            profile: options.profile.as_str(),
            needs: profile_names(&profiles_needed),
            has: profile_names(&target.profiles),
        });
    }
    let checks: Vec<Box<dyn FigureCheck>> = options
        .thresholds
        .iter()
        .map(|t| Box::new(t.clone()) as Box<dyn FigureCheck>)
        .chain(
            options
                .regressions
                .iter()
                .map(|r| Box::new(r.clone()) as Box<dyn FigureCheck>),
        )
        .collect();
    let mut meter = match &options.open {
        Some(open) => Meter::new(open.max_in_flight)
            .with_model(open.schedule.model(open.max_in_flight))
            .driven_by(Arc::new(ArrivalDriver::new(
                &open.schedule,
                open.max_in_flight,
                open.max_queued,
            ))),
        None => Meter::new(options.users).driven_by(Arc::new(GooseDriver {
            rate: options.rate,
            report_dir: options.report_dir.clone(),
            timeout_s: target.timeout_ms.div_ceil(1000),
            // The mixed profile's shares add up to its requests exactly (`Mix::split`).
            side_by_side: (options.profile == LoadProfile::Mixed)
                .then(|| requests.unwrap_or(DEFAULT_REQUESTS)),
        })),
    }
    .checking(checks)
    .sharing_process_with_target(options.target_in_process)
    .on_threads(options.threads);
    // What the projection cannot tell from the requests' costs: a schedule's length, or --rate.
    let pace = match (&options.open, options.rate) {
        (Some(open), _) => Some(Pace::Schedule {
            ms: u64::try_from(open.schedule.length().as_millis()).unwrap_or(u64::MAX),
        }),
        (None, Some(rate)) if rate > 0 => Some(Pace::Rate {
            per_second: rate as u64,
        }),
        _ => None,
    };
    if let Some(pace) = pace {
        meter = meter.paced(pace);
    }
    if options.profile == LoadProfile::Lockout {
        meter = meter.marking_threshold(target.limits.cs_overall_threshold);
    }
    let mut target = target.clone();
    if matches!(options.profile, LoadProfile::Signup | LoadProfile::Mixed) && target.admin.is_some()
    {
        // The admin creates the users, and an admin is never rate limited (AM-SIGNUP-RL-04): the run need
        // not spread the flood's signups over the IP windows.
        target.limits.signup_ip = target.limits.signup_ip.max(u64::MAX / 2);
    }
    let mut plan_target = TargetPlan::new(target);
    plan_target.meter = Some(Arc::new(meter));
    plan_target.interrupt = options.interrupt.clone();
    let names: Vec<String> = scenarios.iter().map(|name| (*name).to_owned()).collect();
    let plan = RunPlan {
        targets: vec![plan_target],
        selection: Selection::new(&names, &[]).expect("a scenario name is a valid glob"),
        strict,
        // The mixed profile's kinds of request run side by side.
        jobs: names.len(),
    };
    let report = engine::run(&suite, &plan, events).await?;
    let measured = report
        .targets
        .iter()
        .filter_map(|target| target.load.as_ref())
        .map(|figures| figures.requests)
        .sum::<u64>();
    if measured == 0 {
        let why: Vec<String> = report
            .targets
            .iter()
            .flat_map(|target| &target.scenarios)
            .filter_map(|scenario| scenario.skip_reason.clone())
            .collect();
        return Err(LoadError::NothingMeasured {
            profile: options.profile.as_str(),
            why: if why.is_empty() {
                "no flood was sent (see the report for the steps that ran)".to_owned()
            } else {
                why.join("; ")
            },
        });
    }
    Ok(report)
}

/// Profiles by name, each once, in order: `appmixer-6 or appmixer-cloud`.
fn profile_names(profiles: &[Profile]) -> String {
    let names: std::collections::BTreeSet<&str> =
        profiles.iter().map(|profile| profile.as_str()).collect();
    names.into_iter().collect::<Vec<_>>().join(" or ")
}

/// A benchmark's requests in all when `--requests` does not say.
pub const DEFAULT_REQUESTS: u64 = 2_000;

/// The benchmark scenarios, the floods of those named in `repeats` sending that many requests (else the
/// file's default, 2,000 for signin and signup).
fn benchmarks(repeats: &[(&str, u64)]) -> Result<Suite, LoadError> {
    let catalogue = crate::suite::builtin_catalogue()?;
    let mut suite = authconform_scenario::assemble_suite(
        catalogue,
        vec![(Path::new(BENCHMARKS_FILE).to_owned(), BENCHMARKS.to_owned())],
    )
    .map_err(|diagnostics| LoadError::Suite(SuiteError::Invalid(diagnostics)))?;
    for (name, requests) in repeats {
        if !(1..=MAX_SCHEDULED).contains(requests) {
            return Err(LoadError::Requests(*requests));
        }
        let repeat = authconform_scenario::parse_template(&requests.to_string())
            .expect("a number is a template");
        for scenario in suite.scenarios.iter_mut().filter(|s| s.name == *name) {
            for step in &mut scenario.steps {
                if let Action::Request(request) = &mut step.action
                    && request.concurrency > 1
                {
                    request.repeat = Some(repeat.clone());
                }
            }
        }
    }
    Ok(suite)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_benchmarks_parse_and_take_the_requests_asked_for() {
        let repeats = [
            ("load-signin", 5),
            ("load-mixed-signin", 6),
            ("load-mixed-me", 7),
            ("load-mixed-signup", 8),
            ("load-signup-ip-limit", 9),
        ];
        let suite = benchmarks(&repeats).expect("the benchmarks are valid scenarios");
        let names: Vec<&str> = suite.scenarios.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "load-signin",
                "load-signup",
                "load-mixed-signin",
                "load-mixed-me",
                "load-mixed-signup",
                "load-signup-ip-limit"
            ]
        );
        for scenario in &suite.scenarios {
            let floods: Vec<String> = scenario
                .steps
                .iter()
                .filter_map(|step| match &step.action {
                    Action::Request(request) if request.concurrency > 1 => {
                        Some(format!("{:?}", request.repeat))
                    }
                    _ => None,
                })
                .collect();
            assert_eq!(floods.len(), 1, "{}", scenario.name);
            let wanted = repeats
                .iter()
                .find(|(name, _)| *name == scenario.name)
                .map_or("2000".to_owned(), |(_, n)| n.to_string());
            assert!(floods[0].contains(&wanted), "{}: {floods:?}", scenario.name);
        }
        assert!(matches!(
            benchmarks(&[("load-signin", 0)]),
            Err(LoadError::Requests(0))
        ));
    }

    #[test]
    fn each_profile_is_told_by_the_scenarios_it_runs() {
        for profile in <LoadProfile as clap::ValueEnum>::value_variants() {
            if let Some(name) = profile.scenario() {
                assert_eq!(LoadProfile::running(name), Some(*profile), "{name}");
            }
        }
        for (name, _) in Mix::default().split(10) {
            assert_eq!(
                LoadProfile::running(name),
                Some(LoadProfile::Mixed),
                "{name}"
            );
        }
        assert_eq!(LoadProfile::running("signup-ip-limit"), None);
    }
}
