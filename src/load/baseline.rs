//! Baselines: an earlier load run's figures (its JSON report, `--baseline previous.json`) and how far this
//! run may move from them (`--max-regression p99=+10%,rps=-5%`). Each limit becomes a check judged on
//! this run's figures like a `--threshold`, so a regression fails the run (exit 1) and every report shows
//! the baseline, the value now and the change.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde_json::Value;

use super::LoadProfile;
use super::threshold::Metric;
use crate::engine::{FigureCheck, FigureVerdict, Measured};

/// The limits of `--max-regression`: per metric, how far it may move the wrong way, in percent (for
/// `errors`, in percentage points).
#[derive(Debug, Clone, PartialEq)]
pub struct RegressionLimits(pub Vec<(Metric, f64)>);

/// What `--baseline` alone allows: p99 up to 10 % slower, the rate up to 5 % lower.
pub const DEFAULT_LIMITS: &str = "p99=+10%,rps=-5%";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--max-regression `{given}`: {reason} (e.g. `p99=+10%,rps=-5%,errors=+1%`)")]
pub struct LimitsError {
    pub given: String,
    pub reason: String,
}

impl FromStr for RegressionLimits {
    type Err = LimitsError;

    fn from_str(text: &str) -> Result<RegressionLimits, LimitsError> {
        let error = |part: &str, reason: &str| LimitsError {
            given: part.trim().to_owned(),
            reason: reason.to_owned(),
        };
        let mut limits = Vec::new();
        for part in text.split(',').filter(|part| !part.trim().is_empty()) {
            let compact: String = part.chars().filter(|c| !c.is_whitespace()).collect();
            let (name, change) = compact
                .split_once('=')
                .ok_or_else(|| error(part, "each limit is METRIC=CHANGE%"))?;
            let metric = Metric::parse(name).ok_or_else(|| {
                error(
                    part,
                    "the metric is pNN (p50, p90, p95, p99, p99.9, p100), rps or errors",
                )
            })?;
            let number = change
                .strip_suffix('%')
                .ok_or_else(|| error(part, "a change is a percentage such as +10%"))?;
            let allowed: f64 = number
                .parse()
                .map_err(|_| error(part, "a change is a percentage such as +10%"))?;
            let wrong_way = if metric.lower_is_better() {
                allowed < 0.0
            } else {
                allowed > 0.0
            };
            if wrong_way || !allowed.is_finite() {
                return Err(error(
                    part,
                    if metric.lower_is_better() {
                        "a latency or error limit says how much it may grow: +N%"
                    } else {
                        "a rate limit says how much it may fall: -N%"
                    },
                ));
            }
            limits.push((metric, allowed.abs()));
        }
        if limits.is_empty() {
            return Err(error(text, "give at least one limit"));
        }
        Ok(RegressionLimits(limits))
    }
}

/// An earlier run's figures.
#[derive(Debug, Clone)]
pub struct Baseline {
    path: PathBuf,
    figures: Value,
    /// The load profile the baseline ran, told by its scenarios (`None` when they name none).
    profile: Option<LoadProfile>,
}

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("--baseline {}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("--baseline {}:{line}:{column}: not a JSON report: {message}", path.display())]
    NotJson {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("--baseline {}: no load figures in it (write one with `authconform load --format json=FILE`)", path.display())]
    NoFigures { path: PathBuf },
    #[error("--baseline {}: it has no {metric} figure to compare with (a baseline holds p50, p90, p95, p99, p99.9, p100, rps and errors)", path.display())]
    Missing { path: PathBuf, metric: String },
    #[error("--baseline {}: it measured the {} profile, and this run is the {} profile: a baseline compares a profile with an earlier run of itself", path.display(), baseline.as_str(), this.as_str())]
    OtherProfile {
        path: PathBuf,
        baseline: LoadProfile,
        this: LoadProfile,
    },
}

