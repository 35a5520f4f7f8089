//! The server on a real Redis: the keyed limits read as in memory (AM-SIGNUP-RL-09, both readings of
//! invalid signups), and once Redis is back after a restart, no request fails.

use std::time::Duration;

use authconform_reference_server::AppmixerProfile::AppmixerCloud;
use authconform_reference_server::{AppState, Clock, Config, RunningServer, StoreLocation};
use serde_json::json;

use crate::redis_server::{Persistence, RedisServer};
use crate::signup_limits::{
    an_invalid_signup_counts_only_when_counted, limited,
    the_email_limit_counts_an_address_however_it_is_written,
};

fn on_redis(redis: &RedisServer, prefix: &str, config: Config) -> Config {
    Config {
        store: StoreLocation::Redis { url: redis.url(0) },
        store_prefix: prefix.into(),
        store_timeout_ms: 500,
        ..config
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_redis_the_email_limit_counts_an_address_however_it_is_written() {
    let Some(redis) = RedisServer::start(Persistence::None) else {
        return;
    };
    let config = on_redis(&redis, "rl09:", limited(AppmixerCloud, 3, 50));
    the_email_limit_counts_an_address_however_it_is_written(config).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_redis_an_invalid_signup_counts_only_in_the_reading_that_counts_it() {
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
