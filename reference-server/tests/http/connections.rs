//! The connection itself, over real sockets on 127.0.0.1: peers counted apart, keep-alive after bodies
//! nobody read, the header read timeout, slow clients and a graceful shutdown.

use authconform_reference_server::AppmixerProfile::{Appmixer6, AppmixerCloud};
use authconform_reference_server::Config;
use serde_json::json;

use crate::support::start_listening;

/// Over sockets, each peer address is counted apart, on the routes answered straight away (`POST
/// /authenticate`) and on those the router answers (`POST /user`) alike: the connection's peer reaches
/// every handler that keys a limit on the client.
#[tokio::test]
async fn over_sockets_each_peer_address_is_counted_apart() {
    let server = start_listening(Config {
        trust_forwarded_for: false,
        cs_overall_threshold: 1,
        signup_rate_limit_ip: 1,
        ..crate::support::config(AppmixerCloud)
    })
    .await;
    let from = |last: u8| {
        reqwest::Client::builder()
            .local_address(std::net::IpAddr::from([127, 0, 0, last]))
            .build()
            .expect("a client")
    };
    let (first, second) = (from(1), from(2));
    let invalid = json!({ "username": "x", "password": "y" });
    let signup = |n: u8| json!({ "username": format!("p{n}"), "email": format!("p{n}@example.com"), "password": "pw" });
    let cases = [
        (
            "/authenticate",
            [invalid.clone(), invalid.clone(), invalid],
            [401, 429, 401],
        ),
        ("/user", [signup(1), signup(2), signup(3)], [200, 429, 200]),
    ];
    for (path, bodies, expected) in cases {
        let mut statuses = Vec::new();
        for (client, body) in [&first, &first, &second].into_iter().zip(bodies) {
            let answer = client
                .post(server.url(path))
                .json(&body)
                .send()
                .await
                .expect("an answer");
            statuses.push(answer.status().as_u16());
        }
        assert_eq!(
            statuses, expected,
            "{path}: 127.0.0.2 has a count of its own"
        );
    }
}

/// An answer that needs no body must not cost the connection when a body comes anyway: 1,000 rounds of
/// `POST /nope` with a body (sent after its headers, as clients do), `DELETE /user` and `GET /user` (a
/// route answered without the router when it has no body), each with a body, the first and the last sent
/// after their headers, on one connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unread_bodies_keep_the_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};

    let server = start_listening(crate::support::config(Appmixer6)).await;
    let stream = tokio::net::TcpStream::connect(server.address())
        .await
        .unwrap();
    stream.set_nodelay(true).unwrap();
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let mut statuses = std::collections::BTreeMap::<u16, u32>::new();
    // Each request line, and whether its body is sent after its head (as a separate write).
    let requests = [
        ("POST /nope", true),
        ("DELETE /user", false),
        ("GET /user", true),
    ];
    for round in 0..1_000 {
        for (request_line, body_apart) in requests {
            let head = format!(
                "{request_line} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n"
            );
            let dropped = |error: std::io::Error| {
                panic!("round {round}: the connection was dropped: {error}")
            };
            if body_apart {
                write
                    .write_all(head.as_bytes())
                    .await
                    .unwrap_or_else(dropped);
                write.flush().await.unwrap_or_else(dropped);
                tokio::task::yield_now().await;
                write.write_all(b"{}").await.unwrap_or_else(dropped);
            } else {
                let whole = format!("{head}{{}}");
                write
                    .write_all(whole.as_bytes())
                    .await
                    .unwrap_or_else(dropped);
            }
            let (status, close) = read_response(&mut read).await;
            assert!(
                !close,
                "round {round}, {request_line}: the server closes the connection"
            );
            *statuses.entry(status).or_default() += 1;
        }
    }
    assert_eq!(statuses, [(401, 1_000), (404, 1_000), (405, 1_000)].into());

    /// One response's status and whether it says `Connection: close`, its body read to the end.
    async fn read_response(read: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> (u16, bool) {
        use tokio::io::AsyncBufReadExt;
        let mut status_line = String::new();
        let n = read.read_line(&mut status_line).await.unwrap();
        assert!(n > 0, "the connection was dropped");
        let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
        let (mut length, mut close) = (0usize, false);
        loop {
            let mut line = String::new();
            read.read_line(&mut line).await.unwrap();
            let line = line.trim_end().to_ascii_lowercase();
            if line.is_empty() {
                break;
            }
            if let Some(value) = line.strip_prefix("content-length:") {
                length = value.trim().parse().unwrap();
            }
            close |= line == "connection: close";
        }
        let mut body = vec![0; length];
        read.read_exact(&mut body).await.unwrap();
        (status, close)
    }
}

