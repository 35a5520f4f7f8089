//! The HTTP surface of one instance: the routes, the JSON answers for unknown paths and methods, request
//! bodies nobody reads drained so the connection stays usable, and panics turned into JSON 500s.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::errors::Boom;
use crate::routes::{appmixer, creditsafe, health, test_clock};
use crate::state::AppState;

/// The router for one server instance.
pub fn app(state: AppState) -> Router {
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
        .layer(middleware::from_fn_with_state(
            state.clone(),
            discard_bodies_nobody_reads,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            panic_response,
        ))
        .with_state(state)
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
