//! Limiter decisions in Redis: one Lua script (`limit.lua`) per decision, so counting and deciding are one
//! atomic step however many instances share the counts. The rules are [`Rule`]'s (fixed or sliding
//! windows, refusal or lockout, attempts given back); keys expire with their windows.

use std::sync::LazyLock;

use redis::Script;

use super::rule::{OnExceed, Rule, WindowKind};
use crate::store::{RedisStore, Unavailable};

static LIMIT_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("limit.lua")));

/// Lua numbers are doubles: every time handed to the script stays below 2^52, where they are exact.
const LARGEST_EXACT_MS: u64 = 1 << 52;

/// The outcome of one attempt counted in Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RedisDecision {
    /// Let through, the `count`th attempt of the key's window; the ticket can give the attempt back.
    Allowed { count: u64, ticket: RedisTicket },
    /// Refused; the key is free again in `retry_after_ms`.
    Limited { retry_after_ms: u64 },
}

/// One keyed limiter whose counts live in Redis.
#[derive(Debug, Clone)]
pub(crate) struct RedisLimiter {
    store: RedisStore,
    /// Names the limiter in its keys (`PREFIX limit:NAME:DIGEST`).
    name: &'static str,
    rule: Rule,
}

/// Names one counted attempt, so it can be given back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RedisTicket {
    digest: [u8; 16],
    window_start_ms: u64,
    /// Sliding windows: tells this attempt from others made in the same millisecond.
    nonce: u64,
}

impl RedisLimiter {
    pub(crate) fn new(store: RedisStore, name: &'static str, rule: Rule) -> RedisLimiter {
        RedisLimiter { store, name, rule }
    }

    pub(crate) fn rule(&self) -> Rule {
        self.rule
    }

    /// Counts one attempt for `key` at `now_ms` and decides it, atomically across every instance.
    pub(crate) async fn attempt(
        &self,
        key: &[u8],
        now_ms: u64,
    ) -> Result<RedisDecision, Unavailable> {
        let digest = digest(self.name, key);
        let nonce = rand::random::<u64>();
        let now_ms = now_ms.min(LARGEST_EXACT_MS);
        let answer: Vec<u64> = self
            .store
            .invoke(&self.invocation(&digest, "attempt", now_ms, 0, &member(now_ms, nonce)))
            .await?;
        match answer.as_slice() {
            [1, count, window_start_ms] => Ok(RedisDecision::Allowed {
                count: *count,
                ticket: RedisTicket {
                    digest,
                    window_start_ms: *window_start_ms,
                    nonce,
                },
            }),
            [0, retry_after_ms] => Ok(RedisDecision::Limited {
                retry_after_ms: *retry_after_ms,
            }),
            other => Err(Unavailable {
                reason: format!("the limiter script answered {other:?}"),
            }),
        }
    }

    /// Whether `key` would be refused at `now_ms`, counting nothing.
    pub(crate) async fn would_refuse(&self, key: &[u8], now_ms: u64) -> Result<bool, Unavailable> {
        let digest = digest(self.name, key);
        let refused: u64 = self
            .store
            .invoke(&self.invocation(&digest, "peek", now_ms.min(LARGEST_EXACT_MS), 0, ""))
            .await?;
        Ok(refused == 1)
    }

    /// Gives back an attempt that turned out not to count.
    pub(crate) async fn give_back(&self, ticket: RedisTicket) -> Result<(), Unavailable> {
        let _: u64 = self
            .store
            .invoke(&self.invocation(
                &ticket.digest,
                "give_back",
                ticket.window_start_ms,
                ticket.window_start_ms,
                &member(ticket.window_start_ms, ticket.nonce),
            ))
            .await?;
        Ok(())
    }

    fn invocation(
        &self,
        digest: &[u8; 16],
        op: &str,
        now_ms: u64,
        ticket_window_start_ms: u64,
        member: &str,
    ) -> redis::ScriptInvocation<'static> {
        let rule = self.rule;
        let entry = self
            .store
            .key(&format!("limit:{}:{}", self.name, hex(digest)));
        let attempts = format!("{entry}:attempts");
        let (lockout, lockout_ms) = match rule.on_exceed {
            OnExceed::Refuse => (0, 0),
            OnExceed::LockOut { for_ms } => (1, for_ms.min(LARGEST_EXACT_MS)),
        };
        let mut invocation = LIMIT_SCRIPT.prepare_invoke();
        invocation
            .key(entry)
            .key(attempts)
            .arg(op)
            .arg(now_ms)
            .arg(rule.limit.min(LARGEST_EXACT_MS))
            .arg(rule.window_ms.min(LARGEST_EXACT_MS))
            .arg(lockout)
            .arg(lockout_ms)
            .arg(match rule.kind {
                WindowKind::Fixed => 0_u8,
                WindowKind::Sliding => 1,
                WindowKind::Aligned => 2,
            })
            .arg(u8::from(rule.lockout_extends))
            .arg(ticket_window_start_ms)
            .arg(member);
        invocation
    }
}

/// The sorted-set member of one sliding-window attempt.
fn member(at_ms: u64, nonce: u64) -> String {
    format!("{at_ms}-{nonce:016x}")
}

/// A fixed-size, instance-independent name for a key of any length (an e-mail, a request body).
fn digest(limiter: &str, key: &[u8]) -> [u8; 16] {
    let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    context.update(limiter.as_bytes());
    context.update(&[0]);
    context.update(key);
    let full = context.finish();
    let mut digest = [0u8; 16];
    digest.copy_from_slice(&full.as_ref()[..16]);
    digest
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(32), |mut text, byte| {
            let _ = write!(text, "{byte:02x}");
            text
        })
}
