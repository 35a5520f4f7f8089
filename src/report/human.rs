//! The human report: per target, one line per requirement with its verdict, the evidence under every
//! failure, warning and inconclusive check, and a summary line. Real waits draw a progress bar on a terminal.

use std::io::{self, Write};
use std::time::Duration;

use anstyle::{AnsiColor, Effects, Style};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::{EngineEvent, RequirementReport, RunReport, Summary, TargetReport, Verdict};
use crate::target::ClockMode;

/// How many findings to print under one requirement before summarising the rest.
const FINDINGS_SHOWN: usize = 3;

pub struct HumanReporter {
    out: Box<dyn Write>,
    color: bool,
    /// Draw progress bars for real waits (only when stderr is a terminal).
    progress: bool,
    /// One bar per real wait under way, keyed by scenario and step: concurrent scenarios wait at once.
    bars: MultiProgress,
    waits: Vec<((String, String), ProgressBar)>,
}

impl HumanReporter {
    pub fn new(out: Box<dyn Write>, color: bool, progress: bool) -> HumanReporter {
        HumanReporter {
            out,
            color,
            progress,
            bars: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            waits: Vec::new(),
        }
    }

    fn paint(&self, style: Style, text: &str) -> String {
        if self.color {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_owned()
        }
    }

    fn target(&mut self, target: &TargetReport) -> io::Result<()> {
        let profiles: Vec<&str> = target.profiles.iter().map(|p| p.as_str()).collect();
        let heading = self.paint(Style::new().effects(Effects::BOLD), &target.name);
        let mut context = format!("{}; clock {}", profiles.join(", "), target.clock);
        if let Some(capability) = &target.only_requiring {
            context.push_str(&format!("; only scenarios needing {capability}"));
        }
        let mut urls = target.base_url.clone();
        for other in &target.other_base_urls {
            urls.push_str(", ");
            urls.push_str(other);
        }
        writeln!(self.out, "{heading}  {urls}  [{context}]")?;
        for requirement in &target.requirements {
            self.requirement(requirement)?;
        }
        if !target.observations.is_empty() {
            writeln!(self.out, "  {}", self.paint(dim(), "observations:"))?;
            let mut seen: Vec<(&str, &str)> = Vec::new();
            for observation in &target.observations {
                let key = (observation.scenario.as_str(), observation.detail.as_str());
                if seen.contains(&key) {
                    continue;
                }
                seen.push(key);
                writeln!(
                    self.out,
                    "    {}: {}",
                    observation.scenario, observation.detail
                )?;
            }
        }
        writeln!(self.out, "  {}", summary_line(&target.summary, None))?;
        writeln!(self.out)
    }

    fn requirement(&mut self, requirement: &RequirementReport) -> io::Result<()> {
        let (name, style) = label(requirement.verdict);
        let painted = self.paint(style, name);
        writeln!(
            self.out,
            "  {painted} {} ({}) {}",
            requirement.id,
            requirement.level.as_str(),
            requirement.title
        )?;
        let pad = "       ";
        match requirement.verdict {
            Verdict::Skip => {
                for reason in &requirement.skip_reasons {
                    writeln!(self.out, "{pad}{}", self.paint(dim(), reason))?;
                }
            }
            Verdict::Pass => {}
            Verdict::Warn | Verdict::Inconclusive | Verdict::Fail => {
                let mut findings: Vec<_> = requirement.findings.iter().collect();
                // The worst first: that is what the verdict is about.
                findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
                for finding in findings.iter().take(FINDINGS_SHOWN) {
                    let (severity, _) = label(finding.severity);
                    writeln!(
                        self.out,
                        "{pad}{} {}, step {} `{}` ({})",
                        severity.to_lowercase(),
                        finding.scenario,
                        finding.step_number,
                        finding.step,
                        finding.location
                    )?;
                    if let Some(expected) = &finding.expected {
                        writeln!(self.out, "{pad}  expected: {expected}")?;
                    }
                    if let Some(actual) = &finding.actual {
                        writeln!(self.out, "{pad}  actual:   {actual}")?;
                    }
                    if let Some(note) = &finding.note {
                        writeln!(self.out, "{pad}  note:     {note}")?;
                    }
                    if let Some(curl) = &finding.curl {
                        writeln!(self.out, "{pad}  reproduce: {}", self.paint(dim(), curl))?;
                    }
                }
                if findings.len() > FINDINGS_SHOWN {
                    writeln!(
                        self.out,
                        "{pad}... and {} more (see --format json)",
                        findings.len() - FINDINGS_SHOWN
                    )?;
                }
                writeln!(
                    self.out,
                    "{pad}clause:   \"{}\" ({})",
                    requirement.clause, requirement.source
                )?;
                if let Some(accept) = &requirement.accept {
                    writeln!(self.out, "{pad}accepts:  {accept}")?;
                }
            }
        }
        for reading in &requirement.readings {
            writeln!(
                self.out,
                "{pad}reading:  {} (status {}, {})",
                reading.reading, reading.status, reading.scenario
            )?;
        }
        Ok(())
    }

