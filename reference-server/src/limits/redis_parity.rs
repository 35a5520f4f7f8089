//! The Redis limiter script decides exactly as the in-memory limiter does (on a real `redis-server`, which
//! the test starts, or skips without, as the HTTP tests' Redis tests do).

use std::time::Duration;

use super::{Decision, Limiter, RedisLimiter, Rule, WindowKind, WindowLimiter};
use crate::store::RedisStore;
use redis_server::{Persistence, RedisServer};

#[path = "../../tests/http/redis_server.rs"]
#[expect(
    dead_code,
    reason = "the HTTP tests use more of the Redis server than this test does"
)]
mod redis_server;

/// The Redis limiter script decides exactly as the in-memory limiter does, for every kind of rule, over a
/// long pseudo-random sequence of attempts, peeks and give-backs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_redis_limiter_decides_as_the_memory_limiter_does() {
    let Some(redis) = RedisServer::start(Persistence::None) else {
        return;
    };
    let store = RedisStore::connect(&redis.url(0), "parity:", Duration::from_secs(2))
        .await
        .unwrap();
    let rules = [
        Rule::refuse(3, 60_000),
        Rule::refuse(3, 60_000).with_kind(WindowKind::Sliding),
        Rule::lock_out(4, 60_000, 90_000),
        Rule::lock_out(4, 60_000, 90_000).with_kind(WindowKind::Sliding),
        Rule {
            lockout_extends: true,
            ..Rule::lock_out(2, 60_000, 60_000)
        },
        Rule {
            lockout_extends: true,
            ..Rule::lock_out(2, 60_000, 60_000).with_kind(WindowKind::Sliding)
        },
        Rule::refuse(3, 60_000).with_kind(WindowKind::Aligned),
        Rule::lock_out(4, 60_000, 90_000).with_kind(WindowKind::Aligned),
    ];
    let names = ["r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7"];
    for (rule, name) in rules.into_iter().zip(names) {
        let memory = Limiter::Memory(WindowLimiter::new(rule, 10_000));
        let shared = Limiter::Redis(RedisLimiter::new(store.clone(), name, rule));
        let mut now_ms: u64 = 1_700_000_000_000;
        let mut seed: u64 = 0x5eed;
        let mut tickets = [None, None];
        for step in 0..600 {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let roll = seed >> 33;
            now_ms += roll % 9_000;
            let key = ["a", "b", "c"][usize::try_from(roll % 3).unwrap()];
            match roll % 10 {
                0 => {
                    if let (Some(mine), Some(theirs)) = (tickets[0].take(), tickets[1].take()) {
                        memory.give_back(mine).await.unwrap();
                        shared.give_back(theirs).await.unwrap();
                    }
                }
                1 => assert_eq!(
                    memory.would_refuse(key, now_ms).await.unwrap(),
                    shared.would_refuse(key, now_ms).await.unwrap(),
                    "{name} step {step}: peek at {key}"
                ),
                _ => {
                    let expected = memory.attempt(key, now_ms).await.unwrap();
                    let actual = shared.attempt(key, now_ms).await.unwrap();
                    match (expected, actual) {
                        (
                            Decision::Allowed { ticket: mine, .. },
                            Decision::Allowed { ticket: theirs, .. },
                        ) => tickets = [Some(mine), Some(theirs)],
                        (
                            Decision::Limited { retry_after_ms: a },
                            Decision::Limited { retry_after_ms: b },
                        ) => assert_eq!(a, b, "{name} step {step}: retry-after for {key}"),
                        (expected, actual) => panic!(
                            "{name} step {step}: {key} at {now_ms}: memory {expected:?}, redis {actual:?}"
                        ),
                    }
                }
            }
        }
    }
}
