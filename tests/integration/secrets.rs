//! The secrets audit: a whole run against a reference server that fails several checks and echoes passwords
//! leaves no password, signing secret or token in any report (human, JSON, JUnit, HTML, goose's) or in anything
//! the runner printed, unless `--show-secrets` asks for them.

use std::path::Path;
use std::process::Output;

use authconform_reference_server::Fault;
use authconform_reference_server::{AppmixerProfile, Config, SeedAccount};

use crate::cli::authconform;

const ADMIN_PASSWORD: &str = "audit-Admin-Password-7";
const CONNECT_PASSWORD: &str = "audit-Connect-Password-8";
const JWT_SECRET: &str = "audit-jwt-signing-secret-9";

/// Every place a secret could end up: the printed output and every file written under `dir`.
fn everything_written(output: &Output, dir: &Path) -> Vec<(String, String)> {
    let mut texts = vec![
        (
            "stdout".to_owned(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        ),
        (
            "stderr".to_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ),
    ];
    let mut pending = vec![dir.to_owned()];
    while let Some(at) = pending.pop() {
        for entry in std::fs::read_dir(&at).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext != "toml") {
                let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
                texts.push((path.display().to_string(), text));
            }
        }
    }
    texts
}

/// The secrets found in `texts`, named with where they were found.
fn leaks(texts: &[(String, String)]) -> Vec<String> {
    let token =
        regex::Regex::new(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}").unwrap();
    let mut found = Vec::new();
    for (place, text) in texts {
        for secret in [ADMIN_PASSWORD, CONNECT_PASSWORD, JWT_SECRET] {
            if text.contains(secret) {
                found.push(format!("{place}: {secret}"));
            }
        }
        if let Some(jwt) = token.find(text) {
            found.push(format!("{place}: a token {}…", &jwt.as_str()[..20]));
        }
    }
    found
}

/// `authconform run` with every report format, the JSON and JUnit reports written into `dir`.
fn run_with_reports(target_file: &Path, dir: &Path, extra: &[&str]) -> Output {
    let json = format!("json={}", dir.join("report.json").display());
    let junit = format!("junit={}", dir.join("report.xml").display());
    let html = format!("html={}", dir.join("report.html").display());
    let mut args = vec![
        "run",
        "--target-file",
        target_file.to_str().unwrap(),
        "--format",
        "human",
        "--format",
        &json,
        "--format",
        &junit,
        "--format",
        &html,
    ];
    args.extend_from_slice(extra);
    authconform(&args)
}

#[tokio::test(flavor = "multi_thread")]
async fn no_report_or_output_carries_a_password_or_token() {
    let config = Config {
        profile: AppmixerProfile::Appmixer6,
        test_clock: true,
        cs_overall_threshold: 300,
        appmixer_jwt_secret: Some(JWT_SECRET.into()),
        admin: SeedAccount {
            username: "admin@example.com".into(),
            email: None,
            password: ADMIN_PASSWORD.into(),
        },
        creditsafe_account: SeedAccount {
            username: "connect-user".into(),
            email: None,
            password: CONNECT_PASSWORD.into(),
        },
        // Failing checks print their exchanges and curl reproductions; an echoed password tests the masking.
        faults: vec![
            Fault::PasswordEchoed,
            Fault::SignInWithoutToken,
            Fault::ConnectTokenRenamed,
        ],
        ..Config::default()
    };
    let server = crate::support::start_reference(config).await;
    let dir = tempfile::tempdir().unwrap();
    let target_file = dir.path().join("target.toml");
    std::fs::write(
        &target_file,
        format!(
            r#"base_url = "{base}"
profiles = ["appmixer-6", "creditsafe-connect"]
clock = "control"

[limits]
cs_overall_threshold = 300

[accounts.admin]
username = "admin@example.com"
password = "{ADMIN_PASSWORD}"

[accounts.creditsafe]
username = "connect-user"
password = "{CONNECT_PASSWORD}"

[secrets]
appmixer_jwt_secret = "{JWT_SECRET}"
"#,
            base = server.base_url()
        ),
    )
    .unwrap();
    let reports = dir.path().join("reports");
    std::fs::create_dir_all(&reports).unwrap();
    let (run, load) = tokio::task::spawn_blocking({
        let reports = reports.clone();
        let target_file = target_file.clone();
        move || {
            let run = run_with_reports(&target_file, &reports, &[]);
            let load = authconform(&[
                "load",
                "signin",
                "--target-file",
                target_file.to_str().unwrap(),
                "--requests",
                "20",
                "--users",
                "4",
                "--report-dir",
                reports.join("goose").to_str().unwrap(),
                "--format",
                "human",
                "--format",
                &format!("json={}", reports.join("load.json").display()),
            ]);
            (run, load)
        }
    })
    .await
    .unwrap();
    assert_eq!(
        run.status.code(),
        Some(1),
        "the faults fail checks: {}",
        crate::cli::stderr(&run)
    );
    assert!(
        matches!(load.status.code(), Some(0 | 1)),
        "the load run completes: {}",
        crate::cli::stderr(&load)
    );
    let human = crate::cli::stdout(&run);
    assert!(
        human.contains("curl "),
        "failures show their reproduction:\n{human}"
    );
    let mut texts = everything_written(&run, &reports);
    texts.extend(everything_written(&load, &reports).into_iter().take(2));
    let found = leaks(&texts);
    assert!(
        found.is_empty(),
        "secrets in the output:\n{}",
        found.join("\n")
    );

    // The audit can fail: asked to show secrets, the same run prints them.
    let shown_dir = dir.path().join("shown");
    std::fs::create_dir_all(&shown_dir).unwrap();
    let shown = tokio::task::spawn_blocking(move || {
        run_with_reports(&target_file, &shown_dir, &["--show-secrets"])
    })
    .await
    .unwrap();
    let shown_leaks = leaks(&everything_written(&shown, &dir.path().join("shown")));
    assert!(
        shown_leaks
            .iter()
            .any(|leak| leak.contains(CONNECT_PASSWORD))
            && shown_leaks.iter().any(|leak| leak.contains("a token")),
        "--show-secrets shows passwords and tokens: {shown_leaks:?}"
    );
    server.shutdown().await.unwrap();
}
