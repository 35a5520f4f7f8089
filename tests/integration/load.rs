//! The load profiles against the reference server: the lockout profile runs the catalogue's lockout check
//! under load (the same judge as `run`, shown side by side below) and fails, on the right requirement, on
//! servers that let extra requests through under concurrency, do not count 429s, or end the lockout early;
//! the benchmarks report rates and write goose's reports.

use std::collections::BTreeMap;

use authconform::engine::{self, RunPlan, RunReport, Selection, TargetPlan, Verdict};
use authconform::load::{self, LoadOptions, LoadProfile};
use authconform::target::{Account, ClockMode, Limits, TargetDescription};
use authconform_reference_server::Fault;
use authconform_reference_server::{AppmixerProfile, Config, RunningServer, SeedAccount};
use authconform_scenario::model::Profile;

const THRESHOLD: u64 = 2_000;

fn seed(username: &str, password: &str) -> SeedAccount {
    SeedAccount {
        username: username.into(),
        email: None,
        password: password.into(),
    }
}

fn account(seed: &SeedAccount) -> Account {
    Account {
        username: seed.username.clone(),
        email: None,
        password: seed.password.clone(),
    }
}

/// A reference server with the lowered threshold, and the runner's description of it.
async fn start(faults: Vec<Fault>) -> (RunningServer, TargetDescription) {
    let admin = seed("admin@example.com", "load-admin");
    let connect = seed("connect-user", "load-connect");
    let config = Config {
        profile: AppmixerProfile::Appmixer6,
        cs_overall_threshold: THRESHOLD,
        test_clock: true,
        trust_forwarded_for: true,
        admin: admin.clone(),
        creditsafe_account: connect.clone(),
        faults,
        // Sign-ins cheap enough to time the harness rather than argon2.
        password_cost: authconform_reference_server::PasswordCost::Light,
        ..Config::default()
    };
    let server = crate::support::start_reference(config).await;
    let mut target = TargetDescription::new(
        server.base_url().parse().unwrap(),
        vec![Profile::CreditsafeConnect, Profile::Appmixer6],
    );
    target.clock = ClockMode::Control;
    target.forwarded_for = true;
    target.limits = Limits {
        cs_overall_threshold: THRESHOLD,
        ..Limits::default()
    };
    target.admin = Some(account(&admin));
    target.creditsafe = Some(account(&connect));
    (server, target)
}

/// The lockout profile against a server with these faults.
pub(crate) async fn lockout_run(faults: Vec<Fault>, options: LoadOptions) -> RunReport {
    let (server, target) = start(faults).await;
    // Strict, as a gate runs it: a SHOULD broken (CS-LOCKOUT-05) fails.
    let report = load::run(&target, &options, true, &mut |_| {})
        .await
        .expect("the load run completes");
    server.shutdown().await.unwrap();
    report
}

/// A short mixed run in the open model against a correct server.
pub(crate) async fn mixed_benchmark() -> RunReport {
    benchmark_run(LoadOptions {
        profile: LoadProfile::Mixed,
        ..open_model(200.0, 1.0, 64)
    })
    .await
}

/// A benchmark profile against a correct server.
async fn benchmark_run(options: LoadOptions) -> RunReport {
    let (server, target) = start(Vec::new()).await;
    let report = load::run(&target, &options, false, &mut |_| {})
        .await
        .expect("the load run completes");
    server.shutdown().await.unwrap();
    report
}

pub(crate) fn lockout(users: usize) -> LoadOptions {
    LoadOptions {
        users,
        ..LoadOptions::new(LoadProfile::Lockout)
    }
}

fn verdicts(report: &RunReport) -> BTreeMap<String, Verdict> {
    report.targets[0]
        .requirements
        .iter()
        .map(|r| (r.id.clone(), r.verdict))
        .collect()
}

fn verdict(report: &RunReport, id: &str) -> Verdict {
    verdicts(report).get(id).copied().unwrap_or(Verdict::Skip)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_correct_server_passes_every_lockout_check() {
    let report = lockout_run(Vec::new(), lockout(64)).await;
    for id in [
        "CS-LOCKOUT-01",
        "CS-LOCKOUT-02",
        "CS-LOCKOUT-03",
        "CS-LOCKOUT-04",
        "CS-LOCKOUT-05",
    ] {
        assert_eq!(
            verdict(&report, id),
            Verdict::Pass,
            "{id}: {}",
            crate::mutants::explain(&report, id)
        );
    }
    assert!(report.passed());
    let figures = report.targets[0].load.as_ref().expect("figures");
    // The concurrent steps: the first flood up to 20 short, the second up to 100 short, and its crossing.
    let identical = 5;
    let first_flood = THRESHOLD - identical - 100 - 5 - 20;
    assert_eq!(figures.requests, first_flood + (THRESHOLD - 101) + 300);
    assert_eq!((figures.users, figures.no_answer), (64, 0));
}

/// The lockout profile and `run` judge the lockout with the same code: on a server whose threshold is one
/// too high, both give every lockout requirement the same verdict, from the same step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_and_run_give_the_same_lockout_verdicts() {
    let under_load = lockout_run(vec![Fault::LockoutOneLate], lockout(16)).await;
    let (server, target) = start(vec![Fault::LockoutOneLate]).await;
    let suite = authconform::suite::load(&[]).unwrap();
    let plan = RunPlan {
        targets: vec![TargetPlan::new(target)],
        selection: Selection::new(&[load::LOCKOUT_SCENARIO.to_owned()], &[]).unwrap(),
        strict: true,
        jobs: 1,
    };
    let run = engine::run(&suite, &plan, &mut |_| {}).await.unwrap();
    server.shutdown().await.unwrap();
    assert_eq!(verdict(&run, "CS-LOCKOUT-02"), Verdict::Fail);
    assert_eq!(verdicts(&under_load), verdicts(&run));
    let failing_steps = |report: &RunReport| -> Vec<String> {
        report.targets[0]
            .requirements
            .iter()
            .flat_map(|r| &r.findings)
            .map(|f| format!("{} {}", f.step_number, f.step))
            .collect()
    };
    assert_eq!(failing_steps(&under_load), failing_steps(&run));
    assert!(run.targets[0].load.is_none() && under_load.targets[0].load.is_some());
}

