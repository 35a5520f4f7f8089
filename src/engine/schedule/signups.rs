//! The signups sent from the one client address every scenario shares (the target does not trust
//! `X-Forwarded-For`): when each was sent, and how many running scenarios still mean to send. From it, a
//! check that needs an empty IP window waits only until the last signup is a window old (not a whole window
//! from wherever it starts), and checks that only need to stay under the IP limit run side by side as long
//! as their signups together fit under it. Pure: the caller says what time it is.

/// A signup is taken to count toward the IP window until this long after the window has passed since it
/// was sent: the margin for a fixed window's edge and for the request's own time on the wire.
pub(crate) const MARGIN_MS: u64 = 1000;

/// How long the signups an IP check counts must stay inside the window after it starts: a quarter of the
/// window, at most 30 s (the check sends its attempts in a second or two).
pub(crate) fn count_hold_ms(rule: SignupRule) -> u64 {
    (rule.window_ms / 4).min(30_000)
}

pub(crate) use crate::target::SignupRule;
use crate::target::state::{self, TargetState};

#[derive(Debug, Default, Clone)]
pub(crate) struct SignupLedger {
    /// As sent, oldest first; before 0 for those an earlier run sent.
    sent: Vec<Sent>,
    /// Signups running scenarios reserved and have not sent yet.
    reserved: u64,
}

/// Signups sent at one time.
#[derive(Debug, Clone, Copy)]
struct Sent {
    /// Virtual milliseconds.
    at: i64,
    count: u64,
    /// Of `count`, those answered (a user created, a duplicate refused): they passed both limiters, in
    /// whichever order the target applies them, so they count toward the IP limit under every reading.
    /// The others (refused by a limit or by validation, or unanswered) may or may not count.
    answered: u64,
}

impl SignupLedger {
    /// A ledger that starts with what earlier runs sent: `(virtual ms, signups)`, before 0, none answered.
    #[cfg(test)]
    pub(crate) fn carried(earlier: &[(i64, u64)]) -> SignupLedger {
        let answered: Vec<(i64, u64, u64)> =
            earlier.iter().map(|&(at, count)| (at, count, 0)).collect();
        SignupLedger::carried_answered(&answered)
    }

    /// The same with how many of each were answered: `(virtual ms, signups, answered)`.
    pub(crate) fn carried_answered(earlier: &[(i64, u64, u64)]) -> SignupLedger {
        let mut sent: Vec<Sent> = earlier
            .iter()
            .map(|&(at, count, answered)| Sent {
                at,
                count,
                answered: answered.min(count),
            })
            .collect();
        sent.sort_by_key(|sent| sent.at);
        SignupLedger { sent, reserved: 0 }
    }

    /// A ledger that starts with the signups earlier runs sent from the runner's own address (the state
    /// file) that still count toward the window at `now_unix_ms`, virtual 0.
    pub(crate) fn earlier(
        earlier: &TargetState,
        now_unix_ms: u64,
        rule: SignupRule,
    ) -> SignupLedger {
        let sent: Vec<(i64, u64, u64)> = earlier
            .counting(
                state::DIRECT,
                now_unix_ms,
                rule.window_ms.saturating_add(MARGIN_MS),
            )
            .into_iter()
            .map(|(age_ms, count, answered)| {
                (-i64::try_from(age_ms).unwrap_or(i64::MAX), count, answered)
            })
            .collect();
        SignupLedger::carried_answered(&sent)
    }

    /// When a signup sent at `at_ms` stops counting toward the window (and the margin), never before 0.
    fn out_at(at_ms: i64, rule: SignupRule) -> u64 {
        let window = i64::try_from(rule.window_ms.saturating_add(MARGIN_MS)).unwrap_or(i64::MAX);
        u64::try_from(at_ms.saturating_add(window)).unwrap_or(0)
    }

