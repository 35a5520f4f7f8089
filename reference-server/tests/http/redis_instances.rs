//! Reference-server instances whose state lives in a real Redis: the seeded accounts, the configuration and
//! starting and stopping several instances on one store (shared by the server's tests and the runner's).

use authconform_reference_server::{
    AppState, Clock, Config, RunningServer, SeedAccount, StoreLocation,
};

use crate::redis_server::RedisServer;

pub(crate) fn admin() -> SeedAccount {
    SeedAccount {
        username: "admin@example.com".into(),
        email: Some("admin@example.com".into()),
        password: "redis-admin-password".into(),
    }
}

pub(crate) fn connect() -> SeedAccount {
    SeedAccount {
        username: "connect-user@example.com".into(),
        email: None,
        password: "redis-connect-password".into(),
    }
}

/// A configuration whose state lives in `redis` under `prefix`, test clock on, `X-Forwarded-For` trusted.
pub(crate) fn on_redis(redis: &RedisServer, prefix: &str, config: Config) -> Config {
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

pub(crate) async fn start_instance(config: &Config) -> RunningServer {
    let state = AppState::open(config.clone(), Clock::system())
        .await
        .expect("the state opens");
    RunningServer::start(([127, 0, 0, 1], 0).into(), state)
        .await
        .expect("the server binds")
}

pub(crate) async fn start_instances(config: &Config, count: usize) -> Vec<RunningServer> {
    let mut servers = Vec::with_capacity(count);
    for _ in 0..count {
        servers.push(start_instance(config).await);
    }
    servers
}

pub(crate) async fn shutdown(servers: Vec<RunningServer>) {
    for server in servers {
        server.shutdown().await.unwrap();
    }
}
