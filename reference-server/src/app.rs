//! The HTTP surface: routes, the JSON fallbacks for unknown paths and methods, timeouts, panics turned into
//! JSON 500s, and serving with graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::errors::Boom;
use crate::state::AppState;
use crate::{appmixer, creditsafe, test_clock};

/// The router for one server instance.
pub fn app(state: AppState) -> Router {
    let mut router = Router::new()
        .route("/user/auth", post(appmixer::sign_in))
        .route("/user", post(appmixer::create_user).get(appmixer::get_user))
        .route("/authenticate", post(creditsafe::authenticate))
        .route("/.well-known/jwks.json", get(creditsafe::jwks))
        .route("/healthz", get(healthz))
        .route("/openapi.json", get(openapi));
    if state.config.test_clock {
        router = router.route(
            "/_authconform/clock",
            get(test_clock::read).post(test_clock::advance),
        );
    }
    if crate::fault!(state.config, JsonAsTextPlain) {
        router = router.layer(middleware::map_response(
            |mut response: Response| async move {
                response.headers_mut().insert(
                    axum::http::header::CONTENT_TYPE,
                    axum::http::HeaderValue::from_static("text/plain"),
                );
                response
            },
        ));
    }
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            discard_bodies_nobody_reads,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            panic_response,
        ))
        .with_state(state)
}

/// How long a client may take to send its request line and headers before its connection is closed, so
/// slow (slowloris) clients cannot hold connections open; bodies have their own timeout.
pub const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// How long requests in flight may take to finish after shutdown begins.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

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
pub async fn serve_with_header_timeout(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    header_read_timeout: std::time::Duration,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::server::graceful::GracefulShutdown;
    use hyper_util::service::TowerToHyperService;
    use tower::ServiceExt;

    let sweeper = tokio::spawn(upkeep(state.clone()));
    let router = app(state);
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let graceful = GracefulShutdown::new();
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
        let service = router.clone().map_request(
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(remote));
                request
            },
        );
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
    drop(listener);
    sweeper.abort();
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
    Ok(())
}

/// How often expired limiter entries are dropped, so memory falls back once windows pass even when no new
/// keys arrive.
pub const SWEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// How often an instance on Redis checks its connection, so a connection Redis dropped (a restart) is
/// re-established before a request needs it, rather than failing the first request after the outage.
pub const STORE_CHECK_INTERVAL: std::time::Duration = std::time::Duration::from_millis(200);

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

/// Liveness and the store's health: 200 with the user count (and, in memory, the limiter keys), or 503
/// with the reason while Redis does not answer.
async fn healthz(State(state): State<AppState>) -> Response {
    let store = if state.redis.is_some() {
        "redis"
    } else {
        "memory"
    };
    let users = match state.store_health().await {
        Ok(()) => state.store.count().await.map_err(|error| error.to_string()),
        Err(error) => Err(error.to_string()),
    };
    match users {
        Ok(users) => {
            let mut body = json!({ "status": "ok", "store": store, "users": users });
            if let Some(keys) = state.tracked_keys() {
                body["limiter_keys"] = json!(keys);
            }
            axum::Json(body).into_response()
        }
        Err(reason) => {
            let mut response = (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({
                    "status": "unavailable",
                    "store": store,
                    "message": crate::errors::STORE_UNAVAILABLE_MESSAGE,
                    "reason": reason,
                })),
            )
                .into_response();
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(crate::errors::STORE_RETRY_AFTER_S),
            );
            response
        }
    }
}

/// The OpenAPI 3.1 description of every endpoint, profile difference and error body.
pub const OPENAPI: &str = include_str!("../openapi/openapi.json");

async fn openapi() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        OPENAPI,
    )
        .into_response()
}

async fn not_found(State(state): State<AppState>, request: Request) -> Response {
    answer_after_body(
        &state,
        request,
        Boom::new(StatusCode::NOT_FOUND, "Not Found"),
    )
    .await
}

async fn method_not_allowed(State(state): State<AppState>, request: Request) -> Response {
    let refusal = Boom::new(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    answer_after_body(&state, request, refusal).await
}

/// Only `POST` handlers read bodies: any other request's body is read and dropped before it is handled,
/// so a `GET` or `DELETE` with a body does not leave the connection out of step.
async fn discard_bodies_nobody_reads(
    State(state): State<AppState>,
    request: Request,
    next: middleware::Next,
) -> Response {
    if request.method() == axum::http::Method::POST {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let drained =
        crate::body::discard(body, state.config.body_limit_bytes, state.request_timeout()).await;
    let response = next
        .run(Request::from_parts(parts, axum::body::Body::empty()))
        .await;
    close_unless(drained, response)
}

/// `answer`, once the request's body has been read and dropped: an answer that leaves the body unread
/// would make the server drop the connection under a client that sends its next request on it.
async fn answer_after_body(state: &AppState, request: Request, answer: Boom) -> Response {
    let drained = crate::body::discard(
        request.into_body(),
        state.config.body_limit_bytes,
        state.request_timeout(),
    )
    .await;
    close_unless(drained, answer.into_response())
}

/// Says `Connection: close` on `response` unless the body was read, so the client does not reuse a
/// connection the server will close.
fn close_unless(drained: bool, mut response: Response) -> Response {
    if !drained {
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    response
}

fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    Boom::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "An internal server error occurred",
    )
    .into_response()
}

/// Completes on SIGINT or SIGTERM: the shutdown future for [`serve`] in a binary.
pub async fn shutdown_signal() {
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
    let accounts = crate::describe_accounts(&config, generated_admin, generated_creditsafe);
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