/// goose, wound down only after the step of its flood has finished, and then failing: the engine goes on
/// once every answer is in (goose notices its users have stopped on its own half-second tick), and the run
/// waits for the driver before it reports, telling the late failure as an observation.
#[derive(Debug)]
struct WindsDownAfterItsStep {
    goose: load::GooseDriver,
    finished: tokio::sync::watch::Receiver<Vec<String>>,
}

impl engine::Driver for WindsDownAfterItsStep {
    fn drive(
        &self,
        step: engine::DrivenStep,
    ) -> futures_util::future::BoxFuture<'static, Result<(), String>> {
        let name = step.name.clone();
        let flood = self.goose.drive(step);
        let mut finished = self.finished.clone();
        Box::pin(async move {
            flood.await?;
            finished
                .wait_for(|steps| steps.contains(&name))
                .await
                .map_err(|_| "the run ended first".to_owned())?;
            Err(format!("{name}: could not write its report"))
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_step_ends_with_its_last_answer_and_a_late_driver_failure_is_told() {
    let (server, target) = start(Vec::new()).await;
    let (tell, finished) = tokio::sync::watch::channel(Vec::<String>::new());
    let driver = WindsDownAfterItsStep {
        goose: load::GooseDriver {
            timeout_s: 10,
            ..load::GooseDriver::default()
        },
        finished,
    };
    let mut plan = TargetPlan::new(target);
    plan.meter = Some(std::sync::Arc::new(
        engine::Meter::new(16)
            .driven_by(std::sync::Arc::new(driver))
            .marking_threshold(THRESHOLD),
    ));
    let plan = RunPlan {
        targets: vec![plan],
        selection: Selection::new(&[load::LOCKOUT_SCENARIO.to_owned()], &[]).unwrap(),
        strict: true,
        jobs: 1,
    };
    let suite = authconform::suite::load(&[]).unwrap();
    let mut events = |event: &engine::EngineEvent<'_>| {
        if let engine::EngineEvent::StepFinished { step, .. } = event {
            tell.send_modify(|steps| steps.push((*step).to_owned()));
        }
    };
    // A step that waited for its driver would wait forever here: the driver waits for the step.
    let report = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        engine::run(&suite, &plan, &mut events),
    )
    .await
    .expect("each flood's step ends without waiting for its driver")
    .expect("the run completes");
    server.shutdown().await.unwrap();
    for id in ["CS-LOCKOUT-01", "CS-LOCKOUT-02", "CS-LOCKOUT-03"] {
        assert_eq!(verdict(&report, id), Verdict::Pass, "{id}");
    }
    let late: Vec<&engine::Observation> = report.targets[0]
        .observations
        .iter()
        .filter(|o| o.kind == engine::ObservationKind::LoadDriver)
        .collect();
    let floods = report.targets[0]
        .load
        .as_ref()
        .expect("the figures")
        .steps
        .len();
    assert_eq!(late.len(), floods, "{late:?}");
    for observation in late {
        assert!(
            observation.detail.contains("could not write its report")
                && observation.detail.contains("every answer was judged"),
            "{observation:?}"
        );
        assert!(
            observation
                .requirements
                .contains(&"CS-LOCKOUT-02".to_owned())
        );
    }
    // The published schema knows the kind.
    assert_matches_schema(&report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_counter_that_is_not_atomic_fails_cs_lockout_05() {
    let report = lockout_run(vec![Fault::CounterNotAtomic], lockout(64)).await;
    assert_eq!(
        verdict(&report, "CS-LOCKOUT-05"),
        Verdict::Fail,
        "{}",
        crate::mutants::explain(&report, "CS-LOCKOUT-05")
    );
    assert!(!report.passed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uncounted_429s_fail_cs_lockout_03() {
    let report = lockout_run(vec![Fault::RefusalsNotCounted], lockout(16)).await;
    assert_eq!(
        verdict(&report, "CS-LOCKOUT-03"),
        Verdict::Fail,
        "{}",
        crate::mutants::explain(&report, "CS-LOCKOUT-03")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lockout_that_ends_early_fails_cs_lockout_04() {
    let report = lockout_run(vec![Fault::LockoutEndsEarly], lockout(16)).await;
    assert_eq!(
        verdict(&report, "CS-LOCKOUT-04"),
        Verdict::Fail,
        "{}",
        crate::mutants::explain(&report, "CS-LOCKOUT-04")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_lockout_fails_cs_lockout_02_and_thresholds_are_judged() {
    let mut options = lockout(16);
    options.thresholds = vec!["p99<60s".parse().unwrap(), "rps>100000000".parse().unwrap()];
    let report = lockout_run(vec![Fault::NoLockout], options).await;
    assert_eq!(verdict(&report, "CS-LOCKOUT-02"), Verdict::Fail);
    let thresholds = &report.targets[0].load.as_ref().unwrap().thresholds;
    assert!(thresholds[0].passed, "{thresholds:?}");
    assert!(!thresholds[1].passed, "{thresholds:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_signin_benchmark_reports_rates_and_writes_goose_reports() {
    let dir = tempfile::tempdir().unwrap();
    let options = LoadOptions {
        users: 8,
        requests: Some(40),
        report_dir: Some(dir.path().to_owned()),
        ..LoadOptions::new(LoadProfile::Signin)
    };
    let report = benchmark_run(options).await;
    assert_eq!(verdict(&report, "AM-SIGNIN-01"), Verdict::Pass);
    let figures = report.targets[0].load.as_ref().expect("the figures");
    assert_eq!(figures.statuses.get(&200), Some(&40), "{figures:?}");
    assert!(figures.requests_per_second > 0.0);
    assert_matches_schema(&report);
    // One flood, so one set of goose reports.
    for path in load::report_files(dir.path(), 1) {
        assert!(
            path.metadata().is_ok_and(|m| m.len() > 0),
            "{} is missing",
            path.display()
        );
    }
}

/// `--rate` holds the closed model to that many requests per second, all floods together: goose's throttle
/// gates each request sent on a lane, and floods side by side (the mixed profile) share the rate by their
/// requests. Unthrottled, these 200 answers take a fraction of a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_caps_the_closed_model_across_floods_side_by_side() {
    let report = benchmark_run(LoadOptions {
        users: 16,
        requests: Some(200),
        rate: Some(100),
        mix: "signin=1,me=1,signup=0".parse().unwrap(),
        ..LoadOptions::new(LoadProfile::Mixed)
    })
    .await;
    for id in ["AM-SIGNIN-01", "AM-ME-01"] {
        assert_eq!(verdict(&report, id), Verdict::Pass, "{id}");
    }
    let figures = report.targets[0].load.as_ref().expect("the figures");
    assert_eq!(figures.requests, 200, "{figures:?}");
    // A slower machine only lowers the rate; the cap is what must hold.
    assert!(
        figures.requests_per_second <= 100.0 * 1.1,
        "{} req/s at --rate 100",
        figures.requests_per_second
    );
}

/// The signup benchmark creates every user (as the admin, so no signup limit applies), and a server that
/// answers the flood's sign-ins with 500 fails the benchmark on AM-SIGNIN-01 alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_benchmarks_judge_their_answers_on_the_catalogues_ids() {
    let options = |profile| LoadOptions {
        users: 8,
        requests: Some(60),
        ..LoadOptions::new(profile)
    };
    let signup = benchmark_run(options(LoadProfile::Signup)).await;
    assert_eq!(verdict(&signup, "AM-SIGNUP-02"), Verdict::Pass);
    let figures = signup.targets[0].load.as_ref().expect("the figures");
    assert_eq!(figures.statuses.get(&200), Some(&60), "{figures:?}");

    // A server whose sign-in fails under load: every sign-in after the first few answers 500.
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/user"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"token": "t"})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/user/auth"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"token": "t", "user": {}})),
        )
        .up_to_n_times(5)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/user/auth"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let target = TargetDescription::new(server.uri().parse().unwrap(), vec![Profile::Appmixer6]);
    let report = load::run(&target, &options(LoadProfile::Signin), false, &mut |_| {})
        .await
        .expect("the load run completes");
    let failed: Vec<&str> = report.targets[0]
        .requirements
        .iter()
        .filter(|r| r.verdict == Verdict::Fail)
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(failed, ["AM-SIGNIN-01"]);
    let figures = report.targets[0].load.as_ref().expect("the figures");
    assert_eq!(figures.statuses.get(&500), Some(&55), "{figures:?}");
}

/// A flood over lanes: the target's headers reach the server, and a server that closes every connection
/// after one answer is still answered in full (each lane reconnects).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_sends_the_targets_headers_and_survives_closed_connections() {
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"token": "t"})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/user/auth"))
        .and(header("x-tenant", "demo"))
        .and(header("content-type", "application/json"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("connection", "close")
                .set_body_json(serde_json::json!({"token": "t", "user": {}})),
        )
        .mount(&server)
        .await;
    let mut target = TargetDescription::new(
        format!("{}/api/", server.uri()).parse().unwrap(),
        vec![Profile::Appmixer6],
    );
    target.headers = vec![("x-tenant".into(), "demo".into())];
    let options = LoadOptions {
        users: 8,
        requests: Some(300),
        ..LoadOptions::new(LoadProfile::Signin)
    };
    let report = load::run(&target, &options, false, &mut |_| {})
        .await
        .expect("the load run completes");
    assert_eq!(verdict(&report, "AM-SIGNIN-01"), Verdict::Pass);
    let figures = report.targets[0].load.as_ref().expect("the figures");
    assert_eq!(figures.statuses.get(&200), Some(&300), "{figures:?}");
    assert_eq!(figures.no_answer, 0, "{figures:?}");
}

/// `load` writes its report through the run's reporters: `--expect` marks the known outcomes expected
/// (exit 0 where it was 1), and `--format github` writes the job summary. On one generator thread or two,
/// the same outcomes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_takes_expectations_and_writes_the_github_summary() {
    let (server, target) = start(vec![Fault::LockoutOneLate]).await;
    let dir = tempfile::tempdir().unwrap();
    let base_url = target.base_url.to_string();
    let run = |extra: Vec<String>| {
        let mut args: Vec<String> = [
            "load",
            "--target",
            &base_url,
            "--profile",
            "creditsafe-connect",
            "--clock",
            "control",
            "--forwarded-for",
            "--limit",
            &format!("cs_overall_threshold={THRESHOLD}"),
            "--users",
            "16",
        ]
        .map(str::to_owned)
        .to_vec();
        args.extend(extra);
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            crate::cli::authconform(&args)
        })
    };
    let json = dir.path().join("load.json");
    // The first run on two threads, the second on the default one: the expectations written from the
    // first's outcomes hold for the second only when both judge the same.
    let first = run(vec![
        "--threads".into(),
        "2".into(),
        "--format".into(),
        format!("json={}", json.display()),
    ])
    .await
    .unwrap();
    assert_eq!(
        first.status.code(),
        Some(1),
        "{}",
        crate::cli::stderr(&first)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let target_report = &report["targets"][0];
    assert!(target_report["load"]["requests"].as_u64().unwrap() > THRESHOLD);
    let machine = std::thread::available_parallelism().map_or(1, usize::from) as u64;
    assert_eq!(
        target_report["load"]["generator"]["cores"].as_u64(),
        Some(machine.min(2))
    );
    // Every outcome that is not a pass, as a known one.
    let mut expect = String::new();
    for requirement in target_report["requirements"].as_array().unwrap() {
        let verdict = requirement["verdict"].as_str().unwrap();
        if matches!(verdict, "fail" | "warn" | "inconclusive") {
            expect.push_str(&format!(
                "[[expect]]\nid = \"{}\"\noutcome = \"{verdict}\"\nreason = \"one too many admitted (TICKET-9)\"\n\n",
                requirement["id"].as_str().unwrap()
            ));
        }
    }
    assert!(expect.contains("CS-LOCKOUT-02"), "{expect}");
    let expect_file = dir.path().join("expect.toml");
    std::fs::write(&expect_file, &expect).unwrap();
    let summary = dir.path().join("summary.md");
    let second = run(vec![
        "--expect".into(),
        expect_file.display().to_string(),
        "--format".into(),
        format!("github={}", summary.display()),
    ])
    .await
    .unwrap();
    server.shutdown().await.unwrap();
    assert_eq!(
        second.status.code(),
        Some(0),
        "{}{}",
        crate::cli::stdout(&second),
        crate::cli::stderr(&second)
    );
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(summary.contains("CS-LOCKOUT-02"), "{summary}");
    assert!(summary.to_lowercase().contains("expected"), "{summary}");
}

