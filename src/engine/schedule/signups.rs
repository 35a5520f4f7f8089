//! The signups sent from the one client address every scenario shares (the target does not trust
//! `X-Forwarded-For`): when each was sent, and how many running scenarios still mean to send. From it, a
//! check that needs an empty IP window waits only until the last signup is a window old (not a whole window
//! from wherever it starts), and checks that only need to stay under the IP limit run side by side as long
//! as their signups together fit under it. Pure: the caller says what time it is.

/// A signup is taken to count toward the IP window until this long after the window has passed since it
/// was sent: the margin for a fixed window's edge and for the request's own time on the wire.
pub(crate) const MARGIN_MS: u64 = 1000;

pub(crate) use crate::target::SignupRule;
use crate::target::state::{self, TargetState};

#[derive(Debug, Default, Clone)]
pub(crate) struct SignupLedger {
    /// `(virtual ms, signups)` as sent, oldest first; before 0 for those an earlier run sent.
    sent: Vec<(i64, u64)>,
    /// Signups running scenarios reserved and have not sent yet.
    reserved: u64,
}

impl SignupLedger {
    /// A ledger that starts with what earlier runs sent: `(virtual ms, signups)`, before 0.
    pub(crate) fn carried(earlier: &[(i64, u64)]) -> SignupLedger {
        let mut sent = earlier.to_vec();
        sent.sort_by_key(|(at, _)| *at);
        SignupLedger { sent, reserved: 0 }
    }

    /// A ledger that starts with the signups earlier runs sent from the runner's own address (the state
    /// file) that still count toward the window at `now_unix_ms`, virtual 0.
    pub(crate) fn earlier(
        earlier: &TargetState,
        now_unix_ms: u64,
        rule: SignupRule,
    ) -> SignupLedger {
        let sent: Vec<(i64, u64)> = earlier
            .counting(
                state::DIRECT,
                now_unix_ms,
                rule.window_ms.saturating_add(MARGIN_MS),
            )
            .into_iter()
            .map(|(age_ms, count)| (-i64::try_from(age_ms).unwrap_or(i64::MAX), count))
            .collect();
        SignupLedger::carried(&sent)
    }

    /// When a signup sent at `at_ms` stops counting toward the window (and the margin), never before 0.
    fn out_at(at_ms: i64, rule: SignupRule) -> u64 {
        let window = i64::try_from(rule.window_ms.saturating_add(MARGIN_MS)).unwrap_or(i64::MAX);
        u64::try_from(at_ms.saturating_add(window)).unwrap_or(0)
    }

    /// Signups were sent at `at_ms`; up to `count` of them come out of the sender's reservation, which
    /// `remaining` holds and is lowered.
    pub(crate) fn record(&mut self, at_ms: u64, count: u64, remaining: &mut u64) {
        if count == 0 {
            return;
        }
        let from_reservation = count.min(*remaining);
        *remaining -= from_reservation;
        self.reserved = self.reserved.saturating_sub(from_reservation);
        let at_ms = i64::try_from(at_ms).unwrap_or(i64::MAX);
        let at = self.sent.partition_point(|(sent_at, _)| *sent_at <= at_ms);
        self.sent.insert(at, (at_ms, count));
    }

    /// A scenario starts that will send up to `count` signups.
    pub(crate) fn reserve(&mut self, count: u64) {
        self.reserved = self.reserved.saturating_add(count);
    }

    /// A scenario finished: what it reserved and did not send is free again.
    pub(crate) fn release(&mut self, remaining: u64) {
        self.reserved = self.reserved.saturating_sub(remaining);
    }

    /// When the address's window is empty: a window (and the margin) after the last signup; `None` when it
    /// sent none.
    pub(crate) fn empty_from(&self, rule: SignupRule) -> Option<u64> {
        self.sent.last().map(|(at, _)| Self::out_at(*at, rule))
    }

    /// Signups still counting toward the window at `now_ms`.
    pub(crate) fn counting_at(&self, now_ms: u64, rule: SignupRule) -> u64 {
        self.sent
            .iter()
            .filter(|(at, _)| Self::out_at(*at, rule) > now_ms)
            .map(|(_, count)| count)
            .sum()
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
            .map(|(at, _)| Self::out_at(*at, rule))
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
        assert_eq!(ledger.empty_from(RULE), None);
        ledger.reserve(10);
        assert_eq!(ledger.room_from(5, RULE), 5);
    }

    #[test]
    fn the_window_is_empty_a_window_and_the_margin_after_the_last_signup() {
        let mut ledger = SignupLedger::default();
        let mut none = 0;
        ledger.record(2_000, 3, &mut none);
        ledger.record(500, 1, &mut none);
        assert_eq!(ledger.empty_from(RULE), Some(2_000 + 60_000 + MARGIN_MS));
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
        assert_eq!(ledger.empty_from(RULE), Some(50_000 + MARGIN_MS));
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
        assert_eq!(ledger.empty_from(RULE), Some(0));
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
}
