//! HTTP to the target: one way to build a client (redirects never followed, the description's timeouts and
//! TLS), one way to join a path to a base URL (its prefix kept, with or without a trailing `/`), and one
//! client per target: requests spread round-robin over the target's base URLs (several instances of one
//! logical target), responses with bodies read up to the description's cap and the URL that answered. The
//! engine, detection, `init` and the load flood's transports all build on it.

use bytes::Bytes;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use serde_json::Value;

use super::description::TargetDescription;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("could not build the HTTP client")]
    Build(#[source] reqwest::Error),
    #[error("header `{0}` is not a valid header")]
    Header(String),
}

/// The one HTTP client builder for a target: redirects are answers to judge, never followed; the
/// description's timeout bounds connecting and each exchange; invalid certificates only when it says
/// `insecure`; no proxy from the environment. `idle_per_host` sizes the keep-alive pool.
pub(crate) fn http_client(
    target: &TargetDescription,
    idle_per_host: usize,
) -> Result<reqwest::Client, ClientError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_millis(target.timeout_ms))
        .connect_timeout(Duration::from_millis(target.timeout_ms))
        .danger_accept_invalid_certs(target.insecure)
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(idle_per_host)
        .build()
        .map_err(ClientError::Build)
}

/// The URL of `path` (starting with `/`) on `base`: the base's own path is a prefix, kept whether or not it
/// ends with `/` (`http://host/v1` and `http://host/v1/` both give `http://host/v1/authenticate`).
pub(crate) fn endpoint_url(base: &str, path: &str) -> Result<Url, String> {
    let joined = format!("{}{}", base.trim_end_matches('/'), path);
    Url::parse(&joined).map_err(|err| format!("`{joined}` is not a valid URL: {err}"))
}

/// A body kept up to a cap: what fits, and whether more came. Every body read from a target is kept in one.
pub(super) struct CappedBody {
    pub(super) bytes: Vec<u8>,
    cap: usize,
    /// The body went on past the cap.
    pub(super) truncated: bool,
}

impl CappedBody {
    pub(super) fn new(cap: usize) -> CappedBody {
        CappedBody {
            bytes: Vec::new(),
            cap,
            truncated: false,
        }
    }

    /// Keeps what fits under the cap; `true` once the body has gone past it (nothing more is kept).
    pub(super) fn take(&mut self, data: &[u8]) -> bool {
        let room = self.cap - self.bytes.len();
        self.bytes.extend_from_slice(&data[..data.len().min(room)]);
        self.truncated |= data.len() > room;
        self.truncated
    }
}

/// Reads a response's body up to `cap` bytes. The rest is never read: the connection is dropped with the
/// response.
async fn read_capped(
    response: &mut reqwest::Response,
    cap: usize,
) -> Result<CappedBody, reqwest::Error> {
    let mut body = CappedBody::new(cap);
    while let Some(chunk) = response.chunk().await? {
        if body.take(&chunk) {
            break;
        }
    }
    Ok(body)
}

/// The headers the target description says to send with every request.
pub(crate) fn target_headers(target: &TargetDescription) -> Result<HeaderMap, ClientError> {
    let mut headers = HeaderMap::new();
    for (name, value) in &target.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| ClientError::Header(name.clone()))?;
        let value =
            HeaderValue::from_str(value).map_err(|_| ClientError::Header(name.to_string()))?;
        headers.append(name, value);
    }
    Ok(headers)
}

/// The client for one target.
#[derive(Debug, Clone)]
pub(crate) struct TargetClient {
    client: reqwest::Client,
    /// Every base URL of the target without its trailing `/`; the first is where the test clock is moved.
    bases: Arc<[Box<str>]>,
    /// Which base the next request goes to (shared by clones, so concurrent requests spread too).
    next_base: Arc<AtomicUsize>,
    headers: Arc<HeaderMap>,
    timeout_ms: u64,
    max_body_bytes: usize,
    /// The last path found to make a valid URL: a flood renders one path over and over, and parsing its
    /// URL again for every request would cost more than the rest of the rendering.
    last_valid_path: Arc<std::sync::Mutex<Option<Box<str>>>>,
}

/// A request, fully rendered, ready to send any number of times (to any of the target's base URLs).
#[derive(Debug, Clone)]
pub(crate) struct PreparedRequest {
    pub(crate) method: Method,
    /// The path and query, starting with `/`.
    pub(crate) path: String,
    /// In addition to the target's headers.
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    /// Shared, not copied, by every send (a `Bytes` clone is a reference count).
    pub(crate) body: Option<Bytes>,
}

impl PreparedRequest {
    /// A request with a JSON body (and its `Content-Type`), or with none.
    pub(crate) fn json(method: Method, path: &str, body: Option<&Value>) -> PreparedRequest {
        PreparedRequest {
            method,
            path: path.to_owned(),
            headers: body
                .map(|_| {
                    (
                        reqwest::header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    )
                })
                .into_iter()
                .collect(),
            body: body.map(|body| Bytes::from(serde_json::to_vec(body).unwrap_or_default())),
        }
    }
}

/// A response with its body read (up to the target description's `max_body_bytes`).
#[derive(Debug, Clone)]
pub(crate) struct Response {
    /// The URL the request was sent to (which of the target's base URLs answered).
    pub(crate) url: Url,
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
    /// The body went on past the cap: `body` holds its first `max_body_bytes`, the rest was not read.
    pub(crate) truncated: bool,
}

impl Response {
    pub(crate) fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The first field line of a header (most fields have one).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every field line of a header, in the order sent (list fields may come in several).
    pub(crate) fn header_lines(&self, name: &str) -> Vec<&str> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }

    /// The names of the headers sent, lower case, each once.
    pub(crate) fn header_names(&self) -> impl Iterator<Item = &str> {
        self.headers.keys().map(reqwest::header::HeaderName::as_str)
    }
}

