//! The reference server on a real Redis: several instances enforce one global set of limits (exactly, under
//! concurrency), share users and tokens, lose nothing Redis acknowledged, answer 503 while Redis is away and
//! recover by themselves; and the runner, given every instance's URL, passes them, while it fails instances
//! whose limits are not global.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use authconform::engine::{self, RunPlan, RunReport, Selection, TargetPlan, Verdict};
use authconform::suite;
use authconform::target::{Account, ClockMode, TargetDescription};
use authconform_reference_server::limiter::{Rule, WindowKind, WindowLimiter};
use authconform_reference_server::limits::{Decision, Limiter};
use authconform_reference_server::redis_store::{RedisLimiter, RedisStore};
use authconform_reference_server::{
    AppState, AppmixerProfile, Clock, Config, RunningServer, SeedAccount, StoreLocation,
};
use authconform_scenario::model::{Capability, Profile};
use serde_json::{Value, json};

use crate::redis_server::{Persistence, RedisServer};

const LOCKED_OUT: &str =
    "Too many requests to the authenticate endpoint. Please wait 5 minutes before trying again.";

fn admin() -> SeedAccount {
    SeedAccount {
        username: "admin@example.com".into(),
        email: Some("admin@example.com".into()),
        password: "redis-admin-password".into(),
    }
}

fn connect() -> SeedAccount {
    SeedAccount {
        username: "connect-user@example.com".into(),
        email: None,
        password: "redis-connect-password".into(),
    }
}

/// A configuration whose state lives in `redis` under `prefix`, test clock on, `X-Forwarded-For` trusted.
fn on_redis(redis: &RedisServer, prefix: &str, config: Config) -> Config {
    Config {
        store: StoreLocation::Redis { url: redis.url(0) },
        store_prefix: prefix.into(),
        store_timeout_ms: 500,
        admin: admin(),
        creditsafe_account: connect(),
        test_clock: true,
        trust_forwarded_for: true,
        ..config
    }
}

async fn start_instance(config: &Config) -> RunningServer {
    let state = AppState::open(config.clone(), Clock::system())
        .await
        .expect("the state opens");
    RunningServer::start(([127, 0, 0, 1], 0).into(), state)
        .await
        .expect("the server binds")
}

async fn start_instances(config: &Config, count: usize) -> Vec<RunningServer> {
    let mut servers = Vec::with_capacity(count);
    for _ in 0..count {
        servers.push(start_instance(config).await);
    }
    servers
}

async fn shutdown(servers: Vec<RunningServer>) {
    for server in servers {
        server.shutdown().await.unwrap();
    }
}

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

struct Answer {
    status: u16,
    retry_after: Option<String>,
    json: Value,
}

