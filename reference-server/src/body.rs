//! Reading request bodies: the size limit (413), the JSON content type (415) and JSON syntax (400), each
//! answered with a JSON error rather than a plain-text rejection.

use axum::body::{Body, HttpBody};
use axum::http::{HeaderMap, StatusCode, header};
use bytes::Bytes;
use serde_json::{Map, Value};

/// Why a body was refused, with the status it is answered with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BodyError {
    #[error("The request body is larger than {limit} bytes.")]
    TooLarge { limit: usize },
    #[error("The request body must be sent with Content-Type: application/json.")]
    NotJson,
    #[error("The request body is not valid JSON: {0}.")]
    Malformed(String),
    #[error("The request body must be a JSON object.")]
    NotAnObject,
    #[error("The request body could not be read.")]
    Unreadable,
    #[error("The request body arrived too slowly.")]
    TooSlow,
}

impl BodyError {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            BodyError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            BodyError::NotJson => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            BodyError::TooSlow => StatusCode::REQUEST_TIMEOUT,
            BodyError::Malformed(_) | BodyError::NotAnObject | BodyError::Unreadable => {
                StatusCode::BAD_REQUEST
            }
        }
    }
}

/// How much of an oversized body is read and discarded before answering 413, so the client, still sending,
/// gets the answer instead of a reset connection. Past this, the connection is closed after the answer.
pub(crate) const DRAIN_LIMIT: usize = 2 * 1024 * 1024;

/// Reads at most `limit` bytes of body within `timeout`. An oversized body is drained (up to
/// [`DRAIN_LIMIT`]) so the 413 reaches a client that is still sending.
pub(crate) async fn read_limited_within<B>(
    body: B,
    limit: usize,
    timeout: std::time::Duration,
) -> Result<Bytes, BodyError>
where
    B: HttpBody<Data = Bytes> + Unpin,
{
    let mut reading = std::pin::pin!(read_limited(body, limit));
    // A small body has nearly always arrived with the headers: only one still on its way needs a timer
    // (whose time starts at this first look, microseconds after the request arrived).
    if let Some(read) = futures_util::future::poll_immediate(reading.as_mut()).await {
        return read;
    }
    // Boxed, being rare: a timer in place would make every body read's future (and its callers') larger.
    Box::pin(tokio::time::timeout(timeout, reading))
        .await
        .unwrap_or(Err(BodyError::TooSlow))
}

/// Reads at most `limit` bytes of body. An oversized body is drained (up to [`DRAIN_LIMIT`]) so the
/// 413 reaches a client that is still sending; one whose declared length (its `Content-Length`, as the
/// body reports it) is past that is refused before any of it is read.
pub(crate) async fn read_limited<B>(body: B, limit: usize) -> Result<Bytes, BodyError>
where
    B: HttpBody<Data = Bytes> + Unpin,
{
    use http_body_util::BodyExt;

    if body.size_hint().lower() > DRAIN_LIMIT as u64 {
        return Err(BodyError::TooLarge { limit });
    }
    let mut body = body;
    // A body in one piece (the usual case) is passed on as it came; only a second piece starts a copy.
    let mut first: Option<Bytes> = None;
    let mut collected: Option<bytes::BytesMut> = None;
    let mut seen: usize = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| BodyError::Unreadable)?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len());
        if seen > DRAIN_LIMIT {
            return Err(BodyError::TooLarge { limit });
        }
        if seen > limit {
            continue;
        }
        match (&mut collected, first.take()) {
            (Some(collected), _) => collected.extend_from_slice(&data),
            (None, None) => first = Some(data),
            (None, Some(earlier)) => {
                let mut joined = bytes::BytesMut::with_capacity(seen);
                joined.extend_from_slice(&earlier);
                joined.extend_from_slice(&data);
                collected = Some(joined);
            }
        }
        // A body whose declared length has arrived says so: no need to ask it for the end.
        if body.is_end_stream() {
            break;
        }
    }
    if seen > limit {
        return Err(BodyError::TooLarge { limit });
    }
    Ok(match (collected, first) {
        (Some(collected), _) => collected.freeze(),
        (None, first) => first.unwrap_or_default(),
    })
}

/// Reads and throws away a body nobody needs (a 404's, a 405's, a GET's), within `limit` bytes and
/// `timeout`, so the connection stays in step for the client's next request. False when the body was too
/// large, too slow or unreadable: then the answer must close the connection.
pub(crate) async fn discard(body: Body, limit: usize, timeout: std::time::Duration) -> bool {
    use http_body_util::BodyExt;

    let mut body = body;
    if body.is_end_stream() {
        return true;
    }
    let drain = async move {
        let mut seen: usize = 0;
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else {
                return false;
            };
            if let Ok(data) = frame.into_data() {
                seen = seen.saturating_add(data.len());
                if seen > limit {
                    return false;
                }
            }
        }
        true
    };
    tokio::time::timeout(timeout, drain).await.unwrap_or(false)
}

