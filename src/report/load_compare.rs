//! The comparison of targets benchmarked side by side (`load --compare`): per target, the medians over its
//! rounds of the rate and the latency percentiles, and each against the first target's, as text for the
//! human report and as a table for the HTML page.

use std::io::{self, Write};

use maud::{Markup, html};

use crate::engine::RunReport;

/// One target's medians over its rounds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ComparedTarget {
    pub(crate) target: String,
    pub(crate) rounds: usize,
    pub(crate) rps: f64,
    pub(crate) p50: f64,
    pub(crate) p99: f64,
    pub(crate) p999: f64,
    pub(crate) error_percent: f64,
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// The compared targets in the order given, or nothing when the run compared none.
pub(crate) fn compared(report: &RunReport) -> Vec<ComparedTarget> {
    let mut order: Vec<&str> = Vec::new();
    let figures: Vec<_> = report
        .targets
        .iter()
        .filter_map(|target| target.load.as_ref())
        .filter_map(|figures| {
            figures
                .compared
                .as_ref()
                .map(|c| (c.target.as_str(), figures))
        })
        .collect();
    for (name, _) in &figures {
        if !order.contains(name) {
            order.push(name);
        }
    }
    if order.len() < 2 {
        return Vec::new();
    }
    order
        .into_iter()
        .map(|name| {
            let rounds: Vec<_> = figures
                .iter()
                .filter(|(target, _)| *target == name)
                .map(|(_, figures)| *figures)
                .collect();
            let pick = |f: &dyn Fn(&crate::engine::LoadFigures) -> f64| {
                median(rounds.iter().map(|figures| f(figures)).collect())
            };
            ComparedTarget {
                target: name.to_owned(),
                rounds: rounds.len(),
                rps: pick(&|f| f.requests_per_second),
                p50: pick(&|f| f.latency_ms.p50),
                p99: pick(&|f| f.latency_ms.p99),
                p999: pick(&|f| f.latency_ms.p999),
                error_percent: pick(&crate::engine::LoadFigures::error_percent),
            }
        })
        .collect()
}

fn ratio(value: f64, first: f64) -> String {
    if first > 0.0 {
        format!("{:.2}×", value / first)
    } else {
        "–".to_owned()
    }
}

/// The comparison as text, under the run's results.
pub(crate) fn write_comparison(out: &mut dyn Write, report: &RunReport) -> io::Result<()> {
    let rows = compared(report);
    let Some(first) = rows.first().cloned() else {
        return Ok(());
    };
    writeln!(
        out,
        "compared (medians over the rounds; × is against {}):",
        first.target
    )?;
    let width = rows
        .iter()
        .map(|r| r.target.len())
        .max()
        .unwrap_or(6)
        .max(6);
    writeln!(
        out,
        "  {:width$}  rounds  {:>10} {:>7}  {:>9} {:>7}  {:>9} {:>7}  {:>9}  errors",
        "target", "req/s", "", "p50 ms", "", "p99 ms", "", "p99.9 ms"
    )?;
    for row in &rows {
        writeln!(
            out,
            "  {:width$}  {:>6}  {:>10.0} {:>7}  {:>9.2} {:>7}  {:>9.2} {:>7}  {:>9.2}  {:.2}%",
            row.target,
            row.rounds,
            row.rps,
            ratio(row.rps, first.rps),
            row.p50,
            ratio(row.p50, first.p50),
            row.p99,
            ratio(row.p99, first.p99),
            row.p999,
            row.error_percent
        )?;
    }
    Ok(())
}

/// The comparison as a table, for the page's summary.
pub(crate) fn comparison(report: &RunReport) -> Markup {
    let rows = compared(report);
    let Some(first) = rows.first().cloned() else {
        return html! {};
    };
    html! {
        section.compared {
            h3 { "Targets compared" }
            p.caption { "Medians over each target's rounds, run in turn; × is against " (first.target) "." }
            table.compared {
                tr { th { "target" } th { "rounds" } th { "req/s" } th { "p50" } th { "p99" } th { "p99.9" } th { "errors" } }
                @for row in &rows {
                    tr {
                        td { (row.target) }
                        td.num { (row.rounds) }
                        td.num { (format!("{:.0} ({})", row.rps, ratio(row.rps, first.rps))) }
                        td.num { (format!("{:.2} ms ({})", row.p50, ratio(row.p50, first.p50))) }
                        td.num { (format!("{:.2} ms ({})", row.p99, ratio(row.p99, first.p99))) }
                        td.num { (format!("{:.2} ms", row.p999)) }
                        td.num { (format!("{:.2}%", row.error_percent)) }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_take_the_middle_round() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(Vec::new()), 0.0);
    }
}
