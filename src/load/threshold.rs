//! Pass/fail thresholds on load results: `p95<200ms`, `p99<1s`, `rps>1000`, `errors<1%`.

use std::str::FromStr;

use serde::Serialize;

use crate::engine::{FigureCheck, FigureVerdict, LoadFigures, MeteredAnswer};

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// A latency percentile, in milliseconds.
    Percentile(u8),
    /// Requests per second over the run.
    Rps,
    /// Transport errors and 5xx answers, as a percentage of requests.
    Errors,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Threshold {
    pub source: String,
    pub metric: Metric,
    pub below: bool,
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--threshold `{given}`: {reason} (e.g. `p95<200ms`, `p99<1s`, `rps>1000`, `errors<1%`)")]
pub struct ThresholdError {
    pub given: String,
    pub reason: String,
}

impl FromStr for Threshold {
    type Err = ThresholdError;

    fn from_str(text: &str) -> Result<Threshold, ThresholdError> {
        let error = |reason: &str| ThresholdError {
            given: text.to_owned(),
            reason: reason.to_owned(),
        };
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let (name, below, value) = if let Some((name, value)) = compact.split_once('<') {
            (name, true, value)
        } else if let Some((name, value)) = compact.split_once('>') {
            (name, false, value)
        } else {
            return Err(error("expected `<` or `>`"));
        };
        let metric = match name.to_ascii_lowercase().as_str() {
            "rps" => Metric::Rps,
            "errors" => Metric::Errors,
            other => match other.strip_prefix('p').and_then(|n| n.parse::<u8>().ok()) {
                Some(p) if (1..=100).contains(&p) => Metric::Percentile(p),
                _ => {
                    return Err(error(
                        "the metric is pNN (a latency percentile), rps or errors",
                    ));
                }
            },
        };
        let value = match metric {
            Metric::Percentile(_) => parse_duration_ms(value)
                .ok_or_else(|| error("a latency is a number with ms or s"))?,
            Metric::Errors => value
                .strip_suffix('%')
                .and_then(|n| n.parse::<f64>().ok())
                .ok_or_else(|| error("an error rate is a percentage such as 1%"))?,
            Metric::Rps => value
                .parse::<f64>()
                .map_err(|_| error("a rate is a number"))?,
        };
        Ok(Threshold {
            source: text.to_owned(),
            metric,
            below,
            value,
        })
    }
}

fn parse_duration_ms(text: &str) -> Option<f64> {
    if let Some(ms) = text.strip_suffix("ms") {
        ms.parse().ok()
    } else if let Some(s) = text.strip_suffix('s') {
        s.parse::<f64>().ok().map(|s| s * 1000.0)
    } else {
        None
    }
}

/// A threshold judged on the answers a load run's floods got.
impl FigureCheck for Threshold {
    fn judge(&self, answers: &[MeteredAnswer]) -> FigureVerdict {
        let actual = match self.metric {
            Metric::Percentile(p) => {
                let mut latencies: Vec<u64> = answers.iter().map(|a| a.latency_us).collect();
                latencies.sort_unstable();
                let rank = ((f64::from(p) / 100.0) * latencies.len() as f64).ceil() as usize;
                latencies
                    .get(rank.clamp(1, latencies.len().max(1)) - 1)
                    .map_or(0.0, |us| *us as f64 / 1000.0)
            }
            Metric::Rps => LoadFigures::of(1, answers).requests_per_second,
            Metric::Errors => {
                let errors = answers
                    .iter()
                    .filter(|a| a.status.is_none_or(|status| status >= 500))
                    .count();
                errors as f64 * 100.0 / answers.len().max(1) as f64
            }
        };
        let passed = if self.below {
            actual < self.value
        } else {
            actual > self.value
        };
        FigureVerdict {
            threshold: self.source.clone(),
            actual,
            passed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_parse() {
        let p95: Threshold = "p95<200ms".parse().unwrap();
        assert_eq!(
            (p95.metric, p95.below, p95.value),
            (Metric::Percentile(95), true, 200.0)
        );
        assert_eq!("p99 < 1.5s".parse::<Threshold>().unwrap().value, 1500.0);
        assert_eq!("rps>1000".parse::<Threshold>().unwrap().metric, Metric::Rps);
        assert_eq!("errors<1%".parse::<Threshold>().unwrap().value, 1.0);
        assert!(
            "p95=200ms"
                .parse::<Threshold>()
                .unwrap_err()
                .to_string()
                .contains("--threshold")
        );
        assert!("p200<1ms".parse::<Threshold>().is_err());
        assert!("p95<200".parse::<Threshold>().is_err());
    }

    #[test]
    fn thresholds_judge_the_answers() {
        let answers: Vec<MeteredAnswer> = (0..100)
            .map(|n| MeteredAnswer {
                sent_us: n * 1_000,
                latency_us: (n + 1) * 1_000,
                status: if n < 98 { Some(401) } else { Some(503) },
                step: 0,
            })
            .collect();
        let judge = |text: &str| text.parse::<Threshold>().unwrap().judge(&answers);
        assert_eq!(judge("p95<200ms").actual, 95.0);
        assert!(judge("p95<200ms").passed);
        assert!(!judge("p99<50ms").passed);
        assert_eq!(judge("errors<1%").actual, 2.0);
        assert!(!judge("errors<1%").passed);
        // 100 answers from 0 to 199 ms.
        assert!(
            (judge("rps>400").actual - 502.5).abs() < 1.0,
            "{}",
            judge("rps>400").actual
        );
    }
}
