//! The expectations file (`--expect FILE`): requirement ids or globs known to fail, warn or be inconclusive
//! on a target, each with a reason and an optional last day. Applied to a finished report: a matching outcome
//! becomes the verdict `expected` (shown and counted, not failing the run); an entry that matched nothing
//! (stale) or whose day has passed (expired) fails the run, so the list only shrinks.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobMatcher};
use serde::Deserialize;
use toml::Spanned;
use toml::value::Datetime;

use crate::engine::{
    ExpectationNote, ExpectationProblem, ExpectationProblemKind, RequirementReport, RunReport,
    Summary, TargetReport, Verdict,
};
use authconform_scenario::diagnostics::SourceFile;

#[derive(Debug, thiserror::Error)]
pub enum ExpectationsError {
    #[error("could not read expectations file {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: {message}", path.display())]
    InFile {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
}

/// A calendar day, comparable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Day {
    pub year: i64,
    pub month: u8,
    pub day: u8,
}

impl Day {
    /// Today in UTC.
    pub fn today() -> Day {
        let seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Day::from_days_since_epoch(i64::try_from(seconds / 86_400).unwrap_or(0))
    }

    /// The civil date of a day count (Howard Hinnant's `civil_from_days`).
    fn from_days_since_epoch(days: i64) -> Day {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Day {
            year,
            month: u8::try_from(month).unwrap_or(1),
            day: u8::try_from(day).unwrap_or(1),
        }
    }
}

