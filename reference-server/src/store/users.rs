//! What a user is and where users live: [`Users`], in this process ([`MemoryStore`]) or in Redis, shared by
//! every instance; and the ids new users get.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use rand::RngCore;

use super::in_memory::MemoryStore;
use super::redis_connection::Unavailable;
use super::redis_users::RedisUsers;
use crate::passwords::PasswordDigest;

/// One Appmixer user.
#[derive(Debug, Clone)]
pub(crate) struct User {
    pub(crate) id: String,
    pub(crate) username: String,
    pub(crate) email: String,
    pub(crate) password: PasswordDigest,
    pub(crate) is_active: bool,
    pub(crate) plan: String,
    pub(crate) vendor: Option<String>,
    pub(crate) scope: Vec<String>,
}

/// The field a sign-in names its user by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoginField {
    Username,
    Email,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("a user with this {0} already exists")]
    Taken(&'static str),
    #[error("the user store is full")]
    Full,
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

/// The users, in memory or in Redis. Inserting checks uniqueness and inserts atomically. The Redis
/// futures are boxed, so their size does not weigh on every handler's future in memory mode.
#[derive(Debug)]
pub(crate) enum Users {
    Memory(MemoryStore),
    Redis(RedisUsers),
}

impl Users {
    pub(crate) async fn insert(&self, user: User) -> Result<Arc<User>, StoreError> {
        match self {
            Users::Memory(store) => store.insert(user),
            Users::Redis(store) => Box::pin(store.insert(user)).await,
        }
    }

    pub(crate) async fn find(
        &self,
        field: LoginField,
        value: &str,
    ) -> Result<Option<Arc<User>>, StoreError> {
        match self {
            Users::Memory(store) => Ok(store.find(field, value)),
            Users::Redis(store) => Box::pin(store.find(field, value)).await,
        }
    }

    pub(crate) async fn get(&self, id: &str) -> Result<Option<Arc<User>>, StoreError> {
        match self {
            Users::Memory(store) => Ok(store.get(id)),
            Users::Redis(store) => Box::pin(store.get(id)).await,
        }
    }

    /// How many users there are.
    pub(crate) async fn count(&self) -> Result<usize, StoreError> {
        match self {
            Users::Memory(store) => Ok(store.len()),
            Users::Redis(store) => Box::pin(store.count()).await,
        }
    }
}

/// A new 24-hex-digit id in the shape of Appmixer's (MongoDB ObjectId): seconds, randomness, a counter.
pub(crate) fn new_id(now_s: u64) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let mut random = [0u8; 5];
    rand::rng().fill_bytes(&mut random);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed) & 0x00ff_ffff;
    let seconds = u32::try_from(now_s & 0xffff_ffff).unwrap_or(u32::MAX);
    let mut id = format!("{seconds:08x}");
    for byte in random {
        id.push_str(&format!("{byte:02x}"));
    }
    id.push_str(&format!("{count:06x}"));
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_24_hex_digits_and_distinct() {
        let first = new_id(1_700_000_000);
        let second = new_id(1_700_000_000);
        assert_eq!(first.len(), 24);
        assert!(first.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(first, second);
    }
}
