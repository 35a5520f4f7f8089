//! The window arithmetic in this process: "N per window, then refused (or locked out) until the window
//! passes", fixed or sliding, exact under concurrency (each decision checks and counts under one lock) and
//! bounded (entries expire with their windows). `limit.lua` is the same arithmetic for Redis.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

use super::rule::{OnExceed, Rule, WindowKind};

const SHARDS: usize = 32;
const FIRST_SWEEP_AT: usize = 1024;

/// The outcome of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Let through; `ticket` can give a tentatively counted attempt back.
    Allowed { count: u64, ticket: Ticket },
    /// Refused; the key is free again in `retry_after_ms`.
    Limited { retry_after_ms: u64 },
}

impl Decision {
    #[cfg(test)]
    pub(crate) fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allowed { .. })
    }
}

/// Identifies one counted attempt so it can be given back ([`WindowLimiter::give_back`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ticket {
    key: u64,
    window_start_ms: u64,
}

#[derive(Debug, Clone)]
struct Entry {
    /// Fixed windows: when the window opened. Sliding windows: the latest attempt.
    window_start_ms: u64,
    count: u64,
    locked_until_ms: u64,
    /// Sliding windows only: the times of the attempts that still count (at most `limit + 1`).
    // Boxed so fixed-window entries (the default, and the many) stay small.
    #[allow(clippy::box_collection)]
    recent: Option<Box<VecDeque<u64>>>,
}

#[derive(Debug, Default)]
struct Shard {
    /// Keyed by the key's secret-keyed hash, which the table uses as it is (see [`Prehashed`]).
    entries: HashMap<u64, Entry, BuildHasherDefault<Prehashed>>,
    sweep_at_len: usize,
    last_sweep_ms: u64,
}

/// The hasher of a shard's table, whose keys are already hashes (SipHash under the limiter's per-process
/// secret): hashing them again would only cost time.
#[derive(Debug, Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys reach this table; anything else is folded in rather than lost.
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, key: u64) {
        self.0 = key;
    }
}

/// A keyed window counter. Keys are hashed with a per-process secret, so an entry costs a few dozen bytes
/// whatever the key, and nobody can aim collisions at it.
#[derive(Debug)]
pub(crate) struct WindowLimiter {
    rule: Rule,
    /// Aligned windows: where the grid of boundaries sits (a boundary at every `phase + k * window`).
    grid: AlignedGrid,
    max_keys_per_shard: usize,
    hasher: RandomState,
    shards: Box<[Mutex<Shard>]>,
}

impl WindowLimiter {
    /// `max_keys` bounds memory: beyond it (after expired entries are swept), new keys are refused.
    pub(crate) fn new(rule: Rule, max_keys: usize) -> WindowLimiter {
        WindowLimiter {
            rule,
            grid: AlignedGrid::default(),
            max_keys_per_shard: max_keys.div_ceil(SHARDS).max(1),
            hasher: RandomState::new(),
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
        }
    }

    pub(crate) fn rule(&self) -> Rule {
        self.rule
    }

    /// Aligned windows only: the grid starts at `start_ms` (the server's start) and moves once, so that a
    /// boundary falls just before the limiter's `attempt`-th counted attempt (whatever its key). A target
    /// whose clock puts a boundary inside a chosen sequence, and nowhere else the test did not plan, for
    /// tests of the runner.
    pub(crate) fn with_boundary_at_attempt(
        mut self,
        attempt: Option<u64>,
        start_ms: u64,
    ) -> WindowLimiter {
        self.grid.boundary_at_attempt = attempt.filter(|_| self.rule.kind == WindowKind::Aligned);
        if self.grid.boundary_at_attempt.is_some() {
            self.grid
                .phase_ms
                .store(start_ms % self.rule.window_ms.max(1), Ordering::Release);
        }
        self
    }

