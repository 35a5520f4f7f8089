//! Error answers: hapi/Boom-shaped JSON for the Appmixer endpoints, `{"message"}` for Creditsafe's.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use crate::json_answer::{json_answer, json_bytes_answer};

/// The 429 message for the per-e-mail signup limit, exactly as documented.
pub(crate) const EMAIL_LIMIT_MESSAGE: &str =
    "Too many signup attempts for this email address. Please try again later.";
/// The 429 message for the per-IP signup limit, exactly as documented.
pub(crate) const IP_LIMIT_MESSAGE: &str =
    "Too many signup attempts from your IP address. Please try again later.";
/// The one answer to a failed sign-in, whether the user exists or not.
pub(crate) const BAD_CREDENTIALS_MESSAGE: &str = "Invalid username or password.";

/// The message of a 503 while the shared store (Redis) does not answer.
pub(crate) const STORE_UNAVAILABLE_MESSAGE: &str =
    "The service is temporarily unable to reach its data store. Please try again shortly.";
/// The `Retry-After` of that 503, in seconds.
pub(crate) const STORE_RETRY_AFTER_S: u64 = 1;

impl From<crate::store::Unavailable> for Boom {
    fn from(error: crate::store::Unavailable) -> Boom {
        tracing::warn!(reason = %error.reason, "answering 503: the store is unavailable");
        Boom {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: STORE_UNAVAILABLE_MESSAGE.to_owned(),
            retry_after_s: Some(STORE_RETRY_AFTER_S),
        }
    }
}

impl From<crate::store::Unavailable> for ConnectError {
    fn from(error: crate::store::Unavailable) -> ConnectError {
        tracing::warn!(reason = %error.reason, "answering 503: the store is unavailable");
        ConnectError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: STORE_UNAVAILABLE_MESSAGE.into(),
            retry_after_s: Some(STORE_RETRY_AFTER_S),
        }
    }
}

/// An Appmixer error: `{"statusCode", "error", "message"}` (`error` is the reason phrase).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Boom {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
    pub(crate) retry_after_s: Option<u64>,
}

impl Boom {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Boom {
        Boom {
            status,
            message: message.into(),
            retry_after_s: None,
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Boom {
        Boom::new(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn unauthorized(message: impl Into<String>) -> Boom {
        Boom::new(StatusCode::UNAUTHORIZED, message)
    }

    pub(crate) fn too_many_requests(message: &str, retry_after_ms: u64) -> Boom {
        Boom {
            status: StatusCode::TOO_MANY_REQUESTS,
            message: message.to_owned(),
            retry_after_s: Some(retry_after_ms.div_ceil(1000).max(1)),
        }
    }
}

/// A Boom body as sent: serialised straight from the error, in this field order.
#[derive(serde::Serialize)]
struct BoomBody<'a> {
    #[serde(rename = "statusCode")]
    status_code: u16,
    error: &'a str,
    message: &'a str,
}

/// The answer to an unknown path, rendered once (a test checks it is what [`Boom`] would render).
const NOT_FOUND_BODY: &[u8] = br#"{"statusCode":404,"error":"Not Found","message":"Not Found"}"#;
/// The answer to a known path with another method, rendered once likewise.
const METHOD_NOT_ALLOWED_BODY: &[u8] =
    br#"{"statusCode":405,"error":"Method Not Allowed","message":"Method Not Allowed"}"#;

/// 404 `{"statusCode": 404, "error": "Not Found", "message": "Not Found"}`, without serialising it again.
pub(crate) fn not_found() -> Response {
    json_bytes_answer(StatusCode::NOT_FOUND, Bytes::from_static(NOT_FOUND_BODY))
}

/// 405, Boom-shaped like [`not_found`].
pub(crate) fn method_not_allowed() -> Response {
    json_bytes_answer(
        StatusCode::METHOD_NOT_ALLOWED,
        Bytes::from_static(METHOD_NOT_ALLOWED_BODY),
    )
}

/// How many `Retry-After` values are made once, as shared constants: every wait of up to an hour (the
/// default windows are 2 minutes, 5 minutes and an hour).
const RETRY_AFTER_VALUES_KEPT: u64 = 3600;

/// Leaked once per process (a few kilobytes), so an answer takes its value without counting references.
static RETRY_AFTER_VALUES: std::sync::LazyLock<Vec<HeaderValue>> = std::sync::LazyLock::new(|| {
    (0..=RETRY_AFTER_VALUES_KEPT)
        .map(|seconds| HeaderValue::from_static(seconds.to_string().leak()))
        .collect()
});

/// The `Retry-After` value for a wait of `seconds`.
fn retry_after_value(seconds: u64) -> HeaderValue {
    usize::try_from(seconds)
        .ok()
        .and_then(|index| RETRY_AFTER_VALUES.get(index))
        .cloned()
        .unwrap_or_else(|| HeaderValue::from(seconds))
}

/// `Retry-After: SECONDS` on `response`, when there is a wait to announce.
fn with_retry_after(mut response: Response, retry_after_s: Option<u64>) -> Response {
    if let Some(seconds) = retry_after_s {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, retry_after_value(seconds));
    }
    response
}

impl IntoResponse for Boom {
    fn into_response(self) -> Response {
        let body = BoomBody {
            status_code: self.status.as_u16(),
            error: self.status.canonical_reason().unwrap_or("Error"),
            message: &self.message,
        };
        let capacity = 48 + body.error.len() + body.message.len();
        with_retry_after(
            json_answer(self.status, &body, capacity),
            self.retry_after_s,
        )
    }
}

/// A Creditsafe Connect error: `{"message"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConnectError {
    pub(crate) status: StatusCode,
    pub(crate) message: std::borrow::Cow<'static, str>,
    pub(crate) retry_after_s: Option<u64>,
}

pub(crate) const CONNECT_INVALID_CREDENTIALS: &str = "Invalid username or password.";
pub(crate) const CONNECT_TOO_MANY_INVALID: &str =
    "Too many identical invalid requests. Please wait before trying again.";
pub(crate) const CONNECT_LOCKED_OUT: &str =
    "Too many requests to the authenticate endpoint. Please wait 5 minutes before trying again.";

impl ConnectError {
    pub(crate) fn new(
        status: StatusCode,
        message: impl Into<std::borrow::Cow<'static, str>>,
    ) -> ConnectError {
        ConnectError {
            status,
            message: message.into(),
            retry_after_s: None,
        }
    }

