//! The HTTP surface: routes, the JSON fallbacks for unknown paths and methods, timeouts, panics turned into
//! JSON 500s, and serving with graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
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
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            panic_response,
        ))
        .with_state(state)
}

/// Serves until `shutdown` completes, then finishes the requests in flight.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let sweeper = tokio::spawn(sweep_periodically(state.clone()));
    let served = axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    sweeper.abort();
    served
}

/// How often expired limiter entries are dropped, so memory falls back once windows pass even when no new
/// keys arrive.
pub const SWEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

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
        let listener = TcpListener::bind(address).await?;
        let address = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, state.clone(), async move {
            let _ = stopped.await;
        }));
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

async fn healthz(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    axum::Json(json!({
        "status": "ok",
        "users": state.store.len(),
        "limiter_keys": state.tracked_keys(),
    }))
    .into_response()
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

async fn not_found() -> Boom {
    Boom::new(StatusCode::NOT_FOUND, "Not Found")
}

async fn method_not_allowed() -> Boom {
    Boom::new(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
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