impl Baseline {
    /// Reads the first target's load figures from a JSON report.
    pub fn read(path: &Path) -> Result<Baseline, BaselineError> {
        let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Read {
            path: path.to_owned(),
            source,
        })?;
        Baseline::parse(path, &text)
    }

    fn parse(path: &Path, text: &str) -> Result<Baseline, BaselineError> {
        let report: Value = serde_json::from_str(text).map_err(|error| BaselineError::NotJson {
            path: path.to_owned(),
            line: error.line(),
            column: error.column(),
            message: error.to_string(),
        })?;
        let measured = report
            .get("targets")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|target| target.get("load").is_some_and(Value::is_object))
            .ok_or_else(|| BaselineError::NoFigures {
                path: path.to_owned(),
            })?;
        let profile = measured
            .get("scenarios")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|scenario| scenario.get("name").and_then(Value::as_str))
            .find_map(LoadProfile::running);
        Ok(Baseline {
            path: path.to_owned(),
            figures: measured["load"].clone(),
            profile,
        })
    }

    /// Refuses a baseline of another profile than `this` run's: its figures measured other requests.
    pub fn of_profile(self, this: LoadProfile) -> Result<Baseline, BaselineError> {
        match self.profile {
            Some(baseline) if baseline != this => Err(BaselineError::OtherProfile {
                path: self.path,
                baseline,
                this,
            }),
            _ => Ok(self),
        }
    }

    /// The baseline's value of `metric`.
    fn value(&self, metric: Metric) -> Option<f64> {
        let figures = &self.figures;
        match metric {
            Metric::Percentile(p) => {
                const KEYS: [(f64, &str); 6] = [
                    (50.0, "p50"),
                    (90.0, "p90"),
                    (95.0, "p95"),
                    (99.0, "p99"),
                    (99.9, "p999"),
                    (100.0, "max"),
                ];
                let (_, key) = KEYS.iter().find(|(at, _)| (*at - p).abs() < 1e-9)?;
                figures.get("latency_ms")?.get(key)?.as_f64()
            }
            Metric::Rps => figures.get("requests_per_second")?.as_f64(),
            Metric::Errors => {
                let requests = figures.get("requests")?.as_f64()?;
                let failed: f64 = figures
                    .get("statuses")?
                    .as_object()?
                    .iter()
                    .filter(|(status, _)| status.parse::<u16>().is_ok_and(|s| s >= 500))
                    .filter_map(|(_, n)| n.as_f64())
                    .sum::<f64>()
                    + figures.get("no_answer")?.as_f64()?;
                Some(failed * 100.0 / requests.max(1.0))
            }
        }
    }

    /// One check per limit, against this baseline's values.
    pub fn regressions(&self, limits: &RegressionLimits) -> Result<Vec<Regression>, BaselineError> {
        limits
            .0
            .iter()
            .map(|(metric, allowed)| {
                let baseline = self.value(*metric).ok_or_else(|| BaselineError::Missing {
                    path: self.path.clone(),
                    metric: metric.name(),
                })?;
                Ok(Regression {
                    metric: *metric,
                    baseline,
                    allowed: *allowed,
                })
            })
            .collect()
    }
}

/// This run's value of a metric may move the wrong way from the baseline's by at most `allowed` percent
/// (percentage points for `errors`).
#[derive(Debug, Clone, PartialEq)]
pub struct Regression {
    pub metric: Metric,
    pub baseline: f64,
    pub allowed: f64,
}

impl Regression {
    /// The worst value allowed.
    pub fn limit(&self) -> f64 {
        match self.metric {
            Metric::Errors => self.baseline + self.allowed,
            Metric::Rps => self.baseline * (1.0 - self.allowed / 100.0),
            Metric::Percentile(_) => self.baseline * (1.0 + self.allowed / 100.0),
        }
    }
}

