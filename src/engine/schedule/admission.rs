//! Which waiting scenario may start now, and the schedule that rule gives when played out on estimated
//! durations (what `authconform plan` prints). One rule for both: a scenario starts when a job is free,
//! it can run beside every running scenario, and it does not overtake an earlier waiting scenario it
//! cannot run beside. So scenarios that disturb each other run in suite order, as with `--jobs 1`.

use super::needs::ScenarioNeeds;

/// The scenarios of `pending` (indices into `all`, in suite order) that may start now, beside `running`.
pub(crate) fn startable(
    all: &[ScenarioNeeds],
    pending: &[usize],
    running: &[usize],
    jobs: usize,
) -> Vec<usize> {
    let mut started: Vec<usize> = Vec::new();
    let mut free = jobs.saturating_sub(running.len());
    for (position, &candidate) in pending.iter().enumerate() {
        if free == 0 {
            break;
        }
        let needs = &all[candidate];
        let beside_running = running
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

/// One scenario's place in a projected schedule, in milliseconds from the target's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slot {
    pub(crate) start_ms: u64,
    pub(crate) end_ms: u64,
}

/// Plays the admission rule out with each scenario taking `duration_ms(needs)`; one slot per scenario.
pub(crate) fn project(
    all: &[ScenarioNeeds],
    jobs: usize,
    duration_ms: &dyn Fn(&ScenarioNeeds) -> u64,
) -> Vec<Slot> {
    let mut slots = vec![
        Slot {
            start_ms: 0,
            end_ms: 0
        };
        all.len()
    ];
    let mut pending: Vec<usize> = (0..all.len()).collect();
    let mut running: Vec<usize> = Vec::new();
    let mut now = 0;
    while !pending.is_empty() || !running.is_empty() {
        for index in startable(all, &pending, &running, jobs.max(1)) {
            pending.retain(|&p| p != index);
            running.push(index);
            slots[index] = Slot {
                start_ms: now,
                end_ms: now.saturating_add(duration_ms(&all[index])),
            };
        }
        let Some(next_end) = running.iter().map(|&r| slots[r].end_ms).min() else {
            break;
        };
        now = next_end;
        running.retain(|&r| slots[r].end_ms > now);
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
        }
    }

    fn address(mode: HoldMode) -> (Resource, HoldMode) {
        (Resource::ClientAddress, mode)
    }

    #[test]
    fn one_job_keeps_suite_order() {
        let all = vec![needs(&[], 5), needs(&[], 5), needs(&[], 5)];
        let slots = project(&all, 1, &|n| n.total_wait_ms());
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
        let slots = project(&all, 8, &|n| n.total_wait_ms());
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
        assert_eq!(startable(&all, &[1, 2], &[0], 8), Vec::<usize>::new());
        let slots = project(&all, 8, &|n| n.total_wait_ms());
        assert_eq!(slots[2].start_ms, 120);
    }

    #[test]
    fn jobs_bound_how_many_run_at_once() {
        let all = vec![needs(&[], 10); 5];
        assert_eq!(startable(&all, &[0, 1, 2, 3, 4], &[], 2), [0, 1]);
        let slots = project(&all, 2, &|n| n.total_wait_ms());
        assert_eq!(slots.iter().map(|s| s.end_ms).max(), Some(30));
    }
}