/// Why no response arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NoResponse {
    /// The URL the request was sent to.
    pub(crate) url: Url,
    /// `no response: connection reset`, `no response: timed out after 10000 ms`, ...
    pub(crate) summary: String,
    pub(crate) detail: String,
    pub(crate) kind: Unanswered,
}

/// What kind of failure left a request without an answer (a load run counts them by kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unanswered {
    /// Nothing answered within the target's timeout.
    TimedOut,
    /// Nothing listens there (refused, DNS, no valid URL): the target is unreachable rather than
    /// misbehaving.
    Unreachable,
    /// The connection was closed or reset before an answer.
    Reset,
    /// Anything else: a connection that could not be made, a request that could not be written.
    Other,
}

impl TargetClient {
    pub(crate) fn new(target: &TargetDescription) -> Result<TargetClient, ClientError> {
        let client = http_client(target, 128)?;
        let headers = target_headers(target)?;
        Ok(TargetClient {
            client,
            bases: target
                .all_base_urls()
                .map(|url| url.as_str().trim_end_matches('/').into())
                .collect(),
            next_base: Arc::new(AtomicUsize::new(0)),
            headers: Arc::new(headers),
            timeout_ms: target.timeout_ms,
            max_body_bytes: target.max_body_bytes.max(1),
            last_valid_path: Arc::default(),
        })
    }

    /// How many base URLs the target has.
    pub(crate) fn base_count(&self) -> usize {
        self.bases.len()
    }

    /// The URL of a path (which starts with `/`) on the target's base URL number `base`.
    pub(crate) fn url_at(&self, base: usize, path: &str) -> Result<Url, String> {
        endpoint_url(&self.bases[base % self.bases.len()], path)
    }

    /// Checks that a path (which starts with `/`) makes a valid URL on the target; `Ok` gives it back.
    pub(crate) fn path(&self, path: &str) -> Result<String, String> {
        let seen = self
            .last_valid_path
            .lock()
            .is_ok_and(|last| last.as_deref() == Some(path));
        if !seen {
            self.url_at(0, path)?;
            if let Ok(mut last) = self.last_valid_path.lock() {
                *last = Some(path.into());
            }
        }
        Ok(path.to_owned())
    }

    /// Sends to the next base URL in turn.
    pub(crate) async fn send(&self, request: &PreparedRequest) -> Result<Response, NoResponse> {
        self.send_to(self.next_base(), request).await
    }

    /// Which base URL the next request goes to (turns are shared by every clone and lane of this client).
    pub(super) fn next_base(&self) -> usize {
        if self.bases.len() == 1 {
            0
        } else {
            self.next_base.fetch_add(1, Ordering::Relaxed) % self.bases.len()
        }
    }

    pub(super) fn timeout_ms(&self) -> u64 {
        self.timeout_ms
    }

    pub(super) fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// Sends to base URL number `base` (the first, for the test clock).
    pub(crate) async fn send_to(
        &self,
        base: usize,
        request: &PreparedRequest,
    ) -> Result<Response, NoResponse> {
        let url = match self.url_at(base, &request.path) {
            Ok(url) => url,
            Err(detail) => {
                return Err(NoResponse {
                    url: self.url_at(0, "/").unwrap_or_else(|_| {
                        Url::parse("http://invalid.invalid/").expect("a literal URL")
                    }),
                    summary: "no response: invalid URL".to_owned(),
                    detail,
                    kind: Unanswered::Unreachable,
                });
            }
        };
        let mut builder = self
            .client
            .request(request.method.clone(), url.clone())
            .headers((*self.headers).clone());
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let mut response = builder
            .send()
            .await
            .map_err(|err| self.describe(&url, &err))?;
        let status = response.status().as_u16();
        let headers = std::mem::take(response.headers_mut());
        let body = read_capped(&mut response, self.max_body_bytes)
            .await
            .map_err(|err| self.describe(&url, &err))?;
        Ok(Response {
            url,
            status,
            headers,
            body: body.bytes,
            truncated: body.truncated,
        })
    }

    fn describe(&self, url: &Url, err: &reqwest::Error) -> NoResponse {
        let detail = error_chain(err);
        let lower = detail.to_lowercase();
        let (summary, kind) = if err.is_timeout() {
            (
                format!("no response: timed out after {} ms", self.timeout_ms),
                Unanswered::TimedOut,
            )
        } else if err.is_connect() {
            let unreachable =
                lower.contains("refused") || lower.contains("dns") || lower.contains("resolve");
            (
                if lower.contains("refused") {
                    "no response: connection refused".to_owned()
                } else {
                    "no response: could not connect".to_owned()
                },
                if unreachable {
                    Unanswered::Unreachable
                } else {
                    Unanswered::Other
                },
            )
        } else {
            (
                "no response: connection reset".to_owned(),
                Unanswered::Reset,
            )
        };
        NoResponse {
            url: url.clone(),
            summary,
            detail,
            kind,
        }
    }

    /// The target's own headers, for recording.
    pub(crate) fn default_headers(&self) -> &HeaderMap {
        &self.headers
    }
}

/// A body for a message, shortened.
pub(crate) fn excerpt(body: &[u8]) -> String {
    if body.is_empty() {
        return "(empty body)".into();
    }
    truncate(&String::from_utf8_lossy(body), 160)
}

/// The text trimmed, cut after `max_chars` characters with `…`.
pub(crate) fn truncate(text: &str, max_chars: usize) -> String {
    let text = text.trim();
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// An error and each of its causes, joined with `: `, a cause left out when its text is already there.
pub(super) fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
