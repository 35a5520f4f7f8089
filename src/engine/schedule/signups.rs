//! The signups sent from the one client address every scenario shares (the target does not trust
//! `X-Forwarded-For`): when each was sent, whether it is known to count, and how many running scenarios
//! still mean to send. From it, the IP check waits only until every signup it cannot count is a window old
//! (not a whole window from wherever it starts) and counts the rest in its own, and checks that only need to
//! stay under the IP limit run side by side as long as their signups together fit under it. Pure: the
//! caller says what time it is.

/// A signup is taken to count toward the IP window until this long after the window has passed since it
/// was sent: the margin for a fixed window's edge and for the request's own time on the wire.
pub(crate) const MARGIN_MS: u64 = 1000;

pub(crate) use crate::target::SignupRule;
use crate::target::state::{self, TargetState};

#[derive(Debug, Default, Clone)]
pub(crate) struct SignupLedger {
    /// As sent, oldest first; before 0 for those an earlier run sent.
    sent: Vec<Sent>,
    /// Signups running scenarios reserved and have not sent yet.
    reserved: u64,
    /// Whether the ledger holds every signup the address sent inside a window (a state file on a real
    /// clock), so those known to count may be counted in instead of waited out.
    knows_history: bool,
    /// What the target said its window held at one time (see [`SignupLedger::read`]).
    reading: Option<Reading>,
}

/// The target's own count of the address's window at `at_ms`: every signup the ledger holds from up to
/// then that still counted, whichever of them those were.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Reading {
    at_ms: i64,
    held: u64,
}

/// Signups sent at one time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sent {
    /// Virtual ms.
    at_ms: i64,
    count: u64,
    /// Known to count under every reading (answered as valid signups); otherwise a target may or may not
    /// count them (a refusal, an attempt failing validation), or the run did not look.
    counted: bool,
}

impl SignupLedger {
    /// A ledger that starts with what earlier runs sent: `(virtual ms, signups)`, before 0, none of them
    /// known to count.
    #[cfg(test)]
    pub(crate) fn carried(earlier: &[(i64, u64)]) -> SignupLedger {
        SignupLedger::from_sent(
            earlier
                .iter()
                .map(|&(at_ms, count)| Sent {
                    at_ms,
                    count,
                    counted: false,
                })
                .collect(),
        )
    }

    /// The same ledger with `count` signups known to count, sent at `at_ms`.
    #[cfg(test)]
    fn and_counted(mut self, at_ms: i64, count: u64) -> SignupLedger {
        self.sent.push(Sent {
            at_ms,
            count,
            counted: true,
        });
        self.sent.sort_by_key(|sent| sent.at_ms);
        self
    }

    fn from_sent(mut sent: Vec<Sent>) -> SignupLedger {
        sent.sort_by_key(|sent| sent.at_ms);
        SignupLedger {
            sent,
            reserved: 0,
            knows_history: false,
            reading: None,
        }
    }

    /// The same ledger, told that it holds every signup its address sent inside a window (a state file
    /// keeps what earlier runs sent, on a real clock, where waiting costs real time).
    pub(crate) fn knowing_its_history(mut self) -> SignupLedger {
        self.knows_history = true;
        self
    }

    /// The same ledger, told by the target (its `RateLimit` `r` for the IP policy, on an answer at `at_ms`)
    /// that its window then held `held` signups of the address. That settles how many of those sent up to
    /// then counted, refusals and invalid attempts included, for as long as none of them leaves the window
    /// (see [`SignupLedger::only_counted_from`]). A count the ledger cannot explain (fewer than it knows to
    /// count, or more than it holds: a window that reset, another client) is set aside.
    pub(crate) fn read(mut self, at_ms: i64, held: u64, rule: SignupRule) -> SignupLedger {
        let before = || {
            self.sent
                .iter()
                .filter(|sent| sent.at_ms <= at_ms && Self::counts_at(sent.at_ms, at_ms, rule))
        };
        let known: u64 = before()
            .filter(|sent| sent.counted)
            .map(|sent| sent.count)
            .sum();
        let all: u64 = before().map(|sent| sent.count).sum();
        self.reading = (known <= held && held <= all).then_some(Reading { at_ms, held });
        self
    }

