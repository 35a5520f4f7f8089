//! Where users live: [`Users`], in this process ([`MemoryStore`]) or in Redis, shared by every instance.

use std::sync::Arc;

use super::in_memory::MemoryStore;
use super::redis_users::RedisUsers;
use super::user::{LoginField, StoreError, User};

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
