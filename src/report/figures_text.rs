//! A load run's figures as text, for the human report: how the load was applied, rate, latency percentiles
//! (and, in the open model, the uncorrected service time beside them), statuses and transport errors, the
//! generator's own state, and the `--threshold` and `--max-regression` checks, under the target they were
//! measured on.

use std::io::{self, Write};

use crate::engine::{FigureVerdict, LoadFigures, LoadModel, Percentiles};

fn percentiles(p: &Percentiles) -> String {
    format!(
        "p50 {:.2}, p90 {:.2}, p99 {:.2}, p99.9 {:.2}, max {:.2} ms",
        p.p50, p.p90, p.p99, p.p999, p.max
    )
}

/// How the load was applied, in a few words.
pub(crate) fn model_text(figures: &LoadFigures) -> String {
    match &figures.model {
        LoadModel::Closed { users } => format!("closed model, {users} users"),
        LoadModel::Open {
            schedule,
            scheduled,
            max_in_flight,
            ..
        } => format!(
            "open model, {schedule} ({scheduled} scheduled, at most {max_in_flight} in flight)"
        ),
    }
}

/// A check's outcome word and, against a baseline, the change.
pub(crate) fn verdict_text(verdict: &FigureVerdict) -> (&'static str, String) {
    let word = if verdict.inconclusive {
        "INCONCLUSIVE"
    } else if verdict.passed {
        "PASS"
    } else {
        "FAIL"
    };
    let change = match verdict.baseline {
        Some(baseline) if baseline.abs() > f64::EPSILON => format!(
            "{:.3} (baseline {baseline:.3}, {:+.1}%)",
            verdict.actual,
            (verdict.actual - baseline) * 100.0 / baseline
        ),
        Some(baseline) => format!("{:.3} (baseline {baseline:.3})", verdict.actual),
        None => format!("{:.2}", verdict.actual),
    };
    (word, change)
}

/// The name of concurrent step number `step`.
pub(crate) fn step_name(figures: &LoadFigures, step: u16) -> &str {
    figures
        .steps
        .get(usize::from(step))
        .map_or("?", String::as_str)
}

pub(crate) fn write_figures(out: &mut dyn Write, figures: &LoadFigures) -> io::Result<()> {
    writeln!(
        out,
        "  load: {} requests, {}, in {:.2} s: {:.0} req/s",
        figures.requests,
        model_text(figures),
        figures.duration_ms as f64 / 1000.0,
        figures.requests_per_second,
    )?;
    let corrected = matches!(figures.model, LoadModel::Open { .. });
    writeln!(
        out,
        "  latency{}: {}",
        if corrected {
            " from the scheduled start"
        } else {
            ""
        },
        percentiles(&figures.latency_ms)
    )?;
    if let Some(service) = &figures.service_ms {
        writeln!(
            out,
            "  service time (from the actual send, uncorrected): {}",
            percentiles(service)
        )?;
    }
    let statuses: Vec<String> = figures
        .statuses
        .iter()
        .map(|(s, n)| format!("{s}: {n}"))
        .collect();
    let errors: Vec<String> = figures
        .errors
        .iter()
        .map(|(kind, n)| format!("{}: {n}", kind.as_str()))
        .collect();
    writeln!(
        out,
        "  statuses: {}; no answer: {}{}",
        statuses.join(", "),
        figures.no_answer,
        if errors.is_empty() {
            String::new()
        } else {
            format!(" ({})", errors.join(", "))
        }
    )?;
    for step in &figures.by_step {
        if let Some(first) = step.first_refusal {
            let name = step_name(figures, step.step);
            writeln!(
                out,
                "  {name}: the first refusal was request {}, {:.1} ms after the first",
                first.request, first.after_ms
            )?;
        }
    }
    if figures.by_step.len() > 1 {
        for step in &figures.by_step {
            let name = step_name(figures, step.step);
            writeln!(
                out,
                "    {name}: {} requests, {} errors; p50 {:.2}, p99 {:.2}, max {:.2} ms",
                step.requests, step.errors, step.p50_ms, step.p99_ms, step.max_ms
            )?;
        }
    }
    let generator = &figures.generator;
    let mut state = format!(
        "  generator: CPU {:.0}% of {} core{}{}",
        generator.cpu_percent,
        generator.cores,
        if generator.cores == 1 { "" } else { "s" },
        if generator.shares_process_with_target {
            " (shared with the bundled target)"
        } else {
            ""
        }
    );
    if let Some(lag) = &generator.start_lag_ms {
        state.push_str(&format!(
            "; {} late ({} waiting for a free connection), {} dropped; start lag p50 {:.2} ms, p99 {:.2} ms",
            generator.late, generator.queued, generator.dropped, lag.p50, lag.p99
        ));
    }
    writeln!(out, "{state}")?;
    if let Some(bottleneck) = &generator.bottleneck {
        if figures.thresholds.is_empty() {
            writeln!(out, "  ! {bottleneck}")?;
        } else {
            writeln!(out, "  ! {bottleneck}; the checks below are inconclusive")?;
        }
    }
    for threshold in &figures.thresholds {
        let (word, actual) = verdict_text(threshold);
        writeln!(out, "  {word} threshold {}: {actual}", threshold.threshold)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::engine::{Circumstances, FigureCheck, MeteredAnswer, figures_of};

    fn saturated(checks: &[Box<dyn FigureCheck>]) -> String {
        let answers: Vec<MeteredAnswer> = (0..10)
            .map(|n| MeteredAnswer {
                sent_us: n * 1_000,
                latency_us: 500,
                lag_us: 0,
                queued: false,
                status: Some(200),
                error: None,
                step: 0,
            })
            .collect();
        // A whole core for the whole run: the generator set the pace.
        let circumstances = Circumstances {
            cpu: Some((Duration::from_secs(1), Duration::from_secs(1))),
            ..Circumstances::closed(1)
        };
        let mut text = Vec::new();
        write_figures(&mut text, &figures_of(&answers, &circumstances, checks)).unwrap();
        String::from_utf8(text).unwrap()
    }

    #[test]
    fn a_saturated_generator_makes_only_checks_that_exist_inconclusive() {
        let text = saturated(&[]);
        assert!(text.contains("  ! the generator used 100%"), "{text}");
        assert!(!text.contains("inconclusive"), "{text}");
        let threshold: crate::load::Threshold = "p99<1s".parse().unwrap();
        let text = saturated(&[Box::new(threshold)]);
        assert!(text.contains("the checks below are inconclusive"), "{text}");
    }
}
