//! The load report for people (human), machines (JSON) and CI (JUnit), each written to a `dyn Write`; its
//! page of charts is [`super::write_load_html`].

use std::io::{self, Write};

use super::ReportFormat;
use crate::engine::{LoadFigures, Verdict};
use crate::load::LoadReport;

/// A format a load run cannot be reported in.
#[derive(Debug, thiserror::Error)]
#[error("--format github is a report of `run`; for load, use junit or json")]
pub struct NotForLoad;

/// Refuses, before a load run starts, the formats its report cannot be written in.
pub fn check_formats(specs: &[super::FormatSpec]) -> Result<(), NotForLoad> {
    if specs.iter().any(|spec| spec.format == ReportFormat::Github) {
        return Err(NotForLoad);
    }
    Ok(())
}

/// A load run's report in one format (`--format github` is refused before a load run starts).
pub fn write(
    format: ReportFormat,
    report: &LoadReport,
    out: &mut dyn Write,
    verbose: bool,
) -> io::Result<()> {
    match format {
        ReportFormat::Human => write_human(report, out, verbose),
        ReportFormat::Json => write_json(report, out),
        ReportFormat::Junit => write_junit(report, out),
        ReportFormat::Html => super::write_load_html(out, report),
        ReportFormat::Github => Err(io::Error::other(NotForLoad)),
    }
}

/// For people: the rates, the statuses, and the verdicts. Quiet unless `verbose`: what did not pass in full
/// (expected and seen), the passes as one line of ids; `verbose`: every verdict in full.
pub fn write_human(report: &LoadReport, out: &mut dyn Write, verbose: bool) -> io::Result<()> {
    writeln!(
        out,
        "load profile {} against {}",
        report.profile, report.target
    )?;
    writeln!(
        out,
        "  {} requests from {} users in {:.2} s: {:.0} req/s; latency p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        report.requests,
        report.users,
        report.duration_ms as f64 / 1000.0,
        report.requests_per_second,
        report.latency.p50_ms,
        report.latency.p95_ms,
        report.latency.p99_ms,
        report.latency.max_ms
    )?;
    let statuses: Vec<String> = report
        .statuses
        .iter()
        .map(|(s, n)| format!("{s}: {n}"))
        .collect();
    writeln!(
        out,
        "  statuses: {}; transport errors: {}",
        statuses.join(", "),
        report.transport_errors
    )?;
    if report.cut_bodies > 0 {
        writeln!(
            out,
            "  bodies cut at --max-body: {} (read up to it, the rest left unread)",
            report.cut_bodies
        )?;
    }
    let mut passed: Vec<&str> = Vec::new();
    for verdict in &report.requirements {
        if !verbose && verdict.verdict == Verdict::Pass {
            passed.push(&verdict.id);
            continue;
        }
        writeln!(
            out,
            "  {} {}",
            verdict.verdict.as_str().to_uppercase(),
            verdict.id
        )?;
        writeln!(out, "       expected: {}", verdict.expected)?;
        writeln!(out, "       actual:   {}", verdict.actual)?;
        if let Some(note) = &verdict.note {
            writeln!(out, "       note:     {note}")?;
        }
    }
    if !passed.is_empty() {
        writeln!(out, "  PASS {}", super::id_ranges(&passed))?;
    }
    for threshold in &report.thresholds {
        writeln!(
            out,
            "  {} threshold {} (actual {:.2})",
            if threshold.passed { "PASS" } else { "FAIL" },
            threshold.threshold,
            threshold.actual
        )?;
    }
    if let Some(path) = &report.html_report {
        writeln!(out, "  report with charts: {path}")?;
    }
    for path in &report.goose_reports {
        writeln!(out, "  goose report: {path}")?;
    }
    let failed = report
        .requirements
        .iter()
        .filter(|v| v.verdict == Verdict::Fail)
        .count()
        + report.thresholds.iter().filter(|t| !t.passed).count();
    writeln!(
        out,
        "{} checks, {failed} failed",
        report.requirements.len() + report.thresholds.len()
    )
}

/// For machines: the whole report (versioned by `version`).
pub fn write_json(report: &LoadReport, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report).map_err(io::Error::other)?;
    writeln!(out)
}

/// For CI: one test case per requirement and per threshold.
pub fn write_junit(report: &LoadReport, out: &mut dyn Write) -> io::Result<()> {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut suite = TestSuite::new(format!("authconform load {}", report.profile));
    for verdict in &report.requirements {
        let status = match verdict.verdict {
            Verdict::Pass | Verdict::Warn => TestCaseStatus::success(),
            Verdict::Skip | Verdict::Expected => TestCaseStatus::skipped(),
            Verdict::Inconclusive | Verdict::Fail => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status.set_message(format!(
                    "expected {}; actual {}",
                    verdict.expected, verdict.actual
                ));
                status
            }
        };
        suite.add_test_case(TestCase::new(verdict.id.clone(), status));
    }
    for threshold in &report.thresholds {
        let status = if threshold.passed {
            TestCaseStatus::success()
        } else {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(format!("actual {:.2}", threshold.actual));
            status
        };
        suite.add_test_case(TestCase::new(
            format!("threshold {}", threshold.threshold),
            status,
        ));
    }
    let mut report = Report::new("authconform load");
    report.add_test_suite(suite);
    let xml = report.to_string().map_err(io::Error::other)?;
    out.write_all(xml.as_bytes())
}

/// What a load run's concurrent steps measured, for people: the rate and latencies, the statuses, and
/// each `--threshold`.
pub(crate) fn write_figures(out: &mut dyn Write, figures: &LoadFigures) -> io::Result<()> {
    writeln!(
        out,
        "  load: {} requests from {} users in {:.2} s: {:.0} req/s; latency p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        figures.requests,
        figures.users,
        figures.duration_ms as f64 / 1000.0,
        figures.requests_per_second,
        figures.latency_ms.p50,
        figures.latency_ms.p95,
        figures.latency_ms.p99,
        figures.latency_ms.max
    )?;
    let statuses: Vec<String> = figures
        .statuses
        .iter()
        .map(|(s, n)| format!("{s}: {n}"))
        .collect();
    writeln!(
        out,
        "  statuses: {}; no answer: {}",
        statuses.join(", "),
        figures.no_answer
    )?;
    for threshold in &figures.thresholds {
        writeln!(
            out,
            "  {} threshold {}: {:.2}",
            if threshold.passed { "PASS" } else { "FAIL" },
            threshold.threshold,
            threshold.actual
        )?;
    }
    Ok(())
}
