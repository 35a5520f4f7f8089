//! The HTTP surface of one instance: the routes, the JSON answers for unknown paths and methods, and the
//! layers every route runs behind (bodies nobody reads drained, panics turned into JSON 500s).

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware;
use axum::response::Response;
use axum::routing::{get, post};

use crate::routes::{appmixer, creditsafe, health, test_clock};
use crate::state::AppState;
use crate::{app_layers, errors};

/// The router for one server instance.
pub fn app(state: AppState) -> Router {
    // The layers wrap the routes as one service, not each route: wrapping every route would clone and box
    // the layered route for every request.
    Router::new().fallback_service(layered_routes(state))
}

/// The routes behind the two layers every request passes (see `app_layers`): what a server serves.
pub(crate) fn layered_routes(
    state: AppState,
) -> app_layers::CatchPanic<app_layers::DiscardUnreadBodies<Router>> {
    let drain = app_layers::DiscardUnreadBodiesLayer {
        limit_bytes: state.config.body_limit_bytes,
        timeout: state.request_timeout(),
    };
    tower::ServiceBuilder::new()
        .layer(app_layers::CatchPanicLayer)
        .layer(drain)
        .service(routes(state))
}

fn routes(state: AppState) -> Router {
    let mut router = Router::new()
        .route("/user/auth", post(appmixer::sign_in))
        .route("/user", post(appmixer::create_user).get(appmixer::get_user))
        .route("/authenticate", post(creditsafe::authenticate))
        .route("/.well-known/jwks.json", get(creditsafe::jwks))
        .route("/healthz", get(health::healthz))
        .route("/openapi.json", get(health::openapi));
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
        .with_state(state)
}

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