    /// Counts one attempt for `key` at `now_ms` and decides it, atomically.
    pub(crate) fn attempt<K: Hash + ?Sized>(&self, key: &K, now_ms: u64) -> Decision {
        let hashed = self.hasher.hash_one(key);
        let rule = self.rule;
        self.grid.count_attempt(now_ms, rule.window_ms);
        let mut shard = self.shards[shard_of(hashed)].lock();
        if !shard.entries.contains_key(&hashed) && !self.make_room(&mut shard, now_ms) {
            return Decision::Limited {
                retry_after_ms: rule.window_ms,
            };
        }
        let window_start_ms = self.grid.window_start(rule, now_ms);
        let entry = shard.entries.entry(hashed).or_insert(Entry {
            window_start_ms,
            count: 0,
            locked_until_ms: 0,
            recent: None,
        });
        match rule.kind {
            WindowKind::Fixed | WindowKind::Aligned => {
                fixed_attempt(rule, entry, hashed, now_ms, window_start_ms)
            }
            WindowKind::Sliding => sliding_attempt(rule, entry, hashed, now_ms),
        }
    }

    /// Whether `key` would be refused at `now_ms`, without counting anything.
    pub(crate) fn would_refuse<K: Hash + ?Sized>(&self, key: &K, now_ms: u64) -> bool {
        let hashed = self.hasher.hash_one(key);
        let shard = self.shards[shard_of(hashed)].lock();
        let rule = self.rule;
        let window_start_ms = self.grid.window_start(rule, now_ms);
        shard.entries.get(&hashed).is_some_and(|entry| {
            if now_ms < entry.locked_until_ms {
                return true;
            }
            match (&entry.recent, rule.kind) {
                (Some(recent), WindowKind::Sliding) => {
                    let counting = recent
                        .iter()
                        .filter(|&&at| now_ms < at.saturating_add(rule.window_ms))
                        .count();
                    counting as u64 >= rule.limit
                }
                (_, WindowKind::Aligned) => {
                    entry.window_start_ms == window_start_ms && entry.count >= rule.limit
                }
                _ => {
                    now_ms < entry.window_start_ms.saturating_add(rule.window_ms)
                        && entry.count >= rule.limit
                }
            }
        })
    }

    /// Gives back an attempt counted by [`attempt`](Self::attempt) that turned out not to count (e.g. the
    /// credentials were valid after all). Does nothing once that window has passed.
    pub(crate) fn give_back(&self, ticket: Ticket) {
        let mut shard = self.shards[shard_of(ticket.key)].lock();
        let Some(entry) = shard.entries.get_mut(&ticket.key) else {
            return;
        };
        if entry.locked_until_ms != 0 {
            return;
        }
        match &mut entry.recent {
            Some(recent) => {
                if let Some(at) = recent.iter().rposition(|&at| at == ticket.window_start_ms) {
                    recent.remove(at);
                }
            }
            None if entry.window_start_ms == ticket.window_start_ms => {
                entry.count = entry.count.saturating_sub(1);
            }
            None => {}
        }
    }

    /// The number of keys currently tracked (expired ones included until the next sweep).
    pub(crate) fn tracked_keys(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.lock().entries.len())
            .sum()
    }

    /// Drops every expired entry now.
    pub(crate) fn sweep(&self, now_ms: u64) {
        for shard in self.shards.iter() {
            let mut shard = shard.lock();
            self.sweep_shard(&mut shard, now_ms);
        }
    }

    /// Sweeps expired entries when the shard has grown enough since the last sweep; false when the shard
    /// is full of live entries.
    fn make_room(&self, shard: &mut Shard, now_ms: u64) -> bool {
        let len = shard.entries.len();
        let grown = len >= shard.sweep_at_len.max(FIRST_SWEEP_AT);
        // A full shard is swept at most a few times per window, so a flood of new keys stays cheap.
        let full_and_due = len >= self.max_keys_per_shard
            && now_ms >= shard.last_sweep_ms.saturating_add(self.rule.window_ms / 8);
        if grown || full_and_due {
            self.sweep_shard(shard, now_ms);
        }
        shard.entries.len() < self.max_keys_per_shard
    }

    fn sweep_shard(&self, shard: &mut Shard, now_ms: u64) {
        let window_ms = self.rule.window_ms;
        shard.entries.retain(|_, entry| {
            now_ms < entry.window_start_ms.saturating_add(window_ms)
                || now_ms < entry.locked_until_ms
        });
        shard.entries.shrink_to(shard.entries.len() * 2);
        shard.sweep_at_len = (shard.entries.len() * 2).max(FIRST_SWEEP_AT);
        shard.last_sweep_ms = now_ms;
    }
}

