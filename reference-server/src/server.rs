//! Serving: accepting connections with header timeouts and graceful shutdown, the background upkeep of a
//! serving instance, [`RunningServer`] for in-process use, and [`run`] for the binary.

use std::future::Future;
use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::app::Routes;
use crate::graceful::ConnectionsShutdown;
use crate::idle_timeout::{Activity, Watched, idle_for};
use crate::self_wakes::SelfWakes;
use crate::state::AppState;

/// How long a client may take to send its request line and headers, from its connection's opening or its
/// previous answer, before its connection is closed, so slow (slowloris) and idle clients cannot hold
/// connections open; bodies have their own timeout.
pub(crate) const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// How long requests in flight may take to finish after shutdown begins.
pub(crate) const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves until `shutdown` completes, then finishes the requests in flight (for up to [`SHUTDOWN_GRACE`]).
/// Clients that are slow to send their headers are cut off after [`HEADER_READ_TIMEOUT`].
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with_header_timeout(listener, state, shutdown, HEADER_READ_TIMEOUT).await
}

/// [`serve`] with a chosen header read timeout.
pub(crate) async fn serve_with_header_timeout(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    header_read_timeout: std::time::Duration,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::service::TowerToHyperService;

    let sweeper = tokio::spawn(upkeep(state.clone()));
    let routes = Routes::new(state);
    let mut prototype = Builder::new(TokioExecutor::new());
    // An answer's head and its small body go out in one buffer and one plain write, rather than as a
    // vectored write of the two (which costs more, in hyper and in the kernel, for bodies this small).
    // hyper's own header read timeout arms a sleep for every request's headers; the connection's idle
    // timeout below keeps the same limit with one timer per connection (see `idle_timeout`).
    prototype.http1().header_read_timeout(None).writev(false);
    let graceful = ConnectionsShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: wait a moment rather than spin.
                Err(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let activity = Activity::new();
        // hyper's own request body goes in as it is (see `app::DirectRoutes`).
        let service = Watched::new(routes.serving(Some(remote)), activity.clone());
        let connection = prototype
            .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        let serving = graceful.watch(connection);
        tokio::spawn(SelfWakes::new(async move {
            // A connection with no request in hand for the header read timeout (idle, or its headers
            // trickling in) is dropped, which closes it.
            tokio::select! {
                biased;
                () = serving => {}
                () = idle_for(&activity, header_read_timeout) => {}
            }
        }));
    }
    drop(listener);
    sweeper.abort();
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
    Ok(())
}

/// How often expired limiter entries are dropped, so memory falls back once windows pass even when no new
/// keys arrive.
pub(crate) const SWEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// How often an instance on Redis checks its connection, so a connection Redis dropped (a restart) is
/// re-established before a request needs it, rather than failing the first request after the outage.
pub(crate) const STORE_CHECK_INTERVAL: std::time::Duration = std::time::Duration::from_millis(200);

/// The background work of a serving instance: sweeping expired limiter entries and keeping the store's
/// connection up.
async fn upkeep(state: AppState) {
    tokio::join!(
        sweep_periodically(state.clone()),
        keep_store_connected(state)
    );
}

async fn keep_store_connected(state: AppState) {
    let Some(redis) = state.redis.clone() else {
        return;
    };
    let mut ticks = tokio::time::interval(STORE_CHECK_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        // A failed check is what makes the connection reconnect; its error is the outage's, reported by
        // the requests and `/healthz`.
        let _ = redis.ping().await;
    }
}

async fn sweep_periodically(state: AppState) {
    let mut ticks = tokio::time::interval(SWEEP_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let state = state.clone();
        // Sweeping a large table takes a while: keep it off the request workers.
        let _ = tokio::task::spawn_blocking(move || state.sweep_limiters()).await;
    }
}

/// A server running on a task (the embedded default and tests use it).
#[derive(Debug)]
pub struct RunningServer {
    pub address: SocketAddr,
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// Binds `address` (port 0 for any free port) and serves on a new task.
    pub async fn start(address: SocketAddr, state: AppState) -> std::io::Result<RunningServer> {
        RunningServer::start_with_header_timeout(address, state, HEADER_READ_TIMEOUT).await
    }

    /// [`start`](Self::start) with a chosen header read timeout.
    pub async fn start_with_header_timeout(
        address: SocketAddr,
        state: AppState,
        header_read_timeout: std::time::Duration,
    ) -> std::io::Result<RunningServer> {
        let listener = TcpListener::bind(address).await?;
        let address = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let task = tokio::spawn(serve_with_header_timeout(
            listener,
            state.clone(),
            shutdown,
            header_read_timeout,
        ));
        Ok(RunningServer {
            address,
            state,
            stop: Some(stop),
            task,
        })
    }

    /// `http://ADDRESS`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Stops accepting, finishes what is in flight.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match (&mut self.task).await {
            Ok(result) => result,
            Err(error) => Err(std::io::Error::other(error)),
        }
    }
}

/// Completes on SIGINT or SIGTERM: the shutdown future for [`serve`] in a binary.
pub(crate) async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

/// Why [`run`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Start(#[from] crate::state::StartError),
    #[error("the server's start-up task failed: {0}")]
    Task(String),
    #[error("--listen {listen}: {source}")]
    Bind {
        listen: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Serve(std::io::Error),
}

/// Runs the server the flags describe until SIGINT or SIGTERM: prints the bound address on one line of
/// standard output (so scripts can read it, e.g. with port 0), and the profile and any generated passwords
/// on standard error.
pub async fn run(args: crate::config::ServerArgs) -> Result<(), RunError> {
    let listen = args.listen;
    let (generated_admin, generated_creditsafe) = args.generated_passwords();
    let config = args.into_config()?;
    let accounts = describe_accounts(&config, generated_admin, generated_creditsafe);
    let profile = config.profile;
    let store = config.store.describe().to_owned();
    let state = AppState::open(config, crate::Clock::system()).await?;
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|source| RunError::Bind { listen, source })?;
    let address = listener.local_addr().map_err(RunError::Serve)?;
    println!("listening on http://{address}");
    eprintln!(
        "profile {} (and creditsafe-connect), store {store}",
        profile.as_str()
    );
    for line in accounts {
        eprintln!("{line}");
    }
    serve(listener, state, shutdown_signal())
        .await
        .map_err(RunError::Serve)
}

/// Lines describing seeded accounts whose passwords were generated, for the operator.
fn describe_accounts(
    config: &crate::config::Config,
    generated_admin: bool,
    generated_creditsafe: bool,
) -> Vec<String> {
    let mut lines = Vec::new();
    if generated_admin {
        lines.push(format!(
            "admin account: {} / {} (generated; set --admin-password to choose)",
            config.admin.username, config.admin.password
        ));
    }
    if generated_creditsafe {
        lines.push(format!(
            "creditsafe account: {} / {} (generated; set --creditsafe-password to choose)",
            config.creditsafe_account.username, config.creditsafe_account.password
        ));
    }
    lines
}
