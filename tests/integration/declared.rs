//! What a target declares: `init` and `detect` read the `RateLimit-Policy` fields of the reference server
//! and of mock servers (named as the reference names them, or as express-rate-limit does), write the
//! accounts given, tell a scoped appmixer-6 by the admin's signup and whether `X-Forwarded-For` is trusted;
//! and `run` stops before any check when the description disagrees with what the server declares, unless
//! `--trust-declared`.

use std::sync::atomic::{AtomicU64, Ordering};

use authconform::detect::{ForwardedFor, detect};
use authconform::target::declared::LimitKind;
use authconform::target::{Account, TargetDescription, TargetFlags};
use authconform_reference_server::AppmixerProfile::{self, Appmixer6, AppmixerCloud};
use authconform_reference_server::{Config, SeedAccount};
use authconform_scenario::model::Profile;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::cli::{authconform, stderr, stdout};
use crate::support::beside_reference as against;

const ADMIN_PASSWORD: &str = "admin-password-1";
const CONNECT_PASSWORD: &str = "connect-password-1";

/// A reference server declaring its policies, with short signup windows, a lower identical-invalid limit
/// than documented and 2-hour Appmixer tokens.
fn declaring(profile: AppmixerProfile) -> Config {
    Config {
        profile,
        test_clock: true,
        ratelimit_headers: true,
        signup_rate_limit_email: 3,
        signup_rate_limit_email_window_ms: 2_000,
        signup_rate_limit_ip: 8,
        signup_rate_limit_ip_window_ms: 2_000,
        cs_identical_invalid_limit: 4,
        appmixer_token_lifetime_s: 7_200,
        admin: SeedAccount {
            username: "admin@example.com".into(),
            email: Some("admin@example.com".into()),
            password: ADMIN_PASSWORD.into(),
        },
        creditsafe_account: SeedAccount {
            username: "connect-user@example.com".into(),
            email: None,
            password: CONNECT_PASSWORD.into(),
        },
        ..Config::default()
    }
}

fn init_file(url: &str, extra: &[&str]) -> String {
    let mut args = vec!["init", "--target", url];
    args.extend_from_slice(extra);
    let output = authconform(&args);
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output)
}

