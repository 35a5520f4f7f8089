//! Servers we did not write: the targets in `tests/targets/`, each built the way its own community builds one
//! from the documents, with no test clock: hapi (Boom, joi, rate-limiter-flexible), Fastify 5 with
//! `@fastify/rate-limit`, Express 5 with `express-rate-limit` (declaring every limit in the IETF `RateLimit`
//! fields), NestJS 11 with `@nestjs/throttler`, Django REST framework throttles under gunicorn, and FastAPI
//! with slowapi under uvicorn. Each runs with short windows
//! and is checked in real mode under `--strict`, not trusting `X-Forwarded-For`. Every correct server, in
//! both orders of its signup limiters where it offers both, passes every applicable requirement; each
//! deliberately broken variant (a mistake that stack's developers plausibly ship) fails exactly the
//! requirement it breaks and nothing else: no other fail or warn, and inconclusive only where the finding
//! names that requirement as the blocker.
//!
//! Needs node (hapi, Fastify, Express, NestJS: `npm ci` in their folders, which also compiles NestJS's
//! TypeScript) and python3 (Django, FastAPI: a virtual
//! environment in each one's `.venv` from its `requirements.txt`), as `.ci/run` installs them; without them a
//! stack is skipped with a message, unless `AUTHCONFORM_REQUIRE_NPM=1` / `AUTHCONFORM_REQUIRE_PYTHON=1`.

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
use tokio::sync::Semaphore;

/// The limits every server is started with and the runner is told: short windows, so a real-mode run takes
/// about a minute; limits away from the documented defaults, so a server ignoring its configuration is
/// caught. The lockout window leaves room to see a lockout that ends with the window opened half a window
/// before its trigger (more than four times the runner's one-second slack).
fn limits() -> Limits {
    Limits {
        signup_email: 3,
        signup_email_window_ms: 2_000,
        // As low as the e-mail check allows: it sends the e-mail limit + 5 from one address.
        signup_ip: 8,
        signup_ip_window_ms: 2_000,
        cs_identical_invalid: 5,
        cs_invalid_window_ms: 2_000,
        cs_overall_threshold: 200,
        // Long enough that the lockout's sequence (half a window, then the flood and the crossing) and its
        // repeat after a clock boundary fit in one window together on a loaded machine.
        cs_overall_window_ms: 10_000,
        ..Limits::default()
    }
}

const ADMIN: (&str, &str) = ("admin@example.com", "vendor-admin-password");
const CREDITSAFE: (&str, &str) = ("connect-user", "vendor-connect-password");
const JWT_SECRET: &str = "vendor-target-signing-secret";
const START_TIMEOUT: Duration = Duration::from_secs(90);
const RUN_TIMEOUT: Duration = Duration::from_secs(300);
/// Runs of one stack at the same time: each is mostly waiting, but the floods must not starve each other.
const RUNS_AT_ONCE: usize = 3;

/// How one stack's server is installed and started.
struct Stack {
    name: &'static str,
    /// The folder under `tests/targets/`.
    folder: &'static str,
    /// The program and its arguments, relative to the folder.
    command: &'static [&'static str],
    /// A file that exists once the stack's packages are installed, relative to the folder.
    installed: &'static str,
    /// What installs them, for the skip message.
    install: &'static str,
    /// The environment variable that names a broken variant.
    fault_variable: &'static str,
    /// `AUTHCONFORM_REQUIRE_…`: set to 1 in CI, where a missing stack is an error.
    require_variable: &'static str,
    /// Settings that keep the floods quick (cheap password hashes).
    quick: &'static [(&'static str, &'static str)],
}

/// A Node stack: `node server.js` after `npm ci`, cheap scrypt hashes.
const fn node_stack(
    name: &'static str,
    installed: &'static str,
    fault_variable: &'static str,
) -> Stack {
    Stack {
        name,
        folder: name,
        command: &["node", "server.js"],
        installed,
        install: "npm ci",
        fault_variable,
        require_variable: "AUTHCONFORM_REQUIRE_NPM",
        quick: &[("PASSWORD_SCRYPT_COST", "1024")],
    }
}

