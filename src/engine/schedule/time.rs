//! Virtual time, one mechanism for both clocks. A waiting scenario registers when it wants to wake. With a
//! real clock it sleeps until then. With a test clock, once every live scenario of the target is waiting,
//! the clock is advanced once, to the earliest wake-up, and every scenario due by then wakes: many waits
//! cost one advance. Time never moves under a scenario that is sending requests, so `within` margins keep
//! their meaning.

use std::future::Future;

use parking_lot::Mutex;
use tokio::sync::oneshot;

use crate::target::{ClockError, ClockMode};

/// How a target's time is read and moved. The engine's implementation talks to the target; tests inject a
/// counter, so no test sleeps.
pub(crate) trait TargetTime {
    /// Virtual milliseconds since the run on the target began.
    fn now_ms(&self) -> u64;
    /// Moves the target's test clock forward (clock `control`).
    fn advance(&self, ms: u64) -> impl Future<Output = Result<(), ClockError>>;
    /// Really waits (clock `real`), reporting the milliseconds elapsed so far now and then.
    fn sleep(&self, ms: u64, progress: &mut (dyn FnMut(u64) + Send)) -> impl Future<Output = ()>;
}

type Wake = oneshot::Sender<Result<(), ClockError>>;

#[derive(Default)]
struct State {
    /// Scenarios started and not finished.
    live: usize,
    /// Registered wake-ups (virtual ms) of waiting scenarios.
    waiting: Vec<(u64, Wake)>,
    /// An advance is under way.
    advancing: bool,
}

/// The waits of every scenario on one target.
pub(crate) struct Waits<T> {
    time: T,
    mode: ClockMode,
    state: Mutex<State>,
}

impl<T: TargetTime> Waits<T> {
    pub(crate) fn new(time: T, mode: ClockMode) -> Waits<T> {
        Waits {
            time,
            mode,
            state: Mutex::new(State::default()),
        }
    }

    pub(crate) fn time(&self) -> &T {
        &self.time
    }

    /// A scenario starts: until it [`depart`](Self::depart)s, time waits for it to wait.
    pub(crate) fn join(&self) {
        self.state.lock().live += 1;
    }

    /// A scenario finished. Call [`settle`](Self::settle) once the scenarios it let start have joined.
    pub(crate) fn depart(&self) {
        let mut state = self.state.lock();
        state.live = state.live.saturating_sub(1);
    }

