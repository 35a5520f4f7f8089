//! JSON answers: a body serialised straight into the one buffer it is sent from, or a constant body
//! rendered once, sent with `Content-Type: application/json`.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;

/// What a body that could not be serialised is answered with (serialising the server's own structs does
/// not fail, but a 500 is still an answer).
const UNSERIALISABLE: &[u8] =
    br#"{"statusCode":500,"error":"Internal Server Error","message":"An internal server error occurred"}"#;

/// `value` as JSON with `status`. `capacity` is the expected body size, so the buffer is not regrown.
pub(crate) fn json_answer<T: serde::Serialize + ?Sized>(
    status: StatusCode,
    value: &T,
    capacity: usize,
) -> Response {
    let mut buffer = Vec::with_capacity(capacity);
    match serde_json::to_writer(&mut buffer, value) {
        Ok(()) => json_bytes_answer(status, Bytes::from(buffer)),
        Err(_) => json_bytes_answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            Bytes::from_static(UNSERIALISABLE),
        ),
    }
}

/// A body already rendered as JSON (e.g. a `Bytes::from_static` constant: sending it copies nothing).
pub(crate) fn json_bytes_answer(status: StatusCode, body: Bytes) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
