//! One lane of a target's client: a sender that keeps its own keep-alive connection to each base URL, for
//! steps and floods that keep many requests in flight. On plain `http://` bases a lane speaks HTTP/1.1 on
//! a connection of its own (`http1.rs`: no pool, no middleware, one request at a time), which is what lets
//! a load run drive a fast target as hard as wrk does; on `https://` it sends through the target's reqwest
//! client. Either way it joins paths, sends headers, times out and caps bodies exactly as
//! [`TargetClient::send`] does, and answers with the same [`Response`].

use std::time::Duration;

use reqwest::Url;
use reqwest::header::HeaderValue;

use super::client::{NoResponse, PreparedRequest, Response, TargetClient, Unanswered};
use super::http1::{Connection, ExchangeError, Outgoing};

/// A sender with its own connections; not shared between tasks (give each task its own lane).
#[derive(Debug)]
pub(crate) struct Lane {
    client: TargetClient,
    /// One connection per base URL, opened on first use and re-opened after the server closes it; `None`
    /// for every base when the target is reached over HTTPS (the reqwest client's pool serves it).
    connections: Option<Vec<Option<Connection>>>,
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
    /// The request target: the path and query.
    target: String,
    host: HeaderValue,
    authority: String,
}

impl Destination {
    fn new(base: usize, path: &str, url: Url) -> Result<Destination, Failure> {
        let authority = authority(&url);
        let target = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        let host = HeaderValue::try_from(authority.as_str())
            .map_err(|error| Failure::Request(error.to_string()))?;
        Ok(Destination {
            base,
            path: path.to_owned(),
            url,
            target,
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
        let exchange = exchange(
            &self.client,
            &mut connections[base],
            destination,
            request,
            self.client.max_body_bytes(),
        );
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
    Exchange(ExchangeError),
    Request(String),
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
            Failure::Exchange(error) => NoResponse {
                url,
                summary: "no response: connection reset".to_owned(),
                detail: error.to_string(),
                kind: Unanswered::Reset,
            },
            Failure::Request(detail) => NoResponse {
                url,
                summary: "no response: invalid request".to_owned(),
                detail,
                kind: Unanswered::Other,
            },
        }
    }
}

/// One request on `slot`'s connection (opened when there is none or the server has closed it), its body
/// read up to `cap`.
async fn exchange(
    client: &TargetClient,
    slot: &mut Option<Connection>,
    destination: &Destination,
    request: &PreparedRequest,
    cap: usize,
) -> Result<Response, Failure> {
    // The connection is taken out of its slot for the exchange and put back only when it can carry the
    // next request: an error, a timeout (this future dropped) or a cut body leave the slot empty.
    let mut connection = match slot.take() {
        Some(connection) if !connection.closed_by_server() => connection,
        _ => Connection::open(&destination.authority)
            .await
            .map_err(Failure::Connect)?,
    };
    let outgoing = Outgoing {
        method: &request.method,
        target: &destination.target,
        host: &destination.host,
        defaults: client.default_headers(),
        headers: &request.headers,
        body: request.body.as_deref().unwrap_or_default(),
    };
    let answer = connection
        .exchange(&outgoing, cap)
        .await
        .map_err(Failure::Exchange)?;
    if answer.reusable {
        *slot = Some(connection);
    }
    Ok(Response {
        url: destination.url.clone(),
        status: answer.status,
        headers: answer.headers,
        body: answer.body,
        truncated: answer.truncated,
    })
}

/// `host:port` of a plain-http URL, as the connection and the `Host` header use it.
fn authority(url: &Url) -> String {
    // An IPv6 host keeps its brackets (`[::1]`).
    let host = url.host_str().unwrap_or("localhost");
    format!("{host}:{}", url.port_or_known_default().unwrap_or(80))
}
