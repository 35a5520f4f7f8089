//! The JUnit report: one test suite per target, one test case per requirement. A warning passes with a
//! note in system-out (it is already a failure under `--strict`); inconclusive and skipped checks are skipped,
//! and so are expected outcomes (`--expect`), their message saying so; stale or expired expectations fail
//! in a suite of their own.

use std::io::{self, Write};
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::engine::{EngineEvent, RequirementReport, RunReport, Verdict};

pub struct JunitReporter {
    out: Box<dyn Write + Send>,
}

impl JunitReporter {
    pub fn new(out: Box<dyn Write + Send>) -> JunitReporter {
        JunitReporter { out }
    }

    pub fn write(out: &mut dyn Write, report: &RunReport) -> io::Result<()> {
        let mut junit = Report::new("authconform");
        junit.set_time(Duration::from_millis(report.duration_ms));
        for target in &report.targets {
            let mut suite = TestSuite::new(target.name.as_str());
            suite.set_time(Duration::from_millis(target.duration_ms));
            for requirement in &target.requirements {
                suite.add_test_case(test_case(&target.name, requirement));
            }
            for threshold in target.load.iter().flat_map(|load| &load.thresholds) {
                let status = if threshold.passed {
                    TestCaseStatus::success()
                } else {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    status.set_message(format!(
                        "{} measured {:.2}",
                        threshold.threshold, threshold.actual
                    ));
                    status
                };
                let mut case = TestCase::new(format!("threshold {}", threshold.threshold), status);
                case.set_classname(format!("{}.load", target.name));
                suite.add_test_case(case);
            }
            junit.add_test_suite(suite);
        }
        if !report.expectation_problems.is_empty() {
            let mut suite = TestSuite::new("expectations");
            for problem in &report.expectation_problems {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status.set_message(format!("{}: {}", problem.kind.as_str(), problem.message));
                status.set_description(format!(
                    "{} ({}): {}",
                    problem.requirement, problem.note.location, problem.note.reason
                ));
                let mut case = TestCase::new(
                    format!(
                        "expectation {} {}",
                        problem.requirement, problem.note.outcome
                    ),
                    status,
                );
                case.set_classname("expectations");
                suite.add_test_case(case);
            }
            junit.add_test_suite(suite);
        }
        junit.serialize(&mut *out).map_err(io::Error::other)?;
        writeln!(out)?;
        out.flush()
    }
}

fn test_case(target: &str, requirement: &RequirementReport) -> TestCase {
    let details = details(requirement);
    let first_problem = requirement
        .findings
        .iter()
        .max_by_key(|f| f.severity)
        .map(|f| match (&f.expected, &f.actual, &f.note) {
            (Some(expected), Some(actual), _) => format!("expected {expected}, got {actual}"),
            (_, _, Some(note)) => note.clone(),
            _ => format!("{} step {} failed", f.scenario, f.step_number),
        });
    let status = match requirement.verdict {
        Verdict::Pass | Verdict::Warn => TestCaseStatus::success(),
        Verdict::Fail => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(first_problem.clone().unwrap_or_else(|| "failed".into()));
            status.set_description(details.clone());
            status
        }
        Verdict::Inconclusive => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(format!(
                "inconclusive: {}",
                first_problem.clone().unwrap_or_default()
            ));
            status.set_description(details.clone());
            status
        }
        Verdict::Skip => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(requirement.skip_reasons.join("; "));
            status
        }
        Verdict::Expected => {
            let mut status = TestCaseStatus::skipped();
            if let Some(note) = &requirement.expectation {
                status.set_message(format!(
                    "expected {}: {} ({})",
                    note.outcome, note.reason, note.location
                ));
            }
            status.set_description(details.clone());
            status
        }
    };
    let mut case = TestCase::new(format!("{} {}", requirement.id, requirement.title), status);
    case.set_classname(target);
    if requirement.verdict == Verdict::Warn {
        case.set_system_out(format!(
            "warning: {}\n{details}",
            first_problem.unwrap_or_default()
        ));
    }
    case
}

/// Every finding, as text for the test case body.
fn details(requirement: &RequirementReport) -> String {
    let mut text = String::new();
    for finding in &requirement.findings {
        text.push_str(&format!(
            "{} {} step {} `{}` ({})\n",
            finding.severity, finding.scenario, finding.step_number, finding.step, finding.location
        ));
        if let Some(expected) = &finding.expected {
            text.push_str(&format!("  expected: {expected}\n"));
        }
        if let Some(actual) = &finding.actual {
            text.push_str(&format!("  actual:   {actual}\n"));
        }
        if let Some(note) = &finding.note {
            text.push_str(&format!("  note:     {note}\n"));
        }
        if let Some(blocker) = &finding.blocked_by {
            text.push_str(&format!("  blocked by: {blocker}\n"));
        }
        if let Some(curl) = &finding.curl {
            text.push_str(&format!("  reproduce: {curl}\n"));
            if let Some(after) = super::curl::after_steps(&finding.scenario, finding.step_number) {
                text.push_str(&format!("             ({after})\n"));
            }
        }
    }
    text.push_str(&format!(
        "clause: \"{}\" ({})\n",
        requirement.clause, requirement.source
    ));
    text
}

impl super::Reporter for JunitReporter {
    fn handle(&mut self, event: &EngineEvent<'_>) -> io::Result<()> {
        match event {
            EngineEvent::RunFinished(report) => JunitReporter::write(&mut self.out, report),
            _ => Ok(()),
        }
    }
}
