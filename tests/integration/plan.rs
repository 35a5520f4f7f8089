//! `authconform plan`: the schedule a run would follow, printed before anything is sent.

use crate::cli::{authconform, stdout};

/// The documented window ratios scaled by 1/60, on a real clock (what scripts/bench-real-mode.sh runs).
const SCALED: &[&str] = &[
    "plan",
    // Nothing listens here: planning sends nothing.
    "--target",
    "http://127.0.0.1:9",
    "--profile",
    "appmixer-cloud",
    "--profile",
    "creditsafe-connect",
    "--clock",
    "real",
    "--admin",
    "admin@example.com:secret",
    "--creditsafe",
    "connect@example.com:secret",
    "--limit",
    "signup_email_window_ms=60000",
    "--limit",
    "signup_ip_window_ms=60000",
    "--limit",
    "cs_invalid_window_ms=2000",
    "--limit",
    "cs_overall_window_ms=5000",
    "--limit",
    "cs_overall_threshold=200",
    // What an earlier run left would change the schedule: the snapshots show a first run.
    "--no-state",
];

fn plan(extra: &[&str]) -> String {
    let args: Vec<&str> = SCALED.iter().chain(extra).copied().collect();
    let output = authconform(&args);
    assert!(output.status.success(), "{output:?}");
    stdout(&output)
}

#[test]
fn a_real_clock_without_forwarded_for_puts_the_ip_check_first_and_takes_about_one_window() {
    insta::assert_snapshot!("plan_real_one_address", plan(&[]));
}

#[test]
fn a_real_clock_with_forwarded_for_runs_the_signup_checks_side_by_side() {
    insta::assert_snapshot!("plan_real_forwarded_for", plan(&["--forwarded-for"]));
}

#[test]
fn one_job_plays_the_suite_in_order() {
    let one = plan(&["--jobs", "1"]);
    let side_by_side = plan(&[]);
    assert!(one.contains("one scenario at a time"), "{one}");
    assert!(
        side_by_side.contains("up to 8 scenarios at once"),
        "{side_by_side}"
    );
}

#[test]
fn a_lockout_is_named_with_its_risk_to_every_client_of_the_server() {
    let text = plan(&[]);
    assert!(
        text.contains("/authenticate is locked out by creditsafe-lockout-after-threshold"),
        "{text}"
    );
    assert!(
        text.contains("refuses every client of this server"),
        "{text}"
    );
}

#[test]
fn an_ip_limit_too_small_for_a_scenario_is_a_warning() {
    // The e-mail check sends the e-mail limit + 5 signups from one address: 8 fit an IP limit of 8.
    let fits = plan(&["--limit", "signup_email=3", "--limit", "signup_ip=8"]);
    assert!(!fits.contains("warning:"), "{fits}");
    let small = plan(&["--limit", "signup_email=3", "--limit", "signup_ip=7"]);
    assert!(
        small.contains("warning: signup-email-limit is inconclusive on this target, nothing sent: it sends 8 signups")
            && small.contains("more than signup_ip (7)"),
        "{small}"
    );
    assert!(!plan(&[]).contains("warning:"));
}

#[test]
fn an_ip_limit_that_stretches_the_run_over_windows_is_named_with_the_limit_that_would_not() {
    let json = |extra: &[&str]| -> serde_json::Value {
        let with_format: Vec<&str> = extra.iter().copied().chain(["--format", "json"]).collect();
        serde_json::from_str(&plan(&with_format)).expect("plan --format json is JSON")
    };
    let small = json(&["--limit", "signup_ip=15"]);
    let target = &small["targets"][0];
    let faster = &target["faster_with"];
    let limit = faster["signup_ip"].as_u64().expect("a limit is named");
    assert!(limit > 15, "{faster}");
    assert!(
        faster["projected_ms"].as_u64().unwrap() + 60_000
            <= target["projected_ms"].as_u64().unwrap(),
        "it saves a signup window at least: {target}"
    );
    // At the limit it names, the run takes what it said, and there is nothing more to say.
    let raised = json(&["--limit", &format!("signup_ip={limit}")]);
    assert_eq!(raised["targets"][0]["projected_ms"], faster["projected_ms"]);
    assert!(raised["targets"][0]["faster_with"].is_null(), "{raised}");
    let text = plan(&["--limit", "signup_ip=15"]);
    assert!(
        text.contains(&format!(
            "with signup_ip = {limit} or more (Appmixer's USER_SIGNUP_RATE_LIMIT_IP"
        )),
        "{text}"
    );
    // The documented 50 already lets every other check's signups through in one window.
    assert!(json(&[])["targets"][0]["faster_with"].is_null());
    assert!(!plan(&[]).contains("sooner:"));
}

/// On a real clock, a window aligned to the clock may start its count afresh inside a limit sequence; the
/// check then repeats that sequence once, from the wait before it. The plan says what the costliest such
/// repeat would make of the run, among sequences long enough to meet a boundary often: with a lockout
/// window of 20 s the lockout checks end the run, and the first one's sequence spans half its window, so
/// its repeat (a lockout window to start over from, its requests again) lengthens the run by as much. A
/// repeat off the run's path (the lockout window of 5 s, its checks done long before the signup windows
/// end) and a test clock's (its waits cost nothing) are not projected.
#[test]
fn a_repeat_after_a_clock_boundary_is_projected_with_the_check_it_would_cost() {
    let json = |args: &[&str]| -> serde_json::Value {
        let output = authconform(args);
        assert!(output.status.success(), "{output:?}");
        serde_json::from_str(&stdout(&output)).expect("plan --format json is JSON")
    };
    let real: Vec<&str> = SCALED
        .iter()
        .map(|arg| match *arg {
            "cs_overall_window_ms=5000" => "cs_overall_window_ms=20000",
            other => other,
        })
        .chain(["--format", "json"])
        .collect();
    let target = &json(&real)["targets"][0];
    let repeat = &target["with_boundary_repeat"];
    assert_eq!(
        repeat["scenario"], "creditsafe-lockout-after-threshold",
        "{target}"
    );
    let chance = repeat["chance_percent"].as_u64().unwrap();
    assert!((50..60).contains(&chance), "{repeat}");
    let added = repeat["projected_ms"].as_u64().unwrap() - target["projected_ms"].as_u64().unwrap();
    assert!((20_000..25_000).contains(&added), "{added} ms: {target}");
    let scaled: Vec<&str> = SCALED.iter().copied().chain(["--format", "json"]).collect();
    assert!(json(&scaled)["targets"][0]["with_boundary_repeat"].is_null());
    let scenario = "creditsafe-lockout-after-threshold";
    let text = stdout(&authconform(&real[..real.len() - 2]));
    assert!(
        text.contains("up to about ") && text.contains(&format!("on windows aligned to the clock, when a boundary falls inside a limit sequence: {scenario} then repeats it once")),
        "{text}"
    );
    let control: Vec<&str> = real
        .iter()
        .map(|arg| if *arg == "real" { "control" } else { arg })
        .collect();
    assert!(json(&control)["targets"][0]["with_boundary_repeat"].is_null());
}
