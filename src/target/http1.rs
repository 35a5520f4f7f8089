//! One keep-alive HTTP/1.1 connection to a plain `http://` target, as a lane sends on it: each request written
//! in one piece, its answer's head parsed by `httparse` and its body framed as RFC 9112 §6 says (a length,
//! chunks, or the end of the connection), read up to a cap. No pool, no second task and no channel between
//! a sender and its connection: on a flood's hot path those cost more CPU than everything else the
//! generator does for a request (`scripts/bench-load.sh` prints it).

use std::io;
use std::mem::MaybeUninit;

use bytes::{Buf, BytesMut};
use futures_util::FutureExt;
use reqwest::Method;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
use tokio::net::TcpStream;

use super::client::CappedBody;

/// Header lines an answer may have (hyper's bound too).
const MAX_HEADERS: usize = 100;
/// Bytes an answer's head (or a chunked body's trailer) may take.
const MAX_HEAD_BYTES: usize = 256 * 1024;
/// Room kept free in the read buffer before each read.
const READ_ROOM: usize = 4 * 1024;

/// Why an exchange got no (complete) answer.
#[derive(Debug, thiserror::Error)]
pub(super) enum ExchangeError {
    #[error(transparent)]
    Io(#[from] io::Error),
    #[error("the connection closed before the answer was complete")]
    Closed,
    #[error("the answer is not valid HTTP/1.1: {0}")]
    Malformed(String),
}

/// A request as it goes on the wire.
pub(super) struct Outgoing<'a> {
    pub method: &'a Method,
    /// The request target: the path and query.
    pub target: &'a str,
    pub host: &'a HeaderValue,
    /// The target's own headers, then the request's.
    pub defaults: &'a HeaderMap,
    pub headers: &'a [(HeaderName, HeaderValue)],
    pub body: &'a [u8],
}

/// An answer, its body read up to the cap.
#[derive(Debug)]
pub(super) struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The body went on past the cap (the rest was never read).
    pub truncated: bool,
    /// The connection can carry the next request.
    pub reusable: bool,
}

/// How an answer's body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Length(u64),
    Chunked,
    /// At the end of the connection.
    Close,
}

/// An answer's head: its status, its headers, and what they say about the body and the connection.
struct Head {
    status: u16,
    headers: HeaderMap,
    /// HTTP/1.1 keeps the connection unless told `close`; HTTP/1.0 only when told `keep-alive`.
    keep_alive: bool,
}

/// One connection: the stream, the bytes read from it and not yet used, and the buffer requests are written
/// from (kept, so a flood allocates neither).
#[derive(Debug)]
pub(super) struct Connection {
    stream: TcpStream,
    read: BytesMut,
    write: Vec<u8>,
}

impl Connection {
    pub(super) async fn open(authority: &str) -> io::Result<Connection> {
        let stream = TcpStream::connect(authority).await?;
        let _ = stream.set_nodelay(true);
        Ok(Connection {
            stream,
            read: BytesMut::with_capacity(8 * 1024),
            write: Vec::with_capacity(1024),
        })
    }

    /// Whether the server has closed the connection since its last answer, as far as the runtime has heard
    /// (no system call): such a connection is not sent on again.
    pub(super) fn closed_by_server(&self) -> bool {
        match self.stream.ready(Interest::READABLE).now_or_never() {
            Some(Ok(ready)) => ready.is_read_closed(),
            Some(Err(_)) => true,
            None => false,
        }
    }

    /// Sends `request` and reads its answer, the body up to `cap` bytes.
    pub(super) async fn exchange(
        &mut self,
        request: &Outgoing<'_>,
        cap: usize,
    ) -> Result<Answer, ExchangeError> {
        write_request(&mut self.write, request);
        self.stream.write_all(&self.write).await?;
        let head = loop {
            let head = self.read_head().await?;
            // Interim answers (100 Continue, 103 Early Hints) come before the answer; 101 ends HTTP/1.1.
            if !(100..200).contains(&head.status) || head.status == 101 {
                break head;
            }
        };
        let framing = framing(request.method, &head)?;
        let mut body = CappedBody::new(cap);
        match framing {
            Framing::Length(length) => self.read_length(length, &mut body).await?,
            Framing::Chunked => self.read_chunks(&mut body).await?,
            Framing::Close => self.read_to_end(&mut body).await?,
        }
        let reusable = head.keep_alive
            && head.status != 101
            && framing != Framing::Close
            && !body.truncated
            && self.read.is_empty();
        Ok(Answer {
            status: head.status,
            headers: head.headers,
            body: body.bytes,
            truncated: body.truncated,
            reusable,
        })
    }