const HAPI: Stack = node_stack(
    "hapi",
    "node_modules/@hapi/hapi/package.json",
    "HAPI_TARGET_FAULT",
);

const FASTIFY: Stack = node_stack(
    "fastify",
    "node_modules/fastify/package.json",
    "FASTIFY_TARGET_FAULT",
);

const EXPRESS: Stack = node_stack(
    "express",
    "node_modules/express-rate-limit/package.json",
    "EXPRESS_TARGET_FAULT",
);

/// TypeScript compiled by `tsc` in the `prepare` script that `npm ci` runs: installed once `dist/` is built.
const NESTJS: Stack = Stack {
    command: &["node", "dist/main.js"],
    ..node_stack("nestjs", "dist/main.js", "NESTJS_TARGET_FAULT")
};

/// A Python stack: `run.py` in a virtual environment made from its pinned `requirements.txt`.
const fn python_stack(
    name: &'static str,
    installed: &'static str,
    fault_variable: &'static str,
    quick: &'static [(&'static str, &'static str)],
) -> Stack {
    Stack {
        name,
        folder: name,
        command: &[".venv/bin/python", "run.py"],
        installed,
        install: "python3 -m venv .venv && .venv/bin/pip install -r requirements.txt",
        fault_variable,
        require_variable: "AUTHCONFORM_REQUIRE_PYTHON",
        quick,
    }
}

/// Django's cheapest hasher, for test servers only.
const DJANGO: Stack = python_stack(
    "django",
    ".venv/bin/gunicorn",
    "DJANGO_TARGET_FAULT",
    &[("PASSWORD_HASHER", "md5")],
);

const FASTAPI: Stack = python_stack(
    "fastapi",
    ".venv/bin/uvicorn",
    "FASTAPI_TARGET_FAULT",
    &[("PASSWORD_SCRYPT_COST", "1024")],
);

/// One server configuration and what the suite must conclude about it.
struct Variant {
    name: &'static str,
    /// The stack's fault variable.
    fault: Option<&'static str>,
    /// Extra settings (the order of the signup limiters, say).
    settings: &'static [(&'static str, &'static str)],
    /// `API_USER_CREATE_SCOPE=admin`; only the checks needing it run.
    create_scope: bool,
    /// The requirement the fault breaks: it must fail, and nothing else may.
    breaks: Option<&'static str>,
}

const fn correct(name: &'static str, settings: &'static [(&'static str, &'static str)]) -> Variant {
    Variant {
        name,
        fault: None,
        settings,
        create_scope: false,
        breaks: None,
    }
}

const fn create_scope() -> Variant {
    Variant {
        name: "correct, API_USER_CREATE_SCOPE=admin",
        fault: None,
        settings: &[],
        create_scope: true,
        breaks: None,
    }
}

const fn fault(name: &'static str, breaks: &'static str) -> Variant {
    Variant {
        name,
        fault: Some(name),
        settings: &[],
        create_scope: false,
        breaks: Some(breaks),
    }
}

const EMAIL_FIRST: &[(&str, &str)] = &[("SIGNUP_LIMITER_ORDER", "email-first")];
const IP_FIRST: &[(&str, &str)] = &[("SIGNUP_LIMITER_ORDER", "ip-first")];

const HAPI_VARIANTS: &[Variant] = &[
    correct("correct", &[]),
    create_scope(),
    fault("email-as-sent", "AM-SIGNUP-RL-09"),
    fault("lockout-trusts-forwarded-for", "CS-LOCKOUT-06"),
];

const FASTIFY_VARIANTS: &[Variant] = &[
    correct("correct, e-mail limiter first", EMAIL_FIRST),
    correct("correct, IP limiter first", IP_FIRST),
    create_scope(),
    fault("trust-proxy", "AM-SIGNUP-RL-08"),
    fault("email-case-kept", "AM-SIGNUP-RL-09"),
    fault("retry-after-ms", "GEN-04"),
    fault("invalid-limit-one-low", "CS-INVALID-01"),
    fault("short-lockout", "CS-LOCKOUT-04"),
    fault("parse-error-echo", "GEN-03"),
    fault("duplicate-500", "AM-SIGNUP-05"),
    fault("successes-not-counted", "CS-LOCKOUT-02"),
];

