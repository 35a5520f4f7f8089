//! Which waiting scenario may start now, and the schedule that rule gives when played out on estimated
//! durations (what `authconform plan` prints). One rule for both: a scenario starts when a job is free,
//! it can run beside every running scenario, and it does not overtake an earlier waiting scenario it
//! cannot run beside. So scenarios that disturb each other run in suite order, as with `--jobs 1`. On a
//! target whose scenarios share one client address, the signups of those running side by side must also
//! fit under the IP limit together.

use super::needs::ScenarioNeeds;
use super::signups::{MARGIN_MS, SignupLedger, SignupRule};

/// The scenarios of `pending` (indices into `all`, in suite order) that may start now, beside `running`.
/// `signup_room` is, when the scenarios share one client address, how many more signups the IP limit has
/// room for now: the limit less those still counting and those running scenarios reserved and have not
/// sent. A scenario that signs up starts only when its signups fit in it, so it never waits a window for
/// room a running scenario would give back when it ends; with nothing else signing up it starts anyway
/// and waits for room itself.
pub(crate) fn startable(
    all: &[ScenarioNeeds],
    pending: &[usize],
    running: &[usize],
    jobs: usize,
    signup_room: Option<u64>,
) -> Vec<usize> {
    let mut started: Vec<usize> = Vec::new();
    let mut free = jobs.saturating_sub(running.len());
    let signing_up = |list: &[usize]| -> u64 { list.iter().map(|&other| all[other].signups).sum() };
    let running_signups = signing_up(running);
    for (position, &candidate) in pending.iter().enumerate() {
        if free == 0 {
            break;
        }
        let needs = &all[candidate];
        let started_signups = signing_up(&started);
        let fits = match signup_room {
            Some(room) => {
                needs.signups == 0
                    || running_signups + started_signups == 0
                    || started_signups + needs.signups <= room
            }
            None => true,
        };
        let beside_running = fits
            && running
                .iter()
                .chain(&started)
                .all(|&other| needs.compatible(&all[other]));
        let overtakes_none = pending[..position]
            .iter()
            .filter(|earlier| !started.contains(earlier))
            .all(|&earlier| needs.compatible(&all[earlier]));
        if beside_running && overtakes_none {
            started.push(candidate);
            free -= 1;
        }
    }
    started
}

/// The order scenarios wait to start in: suite order, except on a target whose scenarios share one client
/// address, where the IP check (the scenario with a `wait.empty_window`) comes first. It finds the window
/// empty at the start of a run (or waits once for what an earlier run sent), and the other signup scenarios
/// use the window after its refusal while it waits for its limit to end: about one window in all. Put
/// later, it would have to wait for every signup sent before it to age out, a window more.
pub(crate) fn admission_order(
    all: &[ScenarioNeeds],
    pending: &[usize],
    rule: Option<SignupRule>,
) -> Vec<usize> {
    let Some(&check) = pending
        .iter()
        .find(|&&index| all[index].empty_window.is_some())
        .filter(|_| rule.is_some())
    else {
        return pending.to_vec();
    };
    let mut order = vec![check];
    order.extend(pending.iter().copied().filter(|index| *index != check));
    order
}

/// One scenario's place in a projected schedule, in milliseconds from the target's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slot {
    pub(crate) start_ms: u64,
    pub(crate) end_ms: u64,
}

