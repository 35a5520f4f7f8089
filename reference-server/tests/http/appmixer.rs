//! Sign in, create user and get user, per profile (AM-SIGNIN-*, AM-SIGNUP-01..06, AM-ME-*, AM-TOKEN-01).

use authconform_reference_server::AppmixerProfile::{self, Appmixer6, Appmixer51, AppmixerCloud};
use serde_json::json;

use crate::assert_redacted_snapshot;
use crate::support::{START_MS, Server, jwt_parts, start, start_profile};

const PROFILES: [AppmixerProfile; 3] = [Appmixer51, Appmixer6, AppmixerCloud];

async fn create(server: &Server, profile: AppmixerProfile, name: &str) -> crate::support::Answer {
    let email = format!("{name}@example.com");
    let answer = match profile {
        Appmixer51 => {
            server
                .post("/user", json!({ "username": email, "password": "pw-1" }))
                .await
        }
        _ => server.create_user(name, &email, "pw-1").await,
    };
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer
}

#[tokio::test]
async fn am_signup_01_02_create_user_is_open_and_answers_in_the_profile_shape() {
    for profile in PROFILES {
        let server = start_profile(profile).await;
        let answer = create(&server, profile, "ann").await;
        assert_redacted_snapshot!(format!("create_user_{}", profile.as_str()), answer.json);
    }
}

#[tokio::test]
async fn am_signin_01_02_sign_in_answers_user_and_token_in_the_profile_shape() {
    for profile in PROFILES {
        let server = start_profile(profile).await;
        create(&server, profile, "ann").await;
        let login = match profile {
            Appmixer51 => json!({ "username": "ann@example.com", "password": "pw-1" }),
            _ => json!({ "username": "ann", "password": "pw-1" }),
        };
        let answer = server.post("/user/auth", login).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_redacted_snapshot!(format!("sign_in_{}", profile.as_str()), answer.json);
    }
}

#[tokio::test]
async fn am_signin_03_sign_in_by_email_or_by_username() {
    for profile in [Appmixer6, AppmixerCloud] {
        let server = start_profile(profile).await;
        create(&server, profile, "bob").await;
        let by_email = server
            .post(
                "/user/auth",
                json!({ "email": "bob@example.com", "password": "pw-1" }),
            )
            .await;
        assert_eq!(by_email.status, 200, "{}", by_email.text);
        let by_username = server
            .post(
                "/user/auth",
                json!({ "username": "bob", "password": "pw-1" }),
            )
            .await;
        assert_eq!(by_username.status, 200);
        assert_eq!(by_email.json["user"]["id"], by_username.json["user"]["id"]);
    }
}

#[tokio::test]
async fn am_signin_04_appmixer_5_1_needs_an_email_shaped_username() {
    let server = start_profile(Appmixer51).await;
    create(&server, Appmixer51, "cid").await;
    for body in [
        json!({ "password": "pw-1" }),
        json!({ "email": "cid@example.com", "password": "pw-1" }),
        json!({ "username": "cid", "password": "pw-1" }),
    ] {
        let answer = server.post("/user/auth", body.clone()).await;
        assert_eq!(answer.status, 400, "{body}: {}", answer.text);
        assert_eq!(answer.json["statusCode"], 400);
    }
    let answer = server
        .post(
            "/user/auth",
            json!({ "username": "cid@example.com", "password": "pw-1" }),
        )
        .await;
    assert_eq!(answer.status, 200);
}

#[tokio::test]
async fn am_signin_05_06_missing_password_or_identity_is_400() {
    for profile in PROFILES {
        let server = start_profile(profile).await;
        let answer = server
            .post("/user/auth", json!({ "username": "someone@example.com" }))
            .await;
        assert_eq!(answer.status, 400, "{}: {}", profile.as_str(), answer.text);
        assert_eq!(answer.message(), "\"password\" is required");
    }
    for profile in [Appmixer6, AppmixerCloud] {
        let server = start_profile(profile).await;
        let answer = server.post("/user/auth", json!({ "password": "pw" })).await;
        assert_eq!(answer.status, 400);
        assert_redacted_snapshot!("sign_in_without_identity", answer.json);
    }
}

