//! HTTP to the target: one client per target, requests as sent, responses with capped bodies, and the
//! record of both that reports show.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use serde_json::Value;

use super::results::{Exchange, RecordedRequest, RecordedResponse, body_excerpt};
use crate::config::TargetDescription;

/// Response bodies are read up to this many bytes; the rest is dropped.
pub(crate) const RESPONSE_BODY_LIMIT: usize = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("could not build the HTTP client")]
    Build(#[source] reqwest::Error),
    #[error("header `{0}` is not a valid header")]
    Header(String),
}

/// The client for one target.
#[derive(Debug, Clone)]
pub(crate) struct TargetClient {
    client: reqwest::Client,
    base: Arc<str>,
    headers: Arc<HeaderMap>,
    timeout_ms: u64,
}

/// A request, fully rendered, ready to send any number of times.
#[derive(Debug, Clone)]
pub(crate) struct PreparedRequest {
    pub(crate) method: Method,
    pub(crate) url: Url,
    /// In addition to the target's headers.
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) body: Option<Arc<[u8]>>,
}

/// A response with its body read (up to [`RESPONSE_BODY_LIMIT`]).
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Response {
    pub(crate) fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Why no response arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NoResponse {
    /// `no response: connection reset`, `no response: timed out after 10000 ms`, ...
    pub(crate) summary: String,
    pub(crate) detail: String,
    /// Nothing listens there (refused, DNS): the target is unreachable rather than misbehaving.
    pub(crate) unreachable: bool,
}

impl TargetClient {
    pub(crate) fn new(target: &TargetDescription) -> Result<TargetClient, ClientError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_millis(target.timeout_ms))
            .connect_timeout(Duration::from_millis(target.timeout_ms))
            .danger_accept_invalid_certs(target.insecure)
            .no_proxy()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(128)
            .build()
            .map_err(ClientError::Build)?;
        let mut headers = HeaderMap::new();
        for (name, value) in &target.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| ClientError::Header(name.clone()))?;
            let value =
                HeaderValue::from_str(value).map_err(|_| ClientError::Header(name.to_string()))?;
            headers.append(name, value);
        }
        Ok(TargetClient {
            client,
            base: target.base_url.as_str().trim_end_matches('/').into(),
            headers: Arc::new(headers),
            timeout_ms: target.timeout_ms,
        })
    }

    /// The URL of a path (which starts with `/`) on the target.
    pub(crate) fn url(&self, path: &str) -> Result<Url, String> {
        let joined = format!("{}{}", self.base, path);
        Url::parse(&joined).map_err(|err| format!("`{joined}` is not a valid URL: {err}"))
    }

    pub(crate) async fn send(&self, request: &PreparedRequest) -> Result<Response, NoResponse> {
        let mut builder = self
            .client
            .request(request.method.clone(), request.url.clone())
            .headers((*self.headers).clone());
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.to_vec());
        }
        let mut response = builder.send().await.map_err(|err| self.describe(&err))?;
        let status = response.status().as_u16();
        let headers = std::mem::take(response.headers_mut());
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = RESPONSE_BODY_LIMIT - body.len();
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    if chunk.len() >= room {
                        break;
                    }
                }
                Ok(None) => break,
                Err(err) => return Err(self.describe(&err)),
            }
        }
        Ok(Response {
            status,
            headers,
            body,
        })
    }

    fn describe(&self, err: &reqwest::Error) -> NoResponse {
        let detail = error_chain(err);
        let lower = detail.to_lowercase();
        let (summary, unreachable) = if err.is_timeout() {
            (
                format!("no response: timed out after {} ms", self.timeout_ms),
                false,
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
                unreachable,
            )
        } else {
            ("no response: connection reset".to_owned(), false)
        };
        NoResponse {
            summary,
            detail,
            unreachable,
        }
    }

    /// The target's own headers, for recording.
    pub(crate) fn default_headers(&self) -> &HeaderMap {
        &self.headers
    }
}

fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
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

/// Records a request as sent (target headers first), for reports.
pub(crate) fn record_request(client: &TargetClient, request: &PreparedRequest) -> RecordedRequest {
    let headers: Vec<(String, String)> = client
        .default_headers()
        .iter()
        .chain(request.headers.iter().map(|(n, v)| (n, v)))
        .map(|(name, value)| {
            (
                name.to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    RecordedRequest {
        method: request.method.to_string(),
        url: request.url.to_string(),
        headers,
        body: request.body.as_deref().map(body_excerpt),
        body_bytes: request.body.as_deref().map_or(0, <[u8]>::len),
    }
}

pub(crate) fn record_response(response: &Response) -> RecordedResponse {
    RecordedResponse {
        status: response.status,
        headers: response
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.to_string(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body_excerpt(&response.body),
        body_bytes: response.body.len(),
    }
}

pub(crate) fn record(
    client: &TargetClient,
    request: &PreparedRequest,
    outcome: Result<&Response, &NoResponse>,
) -> Exchange {
    Exchange {
        request: record_request(client, request),
        response: outcome.ok().map(record_response),
        error: outcome
            .err()
            .map(|no| format!("{}: {}", no.summary, no.detail)),
    }
}