/// Every limit declares itself in `RateLimit-Policy` and `RateLimit` (express-rate-limit's `draft-8`
/// fields), so GEN-05 is judged on a library's own output, and a run reads the limits from them first.
const EXPRESS_VARIANTS: &[Variant] = &[
    correct("correct, e-mail limiter first", EMAIL_FIRST),
    correct("correct, IP limiter first", IP_FIRST),
    create_scope(),
    fault("trust-proxy", "AM-SIGNUP-RL-08"),
    fault("email-limit-keyed-by-ip", "AM-SIGNUP-RL-07"),
    fault("retry-after-ms", "GEN-04"),
    fault("policy-window-ms", "GEN-05"),
    fault("refusals-not-counted", "CS-LOCKOUT-03"),
];

/// `@nestjs/throttler`'s named throttlers behind one global guard, which keeps their configured order (the
/// library sorts them by ttl) and runs before the ValidationPipe: attempts failing validation count, a reading
/// SPEC allows. The Creditsafe lockout is a throttler with `blockDuration`; the identical-invalid limit counts
/// in the throttler's storage from the service, since only invalid requests count.
const NESTJS_VARIANTS: &[Variant] = &[
    correct("correct, e-mail throttler first", EMAIL_FIRST),
    correct("correct, IP throttler first", IP_FIRST),
    create_scope(),
    fault("forwarded-for-tracker", "AM-SIGNUP-RL-08"),
    fault("tracker-before-pipes", "AM-SIGNUP-RL-09"),
    fault("throttler-default-message", "AM-SIGNUP-RL-02"),
    fault("retry-after-ms", "GEN-04"),
    fault("admin-not-skipped", "AM-SIGNUP-RL-04"),
    fault("parse-error-echo", "GEN-03"),
    fault("no-block-duration", "CS-LOCKOUT-04"),
    fault("valid-requests-counted", "CS-INVALID-03"),
];

/// Cache counters keyed by wall-clock window, as django-ratelimit keeps them: with windows of seconds, a
/// boundary falls inside some limit sequence in nearly every run.
const CLOCK_WINDOWS: &[(&str, &str)] = &[("THROTTLE_WINDOWS", "clock")];

const DJANGO_VARIANTS: &[Variant] = &[
    correct("correct, e-mail throttle first", EMAIL_FIRST),
    correct("correct, IP throttle first", IP_FIRST),
    correct("correct, windows aligned to the clock", CLOCK_WINDOWS),
    create_scope(),
    fault("default-get-ident", "AM-SIGNUP-RL-08"),
    fault("email-case-kept", "AM-SIGNUP-RL-09"),
    fault("retry-after-ms", "GEN-04"),
    fault("lockout-threshold-plus-one", "CS-LOCKOUT-02"),
    fault("parse-error-echo", "GEN-03"),
    fault("duplicate-500", "AM-SIGNUP-05"),
    fault("successes-not-counted", "CS-LOCKOUT-02"),
    fault("admin-throttled", "AM-SIGNUP-RL-04"),
    fault("invalid-no-cooloff", "CS-INVALID-02"),
];

/// slowapi's fixed windows (the `limits` library's, anchored at a key's first hit), with the IP limiter first.
const FIXED_WINDOWS_IP_FIRST: &[(&str, &str)] = &[
    ("RATELIMIT_STRATEGY", "fixed-window"),
    ("SIGNUP_LIMITER_ORDER", "ip-first"),
];

/// FastAPI validates a body before its endpoint runs, so attempts failing validation never reach slowapi:
/// validation before limiting, a design SPEC allows.
const FASTAPI_VARIANTS: &[Variant] = &[
    correct("correct, e-mail limiter first, moving windows", EMAIL_FIRST),
    correct(
        "correct, IP limiter first, fixed windows",
        FIXED_WINDOWS_IP_FIRST,
    ),
    create_scope(),
    fault("forwarded-for-key", "AM-SIGNUP-RL-08"),
    fault("email-not-normalized", "AM-SIGNUP-RL-09"),
    fault("slowapi-default-message", "AM-SIGNUP-RL-02"),
    fault("retry-after-reset-epoch", "GEN-04"),
    fault("validation-body-echo", "GEN-03"),
    fault("duplicate-500", "AM-SIGNUP-05"),
    fault("lockout-not-counting-refusals", "CS-LOCKOUT-03"),
    fault("lockout-is-the-limit", "CS-LOCKOUT-04"),
    fault("admin-not-exempt", "AM-SIGNUP-RL-04"),
];

