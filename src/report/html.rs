//! The HTML report: one self-contained page (inline style and a small script, nothing fetched, so it works
//! offline and as a CI artifact) with the summary first, then per target and requirement the verdict, the
//! quoted clause, every check with the requests and responses it exchanged and their `curl` reproductions.
//! Markup is built with maud, which escapes every interpolated value.

use std::io::{self, Write};

use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde_json::Value;

use crate::engine::{
    Check, EngineEvent, Exchange, Finding, Observation, RECORDED_BODY_LIMIT, RecordedRequest,
    RecordedResponse, RequirementReport, RunReport, SampleExchange, Summary, TargetReport, Verdict,
};

/// Verdicts in the order a reader cares about them: what needs attention first.
const VERDICTS: [Verdict; 6] = Verdict::BY_ATTENTION;

pub struct HtmlReporter {
    out: Box<dyn Write>,
    /// Whether the reports carry secrets (`--show-secrets`): the page then says so at the top.
    secrets_shown: bool,
}

impl HtmlReporter {
    pub fn new(out: Box<dyn Write>, secrets_shown: bool) -> HtmlReporter {
        HtmlReporter { out, secrets_shown }
    }

    pub fn write(out: &mut dyn Write, report: &RunReport, secrets_shown: bool) -> io::Result<()> {
        out.write_all(page(report, secrets_shown).into_string().as_bytes())?;
        writeln!(out)?;
        out.flush()
    }
}

impl super::Reporter for HtmlReporter {
    fn handle(&mut self, event: &EngineEvent<'_>) -> io::Result<()> {
        match event {
            EngineEvent::RunFinished(report) => {
                HtmlReporter::write(&mut self.out, report, self.secrets_shown)
            }
            _ => Ok(()),
        }
    }
}

fn page(report: &RunReport, secrets_shown: bool) -> Markup {
    let passed = report.passed();
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                // The page loads nothing: styles and the script are inline, and the browser is told so.
                meta http-equiv="Content-Security-Policy"
                    content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'";
                title { "authconform: " (counts_text(&report.summary)) }
                style { (PreEscaped(STYLE)) (PreEscaped(super::timeline::STYLE)) (PreEscaped(super::figures_html::STYLE)) }
            }
            body {
                header.banner.(if passed { "outcome-pass" } else { "outcome-fail" }) {
                    h1 { "authconform conformance report" }
                    p.outcome {
                        @if passed {
                            "Passed: exit code 0, every required check passed"
                        } @else {
                            "Failed: exit code 1, a requirement failed or could not be concluded"
                        }
                    }
                    p.meta {
                        "run " code { (report.run_id) }
                        " · authconform " (report.tool_version)
                        " · " (report.targets.len()) " target" (plural(report.targets.len()))
                        " · " (seconds(report.duration_ms))
                        @if report.strict { " · strict: warnings fail" }
                    }
                    @if secrets_shown {
                        p.secrets-shown {
                            "This report shows passwords and tokens (--show-secrets): do not share it."
                        }
                    }
                }
                main {
                    (summary(report))
                    (filter_bar())
                    @for (index, target) in report.targets.iter().enumerate() {
                        (target_section(index, target))
                    }
                }
                footer.page-footer {
                    @if secrets_shown {
                        "Secrets are shown."
                    } @else {
                        "Passwords, tokens and Authorization values are shown as *** (--show-secrets shows them)."
                    }
                    " Every verdict cites a requirement id of the catalogue (scenarios/requirements.toml)."
                }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    }
}

