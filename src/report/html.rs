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
    out: Box<dyn Write + Send>,
    /// Whether the reports carry secrets (`--show-secrets`): the page then says so at the top.
    secrets_shown: bool,
}

impl HtmlReporter {
    pub fn new(out: Box<dyn Write + Send>, secrets_shown: bool) -> HtmlReporter {
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
                title { "authconform: " (report.requirements.total()) " requirements: " (counts_text(&report.requirements)) }
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
                    (super::load_compare::comparison(report))
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
                span.count { strong { (report.requirements.total()) } " requirements:" }
                @for verdict in VERDICTS {
                    span.count.(verdict.as_str()) {
                        strong { (count(&report.requirements, verdict)) } " " (verdict_word(verdict))
                    }
                }
                @if report.requirements.not_applicable > 0 {
                    span.count.skip {
                        strong { (report.requirements.not_applicable) } " not applicable"
                    }
                }
            }
            table.targets {
                thead {
                    tr {
                        th { "target" } th { "base URL" } th { "profiles" } th { "clock" }
                        @for verdict in VERDICTS { th.num { (verdict.as_str()) } }
                        th.num { "n/a" }
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
                            td.num.zero { (target.summary.not_applicable) }
                            td.num { (seconds(target.duration_ms)) }
                        }
                    }
                }
                tfoot {
                    tr {
                        th colspan="4" { "all targets" }
                        @for verdict in VERDICTS { th.num { (count(&report.summary, verdict)) } }
                        th.num { (report.summary.not_applicable) }
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
                @if let Some(after) = super::curl::after_steps(&finding.scenario, finding.step_number) {
                    p.after { (after) }
                }
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

const STYLE: &str = include_str!("assets/page.css");

/// Filtering by verdict (also from the address: `report.html#show=fail,warn`) and opening every exchange at
/// once; without the script the page shows everything.
const SCRIPT: &str = include_str!("assets/page.js");

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
