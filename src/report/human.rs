//! The human report. By default it is quiet: per target, what needs attention in full (failures, warnings,
//! inconclusive and expected outcomes, with the evidence and a `curl` line), the passes as a compact list of
//! ids, the requirements that do not apply in one line; then a summary table. `--verbose` lists every
//! requirement, reading and observation. Real waits draw a progress bar on a terminal.

use std::io::{self, Write};
use std::time::Duration;

use anstyle::{AnsiColor, Effects, Style};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::{EngineEvent, RequirementReport, RunReport, Summary, TargetReport, Verdict};
use crate::target::ClockMode;

/// How many findings to print under one requirement before summarising the rest.
const FINDINGS_SHOWN: usize = 3;

pub struct HumanReporter {
    out: Box<dyn Write + Send>,
    color: bool,
    /// Draw progress bars for real waits (only when stderr is a terminal).
    progress: bool,
    /// List every requirement in full, not only those needing attention.
    verbose: bool,
    /// One bar per real wait or long step under way: concurrent scenarios wait at once.
    bars: MultiProgress,
    /// The bars of real waits and long steps under way, by scenario and step.
    shown_bars: Vec<((String, String), ProgressBar)>,
    /// Without a terminal for the bars (a CI log): where a line says each real wait of
    /// [`WAIT_NOTICE_FROM_MS`] or more as it starts, so a long run is seen waiting, not hanging.
    wait_notices: Option<Box<dyn Write + Send>>,
    /// The long steps a notice has said (each once).
    noted_steps: Vec<(String, String)>,
}

/// The shortest real wait a line is written for when no bar is drawn.
pub const WAIT_NOTICE_FROM_MS: u64 = 2_000;

impl HumanReporter {
    pub fn new(out: Box<dyn Write + Send>, color: bool, progress: bool) -> HumanReporter {
        HumanReporter {
            out,
            color,
            progress,
            verbose: false,
            bars: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            shown_bars: Vec::new(),
            wait_notices: None,
            noted_steps: Vec::new(),
        }
    }

    /// Without progress bars: a line to `notices` for every real wait of [`WAIT_NOTICE_FROM_MS`] or more,
    /// and for every step long enough to report its progress (a flood), as it starts sending.
    pub fn noting_waits(mut self, notices: Box<dyn Write + Send>) -> HumanReporter {
        self.wait_notices = Some(notices);
        self
    }

