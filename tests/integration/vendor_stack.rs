//! A server we did not write: the target in `tests/targets/hapi`, built the way a vendor team builds one from
//! the documents (Node with hapi, Boom and joi, limits from rate-limiter-flexible, tokens from jsonwebtoken,
//! no test clock). It runs with short windows and is checked in real mode under `--strict`, not trusting
//! `X-Forwarded-For`: the correct server passes every applicable requirement, and each deliberately broken
//! variant (`HAPI_TARGET_FAULT`) fails on exactly the requirement it breaks and on nothing else.
//!
//! Needs node and the target's packages (`npm ci` in `tests/targets/hapi`, as `.ci/run` does); without them
//! the test is skipped with a message, unless `AUTHCONFORM_REQUIRE_NPM=1`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use authconform::engine::{self, RunPlan, RunReport, Selection, TargetPlan, Verdict};
use authconform::suite;
use authconform::target::{Account, ClockMode, Limits, TargetDescription};
use authconform_scenario::model::{Profile, Suite};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};

/// The limits the server is started with and the runner is told: short windows, so a real-mode run takes
/// about a minute; limits away from the documented defaults, so a server ignoring its configuration is caught.
fn limits() -> Limits {
    Limits {
        signup_email: 3,
        signup_email_window_ms: 2_000,
        signup_ip: 10,
        signup_ip_window_ms: 2_000,
        cs_identical_invalid: 5,
        cs_invalid_window_ms: 2_000,
        cs_overall_threshold: 200,
        cs_overall_window_ms: 4_000,
        ..Limits::default()
    }
}

const ADMIN: (&str, &str) = ("admin@example.com", "hapi-admin-password");
const CREDITSAFE: (&str, &str) = ("connect-user", "hapi-connect-password");
const JWT_SECRET: &str = "hapi-target-signing-secret";
const START_TIMEOUT: Duration = Duration::from_secs(60);
const RUN_TIMEOUT: Duration = Duration::from_secs(240);

/// One server configuration and what the suite must conclude about it.
struct Variant {
    name: &'static str,
    /// `HAPI_TARGET_FAULT`.
    fault: Option<&'static str>,
    /// `API_USER_CREATE_SCOPE=admin`; only the checks needing it run.
    create_scope: bool,
    /// The requirement the fault breaks: it must fail, and nothing else may.
    breaks: Option<&'static str>,
}

const VARIANTS: [Variant; 4] = [
    Variant {
        name: "correct",
        fault: None,
        create_scope: false,
        breaks: None,
    },
    Variant {
        name: "correct, API_USER_CREATE_SCOPE=admin",
        fault: None,
        create_scope: true,
        breaks: None,
    },
    Variant {
        name: "email-as-sent",
        fault: Some("email-as-sent"),
        create_scope: false,
        breaks: Some("AM-SIGNUP-RL-09"),
    },
    Variant {
        name: "lockout-trusts-forwarded-for",
        fault: Some("lockout-trusts-forwarded-for"),
        create_scope: false,
        breaks: Some("CS-LOCKOUT-06"),
    },
];

/// What open signup cannot judge: 5.1's sign-in rule and the create-user scope (its own variant checks it).
const NOT_APPLICABLE: [&str; 2] = ["AM-SIGNIN-04", "AM-SIGNUP-06"];

fn hapi_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/targets/hapi")
}

/// Why the target cannot be started here, if it cannot.
fn missing_prerequisite() -> Option<String> {
    if !crate::support::installed("node") {
        return Some("node is needed to run the hapi target (apt-get install nodejs npm)".into());
    }
    let installed = hapi_dir().join("node_modules/@hapi/hapi/package.json");
    (!installed.exists()).then(|| {
        format!(
            "the hapi target's packages are not installed (run `npm ci` in {})",
            hapi_dir().display()
        )
    })
}

/// The hapi server, one process on a port of its own choosing; killed when dropped.
struct HapiTarget {
    base_url: String,
    _child: Child,
    /// Held open so the server never writes to a closed pipe.
    _stdout: BufReader<ChildStdout>,
}