/// Where aligned windows' boundaries fall: at every `phase + k * window` on the server's clock.
#[derive(Debug, Default)]
struct AlignedGrid {
    /// The grid's offset from the epoch, in milliseconds (0: boundaries at multiples of the window).
    phase_ms: AtomicU64,
    /// The counted attempt just before which the grid moves to put a boundary, once.
    boundary_at_attempt: Option<u64>,
    attempts: AtomicU64,
}

impl AlignedGrid {
    /// Counts one attempt; the attempt the grid waits for moves it, so a boundary falls at `now_ms`.
    fn count_attempt(&self, now_ms: u64, window_ms: u64) {
        if let Some(at) = self.boundary_at_attempt
            && self.attempts.fetch_add(1, Ordering::AcqRel) + 1 == at
        {
            self.phase_ms
                .store(now_ms % window_ms.max(1), Ordering::Release);
        }
    }

    /// When the window counting an attempt at `now_ms` opened: `now_ms` itself for a key's first attempt
    /// under fixed (and sliding) windows, the last boundary under aligned ones.
    fn window_start(&self, rule: Rule, now_ms: u64) -> u64 {
        if rule.kind != WindowKind::Aligned {
            return now_ms;
        }
        let window = rule.window_ms.max(1);
        let phase = self.phase_ms.load(Ordering::Acquire) % window;
        now_ms - (now_ms % window + window - phase) % window
    }
}

fn fixed_attempt(
    rule: Rule,
    entry: &mut Entry,
    key: u64,
    now_ms: u64,
    window_start_ms: u64,
) -> Decision {
    if now_ms < entry.locked_until_ms {
        entry.count = entry.count.saturating_add(1);
        if rule.lockout_extends
            && let OnExceed::LockOut { for_ms } = rule.on_exceed
        {
            entry.locked_until_ms = now_ms.saturating_add(for_ms);
        }
        return Decision::Limited {
            retry_after_ms: entry.locked_until_ms - now_ms,
        };
    }
    let window_passed = match rule.kind {
        // A boundary may also come early, when the grid moves.
        WindowKind::Aligned => entry.window_start_ms != window_start_ms,
        _ => now_ms >= entry.window_start_ms.saturating_add(rule.window_ms),
    };
    if window_passed || entry.locked_until_ms != 0 {
        *entry = Entry {
            window_start_ms,
            count: 0,
            locked_until_ms: 0,
            recent: None,
        };
    }
    let window_end_ms = entry.window_start_ms.saturating_add(rule.window_ms);
    match rule.on_exceed {
        OnExceed::Refuse if entry.count >= rule.limit => Decision::Limited {
            retry_after_ms: window_end_ms - now_ms,
        },
        OnExceed::LockOut { for_ms } if entry.count >= rule.limit => {
            entry.count = entry.count.saturating_add(1);
            let until_ms = if rule.lockout_ends_with_window {
                window_end_ms
            } else {
                now_ms.saturating_add(for_ms)
            };
            entry.locked_until_ms = until_ms.max(now_ms + 1);
            Decision::Limited {
                retry_after_ms: entry.locked_until_ms - now_ms,
            }
        }
        _ => {
            entry.count += 1;
            Decision::Allowed {
                count: entry.count,
                ticket: Ticket {
                    key,
                    window_start_ms: entry.window_start_ms,
                },
            }
        }
    }
}

