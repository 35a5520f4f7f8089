//! Every endpoint: JSON errors for bad input (GEN-02), content types (GEN-01), no echoed passwords
//! (GEN-03), the test-clock protocol, fallbacks, health and shutdown.

use authconform_reference_server::AppmixerProfile::{Appmixer6, Appmixer51, AppmixerCloud};
use authconform_reference_server::Config;
use serde_json::json;

use super::{START_MS, start, start_profile};

const SECRET: &str = "S3cret-Never-Echo";

#[tokio::test]
async fn gen_02_bad_input_is_a_4xx_with_a_json_body_never_a_5xx() {
    for profile in [Appmixer51, Appmixer6, AppmixerCloud] {
        let server = start_profile(profile).await;
        let long = "x".repeat(60_000);
        for path in ["/user/auth", "/user", "/authenticate"] {
            let cases: Vec<(&str, Option<&str>, Vec<u8>)> = vec![
                (
                    "malformed",
                    Some("application/json"),
                    b"{\"password\":".to_vec(),
                ),
                (
                    "text/plain",
                    Some("text/plain"),
                    br#"{"password":"x"}"#.to_vec(),
                ),
                ("array", Some("application/json"), b"[1,2]".to_vec()),
                (
                    "number",
                    Some("application/json"),
                    br#"{"username":5,"email":5,"password":5}"#.to_vec(),
                ),
                (
                    "nulls",
                    Some("application/json"),
                    br#"{"username":null,"email":null,"password":null}"#.to_vec(),
                ),
                (
                    "arrays",
                    Some("application/json"),
                    br#"{"username":[],"password":["x"]}"#.to_vec(),
                ),
                (
                    "long",
                    Some("application/json"),
                    format!(r#"{{"username":"{long}","email":"{long}","password":"x"}}"#)
                        .into_bytes(),
                ),
                ("oversized", Some("application/json"), vec![b' '; 70_000]),
                (
                    "not utf-8",
                    Some("application/json"),
                    vec![0xff, 0xfe, 0xfd],
                ),
            ];
            for (case, content_type, body) in cases {
                let answer = server.post_raw(path, content_type, body).await;
                assert!(
                    (400..500).contains(&answer.status),
                    "{} {path} {case}: {} {}",
                    profile.as_str(),
                    answer.status,
                    answer.text
                );
                assert!(
                    answer.json.is_object(),
                    "{path} {case}: not JSON: {}",
                    answer.text
                );
                assert_eq!(
                    answer.headers["content-type"], "application/json",
                    "{path} {case}"
                );
            }
        }
        let oversized = server
            .post_raw("/user", Some("application/json"), vec![b' '; 70_000])
            .await;
        assert_eq!(oversized.status, 413);
        let wrong_type = server
            .post_raw("/user/auth", Some("text/plain"), r#"{"password":"x"}"#)
            .await;
        assert_eq!(wrong_type.status, 415);
    }
}

#[tokio::test]
async fn gen_01_every_json_answer_says_application_json() {
    let server = start_profile(Appmixer6).await;
    let answers = [
        server.get("/user", None).await,
        server.get("/nowhere", None).await,
        server.post("/user/auth", json!({})).await,
        server.post("/authenticate", json!({})).await,
        server.get("/healthz", None).await,
        server.get("/.well-known/jwks.json", None).await,
    ];
    for answer in answers {
        assert_eq!(
            answer.headers["content-type"], "application/json",
            "{}",
            answer.text
        );
        assert!(answer.json.is_object());
    }
}

#[tokio::test]
async fn gen_03_no_answer_echoes_the_password() {
    let mut config = super::config(AppmixerCloud);
    config.signup_rate_limit_email = 1;
    let server = start(config).await;
    let bodies = [
        (
            "/user/auth",
            json!({ "username": "nobody", "password": SECRET }),
        ),
        ("/user/auth", json!({ "password": SECRET })),
        ("/user", json!({ "username": "a", "password": SECRET })),
        (
            "/user",
            json!({ "username": "a", "email": "not-an-email", "password": SECRET }),
        ),
        (
            "/user",
            json!({ "username": "a", "email": "a@example.com", "password": SECRET }),
        ),
        (
            "/user",
            json!({ "username": "a", "email": "a@example.com", "password": SECRET }),
        ),
        (
            "/user",
            json!({ "username": "b", "email": "a@example.com", "password": SECRET }),
        ),
        (
            "/authenticate",
            json!({ "username": "x", "password": SECRET }),
        ),
        (
            "/authenticate",
            json!({ "username": 1, "password": SECRET }),
        ),
    ];
    for (path, body) in bodies {
        let answer = server.post(path, body.clone()).await;
        if answer.status != 200 {
            assert!(
                !answer.text.contains(SECRET),
                "{path} {body}: {}",
                answer.text
            );
        }
    }
}

#[tokio::test]
async fn the_test_clock_protocol_reads_and_advances() {
    let server = start_profile(AppmixerCloud).await;
    let now = server.get("/_authconform/clock", None).await;
    assert_eq!(now.json, json!({ "now_ms": START_MS, "offset_ms": 0 }));
    let advanced = server
        .post("/_authconform/clock", json!({ "advance_ms": 120_000 }))
        .await;
    assert_eq!(
        advanced.json,
        json!({ "now_ms": START_MS + 120_000, "offset_ms": 120_000 })
    );
    for bad in [
        json!({ "advance_ms": -1 }),
        json!({ "advance_ms": "5" }),
        json!({}),
        json!({ "advance_ms": 1, "x": 2 }),
    ] {
        let answer = server.post("/_authconform/clock", bad.clone()).await;
        assert_eq!(answer.status, 400, "{bad}");
        assert!(answer.json["message"].is_string());
    }
}

#[tokio::test]
async fn without_test_clock_the_clock_paths_are_404() {
    let server = start(Config {
        test_clock: false,
        ..super::config(AppmixerCloud)
    })
    .await;
    assert_eq!(server.get("/_authconform/clock", None).await.status, 404);
    assert_eq!(
        server
            .post("/_authconform/clock", json!({ "advance_ms": 1 }))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn forwarded_for_is_ignored_unless_trusted() {
    let server = start(Config {
        trust_forwarded_for: false,
        signup_rate_limit_ip: 1,
        ..super::config(AppmixerCloud)
    })
    .await;
    let first = server
        .post_from(
            "10.9.0.1",
            "/user",
            json!({ "username": "f1", "email": "f1@example.com", "password": "pw" }),
        )
        .await;
    assert_eq!(first.status, 200);
    let second = server
        .post_from(
            "10.9.0.2",
            "/user",
            json!({ "username": "f2", "email": "f2@example.com", "password": "pw" }),
        )
        .await;
    assert_eq!(second.status, 429, "both came from 127.0.0.1");
}

#[tokio::test]
async fn unknown_paths_and_methods_get_json_errors_and_health_answers() {
    let server = start_profile(Appmixer6).await;
    let missing = server.get("/missing", None).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json["statusCode"], 404);
    let wrong_method = server.send(server.client.delete(server.url("/user"))).await;
    assert_eq!(wrong_method.status, 405);
    assert_eq!(wrong_method.json["statusCode"], 405);
    let health = server.get("/healthz", None).await.json;
    assert_eq!(health["status"], "ok");
    assert_eq!(health["users"], 1, "the seeded admin");
    assert!(health["limiter_keys"].is_u64());
}

#[tokio::test]
async fn shutdown_is_graceful() {
    let server = start_profile(Appmixer6).await;
    assert_eq!(server.get("/healthz", None).await.status, 200);
    server.running.shutdown().await.expect("a clean shutdown");
}

/// Slow clients (headers trickling in, slowloris-style) neither stall other clients nor keep their
/// connections: the server closes them after its header read timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_do_not_stall_others_and_are_cut_off() {
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let config = super::config(AppmixerCloud);
    let state =
        tokio::task::spawn_blocking(move || authconform_reference_server::AppState::new(config))
            .await
            .unwrap()
            .unwrap();
    let running = authconform_reference_server::RunningServer::start_with_header_timeout(
        ([127, 0, 0, 1], 0).into(),
        state,
        Duration::from_millis(500),
    )
    .await
    .unwrap();
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
