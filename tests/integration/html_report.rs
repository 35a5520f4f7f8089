//! The HTML report: on the fixed report, on a whole run against the reference server (every requirement of
//! the catalogue with its verdict, no secret, nothing fetched from elsewhere), on a broken reference server
//! (the failure with its `curl` reproduction), and rendered by headless Chromium when it is installed.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use authconform::engine::{self, RunPlan, RunReport, Selection, TargetPlan, Verdict};
use authconform::report::{HtmlReporter, ReporterSet};
use authconform::suite;
use authconform::target::{ClockMode, Limits, TargetDescription};
use authconform_reference_server::Fault;
use authconform_reference_server::{AppmixerProfile, Config, SeedAccount};
use authconform_scenario::model::{Profile, Suite};

use crate::reports::{PASSWORD, TOKEN, render, report as fixed_report};

const ADMIN_PASSWORD: &str = "html-report-admin-password";
const CONNECT_PASSWORD: &str = "html-report-connect-password";
const JWT_SECRET: &str = "html-report-signing-secret";

/// Text as maud writes it inside an element or an attribute.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The markup of one requirement's section on the first target.
fn article<'h>(html: &'h str, id: &str) -> &'h str {
    let start = html
        .find(&format!("data-requirement=\"{id}\""))
        .unwrap_or_else(|| panic!("{id} has a section"));
    let end = html[start..]
        .find("</article>")
        .map_or(html.len(), |end| start + end);
    &html[start..end]
}

/// Every place the page could load something from, and every absolute URL that is not the target's own.
fn external_references(html: &str, target_url: &str) -> Vec<String> {
    let mut found = Vec::new();
    for marker in [
        "<link", "src=", "@import", "url(", "<iframe", "<object", "<embed",
    ] {
        if html.contains(marker) {
            found.push(format!("`{marker}` in the page"));
        }
    }
    for (at, _) in html.match_indices("href=\"") {
        let value = &html[at + 6..];
        if !value.starts_with('#') {
            found.push(format!(
                "a link to {}",
                &value[..value.find('"').unwrap_or(0)]
            ));
        }
    }
    let absolute = regex::Regex::new(r"(?i)https?://[^\s<>&]*").unwrap();
    for url in absolute.find_iter(html) {
        if !url.as_str().starts_with(target_url.trim_end_matches('/')) {
            found.push(format!("the URL {}", url.as_str()));
        }
    }
    found
}

fn seed(username: &str, email: Option<&str>, password: &str) -> SeedAccount {
    SeedAccount {
        username: username.into(),
        email: email.map(str::to_owned),
        password: password.into(),
    }
}

/// A reference server in the `appmixer-cloud` profile with Creditsafe Connect (test clock on, X-Forwarded-For
/// trusted, a lockout threshold of 200 so runs stay quick, `faults` on), and the runner's description of it
/// with both accounts and the signing secret.
pub(crate) async fn cloud_and_connect(
    faults: Vec<Fault>,
) -> (
    authconform_reference_server::RunningServer,
    TargetDescription,
) {
    let limits = Limits {
        cs_overall_threshold: 200,
        ..Limits::default()
    };
    let admin = seed(
        "admin@example.com",
        Some("admin@example.com"),
        ADMIN_PASSWORD,
    );
    let connect = seed("connect-user@example.com", None, CONNECT_PASSWORD);
    let config = Config {
        profile: AppmixerProfile::AppmixerCloud,
        cs_overall_threshold: limits.cs_overall_threshold,
        admin: admin.clone(),
        creditsafe_account: connect.clone(),
        appmixer_jwt_secret: Some(JWT_SECRET.into()),
        test_clock: true,
        trust_forwarded_for: true,
        faults,
        ..Config::default()
    };
    let server = crate::support::start_reference(config).await;
    let mut target = TargetDescription::new(
        server.base_url().parse().unwrap(),
        vec![Profile::AppmixerCloud, Profile::CreditsafeConnect],
    );
    target.name = "reference appmixer-cloud + creditsafe-connect".into();
    target.clock = ClockMode::Control;
    target.forwarded_for = true;
    target.limits = limits;
    target.admin = Some(crate::support::runner_account(&admin));
    target.creditsafe = Some(crate::support::runner_account(&connect));
    target.appmixer_jwt_secret = Some(JWT_SECRET.into());

    (server, target)
}

