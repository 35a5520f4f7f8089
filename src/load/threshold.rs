//! Pass/fail thresholds on load results: `p95<200ms`, `p99<1s`, `rps>1000`, `errors<1%`.

use std::str::FromStr;

use serde::Serialize;

use crate::engine::{FigureCheck, FigureVerdict, Measured};

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// A latency percentile (`p99`, `p99.9`), in milliseconds.
    Percentile(f64),
    /// Requests per second over the run.
    Rps,
    /// Transport errors and 5xx answers, as a percentage of requests.
    Errors,
}

impl Metric {
    /// `p99`, `p99.9`, `rps` or `errors`.
    pub fn parse(name: &str) -> Option<Metric> {
        match name.to_ascii_lowercase().as_str() {
            "rps" => Some(Metric::Rps),
            "errors" => Some(Metric::Errors),
            other => other
                .strip_prefix('p')
                .and_then(|n| n.parse::<f64>().ok())
                .filter(|p| *p > 0.0 && *p <= 100.0)
                .map(Metric::Percentile),
        }
    }

    /// The metric's value in these figures.
    pub fn of(self, measured: &Measured<'_>) -> f64 {
        match self {
            Metric::Percentile(p) => measured.latency_ms(p),
            Metric::Rps => measured.figures.requests_per_second,
            Metric::Errors => measured.error_percent(),
        }
    }

    /// Whether a larger value is worse (latency, errors) rather than better (rate).
    pub fn lower_is_better(self) -> bool {
        !matches!(self, Metric::Rps)
    }

    /// The metric's name as given on the command line.
    pub fn name(self) -> String {
        match self {
            Metric::Percentile(p) => format!("p{p}"),
            Metric::Rps => "rps".to_owned(),
            Metric::Errors => "errors".to_owned(),
        }
    }
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
        let metric = Metric::parse(name).ok_or_else(|| {
            error("the metric is pNN (a latency percentile such as p99 or p99.9), rps or errors")
        })?;
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
        if !value.is_finite() || value < 0.0 {
            return Err(error("the value is a number of zero or more"));
        }
        if below && value == 0.0 {
            return Err(error("no figure is below zero, so it could never hold"));
        }
        if metric == Metric::Errors && value > 100.0 {
            return Err(error("an error rate is at most 100%"));
        }
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

/// A threshold judged on a load run's figures.
impl FigureCheck for Threshold {
    fn judge(&self, measured: &Measured<'_>) -> FigureVerdict {
        let actual = self.metric.of(measured);
        let passed = if self.below {
            actual < self.value
        } else {
            actual > self.value
        };
        FigureVerdict {
            threshold: self.source.clone(),
            actual,
            passed,
            inconclusive: false,
            baseline: None,
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
            (Metric::Percentile(95.0), true, 200.0)
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
        assert_eq!(
            "p99.9<5ms".parse::<Threshold>().unwrap().metric,
            Metric::Percentile(99.9)
        );
        assert!("p95<200".parse::<Threshold>().is_err());
        // Values no figure can take, or that no figure could meet, are refused by what is wrong.
        for (given, reason) in [
            ("p95<-5ms", "zero or more"),
            ("p95<NaNms", "zero or more"),
            ("rps>inf", "zero or more"),
            ("rps>-1", "zero or more"),
            ("p99<0ms", "could never hold"),
            ("errors<0%", "could never hold"),
            ("errors>101%", "at most 100%"),
        ] {
            let refused = given.parse::<Threshold>().unwrap_err().to_string();
            assert!(refused.contains(reason), "{given}: {refused}");
        }
        assert_eq!("errors>0%".parse::<Threshold>().unwrap().value, 0.0);
    }

    #[test]
    fn thresholds_judge_the_figures() {
        use crate::engine::{Circumstances, MeteredAnswer, figures_of};
        let answers: Vec<MeteredAnswer> = (0..100)
            .map(|n| MeteredAnswer {
                sent_us: n * 1_000,
                latency_us: (n + 1) * 1_000,
                lag_us: 0,
                queued: false,
                status: if n < 98 { Some(401) } else { Some(503) },
                error: None,
                step: 0,
            })
            .collect();
        let judge = |text: &str| {
            let check: Box<dyn FigureCheck> = Box::new(text.parse::<Threshold>().unwrap());
            figures_of(&answers, &Circumstances::closed(8), &[check]).thresholds[0].clone()
        };
        // HDR buckets: within a tenth of a percent.
        assert!((judge("p95<200ms").actual - 95.0).abs() < 0.1);
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
