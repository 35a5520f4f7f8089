//! Liveness and description: `GET /healthz` (the store's health and the user count) and
//! `GET /openapi.json`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::state::AppState;

/// Liveness and the store's health: 200 with the user count (and, in memory, the limiter keys), or 503
/// with the reason while Redis does not answer.
pub(crate) async fn healthz(State(state): State<AppState>) -> Response {
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
pub(crate) const OPENAPI: &str = include_str!("../../openapi/openapi.json");

pub(crate) async fn openapi() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        OPENAPI,
    )
        .into_response()
}