impl std::fmt::Display for Day {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectationsFile {
    #[serde(default)]
    expect: Vec<EntryFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryFile {
    id: Spanned<String>,
    outcome: ExpectedOutcome,
    reason: Spanned<String>,
    until: Option<Spanned<Datetime>>,
    target: Option<Spanned<String>>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ExpectedOutcome {
    Fail,
    Warn,
    Inconclusive,
}

impl ExpectedOutcome {
    fn verdict(self) -> Verdict {
        match self {
            ExpectedOutcome::Fail => Verdict::Fail,
            ExpectedOutcome::Warn => Verdict::Warn,
            ExpectedOutcome::Inconclusive => Verdict::Inconclusive,
        }
    }
}

/// One entry, ready to match.
#[derive(Debug)]
struct Entry {
    pattern: String,
    ids: GlobMatcher,
    targets: Option<GlobMatcher>,
    note: ExpectationNote,
    expired: bool,
}

impl Entry {
    fn matches(&self, target: &str, requirement: &RequirementReport) -> bool {
        !self.expired
            && self.note.outcome == judged(requirement)
            && self.ids.is_match(&requirement.id)
            && self.targets.as_ref().is_none_or(|t| t.is_match(target))
    }
}

/// The outcome the engine judged: a warning that `--strict` turned into a failure is still a warning.
fn judged(requirement: &RequirementReport) -> Verdict {
    let worst = requirement.findings.iter().map(|f| f.severity).max();
    if requirement.verdict == Verdict::Fail && worst == Some(Verdict::Warn) {
        Verdict::Warn
    } else {
        requirement.verdict
    }
}

/// The parsed expectations of one file.
#[derive(Debug, Default)]
pub struct Expectations {
    entries: Vec<Entry>,
}

/// Reads and checks an expectations file; `catalogue` is every requirement id (an entry must name one).
pub fn load(path: &Path, catalogue: &[&str]) -> Result<Expectations, ExpectationsError> {
    let text = std::fs::read_to_string(path).map_err(|source| ExpectationsError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(path, &text, catalogue, Day::today())
}

/// Parses an expectations file as of `today`.
pub fn parse(
    path: &Path,
    text: &str,
    catalogue: &[&str],
    today: Day,
) -> Result<Expectations, ExpectationsError> {
    let source = SourceFile::new(path, text);
    let located = |span: std::ops::Range<usize>, message: String| {
        let (line, column) = source.line_col(span.start);
        ExpectationsError::InFile {
            path: path.to_owned(),
            line,
            column,
            message,
        }
    };
    let file: ExpectationsFile = toml::from_str(text).map_err(|err| {
        let span = err.span().unwrap_or(0..0);
        let message = err.message().trim().to_owned();
        let message = match key_before(text, span.start) {
            Some(key) if !message.contains(&format!("`{key}`")) => format!("`{key}`: {message}"),
            _ => message,
        };
        located(span, message)
    })?;
    let mut entries = Vec::with_capacity(file.expect.len());
    for entry in file.expect {
        let pattern = entry.id.get_ref().trim().to_owned();
        let ids = Glob::new(&pattern)
            .map_err(|err| {
                located(
                    entry.id.span(),
                    format!("`id`: `{pattern}` is not a valid glob: {err}"),
                )
            })?
            .compile_matcher();
        if !catalogue.iter().any(|id| ids.is_match(id)) {
            let hint = catalogue
                .iter()
                .map(|id| (strsim::levenshtein(id, &pattern), *id))
                .min()
                .filter(|(distance, _)| *distance <= 3)
                .map_or(String::new(), |(_, id)| format!(" (did you mean `{id}`?)"));
            return Err(located(
                entry.id.span(),
                format!("`id`: `{pattern}` names no requirement of the catalogue{hint}"),
            ));
        }
        if entry.reason.get_ref().trim().is_empty() {
            return Err(located(
                entry.reason.span(),
                "`reason`: say why the outcome is expected".into(),
            ));
        }
        let until = match &entry.until {
            Some(until) => Some(day_of(until.get_ref()).ok_or_else(|| {
                located(
                    until.span(),
                    format!(
                        "`until`: `{}` is not a date like 2027-03-31",
                        until.get_ref()
                    ),
                )
            })?),
            None => None,
        };
        let targets = match &entry.target {
            Some(target) => Some(
                Glob::new(target.get_ref())
                    .map_err(|err| {
                        located(
                            target.span(),
                            format!(
                                "`target`: `{}` is not a valid glob: {err}",
                                target.get_ref()
                            ),
                        )
                    })?
                    .compile_matcher(),
            ),
            None => None,
        };
        let (line, _) = source.line_col(entry.id.span().start);
        entries.push(Entry {
            pattern,
            ids,
            targets,
            note: ExpectationNote {
                outcome: entry.outcome.verdict(),
                reason: entry.reason.into_inner().trim().to_owned(),
                until: until.map(|day| day.to_string()),
                location: format!("{}:{line}", path.display()),
            },
            expired: until.is_some_and(|until| until < today),
        });
    }
    Ok(Expectations { entries })
}

/// The key of `key = value` on the line holding `offset`, when the offset is in its value.
fn key_before(text: &str, offset: usize) -> Option<&str> {
    let before = text.get(..offset)?;
    let line = &before[before.rfind('\n').map_or(0, |i| i + 1)..];
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    (!key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    .then_some(key)
}

fn day_of(datetime: &Datetime) -> Option<Day> {
    match (datetime.date, datetime.time, datetime.offset) {
        (Some(date), None, None) => Some(Day {
            year: i64::from(date.year),
            month: date.month,
            day: date.day,
        }),
        _ => None,
    }
}

impl Expectations {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The target with every expected outcome marked `expected`, its summary counted again.
    pub fn apply_target(&self, target: &TargetReport) -> TargetReport {
        let mut applied = target.clone();
        let mut summary = Summary::default();
        for requirement in &mut applied.requirements {
            if let Some(entry) = self
                .entries
                .iter()
                .find(|entry| entry.matches(&target.name, requirement))
            {
                requirement.verdict = Verdict::Expected;
                requirement.expectation = Some(entry.note.clone());
            }
            summary.count_requirement(requirement, &target.profiles);
        }
        applied.summary = summary;
        applied
    }

    /// The run with every target's expected outcomes marked, and the stale and expired entries named.
    pub fn apply_run(&self, report: &RunReport) -> RunReport {
        let mut applied = report.clone();
        applied.targets = report
            .targets
            .iter()
            .map(|target| self.apply_target(target))
            .collect();
        applied.summary = Summary::default();
        for target in &applied.targets {
            applied.summary.add(&target.summary);
        }
        applied.requirements = Summary::by_requirement(&applied.targets);
        for entry in &self.entries {
            let met = report.targets.iter().any(|target| {
                target
                    .requirements
                    .iter()
                    .any(|requirement| entry.matches(&target.name, requirement))
            });
            let problem = if entry.expired {
                let until = entry.note.until.as_deref().unwrap_or_default();
                Some((
                    ExpectationProblemKind::Expired,
                    format!("expired on {until}: fix it, or give a new date and a reason"),
                ))
            } else if !met {
                let outcome = entry.note.outcome;
                Some((
                    ExpectationProblemKind::Stale,
                    format!(
                        "expected to {}, but no target {}: remove the entry",
                        outcome_verb(outcome),
                        outcome_past(outcome)
                    ),
                ))
            } else {
                None
            };
            if let Some((kind, message)) = problem {
                applied.expectation_problems.push(ExpectationProblem {
                    kind,
                    requirement: entry.pattern.clone(),
                    note: entry.note.clone(),
                    message,
                });
            }
        }
        applied
    }
}

fn outcome_verb(outcome: Verdict) -> &'static str {
    match outcome {
        Verdict::Warn => "warn",
        Verdict::Inconclusive => "be inconclusive",
        _ => "fail",
    }
}

fn outcome_past(outcome: Verdict) -> &'static str {
    match outcome {
        Verdict::Warn => "warned on it",
        Verdict::Inconclusive => "left it inconclusive",
        _ => "failed it",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CATALOGUE: [&str; 3] = ["AM-SIGNUP-01", "AM-SIGNUP-RL-01", "CS-LOCKOUT-01"];
    const TODAY: Day = Day {
        year: 2026,
        month: 12,
        day: 1,
    };

    fn parse_text(text: &str) -> Result<Expectations, ExpectationsError> {
        parse(Path::new("expect.toml"), text, &CATALOGUE, TODAY)
    }

    #[test]
    fn days_are_counted_from_the_epoch() {
        assert_eq!(Day::from_days_since_epoch(0).to_string(), "1970-01-01");
        assert_eq!(Day::from_days_since_epoch(20_788).to_string(), "2026-12-01");
        assert_eq!(Day::from_days_since_epoch(11_016).to_string(), "2000-02-29");
    }

    #[test]
    fn a_file_parses_with_dates_and_globs() {
        let parsed = parse_text(
            "[[expect]]\nid = \"AM-SIGNUP-*\"\noutcome = \"fail\"\nreason = \"known\"\nuntil = 2027-01-31\n\n\
             [[expect]]\nid = \"CS-LOCKOUT-01\"\noutcome = \"warn\"\nreason = \"old\"\nuntil = 2026-11-30\n",
        )
        .unwrap();
        assert_eq!(parsed.entries.len(), 2);
        assert!(!parsed.entries[0].expired);
        assert!(parsed.entries[1].expired, "the day before today has passed");
        assert_eq!(parsed.entries[1].note.location, "expect.toml:8");
    }

    #[test]
    fn mistakes_are_located_with_their_key() {
        let err = |text: &str| parse_text(text).unwrap_err().to_string();
        assert_eq!(
            err("[[expect]]\nid = \"AM-SIGNUP-01\"\noutcome = \"pass\"\nreason = \"x\"\n"),
            "expect.toml:3:11: `outcome`: unknown variant `pass`, expected one of `fail`, `warn`, `inconclusive`"
        );
        assert!(
            err("[[expect]]\nid = \"AM-SIGNUP-01\"\noutcome = \"fail\"\nreason = \"x\"\nuntil = \"soon\"\n")
                .starts_with("expect.toml:5:9: `until`: "),
        );
        assert_eq!(
            err("[[expect]]\nid = \"AM-SIGNUP-O1\"\noutcome = \"fail\"\nreason = \"x\"\n"),
            "expect.toml:2:6: `id`: `AM-SIGNUP-O1` names no requirement of the catalogue (did you mean `AM-SIGNUP-01`?)"
        );
        assert!(
            err("[[expect]]\nid = \"AM-SIGNUP-01\"\noutcome = \"fail\"\nreason = \"x\"\nreasons = 1\n")
                .starts_with("expect.toml:5:1: unknown field `reasons`"),
        );
        assert!(
            err("[[expect]]\nid = \"AM-SIGNUP-01\"\noutcome = \"fail\"\n")
                .contains("missing field `reason`"),
        );
    }
}
