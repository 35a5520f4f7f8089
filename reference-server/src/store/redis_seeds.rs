//! What every instance on one Redis must agree on: the Appmixer token secret, the Creditsafe signing key
//! and the seeded Creditsafe account, decided once by whichever instance starts first (kept in the hash
//! `PREFIX seed`, each field set only when absent); and the test-clock offset (`PREFIX clock:offset-ms`),
//! which any instance may advance for all.

use serde::{Deserialize, Serialize};

use super::redis_connection::{RedisStore, Unavailable};
use crate::passwords::PasswordDigest;

/// The shared values of one deployment.
#[derive(Debug, Clone)]
pub(crate) struct SharedSeeds {
    store: RedisStore,
}

/// The seeded Creditsafe account as stored: the first instance's id and password digest win.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SharedConnectAccount {
    pub(crate) id: String,
    pub(crate) username: String,
    pub(crate) email: Option<String>,
    /// [`PasswordDigest::to_stored`]'s form.
    pub(crate) password: String,
}

impl SharedConnectAccount {
    pub(crate) fn password_digest(&self) -> Option<PasswordDigest> {
        PasswordDigest::from_stored(&self.password)
    }
}

impl SharedSeeds {
    pub(crate) fn new(store: RedisStore) -> SharedSeeds {
        SharedSeeds { store }
    }

    /// The value stored for `field`, if an instance stored one.
    pub(crate) async fn stored(&self, field: &str) -> Result<Option<String>, Unavailable> {
        self.store
            .query(redis::cmd("HGET").arg(self.store.key("seed")).arg(field))
            .await
    }

    /// Stores `proposed` for `field` unless a value is there already, and returns the value every instance
    /// now uses (another instance may have won the race).
    pub(crate) async fn agree(&self, field: &str, proposed: &str) -> Result<String, Unavailable> {
        let seed = self.store.key("seed");
        let _: u8 = self
            .store
            .query(redis::cmd("HSETNX").arg(&seed).arg(field).arg(proposed))
            .await?;
        self.stored(field).await?.ok_or_else(|| Unavailable {
            reason: format!("`{field}` vanished from {seed}"),
        })
    }

    /// The seeded Creditsafe account every instance uses.
    pub(crate) async fn connect_account(
        &self,
        proposed: SharedConnectAccount,
    ) -> Result<SharedConnectAccount, Unavailable> {
        let proposed = serde_json::to_string(&proposed).map_err(|error| Unavailable {
            reason: error.to_string(),
        })?;
        let text = self.agree("creditsafe-account", &proposed).await?;
        serde_json::from_str(&text).map_err(|error| Unavailable {
            reason: format!("the stored creditsafe account is unreadable: {error}"),
        })
    }
}

/// The test-clock offset every instance on one Redis adds to its clock.
#[derive(Debug, Clone)]
pub(crate) struct SharedClock {
    store: RedisStore,
}

impl SharedClock {
    pub(crate) fn new(store: RedisStore) -> SharedClock {
        SharedClock { store }
    }

    /// How far the clock has been advanced in all.
    pub(crate) async fn offset_ms(&self) -> Result<u64, Unavailable> {
        let offset: Option<u64> = self
            .store
            .query(redis::cmd("GET").arg(self.store.key("clock:offset-ms")))
            .await?;
        Ok(offset.unwrap_or(0))
    }

    /// Moves every instance's clock forward; returns the offset afterwards.
    pub(crate) async fn advance_ms(&self, by_ms: u64) -> Result<u64, Unavailable> {
        self.store
            .query(
                redis::cmd("INCRBY")
                    .arg(self.store.key("clock:offset-ms"))
                    .arg(by_ms),
            )
            .await
    }
}
