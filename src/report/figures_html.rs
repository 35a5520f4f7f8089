//! A load run's figures in the HTML report: the table of rate, latencies, statuses and thresholds, and for each
//! concurrent step a chart of its answers in the order they were sent (normal above the axis, refused below),
//! requests numbered from 1 as people count them, with the first refusal marked.

use maud::{Markup, PreEscaped, html};

use crate::engine::{LoadFigures, MeteredAnswer, REFUSED};

const WIDTH: f64 = 1000.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 28.0;
const PLOT: f64 = WIDTH - LEFT - RIGHT;
/// At most this many bars per chart; each shows the shares of its answers.
const BINS: usize = 500;

/// The section for one target's figures.
pub(super) fn figures(figures: &LoadFigures) -> Markup {
    html! {
        section.load {
            h3 { "Under load" }
            table {
                tr { th { "requests" } td.num { (figures.requests) } }
                tr { th { "load" } td { (super::figures_text::model_text(figures)) } }
                tr { th { "rate" } td.num { (format!("{:.0} req/s", figures.requests_per_second)) } }
                tr { th { "latency p50 / p90 / p99 / p99.9 / max" } td.num {
                    (percentiles(&figures.latency_ms))
                    @if figures.service_ms.is_some() { " (from the scheduled start)" }
                } }
                @if let Some(service) = &figures.service_ms {
                    tr { th { "service time, uncorrected" } td.num { (percentiles(service)) } }
                }
                @for (status, count) in &figures.statuses {
                    tr { th { "status " (status) } td.num { (count) } }
                }
                @if figures.no_answer > 0 {
                    tr { th { "no answer" } td.num { (figures.no_answer) } }
                }
                @for (kind, count) in &figures.errors {
                    tr { th { "no answer: " (kind.as_str()) } td.num { (count) } }
                }
                tr { th { "generator CPU" } td.num {
                    (format!("{:.0}% of {} core{}", figures.generator.cpu_percent, figures.generator.cores, if figures.generator.cores == 1 { "" } else { "s" }))
                    @if figures.generator.shares_process_with_target { " (shared with the bundled target)" }
                } }
                @if let Some(lag) = &figures.generator.start_lag_ms {
                    tr { th { "late (started over 1 ms after schedule)" } td.num { (figures.generator.late) } }
                    tr { th { "of them, waiting for a free connection" } td.num { (figures.generator.queued) } }
                    tr { th { "dropped (every connection and the queue busy)" } td.num { (figures.generator.dropped) } }
                    tr { th { "generator's start lag p50 / p99 / max" } td.num {
                        (format!("{:.2} / {:.2} / {:.2} ms", lag.p50, lag.p99, lag.max))
                    } }
                }
                @if let Some(threshold) = figures.threshold {
                    tr { th { "documented threshold" } td.num { (threshold) " per window" } }
                }
                @for threshold in &figures.thresholds {
                    @let (word, actual) = super::figures_text::verdict_text(threshold);
                    tr.(word.to_ascii_lowercase()) {
                        th { "check " (threshold.threshold) }
                        td.num { (actual) " " (word.to_ascii_lowercase()) }
                    }
                }
            }
            @if figures.by_step.len() > 1 {
                table.by-step {
                    tr { th { "step" } th { "requests" } th { "errors" } th { "p50" } th { "p99" } th { "max" } }
                    @for step in &figures.by_step {
                        tr {
                            td { (super::figures_text::step_name(figures, step.step)) }
                            td.num { (step.requests) }
                            td.num { (step.errors) }
                            td.num { (format!("{:.2} ms", step.p50_ms)) }
                            td.num { (format!("{:.2} ms", step.p99_ms)) }
                            td.num { (format!("{:.2} ms", step.max_ms)) }
                        }
                    }
                }
            }
            @if let Some(bottleneck) = &figures.generator.bottleneck {
                p.bottleneck {
                    "The generator may have set the pace: " (bottleneck) "."
                    @if !figures.thresholds.is_empty() { " The checks are inconclusive." }
                }
            }
            (super::load_charts::over_time(figures))
            (super::load_charts::distribution(figures))
            @for (number, name) in figures.steps.iter().enumerate() {
                @let answers: Vec<&MeteredAnswer> = figures
                    .answers
                    .iter()
                    .filter(|a| usize::from(a.step) == number)
                    .collect();
                @if !answers.is_empty() {
                    (step_chart(name, &answers))
                    (latency_chart(&answers))
                }
            }
            @if figures.answers.len() < usize::try_from(figures.requests).unwrap_or(usize::MAX) {
                p.caption { "The charts show the first " (figures.answers.len()) " answers; the figures count every one." }
            }
        }
    }
}

