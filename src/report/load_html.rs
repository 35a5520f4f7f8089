//! The load report as one self-contained page (inline style and SVG, nothing fetched, so it works offline and
//! as a CI artifact) of a benchmark: the checks, the latency percentiles over time and the statuses. The
//! lockout profile's report is the run's HTML report, with its figures.

use std::io::{self, Write};

use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::engine::Verdict;
use crate::load::LoadReport;

const REFUSED: [u16; 3] = [429, 403, 503];

const WIDTH: f64 = 1000.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 28.0;
const PLOT: f64 = WIDTH - LEFT - RIGHT;

/// Writes the page.
pub fn write_load_html(out: &mut dyn Write, report: &LoadReport) -> io::Result<()> {
    out.write_all(page(report).into_string().as_bytes())?;
    writeln!(out)
}

fn page(report: &LoadReport) -> Markup {
    let passed = report.passed(false);
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'";
                title { "authconform load: " (report.profile) " against " (report.target) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header.banner.(if passed { "outcome-pass" } else { "outcome-fail" }) {
                    h1 { "authconform load report: " (report.profile) }
                    p.outcome {
                        @if passed { "Passed: every check and threshold held" }
                        @else { "Failed: a check or threshold did not hold" }
                    }
                    p {
                        code { (report.target) } " · " (report.requests) " requests from " (report.users)
                        " users in " (format!("{:.2}", report.duration_ms as f64 / 1000.0)) " s · "
                        (format!("{:.0}", report.requests_per_second)) " requests/s"
                    }
                }
                main {
                    (verdicts(report))
                    (latency_chart(report))
                    (statuses(report))
                }
                footer {
                    "Charts are drawn from the answers as they arrived"
                    @if report.stats.samples.len() < usize::try_from(report.requests).unwrap_or(usize::MAX) {
                        " (the first " (report.stats.samples.len()) " of them)"
                    }
                    ". goose's own reports: "
                    @if report.goose_reports.is_empty() { "none (--report-dir DIR keeps them)" }
                    @else { (report.goose_reports.join(", ")) }
                }
            }
        }
    }
}

fn verdicts(report: &LoadReport) -> Markup {
    html! {
        section {
            h2 { "Checks" }
            table {
                thead { tr { th { "check" } th { "verdict" } th { "expected" } th { "actual" } } }
                tbody {
                    @for verdict in &report.requirements {
                        tr {
                            td { code { (verdict.id) } }
                            td.(verdict.verdict.as_str()) { (verdict.verdict.as_str()) }
                            td { (verdict.expected) }
                            td {
                                (verdict.actual)
                                @if let Some(note) = &verdict.note { br; small { (note) } }
                            }
                        }
                    }
                    @for threshold in &report.thresholds {
                        @let verdict = if threshold.passed { Verdict::Pass } else { Verdict::Fail };
                        tr {
                            td { "threshold " code { (threshold.threshold.to_string()) } }
                            td.(verdict.as_str()) { (verdict.as_str()) }
                            td { (threshold.threshold.to_string()) }
                            td { (format!("{:.2}", threshold.actual)) }
                        }
                    }
                }
            }
            p.latency {
                "Latency: p50 " (ms(report.latency.p50_ms)) ", p90 " (ms(report.latency.p90_ms))
                ", p95 " (ms(report.latency.p95_ms)) ", p99 " (ms(report.latency.p99_ms))
                ", max " (ms(report.latency.max_ms))
            }
        }
    }
}

fn statuses(report: &LoadReport) -> Markup {
    html! {
        section {
            h2 { "Answers by status" }
            table {
                thead { tr { th { "status" } th.num { "answers" } } }
                tbody {
                    @for (status, count) in &report.statuses {
                        tr { td { (status) } td.num { (count) } }
                    }
                    @if report.transport_errors > 0 {
                        tr { td { "no answer" } td.num { (report.transport_errors) } }
                    }
                }
            }
        }
    }
}