/// The whole built-in suite against one reference server (appmixer-cloud and Creditsafe Connect, test clock
/// on, a lockout threshold of 200 so it stays quick), with the HTML reporter fed by the run's events and
/// writing to `path`. The report returned is the engine's own, secrets included.
async fn reference_run_to_html(faults: Vec<Fault>, path: &Path) -> (Suite, RunReport) {
    let (server, target) = cloud_and_connect(faults).await;
    let suite = suite::load(&[]).expect("the built-in suite is valid");
    let plan = RunPlan {
        targets: vec![TargetPlan::new(target)],
        selection: Selection::all(),
        strict: false,
        jobs: authconform::engine::DEFAULT_JOBS,
    };
    let file = std::fs::File::create(path).expect("the report file is created");
    let mut reporters = ReporterSet::new(false);
    reporters.add(Box::new(HtmlReporter::new(
        Box::new(std::io::BufWriter::new(file)),
        false,
    )));
    let started = Instant::now();
    let report = engine::run(&suite, &plan, &mut |event| reporters.handle(event))
        .await
        .expect("the run completes");
    reporters.finish().expect("the report is written");
    server.shutdown().await.unwrap();
    println!(
        "run and HTML report in {:.2}s: {} bytes",
        started.elapsed().as_secs_f64(),
        std::fs::metadata(path).map_or(0, |m| m.len())
    );
    (suite, report)
}

fn known_secrets(report: &RunReport) -> Vec<String> {
    let mut secrets: Vec<String> = [ADMIN_PASSWORD, CONNECT_PASSWORD, JWT_SECRET]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    // Every password the run generated and every token it was given.
    secrets.extend(
        report
            .targets
            .iter()
            .flat_map(|t| t.secrets.iter().cloned()),
    );
    secrets
}