/// What open signup cannot judge: 5.1's sign-in rule and the create-user scope (its own variant checks it).
const NOT_APPLICABLE: [&str; 2] = ["AM-SIGNIN-04", "AM-SIGNUP-06"];

fn folder(stack: &Stack) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/targets")
        .join(stack.folder)
}

/// Why the stack cannot be started here, if it cannot.
fn missing_prerequisite(stack: &Stack) -> Option<String> {
    let program = stack.command[0];
    if !program.contains('/') && !crate::support::installed(program) {
        return Some(format!(
            "{program} is needed to run the {} target",
            stack.name
        ));
    }
    (!folder(stack).join(stack.installed).exists()).then(|| {
        format!(
            "the {} target's packages are not installed (run `{}` in {})",
            stack.name,
            stack.install,
            folder(stack).display()
        )
    })
}

/// One server, a process on a port of its own choosing, in a process group of its own; the whole group is
/// killed when dropped (gunicorn's workers too, which would otherwise hold the test's stderr open for a
/// moment after their master died), and its temporary files (Django's database) go with it.
struct VendorTarget {
    base_url: String,
    child: Child,
    /// Held open so the server never writes to a closed pipe.
    _stdout: BufReader<ChildStdout>,
    /// The server's `TMPDIR`, removed after the server is killed: a killed server cleans up nothing itself.
    _scratch: tempfile::TempDir,
}

