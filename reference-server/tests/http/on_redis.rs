//! The server on a real Redis: several instances enforce one global set of limits (exactly, under
//! concurrency), share users and tokens, lose nothing Redis acknowledged, answer 503 while Redis is away and
//! recover by themselves (no request fails once Redis has been back for a second); the keyed limits read as
//! in memory (AM-SIGNUP-RL-09, both readings of invalid signups); and `--store` is read as documented.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use authconform_reference_server::AppmixerProfile::{self, AppmixerCloud};
use authconform_reference_server::{AppState, Clock, Config, RunningServer, StoreLocation};
use serde_json::{Value, json};

use crate::redis_instances::{connect, on_redis, shutdown, start_instance, start_instances};
use crate::redis_server::{Persistence, RedisServer};
use crate::signup_limits::{
    an_invalid_signup_counts_only_when_counted, limited,
    the_email_limit_counts_an_address_however_it_is_written,
};

const LOCKED_OUT: &str =
    "Too many requests to the authenticate endpoint. Please wait 5 minutes before trying again.";

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn am_signup_rl_09_holds_on_redis() {
    let Some(redis) = RedisServer::start(Persistence::None) else {
        return;
    };
    let config = on_redis(&redis, "rl09:", limited(AppmixerCloud, 3, 50));
    the_email_limit_counts_an_address_however_it_is_written(config).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_readings_of_invalid_signups_hold_on_redis() {
    let Some(redis) = RedisServer::start(Persistence::None) else {
        return;
    };
    let prefixes = std::sync::atomic::AtomicU32::new(0);
    an_invalid_signup_counts_only_when_counted(|| {
        let prefix = prefixes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        on_redis(
            &redis,
            &format!("invalid{prefix}:"),
            limited(AppmixerCloud, 2, 3),
        )
    })
    .await;
}

/// Redis restarts under two idle instances; a second after it is back, the first request on each (and
/// every one after it) is answered as usual, not 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_after_redis_restarts_no_request_fails() {
    let Some(mut redis) = RedisServer::start(Persistence::AppendFsyncAlways) else {
        return;
    };
    let config = on_redis(&redis, "restart:", crate::support::config(AppmixerCloud));
    let mut instances = Vec::new();
    for _ in 0..2 {
        let state = AppState::open(config.clone(), Clock::system())
            .await
            .expect("the state opens");
        instances.push(
            RunningServer::start(([127, 0, 0, 1], 0).into(), state)
                .await
                .expect("the server binds"),
        );
    }
    let client = reqwest::Client::new();
    let created = client
        .post(format!("{}/user", instances[0].base_url()))
        .json(&json!({ "username": "kept", "email": "kept@example.com", "password": "pw-kept" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    let token = created.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();

    redis.restart();
    // The promise is about a store that has been back for a second: that second is the test's subject.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for (n, instance) in instances.iter().enumerate() {
        let url = |path: &str| format!("{}{path}", instance.base_url());
        let requests = [
            client.get(url("/user")).bearer_auth(&token),
            client.post(url("/user")).json(
                &json!({ "username": format!("after{n}"), "email": format!("after{n}@example.com"), "password": "pw" }),
            ),
            client
                .post(url("/user/auth"))
                .json(&json!({ "username": "kept", "password": "pw-kept" })),
            client
                .post(url("/authenticate"))
                .json(&json!({ "username": "x", "password": "y" })),
            client.get(url("/healthz")),
        ];
        let mut statuses = Vec::new();
        for request in requests {
            statuses.push(request.send().await.unwrap().status().as_u16());
        }
        assert_eq!(statuses, [200, 200, 200, 401, 200], "instance {n}");
    }
    for instance in instances {
        instance.shutdown().await.unwrap();
    }
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