    /// Waits until virtual time `wake_at_ms`; `progress` hears how much of a real wait has passed.
    pub(crate) async fn wait_until(
        &self,
        wake_at_ms: u64,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<(), ClockError> {
        let now = self.time.now_ms();
        if wake_at_ms <= now {
            return Ok(());
        }
        match self.mode {
            ClockMode::Real => {
                self.time.sleep(wake_at_ms - now, progress).await;
                Ok(())
            }
            ClockMode::Control => {
                let (wake, woken) = oneshot::channel();
                self.state.lock().waiting.push((wake_at_ms, wake));
                self.settle().await;
                woken.await.unwrap_or(Ok(()))
            }
        }
    }

    /// When every live scenario waits: advances the clock to the earliest wake-up and wakes those due.
    pub(crate) async fn settle(&self) {
        loop {
            let earliest = {
                let mut state = self.state.lock();
                if state.advancing || state.waiting.is_empty() || state.waiting.len() < state.live {
                    return;
                }
                state.advancing = true;
                state.waiting.iter().map(|(at, _)| *at).min().unwrap_or(0)
            };
            let before = self.time.now_ms();
            let result = if earliest > before {
                self.time.advance(earliest - before).await
            } else {
                Ok(())
            };
            let mut state = self.state.lock();
            state.advancing = false;
            let now = self.time.now_ms();
            let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut state.waiting)
                .into_iter()
                .partition(|(at, _)| *at <= now || result.is_err());
            state.waiting = later;
            drop(state);
            let woke = !due.is_empty();
            for (_, wake) in due {
                // A waiter that is gone has nothing left to wake.
                let _ = wake.send(result.clone());
            }
            if woke {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};

    use futures_util::future::join_all;

    use super::*;

    /// A test clock that only moves when advanced, and records every advance and sleep.
    #[derive(Default)]
    struct FakeTime {
        now: Cell<u64>,
        advances: RefCell<Vec<u64>>,
        slept: RefCell<Vec<u64>>,
        refuse: bool,
    }

    impl TargetTime for &FakeTime {
        fn now_ms(&self) -> u64 {
            self.now.get()
        }

        async fn advance(&self, ms: u64) -> Result<(), ClockError> {
            if self.refuse {
                return Err(ClockError::NoAnswer {
                    summary: "refused".into(),
                });
            }
            self.advances.borrow_mut().push(ms);
            self.now.set(self.now.get() + ms);
            Ok(())
        }

        async fn sleep(&self, ms: u64, progress: &mut (dyn FnMut(u64) + Send)) {
            self.slept.borrow_mut().push(ms);
            self.now.set(self.now.get() + ms);
            progress(ms);
        }
    }

    /// Each scenario: join, then its waits one after another (each relative to when it starts), then depart.
    async fn scenario(
        waits: &Waits<&FakeTime>,
        each: &[u64],
        log: &RefCell<Vec<(usize, u64)>>,
        id: usize,
    ) {
        for ms in each {
            let at = waits.time().now_ms() + ms;
            waits.wait_until(at, &mut |_| {}).await.unwrap();
            log.borrow_mut().push((id, waits.time().now_ms()));
        }
        waits.depart();
        waits.settle().await;
    }

    fn run(time: &FakeTime, mode: ClockMode, plans: &[&[u64]]) -> Vec<(usize, u64)> {
        let waits = Waits::new(time, mode);
        let log = RefCell::new(Vec::new());
        for _ in plans {
            waits.join();
        }
        let all = plans
            .iter()
            .enumerate()
            .map(|(id, each)| scenario(&waits, each, &log, id));
        block_on(join_all(all));
        log.into_inner()
    }

    fn block_on<F: Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn many_waits_for_one_moment_cost_one_advance() {
        let time = FakeTime::default();
        let mut log = run(
            &time,
            ClockMode::Control,
            &[&[60_000], &[60_000], &[60_000]],
        );
        assert_eq!(*time.advances.borrow(), [60_000]);
        log.sort_unstable();
        assert_eq!(log, [(0, 60_000), (1, 60_000), (2, 60_000)]);
    }

    #[test]
    fn the_clock_moves_to_the_earliest_wake_up_first() {
        let time = FakeTime::default();
        let log = run(&time, ClockMode::Control, &[&[60_000], &[2_000, 3_000]]);
        assert_eq!(*time.advances.borrow(), [2_000, 3_000, 55_000]);
        assert_eq!(log, [(1, 2_000), (1, 5_000), (0, 60_000)]);
    }

    #[test]
    fn the_clock_waits_for_a_scenario_that_is_still_busy() {
        let time = FakeTime::default();
        let waits = Waits::new(&time, ClockMode::Control);
        waits.join();
        waits.join();
        let mut quiet = |_| {};
        block_on(async {
            let waiting = waits.wait_until(10_000, &mut quiet);
            let busy = async {
                tokio::task::yield_now().await;
                assert!(
                    time.advances.borrow().is_empty(),
                    "one scenario is still busy"
                );
                waits.depart();
                waits.settle().await;
            };
            let (waited, ()) = futures_util::join!(waiting, busy);
            waited.unwrap();
        });
        assert_eq!(*time.advances.borrow(), [10_000]);
    }

    #[test]
    fn a_real_clock_sleeps_each_wait_itself() {
        let time = FakeTime::default();
        run(&time, ClockMode::Real, &[&[5_000], &[2_000]]);
        assert!(time.advances.borrow().is_empty());
        assert_eq!(*time.slept.borrow(), [5_000, 2_000]);
    }

    #[test]
    fn a_refused_advance_fails_every_waiter() {
        let time = FakeTime {
            refuse: true,
            ..FakeTime::default()
        };
        let waits = Waits::new(&time, ClockMode::Control);
        waits.join();
        waits.join();
        let (mut quiet_a, mut quiet_b) = (|_| {}, |_| {});
        let (a, b) = block_on(async {
            futures_util::join!(
                waits.wait_until(1_000, &mut quiet_a),
                waits.wait_until(9_000, &mut quiet_b)
            )
        });
        assert!(a.is_err() && b.is_err());
    }
}