/// stdout carries the report and nothing else, and goose's chatter ("N users launched.") goes nowhere.
/// Against the bundled server the generator runs on every core.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_writes_only_its_report_on_stdout() {
    let output = tokio::task::spawn_blocking(|| {
        crate::cli::authconform(&["load", "signin", "--requests", "30", "--format", "json"])
    })
    .await
    .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        crate::cli::stderr(&output)
    );
    let report: serde_json::Value = serde_json::from_str(&crate::cli::stdout(&output))
        .unwrap_or_else(|err| {
            panic!(
                "stdout is the JSON report alone ({err}): {}",
                crate::cli::stdout(&output)
            )
        });
    assert_eq!(report["targets"][0]["load"]["requests"], 30);
    let stderr = crate::cli::stderr(&output);
    assert!(!stderr.contains("users launched"), "{stderr}");
    // The bundled server runs on the generator's runtime, which then takes every core.
    let machine = std::thread::available_parallelism().map_or(1, usize::from) as u64;
    assert_eq!(
        report["targets"][0]["load"]["generator"]["cores"].as_u64(),
        Some(machine)
    );
}

/// The open model against `target`: `rate` requests a second for `seconds`, at most `in_flight` waiting.
fn open_model(rate: f64, seconds: f64, in_flight: usize) -> LoadOptions {
    LoadOptions {
        open: Some(load::OpenModel {
            schedule: load::Schedule::constant(
                load::Rate { per_second: rate },
                std::time::Duration::from_secs_f64(seconds),
            ),
            max_in_flight: in_flight,
            max_queued: in_flight,
        }),
        ..lockout(8)
    }
}

