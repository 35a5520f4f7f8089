//! The runner against several reference-server instances: given every instance's URL, it passes instances
//! on one Redis, and fails instances whose limits are not global. (The server's own behaviour on Redis is
//! tested in reference-server/tests/http/on_redis.rs.)

use std::time::Instant;

use authconform::engine::{self, RunPlan, RunReport, Selection, TargetPlan, Verdict};
use authconform::suite;
use authconform::target::{Account, ClockMode, TargetDescription};
use authconform_reference_server::{AppmixerProfile, Config, RunningServer, SeedAccount};
use authconform_scenario::model::{Capability, Profile};

use crate::redis_instances::{admin, connect, on_redis, shutdown, start_instances};
use crate::redis_server::{Persistence, RedisServer};

/// The runner's description of instances as one target, spread over every URL, with the clock controlled.
fn target_of(servers: &[RunningServer], profiles: Vec<Profile>) -> TargetDescription {
    let urls = servers
        .iter()
        .map(|server| server.base_url().parse().unwrap())
        .collect();
    let mut target = TargetDescription::spread_over(urls, profiles).unwrap();
    target.clock = ClockMode::Control;
    target.forwarded_for = true;
    target.admin = Some(account(&admin()));
    target.creditsafe = Some(account(&connect()));
    target
}

fn account(seed: &SeedAccount) -> Account {
    Account {
        username: seed.username.clone(),
        email: seed.email.clone(),
        password: seed.password.clone(),
    }
}

fn problems(report: &RunReport) -> Vec<String> {
    report
        .targets
        .iter()
        .flat_map(|target| {
            target
                .requirements
                .iter()
                .filter(|r| !matches!(r.verdict, Verdict::Pass | Verdict::Skip))
                .map(move |r| {
                    format!(
                        "{} on {}: {} {:#?}",
                        r.id, target.name, r.verdict, r.findings
                    )
                })
        })
        .collect()
}

/// Every Appmixer profile (and Creditsafe Connect) as three instances on one Redis, checked by the whole
/// suite spread over the three URLs, the test clock advanced through the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_on_one_redis_pass_the_whole_suite_across_their_urls() {
    let Some(redis) = RedisServer::start(Persistence::None) else {
        return;
    };
    let groups: [(&str, AppmixerProfile, Vec<Profile>, Option<&str>); 4] = [
        (
            "suite-51:",
            AppmixerProfile::Appmixer51,
            vec![Profile::Appmixer51, Profile::CreditsafeConnect],
            None,
        ),
        (
            "suite-6:",
            AppmixerProfile::Appmixer6,
            vec![Profile::Appmixer6],
            None,
        ),
        (
            "suite-cloud:",
            AppmixerProfile::AppmixerCloud,
            vec![Profile::AppmixerCloud],
            None,
        ),
        (
            "suite-scope:",
            AppmixerProfile::AppmixerCloud,
            vec![Profile::AppmixerCloud],
            Some("admin"),
        ),
    ];
    let mut targets = Vec::new();
    let mut servers = Vec::new();
    for (prefix, profile, profiles, scope) in groups {
        let config = on_redis(
            &redis,
            prefix,
            Config {
                profile,
                user_create_scope: scope.map(str::to_owned),
                ..Config::default()
            },
        );
        let instances = start_instances(&config, 3).await;
        let mut description = target_of(&instances, profiles);
        description.user_create_scope = scope.map(str::to_owned);
        targets.push(TargetPlan {
            only_requiring: scope.map(|_| Capability::CreateScope),
            ..TargetPlan::new(description)
        });
        servers.extend(instances);
    }
    let suite = suite::load(&[]).expect("the built-in suite is valid");
    let plan = RunPlan {
        targets,
        selection: Selection::all(),
        strict: true,
        jobs: authconform::engine::DEFAULT_JOBS,
    };
    let started = Instant::now();
    let report = engine::run(&suite, &plan, &mut |_| {})
        .await
        .expect("the run completes");
    println!(
        "suite across 3 instances per target on one Redis: {} requests in {:.2}s",
        report
            .targets
            .iter()
            .flat_map(|t| &t.scenarios)
            .map(|s| s.requests)
            .sum::<u64>(),
        started.elapsed().as_secs_f64()
    );
    shutdown(servers).await;
    let problems = problems(&report);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The instances trust X-Forwarded-For, so the checks of forged addresses are skipped here.
    for requirement in suite
        .catalogue
        .requirements
        .iter()
        .filter(|r| !crate::support::needs_untrusted_forwarded_for(&suite, &r.id))
    {
        assert!(
            report
                .targets
                .iter()
                .flat_map(|t| &t.requirements)
                .any(|r| r.id == requirement.id && r.verdict == Verdict::Pass),
            "{} passed on no target",
            requirement.id
        );
    }
    assert_eq!(report.targets[0].other_base_urls.len(), 2);
}