#[tokio::test]
async fn shutdown_is_graceful() {
    let server = start_listening(crate::support::config(Appmixer6)).await;
    assert_eq!(server.get("/healthz", None).await.status, 200);
    server.shutdown().await.expect("a clean shutdown");
}

/// A cloud-profile server on a port of 127.0.0.1 with a short header read timeout.
async fn listening_with_header_timeout(
    timeout: std::time::Duration,
) -> authconform_reference_server::RunningServer {
    let config = crate::support::config(AppmixerCloud);
    let state =
        tokio::task::spawn_blocking(move || authconform_reference_server::AppState::new(config))
            .await
            .unwrap()
            .unwrap();
    authconform_reference_server::RunningServer::start_with_header_timeout(
        ([127, 0, 0, 1], 0).into(),
        state,
        timeout,
    )
    .await
    .unwrap()
}

/// The header read timeout runs between requests, not during one: a request whose body arrives after more
/// than the timeout is still answered, and the connection, idle after that answer, is closed once the timeout
/// has passed again, and not before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_header_timeout_spares_a_request_in_hand_and_closes_an_idle_connection() {
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let timeout = Duration::from_millis(200);
    let running = listening_with_header_timeout(timeout).await;
    let mut stream = tokio::net::TcpStream::connect(running.address)
        .await
        .unwrap();
    let body = br#"{"username":"x","password":"y"}"#;
    let head = format!(
        "POST /authenticate HTTP/1.1\r\nHost: slow\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(timeout * 3).await;
    stream.write_all(body).await.unwrap();
    // The answer comes after the body arrives, so its idle time starts after this.
    let body_sent = Instant::now();
    let mut received = Vec::new();
    let mut buffer = [0u8; 1024];
    let closed_at = loop {
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer))
            .await
            .expect("the server answers, then closes the idle connection")
            .unwrap();
        if read == 0 {
            break Instant::now();
        }
        received.extend_from_slice(&buffer[..read]);
    };
    let received = String::from_utf8_lossy(&received);
    assert!(received.starts_with("HTTP/1.1 401"), "{received}");
    assert!(
        received.contains("Invalid username or password."),
        "{received}"
    );
    assert!(
        closed_at - body_sent >= timeout,
        "closed {:?} after the body, before the timeout",
        closed_at - body_sent
    );
    running.shutdown().await.unwrap();
}

/// Slow clients (headers trickling in, slowloris-style) neither stall other clients nor keep their
/// connections: the server closes them after its header read timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_do_not_stall_others_and_are_cut_off() {
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let running = listening_with_header_timeout(Duration::from_millis(500)).await;
    let mut slow = Vec::new();
    for _ in 0..200 {
        let mut stream = tokio::net::TcpStream::connect(running.address)
            .await
            .unwrap();
        stream
            .write_all(b"POST /authenticate HTTP/1.1\r\nHost: slow\r\nContent-Type: app")
            .await
            .unwrap();
        slow.push(stream);
    }
    let client = reqwest::Client::new();
    let started = Instant::now();
    let answer = client
        .get(format!("{}/healthz", running.base_url()))
        .send()
        .await
        .expect("a normal client is answered while 200 slow ones wait");
    assert_eq!(answer.status(), 200);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mut closed = 0;
    for stream in &mut slow {
        let mut buffer = [0u8; 512];
        match tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buffer)).await {
            // Closed (0 bytes), or answered (e.g. 408) and then closed: either way the server let go.
            Ok(Ok(_)) | Ok(Err(_)) => closed += 1,
            Err(_) => {}
        }
    }
    assert_eq!(closed, slow.len(), "every slow connection is cut off");
    running.shutdown().await.unwrap();
}