/// Requests start on schedule: below capacity every one is sent and the achieved rate is the target's;
/// against a target that stalls, requests due while every connection waits queue (late) and, once the queue
/// is full too, are dropped and counted; the latency counts from each request's scheduled start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_open_model_keeps_its_schedule_and_counts_what_could_not_start() {
    let report = benchmark_run(LoadOptions {
        profile: LoadProfile::Signin,
        ..open_model(200.0, 1.0, 64)
    })
    .await;
    let figures = report.targets[0].load.as_ref().expect("the figures");
    assert_eq!(figures.requests, 200, "{figures:?}");
    assert_eq!(figures.generator.dropped, 0);
    // The bench holds the rate to 1 %; here other tests share the machine.
    assert!(
        (figures.requests_per_second - 200.0).abs() < 200.0 * 0.15,
        "{}",
        figures.requests_per_second
    );
    assert!(matches!(
        figures.model,
        authconform::engine::LoadModel::Open { scheduled: 200, .. }
    ));
    let service = figures.service_ms.expect("the open model's service time");
    assert!(figures.latency_ms.max >= service.max);

    // Every sign-in takes 300 ms; at 50/s with 4 in flight, about 4 in 15 start on time.
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/user"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"token": "t"})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/user/auth"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"token": "t", "user": {}}))
                .set_delay(std::time::Duration::from_millis(300)),
        )
        .mount(&server)
        .await;
    let target = TargetDescription::new(server.uri().parse().unwrap(), vec![Profile::Appmixer6]);
    let options = LoadOptions {
        profile: LoadProfile::Signin,
        ..open_model(50.0, 1.0, 4)
    };
    let report = load::run(&target, &options, false, &mut |_| {})
        .await
        .expect("the load run completes");
    let figures = report.targets[0].load.as_ref().expect("the figures");
    assert_eq!(
        figures.requests + figures.generator.dropped,
        50,
        "{figures:?}"
    );
    // Four in flight and four queued behind them; the rest of what fell due meanwhile was dropped.
    assert!(figures.generator.dropped >= 20, "{figures:?}");
    assert!(figures.generator.late >= 4, "{figures:?}");
    assert!(figures.latency_ms.p50 >= 300.0, "{figures:?}");
    // The answers that came were judged; the dropped ones were not sent, so they blame nothing.
    assert_eq!(verdict(&report, "AM-SIGNIN-01"), Verdict::Pass);
}

