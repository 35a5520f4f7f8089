//! The OpenAPI description at `GET /openapi.json`: it names every route, and schemathesis (from PyPI) finds
//! no server error and no answer that breaks it, on every profile.

use std::process::Command;

use authconform_reference_server::AppmixerProfile::{Appmixer6, Appmixer51, AppmixerCloud};

use crate::support::{config, start_listening, start_profile};

#[tokio::test]
async fn the_description_is_served_and_names_every_route() {
    let server = start_profile(Appmixer6).await;
    let answer = server.get("/openapi.json", None).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json["openapi"], "3.1.0");
    for path in [
        "/user/auth",
        "/user",
        "/authenticate",
        "/.well-known/jwks.json",
        "/healthz",
        "/_authconform/clock",
    ] {
        assert!(
            answer.json["paths"][path].is_object(),
            "{path} is not described"
        );
    }
}

/// Runs when `schemathesis` is on PATH; `.ci/run` installs it and sets `AUTHCONFORM_REQUIRE_SCHEMATHESIS=1`
/// so that a missing install fails instead of skipping.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_schema_violation() {
    let available = Command::new("schemathesis")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        assert!(
            std::env::var_os("AUTHCONFORM_REQUIRE_SCHEMATHESIS").is_none(),
            "schemathesis is required here but not installed (pip install schemathesis)"
        );
        eprintln!("skipped: schemathesis is not installed (pip install schemathesis)");
        return;
    }
    for profile in [Appmixer51, Appmixer6, AppmixerCloud] {
        let server = start_listening(config(profile)).await;
        let token = server.admin_token().await;
        let url = server.url("/openapi.json");
        // schemathesis keeps a cache in its working directory: keep it out of the checkout.
        let scratch = tempfile::tempdir().unwrap();
        let scratch_path = scratch.path().to_owned();
        let output = tokio::task::spawn_blocking(move || {
            Command::new("schemathesis")
                .current_dir(&scratch_path)
                .args([
                    "run",
                    &url,
                    "--checks",
                    "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance",
                    "--max-examples",
                    "25",
                    "--seed",
                    "1",
                    "--header",
                    &format!("Authorization: Bearer {token}"),
                ])
                .env("NO_COLOR", "1")
                .output()
                .expect("schemathesis runs")
        })
        .await
        .unwrap();
        let report = String::from_utf8_lossy(&output.stdout);
        let summary: Vec<&str> = report.lines().filter(|l| l.contains("generated")).collect();
        println!("schemathesis {}: {}", profile.as_str(), summary.join(" "));
        assert!(
            output.status.success(),
            "schemathesis found problems on {}:\n{report}\n{}",
            profile.as_str(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