#[tokio::test]
async fn am_signin_07_unknown_user_and_wrong_password_look_the_same() {
    let server = start_profile(AppmixerCloud).await;
    create(&server, AppmixerCloud, "dan").await;
    let wrong = server
        .post(
            "/user/auth",
            json!({ "username": "dan", "password": "nope" }),
        )
        .await;
    let unknown = server
        .post(
            "/user/auth",
            json!({ "username": "nobody", "password": "nope" }),
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(unknown.status, 401);
    assert_eq!(wrong.text, unknown.text);
    assert_redacted_snapshot!("sign_in_refused", wrong.json);
}

#[tokio::test]
async fn am_signup_03_required_fields_per_profile() {
    for profile in [Appmixer6, AppmixerCloud] {
        let server = start_profile(profile).await;
        for body in [
            json!({ "email": "e@example.com", "password": "pw" }),
            json!({ "username": "e", "password": "pw" }),
            json!({ "username": "e", "email": "e@example.com" }),
        ] {
            let answer = server.post("/user", body.clone()).await;
            assert_eq!(
                answer.status,
                400,
                "{}: {body}: {}",
                profile.as_str(),
                answer.text
            );
        }
    }
    let server = start_profile(Appmixer51).await;
    let answer = server
        .post("/user", json!({ "email": "e@example.com" }))
        .await;
    assert_eq!(answer.status, 400);
    let answer = server
        .post("/user", json!({ "password": "only-a-password" }))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let answer = server
        .post(
            "/user",
            json!({ "username": "not-an-email", "password": "pw" }),
        )
        .await;
    assert_eq!(answer.status, 400);
}

#[tokio::test]
async fn am_signup_04_the_new_token_works_and_the_user_can_sign_in() {
    for profile in PROFILES {
        let server = start_profile(profile).await;
        let created = create(&server, profile, "eve").await;
        let token = created.json["token"].as_str().unwrap();
        let me = server.get("/user", Some(token)).await;
        assert_eq!(me.status, 200, "{}", me.text);
        assert_eq!(me.json["email"], "eve@example.com");
        let login = match profile {
            Appmixer51 => json!({ "username": "eve@example.com", "password": "pw-1" }),
            _ => json!({ "email": "eve@example.com", "password": "pw-1" }),
        };
        let signed_in = server.post("/user/auth", login).await;
        assert_eq!(signed_in.status, 200);
        assert_eq!(signed_in.json["user"]["id"], me.json["id"]);
    }
}

#[tokio::test]
async fn am_signup_05_duplicates_are_409_and_create_nothing() {
    let server = start_profile(Appmixer6).await;
    create(&server, Appmixer6, "fay").await;
    let same_name = server.create_user("fay", "other@example.com", "pw").await;
    assert_eq!(same_name.status, 409, "{}", same_name.text);
    let same_email = server.create_user("other", "fay@example.com", "pw").await;
    assert_eq!(same_email.status, 409);
    assert_eq!(
        server.get("/healthz", None).await.json["users"],
        2,
        "the admin and fay"
    );
}

#[tokio::test]
async fn am_signup_06_a_create_scope_needs_a_token_with_it() {
    let mut config = crate::support::config(AppmixerCloud);
    config.user_create_scope = Some("admin".into());
    let server = start(config).await;
    let anonymous = server.create_user("gus", "gus@example.com", "pw").await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.text);
    let admin = server.admin_token().await;
    let created = server
        .post_with_token(
            "/user",
            &admin,
            json!({ "username": "gus", "email": "gus@example.com", "password": "pw" }),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.text);
    let user_token = created.json["token"].as_str().unwrap().to_owned();
    let by_user = server
        .post_with_token(
            "/user",
            &user_token,
            json!({ "username": "hal", "email": "hal@example.com", "password": "pw" }),
        )
        .await;
    assert_eq!(by_user.status, 403);
    let tampered = server
        .post_with_token(
            "/user",
            &format!("{admin}x"),
            json!({ "username": "hal", "email": "hal@example.com", "password": "pw" }),
        )
        .await;
    assert_eq!(tampered.status, 401);
}