async fn send(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let text = response.text().await.unwrap_or_default();
    Answer {
        status,
        retry_after,
        json: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

async fn post(client: &reqwest::Client, server: &RunningServer, path: &str, body: Value) -> Answer {
    send(
        client
            .post(format!("{}{path}", server.base_url()))
            .json(&body),
    )
    .await
}

async fn get_user(client: &reqwest::Client, server: &RunningServer, token: &str) -> Answer {
    send(
        client
            .get(format!("{}/user", server.base_url()))
            .bearer_auth(token),
    )
    .await
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
            description,
            only_requiring: scope.map(|_| Capability::CreateScope),
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
    for requirement in &suite.catalogue.requirements {
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

/// CS-LOCKOUT-05 across instances: 10,200 identical invalid requests from 64 concurrent clients spread
/// over three instances; exactly 10,000 are answered normally, the rest locked out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lockout_is_exact_under_64_concurrent_clients_spread_over_three_instances() {
    let Some(redis) = RedisServer::start(Persistence::None) else {
        return;
    };
    let config = on_redis(&redis, "lockout:", Config::default());
    let servers = Arc::new(start_instances(&config, 3).await);
    let client = reqwest::Client::new();
    let normal = Arc::new(AtomicU64::new(0));
    let locked = Arc::new(AtomicU64::new(0));
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..64)
        .map(|_| {
            let (servers, client, normal, locked, next) = (
                servers.clone(),
                client.clone(),
                normal.clone(),
                locked.clone(),
                next.clone(),
            );
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= 10_200 {
                        break;
                    }
                    let server = &servers[usize::try_from(n % 3).unwrap()];
                    let answer = send(
                        client
                            .post(format!("{}/authenticate", server.base_url()))
                            .header("x-forwarded-for", "10.9.0.7")
                            .json(&json!({ "username": "load", "password": "bad" })),
                    )
                    .await;
                    if answer.json["message"] == LOCKED_OUT {
                        locked.fetch_add(1, Ordering::Relaxed);
                    } else {
                        assert!(
                            matches!(answer.status, 401 | 429),
                            "{} {}",
                            answer.status,
                            answer.json
                        );
                        normal.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    println!(
        "lockout across 3 instances: {} normal, {} locked out, in {:.2}s",
        normal.load(Ordering::Relaxed),
        locked.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(normal.load(Ordering::Relaxed), 10_000);
    assert_eq!(locked.load(Ordering::Relaxed), 200);
    let servers = Arc::try_unwrap(servers).ok().unwrap();
    shutdown(servers).await;
}

/// Users created through any instance are known to all, tokens from one are accepted by the others (the
/// secrets are agreed through Redis), and an instance started again still knows every user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_instance_loses_no_users_and_instances_accept_each_others_tokens() {
    let Some(redis) = RedisServer::start(Persistence::None) else {
        return;
    };
    let config = on_redis(
        &redis,
        "restart:",
        Config {
            profile: AppmixerProfile::Appmixer6,
            ..Config::default()
        },
    );
    let mut servers = start_instances(&config, 2).await;
    let client = reqwest::Client::new();
    let mut tokens = Vec::new();
    for n in 0..12 {
        let created = post(
            &client,
            &servers[n % 2],
            "/user",
            json!({ "username": format!("kept{n}"), "email": format!("kept{n}@example.com"), "password": "pw-kept" }),
        )
        .await;
        assert_eq!(created.status, 200, "{}", created.json);
        tokens.push(created.json["token"].as_str().unwrap().to_owned());
    }
    // The same username through the other instance: the uniqueness check is global.
    let duplicate = post(
        &client,
        &servers[1],
        "/user",
        json!({ "username": "kept0", "email": "other@example.com", "password": "pw" }),
    )
    .await;
    assert_eq!(duplicate.status, 409);

    let first = servers.remove(0);
    first.shutdown().await.unwrap();
    servers.insert(0, start_instance(&config).await);
    for (n, token) in tokens.iter().enumerate() {
        let me = get_user(&client, &servers[0], token).await;
        assert_eq!(me.status, 200, "user {n} after the restart: {}", me.json);
        assert_eq!(me.json["username"], format!("kept{n}"));
    }
    let signed_in = post(
        &client,
        &servers[0],
        "/user/auth",
        json!({ "username": "kept5", "password": "pw-kept" }),
    )
    .await;
    assert_eq!(signed_in.status, 200);
    let health = send(client.get(format!("{}/healthz", servers[0].base_url()))).await;
    assert_eq!(health.json["store"], "redis");
    assert_eq!(health.json["users"], 13, "the admin and twelve users");

    // A Creditsafe token from one instance verifies with the other's published key.
    let token = post(
        &client,
        &servers[1],
        "/authenticate",
        json!({ "username": connect().username, "password": connect().password }),
    )
    .await;
    assert_eq!(token.status, 200);
    let jwks_first =
        send(client.get(format!("{}/.well-known/jwks.json", servers[0].base_url()))).await;
    let jwks_second =
        send(client.get(format!("{}/.well-known/jwks.json", servers[1].base_url()))).await;
    assert_eq!(jwks_first.json, jwks_second.json);
    shutdown(servers).await;
}

/// Users are created while Redis (append-only, fsync always) is killed and started again: every user that
/// got a 2xx is still there afterwards, and the instance recovered without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_and_restarting_a_persistent_redis_loses_no_acknowledged_user() {
    let Some(mut redis) = RedisServer::start(Persistence::AppendFsyncAlways) else {
        return;
    };
    let config = on_redis(
        &redis,
        "persist:",
        Config {
            profile: AppmixerProfile::Appmixer6,
            hash_concurrency: 2,
            ..Config::default()
        },
    );
    let server = Arc::new(start_instance(&config).await);
    let client = reqwest::Client::new();
    let next = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let creators: Vec<_> = (0..4)
        .map(|_| {
            let (server, client, next, stop) =
                (server.clone(), client.clone(), next.clone(), stop.clone());
            tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                let mut refused = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let answer = post(
                        &client,
                        &server,
                        "/user",
                        json!({ "username": format!("durable{n}"), "email": format!("durable{n}@example.com"), "password": "pw-durable" }),
                    )
                    .await;
                    match answer.status {
                        200 => acknowledged.push(n),
                        503 => refused += 1,
                        other => panic!("user {n}: {other} {}", answer.json),
                    }
                }
                (acknowledged, refused)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(700)).await;
    redis.kill();
    tokio::time::sleep(Duration::from_millis(300)).await;
    redis.restart();
    tokio::time::sleep(Duration::from_millis(700)).await;
    stop.store(true, Ordering::Relaxed);
    let mut acknowledged = Vec::new();
    let mut refused = 0;
    for creator in creators {
        let (mine, mine_refused) = creator.await.unwrap();
        acknowledged.extend(mine);
        refused += mine_refused;
    }
    println!(
        "{} users acknowledged, {refused} refused with 503 while Redis was down",
        acknowledged.len()
    );
    assert!(!acknowledged.is_empty());
    assert!(refused > 0, "some signups met the missing Redis");
    wait_until_healthy(&client, &server).await;
    for n in &acknowledged {
        let signed_in = post(
            &client,
            &server,
            "/user/auth",
            json!({ "username": format!("durable{n}"), "password": "pw-durable" }),
        )
        .await;
        assert_eq!(signed_in.status, 200, "acknowledged user {n} is lost");
    }
    Arc::try_unwrap(server)
        .ok()
        .unwrap()
        .shutdown()
        .await
        .unwrap();
}

async fn wait_until_healthy(client: &reqwest::Client, server: &RunningServer) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let health = send(client.get(format!("{}/healthz", server.base_url()))).await;
        if health.status == 200 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the instance did not recover within 10 s: {}",
            health.json
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// While Redis is away every endpoint that needs it answers 503 with a JSON body and a Retry-After, within
/// the store timeout; once Redis is back the same instance answers normally again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_requests_get_a_quick_503_and_the_instance_recovers_when_it_returns() {
    let Some(mut redis) = RedisServer::start(Persistence::AppendFsyncAlways) else {
        return;
    };
    let config = on_redis(
        &redis,
        "outage:",
        Config {
            profile: AppmixerProfile::AppmixerCloud,
            ..Config::default()
        },
    );
    let server = start_instance(&config).await;
    let client = reqwest::Client::new();
    let created = post(
        &client,
        &server,
        "/user",
        json!({ "username": "before", "email": "before@example.com", "password": "pw-before" }),
    )
    .await;
    assert_eq!(created.status, 200);
    let token = created.json["token"].as_str().unwrap().to_owned();

    redis.kill();
    let requests = [
        client.post(format!("{}/user", server.base_url())).json(
            &json!({ "username": "during", "email": "during@example.com", "password": "pw" }),
        ),
        client
            .post(format!("{}/user/auth", server.base_url()))
            .json(&json!({ "username": "before", "password": "pw-before" })),
        client
            .get(format!("{}/user", server.base_url()))
            .bearer_auth(&token),
        client
            .post(format!("{}/authenticate", server.base_url()))
            .json(&json!({ "username": "x", "password": "y" })),
        client.get(format!("{}/healthz", server.base_url())),
    ];
    for request in requests {
        let started = Instant::now();
        let answer = send(request).await;
        let took = started.elapsed();
        assert_eq!(answer.status, 503, "{}", answer.json);
        assert!(
            answer.json["message"].is_string(),
            "a JSON body with a message: {}",
            answer.json
        );
        assert_eq!(answer.retry_after.as_deref(), Some("1"));
        assert!(took < Duration::from_secs(3), "answered after {took:?}");
    }
    let boom = send(
        client
            .get(format!("{}/user", server.base_url()))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(boom.json["statusCode"], 503);
    assert_eq!(boom.json["error"], "Service Unavailable");

    redis.restart();
    wait_until_healthy(&client, &server).await;
    let me = get_user(&client, &server, &token).await;
    assert_eq!(me.status, 200, "{}", me.json);
    let after = post(
        &client,
        &server,
        "/user",
        json!({ "username": "after", "email": "after@example.com", "password": "pw" }),
    )
    .await;
    assert_eq!(after.status, 200, "{}", after.json);
    server.shutdown().await.unwrap();
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
        signup_rate_limit_ip: 6,
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
        signup_ip: 6,
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

/// The Redis limiter script decides exactly as the in-memory limiter does, for every kind of rule, over a
/// long pseudo-random sequence of attempts, peeks and give-backs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_redis_limiter_decides_as_the_memory_limiter_does() {
    let Some(redis) = RedisServer::start(Persistence::None) else {
        return;
    };
    let store = RedisStore::connect(&redis.url(0), "parity:", Duration::from_secs(2))
        .await
        .unwrap();
    let rules = [
        Rule::refuse(3, 60_000),
        Rule::refuse(3, 60_000).with_kind(WindowKind::Sliding),
        Rule::lock_out(4, 60_000, 90_000),
        Rule::lock_out(4, 60_000, 90_000).with_kind(WindowKind::Sliding),
        Rule {
            lockout_extends: true,
            ..Rule::lock_out(2, 60_000, 60_000)
        },
        Rule {
            lockout_extends: true,
            ..Rule::lock_out(2, 60_000, 60_000).with_kind(WindowKind::Sliding)
        },
    ];
    let names = ["r0", "r1", "r2", "r3", "r4", "r5"];
    for (rule, name) in rules.into_iter().zip(names) {
        let memory = Limiter::Memory(WindowLimiter::new(rule, 10_000));
        let shared = Limiter::Redis(RedisLimiter::new(store.clone(), name, rule));
        let mut now_ms: u64 = 1_700_000_000_000;
        let mut seed: u64 = 0x5eed;
        let mut tickets = [None, None];
        for step in 0..600 {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let roll = seed >> 33;
            now_ms += roll % 9_000;
            let key = ["a", "b", "c"][usize::try_from(roll % 3).unwrap()];
            match roll % 10 {
                0 => {
                    if let (Some(mine), Some(theirs)) = (tickets[0].take(), tickets[1].take()) {
                        memory.give_back(mine).await.unwrap();
                        shared.give_back(theirs).await.unwrap();
                    }
                }
                1 => assert_eq!(
                    memory.would_refuse(key, now_ms).await.unwrap(),
                    shared.would_refuse(key, now_ms).await.unwrap(),
                    "{name} step {step}: peek at {key}"
                ),
                _ => {
                    let expected = memory.attempt(key, now_ms).await.unwrap();
                    let actual = shared.attempt(key, now_ms).await.unwrap();
                    match (expected, actual) {
                        (
                            Decision::Allowed { ticket: mine },
                            Decision::Allowed { ticket: theirs },
                        ) => tickets = [Some(mine), Some(theirs)],
                        (
                            Decision::Limited { retry_after_ms: a },
                            Decision::Limited { retry_after_ms: b },
                        ) => assert_eq!(a, b, "{name} step {step}: retry-after for {key}"),
                        (expected, actual) => panic!(
                            "{name} step {step}: {key} at {now_ms}: memory {expected:?}, redis {actual:?}"
                        ),
                    }
                }
            }
        }
    }
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
        profile: LoadProfile::Lockout,
        users: 64,
        requests: Some(200),
        rate: None,
        report_dir: None,
        thresholds: Vec::new(),
    };
    let started = Instant::now();
    let report = load::run(&target, &options, &mut |_| {})
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
        let verdict = report
            .requirements
            .iter()
            .find(|v| v.id == id)
            .map_or(Verdict::Skip, |v| v.verdict);
        assert_eq!(verdict, Verdict::Pass, "{id}: {:#?}", report.requirements);
    }
}

/// The same load profile over three in-memory instances fails: each counts only its share of the flood, so
/// far more than the threshold is answered normally. This proves the flood is spread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_load_lockout_profile_fails_instances_whose_counts_are_not_global() {
    use authconform::load::{self, LoadOptions, LoadProfile};
    let config = Config {
        cs_overall_threshold: 900,
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
    let options = LoadOptions {
        profile: LoadProfile::Lockout,
        users: 64,
        requests: Some(200),
        rate: None,
        report_dir: None,
        thresholds: Vec::new(),
    };
    let report = load::run(&target, &options, &mut |_| {})
        .await
        .expect("the load run completes");
    shutdown(servers).await;
    let verdict = |id: &str| {
        report
            .requirements
            .iter()
            .find(|v| v.id == id)
            .map_or(Verdict::Skip, |v| v.verdict)
    };
    assert_eq!(
        verdict("CS-LOCKOUT-02"),
        Verdict::Fail,
        "{:#?}",
        report.requirements
    );
}

/// `--store` takes `memory` or a plain `redis://` URL, and names the flag for anything else.
#[test]
fn the_store_flag_takes_memory_or_a_redis_url() {
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Flags {
        #[command(flatten)]
        server: authconform_reference_server::ServerArgs,
    }
    let config = |args: &[&str]| {
        let mut all = vec!["server"];
        all.extend_from_slice(args);
        Flags::try_parse_from(all).map(|flags| flags.server.into_config().unwrap())
    };
    let default = config(&[]).unwrap();
    assert_eq!(default.store, StoreLocation::Memory);
    assert_eq!(default.store_prefix, "authconform:");
    let redis = config(&[
        "--store",
        "redis://127.0.0.1:6390/2",
        "--store-prefix",
        "staging:",
    ])
    .unwrap();
    assert_eq!(
        redis.store,
        StoreLocation::Redis {
            url: "redis://127.0.0.1:6390/2".into()
        }
    );
    assert_eq!(redis.store_prefix, "staging:");
    for (value, says) in [
        (
            "postgres://db",
            "neither `memory` nor a `redis://HOST:PORT/DB` URL",
        ),
        ("rediss://127.0.0.1:6390/0", "no TLS"),
        ("redis://127.0.0.1:6390/notadb", "not a usable Redis URL"),
    ] {
        let error = config(&["--store", value]).unwrap_err().to_string();
        assert!(error.contains("--store") && error.contains(says), "{error}");
    }
    let zero = Flags::try_parse_from(["server", "--store-timeout-ms", "0"])
        .unwrap()
        .server
        .into_config()
        .unwrap_err();
    assert!(zero.to_string().contains("--store-timeout-ms"), "{zero}");
}