fn summary(report: &RunReport) -> Markup {
    html! {
        section #summary {
            h2 { "Summary" }
            p.counts {
                @for verdict in VERDICTS {
                    span.count.(verdict.as_str()) {
                        strong { (count(&report.summary, verdict)) } " " (verdict_word(verdict))
                    }
                }
            }
            table.targets {
                thead {
                    tr {
                        th { "target" } th { "base URL" } th { "profiles" } th { "clock" }
                        @for verdict in VERDICTS { th.num { (verdict.as_str()) } }
                        th.num { "duration" }
                    }
                }
                tbody {
                    @for (index, target) in report.targets.iter().enumerate() {
                        tr {
                            td { a href={ "#" (target_anchor(index)) } { (target.name) } }
                            td { code { (target.base_url) } }
                            td { (profile_list(target)) }
                            td { (target.clock) }
                            @for verdict in VERDICTS {
                                td.num.(if count(&target.summary, verdict) > 0 { verdict.as_str() } else { "zero" }) {
                                    (count(&target.summary, verdict))
                                }
                            }
                            td.num { (seconds(target.duration_ms)) }
                        }
                    }
                }
                tfoot {
                    tr {
                        th colspan="4" { "all targets" }
                        @for verdict in VERDICTS { th.num { (count(&report.summary, verdict)) } }
                        th.num { (seconds(report.duration_ms)) }
                    }
                }
            }
            p.exit-meaning {
                "Exit codes: " strong { "0" } " every required check passed · "
                strong { "1" } " a requirement failed or could not be concluded"
                @if !report.strict { " (warnings fail only under --strict)" }
                " · " strong { "2" } " usage, target description or scenario error · "
                strong { "3" } " target unreachable or runtime failure."
            }
            @if !report.expectation_problems.is_empty() {
                div.expectation-problems {
                    h3 { "Expectations that fail the run" }
                    ul {
                        @for problem in &report.expectation_problems {
                            li {
                                span.badge.fail { (problem.kind.as_str()) }
                                " " code { (problem.requirement) } " (" (problem.note.location) "): "
                                (problem.message)
                            }
                        }
                    }
                }
            }
            (glance(report))
        }
    }
}

/// Every requirement of every target as a chip coloured by its verdict, linking to its section.
fn glance(report: &RunReport) -> Markup {
    html! {
        h3 { "Requirements at a glance" }
        @for (index, target) in report.targets.iter().enumerate() {
            div.glance {
                a.glance-target href={ "#" (target_anchor(index)) } { (target.name) }
                div.chips {
                    @for requirement in &target.requirements {
                        a.chip.(requirement.verdict.as_str())
                            href={ "#" (requirement_anchor(index, &requirement.id)) }
                            title={ (requirement.verdict.as_str()) " (" (requirement.level.keyword()) "): " (requirement.title) } {
                            (requirement.id)
                        }
                    }
                }
            }
        }
        p.legend {
            @for verdict in VERDICTS {
                span.chip.(verdict.as_str()) { (verdict.as_str()) }
            }
        }
    }
}

fn filter_bar() -> Markup {
    html! {
        nav.filter aria-label="filter" {
            span { "Show:" }
            @for verdict in VERDICTS {
                label {
                    input type="checkbox" data-verdict-filter=(verdict.as_str()) checked;
                    " " span.badge.(verdict.as_str()) { (verdict.as_str()) }
                }
            }
            button type="button" data-expand="open" { "expand all" }
            button type="button" data-expand="close" { "collapse all" }
        }
    }
}

fn target_section(index: usize, target: &TargetReport) -> Markup {
    html! {
        section.target id=(target_anchor(index)) {
            h2 {
                (target.name)
                // A target given by URL alone is named by its URL: say it once.
                @if target.name.trim_end_matches('/') != target.base_url.trim_end_matches('/') {
                    " " code.url { (target.base_url) }
                }
            }
            p.target-meta {
                (profile_list(target)) " · clock " (target.clock)
                @if let Some(capability) = &target.only_requiring {
                    " · only the scenarios needing " (capability)
                }
                " · " (seconds(target.duration_ms)) " · " (counts_text(&target.summary))
            }
            (super::timeline::timeline(target))
            @if let Some(figures) = &target.load {
                (super::figures_html::figures(figures))
            }
            @for requirement in &target.requirements {
                (requirement_article(index, target, requirement))
            }
        }
    }
}

