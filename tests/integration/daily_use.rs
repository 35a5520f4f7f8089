//! Daily use in CI and at a desk: expectations files (an expected failure passes, a stale or expired entry
//! fails), the GitHub summary and annotations, the quiet default human report of a broken server, a
//! selection of nothing exiting 2, shell completions and the man page, `init` against the reference server,
//! and the load report's page of charts (rendered by Chromium when installed).

use std::path::Path;
use std::sync::Arc;

use authconform::engine::{
    self, EngineEvent, ExpectationProblemKind, RunPlan, RunReport, Selection, TargetPlan, Verdict,
};
use authconform::expectations::{self, Day, Expectations};
use authconform::report::{
    GithubReporter, HtmlReporter, HumanReporter, JsonReporter, JunitReporter, ReporterSet,
    github_annotations, github_markdown, prepare_run,
};
use authconform::suite;
use authconform::target::{ClockMode, TargetFlags};
use authconform_reference_server::Fault;
use authconform_reference_server::{AppmixerProfile, Config};
use authconform_scenario::model::Profile;
use serde_json::Value;

use crate::cli::{authconform, stderr, stdout};
use crate::reports::Captured;

/// The built-in suite, narrowed by `only` (empty: all), against the reference server of
/// [`crate::html_report::cloud_and_connect`] with `faults`; every event goes to `reporters`.
async fn reference_run(
    faults: Vec<Fault>,
    only: &[&str],
    reporters: &mut ReporterSet,
) -> RunReport {
    let (server, target) = crate::html_report::cloud_and_connect(faults).await;
    let suite = suite::load(&[]).expect("the built-in suite is valid");
    let only: Vec<String> = only.iter().map(|s| (*s).to_owned()).collect();
    let plan = RunPlan {
        targets: vec![TargetPlan::new(target)],
        selection: Selection::new(&only, &[]).unwrap(),
        strict: false,
        jobs: authconform::engine::DEFAULT_JOBS,
    };
    let report = engine::run(&suite, &plan, &mut |event| reporters.handle(event))
        .await
        .expect("the run completes");
    server.shutdown().await.unwrap();
    report
}

fn catalogue_ids() -> Vec<String> {
    suite::builtin_catalogue()
        .unwrap()
        .requirements
        .into_iter()
        .map(|r| r.id)
        .collect()
}

fn expectations_of(text: &str) -> Expectations {
    let ids = catalogue_ids();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let today = Day {
        year: 2026,
        month: 12,
        day: 1,
    };
    expectations::parse(Path::new("known.toml"), text, &ids, today).expect("the file is valid")
}

const PLAN_MISSING_EXPECTED: &str = r#"
[[expect]]
id = "AM-SIGNIN-02"
outcome = "fail"
reason = "the plan field ships in release 7"
until = 2099-12-31
"#;

/// Every reporter of the run writing to a buffer of its own: human (quiet), JSON, JUnit and HTML.
fn all_formats(expectations: Expectations) -> (ReporterSet, [Captured; 4]) {
    let outputs: [Captured; 4] = Default::default();
    let mut set = ReporterSet::new(false);
    set.expect(Arc::new(expectations));
    set.add(Box::new(HumanReporter::new(
        Box::new(outputs[0].clone()),
        false,
        false,
    )));
    set.add(Box::new(JsonReporter::new(Box::new(outputs[1].clone()))));
    set.add(Box::new(JunitReporter::new(Box::new(outputs[2].clone()))));
    set.add(Box::new(HtmlReporter::new(
        Box::new(outputs[3].clone()),
        false,
    )));
    (set, outputs)
}

