//! State kept in Redis, so that several server instances behind a balancer share their users and enforce
//! one global set of limits: the connection, the user records, the limiter scripts, the shared test-clock
//! offset, and the secrets and accounts seeded once for every instance.

mod connection;
mod limits;
mod seeds;
mod users;

pub use connection::{RedisStore, Unavailable};
pub use limits::{RedisLimiter, RedisTicket};
pub use seeds::{SharedClock, SharedConnectAccount, SharedSeeds};
pub use users::RedisUsers;
