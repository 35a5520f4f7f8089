//! One lane of a target's client: a sender that keeps its own keep-alive connection to each base URL, for
//! steps and floods that keep many requests in flight. On plain `http://` bases a lane speaks HTTP/1.1 over
//! hyper's connection API (no pool, no middleware: one connection, one request at a time), which is what
//! lets a load run drive a fast target as hard as wrk does; on `https://` it sends through the target's
//! reqwest client. Either way it joins paths, sends headers, times out and caps bodies exactly as
//! [`TargetClient::send`] does, and answers with the same [`Response`].

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use reqwest::Url;
use tokio::net::TcpStream;

use super::client::{NoResponse, PreparedRequest, Response, TargetClient, Unanswered, error_chain};

/// A sender with its own connections; not shared between tasks (give each task its own lane).
#[derive(Debug)]
pub(crate) struct Lane {
    client: TargetClient,
    /// One connection per base URL, opened on first use and re-opened after the server closes it; `None`
    /// for every base when the target is reached over HTTPS (the reqwest client's pool serves it).
    connections: Option<Vec<Option<Box<Connection>>>>,
    /// Where the last request went: a flood sends one path over and over.
    last: Option<Destination>,
}

/// A path on one base URL, with everything its requests need ready: the URL for the answer, the request
/// target and `Host` for the request line, and the authority to connect to.
#[derive(Debug)]
struct Destination {
    base: usize,
    path: String,
    url: Url,
    uri: hyper::Uri,
    host: hyper::header::HeaderValue,
    authority: String,
}

impl Destination {
    fn new(base: usize, path: &str, url: Url) -> Result<Destination, Failure> {
        let authority = authority(&url);
        let target = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        let uri = hyper::Uri::try_from(target).map_err(|error| Failure::Request(error.into()))?;
        let host = hyper::header::HeaderValue::try_from(authority.as_str())
            .map_err(|error| Failure::Request(error.into()))?;
        Ok(Destination {
            base,
            path: path.to_owned(),
            url,
            uri,
            host,
            authority,
        })
    }
}

impl TargetClient {
    /// A sender with its own connections, for one of many tasks keeping requests in flight.
    pub(crate) fn lane(&self) -> Lane {
        Lane::new(self.clone())
    }
}

impl Lane {
    fn new(client: TargetClient) -> Lane {
        let plain = (0..client.base_count()).all(|base| {
            client
                .url_at(base, "/")
                .is_ok_and(|url| url.scheme() == "http")
        });
        let connections = plain.then(|| (0..client.base_count()).map(|_| None).collect());
        Lane {
            client,
            connections,
            last: None,
        }
    }

    /// Sends to the target's next base URL in turn (shared with the client and its other lanes).
    pub(crate) async fn send(&mut self, request: &PreparedRequest) -> Result<Response, NoResponse> {
        let base = self.client.next_base();
        let Some(connections) = self.connections.as_mut() else {
            return self.client.send_to(base, request).await;
        };
        let destination = match self.last.take() {
            Some(last) if last.base == base && last.path == request.path => last,
            _ => {
                let Ok(url) = self.client.url_at(base, &request.path) else {
                    return self.client.send_to(base, request).await;
                };
                match Destination::new(base, &request.path, url.clone()) {
                    Ok(destination) => destination,
                    Err(failure) => return Err(failure.into_no_response(url)),
                }
            }
        };
        let destination = &*self.last.insert(destination);
        let timeout_ms = self.client.timeout_ms();
        // Boxed: the exchange's state (hyper's request, the connection's driving, the answer read so far)
        // is several kilobytes, which every future around it would otherwise hold and move.
        let exchange = Box::pin(exchange(
            &self.client,
            &mut connections[base],
            destination,
            request,
            self.client.max_body_bytes(),
        ));
        let url = || destination.url.clone();
        match tokio::time::timeout(Duration::from_millis(timeout_ms), exchange).await {
            Ok(outcome) => outcome.map_err(|failure| failure.into_no_response(url())),
            // The connection that timed out mid-exchange went with the exchange.
            Err(_) => Err(NoResponse {
                url: url(),
                summary: format!("no response: timed out after {timeout_ms} ms"),
                detail: format!("no answer within {timeout_ms} ms"),
                kind: Unanswered::TimedOut,
            }),
        }
    }
}

/// Why an exchange on a lane's connection got no answer.
enum Failure {
    Connect(std::io::Error),
    Http(hyper::Error),
    Request(hyper::http::Error),
}