    /// Every requirement in full (today's listing), not only what needs attention.
    pub fn verbose(mut self, verbose: bool) -> HumanReporter {
        self.verbose = verbose;
        self
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
        // A target given by URL alone is named by its URL: say it once.
        let mut urls = if target.name == target.base_url && target.other_base_urls.is_empty() {
            String::new()
        } else {
            format!("  {}", target.base_url)
        };
        for other in &target.other_base_urls {
            urls.push_str(", ");
            urls.push_str(other);
        }
        writeln!(self.out, "{heading}{urls}  [{context}]")?;
        if let Some(figures) = &target.load {
            super::figures_text::write_figures(&mut self.out, figures)?;
        }
        if !self.verbose {
            return self.quiet_target(target);
        }
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

    /// What needs attention in full, then one line for the passes, one for what does not apply, and one
    /// per reason for the other skips.
    fn quiet_target(&mut self, target: &TargetReport) -> io::Result<()> {
        let needs_attention =
            |r: &&RequirementReport| !matches!(r.verdict, Verdict::Pass | Verdict::Skip);
        for requirement in target.requirements.iter().filter(needs_attention) {
            self.requirement(requirement)?;
        }
        let passed: Vec<&str> = target
            .requirements
            .iter()
            .filter(|r| r.verdict == Verdict::Pass)
            .map(|r| r.id.as_str())
            .collect();
        if !passed.is_empty() {
            let (name, style) = label(Verdict::Pass);
            let painted = self.paint(style, name);
            let lines = wrapped(
                &format!("{} {}", passed.len(), id_ranges(&passed)),
                LINE_WIDTH - 7,
            );
            for (index, line) in lines.iter().enumerate() {
                if index == 0 {
                    writeln!(self.out, "  {painted} {line}")?;
                } else {
                    writeln!(self.out, "       {line}")?;
                }
            }
        }
        let applies =
            |r: &RequirementReport| r.profiles.iter().any(|p| target.profiles.contains(p));
        let not_applicable = target
            .requirements
            .iter()
            .filter(|r| r.verdict == Verdict::Skip && !applies(r))
            .count();
        // Other skips, grouped by their reasons.
        let mut skipped: Vec<(String, Vec<&str>)> = Vec::new();
        for requirement in target
            .requirements
            .iter()
            .filter(|r| r.verdict == Verdict::Skip && applies(r))
        {
            let reason = requirement.skip_reasons.join("; ");
            match skipped.iter_mut().find(|(seen, _)| *seen == reason) {
                Some((_, ids)) => ids.push(&requirement.id),
                None => skipped.push((reason, vec![&requirement.id])),
            }
        }
        for (reason, ids) in &skipped {
            let (name, style) = label(Verdict::Skip);
            let painted = self.paint(style, name);
            let reason = self.paint(dim(), reason);
            writeln!(
                self.out,
                "  {painted} {} {}: {reason}",
                ids.len(),
                id_ranges(ids)
            )?;
        }
        if not_applicable > 0 {
            let profiles: Vec<&str> = target.profiles.iter().map(|p| p.as_str()).collect();
            let line = if not_applicable == 1 {
                format!("  1 requirement does not apply to {}", profiles.join(", "))
            } else {
                format!(
                    "  {not_applicable} requirements do not apply to {}",
                    profiles.join(", ")
                )
            };
            writeln!(self.out, "{}", self.paint(dim(), &line))?;
        }
        writeln!(self.out)
    }

    fn requirement(&mut self, requirement: &RequirementReport) -> io::Result<()> {
        let (name, style) = label(requirement.verdict);
        let painted = match &requirement.expectation {
            Some(note) => self.paint(style, &format!("{name} {}", label(note.outcome).0)),
            None => self.paint(style, name),
        };
        writeln!(
            self.out,
            "  {painted} {} ({}) {}",
            requirement.id,
            requirement.level.as_str(),
            requirement.title
        )?;
        let pad = "       ";
        if let Some(note) = &requirement.expectation {
            let until = note
                .until
                .as_ref()
                .map_or(String::new(), |until| format!(", until {until}"));
            writeln!(
                self.out,
                "{pad}because: {} ({}{until})",
                note.reason, note.location
            )?;
        }
        match requirement.verdict {
            Verdict::Skip => {
                for reason in &requirement.skip_reasons {
                    writeln!(self.out, "{pad}{}", self.paint(dim(), reason))?;
                }
            }
            Verdict::Pass => {}
            Verdict::Warn | Verdict::Inconclusive | Verdict::Fail | Verdict::Expected => {
                let mut findings: Vec<_> = requirement.findings.iter().collect();
                // The worst first: that is what the verdict is about.
                findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
                let quiet = !self.verbose;
                if quiet && let Some(worst) = findings.first().map(|f| f.severity) {
                    // Only what the verdict is about: a failure's "not reached" notes add nothing.
                    findings.retain(|f| f.severity == worst);
                }
                let shown = &findings[..findings.len().min(FINDINGS_SHOWN)];
                for (index, finding) in shown.iter().enumerate() {
                    // Quietly, findings of one step and request share their heading and `curl` line.
                    let same_step = |other: Option<&&&crate::engine::Finding>| {
                        other.is_some_and(|other| {
                            other.scenario == finding.scenario
                                && other.step_number == finding.step_number
                                && other.curl == finding.curl
                        })
                    };
                    let first_of_step =
                        !quiet || index == 0 || !same_step(shown.get(index - 1).as_ref());
                    let last_of_step = !quiet || !same_step(shown.get(index + 1).as_ref());
                    if first_of_step {
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
                    }
                    if let Some(expected) = &finding.expected {
                        writeln!(self.out, "{pad}  expected: {expected}")?;
                    }
                    if let Some(actual) = &finding.actual {
                        writeln!(self.out, "{pad}  actual:   {actual}")?;
                    }
                    if let Some(note) = &finding.note {
                        writeln!(self.out, "{pad}  note:     {note}")?;
                    }
                    if let Some(blocker) = &finding.blocked_by {
                        writeln!(self.out, "{pad}  blocked by: {blocker}")?;
                    }
                    if last_of_step && let Some(curl) = &finding.curl {
                        writeln!(self.out, "{pad}  reproduce: {}", self.paint(dim(), curl))?;
                        if let Some(after) =
                            super::curl::after_steps(&finding.scenario, finding.step_number)
                        {
                            writeln!(self.out, "{pad}             ({after})")?;
                        }
                    }
                }
                if findings.len() > FINDINGS_SHOWN {
                    writeln!(
                        self.out,
                        "{pad}... and {} more (see --format json)",
                        findings.len() - FINDINGS_SHOWN
                    )?;
                }
                // Quietly, an inconclusive check's note says enough; the clause is for what was judged.
                if self.verbose || requirement.verdict != Verdict::Inconclusive {
                    writeln!(
                        self.out,
                        "{pad}clause:   \"{}\" ({})",
                        requirement.clause, requirement.source
                    )?;
                }
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
        if !report.expectation_problems.is_empty() {
            writeln!(self.out, "expectations that fail the run:")?;
            for problem in &report.expectation_problems {
                let kind = problem.kind.as_str().to_uppercase();
                let kind = self.paint(label(Verdict::Fail).1, &kind);
                writeln!(
                    self.out,
                    "  {kind} {} ({}): {}",
                    problem.requirement, problem.note.location, problem.message
                )?;
            }
        }
        if !self.verbose {
            self.summary_table(report)?;
        }
        super::load_compare::write_comparison(&mut self.out, report)?;
        let line = requirements_line(report);
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
        if report.targets.len() > 1 {
            let per_target = format!("per target: {}", summary_line(&report.summary, None));
            writeln!(self.out, "{}", self.paint(dim(), &per_target))?;
        }
        self.out.flush()
    }

    /// One row per target (and a total when there are several): the count of each verdict.
    fn summary_table(&mut self, report: &RunReport) -> io::Result<()> {
        const COLUMNS: [(&str, Verdict); 6] = [
            ("fail", Verdict::Fail),
            ("warn", Verdict::Warn),
            ("inconcl.", Verdict::Inconclusive),
            ("expected", Verdict::Expected),
            ("pass", Verdict::Pass),
            ("skip", Verdict::Skip),
        ];
        let mut rows: Vec<(&str, &Summary, u64)> = report
            .targets
            .iter()
            .map(|t| (t.name.as_str(), &t.summary, t.duration_ms))
            .collect();
        if report.targets.len() > 1 {
            rows.push(("all targets", &report.summary, report.duration_ms));
        }
        let width = rows
            .iter()
            .map(|(name, _, _)| name.chars().count())
            .max()
            .unwrap_or(0);
        let mut header = format!("{:<width$}", "target");
        for (name, _) in COLUMNS {
            header.push_str(&format!(" {name:>4}"));
        }
        header.push_str("  n/a    time");
        writeln!(
            self.out,
            "{}",
            self.paint(Style::new().effects(Effects::BOLD), &header)
        )?;
        for (name, summary, duration_ms) in rows {
            let mut row = format!("{name:<width$}");
            for (name, verdict) in COLUMNS {
                let count = summary.get(verdict);
                let cell = format!(" {count:>w$}", w = name.len().max(4));
                if count > 0 && verdict != Verdict::Pass && verdict != Verdict::Skip {
                    row.push_str(&self.paint(label(verdict).1, &cell));
                } else {
                    row.push_str(&cell);
                }
            }
            row.push_str(&format!(" {:>4}", summary.not_applicable));
            row.push_str(&format!(" {:>6.2}s", duration_ms as f64 / 1000.0));
            writeln!(self.out, "{row}")?;
        }
        Ok(())
    }
}

/// The width the quiet report wraps its lists of ids at.
const LINE_WIDTH: usize = 100;

/// Words of `text` in lines of at most `width` characters (a longer word has a line of its own).
fn wrapped(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        match lines.last_mut() {
            Some(line) if line.len() + 1 + word.len() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_owned()),
        }
    }
    lines
}

/// Ids as compact ranges: `AM-SIGNIN-01..05,07 CS-AUTH-01..03`. Ids are grouped by everything before their
/// last `-`; runs of consecutive numbers shrink to `first..last`.
pub fn id_ranges(ids: &[&str]) -> String {
    // Per prefix, its ids' numbers: as written, and as a number when they are one.
    type Numbers<'a> = Vec<(&'a str, Option<u32>)>;
    let mut groups: Vec<(&str, Numbers<'_>)> = Vec::new();
    for id in ids {
        let (prefix, number) = match id.rsplit_once('-') {
            Some((prefix, number)) => (prefix, number),
            None => ("", *id),
        };
        let entry = (number, number.parse::<u32>().ok());
        match groups.iter_mut().find(|(seen, _)| *seen == prefix) {
            Some((_, numbers)) => numbers.push(entry),
            None => groups.push((prefix, vec![entry])),
        }
    }
    let mut words = Vec::with_capacity(groups.len());
    for (prefix, mut numbers) in groups {
        numbers.sort_by_key(|(text, value)| (value.is_none(), *value, *text));
        let mut parts: Vec<String> = Vec::new();
        let mut index = 0;
        while index < numbers.len() {
            let first = numbers[index].0;
            let mut last = index;
            while let Some((_, Some(next))) = numbers.get(last + 1)
                && let Some(current) = numbers[last].1
                && *next == current + 1
            {
                last += 1;
            }
            parts.push(if last > index + 1 {
                format!("{first}..{}", numbers[last].0)
            } else if last == index + 1 {
                format!("{first},{}", numbers[last].0)
            } else {
                first.to_owned()
            });
            index = last + 1;
        }
        let joined = parts.join(",");
        words.push(if prefix.is_empty() {
            joined
        } else {
            format!("{prefix}-{joined}")
        });
    }
    words.join(" ")
}

impl super::Reporter for HumanReporter {
    fn handle(&mut self, event: &EngineEvent<'_>) -> io::Result<()> {
        match event {
            EngineEvent::RunStarted {
                targets,
                scenarios,
                projected_ms,
                with_boundary_repeat_ms,
                warnings,
                sooner,
                ..
            } => {
                let repeat = with_boundary_repeat_ms
                    .map(|ms| {
                        format!(
                            ", up to about {} on windows aligned to the clock",
                            super::plan::duration(ms)
                        )
                    })
                    .unwrap_or_default();
                let line = format!(
                    "{scenarios} scenarios on {targets} target(s), projected {}{repeat} (`authconform plan` shows the schedule)",
                    super::plan::duration(*projected_ms)
                );
                writeln!(self.out, "{}", self.paint(dim(), &line))?;
                for warning in *warnings {
                    writeln!(self.out, "warning: {warning}")?;
                }
                for (target, faster) in *sooner {
                    writeln!(
                        self.out,
                        "note: {target}: its IP limit spreads this run's signups over several windows; with signup_ip = {} or more it would take about {} (`authconform plan` says more)",
                        faster.signup_ip,
                        super::plan::duration(faster.projected_ms)
                    )?;
                }
                Ok(())
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
                self.shown_bars
                    .push((((*scenario).to_owned(), (*step).to_owned()), bar));
                Ok(())
            }
            EngineEvent::WaitStarted {
                scenario,
                step,
                total_ms,
                clock: ClockMode::Real,
            } if *total_ms >= WAIT_NOTICE_FROM_MS => {
                if let Some(notices) = self.wait_notices.as_mut() {
                    writeln!(
                        notices,
                        "waiting {} (real clock): {scenario}: {step}",
                        super::plan::duration(*total_ms)
                    )?;
                    notices.flush()?;
                }
                Ok(())
            }
            EngineEvent::StepProgress {
                scenario,
                step,
                total,
                ..
            } if !self.progress => {
                let key = ((*scenario).to_owned(), (*step).to_owned());
                if let Some(notices) = self.wait_notices.as_mut()
                    && !self.noted_steps.contains(&key)
                {
                    writeln!(notices, "sending {total} requests: {scenario}: {step}")?;
                    notices.flush()?;
                    self.noted_steps.push(key);
                }
                Ok(())
            }
            EngineEvent::StepProgress {
                scenario,
                step,
                answered,
                total,
            } if self.progress => {
                let key = ((*scenario).to_owned(), (*step).to_owned());
                let bar = match self.shown_bars.iter().find(|(k, _)| *k == key) {
                    Some((_, bar)) => bar.clone(),
                    None => {
                        let bar = self.bars.add(ProgressBar::new(*total));
                        if let Ok(style) = ProgressStyle::with_template(
                            "{msg} [{bar:30}] {pos}/{len} requests, {eta} left",
                        ) {
                            bar.set_style(style.progress_chars("=> "));
                        }
                        bar.set_message(format!("{scenario}: {step}"));
                        self.shown_bars.push((key, bar.clone()));
                        bar
                    }
                };
                bar.set_position(*answered);
                Ok(())
            }
            EngineEvent::WaitProgress {
                scenario,
                step,
                elapsed_ms,
                ..
            } => {
                if let Some((_, bar)) = self
                    .shown_bars
                    .iter()
                    .find(|(key, _)| key.0 == *scenario && key.1 == *step)
                {
                    bar.set_position(*elapsed_ms);
                }
                Ok(())
            }
            EngineEvent::WaitFinished { scenario, step }
            | EngineEvent::StepFinished { scenario, step, .. } => {
                if let Some(at) = self
                    .shown_bars
                    .iter()
                    .position(|(key, _)| key.0 == *scenario && key.1 == *step)
                {
                    let (_, bar) = self.shown_bars.remove(at);
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
        Verdict::Expected => ("EXPECTED", color(AnsiColor::Cyan)),
        Verdict::Skip => ("SKIP", dim()),
    }
}

fn dim() -> Style {
    Style::new().effects(Effects::DIMMED)
}

/// `N requirements: N passed, N failed, N warned, N skipped, N inconclusive[, N expected][, N not
/// applicable], on N targets in 1.23s`: each requirement once, whatever the number of targets.
pub(crate) fn requirements_line(report: &RunReport) -> String {
    let requirements = &report.requirements;
    let total = requirements.total();
    let targets = report.targets.len();
    format!(
        "{total} requirement{}: {}, on {targets} target{} in {:.2}s",
        if total == 1 { "" } else { "s" },
        summary_line(requirements, None),
        if targets == 1 { "" } else { "s" },
        report.duration_ms as f64 / 1000.0
    )
}

/// `N passed, N failed, N warned, N skipped, N inconclusive[, N expected][, N not applicable] in 1.23s`
pub(crate) fn summary_line(summary: &Summary, elapsed: Option<Duration>) -> String {
    let mut line = format!(
        "{} passed, {} failed, {} warned, {} skipped, {} inconclusive",
        summary.passed, summary.failed, summary.warned, summary.skipped, summary.inconclusive
    );
    if summary.expected > 0 {
        line.push_str(&format!(", {} expected", summary.expected));
    }
    if summary.not_applicable > 0 {
        line.push_str(&format!(", {} not applicable", summary.not_applicable));
    }
    if let Some(elapsed) = elapsed {
        line.push_str(&format!(" in {:.2}s", elapsed.as_secs_f64()));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_shrink_to_ranges() {
        assert_eq!(
            id_ranges(&[
                "AM-SIGNIN-01",
                "AM-SIGNIN-02",
                "AM-SIGNIN-03",
                "AM-SIGNIN-05",
                "AM-SIGNIN-06",
                "CS-AUTH-01",
                "GEN-01",
                "GEN-03"
            ]),
            "AM-SIGNIN-01..03,05,06 CS-AUTH-01 GEN-01,03"
        );
        assert_eq!(id_ranges(&["ODD", "X-1A"]), "ODD X-1A");
    }
}
