//! What output is asked for: the report formats (`--format FORMAT[=PATH]`), the listing formats of
//! `plan`, `detect` and `requirements`, and when to colour; and the reporters a run's `--format`s build.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::str::FromStr;

use clap::ValueEnum;

use super::output::{self, OutputError};
use super::{
    GithubReporter, HtmlReporter, HumanReporter, JsonReporter, JunitReporter, Reporter, ReporterSet,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Human,
    Json,
    Junit,
    /// A self-contained page: summary, then every requirement with its exchanges (`run`), or the
    /// lockout and latency charts (`load`).
    Html,
    /// Markdown for a GitHub job summary (to PATH, else $GITHUB_STEP_SUMMARY, else stdout; appended), and
    /// workflow annotations for failures and warnings on stdout (`run` only).
    Github,
}

/// `FORMAT[=PATH]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatSpec {
    pub format: ReportFormat,
    /// `None` is stdout.
    pub path: Option<PathBuf>,
}

impl FromStr for FormatSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (name, path) = match text.split_once('=') {
            Some((name, path)) => (name, Some(path)),
            None => (text, None),
        };
        let format = ReportFormat::from_str(name, true).map_err(|_| {
            format!("unknown format `{name}` (known: human, json, junit, html, github)")
        })?;
        let path = match path {
            None | Some("-") => None,
            Some("") => {
                return Err(format!(
                    "`{text}` has an empty path (use `{name}=-` for stdout)"
                ));
            }
            Some(path) => Some(PathBuf::from(path)),
        };
        Ok(FormatSpec { format, path })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Human,
    Json,
}

/// Where the GitHub format's Markdown goes: its path, else `$GITHUB_STEP_SUMMARY`, else stdout (`None`).
fn github_summary_path(spec: &FormatSpec) -> Option<PathBuf> {
    spec.path.clone().or_else(|| {
        std::env::var_os("GITHUB_STEP_SUMMARY")
            .filter(|path| !path.is_empty())
            .map(PathBuf::from)
    })
}

/// Two formats were asked for on stdout.
#[derive(Debug, thiserror::Error)]
#[error("--format: more than one format writes to stdout; give all but one a path (`{example}`)")]
pub struct SeveralOnStdout {
    pub example: &'static str,
}

/// The formats asked for (human on stdout when none), at most one of them on stdout.
pub fn format_specs(
    given: &[FormatSpec],
    example: &'static str,
) -> Result<Vec<FormatSpec>, SeveralOnStdout> {
    if given.is_empty() {
        return Ok(vec![FormatSpec {
            format: ReportFormat::Human,
            path: None,
        }]);
    }
    // GitHub's annotations are lines of their own, meant to mix with other output: only its summary counts.
    let on_stdout = |spec: &&FormatSpec| match spec.format {
        ReportFormat::Github => github_summary_path(spec).is_none(),
        _ => spec.path.is_none(),
    };
    if given.iter().filter(on_stdout).count() > 1 {
        return Err(SeveralOnStdout { example });
    }
    Ok(given.to_vec())
}

/// How the human report looks.
#[derive(Debug, Clone, Copy)]
pub struct HumanStyle {
    pub color: ColorChoice,
    pub verbose: bool,
    pub show_secrets: bool,
}

/// The reporters of a run, one per format spec (each opened where it writes).
pub fn reporters(specs: &[FormatSpec], style: HumanStyle) -> Result<ReporterSet, OutputError> {
    let mut set = ReporterSet::new(style.show_secrets);
    for spec in specs {
        if spec.format == ReportFormat::Github {
            // The job summary file is shared by the job's steps: append to it.
            let summary = match github_summary_path(spec) {
                Some(path) => output::append(&path)?,
                None => output::open(None)?,
            };
            set.add(Box::new(GithubReporter::new(
                summary.writer,
                output::open(None)?.writer,
            )));
            continue;
        }
        let output = output::open(spec.path.as_deref())?;
        let out = output.writer;
        let reporter: Box<dyn Reporter> = match spec.format {
            ReportFormat::Human => {
                let color = match style.color {
                    ColorChoice::Always => true,
                    ColorChoice::Never => false,
                    ColorChoice::Auto => {
                        output.is_terminal && std::env::var_os("NO_COLOR").is_none()
                    }
                };
                Box::new(progress_on_stderr(out, color).verbose(style.verbose))
            }
            ReportFormat::Json => Box::new(JsonReporter::new(out)),
            ReportFormat::Junit => Box::new(JunitReporter::new(out)),
            ReportFormat::Html => Box::new(HtmlReporter::new(out, style.show_secrets)),
            ReportFormat::Github => unreachable!("added above"),
        };
        set.add(reporter);
    }
    if !specs.iter().any(|spec| spec.format == ReportFormat::Human) {
        // No human report: stderr still shows what the run is doing (bars on a terminal, a line per long
        // wait or flood otherwise), so an hour-long run writing JSON or JUnit is not silent until its end.
        // The report this reporter would write goes nowhere; the formats asked for carry it.
        set.add(Box::new(progress_on_stderr(Box::new(io::sink()), false)));
    }
    Ok(set)
}

/// A human report to `out` that shows on stderr what the run is doing: progress bars on a terminal, else a
/// line per long wait or flood.
fn progress_on_stderr(out: Box<dyn Write + Send>, color: bool) -> HumanReporter {
    let bars = io::stderr().is_terminal();
    let reporter = HumanReporter::new(out, color, bars);
    if bars {
        reporter
    } else {
        reporter.noting_waits(Box::new(io::stderr()))
    }
}
