//! A load run's figures as text, for the human report: rate, latency percentiles, statuses and the
//! `--threshold` checks, under the target they were measured on.

use std::io::{self, Write};

use crate::engine::LoadFigures;

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
