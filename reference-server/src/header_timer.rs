//! The clock of the header read timeout: a hyper timer per connection whose sleeps share one tokio timer,
//! so a keep-alive connection touches tokio's timer wheel about once per timeout rather than once per
//! request.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// The timer hyper asks for a new sleep before every request's headers (and drops once they are read).
/// Each such sleep would be inserted into tokio's timer wheel and taken out again within microseconds;
/// here they all wait on the connection's one alarm instead, which is moved only when it rings before
/// the deadline it guards. Deadlines stay exact: a sleep is over when its own deadline has passed.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnectionTimer {
    alarm: Arc<Mutex<Option<Pin<Box<tokio::time::Sleep>>>>>,
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
    alarm: Arc<Mutex<Option<Pin<Box<tokio::time::Sleep>>>>>,
}

impl hyper::rt::Sleep for SharedAlarmSleep {}

impl Future for SharedAlarmSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            return Poll::Ready(());
        }
        let deadline = tokio::time::Instant::from_std(self.deadline);
        let mut alarm = self.alarm.lock();
        let alarm = alarm.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        // An alarm that rang (for an earlier request's deadline) or that would ring too late is moved to
        // this deadline; one that rings earlier is left alone: it wakes the connection, which looks again.
        if alarm.is_elapsed() || alarm.deadline() > deadline {
            alarm.as_mut().reset(deadline);
        }
        match alarm.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            // Rang early by the system clock's reading: wait again for the rest.
            Poll::Ready(()) if Instant::now() < self.deadline => {
                alarm.as_mut().reset(deadline);
                match alarm.as_mut().poll(cx) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(()) => Poll::Ready(()),
                }
            }
            Poll::Ready(()) => Poll::Ready(()),
        }
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