    /// Signups were sent at `at_ms`; up to `count` of them come out of the sender's reservation, which
    /// `remaining` holds and is lowered.
    pub(crate) fn record(&mut self, at_ms: u64, count: u64, remaining: &mut u64) {
        self.record_answers(at_ms, count, 0, remaining);
    }

    /// The same, `answered` of them answered (a user created, a duplicate refused).
    pub(crate) fn record_answers(
        &mut self,
        at_ms: u64,
        count: u64,
        answered: u64,
        remaining: &mut u64,
    ) {
        if count == 0 {
            return;
        }
        let from_reservation = count.min(*remaining);
        *remaining -= from_reservation;
        self.reserved = self.reserved.saturating_sub(from_reservation);
        let at_ms = i64::try_from(at_ms).unwrap_or(i64::MAX);
        let at = self.sent.partition_point(|sent| sent.at <= at_ms);
        self.sent.insert(
            at,
            Sent {
                at: at_ms,
                count,
                answered: answered.min(count),
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

    /// When the address's window is empty: a window (and the margin) after the last signup; `None` when it
    /// sent none.
    #[cfg(test)]
    pub(crate) fn empty_from(&self, rule: SignupRule) -> Option<u64> {
        self.sent.last().map(|sent| Self::out_at(sent.at, rule))
    }

    /// When a check of the IP limit can start from a count it knows, at `now_ms` or later: every signup
    /// still counting then was answered (so it counts under every reading), and each stays counting for
    /// `hold_ms` more (so none ages out while the check counts). What still counts then is
    /// [`SignupLedger::counting_at`] that time.
    pub(crate) fn known_count_from(&self, now_ms: u64, rule: SignupRule, hold_ms: u64) -> u64 {
        let mut from = now_ms;
        loop {
            let blocking = self
                .sent
                .iter()
                .map(|sent| (sent, Self::out_at(sent.at, rule)))
                .filter(|&(sent, out)| {
                    out > from
                        && (sent.answered < sent.count
                            || out.saturating_sub(MARGIN_MS).saturating_sub(hold_ms) <= from)
                })
                .map(|(_, out)| out)
                .max();
            match blocking {
                Some(out) => from = out,
                None => return from,
            }
        }
    }

    /// Signups still counting toward the window at `now_ms`.
    pub(crate) fn counting_at(&self, now_ms: u64, rule: SignupRule) -> u64 {
        self.sent
            .iter()
            .filter(|sent| Self::out_at(sent.at, rule) > now_ms)
            .map(|sent| sent.count)
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
            .map(|sent| Self::out_at(sent.at, rule))
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
    fn an_ip_check_counts_answered_signups_that_stay_and_waits_out_the_others() {
        let hold = count_hold_ms(RULE);
        assert_eq!(hold, 15_000);
        let mut none = 0;
        let mut answered = SignupLedger::default();
        answered.record_answers(0, 3, 3, &mut none);
        assert_eq!(
            answered.known_count_from(2_000, RULE, hold),
            2_000,
            "answered signups that stay inside the window are counted at once"
        );
        assert_eq!(answered.counting_at(2_000, RULE), 3);
        let leaves_at = 60_000 + MARGIN_MS;
        assert_eq!(
            answered.known_count_from(50_000, RULE, hold),
            leaves_at,
            "one that would age out while the check counts is waited out"
        );
        assert_eq!(answered.counting_at(leaves_at, RULE), 0);

        let mut mixed = answered.clone();
        mixed.record_answers(1_000, 2, 1, &mut none);
        assert_eq!(
            mixed.known_count_from(2_000, RULE, hold),
            1_000 + leaves_at,
            "a signup that may or may not count is waited out, and the answered ones before it with it"
        );
        assert_eq!(mixed.counting_at(1_000 + leaves_at, RULE), 0);
        let carried = SignupLedger::carried(&[(-5_000, 1)]);
        assert_eq!(
            carried.known_count_from(0, RULE, hold),
            55_000 + MARGIN_MS,
            "an earlier run's signups with no answers kept may not count"
        );
    }

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
