//! The load report as one self-contained page (inline style and SVG, nothing fetched, so it works offline and
//! as a CI artifact): the verdicts, the lockout as a chart of answers in request order (normal against
//! refused, the threshold, where the lockout began and ended) and the latency percentiles over time.

use std::io::{self, Write};

use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::engine::Verdict;
use crate::load::{LoadReport, LockoutTimeline, Sample};

/// Answers the lockout profile counts as normal, and as refused.
const NORMAL: [u16; 3] = [200, 400, 401];
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
                    @if let Some(lockout) = &report.lockout {
                        (lockout_chart(lockout, &report.stats.samples))
                    }
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

/// How an answer of the lockout sequence counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Normal,
    /// Refused by the identical-invalid limit before the flood (not the lockout).
    InvalidLimit,
    Refused,
    Other,
}

fn kind(status: Option<u16>) -> Kind {
    match status {
        Some(status) if NORMAL.contains(&status) => Kind::Normal,
        Some(status) if REFUSED.contains(&status) => Kind::Refused,
        _ => Kind::Other,
    }
}

/// The answers in request order: the prelude, then the flood as its answers arrived; each bin of the chart
/// shows the share of normal answers above the axis and of refused ones below it.
fn lockout_chart(lockout: &LockoutTimeline, samples: &[Sample]) -> Markup {
    let mut answers: Vec<Kind> = lockout
        .prelude
        .iter()
        .map(|status| match kind(Some(*status)) {
            Kind::Refused => Kind::InvalidLimit,
            other => other,
        })
        .collect();
    let prelude = answers.len();
    answers.extend(samples.iter().map(|sample| kind(sample.status)));
    let total = answers.len().max(1);
    let began = answers
        .iter()
        .enumerate()
        .skip(prelude)
        .find(|(_, k)| **k == Kind::Refused)
        .map(|(index, _)| index);
    let normal_total = answers.iter().filter(|k| **k == Kind::Normal).count();

    let (band, top) = (70.0, 40.0);
    let axis = top + band;
    let height = axis + band + 46.0;
    let bins = total.min(500);
    let x_of = |index: f64| LEFT + PLOT * index / total as f64;
    let bin_width = PLOT / bins as f64;
    let mut bars = String::new();
    for bin in 0..bins {
        let from = bin * total / bins;
        let to = ((bin + 1) * total / bins).max(from + 1).min(answers.len());
        let slice = &answers[from.min(answers.len())..to];
        let share = |wanted: Kind| {
            slice.iter().filter(|k| **k == wanted).count() as f64 / slice.len().max(1) as f64
        };
        let x = LEFT + bin as f64 * bin_width;
        let normal = share(Kind::Normal) * band;
        let refused = share(Kind::Refused) * band;
        let invalid = share(Kind::InvalidLimit) * band;
        let other = share(Kind::Other) * band;
        for (h, y, class) in [
            (normal, axis - normal, "normal"),
            (refused, axis, "refused"),
            (invalid, axis + refused, "invalid"),
            (other, axis + refused + invalid, "other"),
        ] {
            if h > 0.0 {
                bars.push_str(&format!(
                    r#"<rect class="{class}" x="{x:.2}" y="{y:.2}" width="{:.2}" height="{h:.2}"></rect>"#,
                    bin_width.max(0.6)
                ));
            }
        }
    }
    let threshold_x = x_of(lockout.threshold as f64);
    let threshold_inside = (lockout.threshold as usize) <= total;
    let ticks: Vec<usize> = (0..=4).map(|i| i * total / 4).collect();
    html! {
        section.chart {
            h2 { "The lockout, answer by answer" }
            p.caption {
                (total) " requests to " code { "POST /authenticate" } " in the order they were answered: "
                (prelude) " identical invalid requests one after another, then the flood. "
                (normal_total) " were answered normally; the documented threshold is "
                (lockout.threshold) " per " (duration(lockout.window_ms)) "."
            }
            svg.chart viewBox=(format!("0 0 {WIDTH} {height}")) width=(WIDTH) height=(height) role="img"
                aria-label="answers in request order" {
                (bands(top, band, bars))
                @for tick in &ticks {
                    line.tick x1=(x_of(*tick as f64)) x2=(x_of(*tick as f64)) y1=(axis + band) y2=(axis + band + 5.0) {}
                    text.tick x=(x_of(*tick as f64)) y=(axis + band + 18.0) text-anchor="middle" { (tick) }
                }
                text.tick x=(LEFT + PLOT / 2.0) y=(axis + band + 36.0) text-anchor="middle" { "request number" }
                @if threshold_inside {
                    line.threshold x1=(threshold_x) x2=(threshold_x) y1=(top - 30.0) y2=(axis + band) {}
                    text.threshold x=(threshold_x - 4.0) y=(top - 20.0) text-anchor="end" {
                        "threshold: " (lockout.threshold)
                    }
                }
                @if let Some(began) = began {
                    line.began x1=(x_of(began as f64)) x2=(x_of(began as f64)) y1=(top - 4.0) y2=(axis + band) {}
                    (label_beside(x_of(began as f64), top - 4.0, "began", &format!("lockout began: request {}", began + 1)))
                }
            }
            @if let Some(began) = began {
                (zoom(&answers, began, lockout.threshold))
            }
            (lockout_in_time(lockout))
            (probe_list(lockout))
            p.legend {
                span.key.normal {} " answered normally (200, 400, 401) "
                span.key.refused {} " refused (429, 403, 503) "
                span.key.invalid {} " refused by the identical-invalid limit (before the flood) "
                span.key.other {} " other or no answer"
            }
        }
    }
}