/// Whether the content type is JSON (`application/json` or `application/*+json`, any parameters).
pub(crate) fn is_json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses a JSON object body (the content type must say JSON).
pub(crate) fn json_object(
    headers: &HeaderMap,
    bytes: &[u8],
) -> Result<Map<String, Value>, BodyError> {
    if !is_json_content_type(headers) {
        return Err(BodyError::NotJson);
    }
    parse_object(bytes)
}

/// Parses a JSON object, whatever the content type.
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, BodyError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(BodyError::NotAnObject),
        Err(error) => Err(BodyError::Malformed(describe_json_error(&error))),
    }
}

fn describe_json_error(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match error.classify() {
        Category::Eof => "it ends too early",
        Category::Syntax => "syntax error",
        Category::Data | Category::Io => "unexpected data",
    };
    format!("{what} at line {} column {}", error.line(), error.column())
}

/// A string field: `Ok(None)` when absent, an error naming the field when present but not a string.
pub(crate) fn optional_string<'a>(
    object: &'a Map<String, Value>,
    field: &str,
) -> Result<Option<&'a str>, String> {
    match object.get(field) {
        None => Ok(None),
        Some(Value::String(value)) => Ok(Some(value)),
        Some(Value::Null) => Err(format!("\"{field}\" must be a string, not null.")),
        Some(other) => Err(format!(
            "\"{field}\" must be a string, not {}.",
            kind_of(other)
        )),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The parse error a careless server answers malformed JSON with, quoting the raw body (password and all):
/// the `ParserErrorEchoesBody` fault's message.
pub(crate) fn echoing_parse_error(bytes: &[u8]) -> String {
    format!(
        "Unexpected end of JSON input: {}",
        String::from_utf8_lossy(bytes)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(content_type: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, content_type.parse().unwrap());
        headers
    }

    #[test]
    fn json_content_types_are_recognised() {
        assert!(is_json_content_type(&headers("application/json")));
        assert!(is_json_content_type(&headers(
            "Application/JSON; charset=utf-8"
        )));
        assert!(is_json_content_type(&headers("application/problem+json")));
        assert!(!is_json_content_type(&headers("text/plain")));
        assert!(!is_json_content_type(&HeaderMap::new()));
    }

    #[test]
    fn bodies_are_parsed_into_objects_or_refused_with_a_reason() {
        let json = headers("application/json");
        assert!(json_object(&json, br#"{"a":1}"#).is_ok());
        assert_eq!(json_object(&json, b"[1]"), Err(BodyError::NotAnObject));
        assert!(matches!(
            json_object(&json, b"{\"a\":"),
            Err(BodyError::Malformed(_))
        ));
        assert_eq!(
            json_object(&headers("text/plain"), b"{}"),
            Err(BodyError::NotJson)
        );
    }

    #[test]
    fn string_fields_name_the_offending_type() {
        let object = parse_object(br#"{"a":"x","b":1,"c":null,"d":[]}"#).unwrap();
        assert_eq!(optional_string(&object, "a"), Ok(Some("x")));
        assert_eq!(optional_string(&object, "z"), Ok(None));
        assert!(
            optional_string(&object, "b")
                .unwrap_err()
                .contains("a number")
        );
        assert!(optional_string(&object, "c").unwrap_err().contains("null"));
        assert!(
            optional_string(&object, "d")
                .unwrap_err()
                .contains("an array")
        );
    }

    /// A body that declares its length and never sends any of it.
    struct DeclaredOnly(u64);

    impl HttpBody for DeclaredOnly {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
            std::task::Poll::Pending
        }

        fn size_hint(&self) -> hyper::body::SizeHint {
            hyper::body::SizeHint::with_exact(self.0)
        }
    }

    #[tokio::test]
    async fn oversized_bodies_are_refused_whether_declared_or_not() {
        let big = vec![b'x'; 100];
        // Declared past the drain limit: refused without waiting for a byte of it.
        let declared = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            read_limited(DeclaredOnly(DRAIN_LIMIT as u64 + 1), 10),
        );
        assert_eq!(
            declared.await.expect("refused at once"),
            Err(BodyError::TooLarge { limit: 10 })
        );
        assert_eq!(
            read_limited(Body::from(big), 10).await,
            Err(BodyError::TooLarge { limit: 10 })
        );
        assert_eq!(
            read_limited(Body::from("ok"), 10).await.unwrap(),
            Bytes::from("ok")
        );
    }

    #[tokio::test]
    async fn bodies_in_several_pieces_are_joined_in_order() {
        let pieces = futures_util::stream::iter(
            ["{\"a\"", ":", "1}"].map(|piece| Ok::<_, std::io::Error>(Bytes::from(piece))),
        );
        let body = Body::from_stream(pieces);
        assert_eq!(
            read_limited(body, 64).await.unwrap(),
            Bytes::from(r#"{"a":1}"#)
        );
        assert_eq!(read_limited(Body::empty(), 64).await.unwrap(), Bytes::new());
    }
}
