//! The HTML report's picture of time: per target, one bar per scenario on a time axis, its waits shaded and
//! failures marked. Virtual time (real time plus every advance of the test clock): with a real clock the
//! axis is linear; with a test clock a run spans milliseconds to weeks, so the axis is logarithmic.

use maud::{Markup, html};

use crate::engine::{ScenarioReport, TargetReport, Verdict};
use crate::target::ClockMode;

const WIDTH: f64 = 1100.0;
const LABEL: f64 = 330.0;
const ROW: f64 = 18.0;
const AXIS: f64 = 26.0;

/// Where a moment falls on the chart, from 0 to 1.
#[derive(Debug, Clone, Copy)]
enum Scale {
    Linear {
        span_ms: f64,
    },
    /// `ln(1 + t / unit)`, normalised.
    Log {
        span_ms: f64,
    },
}

/// The log scale's unit: moments well under it crowd at the start.
const LOG_UNIT_MS: f64 = 100.0;

impl Scale {
    fn of(clock: ClockMode, span_ms: u64) -> Scale {
        let span_ms = (span_ms as f64).max(1.0);
        match clock {
            ClockMode::Real => Scale::Linear { span_ms },
            ClockMode::Control => Scale::Log { span_ms },
        }
    }

    fn at(self, ms: u64) -> f64 {
        let t = ms as f64;
        match self {
            Scale::Linear { span_ms } => (t / span_ms).min(1.0),
            Scale::Log { span_ms } => {
                ((1.0 + t / LOG_UNIT_MS).ln() / (1.0 + span_ms / LOG_UNIT_MS).ln()).min(1.0)
            }
        }
    }

    /// The x coordinate, to a tenth of a pixel.
    fn x(self, ms: u64) -> f64 {
        ((LABEL + self.at(ms) * (WIDTH - LABEL - 10.0)) * 10.0).round() / 10.0
    }

    /// Tick marks: round moments within the span.
    fn ticks(self) -> Vec<u64> {
        match self {
            Scale::Linear { span_ms } => {
                let steps = [
                    100, 250, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000,
                    300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000,
                ];
                let step = steps
                    .into_iter()
                    .find(|step| span_ms / (*step as f64) <= 8.0)
                    .unwrap_or(14_400_000);
                (0..=8)
                    .map(|i| i * step)
                    .filter(|t| (*t as f64) <= span_ms)
                    .collect()
            }
            Scale::Log { span_ms } => [
                0,
                1_000,
                10_000,
                60_000,
                600_000,
                3_600_000,
                86_400_000,
                604_800_000,
                2_592_000_000,
            ]
            .into_iter()
            .filter(|t| (*t as f64) <= span_ms)
            .collect(),
        }
    }
}

/// The timeline of one target's scenarios; empty when none ran.
pub(crate) fn timeline(target: &TargetReport) -> Markup {
    let mut ran: Vec<&ScenarioReport> = target
        .scenarios
        .iter()
        .filter(|s| s.verdict != Verdict::Skip || s.steps_run > 0)
        .collect();
    if ran.is_empty() {
        return html! {};
    }
    ran.sort_by_key(|s| (s.start_ms, s.end_ms));
    let span = ran.iter().map(|s| s.end_ms).max().unwrap_or(0);
    let scale = Scale::of(target.clock, span);
    let height = AXIS + ROW * ran.len() as f64 + 4.0;
    let axis_note = match scale {
        Scale::Linear { .. } => "linear axis",
        Scale::Log { .. } => "logarithmic axis: the test clock moves in leaps",
    };
    html! {
        details.timeline open {
            summary {
                "Timeline · " (ran.len()) @if ran.len() == 1 { " scenario" } @else { " scenarios" } " over " (moment(span)) " of virtual time (" (axis_note)
                "; shaded: waiting; red outline and ✕: failed)"
            }
            svg width=(WIDTH) height=(height) viewBox={"0 0 " (WIDTH) " " (height)}
                role="img" aria-label="scenarios on a time axis" {
                @for tick in scale.ticks() {
                    line.tick x1=(scale.x(tick)) x2=(scale.x(tick)) y1=(AXIS - 6.0) y2=(height) {}
                    text.tick-label x=(scale.x(tick)) y=(AXIS - 10.0) text-anchor="middle" { (moment(tick)) }
                }
                @for (row, scenario) in ran.iter().enumerate() {
                    (bar(scale, row, scenario))
                }
            }
        }
    }
}

