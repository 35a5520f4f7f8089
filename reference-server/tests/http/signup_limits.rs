//! The cloud's signup rate limits (AM-SIGNUP-RL-*) and sign-in's exemption from them (AM-SIGNIN-08).

use authconform_reference_server::AppmixerProfile::{self, AppmixerCloud};
use authconform_reference_server::{Config, ServerArgs};
use clap::Parser;
use serde_json::json;

use crate::assert_redacted_snapshot;
use crate::support::{Server, start};

const EMAIL_LIMIT: &str =
    "Too many signup attempts for this email address. Please try again later.";
const IP_LIMIT: &str = "Too many signup attempts from your IP address. Please try again later.";

pub(super) fn limited(profile: AppmixerProfile, email: u64, ip: u64) -> Config {
    Config {
        signup_rate_limit_email: email,
        signup_rate_limit_email_window_ms: 60_000,
        signup_rate_limit_ip: ip,
        signup_rate_limit_ip_window_ms: 120_000,
        ..crate::support::config(profile)
    }
}

async fn signup(
    server: &Server,
    client: &str,
    username: &str,
    email: &str,
) -> crate::support::Answer {
    server
        .post_from(
            client,
            "/user",
            json!({ "username": username, "email": email, "password": "pw" }),
        )
        .await
}

#[tokio::test]
async fn am_signup_rl_01_06_attempt_limit_plus_one_for_an_email_is_429_with_the_exact_message() {
    let server = start(limited(AppmixerCloud, 3, 50)).await;
    // Attempts count whether or not they created a user: the second and third are duplicates.
    for attempt in 1..=3 {
        let answer = signup(
            &server,
            "10.0.0.1",
            &format!("u{attempt}"),
            "same@example.com",
        )
        .await;
        let expected = if attempt == 1 { 200 } else { 409 };
        assert_eq!(
            answer.status, expected,
            "attempt {attempt}: {}",
            answer.text
        );
    }
    let answer = signup(&server, "10.0.0.1", "u4", "same@example.com").await;
    assert_eq!(answer.status, 429);
    assert_eq!(answer.message(), EMAIL_LIMIT);
    assert_eq!(answer.headers["content-type"], "application/json");
    let retry_after: u64 = answer.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_redacted_snapshot!("signup_email_limited", answer.json);
}

#[tokio::test]
async fn am_signup_rl_02_attempt_limit_plus_one_from_an_ip_is_429_with_the_exact_message() {
    let server = start(limited(AppmixerCloud, 10, 3)).await;
    for n in 1..=3 {
        let answer = signup(
            &server,
            "10.0.0.2",
            &format!("ip{n}"),
            &format!("ip{n}@example.com"),
        )
        .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
    }
    let answer = signup(&server, "10.0.0.2", "ip4", "ip4@example.com").await;
    assert_eq!(answer.status, 429);
    assert_eq!(answer.message(), IP_LIMIT);
    assert_redacted_snapshot!("signup_ip_limited", answer.json);
    // Another client address has its own budget.
    let other = signup(&server, "10.0.0.3", "ip5", "ip5@example.com").await;
    assert_eq!(other.status, 200);
}