/// Forwards to `upstream`, holding every request `delay` first: the reference server, slowed on purpose.
async fn slowed(upstream: String, delay: std::time::Duration) -> String {
    use axum::body::Body;
    use axum::extract::Request;
    use axum::response::{IntoResponse, Response};
    let client = reqwest::Client::new();
    let app = axum::Router::new().fallback(move |request: Request| {
        let (client, upstream) = (client.clone(), upstream.clone());
        async move {
            tokio::time::sleep(delay).await;
            let url = format!(
                "{}{}",
                upstream.trim_end_matches('/'),
                request.uri().path_and_query().map_or("/", |p| p.as_str())
            );
            let method = request.method().clone();
            let headers = request.headers().clone();
            let body = axum::body::to_bytes(request.into_body(), 1 << 20)
                .await
                .unwrap_or_default();
            let mut forwarded = client.request(method, url).body(body);
            for (name, value) in &headers {
                if name != "host" && name != "content-length" {
                    forwarded = forwarded.header(name, value);
                }
            }
            let Ok(answer) = forwarded.send().await else {
                return axum::http::StatusCode::BAD_GATEWAY.into_response();
            };
            let status = answer.status();
            let content_type = answer.headers().get("content-type").cloned();
            let bytes = answer.bytes().await.unwrap_or_default();
            let mut response = Response::new(Body::from(bytes));
            *response.status_mut() = status;
            if let Some(content_type) = content_type {
                response.headers_mut().insert("content-type", content_type);
            }
            response
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}/")
}

/// A baseline taken from one run catches the same server slowed by 100 ms: the p50 check fails with the
/// baseline and the value now, the error rate's does not, and the run fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_baseline_catches_a_server_slowed_on_purpose() {
    let (server, target) = start(Vec::new()).await;
    let options = LoadOptions {
        profile: LoadProfile::Signin,
        ..open_model(100.0, 1.0, 64)
    };
    let first = load::run(&target, &options, false, &mut |_| {})
        .await
        .expect("the baseline run completes");
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), serde_json::to_string(&first).unwrap()).unwrap();
    let baseline = load::Baseline::read(file.path()).expect("a JSON report is a baseline");
    // The median: the tail of a hundred requests on a shared machine is too noisy to gate a test on.
    let limits: load::RegressionLimits = "p50=+100%,errors=+1%".parse().unwrap();

    let mut slow_target = target.clone();
    slow_target.base_url = slowed(server.base_url(), std::time::Duration::from_millis(100))
        .await
        .parse()
        .unwrap();
    let regressions = baseline.regressions(&limits).unwrap();
    let options = LoadOptions {
        regressions,
        ..options
    };
    let second = load::run(&slow_target, &options, false, &mut |_| {})
        .await
        .expect("the slowed run completes");
    server.shutdown().await.unwrap();
    let figures = second.targets[0].load.as_ref().expect("the figures");
    let [p50, errors] = figures.thresholds.as_slice() else {
        panic!("two checks: {:?}", figures.thresholds);
    };
    assert!(!p50.passed && p50.actual >= 100.0, "{p50:?}");
    assert!(p50.threshold.starts_with("p50 at most +100%"), "{p50:?}");
    assert_eq!(
        p50.baseline,
        Some(first.targets[0].load.as_ref().unwrap().latency_ms.p50)
    );
    assert!(errors.passed, "{errors:?}");
    assert!(!figures.passed());
    assert_matches_schema(&second);
}

