//! The deliberate faults of the keyed limits and of `Retry-After` do what they say, so the mutation suite
//! tests the checker against the fault it names.

use authconform_reference_server::AppmixerProfile::AppmixerCloud;
use authconform_reference_server::Config;
use authconform_reference_server::Fault;
use serde_json::json;

use crate::support::start;

fn with(fault: Fault, config: Config) -> Config {
    Config {
        faults: vec![fault],
        trust_forwarded_for: false,
        ..config
    }
}

#[tokio::test]
async fn email_limit_case_sensitive_lets_another_spelling_through() {
    let server = start(with(
        Fault::EmailLimitCaseSensitive,
        Config {
            signup_rate_limit_email: 1,
            ..crate::support::config(AppmixerCloud)
        },
    ))
    .await;
    for (n, email) in ["case@example.com", "Case@Example.com"].iter().enumerate() {
        let body = json!({ "username": format!("case{n}"), "email": email, "password": "pw" });
        assert_eq!(server.post("/user", body).await.status, 200, "{email}");
    }
}

#[tokio::test]
async fn forwarded_for_faults_key_each_limit_on_the_forged_address() {
    let signup = start(with(
        Fault::IpLimitTrustsForwardedFor,
        Config {
            signup_rate_limit_ip: 1,
            ..crate::support::config(AppmixerCloud)
        },
    ))
    .await;
    for n in 0..2 {
        let body = json!({ "username": format!("xff{n}"), "email": format!("xff{n}@example.com"), "password": "pw" });
        let answer = signup
            .post_from(&format!("10.7.0.{n}"), "/user", body)
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
    }
    let invalid = json!({ "username": "x", "password": "y" });
    let block = start(with(
        Fault::InvalidLimitTrustsForwardedFor,
        crate::support::config(AppmixerCloud),
    ))
    .await;
    for n in 0..6 {
        let answer = block
            .post_from(&format!("10.7.1.{n}"), "/authenticate", invalid.clone())
            .await;
        assert_eq!(answer.status, 401, "request {n}");
    }
    let lockout = start(with(
        Fault::LockoutTrustsForwardedFor,
        Config {
            cs_overall_threshold: 2,
            ..crate::support::config(AppmixerCloud)
        },
    ))
    .await;
    for n in 0..4 {
        let other = json!({ "username": "x", "password": format!("y{n}") });
        let answer = lockout
            .post_from(&format!("10.7.2.{n}"), "/authenticate", other)
            .await;
        assert_eq!(answer.status, 401, "request {n}");
    }
}

#[tokio::test]
async fn retry_after_beyond_window_announces_thirty_windows() {
    let server = start(with(
        Fault::RetryAfterBeyondWindow,
        crate::support::config(AppmixerCloud),
    ))
    .await;
    let invalid = json!({ "username": "x", "password": "y" });
    for _ in 0..5 {
        server.post("/authenticate", invalid.clone()).await;
    }
    let blocked = server.post("/authenticate", invalid).await;
    assert_eq!(blocked.status, 429);
    assert_eq!(blocked.headers["retry-after"], "3600");
}

#[tokio::test]
async fn connect_token_alg_none_is_unsigned() {
    let server = start(with(
        Fault::ConnectTokenAlgNone,
        crate::support::config(AppmixerCloud),
    ))
    .await;
    let answer = server
        .post(
            "/authenticate",
            json!({ "username": crate::support::CONNECT_USERNAME, "password": crate::support::CONNECT_PASSWORD }),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let token = answer.json["token"].as_str().unwrap();
    let (header, claims) = crate::support::jwt_parts(token);
    assert_eq!(header["alg"], "none");
    assert_eq!(claims["username"], crate::support::CONNECT_USERNAME);
    assert!(token.ends_with('.'), "no signature: {token}");
}
