//! The test-clock protocol (`GET`/`POST /_authconform/clock`), served only with `--test-clock`. With a
//! Redis store the offset is shared: advancing through one instance advances every instance.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::body;
use crate::errors::ConnectError;
use crate::state::AppState;

/// The furthest one request may move the clock (about 100 years).
pub(crate) const MAX_ADVANCE_MS: u64 = 100 * 365 * 24 * 3600 * 1000;

pub(crate) async fn read(State(state): State<AppState>) -> Result<Response, ConnectError> {
    now(&state).await
}

pub(crate) async fn advance(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, ConnectError> {
    let bytes = body::read_limited(request.into_body(), 1024).await?;
    let object = body::parse_object(&bytes)?;
    let bad = |message: &'static str| ConnectError::new(StatusCode::BAD_REQUEST, message);
    if let Some(unknown) = object.keys().find(|key| key.as_str() != "advance_ms") {
        let _ = unknown;
        return Err(bad("Only \"advance_ms\" is allowed."));
    }
    let advance_ms = match object.get("advance_ms") {
        Some(Value::Number(number)) => number
            .as_u64()
            .ok_or_else(|| bad("\"advance_ms\" must be a non-negative integer."))?,
        Some(_) => return Err(bad("\"advance_ms\" must be a non-negative integer.")),
        None => return Err(bad("\"advance_ms\" is required.")),
    };
    if advance_ms > MAX_ADVANCE_MS {
        return Err(bad("\"advance_ms\" is too large (at most 100 years)."));
    }
    state.advance_clock_ms(advance_ms).await?;
    now(&state).await
}

async fn now(state: &AppState) -> Result<Response, ConnectError> {
    let now_ms = state.now_ms().await?;
    let offset_ms = state.clock_offset_ms().await?;
    Ok(axum::Json(json!({ "now_ms": now_ms, "offset_ms": offset_ms })).into_response())
}
