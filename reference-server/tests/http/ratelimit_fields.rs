//! `--ratelimit-headers`: the IETF `RateLimit-Policy` and `RateLimit` fields on every answer of a limited
//! endpoint (what is left of each policy that counted the request), the policies alone where nothing was
//! counted, a refusal as before (the refusing policy at `r=0`), and no fields where no limit applies.

use authconform_reference_server::AppmixerProfile::{Appmixer6, AppmixerCloud};
use authconform_reference_server::Config;
use serde_json::json;

use crate::support::{CONNECT_PASSWORD, CONNECT_USERNAME, config, start};

fn lines<'a>(answer: &'a crate::support::Answer, name: &str) -> Vec<&'a str> {
    answer
        .headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect()
}

fn with_fields(profile: authconform_reference_server::AppmixerProfile) -> Config {
    Config {
        ratelimit_headers: true,
        signup_rate_limit_email: 2,
        signup_rate_limit_ip: 6,
        signup_rate_limit_ip_window_ms: 2_000,
        ..config(profile)
    }
}

#[tokio::test]
async fn every_signup_answer_declares_the_policies_and_what_is_left_of_each() {
    let server = start(with_fields(AppmixerCloud)).await;
    let signup =
        json!({ "username": "a@example.com", "email": "a@example.com", "password": "Secret-pw-1" });
    let created = server.post_from("10.0.0.1", "/user", signup.clone()).await;
    assert_eq!(created.status, 200, "{}", created.text);
    assert_eq!(
        lines(&created, "ratelimit-policy"),
        ["\"email\";q=2;w=3600", "\"ip\";q=6;w=2"]
    );
    assert_eq!(
        lines(&created, "ratelimit"),
        ["\"ip\";r=5", "\"email\";r=1"]
    );

    // A duplicate is counted too (and answered 409), with what is left.
    let duplicate = server.post_from("10.0.0.1", "/user", signup.clone()).await;
    assert_eq!(duplicate.status, 409, "{}", duplicate.text);
    assert_eq!(
        lines(&duplicate, "ratelimit"),
        ["\"ip\";r=4", "\"email\";r=0"]
    );

    // The refusal is as it always was: the refusing policy used up, with its reset.
    let refused = server.post_from("10.0.0.1", "/user", signup).await;
    assert_eq!(refused.status, 429, "{}", refused.text);
    assert_eq!(lines(&refused, "ratelimit-policy").len(), 2);
    assert_eq!(lines(&refused, "ratelimit"), ["\"email\";r=0;t=3600"]);

    // Refused as invalid before any limit counted it: the policies, nothing left to show.
    let invalid = server
        .post_from(
            "10.0.0.2",
            "/user",
            json!({ "username": "b@example.com", "email": "b@example.com" }),
        )
        .await;
    assert_eq!(invalid.status, 400, "{}", invalid.text);
    assert_eq!(lines(&invalid, "ratelimit-policy").len(), 2);
    assert!(lines(&invalid, "ratelimit").is_empty());

    // The admin is not limited: no fields.
    let token = server.admin_token().await;
    let by_admin = server
        .post_with_token(
            "/user",
            &token,
            json!({ "username": "c@example.com", "email": "c@example.com", "password": "Secret-pw-1" }),
        )
        .await;
    assert_eq!(by_admin.status, 200, "{}", by_admin.text);
    assert!(by_admin.headers.get("ratelimit-policy").is_none());
    assert!(by_admin.headers.get("ratelimit").is_none());
}

#[tokio::test]
async fn appmixer_6_has_no_signup_limit_to_declare() {
    let server = start(with_fields(Appmixer6)).await;
    let created = server
        .post_from(
            "10.0.0.1",
            "/user",
            json!({ "username": "a@example.com", "email": "a@example.com", "password": "Secret-pw-1" }),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.text);
    assert!(created.headers.get("ratelimit-policy").is_none());
}

#[tokio::test]
async fn every_authenticate_answer_declares_both_limits_and_what_is_left() {
    let server = start(Config {
        ratelimit_headers: true,
        cs_identical_invalid_limit: 2,
        cs_overall_threshold: 100,
        ..config(AppmixerCloud)
    })
    .await;
    let invalid = json!({ "username": "nobody", "password": "wrong" });
    let first = server
        .post_from("10.0.0.1", "/authenticate", invalid.clone())
        .await;
    assert_eq!(first.status, 401, "{}", first.text);
    assert_eq!(
        lines(&first, "ratelimit-policy"),
        ["\"identical-invalid\";q=2;w=120", "\"lockout\";q=100;w=300"]
    );
    assert_eq!(
        lines(&first, "ratelimit"),
        ["\"lockout\";r=99", "\"identical-invalid\";r=1"]
    );
    // Another client address: its own identical-invalid count, the same lockout count for it too.
    let elsewhere = server
        .post_from("10.0.0.2", "/authenticate", invalid.clone())
        .await;
    assert_eq!(
        lines(&elsewhere, "ratelimit"),
        ["\"lockout\";r=99", "\"identical-invalid\";r=1"]
    );
    let second = server
        .post_from("10.0.0.1", "/authenticate", invalid.clone())
        .await;
    assert_eq!(
        lines(&second, "ratelimit"),
        ["\"lockout\";r=98", "\"identical-invalid\";r=0"]
    );
    let refused = server.post_from("10.0.0.1", "/authenticate", invalid).await;
    assert_eq!(refused.status, 429, "{}", refused.text);
    assert_eq!(
        lines(&refused, "ratelimit"),
        ["\"identical-invalid\";r=0;t=120"]
    );

    // A valid sign-in takes its identical-invalid count back.
    let valid = json!({ "username": CONNECT_USERNAME, "password": CONNECT_PASSWORD });
    let signed_in = server.post_from("10.0.0.1", "/authenticate", valid).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.text);
    assert_eq!(
        lines(&signed_in, "ratelimit"),
        ["\"lockout\";r=96", "\"identical-invalid\";r=2"]
    );
}
