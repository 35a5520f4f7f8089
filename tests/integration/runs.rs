//! The `authconform` binary running the built-in suite: exit codes 0, 1 and 3, scenario diagnostics, the
//! requirement listing, and a closed stdout.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::cli::{authconform, stderr, stdout};

/// A vendor scenario directory with one scenario: `GET /user` without a token must be 401 (AM-ME-02).
pub(crate) fn vendor_scenarios(dir: &Path) {
    std::fs::write(
        dir.join("vendor.toml"),
        r#"[[scenario]]
name = "vendor-get-user-without-token"
title = "GET /user without a token is refused"
covers = ["AM-ME-02"]

[[scenario.step]]
request.method = "GET"
request.path = "/user"
expect.status = 401
"#,
    )
    .unwrap();
}

async fn run_vendor_scenario_against(status: u16) -> Output {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(ResponseTemplate::new(status))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    vendor_scenarios(dir.path());
    let uri = server.uri();
    let dir_path = dir.path().to_owned();
    tokio::task::spawn_blocking(move || {
        authconform(&[
            "run",
            "--target",
            &uri,
            "--profile",
            "appmixer-6",
            "--scenarios",
            dir_path.to_str().unwrap(),
            "--only",
            "vendor-*",
        ])
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_conforming_target_exits_0() {
    let output = run_vendor_scenario_against(401).await;
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    let text = stdout(&output);
    // The quiet report lists the passes by id.
    assert!(text.contains("PASS 1 AM-ME-02\n"), "{text}");
    assert!(text.contains("1 passed, 0 failed"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_requirement_exits_1_and_shows_how_to_reproduce_it() {
    let output = run_vendor_scenario_against(200).await;
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    let text = stdout(&output);
    assert!(text.contains("FAIL AM-ME-02 (must)"), "{text}");
    assert!(text.contains("expected: status 401"), "{text}");
    assert!(
        text.contains("reproduce: curl -i http://127.0.0.1:"),
        "{text}"
    );
}

#[test]
fn an_unreachable_target_exits_3() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let url = format!("http://{address}");
    let output = authconform(&["run", "--target", &url, "--profile", "appmixer-6"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("is unreachable"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn bad_scenarios_exit_2_with_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "[[scenario]]\nname = \"bad\"\ntitle = \"bad\"\ncovers = [\"NO-SUCH-ID\"]\n\n[[scenario.step]]\nrequest.method = \"GET\"\nrequest.path = \"/\"\n",
    )
    .unwrap();
    let output = authconform(&["check-scenarios", dir.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("bad.toml:4:"), "{err}");

    vendor_scenarios(dir.path());
    std::fs::remove_file(dir.path().join("bad.toml")).unwrap();
    let output = authconform(&["check-scenarios", dir.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).starts_with("ok: 1 scenarios in 1 files"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn requirements_lists_the_catalogue_with_covering_scenarios() {
    let output = authconform(&["requirements", "--format", "json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let listing: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let listing = listing.as_array().unwrap();
    assert!(listing.iter().any(|r| r["id"] == "CS-INVALID-01"));
    for requirement in listing {
        assert!(
            !requirement["scenarios"].as_array().unwrap().is_empty(),
            "{} is covered by a scenario",
            requirement["id"]
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_closed_stdout_exits_0_quietly() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    vendor_scenarios(dir.path());
    let uri = server.uri();
    let dir_path = dir.path().to_owned();
    let output = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_authconform"))
            .args([
                "run",
                "--target",
                &uri,
                "--profile",
                "appmixer-6",
                "--only",
                "vendor-*",
                "--scenarios",
            ])
            .arg(&dir_path)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Close the read end before the report is written.
        drop(child.stdout.take());
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).is_empty(), "{}", stderr(&output));
}
