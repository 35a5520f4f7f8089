//! Creditsafe Connect's `POST /authenticate` (CS-*): tokens, invalid-request limit, lockout, exactness.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use authconform_reference_server::AppmixerProfile::AppmixerCloud;
use authconform_reference_server::Config;
use serde_json::json;

use crate::assert_redacted_snapshot;
use crate::support::{CONNECT_PASSWORD, CONNECT_USERNAME, START_MS, Server, jwt_parts, start};

const LOCKED_OUT: &str =
    "Too many requests to the authenticate endpoint. Please wait 5 minutes before trying again.";

async fn authenticate(
    server: &Server,
    client: &str,
    username: &str,
    password: &str,
) -> crate::support::Answer {
    server
        .post_from(
            client,
            "/authenticate",
            json!({ "username": username, "password": password }),
        )
        .await
}

fn with_threshold(threshold: u64) -> Config {
    Config {
        cs_overall_threshold: threshold,
        ..crate::support::config(AppmixerCloud)
    }
}

#[tokio::test]
async fn cs_auth_01_token_01_valid_credentials_get_an_rs256_token_verifiable_by_the_jwks() {
    let server = start(crate::support::config(AppmixerCloud)).await;
    let answer = authenticate(&server, "10.1.0.1", CONNECT_USERNAME, CONNECT_PASSWORD).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_redacted_snapshot!("authenticate_ok", answer.json);
    let token = answer.json["token"].as_str().unwrap();
    let (header, claims) = jwt_parts(token);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["nbf"].as_u64().unwrap(),
        3600
    );
    assert_eq!(claims["nbf"], START_MS / 1000);
    let jwks = server.get("/.well-known/jwks.json", None).await;
    assert_eq!(jwks.json["keys"][0]["kid"], header["kid"]);
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwks.json["keys"][0].clone()).unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation)
        .expect("the JWKS verifies the token");
}

#[tokio::test]
async fn cs_auth_02_invalid_missing_or_partial_credentials_are_401_and_malformed_json_400() {
    let server = start(crate::support::config(AppmixerCloud)).await;
    let wrong = authenticate(&server, "10.1.0.2", CONNECT_USERNAME, "wrong").await;
    assert_eq!(wrong.status, 401);
    assert_redacted_snapshot!("authenticate_refused", wrong.json);
    assert_eq!(
        authenticate(&server, "10.1.0.2", "nobody", "wrong")
            .await
            .text,
        wrong.text
    );
    let empty = server.post_raw("/authenticate", None, "").await;
    assert_eq!(empty.status, 401, "{}", empty.text);
    let partial = server
        .post("/authenticate", json!({ "username": CONNECT_USERNAME }))
        .await;
    assert_eq!(partial.status, 401);
    let malformed = server
        .post_raw("/authenticate", Some("application/json"), "{\"username\":")
        .await;
    assert_eq!(malformed.status, 400);
    assert!(malformed.json["message"].is_string());
}

