//! The HTTP surface of one instance: the routes, the JSON answers for unknown paths and methods, the
//! layers every route runs behind (bodies nobody reads drained, panics turned into JSON 500s), and the two
//! busiest routes and unknown paths answered without the router's bookkeeping.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::HttpBody;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::Method;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use bytes::Bytes;
use futures_util::future::{BoxFuture, Either, Ready, ready};
use tower::{Layer, Service};

use crate::routes::{appmixer, client_address, creditsafe, health, test_clock};
use crate::state::AppState;
use crate::{app_layers, errors};

/// The router for one server instance.
pub fn app(state: AppState) -> Router {
    // The layers wrap the routes as one service, not each route: wrapping every route would clone and box
    // the layered route for every request.
    Router::new().fallback_service(Routes::new(state).serving(None))
}

/// The routes behind the two layers every request passes (see `app_layers`): what a server serves, made
/// once and handed to each connection.
#[derive(Debug)]
pub(crate) struct Routes {
    /// What every connection is served with, before its peer is known.
    served: Connection,
}

impl Routes {
    pub(crate) fn new(state: AppState) -> Routes {
        let drain = app_layers::DiscardUnreadBodiesLayer {
            limit_bytes: state.config.body_limit_bytes,
            timeout: state.request_timeout(),
        };
        let (router, paths) = routes(state.clone());
        Routes {
            served: Connection {
                direct: !fault!(state.config, JsonAsTextPlain),
                router: drain.layer(router),
                paths,
                state,
                peer: None,
            },
        }
    }

    /// The service for one connection from `peer`: its `POST` requests are attributed to `peer` (see
    /// `client_address`). Without a peer (the router called in process) each request brings its own, as a
    /// `ConnectInfo` extension.
    pub(crate) fn serving(&self, peer: Option<SocketAddr>) -> app_layers::CatchPanic<DirectRoutes> {
        app_layers::CatchPanicLayer.layer(DirectRoutes {
            connection: Arc::new(Connection {
                peer,
                ..self.served.clone()
            }),
        })
    }
}

/// `GET /user` and `POST /user`.
const USER: &str = "/user";
/// Creditsafe Connect's `POST /authenticate`.
const AUTHENTICATE: &str = "/authenticate";