/// The proof that the multi-URL suite can fail: three in-memory instances behind three URLs each count
/// only their share of the requests, and the checks of the global limits fail on their ids. (Their clocks
/// are not shared either, so the runner waits in real time, with short windows.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_whose_limits_are_not_global_fail_the_global_limit_checks() {
    use authconform::target::Limits;
    let config = Config {
        profile: AppmixerProfile::AppmixerCloud,
        signup_rate_limit_email: 3,
        signup_rate_limit_email_window_ms: 1_000,
        signup_rate_limit_ip: 10,
        signup_rate_limit_ip_window_ms: 1_000,
        cs_identical_invalid_window_ms: 1_000,
        cs_overall_threshold: 200,
        cs_overall_window_ms: 1_500,
        admin: admin(),
        creditsafe_account: connect(),
        appmixer_jwt_secret: Some("per-instance-but-equal".into()),
        trust_forwarded_for: true,
        ..Config::default()
    };
    let servers = start_instances(&config, 3).await;
    let mut target = target_of(
        &servers,
        vec![Profile::AppmixerCloud, Profile::CreditsafeConnect],
    );
    target.clock = ClockMode::Real;
    target.slack_ms = 300;
    target.limits = Limits {
        signup_email: 3,
        signup_email_window_ms: 1_000,
        signup_ip: 10,
        signup_ip_window_ms: 1_000,
        cs_invalid_window_ms: 1_000,
        cs_overall_threshold: 200,
        cs_overall_window_ms: 1_500,
        ..Limits::default()
    };
    let suite = suite::load(&[]).unwrap();
    let plan = RunPlan {
        targets: vec![TargetPlan::new(target)],
        selection: Selection::new(
            &[
                "AM-SIGNUP-RL-01".into(),
                "AM-SIGNUP-RL-02".into(),
                "CS-INVALID-01".into(),
                "CS-LOCKOUT-0*".into(),
            ],
            &[],
        )
        .unwrap(),
        strict: true,
        // One-second windows leave 700 ms for a burst and its probe: scenarios beside it on a busy
        // machine would push it past its `within` margin. Real mode side by side is measured by
        // scripts/bench-real-mode.sh on windows of seconds.
        jobs: 1,
    };
    let report = engine::run(&suite, &plan, &mut |_| {}).await.unwrap();
    shutdown(servers).await;
    let verdict = |id: &str| {
        report.targets[0]
            .requirements
            .iter()
            .find(|r| r.id == id)
            .map_or(Verdict::Skip, |r| r.verdict)
    };
    for id in [
        "AM-SIGNUP-RL-01",
        "AM-SIGNUP-RL-02",
        "CS-INVALID-01",
        "CS-LOCKOUT-02",
    ] {
        assert_eq!(verdict(id), Verdict::Fail, "{id}: {:#?}", report.targets[0]);
    }
    // The findings name the instance that answered each exchange, and requests went to several.
    let answered_by: std::collections::BTreeSet<String> = report.targets[0]
        .requirements
        .iter()
        .flat_map(|r| &r.findings)
        .filter_map(|f| f.exchange.as_ref())
        .filter_map(|exchange| reqwest::Url::parse(&exchange.request.url).ok())
        .filter_map(|url| url.port())
        .map(|port| port.to_string())
        .collect();
    assert!(answered_by.len() >= 2, "answered by {answered_by:?}");
}