fn sliding_attempt(rule: Rule, entry: &mut Entry, key: u64, now_ms: u64) -> Decision {
    let capacity = usize::try_from(rule.limit.saturating_add(1)).unwrap_or(usize::MAX);
    let recent = entry
        .recent
        .get_or_insert_with(|| Box::new(VecDeque::with_capacity(capacity.min(64))));
    while recent
        .front()
        .is_some_and(|&at| now_ms >= at.saturating_add(rule.window_ms))
    {
        recent.pop_front();
    }
    entry.window_start_ms = now_ms;
    if now_ms < entry.locked_until_ms {
        if rule.lockout_extends
            && let OnExceed::LockOut { for_ms } = rule.on_exceed
        {
            entry.locked_until_ms = now_ms.saturating_add(for_ms);
        }
        return Decision::Limited {
            retry_after_ms: entry.locked_until_ms - now_ms,
        };
    }
    if entry.locked_until_ms != 0 {
        // A lockout has just ended: start from nothing.
        entry.locked_until_ms = 0;
        recent.clear();
    }
    let used = recent.len() as u64;
    match rule.on_exceed {
        OnExceed::Refuse if used >= rule.limit => Decision::Limited {
            retry_after_ms: recent.front().map_or(rule.window_ms, |&at| {
                at.saturating_add(rule.window_ms) - now_ms
            }),
        },
        OnExceed::LockOut { for_ms } if used >= rule.limit => {
            entry.locked_until_ms = now_ms.saturating_add(for_ms).max(now_ms + 1);
            Decision::Limited {
                retry_after_ms: entry.locked_until_ms - now_ms,
            }
        }
        _ => {
            recent.push_back(now_ms);
            if recent.len() > capacity {
                recent.pop_front();
            }
            entry.count = recent.len() as u64;
            Decision::Allowed {
                count: entry.count,
                ticket: Ticket {
                    key,
                    window_start_ms: now_ms,
                },
            }
        }
    }
}

