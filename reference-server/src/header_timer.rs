//! The clock of the header read timeout: a hyper timer per connection whose sleeps share one tokio timer,
//! so a keep-alive connection touches tokio's timer wheel about once per timeout rather than once per
//! request.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// The timer hyper asks for a new sleep before every request's headers (and drops once they are read).
/// Each such sleep would be inserted into tokio's timer wheel and taken out again within microseconds;
/// here they all wait on the connection's one alarm instead, which is moved only when it rings before
/// the deadline it guards. Deadlines stay exact: a sleep is never over before its own deadline, and is
/// over once its deadline has passed and the alarm has rung.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnectionTimer {
    alarm: Arc<Mutex<Option<Alarm>>>,
}

/// A connection's one tokio timer, and the task it wakes when it rings.
#[derive(Debug)]
struct Alarm {
    sleep: Pin<Box<tokio::time::Sleep>>,
    /// The waker the sleep was last polled with: the one it wakes.
    wakes: Waker,
}

impl hyper::rt::Timer for ConnectionTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        self.sleep_until(Instant::now() + duration)
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(SharedAlarmSleep {
            deadline,
            alarm: self.alarm.clone(),
        })
    }
}

/// One deadline, waited for on the connection's alarm.
struct SharedAlarmSleep {
    deadline: Instant,
    alarm: Arc<Mutex<Option<Alarm>>>,
}

impl hyper::rt::Sleep for SharedAlarmSleep {}

impl Future for SharedAlarmSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let deadline = tokio::time::Instant::from_std(self.deadline);
        let mut alarm = self.alarm.lock();
        // Set for this deadline or an earlier one and yet to ring, for this task: it wakes the connection,
        // which looks again then. The usual case: the requests of a keep-alive connection wait on the
        // alarm an earlier one set, and cost no reading of the clock.
        if let Some(armed) = alarm.as_ref()
            && !armed.sleep.is_elapsed()
            && armed.sleep.deadline() <= deadline
            && armed.wakes.will_wake(cx.waker())
        {
            return Poll::Pending;
        }
        if Instant::now() >= self.deadline {
            return Poll::Ready(());
        }
        let armed = alarm.get_or_insert_with(|| Alarm {
            sleep: Box::pin(tokio::time::sleep_until(deadline)),
            wakes: cx.waker().clone(),
        });
        // An alarm that rang (for an earlier request's deadline) or that would ring too late is moved to
        // this deadline; one that rings earlier is left alone: it wakes the connection, which looks again.
        if armed.sleep.is_elapsed() || armed.sleep.deadline() > deadline {
            armed.sleep.as_mut().reset(deadline);
        }
        let rung = match armed.sleep.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            // Rang early by the system clock's reading: wait again for the rest.
            Poll::Ready(()) if Instant::now() < self.deadline => {
                armed.sleep.as_mut().reset(deadline);
                armed.sleep.as_mut().poll(cx)
            }
            Poll::Ready(()) => Poll::Ready(()),
        };
        armed.wakes.clone_from(cx.waker());
        rung
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::rt::Timer;

    #[tokio::test]
    async fn each_sleep_ends_at_its_own_deadline() {
        let timer = ConnectionTimer::default();
        let started = Instant::now();
        // An earlier request's sleep set the alarm and was dropped once its headers were read.
        timer.sleep(Duration::from_millis(20)).as_mut().await;
        let first = started.elapsed();
        assert!(first >= Duration::from_millis(20), "{first:?}");
        let second = Instant::now();
        timer.sleep(Duration::from_millis(60)).as_mut().await;
        assert!(second.elapsed() >= Duration::from_millis(60));
        // A later deadline waits on the alarm an earlier one left armed.
        let early = timer.sleep(Duration::from_millis(10));
        drop(early);
        let third = Instant::now();
        let mut later = timer.sleep(Duration::from_millis(40));
        let _ = futures_util::poll!(later.as_mut());
        later.as_mut().await;
        assert!(third.elapsed() >= Duration::from_millis(40));
    }
}