#[tokio::test]
async fn cs_invalid_01_02_five_identical_invalid_then_429_until_the_window_passes() {
    let server = start(crate::support::config(AppmixerCloud)).await;
    for n in 1..=5 {
        let answer = authenticate(&server, "10.1.0.3", CONNECT_USERNAME, "bad").await;
        assert_eq!(answer.status, 401, "attempt {n}");
    }
    let sixth = authenticate(&server, "10.1.0.3", CONNECT_USERNAME, "bad").await;
    assert_eq!(sixth.status, 429);
    assert_redacted_snapshot!("authenticate_identical_invalid_limited", sixth.json);
    server.advance_ms(119_999);
    assert_eq!(
        authenticate(&server, "10.1.0.3", CONNECT_USERNAME, "bad")
            .await
            .status,
        429
    );
    server.advance_ms(1);
    assert_eq!(
        authenticate(&server, "10.1.0.3", CONNECT_USERNAME, "bad")
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn cs_invalid_identical_ignores_json_whitespace() {
    let server = start(crate::support::config(AppmixerCloud)).await;
    let bodies = [
        r#"{"username":"x","password":"y"}"#,
        r#"{ "username": "x", "password": "y" }"#,
        "{\n  \"username\": \"x\",\n  \"password\": \"y\"\n}",
        r#"{"username":"x",   "password":"y"}"#,
        r#"{"username" :"x","password":"y"}"#,
        r#"{"username":"x","password" : "y"}"#,
    ];
    let mut statuses = Vec::new();
    for body in bodies {
        statuses.push(
            server
                .post_raw("/authenticate", Some("application/json"), body)
                .await
                .status,
        );
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429]);
}

#[tokio::test]
async fn cs_invalid_03_the_block_is_per_identical_request() {
    let server = start(crate::support::config(AppmixerCloud)).await;
    for _ in 0..6 {
        authenticate(&server, "10.1.0.4", CONNECT_USERNAME, "bad").await;
    }
    assert_eq!(
        authenticate(&server, "10.1.0.4", CONNECT_USERNAME, "bad")
            .await
            .status,
        429
    );
    assert_eq!(
        authenticate(&server, "10.1.0.4", CONNECT_USERNAME, "other")
            .await
            .status,
        401
    );
    assert_eq!(
        authenticate(&server, "10.1.0.4", CONNECT_USERNAME, CONNECT_PASSWORD)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn valid_credentials_never_use_up_the_invalid_budget() {
    let server = start(crate::support::config(AppmixerCloud)).await;
    for _ in 0..8 {
        let answer = authenticate(&server, "10.1.0.9", CONNECT_USERNAME, CONNECT_PASSWORD).await;
        assert_eq!(answer.status, 200);
    }
}

#[tokio::test]
async fn cs_lockout_01_02_03_04_the_threshold_counts_429s_and_the_lockout_lasts_a_full_window() {
    let server = start(with_threshold(12)).await;
    let client = "10.1.0.5";
    // 12 answered normally: 5 × 401, then 429s of the invalid-request limit, which count too.
    let mut normal = Vec::new();
    for _ in 0..12 {
        normal.push(
            authenticate(&server, client, CONNECT_USERNAME, "bad")
                .await
                .status,
        );
    }
    assert_eq!(
        normal,
        [401, 401, 401, 401, 401, 429, 429, 429, 429, 429, 429, 429]
    );
    let locked = authenticate(&server, client, CONNECT_USERNAME, CONNECT_PASSWORD).await;
    assert_eq!(locked.status, 429);
    assert_eq!(locked.message(), LOCKED_OUT);
    assert_redacted_snapshot!("authenticate_locked_out", locked.json);
    // Another client is not locked out (the lockout is keyed on the client address by default).
    assert_eq!(
        authenticate(&server, "10.1.0.6", CONNECT_USERNAME, CONNECT_PASSWORD)
            .await
            .status,
        200
    );
    server.advance_ms(299_999);
    assert_eq!(
        authenticate(&server, client, CONNECT_USERNAME, CONNECT_PASSWORD)
            .await
            .message(),
        LOCKED_OUT
    );
    server.advance_ms(1);
    assert_eq!(
        authenticate(&server, client, CONNECT_USERNAME, CONNECT_PASSWORD)
            .await
            .status,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cs_lockout_05_exactly_the_threshold_is_answered_under_64_concurrent_clients() {
    let server = Arc::new(start(with_threshold(10_000)).await);
    let normal = Arc::new(AtomicU64::new(0));
    let locked = Arc::new(AtomicU64::new(0));
    let next = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..64)
        .map(|_| {
            let (server, normal, locked, next) =
                (server.clone(), normal.clone(), locked.clone(), next.clone());
            tokio::spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < 10_200 {
                    // Identical invalid requests: after five 401s they are cheap 429s that count.
                    let answer = authenticate(&server, "10.1.0.7", "load", "bad").await;
                    if answer.message() == LOCKED_OUT {
                        locked.fetch_add(1, Ordering::Relaxed);
                    } else {
                        assert!(matches!(answer.status, 401 | 429), "{}", answer.text);
                        normal.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    assert_eq!(normal.load(Ordering::Relaxed), 10_000);
    assert_eq!(locked.load(Ordering::Relaxed), 200);
}

#[tokio::test]
async fn an_endpoint_wide_lockout_blocks_every_client() {
    let server = start(Config {
        cs_lockout_scope: authconform_reference_server::LockoutScope::Endpoint,
        ..with_threshold(3)
    })
    .await;
    for n in 0..3 {
        authenticate(&server, &format!("10.2.0.{n}"), "x", "y").await;
    }
    let answer = authenticate(&server, "10.2.0.9", CONNECT_USERNAME, CONNECT_PASSWORD).await;
    assert_eq!(answer.message(), LOCKED_OUT);
}