#[tokio::test]
async fn am_me_01_get_user_answers_the_signed_in_user() {
    let server = start_profile(AppmixerCloud).await;
    let created = create(&server, AppmixerCloud, "ida").await;
    let token = created.json["token"].as_str().unwrap();
    let me = server.get("/user", Some(token)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json["id"], created.json["user"]["id"]);
    assert_redacted_snapshot!("get_user", me.json);
}

#[tokio::test]
async fn am_me_02_missing_malformed_tampered_unsigned_and_expired_tokens_are_401() {
    use base64::Engine;
    let server = start_profile(Appmixer6).await;
    let created = create(&server, Appmixer6, "jo").await;
    let token = created.json["token"].as_str().unwrap().to_owned();
    let (_, claims) = jwt_parts(&token);
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let unsigned = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(claims.to_string().as_bytes())
    );
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut forged_claims = claims.clone();
    forged_claims["scope"] = json!(["user", "admin"]);
    parts[1] = b64(forged_claims.to_string().as_bytes());
    let tampered = parts.join(".");
    assert_eq!(server.get("/user", None).await.status, 401);
    for bad in ["garbage", "a.b.c", unsigned.as_str(), tampered.as_str()] {
        let answer = server.get("/user", Some(bad)).await;
        assert_eq!(answer.status, 401, "{bad}");
        assert_eq!(answer.json["statusCode"], 401);
    }
    assert_eq!(server.get("/user", Some(&token)).await.status, 200);
    // Thirty days later, to the second.
    server.advance_ms(30 * 24 * 3600 * 1000 - 1000);
    assert_eq!(server.get("/user", Some(&token)).await.status, 200);
    server.advance_ms(1000);
    assert_eq!(server.get("/user", Some(&token)).await.status, 401);
}

#[tokio::test]
async fn am_token_01_tokens_are_hs256_with_id_scope_iat_and_a_30_day_exp() {
    let server = start_profile(AppmixerCloud).await;
    let created = create(&server, AppmixerCloud, "kim").await;
    let (header, claims) = jwt_parts(created.json["token"].as_str().unwrap());
    assert_eq!(header["alg"], "HS256");
    assert_eq!(claims["id"], created.json["user"]["id"]);
    assert_eq!(claims["scope"], json!(["user"]));
    assert_eq!(claims["iat"], START_MS / 1000);
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        2_592_000
    );
}

/// `--password-cost light` (for throwaway instances) still tells the right password from wrong ones: the
/// seeded admin and a new user sign in with theirs and are refused with anything else.
#[tokio::test]
async fn the_light_password_cost_still_verifies_and_refuses_passwords() {
    use authconform_reference_server::{PasswordCost, ServerArgs};
    use clap::Parser;
    #[derive(Debug, Parser)]
    struct Flags {
        #[command(flatten)]
        server: ServerArgs,
    }
    let flags = Flags::try_parse_from(["server", "--password-cost", "light"]).unwrap();
    assert_eq!(flags.server.password_cost, PasswordCost::Light);
    let defaults = Flags::try_parse_from(["server"]).unwrap();
    assert_eq!(defaults.server.password_cost, PasswordCost::Owasp);

    let config = authconform_reference_server::Config {
        password_cost: flags.server.password_cost,
        ..crate::support::config(AppmixerCloud)
    };
    let server = start(config).await;
    let admin = server.admin_token().await;
    assert!(!admin.is_empty());
    create(&server, AppmixerCloud, "lee").await;
    let right = server
        .post(
            "/user/auth",
            json!({ "email": "lee@example.com", "password": "pw-1" }),
        )
        .await;
    assert_eq!(right.status, 200, "{}", right.text);
    for wrong in ["pw-2", "PW-1", "pw-1 ", "pw-"] {
        let refused = server
            .post(
                "/user/auth",
                json!({ "email": "lee@example.com", "password": wrong }),
            )
            .await;
        assert_eq!(refused.status, 401, "{wrong:?}: {}", refused.text);
    }
}