impl Failure {
    fn into_no_response(self, url: Url) -> NoResponse {
        match self {
            Failure::Connect(error) => {
                let refused = error.kind() == std::io::ErrorKind::ConnectionRefused;
                NoResponse {
                    url,
                    summary: if refused {
                        "no response: connection refused".to_owned()
                    } else {
                        "no response: could not connect".to_owned()
                    },
                    detail: error.to_string(),
                    kind: if refused {
                        Unanswered::Unreachable
                    } else {
                        Unanswered::Other
                    },
                }
            }
            Failure::Http(error) => NoResponse {
                url,
                summary: "no response: connection reset".to_owned(),
                detail: error_chain(&error),
                kind: Unanswered::Reset,
            },
            Failure::Request(error) => NoResponse {
                url,
                summary: "no response: invalid request".to_owned(),
                detail: error.to_string(),
                kind: Unanswered::Other,
            },
        }
    }
}

/// One keep-alive HTTP/1.1 connection: the sending half, and the connection itself, which the lane's own
/// task drives while it sends and reads (no task of its own, so an answer wakes no other thread). Kept
/// boxed: hyper's connection state is kilobytes, and each exchange takes it out of its slot and puts it
/// back.
#[derive(Debug)]
struct Connection {
    sender: SendRequest<Full<Bytes>>,
    /// `None` once the connection has ended (the server closed it, or it failed).
    io: Option<http1::Connection<TokioIo<TcpStream>, Full<Bytes>>>,
}

impl Connection {
    /// Runs `work` (which uses the sending half) while driving the connection in the same task.
    async fn driving<T>(
        io: &mut Option<http1::Connection<TokioIo<TcpStream>, Full<Bytes>>>,
        work: impl Future<Output = T>,
    ) -> T {
        let mut work = std::pin::pin!(work);
        std::future::poll_fn(|cx| {
            if let Some(connection) = io.as_mut()
                && Pin::new(connection).poll(cx).is_ready()
            {
                // Ended: dropping it fails whatever still waits on it, and the sender reports closed.
                *io = None;
            }
            work.as_mut().poll(cx)
        })
        .await
    }

    /// Waits until the connection can carry a request; `false` when it has ended.
    async fn ready(&mut self) -> bool {
        let Connection { sender, io } = self;
        Connection::driving(io, sender.ready()).await.is_ok()
    }
}

/// One request on `slot`'s connection (opened when there is none or the server closed it), its body read
/// up to `cap`.
async fn exchange(
    client: &TargetClient,
    slot: &mut Option<Box<Connection>>,
    destination: &Destination,
    request: &PreparedRequest,
    cap: usize,
) -> Result<Response, Failure> {
    let authority = &destination.authority;
    // The connection is taken out of its slot for the exchange and put back only when it can carry the
    // next request: an error, a timeout (this future dropped) or a cut body leave the slot empty.
    let mut connection = match slot.take() {
        Some(mut connection) => {
            if connection.ready().await {
                connection
            } else {
                connect(authority).await?
            }
        }
        None => connect(authority).await?,
    };
    let body = request.body.clone().unwrap_or_default();
    let mut built = hyper::Request::new(Full::new(body));
    *built.method_mut() = request.method.clone();
    *built.uri_mut() = destination.uri.clone();
    let headers = built.headers_mut();
    headers.insert(hyper::header::HOST, destination.host.clone());
    for (name, value) in client.default_headers() {
        headers.append(name.clone(), value.clone());
    }
    for (name, value) in &request.headers {
        headers.append(name.clone(), value.clone());
    }
    let Connection { sender, io } = &mut *connection;
    let (parts, body, truncated) = Connection::driving(io, async {
        let answer = sender.send_request(built).await.map_err(Failure::Http)?;
        let (parts, mut incoming) = answer.into_parts();
        let mut body = Vec::new();
        let mut truncated = false;
        while let Some(frame) = incoming.frame().await {
            if let Ok(data) = frame.map_err(Failure::Http)?.into_data() {
                let room = cap - body.len();
                body.extend_from_slice(&data[..data.len().min(room)]);
                if data.len() > room {
                    truncated = true;
                    break;
                }
            }
        }
        Ok::<_, Failure>((parts, body, truncated))
    })
    .await?;
    let keep_alive = !parts
        .headers
        .get(hyper::header::CONNECTION)
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"close"));
    if keep_alive && !truncated && connection.io.is_some() {
        // A body left unread cannot share its connection with the next request.
        *slot = Some(connection);
    }
    Ok(Response {
        url: destination.url.clone(),
        status: parts.status.as_u16(),
        headers: parts.headers,
        body,
        truncated,
    })
}

/// `host:port` of a plain-http URL, as the connection and the `Host` header use it.
fn authority(url: &Url) -> String {
    // An IPv6 host keeps its brackets (`[::1]`).
    let host = url.host_str().unwrap_or("localhost");
    format!("{host}:{}", url.port_or_known_default().unwrap_or(80))
}

async fn connect(authority: &str) -> Result<Box<Connection>, Failure> {
    let stream = TcpStream::connect(authority)
        .await
        .map_err(Failure::Connect)?;
    let _ = stream.set_nodelay(true);
    let (sender, io) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(Failure::Http)?;
    Ok(Box::new(Connection {
        sender,
        io: Some(io),
    }))
}