/// The 50th, 95th and 99th latency percentiles of the flood's requests, by when they were sent.
fn latency_chart(report: &LoadReport) -> Markup {
    let samples = &report.stats.samples;
    let span_us = samples.iter().map(|s| s.sent_us).max().unwrap_or(0).max(1);
    let buckets = 60usize.min(samples.len().max(1));
    let mut latencies: Vec<Vec<u64>> = vec![Vec::new(); buckets];
    for sample in samples {
        let bucket = usize::try_from(sample.sent_us * buckets as u64 / (span_us + 1)).unwrap_or(0);
        latencies[bucket.min(buckets - 1)].push(sample.latency_us);
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
    let top = 20.0;
    let plot_height = 220.0;
    let height = top + plot_height + 46.0;
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
    let refused_from = samples
        .iter()
        .filter(|s| s.status.is_some_and(|status| REFUSED.contains(&status)))
        .map(|s| s.sent_us)
        .min();
    let seconds = span_us as f64 / 1e6;
    html! {
        section.chart {
            h2 { "Latency over the flood" }
            p.caption {
                "Percentiles of the answer time of the requests sent in each of " (buckets)
                " slices of the flood's " (format!("{seconds:.2}")) " s."
            }
            @if points.is_empty() {
                p.caption { "No answer was recorded." }
            } @else {
                svg.chart viewBox=(format!("0 0 {WIDTH} {height}")) width=(WIDTH) height=(height) role="img"
                    aria-label="latency percentiles over time" {
                    @if let Some(from) = refused_from {
                        @let x = x_of(from as f64 / span_us as f64);
                        rect.lockout x=(x) y=(top) width=((LEFT + PLOT - x).max(0.0)) height=(plot_height) {}
                        (label_beside(x, top + 12.0, "began", "locked out from here"))
                    }
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
                    text.tick x=(14) y=(top + plot_height / 2.0) transform=(format!("rotate(-90 14 {})", top + plot_height / 2.0)) text-anchor="middle" { "ms" }
                    text.tick x=(LEFT + PLOT / 2.0) y=(top + plot_height + 36.0) text-anchor="middle" { "time since the flood began" }
                    polyline.p99 points=(line(2)) {}
                    polyline.p95 points=(line(1)) {}
                    polyline.p50 points=(line(0)) {}
                }
                p.legend {
                    span.key.p50 {} " p50 " span.key.p95 {} " p95 " span.key.p99 {} " p99"
                }
            }
        }
    }
}

/// A label at `x`: to its right, or to its left near the right edge, so it stays inside the chart.
fn label_beside(x: f64, y: f64, class: &str, text: &str) -> Markup {
    let left = x > LEFT + PLOT * 0.7;
    html! {
        text class=(class) x=(if left { x - 4.0 } else { x + 4.0 }) y=(y)
            text-anchor=(if left { "end" } else { "start" }) { (text) }
    }
}

fn ms(value: f64) -> String {
    format!("{value:.2} ms")
}

const STYLE: &str = r#"
:root { --pass: #1a7f37; --fail: #cf222e; --warn: #9a6700; --inconclusive: #8250df; --muted: #57606a;
  --border: #d0d7de; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #1f2328; }
main { max-width: 1060px; margin: 0 auto; padding: 0 24px 32px; }
.banner { padding: 18px 24px; color: #fff; }
.banner h1 { margin: 0 0 4px; font-size: 22px; }
.banner p { margin: 2px 0; }
.banner .outcome { font-size: 18px; font-weight: 600; }
.banner code { color: inherit; }
.outcome-pass { background: var(--pass); } .outcome-fail { background: var(--fail); }
h2 { margin: 24px 0 8px; font-size: 19px; border-bottom: 1px solid var(--border); padding-bottom: 4px; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border: 1px solid var(--border); padding: 4px 8px; text-align: left; vertical-align: top; }
thead th { background: #f6f8fa; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
td.pass { color: var(--pass); font-weight: 600; } td.fail { color: var(--fail); font-weight: 600; }
td.warn { color: var(--warn); font-weight: 600; } td.inconclusive { color: var(--inconclusive); font-weight: 600; }
.caption, .latency, footer { color: var(--muted); }
footer { max-width: 1060px; margin: 0 auto; padding: 12px 24px 24px; font-size: 13px; border-top: 1px solid var(--border); }
svg.chart { max-width: 100%; height: auto; display: block; }
svg text { font-size: 12px; fill: #1f2328; }
svg text.tick { fill: var(--muted); }
rect.normal { fill: #2da44e; } rect.refused { fill: #cf222e; } rect.invalid { fill: #fb8f44; } rect.other { fill: #8c959f; }
line.axis { stroke: #1f2328; stroke-width: 1; } line.tick { stroke: var(--muted); } line.grid { stroke: #eaeef2; }
line.threshold { stroke: #0969da; stroke-width: 2; stroke-dasharray: 6 4; } text.threshold { fill: #0969da; font-weight: 600; }
line.began { stroke: #1f2328; stroke-width: 1.5; } text.began { font-weight: 600; }
rect.lockout { fill: #ffebe9; } rect.lockout-span { fill: #ffcecb; }
circle.refused { fill: #cf222e; } circle.normal { fill: #2da44e; }
h3 { font-size: 15px; margin: 14px 0 4px; color: #3b434b; }
td code { white-space: nowrap; }
polyline { fill: none; stroke-width: 2; }
polyline.p50 { stroke: #2da44e; } polyline.p95 { stroke: #bf8700; } polyline.p99 { stroke: #cf222e; }
.legend { font-size: 13px; color: var(--muted); }
.key { display: inline-block; width: 12px; height: 12px; border-radius: 2px; vertical-align: -1px; margin-left: 10px; }
.key.normal, .key.p50 { background: #2da44e; } .key.refused, .key.p99 { background: #cf222e; }
.key.invalid { background: #fb8f44; } .key.other { background: #8c959f; } .key.p95 { background: #bf8700; }
ol.probes li.refused strong { color: var(--fail); } ol.probes li.normal strong { color: var(--pass); }
"#;