    /// Reads more of the stream into the buffer; `Ok(0)` at its end.
    async fn fill(&mut self) -> io::Result<usize> {
        if self.read.capacity() - self.read.len() < READ_ROOM {
            self.read.reserve(READ_ROOM * 2);
        }
        self.stream.read_buf(&mut self.read).await
    }

    /// Reads more, or fails when the stream has ended.
    async fn fill_or_closed(&mut self) -> Result<(), ExchangeError> {
        match self.fill().await? {
            0 => Err(ExchangeError::Closed),
            _ => Ok(()),
        }
    }

    async fn read_head(&mut self) -> Result<Head, ExchangeError> {
        loop {
            if !self.read.is_empty() {
                if let Some((head, length)) = parse_head(&self.read)? {
                    self.read.advance(length);
                    return Ok(head);
                }
                if self.read.len() > MAX_HEAD_BYTES {
                    return Err(ExchangeError::Malformed(format!(
                        "its head goes on past {MAX_HEAD_BYTES} bytes"
                    )));
                }
            }
            self.fill_or_closed().await?;
        }
    }

    async fn read_length(
        &mut self,
        length: u64,
        body: &mut CappedBody,
    ) -> Result<(), ExchangeError> {
        let mut left = length;
        loop {
            let here = usize::try_from(left)
                .unwrap_or(usize::MAX)
                .min(self.read.len());
            let over = body.take(&self.read[..here]);
            self.read.advance(here);
            left -= here as u64;
            if over || left == 0 {
                return Ok(());
            }
            self.fill_or_closed().await?;
        }
    }

    async fn read_chunks(&mut self, body: &mut CappedBody) -> Result<(), ExchangeError> {
        loop {
            let size = loop {
                match httparse::parse_chunk_size(&self.read) {
                    Ok(httparse::Status::Complete((used, size))) => {
                        self.read.advance(used);
                        break size;
                    }
                    Ok(httparse::Status::Partial) if self.read.len() <= MAX_HEAD_BYTES => {
                        self.fill_or_closed().await?;
                    }
                    _ => return Err(ExchangeError::Malformed("a chunk's size".to_owned())),
                }
            };
            if size == 0 {
                return self.skip_trailer().await;
            }
            self.read_length(size, body).await?;
            if body.truncated {
                return Ok(());
            }
            while self.read.len() < 2 {
                self.fill_or_closed().await?;
            }
            if &self.read[..2] != b"\r\n" {
                return Err(ExchangeError::Malformed(
                    "a chunk does not end with CRLF".to_owned(),
                ));
            }
            self.read.advance(2);
        }
    }

    /// Skips a chunked body's trailer fields, up to the empty line that ends it.
    async fn skip_trailer(&mut self) -> Result<(), ExchangeError> {
        loop {
            match self.read.windows(2).position(|pair| pair == b"\r\n") {
                Some(0) => {
                    self.read.advance(2);
                    return Ok(());
                }
                Some(end) => self.read.advance(end + 2),
                None if self.read.len() > MAX_HEAD_BYTES => {
                    return Err(ExchangeError::Malformed(format!(
                        "its trailer goes on past {MAX_HEAD_BYTES} bytes"
                    )));
                }
                None => self.fill_or_closed().await?,
            }
        }
    }

    async fn read_to_end(&mut self, body: &mut CappedBody) -> Result<(), ExchangeError> {
        loop {
            let over = body.take(&self.read);
            self.read.clear();
            if over || self.fill().await? == 0 {
                return Ok(());
            }
        }
    }
}

