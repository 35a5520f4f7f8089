//! Every endpoint: JSON errors for bad input (GEN-02), content types (GEN-01), no echoed passwords
//! (GEN-03), the test-clock protocol, forwarded-for, Retry-After (GEN-04), fallbacks and health.

use authconform_reference_server::AppmixerProfile::{Appmixer6, Appmixer51, AppmixerCloud};
use authconform_reference_server::Config;
use serde_json::json;

use crate::support::{START_MS, start, start_listening, start_profile};

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
    let mut config = crate::support::config(AppmixerCloud);
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
        ..crate::support::config(AppmixerCloud)
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
        ..crate::support::config(AppmixerCloud)
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

/// CS-LOCKOUT-06: without trust, a forged `X-Forwarded-For` escapes neither the identical-invalid block nor
/// a per-client lockout.
#[tokio::test]
async fn forwarded_for_escapes_neither_the_invalid_block_nor_the_lockout_unless_trusted() {
    let server = start(Config {
        trust_forwarded_for: false,
        cs_overall_threshold: 8,
        ..crate::support::config(AppmixerCloud)
    })
    .await;
    let invalid = json!({ "username": "x", "password": "forged" });
    let mut statuses = Vec::new();
    for n in 0..6 {
        let forged = format!("10.9.1.{n}");
        statuses.push(
            server
                .post_from(&forged, "/authenticate", invalid.clone())
                .await
                .status,
        );
    }
    assert_eq!(
        statuses,
        [401, 401, 401, 401, 401, 429],
        "one block for 127.0.0.1"
    );
    let mut statuses = Vec::new();
    for n in 0..3 {
        let forged = format!("10.9.2.{n}");
        let other = json!({ "username": "x", "password": format!("other{n}") });
        statuses.push(
            server
                .post_from(&forged, "/authenticate", other)
                .await
                .status,
        );
    }
    assert_eq!(statuses, [401, 401, 429], "the ninth request is locked out");
    let answer = server.post_from("10.9.3.1", "/authenticate", invalid).await;
    assert_eq!(answer.message(), LOCKED_OUT);
}

const LOCKED_OUT: &str =
    "Too many requests to the authenticate endpoint. Please wait 5 minutes before trying again.";

/// GEN-04: every 429 says a whole number of seconds to wait, at least 1 and no more than the window that
/// caused it (rounded up).
#[tokio::test]
async fn gen_04_every_429_says_a_retry_after_within_its_window() {
    let server = start(Config {
        signup_rate_limit_email: 1,
        signup_rate_limit_email_window_ms: 1_500,
        signup_rate_limit_ip: 2,
        signup_rate_limit_ip_window_ms: 30_000,
        cs_identical_invalid_window_ms: 2_000,
        cs_overall_threshold: 8,
        cs_overall_window_ms: 5_000,
        ..crate::support::config(AppmixerCloud)
    })
    .await;
    let retry_after = |answer: &crate::support::Answer| -> u64 {
        assert_eq!(answer.status, 429, "{}", answer.text);
        answer.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let signup = |username: &str, email: &str| json!({ "username": username, "email": email, "password": "pw" });
    server
        .post_from("10.8.0.1", "/user", signup("r1", "r@example.com"))
        .await;
    let email = server
        .post_from("10.8.0.1", "/user", signup("r2", "r@example.com"))
        .await;
    assert_eq!(retry_after(&email), 2, "1.5 s rounded up");
    let ip = server
        .post_from("10.8.0.1", "/user", signup("r3", "s@example.com"))
        .await;
    assert_eq!(retry_after(&ip), 30);
    server.advance_ms(10_000);
    let ip = server
        .post_from("10.8.0.1", "/user", signup("r4", "t@example.com"))
        .await;
    assert_eq!(retry_after(&ip), 20);
    let invalid = json!({ "username": "x", "password": "y" });
    for _ in 0..5 {
        server
            .post_from("10.8.0.2", "/authenticate", invalid.clone())
            .await;
    }
    let blocked = server
        .post_from("10.8.0.2", "/authenticate", invalid.clone())
        .await;
    assert_eq!(retry_after(&blocked), 2);
    for _ in 0..2 {
        server
            .post_from("10.8.0.2", "/authenticate", invalid.clone())
            .await;
    }
    let locked = server.post_from("10.8.0.2", "/authenticate", invalid).await;
    assert_eq!(locked.message(), LOCKED_OUT);
    assert_eq!(retry_after(&locked), 5);
}

/// A path no route serves is a 404 under every method, answered alike with and without a body (without
/// one it is answered before the router; with one, by the router once the body is drained).
#[tokio::test]
async fn an_unknown_path_is_the_same_404_with_or_without_a_body() {
    let server = start_listening(crate::support::config(AppmixerCloud)).await;
    let expected = r#"{"statusCode":404,"error":"Not Found","message":"Not Found"}"#;
    for path in [
        "/missing",
        "/",
        "/user/",
        "/User",
        "/authenticate/x",
        "/user/auth/",
    ] {
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
            let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let mut answers = Vec::new();
            for body in [None, Some("{}")] {
                let mut request = server.client.request(method.clone(), server.url(path));
                if let Some(body) = body {
                    request = request
                        .header("content-type", "application/json")
                        .body(body);
                }
                let answer = server.send(request).await;
                let mut headers = answer.headers.clone();
                headers.remove("date");
                answers.push((answer.status, headers, answer.text));
            }
            let (status, headers, text) = &answers[0];
            assert_eq!(*status, 404, "{method} {path}");
            assert_eq!(
                headers["content-type"], "application/json",
                "{method} {path}"
            );
            assert_eq!(text, expected, "{method} {path}");
            assert_eq!(answers[0], answers[1], "{method} {path}: with a body");
        }
    }
    let head = server
        .send(server.client.head(server.url("/missing")))
        .await;
    assert_eq!(head.status, 404);
    assert_eq!(head.headers["content-type"], "application/json");
    assert_eq!(head.text, "", "a HEAD answer has no body");
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
