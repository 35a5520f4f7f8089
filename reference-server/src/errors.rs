//! Error answers: hapi/Boom-shaped JSON for the Appmixer endpoints, `{"message"}` for Creditsafe's.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

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

impl IntoResponse for Boom {
    fn into_response(self) -> Response {
        let body = json!({
            "statusCode": self.status.as_u16(),
            "error": self.status.canonical_reason().unwrap_or("Error"),
            "message": self.message,
        });
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(seconds) = self.retry_after_s {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
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

impl IntoResponse for ConnectError {
    fn into_response(self) -> Response {
        let mut response =
            (self.status, axum::Json(json!({ "message": self.message }))).into_response();
        if let Some(seconds) = self.retry_after_s {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
