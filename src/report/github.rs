//! The GitHub Actions report: Markdown for the job summary (`$GITHUB_STEP_SUMMARY`): the outcome, a table of
//! counts per target, per target a table of what needs attention, and each failure with its `curl` line in a
//! `<details>` block; and workflow commands (`::error`, `::warning`) that annotate the job with every
//! failure, warning, inconclusive check and failing expectation.

use std::fmt::Write as _;
use std::io::{self, Write};

use crate::engine::{EngineEvent, Finding, RequirementReport, RunReport, TargetReport, Verdict};

/// How many findings of one requirement the summary shows.
const FINDINGS_SHOWN: usize = 3;

pub struct GithubReporter {
    summary: Box<dyn Write + Send>,
    annotations: Box<dyn Write + Send>,
}

impl GithubReporter {
    /// `summary` receives the Markdown, `annotations` the workflow commands (stdout in a job).
    pub fn new(
        summary: Box<dyn Write + Send>,
        annotations: Box<dyn Write + Send>,
    ) -> GithubReporter {
        GithubReporter {
            summary,
            annotations,
        }
    }
}

impl super::Reporter for GithubReporter {
    fn handle(&mut self, event: &EngineEvent<'_>) -> io::Result<()> {
        match event {
            EngineEvent::RunFinished(report) => {
                self.summary.write_all(markdown(report).as_bytes())?;
                self.summary.flush()?;
                self.annotations.write_all(annotations(report).as_bytes())?;
                self.annotations.flush()
            }
            _ => Ok(()),
        }
    }
}

/// Verdicts in the order of the tables' columns: what needs attention first.
const COLUMNS: [Verdict; 6] = Verdict::BY_ATTENTION;

/// The job summary.
pub fn markdown(report: &RunReport) -> String {
    let mut md = String::new();
    let outcome = if report.passed() {
        "✅ authconform: passed"
    } else {
        "❌ authconform: failed"
    };
    let _ = writeln!(md, "## {outcome}\n");
    let counts: Vec<String> = COLUMNS
        .iter()
        .map(|verdict| format!("{} {}", report.summary.get(*verdict), verdict))
        .collect();
    let _ = writeln!(
        md,
        "{} · {:.2} s · run `{}` · authconform {}{}\n",
        counts.join(", "),
        report.duration_ms as f64 / 1000.0,
        report.run_id,
        report.tool_version,
        if report.strict {
            " · strict: warnings fail"
        } else {
            ""
        }
    );
    let _ = write!(md, "| target | base URL |");
    for verdict in COLUMNS {
        let _ = write!(md, " {verdict} |");
    }
    let _ = write!(md, "\n|---|---|");
    for _ in COLUMNS {
        let _ = write!(md, "--:|");
    }
    md.push('\n');
    for target in &report.targets {
        let _ = write!(
            md,
            "| {} | `{}` |",
            cell(&target.name),
            cell(&target.base_url)
        );
        for verdict in COLUMNS {
            let count = target.summary.get(verdict);
            if count > 0 && !matches!(verdict, Verdict::Pass | Verdict::Skip) {
                let _ = write!(md, " **{count}** |");
            } else {
                let _ = write!(md, " {count} |");
            }
        }
        md.push('\n');
    }
    md.push('\n');
    if !report.expectation_problems.is_empty() {
        let _ = writeln!(md, "### Expectations that fail the run\n");
        for problem in &report.expectation_problems {
            let _ = writeln!(
                md,
                "- **{}** `{}` ({}): {}",
                problem.kind.as_str(),
                problem.requirement,
                text(&problem.note.location),
                text(&problem.message)
            );
        }
        md.push('\n');
    }
    for target in &report.targets {
        target_section(&mut md, target);
    }
    md
}

fn target_section(md: &mut String, target: &TargetReport) {
    let profiles: Vec<&str> = target.profiles.iter().map(|p| p.as_str()).collect();
    let _ = writeln!(
        md,
        "### {}\n\n{} · clock {} · {:.2} s\n",
        text(&target.name),
        profiles.join(", "),
        target.clock,
        target.duration_ms as f64 / 1000.0
    );
    let attention: Vec<&RequirementReport> = target
        .requirements
        .iter()
        .filter(|r| !matches!(r.verdict, Verdict::Pass | Verdict::Skip))
        .collect();
    if attention.is_empty() {
        let _ = writeln!(
            md,
            "Every applicable requirement passed ({} passed, {} skipped).\n",
            target.summary.passed, target.summary.skipped
        );
        return;
    }
    let _ = writeln!(
        md,
        "| verdict | requirement | level | what |\n|---|---|---|---|"
    );
    for requirement in &attention {
        let verdict = match &requirement.expectation {
            Some(note) => format!("expected {}", note.outcome),
            None => requirement.verdict.to_string(),
        };
        let what = match &requirement.expectation {
            Some(note) => format!("{} (expected: {})", requirement.title, note.reason),
            None => requirement.title.clone(),
        };
        let _ = writeln!(
            md,
            "| **{verdict}** | `{}` | {} | {} |",
            requirement.id,
            requirement.level.keyword(),
            cell(&what)
        );
    }
    md.push('\n');
    for requirement in attention.iter().filter(|r| r.verdict != Verdict::Expected) {
        details(md, requirement);
    }
}

