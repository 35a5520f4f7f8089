//! The lockout profile: cross Creditsafe's overall threshold under concurrency and verify CS-LOCKOUT-01 to
//! 05 from the answers alone.
//!
//! 1. Start from an empty window (advance the test clock, or really wait).
//! 2. Prelude, one after another: identical invalid requests, so the invalid-request limit answers some with
//!    429 (those 429s must count toward the threshold: CS-LOCKOUT-03).
//! 3. Flood, through goose at the chosen concurrency: distinct password-less requests (cheap, never
//!    identical), as many as the threshold leaves plus `extra`. Exactly `threshold − prelude` must be
//!    answered normally (CS-LOCKOUT-01, 05), the rest refused (CS-LOCKOUT-02).
//! 4. Just before a full window since the first refusal, a probe is still refused; a full window after
//!    that probe, requests are accepted again (CS-LOCKOUT-04).

use std::sync::Arc;
use std::time::Instant;

use reqwest::Method;
use reqwest::header::HeaderValue;
use serde_json::{Value, json};

use super::flood::{self, FloodPlan, FloodStats};
use super::results::{LoadReport, LoadVerdict, LockoutTimeline, ProbeAnswer};
use super::{LoadError, LoadEvent, LoadOptions};
use crate::engine::Verdict;
use crate::target::clock;
use crate::target::{
    ClockMode, FORWARDED_FOR, PreparedRequest, RunIds, TargetClient, TargetDescription,
    load_run_address,
};

const NORMAL: [u16; 3] = [200, 400, 401];
const REFUSED: [u16; 3] = [429, 403, 503];

/// The sequential requests around the flood, to the target's first base URL (where its clock is moved).
struct Probe<'a> {
    target: &'a TargetDescription,
    client: TargetClient,
    forwarded_for: Option<HeaderValue>,
}

impl Probe<'_> {
    async fn post(&self, path: &str, body: &Value) -> Result<u16, LoadError> {
        let mut request = PreparedRequest::json(Method::POST, path, Some(body));
        if let Some(address) = &self.forwarded_for {
            request.headers.push((FORWARDED_FOR, address.clone()));
        }
        let response =
            self.client
                .send_to(0, &request)
                .await
                .map_err(|none| LoadError::NoAnswer {
                    request: format!("POST {path}"),
                    detail: none.detail,
                })?;
        Ok(response.status)
    }

    /// Moves the target's time forward: the test clock, or a real wait that reports its progress.
    async fn pass_time(
        &self,
        ms: u64,
        events: &mut dyn FnMut(&LoadEvent<'_>),
    ) -> Result<(), LoadError> {
        let real = self.target.clock == ClockMode::Real;
        events(&LoadEvent::WaitStarted { total_ms: ms, real });
        clock::pass_time(&self.client, real, ms, &mut |elapsed_ms| {
            events(&LoadEvent::WaitProgress {
                elapsed_ms,
                total_ms: ms,
            });
        })
        .await?;
        events(&LoadEvent::WaitFinished);
        Ok(())
    }
}

