//! Windows aligned to the clock: a limit sequence that meets no limit where one was due may have met a
//! window boundary (a fixed window opening at wall-clock multiples of its length starts its count afresh).
//! Before anything is blamed, such a sequence is repeated once, with fresh identities, starting just after
//! the boundary it could have met: under that reading the repeat cannot meet another, under every other
//! reading it meets the same limit. [`BoundaryRepeat`] is the arithmetic, on the target's virtual
//! milliseconds; [`BoundaryState`] is what one scenario keeps to start over; the dispatcher waits and sends.

use std::collections::HashMap;

use authconform_scenario::model::{Action, Scenario, Step, Wait, Within};

use super::judge::ScenarioOutcome;
use super::render::ScenarioVars;
use super::results::Verdict;

/// The reading a repeat that holds where the first sequence did not names.
pub(super) const ALIGNED_READING: &str = "fixed window aligned to the clock";

/// The step name the wait that places a repeat after the boundary is reported under.
pub(super) const BOUNDARY_STEP: &str =
    "wait until just after the window boundary the sequence could have met";

/// A scenario as it stood before a step: what a repeat from there restores.
#[derive(Clone)]
pub(super) struct Snapshot {
    pub(super) outcome: ScenarioOutcome,
    pub(super) vars: ScenarioVars,
    /// Virtual time at each `mark`.
    pub(super) marks: HashMap<String, u64>,
}

/// Where a repeat starts over, and what it restores.
pub(super) struct Rewind {
    /// The step it starts from (a wait, or the scenario's first step).
    pub(super) to: usize,
    pub(super) snapshot: Snapshot,
    /// Whether that step waits for an empty IP window (so the signups after it need no reservation).
    pub(super) empties_window: bool,
    /// What the report says about it.
    pub(super) note: String,
}

/// What one scenario keeps to repeat, once, a sequence a window aligned to the clock could have reset.
#[derive(Default)]
pub(super) struct BoundaryState {
    /// The scenario before its first step and before each wait that starts the target afresh: where a
    /// repeat starts over.
    checkpoints: Vec<(usize, Snapshot)>,
    /// The waits (virtual start and end) a repeat leaves out (`skip_after_clock_boundary`).
    left_out: Vec<(u64, u64)>,
    /// When each step of the first pass started (virtual), in step order.
    started: Vec<u64>,
    repeat: Option<Repeat>,
}

struct Repeat {
    plan: BoundaryRepeat,
    /// The first step the repeat sends (the one after the wait it starts over from, or the first): it waits
    /// for its place just before it, so what the sequence builds on is sent after the boundary too.
    place_index: usize,
    /// The step that failed the first time.
    step_index: usize,
    placed: bool,
}

impl BoundaryState {
    /// Before step `index`: keeps where a repeat could start over, until a repeat is decided: the first
    /// step, and every wait that starts the target afresh (a whole window after the last request, or an
    /// empty IP window). A shorter wait leaves the state the sequence built (a lockout, a count) in place.
    pub(super) fn before_step(
        &mut self,
        index: usize,
        step: &Step,
        now_ms: u64,
        snapshot: impl FnOnce() -> Snapshot,
    ) {
        if self.repeat.is_none() && index == self.started.len() {
            self.started.push(now_ms);
        }
        let afresh = matches!(&step.action, Action::Wait(wait) if starts_afresh(wait));
        if self.repeat.is_none() && (index == 0 || afresh) {
            self.checkpoints.push((index, snapshot()));
        }
    }

    /// Whether the repeat under way leaves this step out.
    pub(super) fn leaves_out(&self, step: &Step) -> bool {
        self.repeat.is_some() && step.skip_after_clock_boundary
    }

    /// How long to wait before step `index` at `now_ms` so the repeat starts just after the boundary: only
    /// before the first step the repeat sends, once.
    pub(super) fn placing_wait(&mut self, index: usize, now_ms: u64) -> u64 {
        match &mut self.repeat {
            Some(repeat) if repeat.place_index == index && !repeat.placed => {
                repeat.placed = true;
                repeat.plan.wait_before(now_ms)
            }
            _ => 0,
        }
    }

    /// The scenario as it stood before step `index`, when that step is a place to start over from.
    pub(super) fn checkpoint(&self, index: usize) -> Option<Snapshot> {
        self.checkpoints
            .iter()
            .find(|(at, _)| *at == index)
            .map(|(_, snapshot)| snapshot.clone())
    }

    /// A wait the repeat would leave out took from `start_ms` to `end_ms`.
    pub(super) fn waited(&mut self, step: &Step, start_ms: u64, end_ms: u64) {
        if step.skip_after_clock_boundary {
            self.left_out.push((start_ms, end_ms));
        }
    }