/// One requirement's findings, folded: where, expected and actual, and the `curl` that replays it.
fn details(md: &mut String, requirement: &RequirementReport) {
    let _ = writeln!(
        md,
        "<details><summary><b>{}</b> {}: {}</summary>\n",
        requirement.verdict.as_str().to_uppercase(),
        requirement.id,
        text(&requirement.title)
    );
    let mut findings: Vec<&Finding> = requirement.findings.iter().collect();
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    for finding in findings.iter().take(FINDINGS_SHOWN) {
        let _ = writeln!(
            md,
            "{} in `{}`, step {} “{}” ({})\n",
            finding.severity,
            finding.scenario,
            finding.step_number,
            text(&finding.step),
            text(&finding.location)
        );
        for (label, value) in [
            ("expected", &finding.expected),
            ("actual", &finding.actual),
            ("note", &finding.note),
        ] {
            if let Some(value) = value {
                let _ = writeln!(md, "- {label}: {}", text(value));
            }
        }
        md.push('\n');
        if let Some(curl) = &finding.curl {
            let _ = writeln!(md, "```sh\n{curl}\n```\n");
        }
    }
    if findings.len() > FINDINGS_SHOWN {
        let _ = writeln!(
            md,
            "… and {} more (see the JSON or HTML report)\n",
            findings.len() - FINDINGS_SHOWN
        );
    }
    let _ = writeln!(
        md,
        "> {}\n>\n> — {}\n\n</details>\n",
        text(&requirement.clause),
        text(&requirement.source)
    );
}

/// Text that Markdown and the HTML inside it take literally.
fn text(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace(['\r', '\n'], " ")
}

/// Text for a table cell: also no `|`.
fn cell(value: &str) -> String {
    text(value).replace('|', "\\|")
}

/// The workflow commands: `::error` for failures, inconclusive checks and failing expectations,
/// `::warning` for warnings.
pub fn annotations(report: &RunReport) -> String {
    let mut out = String::new();
    for target in &report.targets {
        for requirement in &target.requirements {
            let (command, prefix) = match requirement.verdict {
                Verdict::Fail => ("error", ""),
                Verdict::Inconclusive => ("error", "inconclusive: "),
                Verdict::Warn => ("warning", ""),
                Verdict::Pass | Verdict::Skip | Verdict::Expected => continue,
            };
            let problem = requirement
                .findings
                .iter()
                .max_by_key(|f| f.severity)
                .map(finding_sentence)
                .unwrap_or_default();
            let title = format!("{} ({})", requirement.id, target.name);
            let message = format!("{prefix}{}{problem}", requirement.title);
            let _ = writeln!(
                out,
                "::{command} title={}::{}",
                escape_property(&title),
                escape_data(&message)
            );
        }
    }
    for problem in &report.expectation_problems {
        let (file, line) = problem
            .note
            .location
            .rsplit_once(':')
            .unwrap_or((problem.note.location.as_str(), "1"));
        let title = format!(
            "{} expectation {}",
            problem.kind.as_str(),
            problem.requirement
        );
        let _ = writeln!(
            out,
            "::error file={},line={},title={}::{}",
            escape_property(file),
            escape_property(line),
            escape_property(&title),
            escape_data(&problem.message)
        );
    }
    out
}

/// ` — expected X, got Y` or ` — note`.
fn finding_sentence(finding: &Finding) -> String {
    match (&finding.expected, &finding.actual, &finding.note) {
        (Some(expected), Some(actual), _) => format!(" — expected {expected}, got {actual}"),
        (_, _, Some(note)) => format!(" — {note}"),
        _ => String::new(),
    }
}

/// A workflow command's message: `%`, CR and LF escaped, as the runner unescapes them.
pub(crate) fn escape_data(value: &str) -> String {
    value
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value: as data, and `:` and `,` too.
pub(crate) fn escape_property(value: &str) -> String {
    escape_data(value).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_commands_escape_as_github_unescapes() {
        assert_eq!(escape_data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(
            escape_property("AM-01 (a, b: c)%"),
            "AM-01 (a%2C b%3A c)%25"
        );
    }

    #[test]
    fn table_cells_keep_their_columns() {
        assert_eq!(cell("a | b <i>\nc"), "a \\| b &lt;i&gt; c");
    }
}