fn shard_of(hashed: u64) -> usize {
    (hashed >> 59) as usize % SHARDS
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    fn refuse(limit: u64, window_ms: u64) -> WindowLimiter {
        WindowLimiter::new(Rule::refuse(limit, window_ms), 1_000_000)
    }

    fn lockout(limit: u64, window_ms: u64) -> WindowLimiter {
        WindowLimiter::new(Rule::lock_out(limit, window_ms, window_ms), 1_000_000)
    }

    #[test]
    fn the_limit_is_allowed_and_the_next_attempt_refused_until_the_window_passes() {
        let limiter = refuse(3, 1_000);
        for n in 1..=3 {
            assert!(
                matches!(limiter.attempt("a", 100), Decision::Allowed { count, .. } if count == n)
            );
        }
        assert_eq!(
            limiter.attempt("a", 100),
            Decision::Limited {
                retry_after_ms: 1_000
            }
        );
        assert_eq!(
            limiter.attempt("a", 1_099),
            Decision::Limited { retry_after_ms: 1 }
        );
        assert!(limiter.attempt("a", 1_100).is_allowed());
        assert!(
            limiter.attempt("b", 100).is_allowed(),
            "keys are independent"
        );
    }

    #[test]
    fn a_given_back_attempt_does_not_count() {
        let limiter = refuse(1, 1_000);
        let Decision::Allowed { ticket, .. } = limiter.attempt("a", 0) else {
            panic!("first attempt refused")
        };
        limiter.give_back(ticket);
        assert!(limiter.attempt("a", 1).is_allowed());
        assert!(!limiter.attempt("a", 2).is_allowed());
    }

    #[test]
    fn a_ticket_from_a_past_window_changes_nothing() {
        let limiter = refuse(1, 1_000);
        let Decision::Allowed { ticket, .. } = limiter.attempt("a", 0) else {
            panic!("first attempt refused")
        };
        assert!(limiter.attempt("a", 1_000).is_allowed());
        limiter.give_back(ticket);
        assert!(!limiter.attempt("a", 1_001).is_allowed());
    }

    #[test]
    fn a_lockout_counts_refusals_and_lasts_its_full_length_from_the_trigger() {
        let limiter = lockout(2, 1_000);
        assert!(limiter.attempt("ip", 0).is_allowed());
        assert!(limiter.attempt("ip", 10).is_allowed());
        assert_eq!(
            limiter.attempt("ip", 500),
            Decision::Limited {
                retry_after_ms: 1_000
            }
        );
        // The window the attempts were counted in has passed, the lockout has not.
        assert!(!limiter.attempt("ip", 1_200).is_allowed());
        assert!(!limiter.attempt("ip", 1_499).is_allowed());
        assert!(limiter.attempt("ip", 1_500).is_allowed());
        assert!(limiter.attempt("ip", 1_501).is_allowed());
        assert!(!limiter.attempt("ip", 1_502).is_allowed());
    }

    #[test]
    fn would_refuse_counts_nothing() {
        let limiter = refuse(1, 1_000);
        assert!(!limiter.would_refuse("a", 0));
        assert!(limiter.attempt("a", 0).is_allowed());
        assert!(limiter.would_refuse("a", 0));
        assert!(!limiter.would_refuse("a", 1_000));
    }

    #[test]
    fn exact_under_concurrency() {
        let limiter = Arc::new(lockout(10_000, 300_000));
        let allowed = Arc::new(AtomicU64::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let limiter = limiter.clone();
                let allowed = allowed.clone();
                std::thread::spawn(move || {
                    for _ in 0..1_300 {
                        if limiter.attempt("endpoint", 5).is_allowed() {
                            allowed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(allowed.load(Ordering::Relaxed), 10_000);
    }

    #[test]
    fn expired_entries_are_swept_so_memory_stays_bounded() {
        let limiter = refuse(1, 1_000);
        for round in 0..10u64 {
            let now = round * 1_000;
            for key in 0..100_000u64 {
                limiter.attempt(&(round, key), now);
            }
        }
        // Only the last round's keys (and whatever a shard had not yet swept) remain.
        assert!(
            limiter.tracked_keys() < 300_000,
            "{} keys tracked",
            limiter.tracked_keys()
        );
        limiter.sweep(20_000);
        assert_eq!(limiter.tracked_keys(), 0);
    }

    #[test]
    fn beyond_max_keys_new_keys_are_refused_and_old_ones_still_work() {
        let limiter = WindowLimiter::new(Rule::refuse(5, 1_000), SHARDS * 4);
        let mut refused = 0;
        for key in 0..10_000u64 {
            if !limiter.attempt(&key, 0).is_allowed() {
                refused += 1;
            }
        }
        assert!(refused > 0);
        assert!(limiter.tracked_keys() <= SHARDS * 4);
        assert!(
            limiter.attempt(&0u64, 2_000).is_allowed(),
            "after the window, room again"
        );
    }

    #[test]
    fn an_aligned_window_opens_at_multiples_of_its_length_whenever_the_key_began() {
        let limiter =
            WindowLimiter::new(Rule::refuse(2, 1_000).with_kind(WindowKind::Aligned), 1_000);
        assert!(limiter.attempt("a", 2_700).is_allowed());
        assert!(limiter.attempt("a", 2_800).is_allowed());
        assert_eq!(
            limiter.attempt("a", 2_900),
            Decision::Limited {
                retry_after_ms: 100
            },
            "the window that opened at 2 000 ends at 3 000"
        );
        assert!(limiter.would_refuse("a", 2_999));
        assert!(!limiter.would_refuse("a", 3_000));
        // 300 ms after the key's first attempt, a fresh count.
        assert!(limiter.attempt("a", 3_000).is_allowed());
        assert!(limiter.attempt("a", 3_001).is_allowed());
        assert!(!limiter.attempt("a", 3_002).is_allowed());
    }

    #[test]
    fn an_aligned_grid_moves_once_to_put_a_boundary_before_the_chosen_attempt() {
        let limiter =
            WindowLimiter::new(Rule::refuse(2, 1_000).with_kind(WindowKind::Aligned), 1_000)
                .with_boundary_at_attempt(Some(2), 0);
        assert!(limiter.attempt("a", 5_100).is_allowed());
        // The second counted attempt (whatever its key) opens a window at 5 150: "a" starts afresh.
        assert!(limiter.attempt("b", 5_150).is_allowed());
        assert!(limiter.attempt("a", 5_200).is_allowed());
        assert!(limiter.attempt("a", 5_300).is_allowed());
        assert_eq!(
            limiter.attempt("a", 5_400),
            Decision::Limited {
                retry_after_ms: 750
            },
            "the moved grid's window ends at 6 150"
        );
        // Only once: later attempts leave the grid where it is.
        assert!(limiter.attempt("a", 6_150).is_allowed());
        assert!(limiter.attempt("a", 6_160).is_allowed());
        assert!(!limiter.attempt("a", 6_170).is_allowed());
    }

    #[test]
    fn a_sliding_window_counts_the_attempts_of_the_last_window() {
        let limiter =
            WindowLimiter::new(Rule::refuse(2, 1_000).with_kind(WindowKind::Sliding), 1_000);
        assert!(limiter.attempt("a", 0).is_allowed());
        assert!(limiter.attempt("a", 600).is_allowed());
        assert_eq!(
            limiter.attempt("a", 700),
            Decision::Limited {
                retry_after_ms: 300
            }
        );
        // The first attempt has left the window; the second has not.
        assert!(limiter.attempt("a", 1_000).is_allowed());
        assert!(!limiter.attempt("a", 1_100).is_allowed());
        assert!(limiter.attempt("a", 1_600).is_allowed());
    }

    #[test]
    fn a_sliding_lockout_is_exact_and_lasts_its_length() {
        let limiter = WindowLimiter::new(
            Rule::lock_out(3, 1_000, 1_000).with_kind(WindowKind::Sliding),
            1_000,
        );
        for at in [0, 10, 20] {
            assert!(limiter.attempt("ip", at).is_allowed());
        }
        assert_eq!(
            limiter.attempt("ip", 30),
            Decision::Limited {
                retry_after_ms: 1_000
            }
        );
        assert!(!limiter.attempt("ip", 1_029).is_allowed());
        assert!(limiter.attempt("ip", 1_030).is_allowed());
    }

    #[test]
    fn an_extending_lockout_restarts_with_every_attempt_during_it() {
        let rule = Rule {
            lockout_extends: true,
            ..Rule::lock_out(1, 1_000, 1_000)
        };
        let limiter = WindowLimiter::new(rule, 1_000);
        assert!(limiter.attempt("ip", 0).is_allowed());
        assert!(!limiter.attempt("ip", 10).is_allowed());
        assert!(!limiter.attempt("ip", 900).is_allowed());
        assert!(
            !limiter.attempt("ip", 1_500).is_allowed(),
            "extended to 1,900"
        );
        assert!(limiter.attempt("ip", 2_500).is_allowed());
    }

    #[test]
    fn a_sliding_ticket_gives_back_its_own_attempt() {
        let limiter =
            WindowLimiter::new(Rule::refuse(1, 1_000).with_kind(WindowKind::Sliding), 1_000);
        let Decision::Allowed { ticket, .. } = limiter.attempt("a", 5) else {
            panic!("refused")
        };
        limiter.give_back(ticket);
        assert!(limiter.attempt("a", 6).is_allowed());
    }
}
