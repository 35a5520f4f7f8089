//! The header read timeout, kept per connection: a connection that has had no request in hand for longer
//! than the timeout (idle between requests, or headers trickling in slowloris-style) is closed. One tokio
//! timer per connection, moved about once per timeout, watches for it; the requests themselves only count.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;

use tower::Service;

/// What one connection's requests have done, as its timeout needs it.
#[derive(Debug)]
pub(crate) struct Activity {
    opened: Instant,
    /// Requests whose headers have been read (each then has a handler working on it).
    begun: AtomicU64,
    /// Requests answered, or given up.
    ended: AtomicU64,
    /// When the latest request ended, in nanoseconds after `opened`.
    last_ended_ns: AtomicU64,
}

impl Activity {
    pub(crate) fn new() -> Arc<Activity> {
        Arc::new(Activity {
            opened: Instant::now(),
            begun: AtomicU64::new(0),
            ended: AtomicU64::new(0),
            last_ended_ns: AtomicU64::new(0),
        })
    }

    fn begin(&self) {
        self.begun.fetch_add(1, Ordering::AcqRel);
    }

    fn end(&self) {
        let since_opened = u64::try_from(self.opened.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.last_ended_ns.fetch_max(since_opened, Ordering::AcqRel);
        self.ended.fetch_add(1, Ordering::AcqRel);
    }

    /// Since when the connection has had no request in hand: its opening, or its latest answer. `None`
    /// while a request is in hand (its body and its answer have timeouts of their own).
    fn idle_since(&self) -> Option<Instant> {
        // `ended` first: a request that begins in between makes `begun` larger, which reads as busy.
        let ended = self.ended.load(Ordering::Acquire);
        let begun = self.begun.load(Ordering::Acquire);
        if begun > ended {
            return None;
        }
        if ended == 0 {
            return Some(self.opened);
        }
        Some(self.opened + Duration::from_nanos(self.last_ended_ns.load(Ordering::Acquire)))
    }
}

/// Completes once the connection has had no request in hand for `timeout`: then it is to be closed.
pub(crate) async fn idle_for(activity: &Activity, timeout: Duration) {
    let alarm = tokio::time::sleep_until(activity.opened + timeout);
    let mut alarm = std::pin::pin!(alarm);
    loop {
        alarm.as_mut().await;
        let now = Instant::now();
        let next = match activity.idle_since() {
            Some(since) if now >= since + timeout => return,
            Some(since) => since + timeout,
            // Busy now: once the request in hand is answered, the connection has `timeout` again.
            None => now + timeout,
        };
        alarm.as_mut().reset(next);
    }
}

/// A connection's service, counting its requests in and out of its [`Activity`].
#[derive(Debug, Clone)]
pub(crate) struct Watched<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S> Watched<S> {
    pub(crate) fn new(inner: S, activity: Arc<Activity>) -> Watched<S> {
        Watched { inner, activity }
    }
}

impl<S, R> Service<R> for Watched<S>
where
    S: Service<R>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Answering<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Answering<S::Future> {
        self.activity.begin();
        Answering {
            answer: self.inner.call(request),
            ends: Ends(self.activity.clone()),
        }
    }
}

pin_project_lite::pin_project! {
    /// A request being answered: it ends when the answer is ready, or when it is given up.
    pub(crate) struct Answering<F> {
        #[pin]
        answer: F,
        ends: Ends,
    }
}

/// Marks the request ended when dropped, however its answering stopped.
struct Ends(Arc<Activity>);

impl Drop for Ends {
    fn drop(&mut self) {
        self.0.end();
    }
}

impl<F: Future> Future for Answering<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.project().answer.poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A service that answers once it is let go.
    #[derive(Clone)]
    struct Held(Arc<tokio::sync::Notify>);

    impl Service<()> for Held {
        type Response = ();
        type Error = std::convert::Infallible;
        type Future = Pin<Box<dyn Future<Output = Result<(), std::convert::Infallible>> + Send>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, (): ()) -> Self::Future {
            let let_go = self.0.clone();
            Box::pin(async move {
                let_go.notified().await;
                Ok(())
            })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_without_a_request_is_idle_from_its_opening() {
        let activity = Activity::new();
        let started = Instant::now();
        idle_for(&activity, Duration::from_secs(10)).await;
        assert_eq!(started.elapsed(), Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn the_timeout_runs_from_the_latest_answer_and_never_while_a_request_is_in_hand() {
        let activity = Activity::new();
        let let_go = Arc::new(tokio::sync::Notify::new());
        let mut service = Watched::new(Held(let_go.clone()), activity.clone());
        let started = Instant::now();
        let watching = tokio::spawn({
            let activity = activity.clone();
            async move { idle_for(&activity, Duration::from_secs(10)).await }
        });
        // A request arrives after 4 s and is in hand for 30 s, three timeouts' worth.
        tokio::time::sleep(Duration::from_secs(4)).await;
        let answering = tokio::spawn(service.call(()));
        tokio::time::sleep(Duration::from_secs(30)).await;
        assert!(!watching.is_finished(), "closed with a request in hand");
        let_go.notify_one();
        answering.await.unwrap().unwrap();
        let answered = started.elapsed();
        watching.await.unwrap();
        assert_eq!(started.elapsed() - answered, Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_given_up_ends_like_an_answered_one() {
        let activity = Activity::new();
        let mut service =
            Watched::new(Held(Arc::new(tokio::sync::Notify::new())), activity.clone());
        let answering = service.call(());
        assert_eq!(activity.idle_since(), None);
        drop(answering);
        assert!(activity.idle_since().is_some());
    }
}