    /// The same ledger, expecting the run to read what the target's window holds as it starts (the target
    /// said so to the run before): `plan`'s projection of [`SignupLedger::read`].
    pub(crate) fn expecting_a_reading(self, rule: SignupRule) -> SignupLedger {
        let held = self.counting_at(0, rule);
        self.read(0, held, rule)
    }

    /// The same ledger with what the target last said its window held (the state file's reading), at
    /// virtual ms relative to `now_unix_ms`.
    pub(crate) fn with_reading_from(
        self,
        earlier: &TargetState,
        now_unix_ms: u64,
        rule: SignupRule,
    ) -> SignupLedger {
        match earlier.ip_window_read {
            Some(read) => {
                let at_ms =
                    -i64::try_from(now_unix_ms.saturating_sub(read.at_unix_ms)).unwrap_or(i64::MAX);
                self.read(at_ms, read.held, rule)
            }
            None => self,
        }
    }

    /// Whether the target's reading still settles the signups sent up to it at `now_ms`: every one of them
    /// that counted then still counts, and for half a window more.
    fn reading_holds_at(&self, now_ms: u64, rule: SignupRule) -> Option<Reading> {
        let reading = self.reading?;
        let now = i64::try_from(now_ms).unwrap_or(i64::MAX);
        let half = i64::try_from(rule.window_ms / 2).unwrap_or(i64::MAX);
        self.sent
            .iter()
            .filter(|sent| {
                sent.at_ms <= reading.at_ms && Self::counts_at(sent.at_ms, reading.at_ms, rule)
            })
            .all(|sent| {
                Self::counts_at(sent.at_ms, now, rule) && now.saturating_sub(sent.at_ms) <= half
            })
            .then_some(reading)
    }

    /// Whether a signup sent at `sent_ms` still counts toward the window at `at_ms` (both virtual).
    fn counts_at(sent_ms: i64, at_ms: i64, rule: SignupRule) -> bool {
        let window = i64::try_from(rule.window_ms.saturating_add(MARGIN_MS)).unwrap_or(i64::MAX);
        sent_ms.saturating_add(window) > at_ms
    }

    /// A ledger that starts with the signups earlier runs sent from the runner's own address (the state
    /// file) that still count toward the window at `now_unix_ms`, virtual 0.
    pub(crate) fn earlier(
        earlier: &TargetState,
        now_unix_ms: u64,
        rule: SignupRule,
    ) -> SignupLedger {
        SignupLedger::from_sent(
            earlier
                .counting(
                    state::DIRECT,
                    now_unix_ms,
                    rule.window_ms.saturating_add(MARGIN_MS),
                )
                .into_iter()
                .map(|sent| Sent {
                    at_ms: -i64::try_from(now_unix_ms.saturating_sub(sent.at_unix_ms))
                        .unwrap_or(i64::MAX),
                    count: sent.count,
                    counted: sent.counted,
                })
                .collect(),
        )
    }

    /// When a signup sent at `at_ms` stops counting toward the window (and the margin), never before 0.
    fn out_at(at_ms: i64, rule: SignupRule) -> u64 {
        let window = i64::try_from(rule.window_ms.saturating_add(MARGIN_MS)).unwrap_or(i64::MAX);
        u64::try_from(at_ms.saturating_add(window)).unwrap_or(0)
    }

    /// Signups were sent at `at_ms`; up to `count` of them come out of the sender's reservation, which
    /// `remaining` holds and is lowered. Whether they count is not known.
    pub(crate) fn record(&mut self, at_ms: u64, count: u64, remaining: &mut u64) {
        if count == 0 {
            return;
        }
        let from_reservation = count.min(*remaining);
        *remaining -= from_reservation;
        self.reserved = self.reserved.saturating_sub(from_reservation);
        let at_ms = i64::try_from(at_ms).unwrap_or(i64::MAX);
        let at = self.sent.partition_point(|sent| sent.at_ms <= at_ms);
        self.sent.insert(
            at,
            Sent {
                at_ms,
                count,
                counted: false,
            },
        );
    }

