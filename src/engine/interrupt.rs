//! A run stopped from outside (Ctrl-C): once fired, waits end at once, no scenario sends another step, and
//! every check not yet done is reported inconclusive with the reason, so the run still ends with its
//! reports and its state file, holding what was done.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

/// Why a step was not sent after an interrupt.
pub const INTERRUPTED: &str = "not sent: the run was interrupted (Ctrl-C)";

/// Why a step cut short by an interrupt is not judged.
pub const INTERRUPTED_DURING: &str = "the run was interrupted (Ctrl-C) while this step was sending; it is not judged on the answers so far";

/// A handle on one run's stop; clones share it. The default never fires unless told to.
#[derive(Debug, Clone, Default)]
pub struct Interrupt(Arc<Shared>);

#[derive(Debug, Default)]
struct Shared {
    fired: AtomicBool,
    notify: Notify,
}

impl Interrupt {
    /// Stops the run: every wait under way ends, and no further step is sent.
    pub fn fire(&self) {
        self.0.fired.store(true, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    /// Whether the run has been stopped.
    pub fn fired(&self) -> bool {
        self.0.fired.load(Ordering::SeqCst)
    }

    /// Resolves once the run is stopped (at once if it already is).
    pub async fn stopped(&self) {
        loop {
            let notified = self.0.notify.notified();
            if self.fired() {
                return;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_wait_on_the_stop_ends_when_it_fires_and_at_once_after() {
        let interrupt = Interrupt::default();
        assert!(!interrupt.fired());
        let waiting = tokio::spawn({
            let interrupt = interrupt.clone();
            async move { interrupt.stopped().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        interrupt.fire();
        waiting.await.expect("the wait ends");
        assert!(interrupt.fired());
        // Already fired: no wait.
        interrupt.stopped().await;
    }
}