/// Where the lockout ended: the probes after the flood, at the target's time since it began.
fn probe_list(lockout: &LockoutTimeline) -> Markup {
    html! {
        @if lockout.probes.is_empty() {
            p.caption { "No request was refused, so there was no lockout to wait out." }
        } @else {
            ol.probes {
                @for probe in &lockout.probes {
                    @let refused = REFUSED.contains(&probe.status);
                    li.(if refused { "refused" } else { "normal" }) {
                        strong { (duration(probe.since_lockout_ms)) " after the lockout began" }
                        " (" (probe.label) "): " (probe.status)
                        @if refused { " — still locked out" } @else { " — the lockout had ended" }
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
        .min()
        .filter(|_| report.lockout.is_some());
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

/// The two bands of an answers chart, normal above the axis and refused below, with their bars.
fn bands(top: f64, band: f64, bars: String) -> Markup {
    let axis = top + band;
    html! {
        text.label x=(LEFT - 6.0) y=(top + band / 2.0) text-anchor="end" { "normal" }
        text.label x=(LEFT - 6.0) y=(axis + band / 2.0) text-anchor="end" { "refused" }
        (PreEscaped(bars))
        line.axis x1=(LEFT) x2=(LEFT + PLOT) y1=(axis) y2=(axis) {}
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

/// The answers around the start of the lockout, one bar each.
fn zoom(answers: &[Kind], began: usize, threshold: u64) -> Markup {
    const SHOWN: usize = 400;
    let from = began.saturating_sub(SHOWN / 2);
    let to = (from + SHOWN).min(answers.len());
    let from = to.saturating_sub(SHOWN);
    let count = (to - from).max(1);
    let (top, band) = (24.0, 40.0);
    let axis = top + band;
    let height = axis + band + 40.0;
    let width = PLOT / count as f64;
    let x_of = |index: usize| LEFT + PLOT * (index - from) as f64 / count as f64;
    let mut bars = String::new();
    for (index, kind) in answers.iter().enumerate().take(to).skip(from) {
        let (y, class) = match kind {
            Kind::Normal => (axis - band, "normal"),
            Kind::Refused => (axis, "refused"),
            Kind::InvalidLimit => (axis, "invalid"),
            Kind::Other => (axis, "other"),
        };
        bars.push_str(&format!(
            r#"<rect class="{class}" x="{:.2}" y="{y:.2}" width="{:.2}" height="{band:.2}"></rect>"#,
            x_of(index),
            (width - 0.3).max(0.5)
        ));
    }
    let threshold = usize::try_from(threshold).unwrap_or(usize::MAX);
    html! {
        h3 { "Around the threshold: answers " (from + 1) " to " (to) ", one bar each" }
        svg.chart viewBox=(format!("0 0 {WIDTH} {height}")) width=(WIDTH) height=(height) role="img"
            aria-label="the answers around the start of the lockout" {
            (bands(top, band, bars))
            @if (from..to).contains(&threshold) {
                line.threshold x1=(x_of(threshold)) x2=(x_of(threshold)) y1=(top - 12.0) y2=(axis + band) {}
                text.threshold x=(x_of(threshold) - 4.0) y=(top - 14.0) text-anchor="end" { "threshold: after request " (threshold) }
            }
            line.began x1=(x_of(began)) x2=(x_of(began)) y1=(top - 12.0) y2=(axis + band + 4.0) {}
            text.began x=(x_of(began) + 4.0) y=(axis + band + 16.0) { "first refusal: request " (began + 1) }
            @for tick in [from, from + count / 2, to - 1] {
                text.tick x=(x_of(tick)) y=(axis + band + 32.0) text-anchor="middle" { (tick + 1) }
            }
        }
    }
}

/// The lockout in the target's time: from its first refusal, the documented window, and the probes that
/// found it still on and then over.
fn lockout_in_time(lockout: &LockoutTimeline) -> Markup {
    let Some(last) = lockout.probes.iter().map(|p| p.since_lockout_ms).max() else {
        return html! {};
    };
    let span = (last.max(lockout.window_ms) as f64 * 1.08).max(1.0);
    let (top, height) = (34.0, 96.0);
    let x_of = |ms: u64| LEFT + PLOT * ms as f64 / span;
    let ended = lockout
        .probes
        .iter()
        .find(|p| !REFUSED.contains(&p.status))
        .map(|p| p.since_lockout_ms);
    html! {
        h3 { "The lockout in the target's time" }
        svg.chart viewBox=(format!("0 0 {WIDTH} {height}")) width=(WIDTH) height=(height) role="img"
            aria-label="the lockout in time" {
            rect.lockout-span x=(x_of(0)) y=(top) width=(x_of(lockout.window_ms) - x_of(0)) height="18" {}
            text.began x=(x_of(0)) y=(top - 8.0) { "lockout began (first refusal)" }
            line.threshold x1=(x_of(lockout.window_ms)) x2=(x_of(lockout.window_ms)) y1=(top - 20.0) y2=(top + 30.0) {}
            text.threshold x=(x_of(lockout.window_ms) - 4.0) y=(top - 22.0) text-anchor="end" {
                "documented end: one window (" (duration(lockout.window_ms)) ")"
            }
            @for probe in &lockout.probes {
                @let refused = REFUSED.contains(&probe.status);
                circle class=(if refused { "refused" } else { "normal" }) cx=(x_of(probe.since_lockout_ms)) cy=(top + 9.0) r="7" {}
                (label_beside(x_of(probe.since_lockout_ms), top + 40.0, "tick",
                    &format!("{}: {}", duration(probe.since_lockout_ms), if refused { "refused" } else { "answered" })))
            }
            @if let Some(ended) = ended {
                (label_beside(x_of(ended), top + 56.0, "began", "lockout over"))
            }
        }
    }
}

fn ms(value: f64) -> String {
    format!("{value:.2} ms")
}

/// `4 min 55 s`, `300 ms`.
fn duration(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        _ => format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000),
    }
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