fn requirement_article(
    index: usize,
    target: &TargetReport,
    requirement: &RequirementReport,
) -> Markup {
    let verdict = requirement.verdict.as_str();
    let observations: Vec<&Observation> = target
        .observations
        .iter()
        .filter(|o| o.requirements.contains(&requirement.id))
        .collect();
    let requests: u64 = requirement.checks.iter().map(|c| c.requests).sum();
    html! {
        article.requirement.(verdict) id=(requirement_anchor(index, &requirement.id))
            data-requirement=(requirement.id) data-verdict=(verdict) {
            header {
                span.badge.(verdict) { (verdict) }
                h3 { (requirement.id) }
                span.level.(requirement.level.as_str()) { (requirement.level.keyword()) }
                span.title { (requirement.title) }
            }
            blockquote.clause {
                p { (requirement.clause) }
                footer { "— " (requirement.source) }
            }
            @if let Some(accept) = &requirement.accept {
                p.accept { strong { "Accepted readings: " } (accept) }
            }
            @if let Some(note) = &requirement.expectation {
                p.expectation {
                    strong { "Expected to " (note.outcome) ": " } (note.reason)
                    " (" (note.location)
                    @if let Some(until) = &note.until { ", until " (until) }
                    ")"
                }
            }
            @if !requirement.skip_reasons.is_empty() {
                ul.skip-reasons {
                    @for reason in &requirement.skip_reasons { li { "Skipped: " (reason) } }
                }
            }
            @if !requirement.readings.is_empty() {
                ul.readings {
                    @for reading in &requirement.readings {
                        li {
                            "Reading seen: " strong { (reading.reading) }
                            " (status " (reading.status) ", " (reading.scenario) ", step “" (reading.step) "”)"
                        }
                    }
                }
            }
            @if !requirement.findings.is_empty() {
                div.findings {
                    @for finding in sorted_findings(&requirement.findings) { (finding_block(finding)) }
                }
            }
            @if !requirement.checks.is_empty() {
                details.checks open[requirement.verdict != Verdict::Pass] {
                    summary {
                        (requirement.checks.len()) " check" (plural(requirement.checks.len()))
                        ", " (requests) " request" (plural(usize::try_from(requests).unwrap_or(usize::MAX)))
                        " (" (requirement.scenarios.join(", ")) ")"
                    }
                    @for check in &requirement.checks { (check_block(check)) }
                }
            }
            @if !observations.is_empty() {
                ul.observations {
                    @for observation in observations {
                        li { "Observed (" (observation.scenario) "): " (observation.detail) }
                    }
                }
            }
        }
    }
}

/// The worst first: that is what the verdict is about.
fn sorted_findings(findings: &[Finding]) -> Vec<&Finding> {
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by_key(|f| std::cmp::Reverse(f.severity));
    sorted
}

/// The verdict badge, then which scenario step it is and where that step is written.
fn step_heading(
    verdict: Verdict,
    scenario: &str,
    step_number: usize,
    step: &str,
    location: &str,
) -> Markup {
    html! {
        span.badge.(verdict.as_str()) { (verdict.as_str()) }
        " " (scenario) ", step " (step_number) " “" (step) "” "
        span.location { (location) }
    }
}

fn finding_block(finding: &Finding) -> Markup {
    html! {
        div.finding.(finding.severity.as_str()) {
            p.where {
                (step_heading(finding.severity, &finding.scenario, finding.step_number, &finding.step, &finding.location))
            }
            dl {
                @if let Some(expected) = &finding.expected { dt { "expected" } dd { (expected) } }
                @if let Some(actual) = &finding.actual { dt { "actual" } dd { (actual) } }
                @if let Some(note) = &finding.note { dt { "note" } dd { (note) } }
                @if let Some(blocker) = &finding.blocked_by { dt { "blocked by" } dd { (blocker) } }
            }
            @if let Some(exchange) = &finding.exchange {
                (exchange_block("the request that showed it", exchange, finding.curl.as_deref(), true))
            }
        }
    }
}

fn check_block(check: &Check) -> Markup {
    html! {
        div.check.(check.verdict.as_str()) {
            p.where {
                (step_heading(check.verdict, &check.scenario, check.step_number, &check.step, &check.location))
                " · " (check.requests) " request" (plural(usize::try_from(check.requests).unwrap_or(usize::MAX)))
            }
            @for sample in &check.exchanges { (sample_block(check, sample)) }
        }
    }
}

fn sample_block(check: &Check, sample: &SampleExchange) -> Markup {
    let label = if check.requests > 1 {
        format!("request {} of {}", sample.request_number, check.requests)
    } else {
        "request".to_owned()
    };
    exchange_block(&label, &sample.exchange, sample.curl.as_deref(), false)
}

fn exchange_block(label: &str, exchange: &Exchange, curl: Option<&str>, open: bool) -> Markup {
    let outcome = match (&exchange.response, &exchange.error) {
        (Some(response), _) => format!("{}", response.status),
        (None, Some(_)) => "no response".to_owned(),
        (None, None) => "nothing recorded".to_owned(),
    };
    html! {
        details.exchange open[open] {
            summary {
                (label) ": " code { (exchange.request.method) " " (path_of(&exchange.request.url)) }
                " → " span.status.(status_class(exchange.response.as_ref())) { (outcome) }
            }
            div.http {
                div {
                    h4 { "Request" }
                    pre { (request_text(&exchange.request)) }
                }
                div {
                    h4 { "Response" }
                    @match (&exchange.response, &exchange.error) {
                        (Some(response), _) => { pre { (response_text(response)) } }
                        (None, Some(error)) => { pre.error { (error) } }
                        (None, None) => { pre { "(none)" } }
                    }
                }
            }
            @if let Some(curl) = curl {
                h4 { "Reproduce" }
                pre.curl { (curl) }
            }
        }
    }
}