fn percentiles(p: &crate::engine::Percentiles) -> String {
    format!(
        "{:.2} / {:.2} / {:.2} / {:.2} / {:.2} ms",
        p.p50, p.p90, p.p99, p.p999, p.max
    )
}

/// How an answer counts on a chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Normal,
    Refused,
    /// A 5xx other than 503, another status, or no answer.
    Other,
}

fn kind(status: Option<u16>) -> Kind {
    match status {
        Some(status) if REFUSED.contains(&status) => Kind::Refused,
        Some(status) if status < 500 => Kind::Normal,
        _ => Kind::Other,
    }
}

/// One step's answers in the order sent: each bar the share of normal answers above the axis and of refused
/// ones (and others) below it.
fn step_chart(name: &str, answers: &[&MeteredAnswer]) -> Markup {
    let kinds: Vec<Kind> = answers.iter().map(|a| kind(a.status)).collect();
    let total = kinds.len();
    let refused = kinds.iter().filter(|k| **k == Kind::Refused).count();
    let other = kinds.iter().filter(|k| **k == Kind::Other).count();
    // Numbered from 1: the first request is request 1.
    let first_refusal = kinds
        .iter()
        .position(|k| *k == Kind::Refused)
        .map(|i| i + 1);
    let (top, band) = (30.0, 56.0);
    let axis = top + band;
    let height = axis + band + 40.0;
    let bins = total.clamp(1, BINS);
    let bin_width = PLOT / bins as f64;
    // Request `n` (from 1) sits in the middle of its share of the axis.
    let x_of = |n: usize| LEFT + PLOT * (n as f64 - 0.5) / total.max(1) as f64;
    let mut bars = String::new();
    for bin in 0..bins {
        let from = bin * total / bins;
        let to = ((bin + 1) * total / bins).max(from + 1).min(total);
        let slice = &kinds[from.min(total)..to];
        let share = |wanted: Kind| {
            slice.iter().filter(|k| **k == wanted).count() as f64 / slice.len().max(1) as f64
        };
        let x = LEFT + bin as f64 * bin_width;
        let normal = share(Kind::Normal) * band;
        let refused = share(Kind::Refused) * band;
        let other = share(Kind::Other) * band;
        for (h, y, class) in [
            (normal, axis - normal, "normal"),
            (refused, axis, "refused"),
            (other, axis + refused, "other"),
        ] {
            if h > 0.0 {
                bars.push_str(&format!(
                    r#"<rect class="{class}" x="{x:.2}" y="{y:.2}" width="{:.2}" height="{h:.2}"></rect>"#,
                    bin_width.max(0.6)
                ));
            }
        }
    }
    let ticks: Vec<usize> = [1, total / 4, total / 2, total * 3 / 4, total]
        .into_iter()
        .filter(|n| *n >= 1)
        .collect();
    html! {
        figure.answers {
            figcaption {
                strong { (name) } ": " (total) " requests in the order sent; " (total - refused - other)
                " answered normally, " (refused) " refused (429, 403, 503)"
                @if other > 0 { ", " (other) " other or unanswered" }
                @if let Some(first) = first_refusal { "; the first refusal was request " (first) }
                "."
            }
            svg.answers viewBox=(format!("0 0 {WIDTH} {height}")) width=(WIDTH) height=(height) role="img"
                aria-label=(format!("answers of {name} in the order sent")) {
                text.label x=(LEFT - 6.0) y=(top + band / 2.0) text-anchor="end" { "normal" }
                text.label x=(LEFT - 6.0) y=(axis + band / 2.0) text-anchor="end" { "refused" }
                (PreEscaped(bars))
                line.axis x1=(LEFT) x2=(LEFT + PLOT) y1=(axis) y2=(axis) {}
                @for tick in &ticks {
                    text.tick x=(x_of(*tick)) y=(axis + band + 16.0) text-anchor="middle" { (tick) }
                }
                text.tick x=(LEFT + PLOT / 2.0) y=(axis + band + 32.0) text-anchor="middle" { "request number" }
                @if let Some(first) = first_refusal {
                    line.began x1=(x_of(first)) x2=(x_of(first)) y1=(top - 14.0) y2=(axis + band) {}
                    text.began x=(x_of(first) + if first * 10 > total * 7 { -4.0 } else { 4.0 })
                        y=(top - 16.0) text-anchor=(if first * 10 > total * 7 { "end" } else { "start" }) {
                        "first refusal: request " (first)
                    }
                }
            }
        }
    }
}