/// The target file `text` as `run` reads it.
fn load(text: &str) -> TargetDescription {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("target.toml");
    std::fs::write(&file, text).unwrap();
    authconform::target::load(&TargetFlags {
        target_file: Some(file),
        ..TargetFlags::default()
    })
    .unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// `init` writes what the server declares, and the file it writes runs at once: the run's checks hold
/// although `init`'s own signups, which the run cannot know of, are still inside the IP window.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_fills_the_limits_the_server_declares_and_writes_the_accounts_given() {
    let (text, run) = against(declaring(AppmixerCloud), |url| {
        let text = init_file(
            &url,
            &[
                "--admin",
                &format!("admin@example.com:{ADMIN_PASSWORD}"),
                "--creditsafe",
                &format!("connect-user@example.com:{CONNECT_PASSWORD}"),
            ],
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("target.toml");
        std::fs::write(&file, &text).unwrap();
        let run = authconform(&["run", "--target-file", file.to_str().unwrap()]);
        (text, run)
    })
    .await;
    println!("{text}");
    assert_eq!(
        run.status.code(),
        Some(0),
        "the file init wrote, run right after it:\n{}\n{}",
        stdout(&run),
        stderr(&run)
    );
    assert!(
        stdout(&run).contains("43 requirements: 41 passed, 0 failed"),
        "{}",
        stdout(&run)
    );
    for line in [
        "signup_email = 3                          # signups per e-mail address and window; declared by the server: POST /user \"email\";q=3;w=2",
        "signup_email_window_ms = 2000             # its window; declared by the server: POST /user \"email\";q=3;w=2",
        "signup_ip = 8                             # signups per client address and window; declared by the server: POST /user \"ip\";q=8;w=2",
        "cs_identical_invalid = 4                  # identical invalid requests before 429; declared by the server: POST /authenticate \"identical-invalid\";q=4;w=120",
        "cs_overall_threshold = 10000              # requests to /authenticate before the lockout; declared by the server: POST /authenticate \"lockout\";q=10000;w=300",
        "appmixer_token_lifetime_s = 7200          # lifetime of an Appmixer token; read from the token a signup returned (exp − iat)",
        "its token lives 7200 s (exp − iat)",
        "creditsafe_token_lifetime_s = 3600        # CHECK: lifetime of a Creditsafe token",
        "[accounts.admin]\nusername = \"admin@example.com\"\npassword = \"admin-password-1\"",
        "[accounts.creditsafe]\nusername = \"connect-user@example.com\"\npassword = \"connect-password-1\"",
        "forwarded_for = false",
        "# Seen: the target does not trust X-Forwarded-For (identical invalid requests: \"identical-invalid\" r=3, then r=2",
    ] {
        assert!(text.contains(line), "missing `{line}` in:\n{text}");
    }
    let target = load(&text);
    assert_eq!(target.limits.signup_email, 3);
    assert_eq!(target.limits.signup_ip_window_ms, 2_000);
    assert_eq!(target.limits.cs_identical_invalid, 4);
    assert_eq!(target.limits.appmixer_token_lifetime_s, 7_200);
    assert_eq!(target.admin.unwrap().password, ADMIN_PASSWORD);
    assert_eq!(
        target.creditsafe.unwrap().username,
        "connect-user@example.com"
    );
    assert!(!target.forwarded_for);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_sees_a_server_that_trusts_forwarded_for() {
    let text = against(
        Config {
            trust_forwarded_for: true,
            ..declaring(AppmixerCloud)
        },
        |url| init_file(&url, &[]),
    )
    .await;
    assert!(
        text.contains("# Seen: the target trusts X-Forwarded-For")
            && text.contains("\nforwarded_for = true\n"),
        "{text}"
    );
    assert!(load(&text).forwarded_for);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_declared_fields_the_defaults_stay_marked_check_and_forwarded_for_says_why() {
    let text = against(
        Config {
            ratelimit_headers: false,
            ..declaring(AppmixerCloud)
        },
        |url| init_file(&url, &[]),
    )
    .await;
    for line in [
        "signup_email = 10                         # CHECK: signups per e-mail address and window",
        "# CHECK: whether the target trusts X-Forwarded-For cannot be known from its answers (the answers \
         declare no RateLimit policy whose `r` would show it)",
        "forwarded_for = false",
        "# [accounts.admin]",
    ] {
        assert!(text.contains(line), "missing `{line}` in:\n{text}");
    }
    assert!(!text.contains("declared by the server"), "{text}");
}

/// A description of the reference server's URL with an admin account (detection is what tells the profile).
fn described(url: &str, admin: Option<Account>) -> TargetDescription {
    let mut target = TargetDescription::new(url.parse().unwrap(), vec![Profile::CreditsafeConnect]);
    target.admin = admin;
    target
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_tells_a_scoped_appmixer_6_from_the_cloud() {
    let server = crate::support::start_reference(Config {
        user_create_scope: Some("admin".into()),
        ..declaring(Appmixer6)
    })
    .await;
    let admin = Account {
        username: "admin@example.com".into(),
        email: None,
        password: ADMIN_PASSWORD.into(),
    };
    let with_admin = detect(&described(&server.base_url(), Some(admin)))
        .await
        .unwrap();
    let without = detect(&described(&server.base_url(), None)).await.unwrap();
    let url = server.base_url();
    let text = tokio::task::spawn_blocking(move || {
        init_file(
            &url,
            &["--admin", &format!("admin@example.com:{ADMIN_PASSWORD}")],
        )
    })
    .await
    .unwrap();
    server.shutdown().await.unwrap();

    assert_eq!(
        with_admin.profiles(),
        ["appmixer-6", "creditsafe-connect"],
        "{:#?}",
        with_admin.evidence
    );
    assert!(with_admin.create_needs_admin);
    // Only the admin's signup returned a token.
    assert_eq!(with_admin.appmixer_token_lifetime_s, Some(7_200));
    assert_eq!(without.appmixer_token_lifetime_s, None);
    assert!(
        with_admin
            .evidence
            .iter()
            .any(|e| e.request.starts_with("POST /user as the admin") && e.status == Some(200)),
        "{:#?}",
        with_admin.evidence
    );
    // Without the admin only sign-in can judge, and it cannot tell 6 from the cloud.
    assert_eq!(without.appmixer, Some("appmixer-cloud"));
    assert!(
        without
            .evidence
            .iter()
            .any(|e| e.observation.contains("give --admin")),
        "{:#?}",
        without.evidence
    );
    assert!(
        text.contains("profiles = [\"appmixer-6\", \"creditsafe-connect\"]")
            && text.contains("\nuser_create_scope = \"admin\"\n"),
        "{text}"
    );
    let target = load(&text);
    assert_eq!(target.user_create_scope.as_deref(), Some("admin"));
}

/// An Appmixer-cloud mock without Creditsafe Connect whose signup limits are declared as express-rate-limit
/// declares them, its per-address policy counting every signup together unless `trusted` (then by
/// `X-Forwarded-For`, each forged address fresh). `earlier` signups of this client already count.
struct Signups {
    trusted: bool,
    counted: AtomicU64,
}

impl Respond for Signups {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let count = if self.trusted && request.headers.contains_key("x-forwarded-for") {
            1
        } else {
            self.counted.fetch_add(1, Ordering::SeqCst) + 1
        };
        ResponseTemplate::new(200)
            .append_header("RateLimit-Policy", "\"10-in-1min\";q=10;w=60")
            .append_header("RateLimit-Policy", "\"20-in-1min\";q=20;w=60")
            .append_header(
                "RateLimit",
                format!("\"10-in-1min\";r=9, \"20-in-1min\";r={}", 20 - count),
            )
            .set_body_json(serde_json::json!({
                "token": "t",
                "user": { "id": "1", "username": "u", "email": "u@example.com", "isActive": false }
            }))
    }
}

async fn cloud_mock(trusted: bool, earlier: u64) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/user"))
        .respond_with(Signups {
            trusted,
            counted: AtomicU64::new(earlier),
        })
        .mount(&server)
        .await;
    for (verb, at) in [("GET", "/user"), ("POST", "/user/auth")] {
        Mock::given(method(verb))
            .and(path(at))
            .respond_with(ResponseTemplate::new(401))
            .mount(&server)
            .await;
    }
    server
}

async fn signups_sent(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path() == "/user")
        .count()
}

#[tokio::test]
async fn forwarded_for_is_read_from_the_per_address_policy_and_a_second_signup_only_when_needed() {
    for (trusted, earlier, expect_trusted, signups) in [
        (true, 0, Some(true), 2),
        (false, 0, Some(false), 2),
        // Earlier signups of this client show under the first forged address: no second signup.
        (false, 3, Some(false), 1),
    ] {
        let server = cloud_mock(trusted, earlier).await;
        let detection = detect(&described(&server.uri(), None)).await.unwrap();
        let seen = match &detection.forwarded_for {
            ForwardedFor::Trusted { .. } => Some(true),
            ForwardedFor::Ignored { .. } => Some(false),
            ForwardedFor::Unknown { .. } => None,
        };
        assert_eq!(seen, expect_trusted, "{:#?}", detection);
        assert_eq!(
            signups_sent(&server).await,
            signups,
            "{:#?}",
            detection.evidence
        );
        assert_eq!(detection.appmixer, Some("appmixer-cloud"));
        // Unnamed policies: after a fresh e-mail the one with earlier attempts counts per address.
        if earlier > 0 {
            let ip = detection.declarations.of(LimitKind::SignupIp).unwrap();
            assert_eq!(ip.policy.quota, Some(20), "{:#?}", detection.declarations);
            assert_eq!(
                detection
                    .declarations
                    .of(LimitKind::SignupEmail)
                    .unwrap()
                    .policy
                    .quota,
                Some(10)
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_that_cannot_be_placed_are_said_so_in_the_file_instead_of_guessed() {
    let server = cloud_mock(true, 0).await;
    let url = server.uri();
    let text = tokio::task::spawn_blocking(move || init_file(&url, &[]))
        .await
        .unwrap();
    assert!(
        text.contains(
            "# POST /user declares `\"10-in-1min\";q=10;w=60`, but which limit it is cannot be told"
        ),
        "{text}"
    );
    assert!(
        text.contains("signup_email = 10                         # CHECK: signups per e-mail address and window"),
        "{text}"
    );
    assert!(text.contains("\nforwarded_for = true\n"), "{text}");
}

#[tokio::test]
async fn express_rate_limit_names_on_authenticate_are_placed_by_their_quotas() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/authenticate"))
        .respond_with(
            ResponseTemplate::new(401)
                .append_header(
                    "RateLimit-Policy",
                    "\"5-in-2min\";q=5;w=120;pk=:cHJvcGVydHk=:, \"10000-in-5min\";q=10000;w=300",
                )
                .append_header(
                    "RateLimit",
                    "\"5-in-2min\";r=4;t=120, \"10000-in-5min\";r=9000;t=300",
                ),
        )
        .mount(&server)
        .await;
    let detection = detect(&described(&server.uri(), None)).await.unwrap();
    let declarations = &detection.declarations;
    assert_eq!(
        declarations
            .value_of("cs_identical_invalid")
            .map(|(v, _)| v),
        Some(5),
        "{declarations:#?}"
    );
    assert_eq!(
        declarations
            .value_of("cs_overall_window_ms")
            .map(|(v, _)| v),
        Some(300_000)
    );
    assert!(matches!(
        detection.forwarded_for,
        ForwardedFor::Trusted { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_stops_before_any_check_naming_both_values_when_the_description_disagrees() {
    // Against a mock, so every request is counted: only the probe is sent.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/authenticate"))
        .respond_with(
            ResponseTemplate::new(401)
                .append_header("RateLimit-Policy", "\"identical-invalid\";q=4;w=120")
                .append_header("RateLimit", "\"identical-invalid\";r=3"),
        )
        .mount(&server)
        .await;
    let url = server.uri();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("staging.toml");
    std::fs::write(
        &file,
        format!(
            "base_url = \"{url}\"\nprofiles = [\"creditsafe-connect\"]\n\n[limits]\ncs_identical_invalid = 5\n"
        ),
    )
    .unwrap();
    let file_path = file.to_str().unwrap().to_owned();
    let (by_default, by_flag, by_file) = tokio::task::spawn_blocking(move || {
        let run = |extra: &[&str]| {
            let mut args = vec!["run", "--only", "CS-INVALID-*"];
            args.extend_from_slice(extra);
            authconform(&args)
        };
        (
            run(&["--target", &url, "--profile", "creditsafe-connect"]),
            run(&[
                "--target",
                &url,
                "--profile",
                "creditsafe-connect",
                "--limit",
                "cs_identical_invalid=6",
            ]),
            run(&["--target-file", &file_path]),
        )
    })
    .await
    .unwrap();
    for (output, given) in [
        (
            &by_default,
            "cs_identical_invalid: not given, so the documented default 5".to_owned(),
        ),
        (
            &by_flag,
            "cs_identical_invalid: --limit cs_identical_invalid=6".to_owned(),
        ),
        (
            &by_file,
            format!("cs_identical_invalid: {}:5:24 sets 5", file.display()),
        ),
    ] {
        let err = stderr(output);
        assert_eq!(output.status.code(), Some(2), "{err}");
        assert!(
            err.contains(&given)
                && err.contains(
                    ", but the server declares 4 (POST /authenticate declares `\"identical-invalid\";q=4;w=120`"
                )
                && err.contains("--trust-declared"),
            "{err}"
        );
    }
    // One probe per run, and nothing else.
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trust_declared_runs_with_the_servers_values() {
    let (refused, trusted) = against(declaring(AppmixerCloud), |url| {
        let run = |extra: &[&str]| {
            let mut args = vec![
                "run",
                "--target",
                url.as_str(),
                "--profile",
                "creditsafe-connect",
                "--clock",
                "control",
                "--only",
                "creditsafe-sixth-identical-invalid-request-is-refused",
            ];
            args.extend_from_slice(extra);
            authconform(&args)
        };
        (run(&[]), run(&["--trust-declared"]))
    })
    .await;
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert_eq!(
        trusted.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&trusted),
        stderr(&trusted)
    );
    assert!(
        stderr(&trusted)
            .contains("--trust-declared: cs_identical_invalid = 4 as the server declares"),
        "{}",
        stderr(&trusted)
    );
}

/// `init --measure-limits` against a server that declares nothing, on the system clock with windows of two
/// seconds: the e-mail and identical-invalid limits are measured and their windows waited out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_measures_the_limits_a_server_does_not_declare_and_never_the_lockout() {
    let config = Config {
        test_clock: false,
        ratelimit_headers: false,
        signup_rate_limit_ip: 50,
        cs_identical_invalid_window_ms: 2_000,
        // Far from the requests a measure sends: a probe of the threshold would show as a lockout.
        cs_overall_threshold: 400,
        ..declaring(AppmixerCloud)
    };
    let (text, warning) = against(config, |url| {
        let output = authconform(&[
            "init",
            "--target",
            &url,
            "--admin",
            &format!("admin@example.com:{ADMIN_PASSWORD}"),
            "--measure-limits",
            "--max-wait",
            "5",
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        (stdout(&output), stderr(&output))
    })
    .await;
    println!("{text}");
    assert!(
        warning.contains("warning: --measure-limits sends up to 100 signups")
            && warning.contains("never approached"),
        "{warning}"
    );
    for line in [
        "signup_email = 3                          # signups per e-mail address and window; measured by init --measure-limits: 3 identical /user were answered, attempt 4 refused",
        "signup_email_window_ms = 2000             # its window; measured by init --measure-limits: waited out: accepted again",
        "cs_identical_invalid = 4                  # identical invalid requests before 429; measured by init --measure-limits: 4 identical /authenticate were answered, attempt 5 refused",
        "cs_invalid_window_ms = 2000               # their window; measured by init --measure-limits: waited out",
        "# The limits the target is configured with: lines \"measured by init --measure-limits\"",
        "cs_overall_threshold = 10000              # CHECK: requests to /authenticate before the lockout",
        // Nothing declared shows it, so it is measured: 4 more with another body, then one under a
        // forged address, refused with them.
        "# Seen: the target does not trust X-Forwarded-For (measured by init --measure-limits: 4 identical invalid requests used the limit up, then the same under X-Forwarded-For: 2001:db8:",
        "was refused too: counted together).\nforwarded_for = false",
    ] {
        assert!(text.contains(line), "missing `{line}` in:\n{text}");
    }
    let target = load(&text);
    assert_eq!(
        (
            target.limits.signup_email,
            target.limits.cs_identical_invalid
        ),
        (3, 4)
    );
}

/// `init --measure-limits` against a server that trusts `X-Forwarded-For` and declares nothing: the request
/// under a forged address is answered while the one after it without the header is refused, so the file says
/// `forwarded_for = true`, and how that was seen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_measures_that_a_server_trusts_x_forwarded_for() {
    let config = Config {
        test_clock: false,
        ratelimit_headers: false,
        trust_forwarded_for: true,
        cs_identical_invalid_window_ms: 2_000,
        ..declaring(AppmixerCloud)
    };
    let text = against(config, |url| {
        let output = authconform(&[
            "init",
            "--target",
            &url,
            "--measure-limits",
            "--max-wait",
            "0",
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(
            stderr(&output).contains("plus two (one under a forged X-Forwarded-For)"),
            "{}",
            stderr(&output)
        );
        stdout(&output)
    })
    .await;
    for line in [
        "# Seen: the target trusts X-Forwarded-For (measured by init --measure-limits: 4 identical invalid requests used the limit up, then the same under X-Forwarded-For: 2001:db8:",
        "answered 401 while the next without it was refused: counted apart); each scenario gets its own client address.\nforwarded_for = true",
    ] {
        assert!(text.contains(line), "missing `{line}` in:\n{text}");
    }
    assert!(load(&text).forwarded_for);
}