/// A load run's JSON report fits `docs/report.schema.json`.
fn assert_matches_schema(report: &RunReport) {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../docs/report.schema.json")).unwrap();
    let value = serde_json::to_value(report).unwrap();
    assert!(value["targets"][0]["load"].is_object());
    let mut problems = Vec::new();
    crate::reports::validate(&schema, &schema, &value, "$", &mut problems);
    assert!(problems.is_empty(), "{problems:#?}");
}

/// The open model's and the baseline's flags refuse what cannot work, naming the flag.
#[test]
fn open_model_and_baseline_flags_refuse_bad_input_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let lockout_baseline = dir.path().join("lockout.json");
    std::fs::write(
        &lockout_baseline,
        r#"{"targets": [{"scenarios": [{"name": "creditsafe-lockout-after-threshold"}],
            "load": {"requests": 10001, "requests_per_second": 50000.0,
            "latency_ms": {"p99": 2.0}}}]}"#,
    )
    .unwrap();
    let lockout_baseline = lockout_baseline.to_str().unwrap();
    let cases: [(&[&str], &str); 11] = [
        (
            &["load", "signin", "--compare", "/nonexistent/target.toml"],
            "--compare /nonexistent/target.toml: could not read",
        ),
        // Told before anything is sent (nothing listens on port 1).
        (
            &[
                "load",
                "--target",
                "http://127.0.0.1:1",
                "--profile",
                "appmixer-cloud",
            ],
            "the lockout profile loads an API the target does not implement: it needs creditsafe-connect, and the target implements appmixer-cloud",
        ),
        (&["load", "mixed", "--mix", "signin=0"], "above 0"),
        (
            &["load", "--arrival-rate", "5/s"],
            "--arrival-rate applies to the signin and signup",
        ),
        (
            &["load", "signin", "--arrival-rate", "fast"],
            "--arrival-rate",
        ),
        (&["load", "signin", "--stages", "30s"], "LENGTH:RATE"),
        (
            &["load", "signin", "--arrival-rate", "5/s", "--users", "3"],
            "--users",
        ),
        (
            &["load", "signin", "--baseline", "/nonexistent/previous.json"],
            "--baseline /nonexistent/previous.json",
        ),
        (
            &[
                "load",
                "signin",
                "--baseline",
                "x.json",
                "--max-regression",
                "p99=-5%",
            ],
            "+N%",
        ),
        // Before anything is sent: a baseline of another profile measured other requests.
        (
            &[
                "load",
                "signin",
                "--target",
                "http://127.0.0.1:1",
                "--profile",
                "appmixer-6",
                "--baseline",
                lockout_baseline,
            ],
            "it measured the lockout profile, and this run is the signin profile",
        ),
        (
            &["load", "signin", "--threshold", "p95<-5ms"],
            "--threshold `p95<-5ms`: the value is a number of zero or more",
        ),
    ];
    for (args, expected) in cases {
        let output = crate::cli::authconform(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        // Each cause is told once (an error that prints its source in its own text and again as the
        // chain's next link says it twice).
        let links: Vec<&str> = stderr.lines().next().unwrap_or("").split(": ").collect();
        assert!(
            links.windows(2).all(|pair| pair[0] != pair[1]),
            "{args:?}: a cause told twice: {stderr}"
        );
    }
}

/// The mixed profile runs sign-ins, `GET /user` and sign-ups side by side in the shares of `--mix`, each
/// judged on its own id: a server whose `GET /user` fails under load fails AM-ME-01 and nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mixed_profile_sends_each_kind_in_its_share_and_judges_each_on_its_id() {
    let options = LoadOptions {
        profile: LoadProfile::Mixed,
        mix: "signin=5,me=3,signup=2".parse().unwrap(),
        ..open_model(200.0, 1.0, 64)
    };
    let report = benchmark_run(options.clone()).await;
    for id in ["AM-SIGNIN-01", "AM-ME-01", "AM-SIGNUP-02"] {
        assert_eq!(verdict(&report, id), Verdict::Pass, "{id}");
    }
    let figures = report.targets[0].load.as_ref().expect("the figures");
    let mut shares: Vec<(String, u64)> = figures
        .by_step
        .iter()
        .map(|step| (figures.steps[usize::from(step.step)].clone(), step.requests))
        .collect();
    shares.sort();
    assert_eq!(
        shares,
        [
            ("mixed: GET /user".to_owned(), 60),
            ("mixed: sign-ins".to_owned(), 100),
            ("mixed: sign-ups".to_owned(), 40)
        ]
    );
    // Side by side: the three floods share the schedule's second rather than taking one each.
    assert!(figures.duration_ms < 2_000, "{figures:?}");
    assert_matches_schema(&report);

    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/user"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"token": "t"})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/user/auth"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"token": "t", "user": {"id": "u1"}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let target = TargetDescription::new(server.uri().parse().unwrap(), vec![Profile::Appmixer6]);
    let report = load::run(&target, &options, false, &mut |_| {})
        .await
        .expect("the load run completes");
    let failed: Vec<&str> = report.targets[0]
        .requirements
        .iter()
        .filter(|r| r.verdict == Verdict::Fail)
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(failed, ["AM-ME-01"]);
}