impl FigureCheck for Regression {
    fn judge(&self, measured: &Measured<'_>) -> FigureVerdict {
        let actual = self.metric.of(measured);
        let limit = self.limit();
        let passed = if self.metric.lower_is_better() {
            actual <= limit
        } else {
            actual >= limit
        };
        let (sign, unit) = match self.metric {
            Metric::Errors => ("+", " points"),
            Metric::Rps => ("-", "%"),
            Metric::Percentile(_) => ("+", "%"),
        };
        FigureVerdict {
            threshold: format!(
                "{} at most {sign}{}{unit} from the baseline's {:.3}",
                self.metric.name(),
                self.allowed,
                self.baseline
            ),
            actual,
            passed,
            inconclusive: false,
            baseline: Some(self.baseline),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_and_refuse_the_wrong_direction() {
        let limits: RegressionLimits = "p99=+10%, rps=-5%,errors=+1%,p99.9=+20%".parse().unwrap();
        assert_eq!(
            limits.0,
            vec![
                (Metric::Percentile(99.0), 10.0),
                (Metric::Rps, 5.0),
                (Metric::Errors, 1.0),
                (Metric::Percentile(99.9), 20.0)
            ]
        );
        assert!(DEFAULT_LIMITS.parse::<RegressionLimits>().is_ok());
        let wrong = "p99=-10%".parse::<RegressionLimits>().unwrap_err();
        assert!(wrong.reason.contains("+N%"), "{wrong}");
        assert!(
            "rps=+5%"
                .parse::<RegressionLimits>()
                .unwrap_err()
                .reason
                .contains("-N%")
        );
        assert!("p99=10".parse::<RegressionLimits>().is_err());
        assert!("speed=+1%".parse::<RegressionLimits>().is_err());
        assert!(wrong.to_string().starts_with("--max-regression"));
    }

    #[test]
    fn a_baseline_reads_a_json_report_and_says_where_it_is_broken() {
        let path = Path::new("previous.json");
        let report = r#"{"targets": [{"load": {"requests": 200, "requests_per_second": 1000.0,
            "latency_ms": {"p50": 1.0, "p90": 1.5, "p95": 1.8, "p99": 2.0, "p999": 3.0, "max": 4.0},
            "statuses": {"200": 198, "500": 2}, "no_answer": 0}}]}"#;
        let baseline = Baseline::parse(path, report).unwrap();
        let limits: RegressionLimits = "p99=+10%,rps=-5%,errors=+1%".parse().unwrap();
        let checks = baseline.regressions(&limits).unwrap();
        assert!((checks[0].limit() - 2.2).abs() < 1e-9);
        assert!((checks[1].limit() - 950.0).abs() < 1e-9);
        assert!((checks[2].limit() - 2.0).abs() < 1e-9);
        let missing = baseline
            .regressions(&"p75=+1%".parse().unwrap())
            .unwrap_err();
        assert!(missing.to_string().contains("p75"), "{missing}");
        let broken = Baseline::parse(path, "{\n  \"targets\": [,]\n}").unwrap_err();
        assert!(
            broken
                .to_string()
                .starts_with("--baseline previous.json:2:"),
            "{broken}"
        );
        let empty = Baseline::parse(path, r#"{"targets": [{}]}"#).unwrap_err();
        assert!(matches!(empty, BaselineError::NoFigures { .. }));
    }

    #[test]
    fn a_baseline_of_another_profile_is_refused_by_both_names() {
        let path = Path::new("lockout.json");
        let report = |scenario: &str| {
            format!(
                r#"{{"targets": [{{"scenarios": [{{"name": "{scenario}"}}],
                "load": {{"requests": 1, "requests_per_second": 1.0}}}}]}}"#
            )
        };
        let lockout = Baseline::parse(path, &report("creditsafe-lockout-after-threshold")).unwrap();
        let refused = lockout
            .clone()
            .of_profile(LoadProfile::Signin)
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("--baseline lockout.json")
                && refused.contains("the lockout profile")
                && refused.contains("the signin profile"),
            "{refused}"
        );
        assert!(lockout.of_profile(LoadProfile::Lockout).is_ok());
        let mixed = Baseline::parse(path, &report("load-mixed-me")).unwrap();
        assert!(mixed.of_profile(LoadProfile::Mixed).is_ok());
        // A report whose scenarios name no load profile is taken at its word.
        let unnamed = Baseline::parse(path, &report("something-else")).unwrap();
        assert!(unnamed.of_profile(LoadProfile::Signup).is_ok());
    }
}