/// The request line, the headers and the body, as one piece. A body is framed by `Content-Length` unless
/// the request's own headers frame it (`Content-Length`, or `Transfer-Encoding`, which sends it as one
/// chunk); an empty body gets no framing header, as hyper sends none.
fn write_request(out: &mut Vec<u8>, request: &Outgoing<'_>) {
    out.clear();
    out.extend_from_slice(request.method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(request.target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nhost: ");
    out.extend_from_slice(request.host.as_bytes());
    out.extend_from_slice(b"\r\n");
    let mut length_given = false;
    let mut chunked = false;
    let own = request.headers.iter().map(|(name, value)| (name, value));
    for (name, value) in request.defaults.iter().chain(own) {
        length_given |= name == header::CONTENT_LENGTH;
        chunked |= name == header::TRANSFER_ENCODING;
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    let body = request.body;
    if chunked {
        out.extend_from_slice(b"\r\n");
        if !body.is_empty() {
            out.extend_from_slice(format!("{:x}\r\n", body.len()).as_bytes());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
        return;
    }
    if !body.is_empty() && !length_given {
        out.extend_from_slice(b"content-length: ");
        out.extend_from_slice(body.len().to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}

/// The head at the start of `buffer` and its length, or `None` when it has not all come yet.
fn parse_head(buffer: &[u8]) -> Result<Option<(Head, usize)>, ExchangeError> {
    let mut slots = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut []);
    let length = match httparse::ParserConfig::default().parse_response_with_uninit_headers(
        &mut response,
        buffer,
        &mut slots,
    ) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(error) => return Err(ExchangeError::Malformed(error.to_string())),
    };
    let status = response.code.unwrap_or_default();
    let mut headers = HeaderMap::with_capacity(response.headers.len());
    let mut close = false;
    let mut keep_alive = false;
    for field in response.headers.iter() {
        let name = HeaderName::from_bytes(field.name.as_bytes())
            .map_err(|_| ExchangeError::Malformed(format!("header name `{}`", field.name)))?;
        let value = HeaderValue::from_bytes(field.value).map_err(|_| {
            ExchangeError::Malformed(format!("the value of header `{}`", field.name))
        })?;
        if name == header::CONNECTION {
            close |= has_token(&value, "close");
            keep_alive |= has_token(&value, "keep-alive");
        }
        headers.append(name, value);
    }
    let keep_alive = match response.version {
        Some(1) => !close,
        _ => keep_alive && !close,
    };
    Ok(Some((
        Head {
            status,
            headers,
            keep_alive,
        },
        length,
    )))
}

/// How the body of the answer to a `method` request ends (RFC 9112 §6.3).
fn framing(method: &Method, head: &Head) -> Result<Framing, ExchangeError> {
    if method == Method::HEAD || matches!(head.status, 100..=199 | 204 | 304) {
        return Ok(Framing::Length(0));
    }
    let mut codings = head
        .headers
        .get_all(header::TRANSFER_ENCODING)
        .iter()
        .peekable();
    if codings.peek().is_some() {
        // Chunked only when it is the last coding; otherwise the body runs to the connection's end.
        let last = codings.last().and_then(|value| {
            value
                .to_str()
                .ok()
                .and_then(|text| text.rsplit(',').next())
                .map(|coding| coding.trim().eq_ignore_ascii_case("chunked"))
        });
        return Ok(if last == Some(true) {
            Framing::Chunked
        } else {
            Framing::Close
        });
    }
    let mut length: Option<u64> = None;
    for value in head.headers.get_all(header::CONTENT_LENGTH) {
        let text = value.to_str().unwrap_or_default();
        for part in text.split(',').map(str::trim) {
            // Digits only: `u64`'s parser would also take a leading `+`.
            let parsed = part
                .bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| part.parse::<u64>().ok())
                .flatten();
            match (parsed, length) {
                (Some(this), None) => length = Some(this),
                (Some(this), Some(before)) if this == before => {}
                _ => {
                    return Err(ExchangeError::Malformed(format!("Content-Length `{text}`")));
                }
            }
        }
    }
    Ok(length.map_or(Framing::Close, Framing::Length))
}

/// Whether a comma-separated header value lists `token` (case aside).
fn has_token(value: &HeaderValue, token: &str) -> bool {
    value.to_str().is_ok_and(|text| {
        text.split(',')
            .any(|part| part.trim().eq_ignore_ascii_case(token))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;
    use tokio::net::TcpListener;

    /// A server on 127.0.0.1 that answers each request on its first connection with the next of `answers`,
    /// as raw bytes, and hands back every request it read (head and body as they came).
    async fn scripted(
        answers: Vec<&'static [u8]>,
    ) -> (String, tokio::task::JoinHandle<Vec<Vec<u8>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let authority = listener.local_addr().unwrap().to_string();
        let serving = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut requests = Vec::new();
            for answer in answers {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                // A request ends with its head's empty line, then its content-length's bytes.
                loop {
                    let read = stream.read(&mut buffer).await.unwrap();
                    request.extend_from_slice(&buffer[..read]);
                    if read == 0 || complete_request(&request) {
                        break;
                    }
                }
                requests.push(request);
                stream.write_all(answer).await.unwrap();
            }
            requests
        });
        (authority, serving)
    }

    fn complete_request(bytes: &[u8]) -> bool {
        let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
            return false;
        };
        let head = String::from_utf8_lossy(&bytes[..end]).to_lowercase();
        let length = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length: "))
            .map_or(0, |value| value.trim().parse::<usize>().unwrap());
        bytes.len() >= end + 4 + length
    }

    fn outgoing<'a>(
        method: &'a Method,
        host: &'a HeaderValue,
        defaults: &'a HeaderMap,
        headers: &'a [(HeaderName, HeaderValue)],
        body: &'a [u8],
    ) -> Outgoing<'a> {
        Outgoing {
            method,
            target: "/authenticate?x=1",
            host,
            defaults,
            headers,
            body,
        }
    }

    async fn exchange_with(
        answers: Vec<&'static [u8]>,
        method: Method,
        body: &[u8],
        cap: usize,
    ) -> (Vec<Result<Answer, ExchangeError>>, Vec<Vec<u8>>) {
        let count = answers.len();
        let (authority, serving) = scripted(answers).await;
        let mut connection = Connection::open(&authority).await.unwrap();
        let host = HeaderValue::from_str(&authority).unwrap();
        let mut defaults = HeaderMap::new();
        defaults.insert("x-run", HeaderValue::from_static("7"));
        let headers = [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )];
        let mut answers = Vec::new();
        for _ in 0..count {
            let request = outgoing(&method, &host, &defaults, &headers, body);
            let answer = connection.exchange(&request, cap).await;
            let reusable = answer.as_ref().is_ok_and(|answer| answer.reusable);
            answers.push(answer);
            if !reusable {
                break;
            }
        }
        drop(connection);
        (answers, serving.await.unwrap())
    }

    #[tokio::test]
    async fn a_request_goes_in_one_piece_with_its_length_and_headers() {
        let (answers, requests) = exchange_with(
            vec![b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"],
            Method::POST,
            b"{\"a\":1}",
            1024,
        )
        .await;
        let text = String::from_utf8(requests[0].clone()).unwrap();
        assert!(
            text.starts_with("POST /authenticate?x=1 HTTP/1.1\r\nhost: 127.0.0.1:"),
            "{text}"
        );
        assert!(text.contains("\r\nx-run: 7\r\ncontent-type: application/json\r\ncontent-length: 7\r\n\r\n{\"a\":1}"), "{text}");
        let answer = answers[0].as_ref().unwrap();
        assert_eq!(
            (answer.status, answer.body.as_slice()),
            (200, b"ok".as_slice())
        );
        assert!(answer.reusable && !answer.truncated);
    }

    #[tokio::test]
    async fn an_empty_body_gets_no_length_and_the_connection_carries_the_next_request() {
        let (answers, requests) = exchange_with(
            vec![
                b"HTTP/1.1 204 No Content\r\n\r\n",
                b"HTTP/1.1 429 Too Many Requests\r\nretry-after: 5\r\ncontent-length: 3\r\n\r\n{ }",
            ],
            Method::GET,
            b"",
            1024,
        )
        .await;
        assert_eq!(requests.len(), 2, "both requests on one connection");
        assert!(!String::from_utf8_lossy(&requests[0]).contains("content-length"));
        let second = answers[1].as_ref().unwrap();
        assert_eq!(second.status, 429);
        assert_eq!(second.headers[header::RETRY_AFTER], "5");
        assert_eq!(second.body, b"{ }");
    }

    #[tokio::test]
    async fn a_chunked_body_is_joined_past_extensions_and_trailers() {
        let (answers, _) = exchange_with(
            vec![
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4;note=1\r\nWiki\r\n5\r\npedia\r\n0\r\nx-sum: 9\r\n\r\n",
                b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
            ],
            Method::GET,
            b"",
            1024,
        )
        .await;
        assert_eq!(answers[0].as_ref().unwrap().body, b"Wikipedia");
        assert!(answers[0].as_ref().unwrap().reusable);
        assert_eq!(answers.len(), 2, "the trailer was read to its end");
        assert_eq!(answers[1].as_ref().unwrap().status, 200);
    }

    #[tokio::test]
    async fn interim_answers_are_skipped_and_head_answers_have_no_body() {
        let (answers, _) = exchange_with(
            vec![b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n"],
            Method::HEAD,
            b"",
            1024,
        )
        .await;
        let answer = answers[0].as_ref().unwrap();
        assert_eq!((answer.status, answer.body.len()), (200, 0));
        assert!(answer.reusable);
    }

    /// The answer to one `GET` with a body cap of `cap`, from a server that sends `answer`.
    async fn one_get(answer: &'static [u8], cap: usize) -> Result<Answer, ExchangeError> {
        let (mut answers, _) = exchange_with(vec![answer], Method::GET, b"", cap).await;
        answers.remove(0)
    }

    #[tokio::test]
    async fn a_body_past_the_cap_is_cut_and_its_connection_not_reused() {
        let answer = one_get(
            b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n0123456789",
            4,
        )
        .await
        .unwrap();
        assert_eq!(answer.body, b"0123");
        assert!(answer.truncated && !answer.reusable);
    }

    #[tokio::test]
    async fn a_body_without_length_runs_to_the_close() {
        let answer = one_get(b"HTTP/1.0 200 OK\r\n\r\nall of it", 1024)
            .await
            .unwrap();
        assert_eq!(answer.body, b"all of it");
        assert!(!answer.reusable);
    }

    #[tokio::test]
    async fn connection_close_and_http_1_0_end_reuse() {
        let cases: [(&'static [u8], bool); 3] = [
            (
                b"HTTP/1.1 200 OK\r\nconnection: Close\r\ncontent-length: 0\r\n\r\n",
                false,
            ),
            (b"HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n", false),
            (
                b"HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 0\r\n\r\n",
                true,
            ),
        ];
        for (answer, reusable) in cases {
            let got = one_get(answer, 1024).await.unwrap();
            assert_eq!(
                got.reusable,
                reusable,
                "{}",
                String::from_utf8_lossy(answer)
            );
        }
    }

    #[tokio::test]
    async fn a_malformed_or_unfinished_answer_is_an_error_not_an_answer() {
        let malformed: [&'static [u8]; 2] = [
            b"HTP/1.1 200 OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nabc",
        ];
        for answer in malformed {
            let got = one_get(answer, 1024).await;
            assert!(matches!(got, Err(ExchangeError::Malformed(_))), "{got:?}");
        }
        let got = one_get(b"HTTP/1.1 200 OK\r\ncontent-length: 20\r\n\r\nshort", 1024).await;
        assert!(matches!(got, Err(ExchangeError::Closed)), "{got:?}");
    }

    #[tokio::test]
    async fn a_closed_connection_is_seen_before_it_is_sent_on() {
        let (authority, serving) =
            scripted(vec![b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"]).await;
        let mut connection = Connection::open(&authority).await.unwrap();
        let host = HeaderValue::from_str(&authority).unwrap();
        let defaults = HeaderMap::new();
        let request = outgoing(&Method::GET, &host, &defaults, &[], b"");
        assert!(connection.exchange(&request, 64).await.unwrap().reusable);
        serving.await.unwrap();
        // The server's side is gone once its task ends; the runtime hears of it on its next turn.
        let mut waited = 0;
        while !connection.closed_by_server() && waited < 200 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            waited += 1;
        }
        assert!(connection.closed_by_server());
    }

    #[test]
    fn a_request_with_its_own_transfer_encoding_sends_its_body_as_one_chunk() {
        let host = HeaderValue::from_static("example.test");
        let defaults = HeaderMap::new();
        let headers = [(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        )];
        let mut out = Vec::new();
        write_request(
            &mut out,
            &outgoing(&Method::POST, &host, &defaults, &headers, b"abc"),
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "POST /authenticate?x=1 HTTP/1.1\r\nhost: example.test\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
        );
    }
}