    /// A scenario starts that will send up to `count` signups.
    pub(crate) fn reserve(&mut self, count: u64) {
        self.reserved = self.reserved.saturating_add(count);
    }

    /// A scenario finished: what it reserved and did not send is free again.
    pub(crate) fn release(&mut self, remaining: u64) {
        self.reserved = self.reserved.saturating_sub(remaining);
    }

    /// Whether it holds every signup its address sent inside a window.
    pub(crate) fn knows_its_history(&self) -> bool {
        self.knows_history
    }

    /// From when, at `now_ms` or later, every signup still counting toward the window is known to count and
    /// was sent less than half a window before, so it still counts for half a window more: a check that
    /// starts then can count them in its own. Those the target's reading settles (see
    /// [`SignupLedger::read`]) are known to count while it holds. `None` when that is already so. Without
    /// `count_known`, or in a ledger that does not know its history (see
    /// [`SignupLedger::knowing_its_history`]), from when the window is empty instead.
    pub(crate) fn only_counted_from(
        &self,
        now_ms: u64,
        rule: SignupRule,
        count_known: bool,
    ) -> Option<u64> {
        let trusted = count_known && self.knows_history;
        let half = i64::try_from(rule.window_ms / 2).unwrap_or(i64::MAX);
        let mut from = now_ms;
        loop {
            let at = i64::try_from(from).unwrap_or(i64::MAX);
            let read = self
                .reading_holds_at(from, rule)
                .filter(|_| trusted)
                .map(|reading| reading.at_ms);
            let settled =
                |sent: &Sent| sent.counted || read.is_some_and(|at_ms| sent.at_ms <= at_ms);
            let unsure = self
                .sent
                .iter()
                .filter(|sent| Self::out_at(sent.at_ms, rule) > from)
                .filter(|sent| !trusted || !settled(sent) || at.saturating_sub(sent.at_ms) > half)
                .map(|sent| Self::out_at(sent.at_ms, rule))
                .max();
            match unsure {
                Some(out) => from = out,
                None => return (from > now_ms).then_some(from),
            }
        }
    }

    /// Signups known to count that still count toward the window at `now_ms`: those the target's reading
    /// settles while it holds (in a ledger that knows its history), and the others answered as valid.
    pub(crate) fn counted_at(&self, now_ms: u64, rule: SignupRule) -> u64 {
        let read = self
            .reading_holds_at(now_ms, rule)
            .filter(|_| self.knows_history);
        let settled = read.map_or(0, |reading| reading.held);
        let after = read.map_or(i64::MIN, |reading| reading.at_ms);
        self.sent
            .iter()
            .filter(|sent| sent.at_ms > after)
            .filter(|sent| sent.counted && Self::out_at(sent.at_ms, rule) > now_ms)
            .map(|sent| sent.count)
            .sum::<u64>()
            .saturating_add(settled)
    }

    /// Signups still counting toward the window at `now_ms`.
    pub(crate) fn counting_at(&self, now_ms: u64, rule: SignupRule) -> u64 {
        self.sent
            .iter()
            .filter(|sent| Self::out_at(sent.at_ms, rule) > now_ms)
            .map(|sent| sent.count)
            .sum()
    }

    /// How many more signups the limit has room for at `now_ms`: the limit less the signups still counting
    /// and those reserved and not sent.
    pub(crate) fn room_at(&self, now_ms: u64, rule: SignupRule) -> u64 {
        rule.limit
            .saturating_sub(self.counting_at(now_ms, rule))
            .saturating_sub(self.reserved)
    }