/// AM-SIGNIN-02's scenarios on a reference server with `faults`, reported in every format through the
/// expectations of `text`: the engine's report, and the outputs (human, JSON, JUnit, HTML).
async fn signin_run(faults: Vec<Fault>, text: &str) -> (RunReport, [Captured; 4]) {
    let (mut reporters, outputs) = all_formats(expectations_of(text));
    let report = reference_run(faults, &["AM-SIGNIN-02"], &mut reporters).await;
    reporters.finish().unwrap();
    (report, outputs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expected_failure_passes_and_every_report_shows_it_as_expected() {
    let (report, [human, json, junit, html]) =
        signin_run(vec![Fault::SignInUserWithoutPlan], PLAN_MISSING_EXPECTED).await;
    // The engine judged a failure; the expectations make it expected, and the run passes.
    assert_eq!(
        crate::support::verdict(&report, "AM-SIGNIN-02"),
        Verdict::Fail
    );
    assert!(!report.passed());
    let applied = expectations_of(PLAN_MISSING_EXPECTED).apply_run(&report);
    assert_eq!(
        crate::support::verdict(&applied, "AM-SIGNIN-02"),
        Verdict::Expected
    );
    assert!(applied.passed(), "{:?}", applied.summary);
    assert_eq!(applied.summary.expected, 1);
    assert_eq!(applied.summary.failed, 0);

    let human = human.text();
    assert!(
        human.contains("EXPECTED FAIL AM-SIGNIN-02")
            && human.contains(
                "because: the plan field ships in release 7 (known.toml:3, until 2099-12-31)"
            ),
        "{human}"
    );
    assert!(human.contains("1 expected"), "{human}");

    let json: Value = serde_json::from_str(&json.text()).unwrap();
    let schema: Value =
        serde_json::from_str(include_str!("../../docs/report.schema.json")).unwrap();
    let mut problems = Vec::new();
    crate::reports::validate(&schema, &schema, &json, "$", &mut problems);
    assert!(problems.is_empty(), "{problems:#?}");
    let requirement = json["targets"][0]["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "AM-SIGNIN-02")
        .unwrap();
    assert_eq!(requirement["verdict"], "expected");
    assert_eq!(requirement["expectation"]["outcome"], "fail");
    assert_eq!(json["summary"]["expected"], 1);

    let junit = junit.text();
    assert!(
        junit.contains("expected fail: the plan field ships in release 7 (known.toml:3)"),
        "{junit}"
    );
    assert!(!junit.contains("<failure"), "{junit}");

    let html = html.text();
    assert!(
        html.contains("data-requirement=\"AM-SIGNIN-02\" data-verdict=\"expected\""),
        "the HTML report marks it expected"
    );
    assert!(html.contains("Passed: exit code 0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_expectation_fails_the_run() {
    // The correct server: the expected failure no longer happens.
    let (report, [human, json, junit, _]) = signin_run(Vec::new(), PLAN_MISSING_EXPECTED).await;
    assert!(report.passed(), "the engine's own verdicts pass");
    let applied = expectations_of(PLAN_MISSING_EXPECTED).apply_run(&report);
    assert!(!applied.passed(), "a stale expectation fails the run");
    assert_eq!(applied.expectation_problems.len(), 1);
    assert_eq!(
        applied.expectation_problems[0].kind,
        ExpectationProblemKind::Stale
    );
    assert_eq!(
        crate::support::verdict(&applied, "AM-SIGNIN-02"),
        Verdict::Pass
    );
    let human = human.text();
    assert!(
        human.contains("STALE AM-SIGNIN-02 (known.toml:3): expected to fail, but no target failed it: remove the entry"),
        "{human}"
    );
    let json: Value = serde_json::from_str(&json.text()).unwrap();
    assert_eq!(json["expectation_problems"][0]["kind"], "stale");
    let junit = junit.text();
    assert!(
        junit.contains("expectation AM-SIGNIN-02 fail") && junit.contains("<failure"),
        "{junit}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_expectation_fails_the_run_and_no_longer_excuses() {
    let expired = PLAN_MISSING_EXPECTED.replace("2099-12-31", "2026-11-30");
    let (report, [human, ..]) = signin_run(vec![Fault::SignInUserWithoutPlan], &expired).await;
    let applied = expectations_of(&expired).apply_run(&report);
    assert!(!applied.passed());
    assert_eq!(
        crate::support::verdict(&applied, "AM-SIGNIN-02"),
        Verdict::Fail,
        "an expired entry does not excuse the failure"
    );
    assert_eq!(
        applied.expectation_problems[0].kind,
        ExpectationProblemKind::Expired
    );
    let human = human.text();
    assert!(
        human.contains("EXPIRED AM-SIGNIN-02 (known.toml:3): expired on 2026-11-30"),
        "{human}"
    );
}

#[test]
fn a_bad_expectations_file_exits_2_with_its_location_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("known.toml");
    std::fs::write(
        &file,
        "[[expect]]\nid = \"AM-SIGNIN-02\"\noutcome = \"passes\"\nreason = \"x\"\n",
    )
    .unwrap();
    let output = authconform(&["run", "--expect", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains("known.toml:3:11: `outcome`: unknown variant `passes`"),
        "{err}"
    );
}

/// The fixed report of `reports.rs` with one more requirement, expected to fail.
fn fixed_report_with_an_expected_failure() -> RunReport {
    let mut report = crate::reports::report();
    let expectations = expectations_of(
        "[[expect]]\nid = \"AM-SIGNUP-RL-03\"\noutcome = \"inconclusive\"\nreason = \"waits for RL-01 (issue 12)\"\n",
    );
    report = expectations.apply_run(&report);
    prepare_run(&report, false)
}

#[test]
fn github_summary_snapshot() {
    let markdown = github_markdown(&fixed_report_with_an_expected_failure());
    assert!(!markdown.contains(crate::reports::PASSWORD));
    insta::assert_snapshot!("github_summary", markdown);
}

#[test]
fn the_github_summary_renders_its_tables_and_details() {
    let markdown = github_markdown(&fixed_report_with_an_expected_failure());
    let mut options = pulldown_cmark::Options::empty();
    options.insert(pulldown_cmark::Options::ENABLE_TABLES);
    let mut html = String::new();
    pulldown_cmark::html::push_html(
        &mut html,
        pulldown_cmark::Parser::new_ext(&markdown, options),
    );
    // The counts table and the target's table of what needs attention.
    assert_eq!(html.matches("<table>").count(), 2, "{html}");
    assert!(
        html.contains("<th>target</th>") && html.contains("<th>requirement</th>"),
        "{html}"
    );
    assert!(
        html.contains("<td><strong>expected inconclusive</strong></td>"),
        "{html}"
    );
    // The failure folds its evidence, the curl line inside a code block.
    let details = html
        .find("<details><summary><b>FAIL</b> AM-SIGNUP-RL-01")
        .expect("the failure has a details block");
    let end = html[details..].find("</details>").unwrap() + details;
    let block = &html[details..end];
    assert!(
        block.contains(
            "<pre><code class=\"language-sh\">curl -i -X POST http://127.0.0.1:8080/user"
        ),
        "{block}"
    );
    assert!(block.contains("<li>expected: status 429</li>"), "{block}");
    assert!(html.contains("<h2>❌ authconform: failed</h2>"), "{html}");
}

#[test]
fn github_annotations_name_the_requirement_and_escape_their_text() {
    let annotations = github_annotations(&fixed_report_with_an_expected_failure());
    let lines: Vec<&str> = annotations.lines().collect();
    assert_eq!(lines.len(), 2, "{annotations}");
    assert_eq!(
        lines[0],
        "::error title=AM-SIGNUP-RL-01 (staging)::AM-SIGNUP-RL-01 paraphrased. — expected status 429, got status 200"
    );
    assert!(
        lines[1].starts_with("::warning title=AM-SIGNUP-RL-06 (staging)::"),
        "{}",
        lines[1]
    );

    // A stale expectation points at its line in the file; `:` and `,` in properties are escaped.
    let mut report = crate::reports::report();
    report = expectations_of(
        "[[expect]]\nid = \"AM-SIGNUP-01\"\noutcome = \"warn\"\nreason = \"a, b: c\"\n",
    )
    .apply_run(&report);
    let annotations = github_annotations(&report);
    assert!(
        annotations.contains(
            "::error file=known.toml,line=2,title=stale expectation AM-SIGNUP-01::expected to warn, but no target warned on it: remove the entry"
        ),
        "{annotations}"
    );
}

#[test]
fn the_github_reporter_writes_the_summary_and_the_annotations_apart() {
    let summary = Captured::default();
    let annotations = Captured::default();
    let mut set = ReporterSet::new(false);
    set.add(Box::new(GithubReporter::new(
        Box::new(summary.clone()),
        Box::new(annotations.clone()),
    )));
    let report = crate::reports::report();
    set.handle(&EngineEvent::TargetFinished(&report.targets[0]));
    set.handle(&EngineEvent::RunFinished(&report));
    set.finish().unwrap();
    assert!(summary.text().starts_with("## ❌ authconform: failed"));
    assert!(annotations.text().starts_with("::error "));
    assert!(!summary.text().contains("::error"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quiet_report_of_a_broken_server_fits_a_screen_and_names_every_failure() {
    let output = Captured::default();
    let mut reporters = ReporterSet::new(false);
    reporters.add(Box::new(HumanReporter::new(
        Box::new(output.clone()),
        false,
        false,
    )));
    let report = reference_run(
        vec![Fault::SignInUserWithoutPlan, Fault::PasswordEchoed],
        &[],
        &mut reporters,
    )
    .await;
    reporters.finish().unwrap();
    let text = output.text();
    println!("{text}");
    let lines = text.lines().count();
    assert!(lines < 40, "{lines} lines:\n{text}");
    let attention: Vec<_> = report.targets[0]
        .requirements
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Warn))
        .collect();
    assert!(
        attention.iter().any(|r| r.id == "AM-SIGNIN-02"),
        "the fault fails AM-SIGNIN-02"
    );
    for requirement in attention {
        let heading = format!(
            "{} {} (",
            requirement.verdict.as_str().to_uppercase(),
            requirement.id
        );
        let at = text
            .find(&heading)
            .unwrap_or_else(|| panic!("{heading} is in the report:\n{text}"));
        let section = &text[at..];
        let section = &section[..section.find("clause:").unwrap_or(section.len())];
        assert!(
            section.contains("reproduce: curl -i"),
            "{} has its curl line:\n{section}",
            requirement.id
        );
    }
    // Passes are one compact list, not one line each.
    assert!(!text.contains("PASS AM-SIGNUP-01 "), "{text}");
    assert!(text.contains("requirements do not apply to") || lines > 0);
}

/// `command` (given the base URL) run beside a reference server in `profile` with its test clock on.
async fn against_reference<T: Send + 'static>(
    profile: AppmixerProfile,
    command: impl FnOnce(String) -> T + Send + 'static,
) -> T {
    crate::support::beside_reference(
        Config {
            profile,
            test_clock: true,
            ..Config::default()
        },
        command,
    )
    .await
}

#[test]
fn a_selection_of_nothing_exits_2_saying_why() {
    let output = authconform(&["run", "--only", "NO-SUCH-*"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains("nothing to check: --only 'NO-SUCH-*' leaves none of the"),
        "{err}"
    );

    // Scenarios match, but none is for the target's profile; the target is never contacted.
    let output = crate::cli::run_on_port_1_with(&["--only", "CS-LOCKOUT-*"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains("--only 'CS-LOCKOUT-*' selects")
            && err.contains("but none for the profiles appmixer-6"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_selection_whose_scenarios_are_all_skipped_exits_2() {
    // AM-SIGNUP-06 needs a create scope that this target is not described with.
    let output = against_reference(AppmixerProfile::AppmixerCloud, |url| {
        authconform(&[
            "run",
            "--target",
            &url,
            "--profile",
            "appmixer-cloud",
            "--clock",
            "control",
            "--only",
            "AM-SIGNUP-06",
        ])
    })
    .await;
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    let err = stderr(&output);
    assert!(
        err.contains(
            "nothing was checked: every selected scenario was skipped (needs create-scope"
        ),
        "{err}"
    );
}

#[test]
fn completions_generate_for_every_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef authconform"),
        ("fish", "complete -c authconform"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[authconform]"),
    ] {
        let output = authconform(&["completions", shell]);
        assert!(output.status.success(), "{shell}: {}", stderr(&output));
        let script = stdout(&output);
        assert!(script.contains(marker), "{shell}: no `{marker}`");
        assert!(
            script.contains("expect") && script.contains("completions"),
            "{shell} completes the flags and subcommands"
        );
    }
    let output = authconform(&["completions", "tcsh"]);
    assert_eq!(output.status.code(), Some(2));
    // A closed pipe (`| head`) is not a panic.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_authconform"))
        .args(["completions", "bash"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
}

#[test]
fn the_man_page_is_roff_and_covers_every_command() {
    let output = authconform(&["man"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let page = stdout(&output);
    assert!(
        page.starts_with(".ie \\n(.g .ds Aq") || page.contains(".TH authconform 1"),
        "{}",
        &page[..200.min(page.len())]
    );
    assert!(
        page.contains("authconform\\-run(1)") || page.contains("authconform\\-run"),
        "{page}"
    );

    let dir = tempfile::tempdir().unwrap();
    let output = authconform(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    for name in [
        "authconform.1",
        "authconform-run.1",
        "authconform-load.1",
        "authconform-init.1",
    ] {
        assert!(dir.path().join(name).is_file(), "{name} is written");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_writes_a_target_file_that_run_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("staging.toml");
    let path = file.to_str().unwrap().to_owned();
    let (first, second, forced) = against_reference(AppmixerProfile::Appmixer6, move |url| {
        let init = |extra: &[&str]| {
            let mut args = vec!["init", "--target", url.as_str(), "--output", path.as_str()];
            args.extend_from_slice(extra);
            authconform(&args)
        };
        (init(&[]), init(&[]), init(&["--force"]))
    })
    .await;

    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(second.status.code(), Some(2), "an existing file is kept");
    assert!(stderr(&second).contains("exists: add --force to overwrite it"));
    assert!(forced.status.success(), "{}", stderr(&forced));

    let text = std::fs::read_to_string(&file).unwrap();
    println!("{text}");
    assert!(
        text.contains("profiles = [\"appmixer-6\", \"creditsafe-connect\"]"),
        "{text}"
    );
    assert!(text.contains("clock = \"control\""), "{text}");
    assert!(text.contains("[limits]\nsignup_email = 10"), "{text}");
    assert!(
        text.contains("# CHECK: an account with the admin scope"),
        "{text}"
    );
    // The file is a valid target description as written.
    let target = authconform::target::load(&TargetFlags {
        target_file: Some(file.clone()),
        ..TargetFlags::default()
    })
    .expect("run accepts it");
    assert_eq!(target.clock, ClockMode::Control);
    assert_eq!(
        target.profiles,
        vec![Profile::Appmixer6, Profile::CreditsafeConnect]
    );
}

/// The lockout profile's HTML report is the run's, with what the load measured; a mixed run's draws each
/// second, the latency distribution and each kind of request too. Both are offline pages Chromium renders.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_load_pages_show_the_figures_and_draw_the_latencies() {
    let report = crate::load::lockout_run(Vec::new(), crate::load::lockout(32)).await;
    let mut page = Vec::new();
    authconform::report::HtmlReporter::write(&mut page, &report, false).unwrap();
    let page = String::from_utf8(page).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("Under load"), "the figures' section");
    assert!(page.contains("latency p50 / p90 / p99 / p99.9 / max"));
    assert!(page.contains("<svg class=\"over-time\""), "each second");
    assert!(
        page.contains("<svg class=\"distribution\""),
        "the percentile plot"
    );
    assert!(page.contains("CS-LOCKOUT-05"), "the verdicts");
    assert!(
        !page.contains("src=")
            && !page.contains("<link")
            && !page.contains("http-equiv=\"refresh\"")
    );

    let benchmark = crate::load::mixed_benchmark().await;
    let mut chart = Vec::new();
    authconform::report::HtmlReporter::write(&mut chart, &benchmark, false).unwrap();
    let chart = String::from_utf8(chart).unwrap();
    assert!(
        chart.contains("<polyline class=\"p99\""),
        "the latency chart"
    );
    assert!(chart.contains("AM-SIGNIN-01"), "the benchmark's verdict");
    assert!(
        chart.contains("<table class=\"by-step\""),
        "each kind of request"
    );
    assert!(chart.contains("open model"), "how the load was applied");

    let dir = std::env::var_os("AUTHCONFORM_LOAD_PAGE_DIR").map_or_else(
        || tempfile::tempdir().unwrap().keep(),
        std::path::PathBuf::from,
    );
    let path = dir.join("load.html");
    std::fs::write(&path, &chart).unwrap();
    let lockout_path = dir.join("lockout.html");
    std::fs::write(&lockout_path, &page).unwrap();
    let Some(chromium) = crate::html_report::chromium() else {
        assert!(
            std::env::var_os("AUTHCONFORM_REQUIRE_CHROMIUM").is_none_or(|v| v != "1"),
            "AUTHCONFORM_REQUIRE_CHROMIUM=1 but no chromium is installed"
        );
        println!("skipped the render: chromium is not installed");
        return;
    };
    let dom = crate::html_report::rendered_dom(&chromium, &path, "").await;
    for chart in ["latency", "over-time", "distribution"] {
        assert!(
            dom.contains(&format!("<svg class=\"{chart}\"")),
            "Chromium parsed the {chart} chart"
        );
    }
    let dom = crate::html_report::rendered_dom(&chromium, &lockout_path, "").await;
    assert!(dom.contains("Under load"));
}

#[test]
fn github_format_appends_the_summary_to_the_job_summary_file() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("step-summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_authconform"))
        .args([
            "run",
            "--only",
            "AM-SIGNIN-02",
            "--format",
            "human",
            "--format",
            "github",
        ])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let written = std::fs::read_to_string(&summary).unwrap();
    assert!(
        written.starts_with("earlier step\n## ✅ authconform: passed"),
        "{written}"
    );
    // Human output on stdout, and no annotation for a passing run.
    let out = stdout(&output);
    assert!(out.contains("PASS ") && !out.contains("::error"), "{out}");
}