/// The router and every path it serves.
fn routes(state: AppState) -> (Router, Arc<[&'static str]>) {
    let mut table: Vec<(&'static str, MethodRouter<AppState>)> = vec![
        ("/user/auth", post(appmixer::sign_in)),
        (USER, post(appmixer::create_user).get(appmixer::get_user)),
        (AUTHENTICATE, post(creditsafe::authenticate)),
        ("/.well-known/jwks.json", get(creditsafe::jwks)),
        ("/healthz", get(health::healthz)),
        ("/openapi.json", get(health::openapi)),
    ];
    if state.config.test_clock {
        table.push((
            "/_authconform/clock",
            get(test_clock::read).post(test_clock::advance),
        ));
    }
    let paths: Arc<[&'static str]> = table.iter().map(|(path, _)| *path).collect();
    let mut router = Router::new();
    for (path, route) in table {
        router = router.route(path, route);
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
    let router = router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state);
    (router, paths)
}

/// The router, with the two routes a client calls most often and most cheaply (`POST /authenticate`,
/// which a lockout answers at once, and `GET /user` with a token) handed straight to their handlers, and a
/// path no route serves answered with the router's own 404 (when no body needs draining first). For
/// every request it routes, the router records the original URI, the matched path and the path
/// parameters, and boxes the handler's answer twice, which is a good part of such a request's cost; these
/// two handlers read none of it. They also take the request's body as hyper gives it, where the router
/// needs it boxed as axum's. Every other request goes through the router: these paths under other methods
/// (`HEAD`, a 405) and a `GET /user` with a body (the layer before the router drains it) included. The
/// answers are the same either way (hyper writes the `Content-Length` the router would have added, in the
/// same place).
///
/// hyper clones the service for every request. This one is a single reference to its connection's
/// [`Connection`], so a request touches no count that every connection shares (a count the server's
/// threads would pass back and forth), save the router's, and that only on the router's paths.
#[derive(Debug, Clone)]
pub(crate) struct DirectRoutes {
    connection: Arc<Connection>,
}

/// What one connection's requests are served with.
#[derive(Debug, Clone)]
struct Connection {
    state: AppState,
    /// Every request but the two answered straight away, behind the layer that drains unread bodies.
    router: app_layers::DiscardUnreadBodies<Router>,
    /// Every path the router serves: a request for any other is a 404, whatever its method.
    paths: Arc<[&'static str]>,
    /// Off while a deliberate fault rewrites every answer the router gives.
    direct: bool,
    /// The connection's peer, when the server knows it (see [`Routes::serving`]).
    peer: Option<SocketAddr>,
}

type DirectAnswer = BoxFuture<'static, Result<Response, Infallible>>;

/// Generic over the request's body: a connection hands hyper's body straight to the two direct routes (an
/// answer to `POST /authenticate` reads it as it came), and only the router's requests are given axum's
/// boxed body. In process, the router's own body comes in.
impl<B> Service<axum::http::Request<B>> for DirectRoutes
where
    B: HttpBody<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<RoutedAnswer, Either<DirectAnswer, Ready<Result<Response, Infallible>>>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // The router is always ready (axum's `Router` never applies backpressure).
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: axum::http::Request<B>) -> Self::Future {
        let connection = &self.connection;
        if connection.direct {
            let path = request.uri().path();
            if request.method() == Method::POST && path == AUTHENTICATE {
                // The connection's peer goes straight to the handler: recording it on the request would
                // cost this, the cheapest of answers, an extension table of its own.
                let peer = connection
                    .peer
                    .or_else(|| client_address::recorded_peer(request.extensions()));
                let connection = connection.clone();
                let (parts, body) = request.into_parts();
                return Either::Right(Either::Left(Box::pin(async move {
                    Ok(creditsafe::authenticate_from(&connection.state, &parts, body, peer).await)
                })));
            }
            // A `GET` with a body goes through the router, which drains it first.
            if request.method() == Method::GET && path == USER && request.body().is_end_stream() {
                let connection = connection.clone();
                let (parts, _) = request.into_parts();
                return Either::Right(Either::Left(Box::pin(async move {
                    Ok(appmixer::get_user_with(&connection.state, &parts.headers)
                        .await
                        .into_response())
                })));
            }
            // A path no route serves, without a body to drain: the router's fallback answer, at once.
            if !connection.paths.contains(&path) && request.body().is_end_stream() {
                return Either::Right(Either::Right(ready(Ok(errors::not_found()))));
            }
        }
        let mut request = request.map(axum::body::Body::new);
        // Only `POST` handlers key limits on the client; sparing the other requests this extension spares
        // them growing their extension table.
        if let Some(peer) = connection.peer
            && request.method() == Method::POST
        {
            request.extensions_mut().insert(ConnectInfo(peer));
        }
        Either::Left(connection.router.clone().call(request))
    }
}

/// The router's answer, behind the layer that drains unread bodies.
type RoutedAnswer = <app_layers::DiscardUnreadBodies<Router> as Service<Request>>::Future;

async fn not_found(State(state): State<AppState>, request: Request) -> Response {
    answer_after_body(&state, request, errors::not_found()).await
}

async fn method_not_allowed(State(state): State<AppState>, request: Request) -> Response {
    answer_after_body(&state, request, errors::method_not_allowed()).await
}

/// `answer`, once the request's body has been read and dropped: an answer that leaves the body unread
/// would make the server drop the connection under a client that sends its next request on it.
async fn answer_after_body(state: &AppState, request: Request, answer: Response) -> Response {
    let drained = crate::body::discard(
        request.into_body(),
        state.config.body_limit_bytes,
        state.request_timeout(),
    )
    .await;
    app_layers::close_unless(drained, answer)
}