/// The 50th, 95th and 99th latency percentiles of one flood's requests, by when they were sent.
fn latency_chart(answers: &[&MeteredAnswer]) -> Markup {
    let first = answers.iter().map(|a| a.sent_us).min().unwrap_or(0);
    let span_us = answers
        .iter()
        .map(|a| a.sent_us - first)
        .max()
        .unwrap_or(0)
        .max(1);
    let buckets = 60usize.min(answers.len().max(1));
    let mut latencies: Vec<Vec<u64>> = vec![Vec::new(); buckets];
    for answer in answers {
        let bucket = (answer.sent_us - first) * buckets as u64 / (span_us + 1);
        latencies[usize::try_from(bucket).unwrap_or(0).min(buckets - 1)].push(answer.latency_us);
    }
    let percentile = |values: &mut Vec<u64>, p: f64| {
        values.sort_unstable();
        let rank = ((p / 100.0) * values.len() as f64).ceil() as usize;
        values[rank.clamp(1, values.len()) - 1] as f64 / 1000.0
    };
    let mut points: Vec<(f64, [f64; 3])> = Vec::new();
    for (index, values) in latencies.iter_mut().enumerate() {
        if values.is_empty() {
            continue;
        }
        let middle = (index as f64 + 0.5) / buckets as f64;
        points.push((
            middle,
            [
                percentile(values, 50.0),
                percentile(values, 95.0),
                percentile(values, 99.0),
            ],
        ));
    }
    let (top, plot_height) = (12.0, 140.0);
    let height = top + plot_height + 40.0;
    let max_ms = points
        .iter()
        .map(|(_, p)| p[2])
        .fold(0.0_f64, f64::max)
        .max(0.001)
        * 1.1;
    let x_of = |share: f64| LEFT + PLOT * share;
    let y_of = |ms: f64| top + plot_height - plot_height * ms / max_ms;
    let line = |which: usize| {
        points
            .iter()
            .map(|(share, p)| format!("{:.1},{:.1}", x_of(*share), y_of(p[which])))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let seconds = span_us as f64 / 1e6;
    html! {
        figure.latency {
            figcaption {
                "Latency (p50, p95, p99, in ms) of the requests sent in each of " (buckets)
                " slices of the flood's " (format!("{seconds:.2}")) " s."
            }
            svg.latency viewBox=(format!("0 0 {WIDTH} {height}")) width=(WIDTH) height=(height) role="img"
                aria-label="latency percentiles over the flood" {
                @for i in 0..=4 {
                    @let ms = max_ms * f64::from(i) / 4.0;
                    line.grid x1=(LEFT) x2=(LEFT + PLOT) y1=(y_of(ms)) y2=(y_of(ms)) {}
                    text.tick x=(LEFT - 6.0) y=(y_of(ms) + 4.0) text-anchor="end" { (format!("{ms:.1}")) }
                }
                @for i in 0..=4 {
                    @let share = f64::from(i) / 4.0;
                    text.tick x=(x_of(share)) y=(top + plot_height + 18.0) text-anchor="middle" {
                        (format!("{:.2} s", seconds * share))
                    }
                }
                polyline.p99 points=(line(2)) {}
                polyline.p95 points=(line(1)) {}
                polyline.p50 points=(line(0)) {}
            }
        }
    }
}

/// The figures' style, added to the report's.
pub(super) const STYLE: &str = include_str!("assets/figures.css");

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(step: u16, status: u16) -> MeteredAnswer {
        MeteredAnswer {
            sent_us: 0,
            latency_us: 100,
            lag_us: 0,
            queued: false,
            status: Some(status),
            error: None,
            step,
        }
    }

    #[test]
    fn requests_are_numbered_from_one_and_the_first_refusal_is_named() {
        // 10,000 answered normally, then refused: the first refusal is the 10,001st request.
        let mut answers: Vec<MeteredAnswer> = (0..10_000).map(|_| answer(0, 401)).collect();
        answers.extend((0..5).map(|_| answer(0, 429)));
        let figures = LoadFigures {
            steps: vec!["crossing".to_owned()],
            answers,
            ..crate::engine::figures_of(&[], &crate::engine::Circumstances::closed(8), &[])
        };
        let page = super::figures(&figures).into_string();
        assert!(
            page.contains("the first refusal was request 10001"),
            "{page}"
        );
        assert!(page.contains("first refusal: request 10001"));
        assert!(page.contains("10000 answered normally, 5 refused"));
    }
}