fn request_text(request: &RecordedRequest) -> String {
    let mut text = format!("{} {}\n", request.method, request.url);
    for (name, value) in &request.headers {
        text.push_str(&format!("{name}: {value}\n"));
    }
    if let Some(body) = &request.body {
        text.push('\n');
        text.push_str(&readable_body(body));
        text.push_str(&cut_note(request.body_bytes));
    }
    text
}

fn response_text(response: &RecordedResponse) -> String {
    let mut text = format!("HTTP {}\n", response.status);
    for (name, value) in &response.headers {
        text.push_str(&format!("{name}: {value}\n"));
    }
    if !response.body.is_empty() {
        text.push('\n');
        text.push_str(&readable_body(&response.body));
        text.push_str(&cut_note(response.body_bytes));
    }
    text
}

/// A JSON body indented for reading; anything else as it came.
fn readable_body(body: &str) -> String {
    match serde_json::from_str::<Value>(body) {
        Ok(value @ (Value::Object(_) | Value::Array(_))) => {
            serde_json::to_string_pretty(&value).unwrap_or_else(|_| body.to_owned())
        }
        _ => body.to_owned(),
    }
}

fn cut_note(bytes: usize) -> String {
    if bytes > RECORDED_BODY_LIMIT {
        format!("\n… (the first {RECORDED_BODY_LIMIT} of {bytes} bytes)")
    } else {
        String::new()
    }
}

/// The path and query of a URL, for one-line summaries (the full URL is in the request itself).
fn path_of(url: &str) -> &str {
    url.find("://")
        .and_then(|scheme_end| {
            let rest = &url[scheme_end + 3..];
            rest.find('/').map(|slash| &rest[slash..])
        })
        .unwrap_or(url)
}

fn status_class(response: Option<&RecordedResponse>) -> &'static str {
    match response.map(|r| r.status) {
        Some(200..=299) => "s2xx",
        Some(300..=399) => "s3xx",
        Some(400..=499) => "s4xx",
        Some(_) => "s5xx",
        None => "none",
    }
}

fn profile_list(target: &TargetReport) -> String {
    let names: Vec<&str> = target.profiles.iter().map(|p| p.as_str()).collect();
    names.join(", ")
}

fn target_anchor(index: usize) -> String {
    format!("target-{}", index + 1)
}

fn requirement_anchor(index: usize, id: &str) -> String {
    format!("t{}-{id}", index + 1)
}

fn count(summary: &Summary, verdict: Verdict) -> usize {
    summary.get(verdict)
}

fn verdict_word(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "passed",
        Verdict::Fail => "failed",
        Verdict::Warn => "warned",
        Verdict::Inconclusive => "inconclusive",
        Verdict::Expected => "expected",
        Verdict::Skip => "skipped",
    }
}

/// `N passed, N failed, N warned, N inconclusive, N skipped`
fn counts_text(summary: &Summary) -> String {
    let parts: Vec<String> = VERDICTS
        .iter()
        .map(|v| format!("{} {}", count(summary, *v), verdict_word(*v)))
        .collect();
    parts.join(", ")
}