fn bar(scale: Scale, row: usize, scenario: &ScenarioReport) -> Markup {
    let y = AXIS + ROW * row as f64;
    let x0 = scale.x(scenario.start_ms);
    let width = (scale.x(scenario.end_ms) - x0).max(2.0);
    let failed = scenario.verdict == Verdict::Fail;
    let label: String = if scenario.name.len() > 44 {
        format!("{}…", &scenario.name[..43])
    } else {
        scenario.name.clone()
    };
    let title = format!(
        "{} · {} · {} → {}{}",
        scenario.name,
        verdict_class(scenario.verdict),
        moment(scenario.start_ms),
        moment(scenario.end_ms),
        scenario
            .waits
            .iter()
            .map(|w| format!(
                " · waits {} ({})",
                moment(w.end_ms.saturating_sub(w.start_ms)),
                w.step
            ))
            .collect::<String>()
    );
    html! {
        g.row {
            title { (title) }
            text.label x=(LABEL - 8.0) y=(y + ROW - 5.0) text-anchor="end" { (label) }
            rect class={"bar " (verdict_class(scenario.verdict)) @if failed { " failed" }}
                x=(x0) y=(y + 3.0) width=(width) height=(ROW - 6.0) rx="2" {}
            @for wait in &scenario.waits {
                @let wx = scale.x(wait.start_ms);
                rect.wait x=(wx) y=(y + 3.0) width=((scale.x(wait.end_ms) - wx).max(1.0)) height=(ROW - 6.0) {}
            }
            @if failed {
                text.fail-mark x=(x0 + width + 4.0) y=(y + ROW - 5.0) { "✕" }
            }
        }
    }
}

fn verdict_class(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
        Verdict::Warn => "warn",
        Verdict::Inconclusive => "inconclusive",
        Verdict::Skip => "skip",
        Verdict::Expected => "expected",
    }
}

/// `0`, `850ms`, `12s`, `4m`, `2h`, `30d` (rounded for axis labels and tooltips).
fn moment(ms: u64) -> String {
    match ms {
        0 => "0".to_owned(),
        1..1_000 => format!("{ms}ms"),
        1_000..60_000 => format!("{:.1}s", ms as f64 / 1000.0).replace(".0s", "s"),
        60_000..3_600_000 => {
            format!("{}m{:02}s", ms / 60_000, (ms % 60_000) / 1000).replace("m00s", "m")
        }
        3_600_000..86_400_000 => {
            format!("{}h{:02}m", ms / 3_600_000, (ms % 3_600_000) / 60_000).replace("h00m", "h")
        }
        _ => format!("{}d", ms / 86_400_000),
    }
}

/// The timeline's rules, added to the report's stylesheet.
pub(crate) const STYLE: &str = include_str!("assets/timeline.css");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_are_short() {
        assert_eq!(moment(0), "0");
        assert_eq!(moment(850), "850ms");
        assert_eq!(moment(2_000), "2s");
        assert_eq!(moment(2_500), "2.5s");
        assert_eq!(moment(122_000), "2m02s");
        assert_eq!(moment(3_600_000), "1h");
        assert_eq!(moment(2_592_000_000), "30d");
    }

    #[test]
    fn a_log_axis_keeps_the_first_second_and_the_last_week_apart() {
        let scale = Scale::of(ClockMode::Control, 2_592_000_000);
        assert!(scale.at(1_000) > 0.05, "a second is visible");
        assert!(scale.at(604_800_000) < 0.95, "a week is not the end");
        let linear = Scale::of(ClockMode::Real, 120_000);
        assert!((linear.at(60_000) - 0.5).abs() < 1e-9);
        assert_eq!(linear.ticks().len(), 9);
    }
}