    /// The earliest time from `now_ms` at which the signups still counting and every reservation (the
    /// caller's included) fit under the limit. A reservation larger than the limit on its own waits for
    /// an empty window.
    pub(crate) fn room_from(&self, now_ms: u64, rule: SignupRule) -> u64 {
        let fits = |at_ms: u64| {
            let counting = self.counting_at(at_ms, rule);
            counting == 0 || counting.saturating_add(self.reserved) <= rule.limit
        };
        if fits(now_ms) {
            return now_ms;
        }
        self.sent
            .iter()
            .map(|sent| Self::out_at(sent.at_ms, rule))
            .filter(|&at| at > now_ms)
            .find(|&at| fits(at))
            .unwrap_or(now_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: SignupRule = SignupRule {
        limit: 10,
        window_ms: 60_000,
    };

    #[test]
    fn an_address_that_sent_nothing_is_empty_and_has_room() {
        let mut ledger = SignupLedger::default();
        assert_eq!(ledger.only_counted_from(0, RULE, true), None);
        ledger.reserve(10);
        assert_eq!(ledger.room_from(5, RULE), 5);
    }

    #[test]
    fn the_window_is_empty_a_window_and_the_margin_after_the_last_signup() {
        let mut ledger = SignupLedger::default();
        let mut none = 0;
        ledger.record(2_000, 3, &mut none);
        ledger.record(500, 1, &mut none);
        assert_eq!(
            ledger.only_counted_from(0, RULE, true),
            Some(2_000 + 60_000 + MARGIN_MS)
        );
        assert_eq!(
            ledger.counting_at(61_600, RULE),
            3,
            "the one at 500 ms is out"
        );
        assert_eq!(ledger.counting_at(63_000, RULE), 0);
    }

    #[test]
    fn reservations_wait_until_enough_signups_are_a_window_old() {
        let mut ledger = SignupLedger::default();
        let mut first = 6;
        ledger.reserve(6);
        ledger.record(1_000, 6, &mut first);
        assert_eq!((first, ledger.reserved), (0, 0));
        ledger.reserve(4);
        assert_eq!(ledger.room_from(2_000, RULE), 2_000, "6 + 4 fit under 10");
        ledger.reserve(3);
        assert_eq!(
            ledger.room_from(2_000, RULE),
            1_000 + 60_000 + MARGIN_MS,
            "6 + 7 do not: wait until the first six are out"
        );
        ledger.release(3);
        assert_eq!(ledger.room_from(2_000, RULE), 2_000);
    }

    #[test]
    fn a_reservation_larger_than_the_limit_waits_for_an_empty_window() {
        let mut ledger = SignupLedger::default();
        let mut none = 0;
        ledger.record(0, 1, &mut none);
        ledger.reserve(12);
        assert_eq!(ledger.room_from(10, RULE), 60_000 + MARGIN_MS);
    }

    #[test]
    fn signups_an_earlier_run_sent_count_until_a_window_after_they_were_sent() {
        let mut ledger = SignupLedger::carried(&[(-10_000, 4), (-59_000, 3)]);
        assert_eq!(
            ledger.counting_at(0, RULE),
            7,
            "both are less than a window (and the margin) old"
        );
        assert_eq!(
            ledger.counting_at(2_000, RULE),
            4,
            "the older three are out"
        );
        assert_eq!(
            ledger.only_counted_from(0, RULE, true),
            Some(50_000 + MARGIN_MS)
        );
        ledger.reserve(5);
        assert_eq!(
            ledger.room_from(0, RULE),
            1_000 + MARGIN_MS,
            "4 + 3 + 5 do not fit under 10: wait until the older three are out"
        );
    }

    #[test]
    fn an_earlier_signup_a_window_old_no_longer_counts() {
        let ledger = SignupLedger::carried(&[(-70_000, 9)]);
        assert_eq!(ledger.counting_at(0, RULE), 0);
        assert_eq!(ledger.only_counted_from(0, RULE, true), None);
    }

    #[test]
    fn sending_more_than_reserved_takes_nothing_from_other_reservations() {
        let mut ledger = SignupLedger::default();
        ledger.reserve(2);
        ledger.reserve(5);
        let mut mine = 2;
        ledger.record(0, 4, &mut mine);
        assert_eq!((mine, ledger.reserved), (0, 5));
    }

    #[test]
    fn signups_known_to_count_stay_in_the_window_a_check_starts_from() {
        // The declared probe's signup, accepted 3 ms before the run: the check counts it instead of waiting.
        let probe = SignupLedger::default()
            .and_counted(-3, 1)
            .knowing_its_history();
        assert_eq!(probe.only_counted_from(0, RULE, true), None);
        assert_eq!(
            SignupLedger::default()
                .and_counted(-3, 1)
                .only_counted_from(0, RULE, true),
            Some(60_000 + MARGIN_MS - 3),
            "a run that does not know what else its address sent waits for an empty window"
        );
        assert_eq!(
            probe.only_counted_from(0, RULE, false),
            Some(60_000 + MARGIN_MS - 3),
            "so does a check told not to count any in (it met its limit early once)"
        );
        assert_eq!(probe.counted_at(0, RULE), 1);
        // One that would leave the window before half of it has passed is waited out like any other.
        let old = SignupLedger::default()
            .and_counted(-40_000, 1)
            .knowing_its_history();
        assert_eq!(
            old.only_counted_from(0, RULE, true),
            Some(20_000 + MARGIN_MS)
        );
        assert_eq!(old.counted_at(20_000 + MARGIN_MS, RULE), 0);
        // An attempt that may or may not count is waited out; a known one sent long before it then has
        // grown too old to be counted on and is waited out too.
        let mixed = SignupLedger::carried(&[(-5_000, 1)])
            .and_counted(-20_000, 2)
            .knowing_its_history();
        assert_eq!(
            mixed.only_counted_from(0, RULE, true),
            Some(55_000 + MARGIN_MS)
        );
        let fresh_known = SignupLedger::carried(&[(-50_000, 1)])
            .and_counted(-1_000, 2)
            .knowing_its_history();
        assert_eq!(
            fresh_known.only_counted_from(0, RULE, true),
            Some(10_000 + MARGIN_MS),
            "the known two are 11 s old by then: they stay"
        );
        assert_eq!(fresh_known.counted_at(10_000 + MARGIN_MS, RULE), 2);
    }

    #[test]
    fn the_targets_own_count_settles_the_signups_sent_before_it_while_they_stay_young() {
        // An earlier run ended with 3 valid signups and 4 refusals (which a target may or may not count);
        // this run's probe was accepted 10 ms before it started, and the target said 6 then counted.
        let before = || {
            SignupLedger::carried(&[(-1_500, 4)])
                .and_counted(-2_000, 3)
                .and_counted(-10, 1)
                .knowing_its_history()
        };
        // Unread, the refusals are waited out, and by then the probe's signup is too old to count on.
        let empty = 60_000 + MARGIN_MS - 10;
        assert_eq!(before().only_counted_from(0, RULE, true), Some(empty));
        let read = before().read(-10, 6, RULE);
        assert_eq!(read.only_counted_from(0, RULE, true), None);
        assert_eq!(
            read.counted_at(0, RULE),
            6,
            "two of the four refusals counted"
        );
        let mut later = read.clone();
        let mut none = 0;
        later.record(1_000, 1, &mut none);
        later.sent.last_mut().unwrap().counted = true;
        assert_eq!(later.counted_at(2_000, RULE), 7, "this run's own add to it");
        assert_eq!(
            read.only_counted_from(0, RULE, false),
            Some(empty),
            "a check told not to count any in waits for an empty window"
        );
        // Once one of those it settles is older than half a window, the reading no longer says what will
        // still count: they are waited out, as unread.
        assert_eq!(read.only_counted_from(27_000, RULE, true), None);
        assert_eq!(read.only_counted_from(31_000, RULE, true), Some(empty));
        assert_eq!(
            read.counted_at(31_000, RULE),
            4,
            "only those answered as valid"
        );
        // A count the ledger cannot explain is set aside: more than it holds, or fewer than it knows of.
        for held in [9, 3] {
            assert_eq!(
                before()
                    .read(-10, held, RULE)
                    .only_counted_from(0, RULE, true),
                Some(empty),
                "held {held}"
            );
        }
        // A run that does not know what else its address sent does not go by it.
        let unknowing = SignupLedger::carried(&[(-1_500, 4)])
            .and_counted(-10, 1)
            .read(-10, 3, RULE);
        assert_eq!(unknowing.counted_at(0, RULE), 1);
        assert_eq!(unknowing.only_counted_from(0, RULE, true), Some(empty));
        // `plan` expects the run to read it as it starts.
        assert_eq!(
            SignupLedger::carried(&[(-1_500, 4)])
                .knowing_its_history()
                .expecting_a_reading(RULE)
                .only_counted_from(0, RULE, true),
            None
        );
    }
}