impl HapiTarget {
    async fn start(variant: &Variant) -> HapiTarget {
        let limits = limits();
        let limit_settings = [
            ("USER_SIGNUP_RATE_LIMIT_EMAIL", limits.signup_email),
            (
                "USER_SIGNUP_RATE_LIMIT_EMAIL_WINDOW_MS",
                limits.signup_email_window_ms,
            ),
            ("USER_SIGNUP_RATE_LIMIT_IP", limits.signup_ip),
            (
                "USER_SIGNUP_RATE_LIMIT_IP_WINDOW_MS",
                limits.signup_ip_window_ms,
            ),
            ("CREDITSAFE_INVALID_LIMIT", limits.cs_identical_invalid),
            ("CREDITSAFE_INVALID_WINDOW_MS", limits.cs_invalid_window_ms),
            ("CREDITSAFE_LOCKOUT_THRESHOLD", limits.cs_overall_threshold),
            ("CREDITSAFE_LOCKOUT_WINDOW_MS", limits.cs_overall_window_ms),
        ];
        let mut command = Command::new("node");
        command
            .arg("server.js")
            .current_dir(hapi_dir())
            .env("HOST", "127.0.0.1")
            .env("PORT", "0")
            .envs(limit_settings.map(|(name, value)| (name, value.to_string())))
            .env("ADMIN_USERNAME", ADMIN.0)
            .env("ADMIN_PASSWORD", ADMIN.1)
            .env("CREDITSAFE_USERNAME", CREDITSAFE.0)
            .env("CREDITSAFE_PASSWORD", CREDITSAFE.1)
            .env("APPMIXER_JWT_SECRET", JWT_SECRET)
            // Cheap hashes: the signup floods must fit their short windows on a busy machine.
            .env("PASSWORD_SCRYPT_COST", "1024")
            .env("HAPI_TARGET_FAULT", variant.fault.unwrap_or(""))
            .env(
                "API_USER_CREATE_SCOPE",
                if variant.create_scope { "admin" } else { "" },
            )
            .env_remove("TRUST_FORWARDED_FOR")
            .env_remove("LOG_REQUESTS")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let mut child = command.spawn().expect("node starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut line = String::new();
        tokio::time::timeout(START_TIMEOUT, stdout.read_line(&mut line))
            .await
            .unwrap_or_else(|_| panic!("the hapi target did not start within {START_TIMEOUT:?}"))
            .expect("the hapi target's output is readable");
        let base_url = line
            .strip_prefix("listening on ")
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("the hapi target did not say where it listens: {line:?}"))
            .to_owned();
        HapiTarget {
            base_url,
            _child: child,
            _stdout: stdout,
        }
    }

    /// How the runner is told about this server: its real clock, limits and accounts, no forwarded-for.
    fn description(&self, variant: &Variant) -> TargetDescription {
        let account = |(username, password): (&str, &str)| Account {
            username: username.to_owned(),
            email: None,
            password: password.to_owned(),
        };
        let mut target = TargetDescription::new(
            self.base_url.parse().expect("the server's URL"),
            vec![Profile::AppmixerCloud, Profile::CreditsafeConnect],
        );
        target.clock = ClockMode::Real;
        target.forwarded_for = false;
        target.limits = limits();
        target.admin = Some(account(ADMIN));
        target.creditsafe = Some(account(CREDITSAFE));
        target.appmixer_jwt_secret = Some(JWT_SECRET.to_owned());
        target.user_create_scope = variant.create_scope.then(|| "admin".to_owned());
        target
    }
}

/// The suite against one variant of the server, under `--strict`: all of it, or with a create scope the
/// checks that need one.
async fn check(suite: &Suite, variant: &Variant) -> RunReport {
    let server = HapiTarget::start(variant).await;
    let only = if variant.create_scope {
        vec!["AM-SIGNUP-06".to_owned()]
    } else {
        Vec::new()
    };
    let plan = RunPlan {
        targets: vec![TargetPlan::new(server.description(variant))],
        selection: Selection::new(&only, &[]).unwrap(),
        strict: true,
        jobs: authconform::engine::DEFAULT_JOBS,
    };
    tokio::time::timeout(RUN_TIMEOUT, engine::run(suite, &plan, &mut |_| {}))
        .await
        .unwrap_or_else(|_| panic!("the run against {} took over {RUN_TIMEOUT:?}", variant.name))
        .expect("the run completes")
}

