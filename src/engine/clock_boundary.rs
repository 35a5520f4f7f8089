//! Windows aligned to the clock: a limit sequence that meets no limit where one was due may have met a
//! window boundary (a fixed window opening at wall-clock multiples of its length starts its count afresh).
//! Before anything is blamed, such a sequence is repeated once, with fresh identities, starting just after
//! the boundary it could have met: under that reading the repeat cannot meet another, under every other
//! reading it meets the same limit. Pure arithmetic on the target's virtual milliseconds; the dispatcher
//! waits and sends.

/// The reading a repeat that holds where the first sequence did not names.
pub(super) const ALIGNED_READING: &str = "fixed window aligned to the clock";

/// A failed sequence a boundary could explain, and how to repeat it clear of every boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct BoundaryRepeat {
    /// The window the sequence had to stay inside.
    pub(super) window_ms: u64,
    /// When the first sequence ended (its failing step's requests were done).
    pub(super) first_end_ms: u64,
    /// From its mark to that end: a boundary, if any, fell inside it.
    pub(super) span_ms: u64,
    /// What the repeat is expected to take: the span less the waits it leaves out, and a guard.
    pub(super) repeat_ms: u64,
}

impl BoundaryRepeat {
    /// The repeat of a sequence that began at `mark_ms` and failed by `end_ms`, of which `left_out_ms` were
    /// waits the repeat leaves out. `None` when no repeat fits clear of every boundary the first could have
    /// met: the two together do not fit in one window.
    pub(super) fn plan(
        window_ms: u64,
        mark_ms: u64,
        end_ms: u64,
        left_out_ms: u64,
    ) -> Option<BoundaryRepeat> {
        let span_ms = end_ms.saturating_sub(mark_ms);
        let repeat_ms = span_ms
            .saturating_sub(left_out_ms)
            .saturating_add(guard_ms(window_ms));
        (window_ms > 0 && span_ms.saturating_add(repeat_ms) < window_ms).then_some(BoundaryRepeat {
            window_ms,
            first_end_ms: end_ms,
            span_ms,
            repeat_ms,
        })
    }

    /// How long to wait at `now_ms` before the repeat's first request: nothing while the repeat still ends
    /// before the next boundary the first sequence allows, otherwise until a whole number of windows after
    /// the first sequence ended, which is just after the boundary it could have met.
    pub(super) fn wait_before(&self, now_ms: u64) -> u64 {
        let since_end = now_ms.saturating_sub(self.first_end_ms) % self.window_ms;
        let room = self.window_ms - self.span_ms;
        if since_end + self.repeat_ms < room {
            0
        } else {
            self.window_ms - since_end
        }
    }
}

/// Room kept for the repeat running slower than the first sequence: a tenth of the window.
fn guard_ms(window_ms: u64) -> u64 {
    (window_ms / 10).max(20)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether a window boundary at `phase_ms + k * window_ms` falls in `(start_ms, end_ms]`: one at the
    /// very start opens the window the sequence counts in.
    fn boundary_inside(phase_ms: u64, window_ms: u64, start_ms: u64, end_ms: u64) -> bool {
        let after = start_ms + 1;
        let next = after + (window_ms + phase_ms % window_ms - after % window_ms) % window_ms;
        next <= end_ms
    }

    #[test]
    fn a_sequence_too_long_for_two_in_a_window_is_not_repeated() {
        assert_eq!(BoundaryRepeat::plan(1_000, 0, 500, 0), None);
        assert!(BoundaryRepeat::plan(1_000, 0, 400, 0).is_some());
        assert_eq!(BoundaryRepeat::plan(0, 0, 0, 0), None);
    }

    #[test]
    fn a_wait_the_repeat_leaves_out_does_not_count_against_it() {
        // Half a window of waiting inside the first sequence: only the rest must fit twice.
        let repeat = BoundaryRepeat::plan(10_000, 0, 5_600, 5_000).unwrap();
        assert_eq!(repeat.repeat_ms, 600 + 1_000);
        assert_eq!(BoundaryRepeat::plan(10_000, 0, 5_600, 0), None);
    }

    /// Every phase a boundary inside the first sequence could have, and every moment the repeat could be
    /// asked for: after the wait, the repeat never meets a boundary.
    #[test]
    fn the_repeat_meets_no_boundary_whatever_the_phase() {
        let window = 2_000;
        let (mark, end) = (10_300, 10_650);
        let repeat = BoundaryRepeat::plan(window, mark, end, 0).unwrap();
        for phase in 0..window {
            if !boundary_inside(phase, window, mark, end) {
                continue;
            }
            for asked in (end..end + 3 * window).step_by(37) {
                let start = asked + repeat.wait_before(asked);
                assert!(
                    !boundary_inside(phase, window, start, start + repeat.repeat_ms),
                    "phase {phase}, asked at {asked}: the repeat from {start} meets a boundary"
                );
                assert!(start - asked < window, "never waits a whole window");
            }
        }
    }

    #[test]
    fn a_repeat_asked_for_at_once_waits_only_when_it_must() {
        let repeat = BoundaryRepeat::plan(2_000, 0, 300, 0).unwrap();
        // Right after the first ended there are 1 700 ms before the earliest next boundary; the repeat
        // takes 300 + 200.
        assert_eq!(repeat.wait_before(300), 0);
        assert_eq!(repeat.wait_before(1_400), 0, "ends at 1 900, before 2 000");
        assert_eq!(
            repeat.wait_before(1_500),
            800,
            "until 2 300, a window after the end"
        );
    }
}
