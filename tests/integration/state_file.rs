//! The state file: a real-clock run records the signups it sent, the next `plan` and run count those still
//! inside a window, and a corrupt or foreign file is a clear error (exit 2), never a silent reset.

use authconform_reference_server::{AppmixerProfile, Config, SeedAccount};

use crate::cli::{authconform, stderr, stdout};

/// A reference server that does not trust `X-Forwarded-For`, with an IP window of a minute.
fn one_address() -> Config {
    Config {
        profile: AppmixerProfile::AppmixerCloud,
        signup_rate_limit_ip: 50,
        signup_rate_limit_ip_window_ms: 60_000,
        admin: SeedAccount {
            username: "admin@example.com".into(),
            email: Some("admin@example.com".into()),
            password: "state-admin".into(),
        },
        trust_forwarded_for: false,
        ..Config::default()
    }
}

/// The signups a state file holds from the runner's own address.
fn direct_signups(state: &serde_json::Value) -> u64 {
    state["signups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|sent| sent["address"] == "direct")
        .map(|sent| sent["count"].as_u64().unwrap())
        .sum()
}

/// The state file `init --output FOLDER/STEM.toml` keeps beside the target file it writes.
fn kept_beside(folder: &std::path::Path, stem: &str) -> std::path::PathBuf {
    folder
        .join(".authconform")
        .join(format!("{stem}.state.json"))
}

fn read_json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

async fn server() -> authconform_reference_server::RunningServer {
    crate::support::start_reference(one_address()).await
}

/// What every run here is told of its target: the URL, its profile, a real clock and the admin.
fn real_target(url: &str) -> [&str; 8] {
    [
        "--target",
        url,
        "--profile",
        "appmixer-cloud",
        "--clock",
        "real",
        "--admin",
        "admin@example.com:state-admin",
    ]
}

/// The target flags, with `--state STATE`, or `--no-state` when `state` is empty.
fn target<'a>(url: &'a str, state: &'a str) -> Vec<&'a str> {
    real_target(url)
        .into_iter()
        .chain([
            "--limit",
            "signup_ip=50",
            "--limit",
            "signup_ip_window_ms=60000",
        ])
        .chain(match state {
            "" => vec!["--no-state"],
            path => vec!["--state", path],
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_remembers_its_signups_and_the_next_plan_counts_them() {
    let server = server().await;
    let url = server.base_url();
    let folder = tempfile::tempdir().unwrap();
    let state = folder.path().join("nested").join("staging.state.json");
    let state = state.to_str().unwrap();

    let before = authconform(&[&["plan"][..], &target(&url, state)].concat());
    assert!(before.status.success(), "{before:?}");
    assert!(
        stdout(&before)
            .contains("carried over from earlier runs (state file): nothing still counts"),
        "{}",
        stdout(&before)
    );

    let run = authconform(
        &[
            &["run"][..],
            &target(&url, state),
            &["--only", "signup-is-open-by-default", "--format", "json=-"],
        ]
        .concat(),
    );
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(state).expect("the run wrote its state"))
            .unwrap();
    assert_eq!(written["format"], "authconform-state");
    assert_eq!(
        written["base_url"],
        url.trim_end_matches('/').to_owned() + "/"
    );
    let direct = direct_signups(&written);
    assert_eq!(
        direct, 2,
        "the run's signup and the one of the probe for declared limits, from the runner's address: {written:#}"
    );
    let cost = written["request_costs"]["POST /user"].as_u64();
    assert!(
        cost.is_some_and(|us| us > 0),
        "what a signup took is kept for the next plan: {written:#}"
    );

    let after = authconform(&[&["plan"][..], &target(&url, state)].concat());
    assert!(after.status.success(), "{after:?}");
    assert!(
        stdout(&after).contains("2 signup(s) from this address still count toward the IP window"),
        "{}",
        stdout(&after)
    );
    assert!(
        stdout(&after).contains(
            "request costs measured by an earlier run (state file) for 1 of its requests"
        ),
        "{}",
        stdout(&after)
    );

    let ignored = authconform(&[&["plan"][..], &target(&url, "")].concat());
    assert!(ignored.status.success(), "{ignored:?}");
    assert!(
        !stdout(&ignored).contains("carried over"),
        "--no-state reads nothing: {}",
        stdout(&ignored)
    );
}

#[test]
fn a_corrupt_or_foreign_state_file_stops_the_run_before_anything_is_sent() {
    let folder = tempfile::tempdir().unwrap();
    let state = folder.path().join("t.state.json");
    let state_text = state.to_str().unwrap();
    // Nothing listens here: a state file that cannot be read stops the run before any request.
    let url = "http://127.0.0.1:9/";

    std::fs::write(
        &state,
        "{\n  \"format\": \"authconform-state\",\n  nope\n}\n",
    )
    .unwrap();
    let corrupt = authconform(&[&["run"][..], &target(url, state_text)].concat());
    assert_eq!(corrupt.status.code(), Some(2), "{corrupt:?}");
    let message = stderr(&corrupt);
    assert!(message.contains("t.state.json:3:3"), "{message}");
    assert!(message.contains("--no-state"), "{message}");
    assert!(
        std::fs::read_to_string(&state).unwrap().contains("nope"),
        "the file is left as it was"
    );

    std::fs::write(
        &state,
        r#"{"format": "authconform-state", "version": 1, "base_url": "http://127.0.0.1:8/", "signups": []}"#,
    )
    .unwrap();
    let foreign = authconform(&[&["plan"][..], &target(url, state_text)].concat());
    assert_eq!(foreign.status.code(), Some(2), "{foreign:?}");
    assert!(
        stderr(&foreign)
            .contains("is the state of http://127.0.0.1:8/, not of http://127.0.0.1:9/"),
        "{}",
        stderr(&foreign)
    );
}

/// `init --output FILE` keeps its probes' signups in the state file beside FILE. When that file holds the
/// state of the target FILE described before, `init` stops before sending anything (nothing listens at the
/// URL given, so a probe would have ended it otherwise), leaving the folder as it was; `--force` replaces
/// the state with the new target's, and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_over_another_targets_state_stops_before_probing_unless_forced() {
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("staging.toml");
    let file_text = file.to_str().unwrap();
    let kept = kept_beside(folder.path(), "staging");
    let state_of = || read_json(&kept);
    let first = server().await;
    let init = |url: &str, force: bool| {
        let mut args = vec!["init", "--target", url, "--output", file_text];
        if force {
            args.push("--force");
        }
        args.extend(["--admin", "admin@example.com:state-admin"]);
        authconform(&args)
    };
    let written = init(&first.base_url(), false);
    assert!(written.status.success(), "{}", stderr(&written));
    let before = std::fs::read_to_string(&kept).unwrap();
    assert_eq!(
        state_of()["base_url"].as_str(),
        Some(format!("{}/", first.base_url()).as_str())
    );

    std::fs::remove_file(&file).unwrap();
    let nothing_listens = "http://127.0.0.1:9";
    let refused = init(nothing_listens, false);
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    let message = stderr(&refused);
    assert!(
        message.contains("staging.state.json holds the state of http://127.0.0.1:")
            && message.contains("not the state of http://127.0.0.1:9/ that ")
            && message.contains("--force"),
        "{message}"
    );
    assert!(!file.exists(), "no target file is written");
    assert_eq!(
        std::fs::read_to_string(&kept).unwrap(),
        before,
        "the state is left as it was"
    );

    let second = server().await;
    let forced = init(&second.base_url(), true);
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert!(
        stderr(&forced).contains("replaced ") && stderr(&forced).contains("it held the state of"),
        "{}",
        stderr(&forced)
    );
    assert_eq!(
        state_of()["base_url"].as_str(),
        Some(format!("{}/", second.base_url()).as_str()),
        "the state is the new target's"
    );
    assert!(direct_signups(&state_of()) > 0, "with its probes' signups");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signups_an_earlier_run_left_inside_the_window_make_the_next_run_wait_for_room() {
    let server = server().await;
    let url = server.base_url();
    let folder = tempfile::tempdir().unwrap();
    let state = folder.path().join("t.state.json");
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    // The whole IP limit (50) was used half a second ago from the runner's address: the next signup fits
    // only once those are a window (2 s) and the margin (1 s) old.
    let earlier = serde_json::json!({
        "format": "authconform-state",
        "version": 1,
        "base_url": url.trim_end_matches('/').to_owned() + "/",
        "signups": [{ "address": "direct", "at_unix_ms": now_ms - 500, "count": 50 }],
    });
    std::fs::write(&state, earlier.to_string()).unwrap();
    let mut args = vec!["run"];
    args.extend(target(&url, state.to_str().unwrap()));
    args.extend([
        "--limit",
        "signup_ip_window_ms=2000",
        "--only",
        "signup-is-open-by-default",
        "--format",
        "json=-",
    ]);
    let run = authconform(&args);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let report: serde_json::Value = serde_json::from_str(&stdout(&run)).unwrap();
    let waits = &report["targets"][0]["scenarios"][0]["waits"];
    let waited_ms: u64 = waits
        .as_array()
        .unwrap()
        .iter()
        .map(|wait| wait["end_ms"].as_u64().unwrap() - wait["start_ms"].as_u64().unwrap())
        .sum();
    assert!(
        (2_000..=2_600).contains(&waited_ms),
        "waited {waited_ms} ms for room under the IP limit: {waits}"
    );
}

#[test]
fn the_plan_takes_what_each_request_cost_on_the_target_last_time() {
    let folder = tempfile::tempdir().unwrap();
    let state = folder.path().join("t.state.json");
    let url = "http://127.0.0.1:9/";
    let projected = |state: &str| -> u64 {
        let mut args = vec!["plan"];
        args.extend(target(url, state));
        args.extend(["--only", "signup-ip-limit", "--format", "json"]);
        let output = authconform(&args);
        assert!(output.status.success(), "{output:?}");
        let plan: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
        plan["targets"][0]["projected_ms"].as_u64().unwrap()
    };
    let state_path = state.to_str().unwrap();
    let first = projected(state_path);
    // Signups that hash a slow password: 200 ms each instead of the 2 ms a plan takes without a measure.
    let earlier = serde_json::json!({
        "format": "authconform-state",
        "version": 1,
        "base_url": url,
        "signups": [],
        "request_costs": { "POST /user": 200_000 },
    });
    std::fs::write(&state, earlier.to_string()).unwrap();
    let measured = projected(state_path);
    let rounds = (measured - first) / (200 - 2);
    assert_eq!(
        (measured - first) % (200 - 2),
        0,
        "each round of POST /user at its measured cost: {first} ms, then {measured} ms"
    );
    assert!(
        rounds > 50,
        "the IP check's signups, one at a time: {rounds}"
    );
    assert_eq!(projected(""), first, "--no-state reads nothing");
}

/// The flags of a run against a server with short signup windows (limits 3 and 8 per 2 s).
fn short_windows(url: &str) -> Vec<String> {
    real_target(url)
        .into_iter()
        .chain([
            "--limit",
            "signup_email=3",
            "--limit",
            "signup_email_window_ms=2000",
            "--limit",
            "signup_ip=8",
            "--limit",
            "signup_ip_window_ms=2000",
        ])
        .map(str::to_owned)
        .collect()
}

/// On one client address the IP check counts in the signup the declared-limits probe had accepted just
/// before (the state file knows every signup of the address), and waits out what it cannot count: the
/// probe without a state file. The signups `init`'s probes sent are added to the state file the run reads
/// and keeps.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ip_check_counts_the_probes_signup_in_and_waits_out_what_it_cannot_count() {
    // A fresh server for each run, so each starts from an empty IP window.
    let fresh = || {
        crate::support::start_reference(Config {
            ratelimit_headers: true,
            signup_rate_limit_email: 3,
            signup_rate_limit_email_window_ms: 2_000,
            signup_rate_limit_ip: 8,
            signup_rate_limit_ip_window_ms: 2_000,
            ..one_address()
        })
    };
    let folder = tempfile::tempdir().unwrap();
    // The IP check on its own: the steps it waited in, how long its first wait took (the one before it
    // starts, when it has one), and its report.
    let ip_check = |args: &[&str]| -> (Vec<String>, u64, String) {
        let mut all = vec!["run"];
        all.extend_from_slice(args);
        all.extend(["--only", "signup-ip-limit", "--format", "json=-"]);
        let run = authconform(&all);
        assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
        let report: serde_json::Value = serde_json::from_str(&stdout(&run)).unwrap();
        let scenario = &report["targets"][0]["scenarios"][0];
        assert_eq!(scenario["verdict"], "pass", "{scenario}");
        let waits = scenario["waits"].as_array().unwrap();
        let steps = waits
            .iter()
            .map(|wait| wait["step"].as_str().unwrap().to_owned())
            .collect();
        let first_ms = waits
            .first()
            .map(|wait| wait["end_ms"].as_u64().unwrap() - wait["start_ms"].as_u64().unwrap())
            .unwrap_or(0);
        (steps, first_ms, report.to_string())
    };
    let starts_at_once = |steps: &[String]| {
        !steps
            .iter()
            .any(|step| step.starts_with("start from an IP window"))
    };

    let server = fresh().await;
    let state = folder.path().join("t.state.json");
    let mut args = short_windows(&server.base_url());
    args.extend(["--state".to_owned(), state.display().to_string()]);
    let (steps, _, _) = ip_check(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        starts_at_once(&steps),
        "the probe's signup is counted in: {steps:?}"
    );
    let saved = std::fs::read_to_string(&state).unwrap();
    assert!(saved.contains("\"counted\": true"), "{saved}");

    let server = fresh().await;
    let mut args = short_windows(&server.base_url());
    args.push("--no-state".to_owned());
    let (steps, first_ms, _) = ip_check(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(!starts_at_once(&steps), "without a state file: {steps:?}");
    assert!((1_900..=3_200).contains(&first_ms), "waited {first_ms} ms");

    // init's probes are kept beside the target file it writes; the run reads them there.
    let server = fresh().await;
    let file = folder.path().join("staging.toml");
    let init = authconform(&[
        "init",
        "--target",
        &server.base_url(),
        "--admin",
        "admin@example.com:state-admin",
        "--output",
        file.to_str().unwrap(),
    ]);
    assert!(init.status.success(), "{}", stderr(&init));
    let kept = kept_beside(folder.path(), "staging");
    let read_state = || read_json(&kept);
    let by_init = read_state()["signups"][0].clone();
    assert!(by_init["count"].as_u64().unwrap() > 0, "{by_init}");
    assert!(
        read_state()["ip_window_read"]["held"].as_u64().is_some(),
        "what the target said its IP window held, for the next plan: {}",
        read_state()
    );
    let (_, _, report) = ip_check(&["--target-file", file.to_str().unwrap()]);
    assert!(
        !report.contains("signups it did not send"),
        "the IP check does not meet its limit early: {report}"
    );
    assert_eq!(
        read_state()["signups"][0],
        by_init,
        "the run read them, and keeps them"
    );
}

/// Back to back on one address: the first run ends with signups a target may or may not count (refusals,
/// attempts failing validation). When the target says how many its IP window holds (`RateLimit` `r` on
/// the probe's answer), the second run's IP check counts them in at once, and passes; when it does not
/// say, the check waits them out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_run_counts_in_what_the_target_says_its_ip_window_holds() {
    let folder = tempfile::tempdir().unwrap();
    let back_to_back = |declares: bool| {
        let folder = folder.path().to_owned();
        async move {
            let server = crate::support::start_reference(Config {
                ratelimit_headers: declares,
                signup_rate_limit_email: 3,
                signup_rate_limit_email_window_ms: 6_000,
                signup_rate_limit_ip: 20,
                signup_rate_limit_ip_window_ms: 6_000,
                ..one_address()
            })
            .await;
            let state = folder.join(format!("declares-{declares}.state.json"));
            let url = server.base_url();
            let target_args = |command: &'static str, only: &'static str| -> Vec<String> {
                let mut args: Vec<&str> = vec![command];
                args.extend(real_target(&url));
                args.extend([
                    "--limit",
                    "signup_email=3",
                    "--limit",
                    "signup_email_window_ms=6000",
                    "--limit",
                    "signup_ip=20",
                    "--limit",
                    "signup_ip_window_ms=6000",
                    "--state",
                    state.to_str().unwrap(),
                    "--only",
                    only,
                ]);
                args.into_iter().map(str::to_owned).collect()
            };
            let run = |only: &'static str| -> serde_json::Value {
                let mut args = target_args("run", only);
                args.extend(["--format".to_owned(), "json=-".to_owned()]);
                let output = authconform(&args.iter().map(String::as_str).collect::<Vec<_>>());
                assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
                serde_json::from_str(&stdout(&output)).unwrap()
            };
            run("signup-validation-failures-and-the-email-limit");
            let first: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
            let args = target_args("plan", "signup-ip-limit");
            let plan = authconform(&args.iter().map(String::as_str).collect::<Vec<_>>());
            assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
            let report = run("signup-ip-limit");
            let second: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
            (first, stdout(&plan), report, second)
        }
    };
    let waited = |report: &serde_json::Value| -> Vec<String> {
        report["targets"][0]["scenarios"][0]["waits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|wait| wait["step"].as_str().unwrap().to_owned())
            .filter(|step| step.starts_with("start from an IP window"))
            .collect()
    };

    let (first, plan, report, second) = back_to_back(true).await;
    assert!(
        plan.contains("the target told the last run how many count"),
        "{plan}"
    );
    let unsure = first["signups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|sent| sent["counted"].as_bool() != Some(true))
        .count();
    assert!(
        unsure > 0,
        "the first run leaves signups of unknown counting: {first}"
    );
    assert!(
        first["ip_window_read"]["held"].as_u64().is_some(),
        "{first}"
    );
    assert_eq!(
        report["targets"][0]["scenarios"][0]["verdict"], "pass",
        "{report}"
    );
    assert_eq!(waited(&report), Vec::<String>::new(), "counted in at once");
    assert!(
        second["ip_window_read"]["held"].as_u64().unwrap() > 1,
        "{second}"
    );

    let (first, plan, report, _) = back_to_back(false).await;
    assert!(first.get("ip_window_read").is_none(), "{first}");
    assert!(
        plan.contains("may or may not count (refused, or invalid) and are waited out"),
        "{plan}"
    );
    assert_eq!(
        report["targets"][0]["scenarios"][0]["verdict"], "pass",
        "{report}"
    );
    assert_eq!(waited(&report).len(), 1, "waited out: {report}");
}

/// Signups the state file does not know (another client behind the same address) make the IP check that
/// counted in what it knew meet the limit early: it repeats its sequence once from an empty window and
/// passes, saying why. A limit that really is lower fails both times.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ip_limit_met_early_after_counting_in_is_checked_again_from_an_empty_window() {
    let run = |url: &str, state: &std::path::Path| -> serde_json::Value {
        let mut args = vec!["run".to_owned()];
        args.extend(short_windows(url));
        args.extend(
            [
                "--state",
                state.to_str().unwrap(),
                "--only",
                "signup-ip-limit",
                "--format",
                "json=-",
            ]
            .map(str::to_owned),
        );
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = authconform(&args);
        assert!(
            output.status.code().unwrap_or(3) <= 1,
            "{}",
            stderr(&output)
        );
        serde_json::from_str(&stdout(&output)).unwrap()
    };
    let verdict_of = |report: &serde_json::Value, id: &str| -> String {
        report["targets"][0]["requirements"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .map(|r| r["verdict"].as_str().unwrap().to_owned())
            .unwrap()
    };
    let folder = tempfile::tempdir().unwrap();
    let limits = |ip: u64| Config {
        signup_rate_limit_email: 3,
        signup_rate_limit_email_window_ms: 2_000,
        signup_rate_limit_ip: ip,
        signup_rate_limit_ip_window_ms: 2_000,
        ..one_address()
    };

    // Two signups from this machine's address just before the run: the run never sent them.
    let server = crate::support::start_reference(limits(8)).await;
    let client = reqwest::Client::new();
    for n in 0..2 {
        let email = format!("elsewhere-{n}@example.com");
        let answer = client
            .post(format!("{}/user", server.base_url()))
            .json(&serde_json::json!({ "username": email, "email": email, "password": "elsewhere-password" }))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
    }
    let report = run(&server.base_url(), &folder.path().join("a.state.json"));
    assert_eq!(verdict_of(&report, "AM-SIGNUP-RL-02"), "pass", "{report}");
    let text = report.to_string();
    assert!(
        text.contains("signups it did not send") && text.contains("repeated once from step 1"),
        "{text}"
    );

    // A limit one lower than the target is described with meets the same count both times.
    let server = crate::support::start_reference(limits(7)).await;
    let report = run(&server.base_url(), &folder.path().join("b.state.json"));
    assert_eq!(verdict_of(&report, "AM-SIGNUP-RL-02"), "fail", "{report}");
    assert!(report.to_string().contains("signups it did not send"));
}

/// Ctrl-C in the middle of a real-clock run: the wait under way ends at once, the checks not done are
/// inconclusive with the reason, and the reports and the state file are still written, with the signups
/// already sent; the exit code is 130.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_stopped_by_ctrl_c_still_writes_its_report_and_its_state() {
    let server = server().await;
    let url = server.base_url();
    let folder = tempfile::tempdir().unwrap();
    let state = folder.path().join("staging.state.json");
    let report = folder.path().join("report.json");
    let args: Vec<String> = [&["run"][..], &target(&url, state.to_str().unwrap())]
        .concat()
        .into_iter()
        .map(str::to_owned)
        .chain([
            "--only".into(),
            "signup-ip-limit".into(),
            "--format".into(),
            format!("json={}", report.display()),
            // The human report (on stdout) is the one that says its waits on stderr.
            "--format".into(),
            "human".into(),
        ])
        .collect();
    // The IP check sends its signups, then waits for its limits to end: stop it there.
    let (code, _, notices) =
        tokio::task::spawn_blocking(move || crate::cli::interrupted_at(&args, "waiting "))
            .await
            .unwrap();
    assert!(
        notices.iter().any(|line| line.starts_with("waiting")),
        "no wait was announced: {notices:?}"
    );
    assert_eq!(code, Some(130), "{notices:#?}");
    assert!(
        notices
            .iter()
            .any(|line| line.starts_with("interrupted: stopping")),
        "{notices:#?}"
    );

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("the report is written"))
            .unwrap();
    let notes: Vec<&str> = report["targets"][0]["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|requirement| requirement["findings"].as_array().unwrap())
        .filter(|finding| finding["severity"] == "inconclusive")
        .filter_map(|finding| finding["note"].as_str())
        .collect();
    assert!(
        notes
            .iter()
            .any(|note| note.contains("interrupted (Ctrl-C)")),
        "the checks not done say why: {notes:#?}"
    );
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state).expect("the state is written"))
            .unwrap();
    let direct = direct_signups(&written);
    assert!(
        direct > 50,
        "the IP check's signups (the limit and more) are remembered: {written:#}"
    );
}
