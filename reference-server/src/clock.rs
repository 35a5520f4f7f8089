//! The one clock every time-dependent decision reads: wall time plus a test offset, or a manual clock in tests.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, as the server sees them.
#[derive(Debug, Clone)]
pub struct Clock {
    inner: Arc<ClockInner>,
}

#[derive(Debug)]
struct ClockInner {
    /// `None`: the system clock; `Some(ms)`: a manual clock frozen at `ms` (plus the offset).
    frozen_at_ms: Option<u64>,
    offset_ms: AtomicU64,
}

impl Clock {
    /// The system clock (advanceable by the test-clock protocol when it is enabled).
    pub fn system() -> Clock {
        Clock::with_base(None)
    }

    /// A clock that stands still at `start_ms` until advanced.
    pub fn manual(start_ms: u64) -> Clock {
        Clock::with_base(Some(start_ms))
    }

    fn with_base(frozen_at_ms: Option<u64>) -> Clock {
        Clock {
            inner: Arc::new(ClockInner {
                frozen_at_ms,
                offset_ms: AtomicU64::new(0),
            }),
        }
    }

    pub fn now_ms(&self) -> u64 {
        let base = self.inner.frozen_at_ms.unwrap_or_else(system_now_ms);
        base.saturating_add(self.inner.offset_ms.load(Ordering::Acquire))
    }

    pub fn now_s(&self) -> u64 {
        self.now_ms() / 1000
    }

    /// Moves the clock forward; returns the total offset afterwards.
    pub fn advance_ms(&self, by_ms: u64) -> u64 {
        let previous = self
            .inner
            .offset_ms
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |offset| {
                Some(offset.saturating_add(by_ms))
            })
            .unwrap_or_else(|offset| offset);
        previous.saturating_add(by_ms)
    }

    pub fn offset_ms(&self) -> u64 {
        self.inner.offset_ms.load(Ordering::Acquire)
    }
}

fn system_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_advanced() {
        let clock = Clock::manual(1_000);
        assert_eq!(clock.now_ms(), 1_000);
        assert_eq!(clock.advance_ms(250), 250);
        assert_eq!(clock.now_ms(), 1_250);
        assert_eq!(clock.now_s(), 1);
    }

    #[test]
    fn the_system_clock_carries_the_offset() {
        let clock = Clock::system();
        let before = clock.now_ms();
        clock.advance_ms(3_600_000);
        assert!(clock.now_ms() >= before + 3_600_000);
        assert_eq!(clock.offset_ms(), 3_600_000);
    }
}
