//! How a flood's requests travel: one lean HTTP/1.1 keep-alive connection per goose user for plain-http
//! targets (hyper's connection API: no pool, no per-request URL re-parsing, no middleware layers), and
//! reqwest for HTTPS targets.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Why one request got no answer. A leaf: each message says its cause (goose records it as one line).
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("cannot connect to {0}: {1}")]
    Connect(String, std::io::Error),
    #[error("HTTP: {0}")]
    Http(hyper::Error),
    #[error("cannot build the request: {0}")]
    Request(hyper::http::Error),
    #[error("no answer within {0} ms")]
    Timeout(u64),
}

impl From<hyper::Error> for TransportError {
    fn from(error: hyper::Error) -> TransportError {
        TransportError::Http(error)
    }
}

impl From<hyper::http::Error> for TransportError {
    fn from(error: hyper::http::Error) -> TransportError {
        TransportError::Request(error)
    }
}

/// One request, ready to send on any connection to the target.
#[derive(Debug, Clone)]
pub struct WireRequest {
    /// `host:port`, as the `Host` header and the connection use it.
    pub authority: String,
    /// The path and query sent on the request line.
    pub path_and_query: String,
    /// Header names (lower case) and values sent with every request.
    pub headers: Vec<(hyper::header::HeaderName, hyper::header::HeaderValue)>,
    pub timeout: Duration,
    /// Bodies are read up to this many bytes (the target's `--max-body`); a longer one closes the connection.
    pub max_body_bytes: usize,
}

/// What came back: the status, and whether the body went on past the cap (and was left unread).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub cut: bool,
}

/// One goose user's keep-alive connection; re-opened when the server closes it.
#[derive(Debug, Default)]
pub struct UserConnection {
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl UserConnection {
    /// Sends `body` as a `POST` and reads the answer: its status, and its body up to the cap.
    pub async fn post(
        &mut self,
        request: &WireRequest,
        body: Bytes,
    ) -> Result<Answer, TransportError> {
        let timeout_ms = u64::try_from(request.timeout.as_millis()).unwrap_or(u64::MAX);
        tokio::time::timeout(request.timeout, self.exchange(request, body))
            .await
            .map_err(|_| {
                // A connection that timed out mid-exchange cannot be reused.
                self.sender = None;
                TransportError::Timeout(timeout_ms)
            })?
    }

    async fn exchange(
        &mut self,
        request: &WireRequest,
        body: Bytes,
    ) -> Result<Answer, TransportError> {
        if let Some(sender) = self.sender.as_mut()
            && sender.ready().await.is_err()
        {
            self.sender = None;
        }
        let sender = match &mut self.sender {
            Some(sender) => sender,
            empty @ None => empty.insert(connect(&request.authority).await?),
        };
        let mut builder = hyper::Request::post(request.path_and_query.as_str())
            .header(hyper::header::HOST, request.authority.as_str());
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let answer = match sender.send_request(builder.body(Full::new(body))?).await {
            Ok(answer) => answer,
            Err(error) => {
                self.sender = None;
                return Err(error.into());
            }
        };
        let status = answer.status().as_u16();
        let keep_alive = !answer
            .headers()
            .get(hyper::header::CONNECTION)
            .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"close"));
        let mut body = answer.into_body();
        let mut read = 0;
        let mut cut = false;
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame?.into_data() {
                read += data.len();
                if read > request.max_body_bytes {
                    cut = true;
                    break;
                }
            }
        }
        if !keep_alive || cut {
            // A body left unread cannot share its connection with the next request.
            self.sender = None;
        }
        Ok(Answer { status, cut })
    }
}

async fn connect(authority: &str) -> Result<SendRequest<Full<Bytes>>, TransportError> {
    let stream = TcpStream::connect(authority)
        .await
        .map_err(|error| TransportError::Connect(authority.to_owned(), error))?;
    let _ = stream.set_nodelay(true);
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        // The connection ends when the server closes it or the sender is dropped; either is normal.
        let _ = connection.await;
    });
    Ok(sender)
}