    fn run_finished(&mut self, report: &RunReport) -> io::Result<()> {
        let line = summary_line(
            &report.summary,
            Some(Duration::from_millis(report.duration_ms)),
        );
        let style = if report.summary.failed > 0 {
            Style::new()
                .fg_color(Some(AnsiColor::Red.into()))
                .effects(Effects::BOLD)
        } else {
            Style::new()
                .fg_color(Some(AnsiColor::Green.into()))
                .effects(Effects::BOLD)
        };
        writeln!(self.out, "{}", self.paint(style, &line))?;
        self.out.flush()
    }
}

impl super::Reporter for HumanReporter {
    fn handle(&mut self, event: &EngineEvent<'_>) -> io::Result<()> {
        match event {
            EngineEvent::RunStarted {
                targets,
                scenarios,
                projected_ms,
                ..
            } => {
                let line = format!(
                    "{scenarios} scenarios on {targets} target(s), projected {} (`authconform plan` shows the schedule)",
                    super::plan::duration(*projected_ms)
                );
                writeln!(self.out, "{}", self.paint(dim(), &line))
            }
            EngineEvent::WaitStarted {
                scenario,
                step,
                total_ms,
                clock: ClockMode::Real,
            } if self.progress => {
                let bar = self.bars.add(ProgressBar::new(*total_ms));
                if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {eta} left") {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar.set_message(format!("{scenario}: {step}"));
                self.waits
                    .push((((*scenario).to_owned(), (*step).to_owned()), bar));
                Ok(())
            }
            EngineEvent::WaitProgress {
                scenario,
                step,
                elapsed_ms,
                ..
            } => {
                if let Some((_, bar)) = self
                    .waits
                    .iter()
                    .find(|(key, _)| key.0 == *scenario && key.1 == *step)
                {
                    bar.set_position(*elapsed_ms);
                }
                Ok(())
            }
            EngineEvent::WaitFinished { scenario, step } => {
                if let Some(at) = self
                    .waits
                    .iter()
                    .position(|(key, _)| key.0 == *scenario && key.1 == *step)
                {
                    let (_, bar) = self.waits.remove(at);
                    bar.finish_and_clear();
                    self.bars.remove(&bar);
                }
                Ok(())
            }
            EngineEvent::TargetFinished(target) => self.target(target),
            EngineEvent::RunFinished(report) => self.run_finished(report),
            _ => Ok(()),
        }
    }
}

fn label(verdict: Verdict) -> (&'static str, Style) {
    let color = |c: AnsiColor| Style::new().fg_color(Some(c.into()));
    match verdict {
        Verdict::Pass => ("PASS", color(AnsiColor::Green)),
        Verdict::Fail => ("FAIL", color(AnsiColor::Red).effects(Effects::BOLD)),
        Verdict::Warn => ("WARN", color(AnsiColor::Yellow)),
        Verdict::Inconclusive => ("INCONCLUSIVE", color(AnsiColor::Magenta)),
        Verdict::Skip => ("SKIP", dim()),
    }
}

fn dim() -> Style {
    Style::new().effects(Effects::DIMMED)
}

/// `N passed, N failed, N warned, N skipped, N inconclusive in 1.23s`
pub(crate) fn summary_line(summary: &Summary, elapsed: Option<Duration>) -> String {
    let mut line = format!(
        "{} passed, {} failed, {} warned, {} skipped, {} inconclusive",
        summary.passed, summary.failed, summary.warned, summary.skipped, summary.inconclusive
    );
    if let Some(elapsed) = elapsed {
        line.push_str(&format!(" in {:.2}s", elapsed.as_secs_f64()));
    }
    line
}
