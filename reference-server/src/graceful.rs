//! Graceful shutdown of a server's connections: asked once, each connection finishes what it is
//! answering and closes, and the server waits for the last one. A connection pays one atomic load each
//! time it is polled, not a poll of a channel every connection shares.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;

use hyper_util::server::graceful::GracefulConnection;
use tokio::sync::{Notify, watch};

/// The connections of one server and the request that they finish.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionsShutdown {
    inner: Arc<ShutdownShared>,
}

#[derive(Debug)]
struct ShutdownShared {
    asked: AtomicBool,
    /// Wakes every connection once when shutdown is asked (each is registered on its first poll).
    asking: Notify,
    /// One receiver per live connection, dropped when it ends: `closed` says the last one has.
    live: watch::Sender<()>,
}

impl ConnectionsShutdown {
    pub(crate) fn new() -> ConnectionsShutdown {
        let (live, _) = watch::channel(());
        ConnectionsShutdown {
            inner: Arc::new(ShutdownShared {
                asked: AtomicBool::new(false),
                asking: Notify::new(),
                live,
            }),
        }
    }

    /// Serves `connection` to its end; once shutdown is asked, it finishes what it is answering and
    /// closes (hyper's graceful shutdown).
    pub(crate) fn watch<C>(&self, connection: C) -> impl Future<Output = ()> + Send + 'static
    where
        C: GracefulConnection + Send + 'static,
    {
        let shared = self.inner.clone();
        let live = shared.live.subscribe();
        async move {
            let _live = live;
            let mut asking = pin!(shared.asking.notified());
            let mut connection = pin!(connection);
            let mut registered = false;
            let mut asked = false;
            std::future::poll_fn(|cx| {
                if !asked {
                    // Registered before the flag is read, so a request made in between still wakes it.
                    if !registered {
                        let _ = asking.as_mut().poll(cx);
                        registered = true;
                    }
                    if shared.asked.load(Ordering::Acquire) {
                        asked = true;
                        connection.as_mut().graceful_shutdown();
                    }
                }
                match connection.as_mut().poll(cx) {
                    Poll::Ready(_) => Poll::Ready(()),
                    Poll::Pending => Poll::Pending,
                }
            })
            .await;
        }
    }

    /// Asks every connection to finish, then waits until the last one has.
    pub(crate) async fn shutdown(&self) {
        self.inner.asked.store(true, Ordering::Release);
        self.inner.asking.notify_waiters();
        self.inner.live.closed().await;
    }
}