fn seconds(ms: u64) -> String {
    format!("{:.2} s", ms as f64 / 1000.0)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

const STYLE: &str = r#"
:root { --pass: #1a7f37; --fail: #cf222e; --warn: #9a6700; --inconclusive: #8250df; --skip: #6e7781;
  --expected: #0969da;
  --border: #d0d7de; --muted: #57606a; --code-bg: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #1f2328; background: #fff; }
main { max-width: 1200px; margin: 0 auto; padding: 0 24px 48px; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 13px; }
pre { background: var(--code-bg); border: 1px solid var(--border); border-radius: 6px; padding: 8px 10px;
  margin: 4px 0 8px; white-space: pre-wrap; word-break: break-all; }
.banner { padding: 20px 24px; color: #fff; }
.banner h1 { margin: 0 0 4px; font-size: 22px; }
.banner p { margin: 2px 0; }
.banner .outcome { font-size: 18px; font-weight: 600; }
.banner code { color: inherit; }
.outcome-pass { background: var(--pass); }
.outcome-fail { background: var(--fail); }
.secrets-shown { background: #fff8c5; color: #1f2328; display: inline-block; padding: 2px 8px; border-radius: 4px; }
h2 { margin: 28px 0 8px; font-size: 20px; border-bottom: 1px solid var(--border); padding-bottom: 4px; }
h2 .url { font-size: 14px; color: var(--muted); font-weight: normal; }
h3 { margin: 0; font-size: 16px; }
h4 { margin: 6px 0 2px; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
table { border-collapse: collapse; margin: 8px 0 12px; }
th, td { border: 1px solid var(--border); padding: 4px 8px; text-align: left; vertical-align: top; }
thead th, tfoot th { background: var(--code-bg); }
.num { text-align: right; font-variant-numeric: tabular-nums; }
td.zero { color: #afb8c1; }
td.fail, td.warn, td.inconclusive, td.pass, td.skip { font-weight: 600; }
td.fail { color: var(--fail); } td.warn { color: var(--warn); } td.inconclusive { color: var(--inconclusive); }
td.pass { color: var(--pass); } td.skip { color: var(--skip); }
td.expected { color: var(--expected); font-weight: 600; }
.counts .count { display: inline-block; margin-right: 16px; font-size: 16px; }
.counts .count strong { font-size: 22px; }
.count.pass strong { color: var(--pass); } .count.fail strong { color: var(--fail); }
.count.warn strong { color: var(--warn); } .count.inconclusive strong { color: var(--inconclusive); }
.count.skip strong { color: var(--skip); } .count.expected strong { color: var(--expected); }
.exit-meaning { color: var(--muted); }
.glance { display: grid; grid-template-columns: 220px 1fr; gap: 8px; margin: 6px 0 10px; align-items: start; }
.glance-target { font-weight: 600; }
.chips { display: flex; flex-wrap: wrap; gap: 4px; }
.chip { display: inline-block; padding: 0 6px; border-radius: 4px; font-size: 12px; line-height: 20px;
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; text-decoration: none;
  border: 1px solid; }
.chip.pass { background: #dafbe1; color: #116329; border-color: #aceebb; }
.chip.fail { background: #ffebe9; color: #a40e26; border-color: #ff8182; font-weight: 700; }
.chip.warn { background: #fff8c5; color: #7d4e00; border-color: #eac54f; }
.chip.inconclusive { background: #fbefff; color: #6639ba; border-color: #d8b9ff; }
.chip.skip { background: #f6f8fa; color: #6e7781; border-color: #d0d7de; }
.chip.expected { background: #ddf4ff; color: #0550ae; border-color: #80ccff; }
.legend { font-size: 12px; color: var(--muted); display: flex; gap: 6px; }
.badge { display: inline-block; min-width: 44px; text-align: center; padding: 0 6px; border-radius: 10px;
  font-size: 12px; font-weight: 600; text-transform: uppercase; color: #fff; text-decoration: none; line-height: 20px; }
.badge.pass { background: var(--pass); } .badge.fail { background: var(--fail); }
.badge.warn { background: var(--warn); } .badge.inconclusive { background: var(--inconclusive); }
.badge.skip { background: var(--skip); } .badge.expected { background: var(--expected); }
.level { font-size: 11px; font-weight: 700; padding: 0 5px; border-radius: 3px; border: 1px solid; }
.level.must { color: var(--fail); } .level.should { color: var(--warn); }
.filter { position: sticky; top: 0; background: #fff; border-bottom: 1px solid var(--border); padding: 8px 0;
  margin-top: 16px; z-index: 1; display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
.filter button { font: inherit; font-size: 13px; padding: 2px 10px; border: 1px solid var(--border);
  border-radius: 6px; background: var(--code-bg); cursor: pointer; }
.target-meta { color: var(--muted); margin-top: 0; }
.requirement { border: 1px solid var(--border); border-left: 6px solid var(--skip); border-radius: 6px;
  padding: 10px 14px; margin: 10px 0; }
.requirement.pass { border-left-color: var(--pass); } .requirement.fail { border-left-color: var(--fail); }
.requirement.warn { border-left-color: var(--warn); } .requirement.inconclusive { border-left-color: var(--inconclusive); }
.requirement.expected { border-left-color: var(--expected); }
.expectation { font-size: 14px; background: #ddf4ff; border-radius: 6px; padding: 4px 10px; }
.expectation-problems { border: 2px solid var(--fail); border-radius: 6px; padding: 6px 14px; }
.requirement > header { display: flex; gap: 10px; align-items: baseline; flex-wrap: wrap; }
.requirement .title { color: #1f2328; }
.clause { margin: 8px 0; padding: 4px 12px; border-left: 3px solid var(--border); color: #3b434b; }
.clause p { margin: 0; font-style: italic; }
.clause footer { font-size: 13px; color: var(--muted); }
.accept, .skip-reasons, .readings, .observations { font-size: 14px; }
.skip-reasons, .readings, .observations { margin: 6px 0; padding-left: 20px; }
.skip-reasons { color: var(--muted); }
.finding { border: 1px solid var(--border); border-radius: 6px; padding: 6px 10px; margin: 8px 0; background: #fff5f5; }
.finding.warn { background: #fff8c5; } .finding.inconclusive { background: #fbefff; }
.finding dl { display: grid; grid-template-columns: 80px 1fr; gap: 2px 8px; margin: 4px 0; }
.finding dt { color: var(--muted); } .finding dd { margin: 0; overflow-wrap: anywhere; }
.where { margin: 2px 0; }
.location { color: var(--muted); font-family: ui-monospace, monospace; font-size: 12px; }
details.checks > summary { cursor: pointer; color: var(--muted); margin: 6px 0; }
.check { border-top: 1px dashed var(--border); padding: 6px 0 2px 8px; }
details.exchange { margin: 4px 0 4px 12px; }
details.exchange > summary { cursor: pointer; font-size: 14px; }
.http { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
@media (max-width: 800px) { .http { grid-template-columns: 1fr; } }
.status { font-weight: 600; font-family: ui-monospace, monospace; }
.status.s2xx { color: var(--pass); } .status.s4xx { color: var(--warn); } .status.s5xx, .status.none { color: var(--fail); }
pre.curl { background: #1f2328; color: #f6f8fa; }
pre.error { color: var(--fail); }
.page-footer { max-width: 1200px; margin: 0 auto; padding: 16px 24px 32px; color: var(--muted); font-size: 13px;
  border-top: 1px solid var(--border); }
body.hide-pass .requirement.pass, body.hide-fail .requirement.fail, body.hide-warn .requirement.warn,
body.hide-inconclusive .requirement.inconclusive, body.hide-skip .requirement.skip,
body.hide-expected .requirement.expected { display: none; }
"#;

/// Filtering by verdict (also from the address: `report.html#show=fail,warn`) and opening every exchange at
/// once; without the script the page shows everything.
const SCRIPT: &str = r#"
(function () {
  var boxes = document.querySelectorAll('input[data-verdict-filter]');
  function apply(box) {
    document.body.classList.toggle('hide-' + box.dataset.verdictFilter, !box.checked);
  }
  var shown = /(?:^#|&)show=([a-z,]+)/.exec(location.hash);
  boxes.forEach(function (box) {
    if (shown) {
      box.checked = shown[1].split(',').indexOf(box.dataset.verdictFilter) >= 0;
      apply(box);
    }
    box.addEventListener('change', function () { apply(box); });
  });
  document.querySelectorAll('button[data-expand]').forEach(function (button) {
    button.addEventListener('click', function () {
      var open = button.dataset.expand === 'open';
      document.querySelectorAll('details').forEach(function (d) { d.open = open; });
    });
  });
  document.documentElement.dataset.script = 'ran';
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_line_shows_the_path_only() {
        assert_eq!(
            path_of("http://127.0.0.1:8080/user/auth?x=1"),
            "/user/auth?x=1"
        );
        assert_eq!(path_of("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
    }

    #[test]
    fn json_bodies_are_indented_and_others_kept() {
        assert_eq!(readable_body(r#"{"a":1}"#), "{\n  \"a\": 1\n}");
        assert_eq!(readable_body("plain <text>"), "plain <text>");
        assert_eq!(readable_body("42"), "42");
    }

    #[test]
    fn markup_in_recorded_text_is_escaped() {
        let markup = html! { pre { (readable_body("<script>alert(1)</script>")) } };
        assert_eq!(
            markup.into_string(),
            "<pre>&lt;script&gt;alert(1)&lt;/script&gt;</pre>"
        );
    }
}
