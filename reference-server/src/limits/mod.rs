//! Rate limits: the rule a limit enforces, its window arithmetic in this process and in Redis, and the one
//! [`Limiter`] the handlers ask, whichever store keeps the counts.

mod in_memory;
mod in_redis;
mod limiter;
#[cfg(test)]
mod redis_parity;
mod rule;

pub(crate) use in_memory::WindowLimiter;
pub(crate) use in_redis::RedisLimiter;
pub(crate) use limiter::{Decision, Limiter, Ticket};
pub(crate) use rule::Rule;
pub use rule::WindowKind;