pub async fn run(
    target: &TargetDescription,
    options: &LoadOptions,
    events: &mut dyn FnMut(&LoadEvent<'_>),
) -> Result<LoadReport, LoadError> {
    let threshold = target.limits.cs_overall_threshold;
    let window_ms = target.limits.cs_overall_window_ms;
    let slack_ms = target.slack_ms;
    let run_id = RunIds::new().run_id;
    let forwarded_for = target.forwarded_for.then(|| load_run_address(&run_id));
    let probe = Probe {
        target,
        client: TargetClient::new(target)?,
        forwarded_for: forwarded_for
            .as_deref()
            .and_then(|address| HeaderValue::from_str(address).ok()),
    };
    let mut verdicts = Vec::new();

    // 1. An empty window.
    probe.pass_time(window_ms + slack_ms, events).await?;

    // 2. Identical invalid requests: the first few 401, then 429 from the invalid-request limit.
    let prelude = (threshold / 10).min(target.limits.cs_identical_invalid + 15);
    let identical =
        json!({ "username": format!("load-{run_id}-identical"), "password": "not-the-password" });
    let mut prelude_refused = 0;
    let mut timeline = LockoutTimeline {
        threshold,
        window_ms,
        ..LockoutTimeline::default()
    };
    for _ in 0..prelude {
        let status = probe.post("/authenticate", &identical).await?;
        timeline.prelude.push(status);
        match status {
            401 | 400 => {}
            429 => prelude_refused += 1,
            other => {
                verdicts.push(LoadVerdict::fail(
                    "CS-LOCKOUT-01",
                    "identical invalid requests answered 401 or 429",
                    format!("status {other}"),
                ));
            }
        }
    }

    // 3. The flood.
    let extra = options.requests.unwrap_or(200).max(1);
    let expected_normal = threshold.saturating_sub(prelude);
    let flood_id = run_id.clone();
    let plan = FloodPlan {
        path: "/authenticate".into(),
        total: expected_normal + extra,
        users: options.users,
        rate: options.rate,
        report_dir: options.report_dir.clone(),
        forwarded_for: forwarded_for.clone(),
        authorization: None,
        expected: NORMAL.iter().chain(REFUSED.iter()).copied().collect(),
        body: Arc::new(move |n| json!({ "username": format!("load-{flood_id}-{n}") })),
    };
    let stats = flood::run(target, plan, events).await?;
    let flood_ended = Instant::now();
    verdicts.extend(judge_flood(
        &stats,
        expected_normal,
        extra,
        prelude_refused,
        options.users,
    ));

    // 4. The lockout lasts a full window, then requests are accepted again.
    let distinct = |label: &str| json!({ "username": format!("load-{run_id}-{label}") });
    let since_refusal_ms = stats.first_refusal.map_or(0, |at| {
        u64::try_from(at.elapsed().as_millis()).unwrap_or(u64::MAX)
    });
    if stats.count(&REFUSED) > 0 {
        let wait = window_ms
            .saturating_sub(2 * slack_ms)
            .saturating_sub(since_refusal_ms);
        probe.pass_time(wait, events).await?;
        let status = probe.post("/authenticate", &distinct("before-end")).await?;
        let elapsed_ms = since_refusal_ms
            + wait
            + u64::try_from(flood_ended.elapsed().as_millis())
                .unwrap_or(0)
                .saturating_sub(match target.clock {
                    ClockMode::Control => 0,
                    ClockMode::Real => wait,
                });
        timeline.probes.push(ProbeAnswer {
            label: "just before a window since the lockout began".into(),
            since_lockout_ms: elapsed_ms,
            status,
        });
        if REFUSED.contains(&status) {
            probe.pass_time(window_ms + slack_ms, events).await?;
            let after = probe.post("/authenticate", &distinct("after-end")).await?;
            timeline.probes.push(ProbeAnswer {
                label: "a window after the last refused request".into(),
                since_lockout_ms: elapsed_ms + window_ms + slack_ms,
                status: after,
            });
            verdicts.push(if NORMAL.contains(&after) {
                LoadVerdict::pass(
                    "CS-LOCKOUT-04",
                    "refused until a full window passed, then answered",
                    format!("status {status} before the end, {after} after"),
                )
            } else {
                LoadVerdict::fail(
                    "CS-LOCKOUT-04",
                    "answered normally a full window after the last refused request",
                    format!("status {after}"),
                )
            });
        } else if elapsed_ms >= window_ms.saturating_sub(slack_ms) {
            verdicts.push(LoadVerdict {
                id: "CS-LOCKOUT-04".into(),
                verdict: Verdict::Inconclusive,
                expected: "still refused just before a full window since the lockout began".into(),
                actual: format!("status {status}"),
                note: Some(format!(
                    "{elapsed_ms} ms had passed since the first refusal: too late to tell"
                )),
            });
        } else {
            verdicts.push(LoadVerdict::fail(
                "CS-LOCKOUT-04",
                "still refused just before a full window since the lockout began",
                format!("status {status} after {elapsed_ms} ms of a {window_ms} ms window"),
            ));
        }
    }
    let mut report = LoadReport::new(target, options, stats, verdicts);
    report.lockout = Some(timeline);
    Ok(report)
}

/// The verdicts the flood's answers support on their own.
fn judge_flood(
    stats: &FloodStats,
    expected_normal: u64,
    extra: u64,
    prelude_refused: u64,
    users: usize,
) -> Vec<LoadVerdict> {
    let normal = stats.count(&NORMAL);
    let refused = stats.count(&REFUSED);
    let other = stats.sent - normal - refused + stats.transport_errors;
    let mut verdicts = Vec::new();
    let summary = format!("{normal} answered normally, {refused} refused, {other} other");
    verdicts.push(if normal >= expected_normal {
        LoadVerdict::pass(
            "CS-LOCKOUT-01",
            format!("{expected_normal} requests answered normally"),
            summary.clone(),
        )
    } else {
        LoadVerdict::fail(
            "CS-LOCKOUT-01",
            format!("{expected_normal} requests answered normally"),
            summary.clone(),
        )
    });
    verdicts.push(
        if refused > 0 && normal + refused == stats.sent && normal <= expected_normal {
            let status_note = if stats.count(&[429]) == refused {
                None
            } else {
                Some("refused with 403 or 503, not 429 (accepted with a warning)".to_owned())
            };
            LoadVerdict {
                id: "CS-LOCKOUT-02".into(),
                verdict: if status_note.is_some() {
                    Verdict::Warn
                } else {
                    Verdict::Pass
                },
                expected: format!("every request after the threshold refused ({extra})"),
                actual: summary.clone(),
                note: status_note,
            }
        } else {
            LoadVerdict::fail(
                "CS-LOCKOUT-02",
                format!("every request after the threshold refused ({extra})"),
                summary.clone(),
            )
        },
    );
    let surplus = normal.saturating_sub(expected_normal);
    verdicts.push(if surplus > 0 && surplus == prelude_refused {
        LoadVerdict::fail(
            "CS-LOCKOUT-03",
            "the invalid-request limit's 429s count toward the threshold",
            format!("exactly {surplus} more answered normally: the {prelude_refused} earlier 429s were not counted"),
        )
    } else {
        LoadVerdict::pass("CS-LOCKOUT-03", "the invalid-request limit's 429s count toward the threshold", format!("{prelude_refused} 429s in the prelude; {summary}"))
    });
    verdicts.push(if surplus == 0 {
        LoadVerdict::pass(
            "CS-LOCKOUT-05",
            format!("exactly {expected_normal} answered normally at {users} concurrent users"),
            summary,
        )
    } else {
        LoadVerdict::fail(
            "CS-LOCKOUT-05",
            format!("exactly {expected_normal} answered normally at {users} concurrent users"),
            summary,
        )
    });
    verdicts
}