#[tokio::test]
async fn am_signup_rl_03_after_the_window_signups_are_accepted_again() {
    let server = start(limited(AppmixerCloud, 1, 50)).await;
    assert_eq!(
        signup(&server, "10.0.0.4", "w1", "w@example.com")
            .await
            .status,
        200
    );
    assert_eq!(
        signup(&server, "10.0.0.4", "w2", "w@example.com")
            .await
            .message(),
        EMAIL_LIMIT
    );
    server.advance_ms(59_999);
    assert_eq!(
        signup(&server, "10.0.0.4", "w2", "w@example.com")
            .await
            .message(),
        EMAIL_LIMIT
    );
    server.advance_ms(1);
    // The e-mail window has passed: the address may sign up again (a duplicate here, but not refused).
    let again = signup(&server, "10.0.0.4", "w2", "w@example.com").await;
    assert_eq!(again.status, 409, "{}", again.text);

    let server = start(limited(AppmixerCloud, 10, 1)).await;
    assert_eq!(
        signup(&server, "10.0.0.5", "v1", "v1@example.com")
            .await
            .status,
        200
    );
    assert_eq!(
        signup(&server, "10.0.0.5", "v2", "v2@example.com")
            .await
            .message(),
        IP_LIMIT
    );
    server.advance_ms(119_999);
    assert_eq!(
        signup(&server, "10.0.0.5", "v2", "v2@example.com")
            .await
            .message(),
        IP_LIMIT
    );
    server.advance_ms(1);
    assert_eq!(
        signup(&server, "10.0.0.5", "v2", "v2@example.com")
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn am_signup_rl_04_an_admin_is_never_limited() {
    let server = start(limited(AppmixerCloud, 1, 1)).await;
    let admin = server.admin_token().await;
    for n in 0..5 {
        let answer = server
            .send(
                server
                    .client
                    .post(server.url("/user"))
                    .header("x-forwarded-for", "10.0.0.5")
                    .bearer_auth(&admin)
                    .json(&json!({ "username": format!("a{n}"), "email": format!("a{n}@example.com"), "password": "pw" })),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
    }
}

#[tokio::test]
async fn am_signup_rl_07_the_email_limit_is_per_address() {
    let server = start(limited(AppmixerCloud, 1, 50)).await;
    assert_eq!(
        signup(&server, "10.0.0.6", "p1", "p@example.com")
            .await
            .status,
        200
    );
    assert_eq!(
        signup(&server, "10.0.0.6", "p2", "p@example.com")
            .await
            .status,
        429
    );
    assert_eq!(
        signup(&server, "10.0.0.6", "q1", "q@example.com")
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn signup_limits_apply_to_the_cloud_profile_only() {
    for profile in [AppmixerProfile::Appmixer6] {
        let server = start(limited(profile, 1, 1)).await;
        for n in 0..4 {
            let answer = signup(
                &server,
                "10.0.0.7",
                &format!("n{n}"),
                &format!("n{n}@example.com"),
            )
            .await;
            assert_eq!(answer.status, 200);
        }
    }
}

#[tokio::test]
async fn am_signin_08_sign_in_is_not_signup_limited() {
    let server = start(limited(AppmixerCloud, 1, 1)).await;
    assert_eq!(
        signup(&server, "10.0.0.8", "s", "s@example.com")
            .await
            .status,
        200
    );
    for _ in 0..4 {
        let answer = server
            .post_from(
                "10.0.0.8",
                "/user/auth",
                json!({ "email": "s@example.com", "password": "pw" }),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
    }
}

#[derive(Debug, Parser)]
struct Flags {
    #[command(flatten)]
    server: ServerArgs,
}

#[test]
fn am_signup_rl_05_the_limits_follow_the_documented_variables_and_defaults() {
    use clap::CommandFactory;
    let defaults = Flags::try_parse_from(["server"])
        .unwrap()
        .server
        .into_config()
        .unwrap();
    assert_eq!(defaults.signup_rate_limit_email, 10);
    assert_eq!(defaults.signup_rate_limit_email_window_ms, 3_600_000);
    assert_eq!(defaults.signup_rate_limit_ip, 50);
    assert_eq!(defaults.signup_rate_limit_ip_window_ms, 3_600_000);
    assert_eq!(defaults.user_create_scope, None);
    assert_eq!(defaults.cs_identical_invalid_limit, 5);
    assert_eq!(defaults.cs_identical_invalid_window_ms, 120_000);
    assert_eq!(defaults.cs_overall_threshold, 10_000);
    assert_eq!(defaults.cs_overall_window_ms, 300_000);
    let command = Flags::command();
    let env_of = |id: &str| {
        command
            .get_arguments()
            .find(|arg| arg.get_id() == id)
            .and_then(|arg| arg.get_env())
            .map(|env| env.to_string_lossy().into_owned())
    };
    assert_eq!(
        env_of("signup_rate_limit_email").as_deref(),
        Some("USER_SIGNUP_RATE_LIMIT_EMAIL")
    );
    assert_eq!(
        env_of("signup_rate_limit_email_window_ms").as_deref(),
        Some("USER_SIGNUP_RATE_LIMIT_EMAIL_WINDOW_MS")
    );
    assert_eq!(
        env_of("signup_rate_limit_ip").as_deref(),
        Some("USER_SIGNUP_RATE_LIMIT_IP")
    );
    assert_eq!(
        env_of("signup_rate_limit_ip_window_ms").as_deref(),
        Some("USER_SIGNUP_RATE_LIMIT_IP_WINDOW_MS")
    );
    assert_eq!(
        env_of("api_user_create_scope").as_deref(),
        Some("API_USER_CREATE_SCOPE")
    );
    let configured = Flags::try_parse_from([
        "server",
        "--signup-rate-limit-email",
        "3",
        "--signup-rate-limit-email-window-ms",
        "2000",
        "--api-user-create-scope",
        "admin",
    ])
    .unwrap()
    .server
    .into_config()
    .unwrap();
    assert_eq!(configured.signup_rate_limit_email, 3);
    assert_eq!(configured.signup_rate_limit_email_window_ms, 2000);
    assert_eq!(configured.user_create_scope.as_deref(), Some("admin"));
}

#[test]
fn bad_server_flags_are_refused_naming_the_flag() {
    let zero = Flags::try_parse_from(["server", "--signup-rate-limit-ip-window-ms", "0"])
        .unwrap()
        .server
        .into_config()
        .unwrap_err();
    assert!(
        zero.to_string()
            .contains("--signup-rate-limit-ip-window-ms"),
        "{zero}"
    );
    let not_a_number =
        Flags::try_parse_from(["server", "--signup-rate-limit-ip", "many"]).unwrap_err();
    assert!(
        not_a_number.to_string().contains("--signup-rate-limit-ip"),
        "{not_a_number}"
    );
}

/// reference-server/README.md documents every flag and its environment variable.
#[test]
fn every_server_flag_and_variable_is_documented() {
    use clap::CommandFactory;
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let command = Flags::command();
    for arg in command.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if matches!(long, "help" | "version") {
            continue;
        }
        assert!(
            readme.contains(&format!("`--{long}`")),
            "README lacks `--{long}`"
        );
        if let Some(env) = arg.get_env() {
            let env = env.to_string_lossy();
            assert!(readme.contains(&format!("`{env}`")), "README lacks `{env}`");
        }
    }
}

#[tokio::test]
async fn am_signup_rl_09_the_email_limit_counts_an_address_however_it_is_written() {
    the_email_limit_counts_an_address_however_it_is_written(limited(AppmixerCloud, 3, 50)).await;
}

/// AM-SIGNUP-RL-09 on a server built from `config` (e-mail limit 3).
pub(super) async fn the_email_limit_counts_an_address_however_it_is_written(config: Config) {
    let server = start(config).await;
    let spellings = [
        "alice@example.com",
        "Alice@Example.COM ",
        " ALICE@EXAMPLE.COM",
    ];
    for (n, email) in spellings.into_iter().enumerate() {
        let answer = signup(&server, "10.0.1.1", &format!("alice{n}"), email).await;
        assert_ne!(
            answer.status, 429,
            "attempt {n} ({email:?}): {}",
            answer.text
        );
    }
    let answer = signup(&server, "10.0.1.1", "alice9", "aLiCe@example.com").await;
    assert_eq!(answer.status, 429, "{}", answer.text);
    assert_eq!(answer.message(), EMAIL_LIMIT);
}

#[tokio::test]
async fn surrounding_spaces_are_not_part_of_a_signup_email() {
    let server = start(limited(AppmixerCloud, 10, 50)).await;
    let answer = signup(&server, "10.0.1.2", "spaced", "  spaced@example.com ").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json["user"]["email"], "spaced@example.com");
}

/// Both readings of "does an attempt that fails validation count": by default only valid attempts count;
/// with `count_invalid_signups` every attempt does, toward the e-mail limit when it names one.
#[tokio::test]
async fn an_invalid_signup_counts_only_in_the_reading_that_counts_it() {
    an_invalid_signup_counts_only_when_counted(|| limited(AppmixerCloud, 2, 3)).await;
}

/// Both readings on servers built from `config` (e-mail limit 2, IP limit 3).
pub(super) async fn an_invalid_signup_counts_only_when_counted(config: impl Fn() -> Config) {
    let without_password =
        |n: u32| json!({ "username": format!("i{n}"), "email": "inv@example.com" });
    for count_invalid in [false, true] {
        let server = start(Config {
            count_invalid_signups: count_invalid,
            ..config()
        })
        .await;
        for n in 0..2 {
            let answer = server
                .post_from("10.0.2.1", "/user", without_password(n))
                .await;
            assert_eq!(answer.status, 400, "{}", answer.text);
        }
        let valid = signup(&server, "10.0.2.1", "valid", "inv@example.com").await;
        if count_invalid {
            assert_eq!(valid.status, 429, "{}", valid.text);
            assert_eq!(valid.message(), EMAIL_LIMIT);
        } else {
            assert_eq!(valid.status, 200, "{}", valid.text);
        }
        // The per-IP limit (3) counts them too in that reading: two invalid and one refused attempt.
        let other = signup(&server, "10.0.2.1", "other", "other@example.com").await;
        let expected = if count_invalid { 429 } else { 200 };
        assert_eq!(other.status, expected, "{}", other.text);
    }
}

#[test]
fn the_invalid_signup_reading_has_a_flag_and_a_variable() {
    use clap::CommandFactory;
    let default = Flags::try_parse_from(["server"]).unwrap().server;
    assert!(!default.into_config().unwrap().count_invalid_signups);
    let on = Flags::try_parse_from(["server", "--count-invalid-signups"])
        .unwrap()
        .server;
    assert!(on.into_config().unwrap().count_invalid_signups);
    let command = Flags::command();
    let env = command
        .get_arguments()
        .find(|arg| arg.get_id() == "count_invalid_signups")
        .and_then(|arg| arg.get_env())
        .map(|env| env.to_string_lossy().into_owned());
    assert_eq!(env.as_deref(), Some("USER_SIGNUP_COUNT_INVALID"));
}