/// Two targets benchmarked in turn over two rounds: one report with each round of each, and a comparison of
/// their medians in which the target slowed on purpose is the slower by far.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compared_targets_take_turns_and_the_report_ranks_them() {
    let (server, target) = start(Vec::new()).await;
    let mut slow = target.clone();
    slow.name = "slowed".to_owned();
    slow.base_url = slowed(server.base_url(), std::time::Duration::from_millis(30))
        .await
        .parse()
        .unwrap();
    let options = LoadOptions {
        profile: LoadProfile::Signin,
        ..open_model(50.0, 0.5, 16)
    };
    let mut order = Vec::new();
    let report = load::compare(
        &[(target.clone(), true), (slow, true)],
        &options,
        2,
        false,
        &mut |event| {
            if let engine::EngineEvent::TargetStarted { name, .. } = event {
                order.push((*name).to_owned());
            }
        },
    )
    .await
    .expect("the comparison runs");
    server.shutdown().await.unwrap();
    let reference = target.name.clone();
    assert_eq!(
        order,
        [
            format!("{reference}, round 1"),
            "slowed, round 1".to_owned(),
            format!("{reference}, round 2"),
            "slowed, round 2".to_owned()
        ]
    );
    assert_eq!(report.targets.len(), 4);
    assert_eq!(report.summary.passed, 4, "AM-SIGNIN-01 on each run");
    let captured = crate::reports::Captured::default();
    let mut human =
        authconform::report::HumanReporter::new(Box::new(captured.clone()), false, false);
    use authconform::report::Reporter;
    human
        .handle(&engine::EngineEvent::RunFinished(&report))
        .unwrap();
    let text = captured.text();
    let table: Vec<&str> = text
        .lines()
        .skip_while(|line| !line.starts_with("compared"))
        .collect();
    assert!(table.len() >= 4, "{text}");
    assert!(table[2].trim_start().starts_with(&reference), "{text}");
    assert!(table[3].trim_start().starts_with("slowed"), "{text}");
    let slowed_p50: f64 = table[3].split_whitespace().nth(4).unwrap().parse().unwrap();
    assert!(slowed_p50 >= 30.0, "{text}");
    assert_matches_schema(&report);
}

/// The signup-limit profile checks the IP limit under load: against the reference server exactly the
/// limit's worth of sign-ups are created with 16 in flight and the rest refused; a server that never
/// refuses fails AM-SIGNUP-RL-02 alone; a flood that cannot pass the limit is refused before it starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_signup_limit_profile_counts_the_ip_limit_exactly_under_load() {
    let config = Config {
        profile: AppmixerProfile::AppmixerCloud,
        test_clock: true,
        password_cost: authconform_reference_server::PasswordCost::Light,
        ..Config::default()
    };
    let server = crate::support::start_reference(config).await;
    let mut target = TargetDescription::new(
        server.base_url().parse().unwrap(),
        vec![Profile::AppmixerCloud],
    );
    target.clock = ClockMode::Control;
    let options = LoadOptions {
        profile: LoadProfile::SignupLimit,
        users: 16,
        requests: Some(80),
        ..lockout(16)
    };
    let report = load::run(&target, &options, false, &mut |_| {})
        .await
        .expect("the load run completes");
    assert_eq!(verdict(&report, "AM-SIGNUP-RL-02"), Verdict::Pass);
    let figures = report.targets[0].load.as_ref().expect("the figures");
    assert_eq!(figures.statuses.get(&200), Some(&50), "{figures:?}");
    assert_eq!(figures.statuses.get(&429), Some(&30), "{figures:?}");
    let first = figures.by_step[0].first_refusal.expect("a refusal");
    assert!(
        first.request > 50 - 16 && first.request <= 51 + 16,
        "{first:?}"
    );
    let too_few = load::run(
        &target,
        &LoadOptions {
            requests: Some(50),
            ..options.clone()
        },
        false,
        &mut |_| {},
    )
    .await;
    assert!(
        matches!(
            too_few,
            Err(load::LoadError::NotPastTheLimit {
                requests: 50,
                limit: 50
            })
        ),
        "{too_few:?}"
    );
    server.shutdown().await.unwrap();

    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let never_refuses = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/user"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"token": "t"})))
        .mount(&never_refuses)
        .await;
    // Real time: the run has made no signup from this address yet, so the IP window is empty at once.
    let broken = TargetDescription::new(
        never_refuses.uri().parse().unwrap(),
        vec![Profile::AppmixerCloud],
    );
    let report = load::run(&broken, &options, false, &mut |_| {})
        .await
        .expect("the load run completes");
    let failed: Vec<&str> = report.targets[0]
        .requirements
        .iter()
        .filter(|r| r.verdict == Verdict::Fail)
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(failed, ["AM-SIGNUP-RL-02"]);
}

