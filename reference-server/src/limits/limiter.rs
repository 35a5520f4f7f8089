//! The limiter the handlers ask: every decision, whichever store keeps the counts: the in-process
//! [`WindowLimiter`] (plain calls, nothing boxed, so the memory path stays as fast as it was) or Redis (one
//! atomic script per decision, shared by every instance); and what a limit counts per ([`LimitKey`]).

use std::hash::Hash;
use std::net::IpAddr;

use super::in_memory::{self, WindowLimiter};
use super::in_redis::{RedisDecision, RedisLimiter, RedisTicket};
use super::rule::Rule;
use crate::store::Unavailable;

/// A limiter, in memory or in Redis.
#[derive(Debug)]
pub(crate) enum Limiter {
    Memory(WindowLimiter),
    Redis(RedisLimiter),
}

/// The outcome of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Let through, the `count`th attempt of the key's window; `ticket` can give the attempt back.
    Allowed { count: u64, ticket: Ticket },
    /// Refused; the key is free again in `retry_after_ms`.
    Limited { retry_after_ms: u64 },
}

/// Names one counted attempt of either store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ticket {
    Memory(in_memory::Ticket),
    Redis(RedisTicket),
}

/// What a limiter counts per: hashed as is in memory, written out as bytes for Redis (where every instance
/// must name the key alike).
pub(crate) trait LimitKey: Hash {
    fn write_shared(&self, out: &mut Vec<u8>);

    fn shared_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        self.write_shared(&mut out);
        out
    }
}

impl LimitKey for IpAddr {
    fn write_shared(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.to_string().as_bytes());
    }
}

impl LimitKey for str {
    fn write_shared(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.as_bytes());
    }
}

/// A client address, or `None` for the whole endpoint.
impl LimitKey for Option<IpAddr> {
    fn write_shared(&self, out: &mut Vec<u8>) {
        match self {
            Some(address) => address.write_shared(out),
            None => out.extend_from_slice(b"endpoint"),
        }
    }
}

/// A client address and a request's identity (its re-serialised body).
impl LimitKey for (IpAddr, &[u8]) {
    fn write_shared(&self, out: &mut Vec<u8>) {
        self.0.write_shared(out);
        out.push(0);
        out.extend_from_slice(self.1);
    }
}

impl Limiter {
    pub(crate) fn rule(&self) -> Rule {
        match self {
            Limiter::Memory(limiter) => limiter.rule(),
            Limiter::Redis(limiter) => limiter.rule(),
        }
    }

    /// Counts one attempt for `key` at `now_ms` and decides it, atomically.
    pub(crate) async fn attempt<K: LimitKey + ?Sized>(
        &self,
        key: &K,
        now_ms: u64,
    ) -> Result<Decision, Unavailable> {
        let decision = match self {
            Limiter::Memory(limiter) => match limiter.attempt(key, now_ms) {
                in_memory::Decision::Allowed { count, ticket } => Decision::Allowed {
                    count,
                    ticket: Ticket::Memory(ticket),
                },
                in_memory::Decision::Limited { retry_after_ms } => {
                    Decision::Limited { retry_after_ms }
                }
            },
            // Boxed so the Redis future's size does not weigh on every handler's future in memory mode.
            Limiter::Redis(limiter) => {
                match Box::pin(limiter.attempt(&key.shared_bytes(), now_ms)).await? {
                    RedisDecision::Allowed { count, ticket } => Decision::Allowed {
                        count,
                        ticket: Ticket::Redis(ticket),
                    },
                    RedisDecision::Limited { retry_after_ms } => {
                        Decision::Limited { retry_after_ms }
                    }
                }
            }
        };
        Ok(match decision {
            Decision::Limited { retry_after_ms } => Decision::Limited {
                retry_after_ms: retry_after_ms.min(self.rule().announced_ms),
            },
            allowed => allowed,
        })
    }

    /// Whether `key` would be refused at `now_ms`, without counting anything.
    pub(crate) async fn would_refuse<K: LimitKey + ?Sized>(
        &self,
        key: &K,
        now_ms: u64,
    ) -> Result<bool, Unavailable> {
        match self {
            Limiter::Memory(limiter) => Ok(limiter.would_refuse(key, now_ms)),
            Limiter::Redis(limiter) => {
                Box::pin(limiter.would_refuse(&key.shared_bytes(), now_ms)).await
            }
        }
    }

    /// Gives back an attempt that turned out not to count.
    pub(crate) async fn give_back(&self, ticket: Ticket) -> Result<(), Unavailable> {
        match (self, ticket) {
            (Limiter::Memory(limiter), Ticket::Memory(ticket)) => {
                limiter.give_back(ticket);
                Ok(())
            }
            (Limiter::Redis(limiter), Ticket::Redis(ticket)) => {
                Box::pin(limiter.give_back(ticket)).await
            }
            // A ticket always comes from the limiter it is given back to.
            _ => Ok(()),
        }
    }

    /// The keys tracked in memory; `None` for Redis, where keys expire by themselves.
    pub(crate) fn tracked_keys(&self) -> Option<usize> {
        match self {
            Limiter::Memory(limiter) => Some(limiter.tracked_keys()),
            Limiter::Redis(_) => None,
        }
    }

    /// Drops expired in-memory entries (Redis expires its own).
    pub(crate) fn sweep(&self, now_ms: u64) {
        if let Limiter::Memory(limiter) = self {
            limiter.sweep(now_ms);
        }
    }
}