/// Plays the admission rule out with each scenario taking `duration_ms(needs)`, plus, on a target whose
/// scenarios share one client address (`rule`), its wait for room under the IP limit and its
/// `wait.empty_window`, played out on a ledger of the signups as the run keeps it, starting from what
/// `earlier` runs sent. One slot per scenario.
pub(crate) fn project(
    all: &[ScenarioNeeds],
    jobs: usize,
    duration_ms: &dyn Fn(&ScenarioNeeds) -> u64,
    rule: Option<SignupRule>,
    earlier: &SignupLedger,
) -> Vec<Slot> {
    let mut ledger = earlier.clone();
    let mut slots = vec![
        Slot {
            start_ms: 0,
            end_ms: 0
        };
        all.len()
    ];
    let mut pending = admission_order(all, &(0..all.len()).collect::<Vec<_>>(), rule);
    let mut running: Vec<usize> = Vec::new();
    // What each scenario reserved and does not send (its blames' probes): given back when it ends.
    let mut unsent = vec![0; all.len()];
    let mut now = 0;
    while !pending.is_empty() || !running.is_empty() {
        let room = rule.map(|rule| ledger.room_at(now, rule));
        for index in startable(all, &pending, &running, jobs.max(1), room) {
            pending.retain(|&p| p != index);
            running.push(index);
            let needs = &all[index];
            let mut begins_ms = now;
            let mut waits_ms = 0;
            if let Some(rule) = rule.filter(|_| needs.signups > 0 || needs.empty_window.is_some()) {
                ledger.reserve(needs.signups);
                if needs.signups > 0 {
                    begins_ms = ledger.room_from(now, rule);
                }
                // A check that passes sends none of its blames' probes: they are given back when it ends.
                let mut remaining = needs.signups;
                ledger.record(
                    begins_ms,
                    needs.signups.saturating_sub(needs.probe_signups),
                    &mut remaining,
                );
                unsent[index] = remaining;
                if let Some(after_signups) = needs.empty_window {
                    let empty_from = if after_signups {
                        begins_ms + rule.window_ms + MARGIN_MS
                    } else {
                        ledger
                            .only_counted_from(begins_ms, rule, true)
                            .unwrap_or(begins_ms)
                    };
                    waits_ms = empty_from.saturating_sub(begins_ms);
                }
                // After the empty window: its checks' signups then, and those after its last wait at its
                // end (a limit's end is checked a window later).
                let at_end = needs.signups_after_last_wait;
                ledger.record(
                    begins_ms + waits_ms,
                    needs.signups_after_empty - at_end,
                    &mut 0,
                );
                ledger.record(
                    begins_ms
                        .saturating_add(waits_ms)
                        .saturating_add(duration_ms(needs)),
                    at_end,
                    &mut 0,
                );
            }
            slots[index] = Slot {
                start_ms: now,
                end_ms: begins_ms
                    .saturating_add(waits_ms)
                    .saturating_add(duration_ms(needs)),
            };
        }
        let Some(next_end) = running.iter().map(|&r| slots[r].end_ms).min() else {
            break;
        };
        now = next_end;
        running.retain(|&r| {
            let runs_on = slots[r].end_ms > now;
            if !runs_on {
                ledger.release(unsent[r]);
            }
            runs_on
        });
    }
    slots
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use authconform_scenario::model::{HoldMode, Resource};

    use super::*;

    fn needs(holds: &[(Resource, HoldMode)], wait_ms: u64) -> ScenarioNeeds {
        ScenarioNeeds {
            holds: holds.iter().cloned().collect(),
            requests: BTreeMap::new(),
            waits_ms: vec![wait_ms],
            rounds: 0,
            signups: 0,
            signups_after_empty: 0,
            empty_window: None,
            ..ScenarioNeeds::default()
        }
    }

    fn address(mode: HoldMode) -> (Resource, HoldMode) {
        (Resource::ClientAddress, mode)
    }

    #[test]
    fn one_job_keeps_suite_order() {
        let all = vec![needs(&[], 5), needs(&[], 5), needs(&[], 5)];
        let slots = project(
            &all,
            1,
            &|n| n.total_wait_ms(),
            None,
            &SignupLedger::default(),
        );
        let starts: Vec<u64> = slots.iter().map(|s| s.start_ms).collect();
        assert_eq!(starts, [0, 5, 10]);
    }

    #[test]
    fn shared_holders_run_together_and_an_exclusive_one_after_them() {
        let all = vec![
            needs(&[address(HoldMode::Shared)], 10),
            needs(&[address(HoldMode::Shared)], 20),
            needs(&[address(HoldMode::Exclusive)], 60),
            needs(&[], 100),
        ];
        let slots = project(
            &all,
            8,
            &|n| n.total_wait_ms(),
            None,
            &SignupLedger::default(),
        );
        assert_eq!(
            slots[0],
            Slot {
                start_ms: 0,
                end_ms: 10
            }
        );
        assert_eq!(
            slots[1],
            Slot {
                start_ms: 0,
                end_ms: 20
            }
        );
        assert_eq!(
            slots[2],
            Slot {
                start_ms: 20,
                end_ms: 80
            }
        );
        assert_eq!(
            slots[3],
            Slot {
                start_ms: 0,
                end_ms: 100
            },
            "it holds nothing"
        );
    }

    #[test]
    fn a_later_scenario_does_not_overtake_an_earlier_one_it_conflicts_with() {
        let all = vec![
            needs(&[address(HoldMode::Exclusive)], 60),
            needs(&[address(HoldMode::Exclusive)], 60),
            needs(&[address(HoldMode::Shared)], 1),
        ];
        assert_eq!(startable(&all, &[1, 2], &[0], 8, None), Vec::<usize>::new());
        let slots = project(
            &all,
            8,
            &|n| n.total_wait_ms(),
            None,
            &SignupLedger::default(),
        );
        assert_eq!(slots[2].start_ms, 120);
    }

    fn signing_up(mode: HoldMode, signups: u64, empty_window: Option<bool>) -> ScenarioNeeds {
        ScenarioNeeds {
            signups,
            empty_window,
            ..needs(&[address(mode)], 0)
        }
    }

    const RULE: SignupRule = SignupRule {
        limit: 10,
        window_ms: 60_000,
    };

    #[test]
    fn signup_budgets_run_side_by_side_while_they_fit_under_the_ip_limit() {
        let all = vec![
            signing_up(HoldMode::Shared, 6, None),
            signing_up(HoldMode::Shared, 4, None),
            signing_up(HoldMode::Shared, 3, None),
        ];
        assert_eq!(
            startable(&all, &[0, 1, 2], &[], 8, Some(RULE.limit)),
            [0, 1]
        );
        assert_eq!(
            startable(&all, &[1, 2], &[0], 8, Some(RULE.limit - 6)),
            [1],
            "beside the 6 running, room for the 4 only"
        );
        assert_eq!(
            startable(&all, &[2], &[], 8, Some(0)),
            [2],
            "with nothing else signing up it starts and waits for room itself"
        );
        assert_eq!(startable(&all, &[0, 1, 2], &[], 8, None), [0, 1, 2]);
        let slots = project(&all, 8, &|_| 10, Some(RULE), &SignupLedger::default());
        assert_eq!(slots[1].start_ms, 0);
        assert_eq!(
            slots[2].end_ms,
            60_000 + MARGIN_MS + 10,
            "the third waits until the first ten signups are a window old"
        );
    }

    #[test]
    fn signups_an_earlier_run_sent_are_counted_instead_of_a_whole_window() {
        // Earlier runs left 8 signups 50 s ago: two more fit at once, a third waits until those are out,
        // 10 s (and the margin) from the start, not a whole window.
        let earlier = SignupLedger::carried(&[(-50_000, 8)]);
        let all = vec![
            signing_up(HoldMode::Shared, 2, None),
            signing_up(HoldMode::Shared, 1, None),
        ];
        let slots = project(&all, 8, &|_| 10, Some(RULE), &earlier);
        assert_eq!(slots[0].end_ms, 10);
        assert_eq!(slots[1].end_ms, 10_000 + MARGIN_MS + 10);
        let first_run = project(&all, 8, &|_| 10, Some(RULE), &SignupLedger::default());
        assert_eq!(
            first_run[1].end_ms, 10,
            "with nothing carried over all fit at once"
        );
    }

    /// An IP check as the suite's: it empties its window first, sends `limit + 1` and more refusals, waits a
    /// window and the margin, and signs up once more at its end.
    fn ip_check() -> ScenarioNeeds {
        ScenarioNeeds {
            signups: 0,
            empty_window: Some(false),
            signups_after_empty: RULE.limit + 3,
            signups_after_last_wait: 1,
            waits_ms: vec![RULE.window_ms + MARGIN_MS],
            ..needs(&[address(HoldMode::Exclusive)], 0)
        }
    }

    #[test]
    fn on_one_address_the_ip_check_goes_first() {
        let all = vec![
            signing_up(HoldMode::Shared, 4, None),
            signing_up(HoldMode::Shared, 5, None),
            signing_up(HoldMode::Shared, 0, None),
            ip_check(),
            signing_up(HoldMode::Shared, 6, None),
        ];
        let pending: Vec<usize> = (0..all.len()).collect();
        assert_eq!(admission_order(&all, &pending, Some(RULE)), [3, 0, 1, 2, 4]);
        assert_eq!(
            admission_order(&all, &pending, None),
            pending,
            "with an address per scenario, suite order"
        );
    }

    #[test]
    fn the_other_signups_use_the_window_after_the_ip_checks_refusal() {
        // The check's signups are a window old when it ends; its last one and the next 9 fit then, the
        // 6 after them a window later.
        let all = vec![
            signing_up(HoldMode::Shared, 4, None),
            signing_up(HoldMode::Shared, 5, None),
            ip_check(),
            signing_up(HoldMode::Shared, 6, None),
        ];
        let slots = project(
            &all,
            8,
            &|n| n.total_wait_ms() + 10,
            Some(RULE),
            &SignupLedger::default(),
        );
        let check_end = RULE.window_ms + MARGIN_MS + 10;
        assert_eq!((slots[2].start_ms, slots[2].end_ms), (0, check_end));
        assert_eq!(
            slots[0].start_ms, check_end,
            "after the check, in suite order"
        );
        assert_eq!(slots[0].end_ms, check_end + 10, "its signups fit at once");
        assert_eq!(slots[1].end_ms, check_end + 10);
        assert!(
            slots[3].end_ms > 2 * RULE.window_ms,
            "1 + 4 + 5 fill the window: the 6 wait for the next, {slots:?}"
        );
    }

    #[test]
    fn an_ip_check_waits_until_what_an_earlier_run_sent_is_a_window_old() {
        let earlier = SignupLedger::carried(&[(-20_000, 3)]);
        let slots = project(&[ip_check()], 8, &|_| 10, Some(RULE), &earlier);
        assert_eq!(
            slots[0].end_ms,
            40_000 + MARGIN_MS + 10,
            "the earlier signups are out 40 s (and the margin) from the start"
        );
        let own_signups_first = ScenarioNeeds {
            signups: 2,
            empty_window: Some(true),
            ..ip_check()
        };
        let slots = project(
            &[own_signups_first],
            8,
            &|_| 10,
            Some(RULE),
            &SignupLedger::default(),
        );
        assert_eq!(
            slots[0].end_ms,
            RULE.window_ms + MARGIN_MS + 10,
            "its own signups before the wait make it a whole window"
        );
        let own_addresses = project(&[ip_check()], 8, &|_| 10, None, &SignupLedger::default());
        assert_eq!(own_addresses[0].end_ms, 10);
    }

    #[test]
    fn jobs_bound_how_many_run_at_once() {
        let all = vec![needs(&[], 10); 5];
        assert_eq!(startable(&all, &[0, 1, 2, 3, 4], &[], 2, None), [0, 1]);
        let slots = project(
            &all,
            2,
            &|n| n.total_wait_ms(),
            None,
            &SignupLedger::default(),
        );
        assert_eq!(slots.iter().map(|s| s.end_ms).max(), Some(30));
    }
}
