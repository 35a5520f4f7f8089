//! The load page's charts of a whole run: requests and errors each second with the p50 and p99 latency of
//! that second, and the latency distribution as an HDR percentile plot (the tail spread out on a log
//! scale, 90 %, 99 %, 99.9 % … equally apart).

use maud::{Markup, PreEscaped, html};

use crate::engine::LoadFigures;

const WIDTH: f64 = 1000.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 28.0;
const PLOT: f64 = WIDTH - LEFT - RIGHT;

/// Requests per second (errors in red) above, p50 and p99 latency per second below.
pub(super) fn over_time(figures: &LoadFigures) -> Markup {
    let seconds = &figures.seconds;
    let (Some(first), Some(last)) = (seconds.first(), seconds.last()) else {
        return html! {};
    };
    let span = (last.at_s - first.at_s + 1) as f64;
    let most = seconds.iter().map(|s| s.requests).max().unwrap_or(1).max(1) as f64 * 1.1;
    let slowest = seconds
        .iter()
        .map(|s| s.p99_ms)
        .fold(0.0_f64, f64::max)
        .max(0.001)
        * 1.1;
    let (top, band, gap) = (12.0, 110.0, 36.0);
    let latency_top = top + band + gap;
    let height = latency_top + band + 40.0;
    let x_of = |at_s: u64| LEFT + PLOT * (at_s - first.at_s) as f64 / span;
    let bar = PLOT / span;
    let mut bars = String::new();
    for second in seconds {
        let h = band * second.requests as f64 / most;
        let bad = band * second.errors as f64 / most;
        let x = x_of(second.at_s);
        bars.push_str(&format!(
            r#"<rect class="sent" x="{x:.2}" y="{:.2}" width="{:.2}" height="{h:.2}"><title>second {}: {} requests, {} errors, p50 {:.2} ms, p99 {:.2} ms</title></rect>"#,
            top + band - h,
            (bar * 0.9).max(0.6),
            second.at_s - first.at_s + 1,
            second.requests,
            second.errors,
            second.p50_ms,
            second.p99_ms
        ));
        if bad > 0.0 {
            bars.push_str(&format!(
                r#"<rect class="errors" x="{x:.2}" y="{:.2}" width="{:.2}" height="{bad:.2}"></rect>"#,
                top + band - bad,
                (bar * 0.9).max(0.6)
            ));
        }
    }
    let y_of = |ms: f64| latency_top + band - band * ms / slowest;
    let line = |pick: fn(&crate::engine::Second) -> f64| {
        seconds
            .iter()
            .map(|s| format!("{:.1},{:.1}", x_of(s.at_s) + bar / 2.0, y_of(pick(s))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    html! {
        figure.over-time {
            figcaption {
                "Each second of the run (" (seconds.len()) " with requests): requests started, errors (5xx or no answer) in red, and below, that second's p50 and p99 latency in ms."
            }
            svg.over-time viewBox=(format!("0 0 {WIDTH} {height}")) width=(WIDTH) height=(height) role="img"
                aria-label="requests and latency per second" {
                text.tick x=(LEFT - 6.0) y=(top + 10.0) text-anchor="end" { (format!("{:.0}/s", most)) }
                text.tick x=(LEFT - 6.0) y=(top + band) text-anchor="end" { "0" }
                (PreEscaped(bars))
                @for i in 0..=2 {
                    @let ms = slowest * f64::from(i) / 2.0;
                    line.grid x1=(LEFT) x2=(LEFT + PLOT) y1=(y_of(ms)) y2=(y_of(ms)) {}
                    text.tick x=(LEFT - 6.0) y=(y_of(ms) + 4.0) text-anchor="end" { (format!("{ms:.1}")) }
                }
                polyline.p99 points=(line(|s| s.p99_ms)) {}
                polyline.p50 points=(line(|s| s.p50_ms)) {}
                @for i in 0..=4 {
                    @let at = span * f64::from(i) / 4.0;
                    text.tick x=(LEFT + PLOT * f64::from(i) / 4.0) y=(latency_top + band + 18.0) text-anchor="middle" {
                        (if span < 10.0 { format!("{at:.1} s") } else { format!("{at:.0} s") })
                    }
                }
            }
        }
    }
}

/// Where a percentile sits on the plot's log axis: 0 for 0 %, 1 for 90 %, 2 for 99 %, 3 for 99.9 % …
fn tail_position(percentile: f64) -> f64 {
    let remaining = (1.0 - percentile / 100.0).max(1e-6);
    (1.0 / remaining).log10()
}

/// The latency at every percentile, the tail spread out.
pub(super) fn distribution(figures: &LoadFigures) -> Markup {
    let points = &figures.distribution;
    if points.len() < 2 {
        return html! {};
    }
    // As many nines as the requests can tell apart (10,000 requests: up to 99.99 %); the max sits at the
    // right edge.
    let widest = (figures.requests.max(100) as f64).log10().ceil();
    let slowest = points
        .iter()
        .map(|[_, ms]| *ms)
        .fold(0.0_f64, f64::max)
        .max(0.001)
        * 1.1;
    let (top, band) = (12.0, 160.0);
    let height = top + band + 44.0;
    let x_of = |percentile: f64| LEFT + PLOT * tail_position(percentile).min(widest) / widest;
    let y_of = |ms: f64| top + band - band * ms / slowest;
    let line = points
        .iter()
        .map(|[p, ms]| format!("{:.1},{:.1}", x_of(*p), y_of(*ms)))
        .collect::<Vec<_>>()
        .join(" ");
    let labels: Vec<(f64, String)> = (0..=widest as u32)
        .map(|nines| {
            let percentile = 100.0 - 100.0 / 10f64.powi(nines as i32);
            let label = match nines {
                0 => "0%".to_owned(),
                1 => "90%".to_owned(),
                2 => "99%".to_owned(),
                n => format!("99.{}%", "9".repeat(n as usize - 2)),
            };
            (percentile, label)
        })
        .collect();
    html! {
        figure.distribution {
            figcaption {
                "Latency by percentile (HDR histogram, microsecond resolution): the tail spread out, each step right one more nine. Max "
                (format!("{:.2}", figures.latency_ms.max)) " ms."
            }
            svg.distribution viewBox=(format!("0 0 {WIDTH} {height}")) width=(WIDTH) height=(height) role="img"
                aria-label="latency by percentile" {
                @for i in 0..=4 {
                    @let ms = slowest * f64::from(i) / 4.0;
                    line.grid x1=(LEFT) x2=(LEFT + PLOT) y1=(y_of(ms)) y2=(y_of(ms)) {}
                    text.tick x=(LEFT - 6.0) y=(y_of(ms) + 4.0) text-anchor="end" { (format!("{ms:.1}")) }
                }
                @for (percentile, label) in &labels {
                    line.grid x1=(x_of(*percentile)) x2=(x_of(*percentile)) y1=(top) y2=(top + band) {}
                    text.tick x=(x_of(*percentile)) y=(top + band + 18.0) text-anchor="middle" { (label) }
                }
                text.tick x=(LEFT + PLOT / 2.0) y=(top + band + 36.0) text-anchor="middle" { "percentile" }
                polyline.p99 points=(line) {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_axis_gives_each_nine_one_step() {
        assert!((tail_position(0.0)).abs() < 1e-9);
        assert!((tail_position(90.0) - 1.0).abs() < 1e-9);
        assert!((tail_position(99.0) - 2.0).abs() < 1e-9);
        assert!((tail_position(99.9) - 3.0).abs() < 1e-6);
    }
}