#[test]
fn the_fixed_report_as_html_hides_secrets_and_shows_every_requirement() {
    let html = render(|out| Box::new(HtmlReporter::new(out, false)), false);
    assert!(html.starts_with("<!DOCTYPE html>"));
    for secret in [PASSWORD, TOKEN, "eyJhbGciOiJIUzI1NiJ9.e30.sig"] {
        assert!(!html.contains(secret), "{secret} is in the page");
    }
    let report = fixed_report();
    for requirement in &report.targets[0].requirements {
        assert!(
            html.contains(&format!(
                "data-requirement=\"{}\" data-verdict=\"{}\"",
                requirement.id, requirement.verdict
            )),
            "{} {}",
            requirement.id,
            requirement.verdict
        );
        assert!(html.contains(&escaped(&requirement.clause)));
    }
    let failure = article(&html, "AM-SIGNUP-RL-01");
    assert!(failure.contains("expected</dt><dd>status 429"), "{failure}");
    assert!(
        failure.contains(
            "<pre class=\"curl\">curl -i -X POST http://127.0.0.1:8080/user -H 'authorization: Bearer ***'"
        ),
        "{failure}"
    );
    let pass = article(&html, "AM-SIGNUP-01");
    assert!(pass.contains("sign in with the new account"), "{pass}");
    assert!(
        pass.contains("&quot;token&quot;: &quot;***&quot;"),
        "{pass}"
    );
    assert!(article(&html, "AM-SIGNUP-06").contains("Skipped: signup-create-scope"));
    assert!(external_references(&html, "http://127.0.0.1:8080/").is_empty());
    assert!(!html.contains("do not share it"));

    let shown = render(|out| Box::new(HtmlReporter::new(out, true)), true);
    assert!(shown.contains(PASSWORD) && shown.contains(TOKEN));
    assert!(shown.contains("do not share it"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_against_the_reference_server_shows_every_requirement_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.html");
    let (suite, report) = reference_run_to_html(Vec::new(), &path).await;
    let html = std::fs::read_to_string(&path).unwrap();
    let target = &report.targets[0];

    // Every id of the catalogue, with its verdict, its clause, and its reason when skipped.
    assert_eq!(
        target.requirements.len(),
        suite.catalogue.requirements.len()
    );
    for requirement in &suite.catalogue.requirements {
        let judged = target
            .requirements
            .iter()
            .find(|r| r.id == requirement.id)
            .unwrap();
        let section = article(&html, &requirement.id);
        assert!(
            section.starts_with(&format!(
                "data-requirement=\"{}\" data-verdict=\"{}\"",
                requirement.id, judged.verdict
            )),
            "{}: {}",
            requirement.id,
            &section[..120.min(section.len())]
        );
        assert!(
            section.contains(&escaped(&requirement.clause)),
            "{}",
            requirement.id
        );
        for reason in &judged.skip_reasons {
            assert!(
                section.contains(&escaped(reason)),
                "{}: {reason}",
                requirement.id
            );
        }
        if judged.verdict != Verdict::Skip {
            // A judged requirement shows what was sent and how to send it again.
            assert!(
                section.contains("<h4>Request</h4>")
                    && section.contains("<pre class=\"curl\">curl -i"),
                "{} shows no exchange",
                requirement.id
            );
        }
    }
    assert!(
        target
            .requirements
            .iter()
            .any(|r| r.verdict == Verdict::Skip),
        "this target skips the 5.1-only requirements"
    );
    assert!(html.contains("Passed: exit code 0"));
    assert!(html.contains("Requirements at a glance"));

    let leaked: Vec<String> = known_secrets(&report)
        .into_iter()
        .filter(|secret| secret.len() >= 6 && html.contains(secret.as_str()))
        .collect();
    assert!(leaked.is_empty(), "secrets in the page: {leaked:?}");
    // No token at all, except the documentation's sample quoted in a clause.
    let mut unquoted = html.clone();
    for requirement in &suite.catalogue.requirements {
        unquoted = unquoted.replace(&escaped(&requirement.clause), "");
    }
    let jwt = regex::Regex::new(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.").unwrap();
    assert!(
        !jwt.is_match(&unquoted),
        "a token in the page: {:?}",
        jwt.find(&unquoted).map(|m| m.as_str())
    );
    let external = external_references(&html, &target.base_url);
    assert!(external.is_empty(), "{external:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_target_shows_the_failure_with_its_curl_reproduction() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.html");
    let (_, report) = reference_run_to_html(
        vec![Fault::SignInUserWithoutPlan, Fault::PasswordEchoed],
        &path,
    )
    .await;
    let html = std::fs::read_to_string(&path).unwrap();
    let base = report.targets[0].base_url.trim_end_matches('/');

    assert!(html.contains("Failed: exit code 1"));
    let failure = article(&html, "AM-SIGNIN-02");
    assert!(
        failure.starts_with("data-requirement=\"AM-SIGNIN-02\" data-verdict=\"fail\""),
        "{failure}"
    );
    assert!(
        failure.contains("<div class=\"finding fail\">"),
        "{failure}"
    );
    assert!(
        failure.contains("`user.plan`") || failure.contains("plan"),
        "{failure}"
    );
    assert!(
        failure.contains(&format!(
            "<pre class=\"curl\">curl -i -X POST {base}/user/auth -H"
        )),
        "{failure}"
    );
    // The echoed password is the failure of GEN-03, yet the page shows it masked.
    let echo = article(&html, "GEN-03");
    assert!(
        echo.starts_with("data-requirement=\"GEN-03\" data-verdict=\"warn\""),
        "{echo}"
    );
    let leaked: Vec<String> = known_secrets(&report)
        .into_iter()
        .filter(|secret| secret.len() >= 6 && html.contains(secret.as_str()))
        .collect();
    assert!(leaked.is_empty(), "secrets in the page: {leaked:?}");
}

/// Chromium, if installed: Debian's `chromium`, or `AUTHCONFORM_CHROMIUM`.
pub(crate) fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("AUTHCONFORM_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|path| path.exists())
}

/// Renders a page (with an address fragment, possibly empty) in headless Chromium (a fresh profile, no network
/// use of its own, bounded in time) and returns the DOM after its script ran.
pub(crate) async fn rendered_dom(chromium: &Path, page: &Path, fragment: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let mut command = tokio::process::Command::new(chromium);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}{fragment}", page.display()))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let child = command.spawn().expect("chromium starts");
    let started = Instant::now();
    let output = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("chromium renders the page within 120 s (it is killed otherwise)")
        .expect("chromium runs");
    println!(
        "chromium rendered the page in {:.2}s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        output.status.success(),
        "chromium failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("the DOM is UTF-8")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_renders_every_requirement_and_the_summary() {
    let Some(chromium) = chromium() else {
        assert!(
            std::env::var_os("AUTHCONFORM_REQUIRE_CHROMIUM").is_none_or(|v| v != "1"),
            "AUTHCONFORM_REQUIRE_CHROMIUM=1 but no chromium is installed (apt-get install chromium)"
        );
        println!(
            "skipped: chromium is not installed (apt-get install chromium to render the HTML report)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.html");
    let (suite, report) = reference_run_to_html(Vec::new(), &path).await;
    let dom = rendered_dom(&chromium, &path, "").await;

    // The inline script ran (the page's policy allows inline code only), so this is the live page.
    assert!(
        dom.contains("data-script=\"ran\""),
        "{}",
        &dom[..dom.len().min(400)]
    );
    assert!(dom.contains("<h2>Summary</h2>"));
    assert!(dom.contains("Passed: exit code 0"));
    let summary = &report.summary;
    for (count, word) in [
        (summary.passed, "passed"),
        (summary.warned, "warned"),
        (summary.skipped, "skipped"),
    ] {
        assert!(
            dom.contains(&format!("<strong>{count}</strong> {word}")),
            "the summary shows {count} {word}"
        );
    }
    let target = &report.targets[0];
    for requirement in &suite.catalogue.requirements {
        let verdict = target
            .requirements
            .iter()
            .find(|r| r.id == requirement.id)
            .unwrap()
            .verdict;
        assert!(
            dom.contains(&format!(
                "data-requirement=\"{}\" data-verdict=\"{verdict}\"",
                requirement.id
            )),
            "{} is not rendered as {verdict}",
            requirement.id
        );
    }

    // The address can open it filtered: passes, expected outcomes and skips hidden.
    let filtered = rendered_dom(&chromium, &path, "#show=fail,warn,inconclusive").await;
    assert!(
        filtered.contains("<body class=\"hide-expected hide-pass hide-skip\">"),
        "{}",
        &filtered[filtered.find("<body").unwrap_or(0)..][..200]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_command_line_writes_the_html_report_next_to_the_human_one() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    // GET /user without a token answered 200: AM-ME-02 fails.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    crate::runs::vendor_scenarios(dir.path());
    let report = dir.path().join("report.html");
    let args = vec![
        "run".to_owned(),
        "--target".into(),
        server.uri(),
        "--profile".into(),
        "appmixer-6".into(),
        "--scenarios".into(),
        dir.path().display().to_string(),
        "--only".into(),
        "vendor-*".into(),
        "--format".into(),
        "human".into(),
        "--format".into(),
        format!("html={}", report.display()),
    ];
    let output = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        crate::cli::authconform(&args)
    })
    .await
    .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        crate::cli::stderr(&output)
    );
    assert!(crate::cli::stdout(&output).contains("FAIL AM-ME-02 (must)"));
    let html = std::fs::read_to_string(&report).unwrap();
    let section = article(&html, "AM-ME-02");
    assert!(
        section.starts_with("data-requirement=\"AM-ME-02\" data-verdict=\"fail\""),
        "{section}"
    );
    assert!(
        section.contains(&format!(
            "<pre class=\"curl\">curl -i {}/user",
            server.uri()
        )),
        "{section}"
    );

    // A benchmark is a run too: every format serves it, github included.
    let summary = dir.path().join("summary.md");
    let benchmark = crate::cli::authconform(&[
        "load",
        "signin",
        "--requests",
        "50",
        "--format",
        &format!("github={}", summary.display()),
    ]);
    assert_eq!(
        benchmark.status.code(),
        Some(0),
        "{}",
        crate::cli::stderr(&benchmark)
    );
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(summary.contains("authconform: passed"), "{summary}");
    assert!(summary.contains("| 0 | 0 | 0 | 0 | 1 | 0 |"), "{summary}");
}

#[test]
fn the_timeline_draws_each_scenario_with_its_waits_shaded_and_failures_marked() {
    let html = render(|out| Box::new(HtmlReporter::new(out, false)), false);
    let start = html
        .find("<details class=\"timeline\"")
        .expect("a timeline");
    let timeline = &html[start..start + html[start..].find("</details>").unwrap()];
    assert!(
        timeline.contains("1 scenario over 1h01m of virtual time"),
        "{timeline}"
    );
    assert!(
        timeline.contains("class=\"bar fail failed\""),
        "the failed scenario's bar is outlined: {timeline}"
    );
    assert!(timeline.contains("class=\"fail-mark\""), "{timeline}");
    assert!(
        timeline.contains("<rect class=\"wait\""),
        "its wait is shaded: {timeline}"
    );
    assert!(
        timeline.contains("waits 1h (wait out the window)"),
        "{timeline}"
    );
}