    pub(crate) fn limited(message: &'static str, retry_after_ms: u64) -> ConnectError {
        ConnectError {
            status: StatusCode::TOO_MANY_REQUESTS,
            message: message.into(),
            retry_after_s: Some(retry_after_ms.div_ceil(1000).max(1)),
        }
    }
}

/// A Creditsafe error body as sent.
#[derive(serde::Serialize)]
struct ConnectErrorBody<'a> {
    message: &'a str,
}

/// The bodies of the documented Creditsafe messages, rendered once: a lockout answers every request with
/// the same one.
static RENDERED_CONNECT_MESSAGES: std::sync::LazyLock<[(&str, Bytes); 3]> =
    std::sync::LazyLock::new(|| {
        [
            CONNECT_INVALID_CREDENTIALS,
            CONNECT_TOO_MANY_INVALID,
            CONNECT_LOCKED_OUT,
        ]
        .map(|message| {
            let rendered = serde_json::to_vec(&ConnectErrorBody { message }).unwrap_or_default();
            // Leaked once per process (three short strings), so each answer shares them without counting.
            (message, Bytes::from_static(rendered.leak()))
        })
    });

impl IntoResponse for ConnectError {
    fn into_response(self) -> Response {
        let rendered = RENDERED_CONNECT_MESSAGES
            .iter()
            .find(|(message, rendered)| *message == self.message && !rendered.is_empty());
        let response = match rendered {
            Some((_, rendered)) => json_bytes_answer(self.status, rendered.clone()),
            None => json_answer(
                self.status,
                &ConnectErrorBody {
                    message: &self.message,
                },
                16 + self.message.len(),
            ),
        };
        with_retry_after(response, self.retry_after_s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body_of(response: Response) -> Vec<u8> {
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec()
    }

    #[tokio::test]
    async fn the_constant_answers_are_what_boom_renders() {
        for (constant, status, message) in [
            (not_found(), StatusCode::NOT_FOUND, "Not Found"),
            (
                method_not_allowed(),
                StatusCode::METHOD_NOT_ALLOWED,
                "Method Not Allowed",
            ),
        ] {
            let rendered = Boom::new(status, message).into_response();
            assert_eq!(constant.status(), rendered.status());
            assert_eq!(constant.headers(), rendered.headers());
            assert_eq!(body_of(constant).await, body_of(rendered).await);
        }
    }

    #[test]
    fn retry_after_values_are_the_seconds_written_out() {
        for seconds in [0, 1, 59, 300, 3600, 3601, 86_400] {
            assert_eq!(retry_after_value(seconds), seconds.to_string().as_str());
        }
    }

    #[tokio::test]
    async fn errors_render_as_documented() {
        let boom = Boom::too_many_requests(IP_LIMIT_MESSAGE, 1_500).into_response();
        assert_eq!(boom.headers()[header::RETRY_AFTER], "2");
        assert_eq!(boom.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(
            body_of(boom).await,
            serde_json::to_vec(&serde_json::json!({
                "statusCode": 429,
                "error": "Too Many Requests",
                "message": IP_LIMIT_MESSAGE,
            }))
            .unwrap()
        );
        for message in [
            CONNECT_INVALID_CREDENTIALS,
            CONNECT_TOO_MANY_INVALID,
            "other",
        ] {
            let rendered = ConnectError::new(StatusCode::UNAUTHORIZED, message).into_response();
            assert_eq!(
                body_of(rendered).await,
                serde_json::to_vec(&serde_json::json!({ "message": message })).unwrap()
            );
        }
        let connect = ConnectError::limited(CONNECT_LOCKED_OUT, 300_000).into_response();
        assert_eq!(connect.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(connect.headers()[header::RETRY_AFTER], "300");
        assert_eq!(
            body_of(connect).await,
            format!(r#"{{"message":"{CONNECT_LOCKED_OUT}"}}"#).into_bytes()
        );
    }
}
