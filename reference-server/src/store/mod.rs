//! Where users and the shared seeds live: in this process, or in Redis (the connection, the user records,
//! the secrets and accounts every instance agrees on, the shared test-clock offset, and their Lua scripts).

mod in_memory;
mod redis_connection;
mod redis_seeds;
mod redis_users;
mod user;
mod users;

pub(crate) use in_memory::MemoryStore;
pub(crate) use redis_connection::{RedisStore, Unavailable};
pub(crate) use redis_seeds::{SharedClock, SharedConnectAccount, SharedSeeds};
pub(crate) use redis_users::RedisUsers;
pub(crate) use user::{LoginField, StoreError, User, new_id};
pub(crate) use users::Users;