/// What a load run announces as it starts: a paced flood takes its schedule's length (or its requests at
/// `--rate`), not what its requests alone would cost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paced_run_is_projected_at_its_schedules_length_or_its_requests_at_its_rate() {
    let (server, target) = start(Vec::new()).await;
    let projected = |options: LoadOptions| {
        let target = target.clone();
        async move {
            let mut projected = None;
            load::run(&target, &options, false, &mut |event| {
                if let authconform::engine::EngineEvent::RunStarted { projected_ms, .. } = event {
                    projected = Some(*projected_ms);
                }
            })
            .await
            .expect("the load run completes");
            projected.expect("the run announced its projection")
        }
    };
    let open = projected(LoadOptions {
        profile: LoadProfile::Signin,
        ..open_model(50.0, 1.0, 8)
    })
    .await;
    assert!((1_000..1_500).contains(&open), "{open} ms");
    let throttled = projected(LoadOptions {
        profile: LoadProfile::Signin,
        requests: Some(100),
        rate: Some(200),
        ..lockout(8)
    })
    .await;
    assert!((500..1_000).contains(&throttled), "{throttled} ms");
    // --rate alone: the profile's own requests (two floods past the threshold of 2,000) at 2,000 a second.
    let rated = projected(LoadOptions {
        rate: Some(2_000),
        ..lockout(8)
    })
    .await;
    assert!((2_000..3_000).contains(&rated), "{rated} ms");
    let unpaced = projected(LoadOptions {
        profile: LoadProfile::Signin,
        requests: Some(100),
        ..lockout(8)
    })
    .await;
    assert!(unpaced < 500, "{unpaced} ms");
    server.shutdown().await.unwrap();
}

/// `load signin`, 20,000 requests at 2,000 a second with these `--format`s, stopped by Ctrl-C (SIGINT) once
/// stderr says it is sending them: stdout and stderr's lines, the exit code checked to be 130.
fn flood_stopped_by_ctrl_c(formats: &[String]) -> (String, Vec<String>) {
    let args: Vec<String> = ["load", "signin", "--requests", "20000", "--rate", "2000"]
        .into_iter()
        .map(str::to_owned)
        .chain(
            formats
                .iter()
                .flat_map(|format| ["--format".to_owned(), format.clone()]),
        )
        .collect();
    let (code, stdout, notices) = crate::cli::interrupted_at(&args, "sending 20000 requests");
    assert_eq!(code, Some(130), "{notices:#?}\n{stdout}");
    (stdout, notices)
}

/// Ctrl-C during a flood: goose does not take the signal for itself (it would stop only its attack, and the
/// flood would be judged on part of its answers); the run stops, the flood is not judged, the figures
/// measured so far are reported, on stdout too, and the exit code is 130.
#[test]
fn ctrl_c_during_a_flood_stops_the_run_and_reports_what_was_measured() {
    let folder = tempfile::tempdir().unwrap();
    let json = folder.path().join("load.json");
    let (stdout, notices) =
        flood_stopped_by_ctrl_c(&["human".to_owned(), format!("json={}", json.display())]);
    assert!(
        notices
            .iter()
            .any(|line| line.starts_with("interrupted: stopping")),
        "{notices:#?}"
    );
    assert!(
        stdout.contains("load: "),
        "the report reaches stdout: {stdout}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let measured = report["targets"][0]["load"]["requests"].as_u64().unwrap();
    assert!((1..20_000).contains(&measured), "{measured}");
    let signin = report["targets"][0]["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|requirement| requirement["id"] == "AM-SIGNIN-01")
        .expect("the flood's requirement is reported");
    assert_eq!(signin["verdict"], "inconclusive", "{signin:#}");
    assert!(
        signin["findings"][0]["note"]
            .as_str()
            .is_some_and(|note| note.contains("interrupted (Ctrl-C) while this step was sending")),
        "{signin:#}"
    );
}

/// A run that writes only JSON (to stdout) still says on stderr what it is doing: here the flood it is
/// sending, which is where Ctrl-C stops it; stdout holds the report alone, as JSON.
#[test]
fn a_run_writing_only_json_still_says_what_it_is_sending_on_stderr() {
    let (stdout, notices) = flood_stopped_by_ctrl_c(&["json".to_owned()]);
    assert!(
        notices
            .iter()
            .any(|line| line.starts_with("sending 20000 requests: ")),
        "{notices:#?}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&stdout).expect("stdout is the JSON report alone");
    assert!(
        report["targets"][0]["load"]["requests"].as_u64().is_some(),
        "{report:#}"
    );
}