    /// After step `index`, a `within` step that judged `verdict` by `end_ms` (`window_ms` being its window):
    /// the rewind, when the step failed, no repeat was made yet, and a repeat fits clear of every boundary.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn after_failure(
        &mut self,
        scenario: &Scenario,
        index: usize,
        within: &Within,
        verdict: Verdict,
        marks: &HashMap<String, u64>,
        end_ms: u64,
        window_ms: u64,
    ) -> Option<Rewind> {
        if self.repeat.is_some() || verdict == Verdict::Pass {
            return None;
        }
        let mark_ms = *marks.get(&within.since)?;
        let mark_index = scenario.steps.iter().position(
            |s| matches!(&s.action, Action::Request(r) if r.mark.as_ref() == Some(&within.since)),
        )?;
        let (to, snapshot) = self
            .checkpoints
            .iter()
            .rev()
            .find(|(at, _)| *at <= mark_index)?;
        let place_index = if matches!(scenario.steps[*to].action, Action::Wait(_)) {
            to + 1
        } else {
            *to
        };
        let region_ms = self.started.get(place_index).copied().unwrap_or(mark_ms);
        let left_out: u64 = self
            .left_out
            .iter()
            .filter(|(start, _)| *start >= region_ms)
            .map(|(start, end)| end - start)
            .sum();
        let plan = BoundaryRepeat::plan(window_ms, mark_ms, region_ms, end_ms, left_out)?;
        let note = format!(
            "the step came out {verdict} {} ms after mark `{}`, inside its {} ({} ms): a fixed window aligned to the clock may have started its count afresh in between; the sequence is repeated once from step {} with fresh identities, just after that boundary",
            plan.span_ms,
            within.since,
            within.window.as_str(),
            plan.window_ms,
            to + 1,
        );
        let rewind = Rewind {
            to: *to,
            snapshot: snapshot.clone(),
            empties_window: matches!(
                scenario.steps[*to].action,
                Action::Wait(Wait::EmptyWindow(_))
            ),
            note,
        };
        self.repeat = Some(Repeat {
            plan,
            place_index,
            step_index: index,
            placed: false,
        });
        Some(rewind)
    }

    /// When step `index` is the repeat of the step that failed: what the report says of how it went (and
    /// whether it held, naming the reading).
    pub(super) fn repeated(&self, index: usize, verdict: Verdict) -> Option<(bool, &'static str)> {
        match &self.repeat {
            Some(repeat) if repeat.step_index == index => Some(if verdict == Verdict::Pass {
                (
                    true,
                    "fixed window aligned to the clock: repeated just after the boundary the first sequence could have met, the limit held",
                )
            } else {
                (
                    false,
                    "repeated just after the boundary the first sequence could have met, it failed again: no window boundary explains it",
                )
            }),
            _ => None,
        }
    }
}

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
    /// The repeat of a sequence that began at `mark_ms` and failed by `end_ms`, repeated from what was sent
    /// from `region_ms` on (no later than the mark), of which `left_out_ms` were waits the repeat leaves
    /// out. `None` when the two together do not fit in one window: no repeat could be placed clear of
    /// every boundary the first could have met (and a sequence that long holds waits a boundary does not
    /// explain, such as a lockout's length).
    pub(super) fn plan(
        window_ms: u64,
        mark_ms: u64,
        region_ms: u64,
        end_ms: u64,
        left_out_ms: u64,
    ) -> Option<BoundaryRepeat> {
        let span_ms = end_ms.saturating_sub(mark_ms);
        let repeat_ms = end_ms
            .saturating_sub(region_ms.min(mark_ms))
            .saturating_sub(left_out_ms)
            .saturating_add(guard_ms(window_ms));
        let repeat = BoundaryRepeat {
            window_ms,
            first_end_ms: end_ms,
            span_ms,
            repeat_ms,
        };
        (window_ms > 0 && repeat.fits()).then_some(repeat)
    }

    /// Whether the repeat is sure to meet no boundary (under aligned windows): the first sequence and the
    /// repeat fit in one window together.
    pub(super) fn fits(&self) -> bool {
        self.span_ms.saturating_add(self.repeat_ms) < self.window_ms
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

/// Whether a wait starts the target afresh, so a repeat may start over from it: an empty IP window, or a
/// whole window after the last request. A shorter wait leaves the state the sequence built in place.
pub(super) fn starts_afresh(wait: &Wait) -> bool {
    match wait {
        Wait::EmptyWindow(_) => true,
        Wait::Window {
            since,
            percent,
            minus_slack,
            offset_ms,
            ..
        } => since.is_none() && percent.is_none() && !minus_slack && *offset_ms >= 0,
        Wait::Millis(_) => false,
    }
}

/// Room kept for the repeat running slower than the first sequence: a tenth of the window.
pub(super) fn guard_ms(window_ms: u64) -> u64 {
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
        assert_eq!(BoundaryRepeat::plan(1_000, 0, 0, 500, 0), None);
        assert!(BoundaryRepeat::plan(1_000, 0, 0, 400, 0).is_some());
        assert_eq!(BoundaryRepeat::plan(0, 0, 0, 0, 0), None);
    }

    #[test]
    fn what_the_sequence_builds_on_counts_toward_the_repeat() {
        // Sent from 0, marked at 300, failed at 600: the repeat sends all 600 ms again.
        let repeat = BoundaryRepeat::plan(2_000, 300, 0, 600, 0).unwrap();
        assert_eq!((repeat.span_ms, repeat.repeat_ms), (300, 600 + 200));
        assert_eq!(BoundaryRepeat::plan(2_000, 300, 0, 1_100, 0), None);
    }

    #[test]
    fn a_wait_the_repeat_leaves_out_does_not_count_against_it() {
        // Half a window of waiting inside the first sequence: only the rest must fit twice.
        let repeat = BoundaryRepeat::plan(10_000, 0, 0, 5_600, 5_000).unwrap();
        assert_eq!(repeat.repeat_ms, 600 + 1_000);
        assert!(repeat.fits());
        assert_eq!(BoundaryRepeat::plan(10_000, 0, 0, 5_600, 0), None);
    }

    /// Every phase a boundary inside the first sequence could have, and every moment the repeat could be
    /// asked for: after the wait, the repeat never meets a boundary.
    #[test]
    fn the_repeat_meets_no_boundary_whatever_the_phase() {
        let window = 2_000;
        let (mark, end) = (10_300, 10_650);
        let repeat = BoundaryRepeat::plan(window, mark, mark, end, 0).unwrap();
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
        let repeat = BoundaryRepeat::plan(2_000, 0, 0, 300, 0).unwrap();
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
