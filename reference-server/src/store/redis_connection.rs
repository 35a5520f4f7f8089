//! The one connection an instance keeps to Redis: multiplexed and reconnecting on its own, with every
//! operation bounded by the store timeout, so a missing Redis gives a quick 503 rather than a hung request,
//! and the instance recovers by itself when Redis is back.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Cmd, FromRedisValue, RedisResult, ScriptInvocation};

/// Redis did not answer in time, or answered with an error: nothing could be read or decided.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the shared store is unavailable: {reason}")]
pub struct Unavailable {
    pub(crate) reason: String,
}

impl Unavailable {
    fn new(reason: impl Into<String>) -> Unavailable {
        Unavailable {
            reason: reason.into(),
        }
    }
}

/// A connection to Redis and the key prefix every key of this deployment starts with (cheap to clone).
#[derive(Clone)]
pub(crate) struct RedisStore {
    connection: ConnectionManager,
    prefix: Arc<str>,
    timeout: Duration,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects to `url` and checks Redis answers, within `timeout` for each attempt.
    pub(crate) async fn connect(
        url: &str,
        prefix: &str,
        timeout: Duration,
    ) -> Result<RedisStore, Unavailable> {
        let client =
            redis::Client::open(url).map_err(|error| Unavailable::new(error.to_string()))?;
        // Few, quick reconnection attempts: a request waiting on Redis is better answered 503 at once,
        // and the next request tries again anyway.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(20))
            .set_max_delay(Duration::from_millis(200));
        let connection = tokio::time::timeout(
            timeout.saturating_mul(3),
            ConnectionManager::new_with_config(client, config),
        )
        .await
        .map_err(|_| Unavailable::new(format!("no answer within {} ms", timeout.as_millis())))?
        .map_err(|error| Unavailable::new(error.to_string()))?;
        let store = RedisStore {
            connection,
            prefix: prefix.into(),
            timeout,
        };
        store.ping().await?;
        Ok(store)
    }

    /// The prefix followed by `name`.
    pub(crate) fn key(&self, name: &str) -> String {
        let mut key = String::with_capacity(self.prefix.len() + name.len());
        key.push_str(&self.prefix);
        key.push_str(name);
        key
    }

    /// Checks Redis answers.
    pub(crate) async fn ping(&self) -> Result<(), Unavailable> {
        let pong: String = self.query(&redis::cmd("PING")).await?;
        if pong == "PONG" {
            Ok(())
        } else {
            Err(Unavailable::new(format!("PING answered `{pong}`")))
        }
    }

    /// Runs one command.
    pub(crate) async fn query<T: FromRedisValue>(&self, command: &Cmd) -> Result<T, Unavailable> {
        let mut connection = self.connection.clone();
        self.bounded(command.query_async(&mut connection)).await
    }

    /// Runs one script (loading it first when Redis does not know it, e.g. after a restart).
    pub(crate) async fn invoke<T: FromRedisValue>(
        &self,
        invocation: &ScriptInvocation<'_>,
    ) -> Result<T, Unavailable> {
        let mut connection = self.connection.clone();
        self.bounded(invocation.invoke_async(&mut connection)).await
    }

    async fn bounded<T>(
        &self,
        operation: impl Future<Output = RedisResult<T>>,
    ) -> Result<T, Unavailable> {
        match tokio::time::timeout(self.timeout, operation).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(Unavailable::new(error.to_string())),
            Err(_) => Err(Unavailable::new(format!(
                "no answer within {} ms",
                self.timeout.as_millis()
            ))),
        }
    }
}
