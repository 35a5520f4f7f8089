//! The goose load profile against the reference server: the lockout verification passes on the correct
//! server and fails, on the right requirement, on servers that let extra requests through under
//! concurrency, do not count 429s, or end the lockout early.

use authconform::engine::Verdict;
use authconform::load::{self, LoadOptions, LoadProfile, LoadReport};
use authconform::target::{Account, ClockMode, Limits, TargetDescription};
use authconform_reference_server::Fault;
use authconform_reference_server::{AppmixerProfile, Config, SeedAccount};
use authconform_scenario::model::Profile;

const THRESHOLD: u64 = 2_000;

pub(crate) async fn lockout_run(faults: Vec<Fault>, options: LoadOptions) -> LoadReport {
    let config = Config {
        profile: AppmixerProfile::Appmixer6,
        cs_overall_threshold: THRESHOLD,
        test_clock: true,
        trust_forwarded_for: true,
        admin: SeedAccount {
            username: "admin@example.com".into(),
            email: None,
            password: "load-admin".into(),
        },
        faults,
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
    target.admin = Some(Account {
        username: "admin@example.com".into(),
        email: None,
        password: "load-admin".into(),
    });
    let report = load::run(&target, &options, &mut |_| {})
        .await
        .expect("the load run completes");
    server.shutdown().await.unwrap();
    report
}

pub(crate) fn lockout(users: usize) -> LoadOptions {
    LoadOptions {
        profile: LoadProfile::Lockout,
        users,
        requests: Some(200),
        rate: None,
        report_dir: None,
        thresholds: Vec::new(),
    }
}

fn verdict(report: &LoadReport, id: &str) -> Verdict {
    report
        .requirements
        .iter()
        .find(|v| v.id == id)
        .map_or(Verdict::Skip, |v| v.verdict)
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
            "{id}: {:#?}",
            report.requirements
        );
    }
    assert!(report.passed(true));
    assert_eq!(report.requests, THRESHOLD - 20 + 200);
    assert_eq!(report.transport_errors, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_counter_that_is_not_atomic_fails_cs_lockout_05() {
    let report = lockout_run(vec![Fault::CounterNotAtomic], lockout(64)).await;
    assert_eq!(
        verdict(&report, "CS-LOCKOUT-05"),
        Verdict::Fail,
        "{:#?}",
        report.requirements
    );
    assert!(!report.passed(false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uncounted_429s_fail_cs_lockout_03() {
    let report = lockout_run(vec![Fault::RefusalsNotCounted], lockout(16)).await;
    assert_eq!(
        verdict(&report, "CS-LOCKOUT-03"),
        Verdict::Fail,
        "{:#?}",
        report.requirements
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lockout_that_ends_early_fails_cs_lockout_04() {
    let report = lockout_run(vec![Fault::LockoutEndsEarly], lockout(16)).await;
    assert_eq!(
        verdict(&report, "CS-LOCKOUT-04"),
        Verdict::Fail,
        "{:#?}",
        report.requirements
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_lockout_fails_cs_lockout_02_and_thresholds_are_judged() {
    let mut options = lockout(16);
    options.thresholds = vec!["p99<60s".parse().unwrap(), "rps>100000000".parse().unwrap()];
    let report = lockout_run(vec![Fault::NoLockout], options).await;
    assert_eq!(verdict(&report, "CS-LOCKOUT-02"), Verdict::Fail);
    assert!(report.thresholds[0].passed);
    assert!(!report.thresholds[1].passed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_signin_benchmark_reports_rates_and_writes_goose_reports() {
    let dir = tempfile::tempdir().unwrap();
    let options = LoadOptions {
        profile: LoadProfile::Signin,
        users: 8,
        requests: Some(40),
        rate: None,
        report_dir: Some(dir.path().to_owned()),
        thresholds: Vec::new(),
    };
    let report = lockout_run(Vec::new(), options).await;
    assert_eq!(
        report.statuses.get(&200),
        Some(&40),
        "{:?}",
        report.statuses
    );
    assert!(report.requests_per_second > 0.0);
    for ext in ["html", "json", "md"] {
        let path = dir.path().join(format!("goose-report.{ext}"));
        assert!(
            path.metadata().is_ok_and(|m| m.len() > 0),
            "{} is missing",
            path.display()
        );
    }
    let mut json = Vec::new();
    authconform::report::load::write_json(&report, &mut json).unwrap();
    let parsed: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(parsed["profile"], "signin");
    let mut junit = Vec::new();
    authconform::report::load::write_junit(&report, &mut junit).unwrap();
    assert!(String::from_utf8(junit).unwrap().contains("signin-answers"));
}

/// The flood's own HTTP/1.1 transport: the target's headers reach the server, and a server that closes
/// every connection after one answer is still answered in full (each user reconnects).
#[tokio::test]
async fn the_flood_sends_the_targets_headers_and_survives_closed_connections() {
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/authenticate"))
        .and(header("x-tenant", "demo"))
        .and(header("content-type", "application/json"))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("connection", "close")
                .set_body_json(serde_json::json!({"message": "no"})),
        )
        .mount(&server)
        .await;
    let mut target = TargetDescription::new(
        format!("{}/api/", server.uri()).parse().unwrap(),
        vec![Profile::CreditsafeConnect],
    );
    target.headers = vec![("x-tenant".into(), "demo".into())];
    let plan = load::FloodPlan {
        path: "/authenticate".into(),
        total: 300,
        users: 8,
        rate: None,
        report_dir: None,
        forwarded_for: None,
        authorization: None,
        expected: vec![401],
        body: std::sync::Arc::new(|n| serde_json::json!({ "username": format!("u{n}") })),
    };
    let stats = load::run_flood(&target, plan, &mut |_| {})
        .await
        .expect("the flood runs");
    assert_eq!(stats.sent, 300);
    assert_eq!(stats.transport_errors, 0, "{stats:?}");
    assert_eq!(stats.count(&[401]), 300, "{stats:?}");
}
