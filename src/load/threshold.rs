//! Pass/fail thresholds on load results: `p95<200ms`, `p99<1s`, `rps>1000`, `errors<1%`.

use std::str::FromStr;

use serde::Serialize;

use super::flood::FloodStats;
use crate::engine::{FigureCheck, FigureVerdict, MeteredAnswer};

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

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThresholdResult {
    pub threshold: String,
    pub actual: f64,
    pub passed: bool,
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

impl Threshold {
    pub fn evaluate(&self, stats: &FloodStats) -> ThresholdResult {
        let actual = match self.metric {
            Metric::Percentile(p) => stats.percentile_ms(f64::from(p)),
            Metric::Rps => stats.rps(),
            Metric::Errors => stats.error_percent(),
        };
        let passed = if self.below {
            actual < self.value
        } else {
            actual > self.value
        };
        ThresholdResult {
            threshold: self.source.clone(),
            actual,
            passed,
        }
    }
}

/// A threshold judged on the answers a load run's engine steps timed (the lockout profile).
impl FigureCheck for Threshold {
    fn judge(&self, answers: &[MeteredAnswer]) -> FigureVerdict {
        let result = self.evaluate(&FloodStats::from_answers(answers));
        FigureVerdict {
            threshold: result.threshold,
            actual: result.actual,
            passed: result.passed,
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
}