impl Drop for VendorTarget {
    fn drop(&mut self) {
        if let Some(id) = self.child.id().and_then(|id| i32::try_from(id).ok()) {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(id),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

impl VendorTarget {
    async fn start(stack: &Stack, variant: &Variant) -> VendorTarget {
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
        let scratch = tempfile::TempDir::with_prefix("authconform-vendor-")
            .expect("a temporary folder for the server");
        let mut command = Command::new(stack.command[0]);
        command
            .args(&stack.command[1..])
            .current_dir(folder(stack))
            .env("TMPDIR", scratch.path())
            .env("HOST", "127.0.0.1")
            .env("PORT", "0")
            .envs(limit_settings.map(|(name, value)| (name, value.to_string())))
            .env("ADMIN_USERNAME", ADMIN.0)
            .env("ADMIN_PASSWORD", ADMIN.1)
            .env("CREDITSAFE_USERNAME", CREDITSAFE.0)
            .env("CREDITSAFE_PASSWORD", CREDITSAFE.1)
            .env("APPMIXER_JWT_SECRET", JWT_SECRET)
            .envs(stack.quick.iter().copied())
            .envs(variant.settings.iter().copied())
            .env(stack.fault_variable, variant.fault.unwrap_or(""))
            .env(
                "API_USER_CREATE_SCOPE",
                if variant.create_scope { "admin" } else { "" },
            )
            .env_remove("TRUST_FORWARDED_FOR")
            .env_remove("LOG_REQUESTS")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .process_group(0)
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .unwrap_or_else(|error| panic!("{} starts: {error}", stack.name));
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut line = String::new();
        tokio::time::timeout(START_TIMEOUT, stdout.read_line(&mut line))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "the {} target did not start within {START_TIMEOUT:?}",
                    stack.name
                )
            })
            .expect("the target's output is readable");
        let base_url = line
            .strip_prefix("listening on ")
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| {
                panic!(
                    "the {} target did not say where it listens: {line:?}",
                    stack.name
                )
            })
            .to_owned();
        VendorTarget {
            base_url,
            child,
            _stdout: stdout,
            _scratch: scratch,
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
async fn check(suite: &Suite, stack: &Stack, variant: &Variant) -> RunReport {
    let server = VendorTarget::start(stack, variant).await;
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
    let projected = engine::plan(suite, &plan);
    let projected_ms = projected.projected_ms;
    // What the plan says the run takes should a window aligned to the clock make a check repeat.
    let with_repeat_ms = projected.targets[0]
        .with_boundary_repeat
        .as_ref()
        .map(|repeat| repeat.projected_ms);
    let started = Instant::now();
    let report = tokio::time::timeout(RUN_TIMEOUT, engine::run(suite, &plan, &mut |_| {}))
        .await
        .unwrap_or_else(|_| {
            panic!(
                "the run against {} {} took over {RUN_TIMEOUT:?}",
                stack.name, variant.name
            )
        })
        .expect("the run completes");
    let measured_ms = started.elapsed().as_millis() as f64;
    // The repeat's own note, not the reading: a run can find windows aligned to the clock without any
    // boundary falling inside a sequence.
    let repeated = serde_json::to_string(&report)
        .expect("the report serializes")
        .contains("a fixed window aligned to the clock may have started its count afresh");
    // A correct server's run that repeated a sequence is held to the plan's time with that repeat (a
    // mutant may meet the repeat's note where its fault, not a boundary, failed the step).
    let (held_to, against) = match with_repeat_ms {
        Some(ms) if repeated && variant.fault.is_none() => (ms, " with a boundary repeat"),
        _ => (projected_ms, ""),
    };
    println!(
        "{} {}: plan {:.1}s{}, measured {:.1}s ({:+.1} % against the plan{against})",
        stack.name,
        variant.name,
        projected_ms as f64 / 1000.0,
        with_repeat_ms
            .map(|ms| format!(" (up to {:.1}s with a boundary repeat)", ms as f64 / 1000.0))
            .unwrap_or_default(),
        measured_ms / 1000.0,
        (held_to as f64 - measured_ms) * 100.0 / measured_ms
    );
    report
}

/// Every requirement that did not pass, with the first finding of each (or why it was skipped), and
/// whether its inconclusive findings all name `blocker`.
fn not_passed(report: &RunReport, blocker: Option<&str>) -> Vec<(String, Verdict, bool, String)> {
    report.targets[0]
        .requirements
        .iter()
        .filter(|r| r.verdict != Verdict::Pass)
        .map(|r| {
            let why = r
                .findings
                .first()
                .map(crate::support::describe_finding)
                .or_else(|| r.skip_reasons.first().cloned())
                .unwrap_or_default();
            let blockers: Vec<String> = r
                .findings
                .iter()
                .filter(|f| f.severity == Verdict::Inconclusive)
                .map(|f| format!("{}#{}: {:?}", f.scenario, f.step_number, f.blocked_by))
                .collect();
            let why = if blockers.len() > 1 {
                format!("{why}; inconclusive findings: {}", blockers.join(", "))
            } else {
                why
            };
            let blocked_by_fault = blocker.is_some()
                && r.findings
                    .iter()
                    .filter(|f| f.severity == Verdict::Inconclusive)
                    .all(|f| f.blocked_by.as_deref() == blocker);
            (r.id.clone(), r.verdict, blocked_by_fault, why)
        })
        .collect()
}

/// Everything wrong with what the suite concluded about one variant, as lines.
fn judge(stack: &Stack, variant: &Variant, report: &RunReport) -> Vec<String> {
    let target = &report.targets[0];
    let readings: Vec<&str> = target
        .requirements
        .iter()
        .flat_map(|r| &r.readings)
        .map(|r| r.reading.as_str())
        .collect();
    println!(
        "== {} {}: {:?} in {:.1}s; readings: {readings:?}",
        stack.name,
        variant.name,
        target.summary,
        target.duration_ms as f64 / 1000.0
    );
    let mut wrong = Vec::new();
    let mut broke_its_own = false;
    for (id, verdict, blocked_by_fault, why) in not_passed(report, variant.breaks) {
        println!("   {verdict} {id}: {why}");
        let expected = if Some(id.as_str()) == variant.breaks {
            broke_its_own = verdict == Verdict::Fail;
            verdict == Verdict::Fail
        } else if NOT_APPLICABLE.contains(&id.as_str()) && !variant.create_scope {
            verdict == Verdict::Skip
        } else {
            verdict == Verdict::Skip || (verdict == Verdict::Inconclusive && blocked_by_fault)
        };
        if !expected {
            wrong.push(format!(
                "{} {}: {id} is {verdict}: {why}",
                stack.name, variant.name
            ));
        }
    }
    if let Some(id) = variant.breaks
        && !broke_its_own
    {
        wrong.push(format!(
            "{} {}: {id} did not fail",
            stack.name, variant.name
        ));
    }
    if variant.create_scope
        && !target
            .requirements
            .iter()
            .any(|r| r.id == "AM-SIGNUP-06" && r.verdict == Verdict::Pass)
    {
        wrong.push(format!(
            "{} {}: AM-SIGNUP-06 did not pass",
            stack.name, variant.name
        ));
    }
    wrong
}

/// The whole suite against every variant of one stack, a few side by side.
async fn check_stack(stack: &'static Stack, variants: &'static [Variant]) {
    if let Some(missing) = missing_prerequisite(stack) {
        assert!(
            std::env::var_os(stack.require_variable).is_none_or(|v| v != "1"),
            "{}=1 but {missing}",
            stack.require_variable
        );
        println!("skipped: {missing}");
        return;
    }
    let suite = Arc::new(suite::load(&[]).unwrap());
    let permits = Arc::new(Semaphore::new(RUNS_AT_ONCE));
    let started = Instant::now();
    // The runs mostly wait out their windows: they go side by side, each against its own server. The
    // engine's future is not Send, so they share this thread.
    let local = tokio::task::LocalSet::new();
    let mut runs = tokio::task::JoinSet::new();
    for (index, variant) in variants.iter().enumerate() {
        let (suite, permits) = (suite.clone(), permits.clone());
        runs.spawn_local_on(
            async move {
                let _permit = permits.acquire().await.unwrap();
                (index, check(&suite, stack, variant).await)
            },
            &local,
        );
    }
    let mut reports = local.run_until(runs.join_all()).await;
    reports.sort_by_key(|(index, _)| *index);
    println!(
        "{}: {} real-mode runs in {:.1}s",
        stack.name,
        reports.len(),
        started.elapsed().as_secs_f64()
    );
    for (variant, (_, report)) in variants.iter().zip(&reports) {
        let repeated: Vec<&str> = report.targets[0]
            .requirements
            .iter()
            .filter(|r| {
                r.readings
                    .iter()
                    .any(|seen| seen.reading == "fixed window aligned to the clock")
            })
            .map(|r| r.id.as_str())
            .collect();
        if !repeated.is_empty() {
            println!(
                "{} {}: repeated after a clock boundary and held: {}",
                stack.name,
                variant.name,
                repeated.join(", ")
            );
        }
    }
    let wrong: Vec<String> = variants
        .iter()
        .zip(&reports)
        .flat_map(|(variant, (_, report))| judge(stack, variant, report))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hapi_target_passes_in_real_mode_and_each_broken_variant_fails_on_its_id() {
    check_stack(&HAPI, HAPI_VARIANTS).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fastify_target_passes_in_both_limiter_orders_and_each_mutant_fails_on_its_id() {
    check_stack(&FASTIFY, FASTIFY_VARIANTS).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_express_target_declares_its_limits_in_both_orders_and_each_mutant_fails_on_its_id() {
    check_stack(&EXPRESS, EXPRESS_VARIANTS).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nestjs_target_passes_in_both_limiter_orders_and_each_mutant_fails_on_its_id() {
    check_stack(&NESTJS, NESTJS_VARIANTS).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_django_target_passes_in_both_throttle_orders_and_each_mutant_fails_on_its_id() {
    check_stack(&DJANGO, DJANGO_VARIANTS).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fastapi_target_passes_in_both_limiter_orders_and_window_kinds_and_each_mutant_fails_on_its_id()
 {
    check_stack(&FASTAPI, FASTAPI_VARIANTS).await;
}