/// Several base URLs in control mode need one shared clock: instances with clocks of their own are caught
/// after the first advance, and the checks after it are inconclusive rather than passed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_without_one_shared_test_clock_make_waits_inconclusive() {
    use authconform_scenario::model::Wait;

    use crate::support::{MUST, request, run, scenario, step, wait_step};
    let config = Config {
        profile: AppmixerProfile::Appmixer6,
        test_clock: true,
        ..Config::default()
    };
    let servers = vec![
        crate::support::start_reference(config.clone()).await,
        crate::support::start_reference(config).await,
    ];
    let mut target = target_of(&servers, vec![Profile::Appmixer6]);
    target.timeout_ms = 5_000;
    let suite = crate::support::suite(vec![scenario(
        "waits-on-two-clocks",
        &[MUST],
        vec![
            wait_step("a minute passes", Wait::Millis(60_000)),
            step("after the wait", &[MUST], request("GET", "/healthz")),
        ],
    )]);
    let report = run(&suite, target).await;
    shutdown(servers).await;
    let requirement = crate::support::requirement_report(&report, MUST);
    assert_eq!(requirement.verdict, Verdict::Inconclusive);
    let note = requirement.findings[0].note.clone().unwrap_or_default();
    assert!(note.contains("do not share one test clock"), "{note}");
}

/// `authconform load lockout` against three instances on one Redis: goose's flood is spread over the three
/// URLs at 64 concurrent users, and CS-LOCKOUT-01 to 05 hold (exactly the threshold answered normally).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_load_lockout_profile_spread_over_three_instances_passes() {
    use authconform::load::{self, LoadOptions, LoadProfile};
    let Some(redis) = RedisServer::start(Persistence::None) else {
        return;
    };
    let config = on_redis(&redis, "load:", Config::default());
    let servers = start_instances(&config, 3).await;
    let target = target_of(
        &servers,
        vec![Profile::CreditsafeConnect, Profile::AppmixerCloud],
    );
    let options = LoadOptions {
        ..LoadOptions::new(LoadProfile::Lockout)
    };
    let started = Instant::now();
    let report = load::run(&target, &options, false, &mut |_| {})
        .await
        .expect("the load run completes");
    println!(
        "load lockout over 3 instances: {:.2}s",
        started.elapsed().as_secs_f64()
    );
    shutdown(servers).await;
    for id in [
        "CS-LOCKOUT-01",
        "CS-LOCKOUT-02",
        "CS-LOCKOUT-03",
        "CS-LOCKOUT-04",
        "CS-LOCKOUT-05",
    ] {
        let verdict = report.targets[0]
            .requirements
            .iter()
            .find(|v| v.id == id)
            .map_or(Verdict::Skip, |v| v.verdict);
        assert_eq!(
            verdict,
            Verdict::Pass,
            "{id}: {}",
            crate::mutants::explain(&report, id)
        );
    }
}

/// The same load profile over three in-memory instances fails: each counts only its share of the flood, so
/// far more than the threshold is answered normally. This proves the flood is spread. (Their test clocks
/// are not shared either, so time passes for real: windows of a second.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_load_lockout_profile_fails_instances_whose_counts_are_not_global() {
    use authconform::load::{self, LoadOptions, LoadProfile};
    let config = Config {
        cs_overall_threshold: 900,
        cs_overall_window_ms: 1_000,
        admin: admin(),
        creditsafe_account: connect(),
        appmixer_jwt_secret: Some("per-instance-but-equal".into()),
        test_clock: true,
        trust_forwarded_for: true,
        ..Config::default()
    };
    let servers = start_instances(&config, 3).await;
    let mut target = target_of(
        &servers,
        vec![Profile::CreditsafeConnect, Profile::AppmixerCloud],
    );
    target.limits.cs_overall_threshold = 900;
    target.limits.cs_overall_window_ms = 1_000;
    target.slack_ms = 200;
    target.clock = ClockMode::Real;
    let options = LoadOptions {
        ..LoadOptions::new(LoadProfile::Lockout)
    };
    let report = load::run(&target, &options, false, &mut |_| {})
        .await
        .expect("the load run completes");
    shutdown(servers).await;
    let verdict = |id: &str| {
        report.targets[0]
            .requirements
            .iter()
            .find(|v| v.id == id)
            .map_or(Verdict::Skip, |v| v.verdict)
    };
    assert_eq!(
        verdict("CS-LOCKOUT-02"),
        Verdict::Fail,
        "{:#?}",
        crate::mutants::explain(&report, "CS-LOCKOUT-02")
    );
}
