//! A connection's wakes to itself, answered in the same turn: a future woken while it is being polled is
//! polled again at once, instead of going back to the end of the scheduler's queue for a turn of its own.
//!
//! hyper wakes a connection from inside its own poll each time a handler takes a request's body (the
//! body's channel wakes its sender, the connection, even once the sender has finished with it). tokio
//! answers such a wake with a second turn for the whole task, later, when its memory has gone cold.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use futures_util::task::AtomicWaker;

/// How many times in a row a future woken during its poll is polled again in the same turn; past this it
/// yields to the scheduler like any other task, so a future that always wakes itself cannot starve the rest.
const POLLS_PER_TURN: usize = 4;

/// The future is being polled.
const POLLING: u8 = 0b01;
/// The future has been woken since its poll began.
const WOKEN: u8 = 0b10;

pin_project_lite::pin_project! {
    /// `inner`, polled again at once when it wakes itself while being polled.
    pub(crate) struct SelfWakes<F> {
        #[pin]
        inner: F,
        shared: Arc<Shared>,
        // The waker `inner` sees: one for the future's life, so that wakers compare equal between polls.
        waker: Waker,
    }
}

struct Shared {
    state: AtomicU8,
    /// The task's own waker, for wakes that come between polls.
    task: AtomicWaker,
}

impl Wake for Shared {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let before = self.state.fetch_or(WOKEN, Ordering::AcqRel);
        if before & POLLING == 0 {
            self.task.wake();
        }
    }
}

impl<F> SelfWakes<F> {
    pub(crate) fn new(inner: F) -> SelfWakes<F> {
        let shared = Arc::new(Shared {
            state: AtomicU8::new(0),
            task: AtomicWaker::new(),
        });
        let waker = Waker::from(shared.clone());
        SelfWakes {
            inner,
            shared,
            waker,
        }
    }
}

impl<F: Future> Future for SelfWakes<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let mut this = self.project();
        // Registered before the future is polled, so a wake from elsewhere that comes after the poll (and
        // after `POLLING` is cleared) reaches the task.
        this.shared.task.register(cx.waker());
        let mut inner_cx = Context::from_waker(this.waker);
        for _ in 0..POLLS_PER_TURN {
            this.shared.state.store(POLLING, Ordering::Release);
            if let Poll::Ready(output) = this.inner.as_mut().poll(&mut inner_cx) {
                this.shared.state.store(0, Ordering::Release);
                return Poll::Ready(output);
            }
            if this.shared.state.swap(0, Ordering::AcqRel) & WOKEN == 0 {
                return Poll::Pending;
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// A task's waker that counts its wakes.
    #[derive(Default)]
    struct CountingTask(AtomicUsize);

    impl Wake for CountingTask {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl CountingTask {
        fn wakes(&self) -> usize {
            self.0.load(Ordering::SeqCst)
        }
    }

    /// A future that wakes itself during each of its first `self_wakes` polls, then is ready.
    struct WakesItself {
        self_wakes: usize,
        polls: usize,
    }

    impl Future for WakesItself {
        type Output = usize;

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
            self.polls += 1;
            if self.polls > self.self_wakes {
                return Poll::Ready(self.polls);
            }
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    fn wakes_itself(self_wakes: usize) -> WakesItself {
        WakesItself {
            self_wakes,
            polls: 0,
        }
    }

    #[test]
    fn a_future_woken_while_it_is_polled_is_polled_again_in_the_same_turn() {
        let task = Arc::new(CountingTask::default());
        let waker = Waker::from(task.clone());
        let mut future = std::pin::pin!(SelfWakes::new(wakes_itself(1)));
        let polled = future.as_mut().poll(&mut Context::from_waker(&waker));
        assert_eq!(polled, Poll::Ready(2), "polled again at once, and ready");
        assert_eq!(task.wakes(), 0, "the task was not given a turn of its own");
    }

    #[test]
    fn a_future_that_keeps_waking_itself_yields_to_the_scheduler() {
        let task = Arc::new(CountingTask::default());
        let waker = Waker::from(task.clone());
        let mut future = std::pin::pin!(SelfWakes::new(wakes_itself(usize::MAX)));
        let polled = future.as_mut().poll(&mut Context::from_waker(&waker));
        assert_eq!(polled, Poll::Pending);
        assert_eq!(future.inner.polls, POLLS_PER_TURN);
        assert_eq!(task.wakes(), 1, "the task is woken for its next turn");
    }

    #[test]
    fn a_wake_between_polls_reaches_the_task() {
        let task = Arc::new(CountingTask::default());
        let waker = Waker::from(task.clone());
        // Pending without waking itself: it waits for something else, which keeps its waker.
        let kept: Arc<std::sync::Mutex<Option<Waker>>> = Arc::default();
        let keeps = kept.clone();
        let mut future = std::pin::pin!(SelfWakes::new(std::future::poll_fn(move |cx| {
            *keeps.lock().unwrap() = Some(cx.waker().clone());
            Poll::<()>::Pending
        })));
        assert_eq!(
            future.as_mut().poll(&mut Context::from_waker(&waker)),
            Poll::Pending
        );
        assert_eq!(task.wakes(), 0, "nothing has woken it yet");
        let kept = kept
            .lock()
            .unwrap()
            .take()
            .expect("the future kept its waker");
        std::thread::spawn(move || kept.wake()).join().unwrap();
        assert_eq!(
            task.wakes(),
            1,
            "a wake from elsewhere, after the poll, reaches the task"
        );
    }
}