/// Every requirement that did not pass, with the first finding of each (or why it was skipped).
fn not_passed(report: &RunReport) -> Vec<(String, Verdict, String)> {
    report.targets[0]
        .requirements
        .iter()
        .filter(|r| r.verdict != Verdict::Pass)
        .map(|r| {
            let why = r
                .findings
                .first()
                .map(|f| {
                    format!(
                        "{} step {} `{}`: expected {:?}, actual {:?}, note {:?}",
                        f.scenario, f.step_number, f.step, f.expected, f.actual, f.note
                    )
                })
                .or_else(|| r.skip_reasons.first().cloned())
                .unwrap_or_default();
            (r.id.clone(), r.verdict, why)
        })
        .collect()
}

/// What must not pass on `variant`: the requirement it breaks (when the catalogue has it yet) fails, and
/// with open signup the requirements it cannot judge are skipped.
fn expected_not_passed(suite: &Suite, variant: &Variant) -> Vec<(String, Verdict)> {
    let mut expected: Vec<(String, Verdict)> = variant
        .breaks
        .filter(|id| in_catalogue(suite, id))
        .map(|id| (id.to_owned(), Verdict::Fail))
        .into_iter()
        .collect();
    if !variant.create_scope {
        expected.extend(NOT_APPLICABLE.map(|id| (id.to_owned(), Verdict::Skip)));
    }
    expected.sort();
    expected
}

fn in_catalogue(suite: &Suite, id: &str) -> bool {
    suite.catalogue.requirements.iter().any(|r| r.id == id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hapi_target_passes_in_real_mode_and_each_broken_variant_fails_on_its_id() {
    if let Some(missing) = missing_prerequisite() {
        assert!(
            std::env::var_os("AUTHCONFORM_REQUIRE_NPM").is_none_or(|v| v != "1"),
            "AUTHCONFORM_REQUIRE_NPM=1 but {missing}"
        );
        println!("skipped: {missing}");
        return;
    }
    let suite = Arc::new(suite::load(&[]).unwrap());
    let started = Instant::now();
    // The runs mostly wait out their windows: they go side by side, each against its own server. The
    // engine's future is not Send, so they share this thread.
    let local = tokio::task::LocalSet::new();
    let mut runs = tokio::task::JoinSet::new();
    for (index, variant) in VARIANTS.iter().enumerate() {
        let suite = suite.clone();
        runs.spawn_local_on(async move { (index, check(&suite, variant).await) }, &local);
    }
    let mut reports = local.run_until(runs.join_all()).await;
    reports.sort_by_key(|(index, _)| *index);
    println!(
        "{} real-mode runs side by side in {:.1}s",
        reports.len(),
        started.elapsed().as_secs_f64()
    );

    let mut wrong = Vec::new();
    for (variant, (_, report)) in VARIANTS.iter().zip(&reports) {
        let target = &report.targets[0];
        let readings: Vec<&str> = target
            .requirements
            .iter()
            .flat_map(|r| &r.readings)
            .map(|r| r.reading.as_str())
            .collect();
        println!(
            "== {}: {:?} in {:.1}s; readings: {readings:?}",
            variant.name,
            target.summary,
            target.duration_ms as f64 / 1000.0
        );
        let not_passed = not_passed(report);
        for (id, verdict, why) in &not_passed {
            println!("   {verdict} {id}: {why}");
        }
        let mut seen: Vec<(String, Verdict)> = not_passed
            .into_iter()
            .map(|(id, verdict, _)| (id, verdict))
            .collect();
        seen.sort();
        if let Some(id) = variant.breaks.filter(|id| !in_catalogue(&suite, id)) {
            println!(
                "   {id} is not in the catalogue yet: this variant must pass like the correct server"
            );
        }
        let expected = expected_not_passed(&suite, variant);
        if seen != expected {
            wrong.push(format!(
                "{}: not passed {seen:?}, expected {expected:?}",
                variant.name
            ));
        }
        if variant.create_scope {
            assert!(
                target.requirements.iter().any(|r| r.id == "AM-SIGNUP-06"),
                "the create-scope run judged AM-SIGNUP-06"
            );
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
