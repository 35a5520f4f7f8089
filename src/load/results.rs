//! The outcome of a load run: verdicts per requirement, rates, latency percentiles and thresholds. The
//! writers for people, machines and CI live in `report::load`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::LoadOptions;
use super::flood::FloodStats;
use super::threshold::ThresholdResult;
use crate::engine::Verdict;
use crate::target::TargetDescription;

pub const LOAD_REPORT_VERSION: u32 = 1;

/// The load report's own page, written into the report directory beside goose's reports.
pub const LOAD_PAGE: &str = "authconform-load.html";

/// One requirement's verdict from a load run.
#[derive(Debug, Clone, Serialize)]
pub struct LoadVerdict {
    pub id: String,
    pub verdict: Verdict,
    pub expected: String,
    pub actual: String,
    pub note: Option<String>,
}

impl LoadVerdict {
    pub fn pass(id: &str, expected: impl Into<String>, actual: impl Into<String>) -> LoadVerdict {
        LoadVerdict {
            id: id.into(),
            verdict: Verdict::Pass,
            expected: expected.into(),
            actual: actual.into(),
            note: None,
        }
    }

    pub fn fail(id: &str, expected: impl Into<String>, actual: impl Into<String>) -> LoadVerdict {
        LoadVerdict {
            id: id.into(),
            verdict: Verdict::Fail,
            expected: expected.into(),
            actual: actual.into(),
            note: None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    pub version: u32,
    pub target: String,
    pub profile: &'static str,
    pub users: usize,
    pub requests: u64,
    pub duration_ms: u64,
    pub requests_per_second: f64,
    pub latency: Latency,
    pub statuses: BTreeMap<u16, u64>,
    pub transport_errors: u64,
    /// Answers whose body went on past `--max-body`: read up to it, the rest left unread.
    pub cut_bodies: u64,
    pub requirements: Vec<LoadVerdict>,
    pub thresholds: Vec<ThresholdResult>,
    /// goose's own reports (HTML, JSON, Markdown), when a report directory was given.
    pub goose_reports: Vec<String>,
    /// This report as a page of charts, when a report directory was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html_report: Option<String>,
    #[serde(skip)]
    pub stats: FloodStats,
}

impl LoadReport {
    pub fn new(
        target: &TargetDescription,
        options: &LoadOptions,
        stats: FloodStats,
        requirements: Vec<LoadVerdict>,
    ) -> LoadReport {
        let latency = Latency {
            p50_ms: stats.percentile_ms(50.0),
            p90_ms: stats.percentile_ms(90.0),
            p95_ms: stats.percentile_ms(95.0),
            p99_ms: stats.percentile_ms(99.0),
            max_ms: stats.percentile_ms(100.0),
        };
        let goose_reports = options
            .report_dir
            .iter()
            .flat_map(|dir| {
                ["html", "json", "md"].map(|ext| {
                    dir.join(format!("goose-report.{ext}"))
                        .display()
                        .to_string()
                })
            })
            .collect();
        LoadReport {
            version: LOAD_REPORT_VERSION,
            target: target.base_url.to_string(),
            profile: options.profile.as_str(),
            users: options.users,
            requests: stats.sent,
            duration_ms: stats.duration_ms,
            requests_per_second: stats.rps(),
            latency,
            statuses: stats.statuses.clone(),
            transport_errors: stats.transport_errors,
            cut_bodies: stats.cut_bodies,
            requirements,
            thresholds: Vec::new(),
            goose_reports,
            html_report: options
                .report_dir
                .as_ref()
                .map(|dir| dir.join(LOAD_PAGE).display().to_string()),
            stats,
        }
    }

    /// Every requirement passed (warnings allowed unless `strict`) and every threshold held.
    pub fn passed(&self, strict: bool) -> bool {
        self.requirements.iter().all(|v| match v.verdict {
            Verdict::Pass | Verdict::Skip | Verdict::Expected => true,
            Verdict::Warn => !strict,
            Verdict::Inconclusive | Verdict::Fail => false,
        }) && self.thresholds.iter().all(|t| t.passed)
    }
}
