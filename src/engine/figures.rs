//! What a load run's answers add up to: throughput, latency percentiles from an HDR histogram at
//! microsecond resolution (corrected for coordinated omission in the open model), statuses and transport
//! errors, each second of the run, the generator's own saturation, and the checks (`--threshold`,
//! `--max-regression`) judged on them.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Why a request got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportError {
    /// Nothing answered within the target's timeout.
    Timeout,
    /// The connection was closed or reset before an answer.
    Reset,
    /// Nothing accepted the connection (refused, unresolvable).
    Refused,
    /// Any other failure to get an answer.
    Other,
}

impl TransportError {
    pub fn as_str(self) -> &'static str {
        match self {
            TransportError::Timeout => "timeout",
            TransportError::Reset => "reset",
            TransportError::Refused => "refused",
            TransportError::Other => "other",
        }
    }
}

/// One timed answer of a concurrent step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeteredAnswer {
    /// When it was meant to start (open model) or was sent (closed model), from the meter's start, in
    /// microseconds.
    pub sent_us: u64,
    /// From `sent_us` to the answer: in the open model this includes any lag before the send, so a stalled
    /// target cannot hide behind requests that were never sent (coordinated omission).
    pub latency_us: u64,
    /// How long after its scheduled time the request was sent (0 in the closed model).
    pub lag_us: u64,
    /// It waited for a free connection, every one busy with the target (open model): its lag is the
    /// target's doing, not the generator's.
    pub queued: bool,
    /// `None`: no answer (reset, timeout); `error` says why.
    pub status: Option<u16>,
    pub error: Option<TransportError>,
    /// Which concurrent step sent it: an index into [`LoadFigures::steps`].
    pub step: u16,
}

impl MeteredAnswer {
    /// A 5xx answer or none at all.
    pub fn is_error(&self) -> bool {
        self.status.is_none_or(|status| status >= 500)
    }
}

/// How the load was applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum LoadModel {
    /// A fixed number of users, each sending its next request when the last is answered.
    Closed { users: usize },
    /// Requests started on a schedule whatever the target's latency, at most `max_in_flight` at once.
    Open {
        /// The schedule as given (`500/s for 10s`, or the stages).
        schedule: String,
        /// The requests the schedule asked for, over its whole length.
        scheduled: u64,
        /// The schedule's mean rate.
        target_rps: f64,
        max_in_flight: usize,
    },
}

/// A request later than this after its scheduled time counts as late.
pub const LATE_AFTER_US: u64 = 1_000;
/// A start lag at p99 above this says the generator, not the target, set the pace.
pub const SATURATED_LAG_US: u64 = 5_000;
/// A generator using this share of its cores or more is saturated (when the target runs elsewhere).
pub const SATURATED_CPU_SHARE: f64 = 0.9;

/// Latency percentiles, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

/// One second of a load run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Second {
    /// Seconds from the first request measured.
    pub at_s: u64,
    /// Requests started (or scheduled, in the open model) in this second.
    pub requests: u64,
    /// Of those, 5xx answers or none.
    pub errors: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// One concurrent step's share of the figures (the mixed profile's kinds of request side by side).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepFigures {
    /// An index into [`LoadFigures::steps`].
    pub step: u16,
    pub requests: u64,
    /// 5xx answers or none.
    pub errors: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// The first refused request (429, 403 or 503), numbered from 1 in the order sent, and how long after
    /// the step's first request it was sent: where a limit started refusing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_refusal: Option<FirstRefusal>,
}

/// Where a limit started refusing within a step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FirstRefusal {
    /// From 1, in the order sent.
    pub request: u64,
    /// After the step's first request.
    pub after_ms: f64,
}

/// The answers that count as refused by a limit.
pub const REFUSED: [u16; 3] = [429, 403, 503];

/// The load generator's own state while it measured: a busy generator makes any target look slow.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GeneratorFigures {
    /// CPU time used by this process while steps ran, in percent of one core.
    pub cpu_percent: f64,
    /// The cores the generator could use: its threads (`--threads`), at most the machine's.
    pub cores: usize,
    /// The target ran in this process (the bundled reference server), so the CPU figure covers both.
    pub shares_process_with_target: bool,
    /// Requests started more than 1 ms after their scheduled time (open model).
    pub late: u64,
    /// Of those, the ones that waited for a free connection, every one busy with the target.
    pub queued: u64,
    /// Requests not sent because `--max-in-flight` requests were waiting for answers and as many for a
    /// connection (open model).
    pub dropped: u64,
    /// How long after their scheduled time the requests that found a free connection started: the
    /// generator's own lag (open model).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_lag_ms: Option<Percentiles>,
    /// Why the generator, not the target, may have set the pace; the figure checks are inconclusive then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bottleneck: Option<String>,
}

/// A pass/fail check on a load run's figures (`--threshold p99<1s`, `--max-regression p99=+10%`).
pub trait FigureCheck: std::fmt::Debug + Send + Sync {
    fn judge(&self, measured: &Measured<'_>) -> FigureVerdict;
}

/// What a check reads: the figures, and every latency in the histogram behind them.
pub struct Measured<'a> {
    pub figures: &'a LoadFigures,
    latencies: &'a Histogram<u64>,
}

impl Measured<'_> {
    /// The latency at `percentile` (0–100), in milliseconds.
    pub fn latency_ms(&self, percentile: f64) -> f64 {
        quantile_ms(self.latencies, percentile / 100.0).min(self.figures.latency_ms.max)
    }

    /// 5xx answers and requests without one, in percent of the requests.
    pub fn error_percent(&self) -> f64 {
        self.figures.error_percent()
    }
}

/// How one check on the figures came out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FigureVerdict {
    /// The check as given (`p99<1s`, `p99 within +10% of the baseline's 2.10 ms`).
    pub threshold: String,
    pub actual: f64,
    pub passed: bool,
    /// The generator was saturated, so the figure says nothing about the target.
    pub inconclusive: bool,
    /// The earlier run's value, for a check against a baseline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<f64>,
}

/// What a load run measured, beside its verdicts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadFigures {
    pub model: LoadModel,
    /// Requests in flight at most.
    pub users: usize,
    pub requests: u64,
    /// The time spent under load: for each concurrent step, from its first request to its last answer
    /// (the waits between steps left out).
    pub duration_ms: u64,
    pub requests_per_second: f64,
    /// From the scheduled start (open model) or the send (closed model) to the answer.
    pub latency_ms: Percentiles,
    /// Open model: from the actual send to the answer, the figure a tool without the correction reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_ms: Option<Percentiles>,
    /// The latency distribution: `[percentile, milliseconds]` pairs for an HDR percentile plot.
    pub distribution: Vec<[f64; 2]>,
    pub statuses: BTreeMap<u16, u64>,
    pub no_answer: u64,
    /// Requests without an answer, by why.
    pub errors: BTreeMap<TransportError, u64>,
    /// Each second with requests, in order.
    pub seconds: Vec<Second>,
    /// Each concurrent step's requests, errors and latency, in the order the steps began.
    pub by_step: Vec<StepFigures>,
    pub generator: GeneratorFigures,
    /// The `--threshold` and `--max-regression` checks, judged on these answers.
    pub thresholds: Vec<FigureVerdict>,
    /// The documented count after which the target refuses (the lockout threshold), for the chart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<u64>,
    /// The names of the concurrent steps measured, in the order they ran.
    pub steps: Vec<String>,
    /// When targets are compared (`load --compare`): which target, and which round, this measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compared: Option<Compared>,
    /// The answers in the order their requests were sent (the first [`super::CHARTED_ANSWERS`]), for the
    /// charts.
    #[serde(skip)]
    pub answers: Vec<MeteredAnswer>,
}

impl LoadFigures {
    /// 5xx answers and requests without one, in percent of the requests.
    pub fn error_percent(&self) -> f64 {
        let errors: u64 = self
            .statuses
            .iter()
            .filter(|(status, _)| **status >= 500)
            .map(|(_, n)| n)
            .sum::<u64>()
            + self.no_answer;
        errors as f64 * 100.0 / self.requests.max(1) as f64
    }

    /// Whether every check passed and none was inconclusive.
    pub fn passed(&self) -> bool {
        self.thresholds.iter().all(|t| t.passed && !t.inconclusive)
    }
}

/// Which target and round of a comparison a run's figures measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Compared {
    pub target: String,
    /// From 1.
    pub round: u32,
}

/// What the figures are computed from, beside the answers.
#[derive(Debug, Clone)]
pub(crate) struct Circumstances {
    pub(crate) model: LoadModel,
    pub(crate) users: usize,
    pub(crate) dropped: u64,
    /// CPU time and wall time while steps ran.
    pub(crate) cpu: Option<(std::time::Duration, std::time::Duration)>,
    pub(crate) shares_process_with_target: bool,
    /// Threads the generator ran on.
    pub(crate) threads: usize,
}

#[cfg(test)]
impl Circumstances {
    pub(crate) fn closed(users: usize) -> Circumstances {
        Circumstances {
            model: LoadModel::Closed { users },
            users,
            dropped: 0,
            cpu: None,
            shares_process_with_target: false,
            threads: 1,
        }
    }
}

fn histogram() -> Histogram<u64> {
    // 1 µs to an hour at 3 significant figures: 0.1 % precision everywhere in that range.
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}

fn quantile_ms(histogram: &Histogram<u64>, quantile: f64) -> f64 {
    if histogram.is_empty() {
        return 0.0;
    }
    histogram.value_at_quantile(quantile.clamp(0.0, 1.0)) as f64 / 1000.0
}

/// The latency at `quantile`, never above the exact largest (`max_us`): a histogram answers with its
/// bucket's upper bound, which can lie above every value recorded in it.
fn quantile_within_ms(histogram: &Histogram<u64>, quantile: f64, max_us: u64) -> f64 {
    quantile_ms(histogram, quantile).min(max_us as f64 / 1000.0)
}

fn percentiles(histogram: &Histogram<u64>, max_us: u64) -> Percentiles {
    let at = |quantile| quantile_within_ms(histogram, quantile, max_us);
    Percentiles {
        p50: at(0.50),
        p90: at(0.90),
        p95: at(0.95),
        p99: at(0.99),
        p999: at(0.999),
        // The exact largest, not its bucket's bound.
        max: max_us as f64 / 1000.0,
    }
}

/// The figures of `answers`, with `checks` judged on them.
pub(crate) fn figures_of(
    answers: &[MeteredAnswer],
    circumstances: &Circumstances,
    checks: &[Box<dyn FigureCheck>],
) -> LoadFigures {
    let open = matches!(circumstances.model, LoadModel::Open { .. });
    let mut latencies = histogram();
    let mut service = histogram();
    let mut lags = histogram();
    let (mut max_latency, mut max_service, mut max_lag) = (0, 0, 0);
    let mut statuses = BTreeMap::new();
    let mut errors = BTreeMap::new();
    let mut no_answer = 0;
    let mut late = 0;
    let mut queued = 0;
    let mut spans: BTreeMap<u16, (u64, u64)> = BTreeMap::new();
    let mut seconds: BTreeMap<u64, (u64, u64, Histogram<u64>)> = BTreeMap::new();
    let mut by_step: BTreeMap<u16, (u64, u64, Histogram<u64>, u64)> = BTreeMap::new();
    // Seconds count from the first request measured.
    let first_sent = answers.iter().map(|a| a.sent_us).min().unwrap_or(0);
    for answer in answers {
        latencies.saturating_record(answer.latency_us.max(1));
        max_latency = max_latency.max(answer.latency_us);
        let served = answer.latency_us.saturating_sub(answer.lag_us);
        service.saturating_record(served.max(1));
        max_service = max_service.max(served);
        if answer.queued {
            queued += 1;
        } else {
            lags.saturating_record(answer.lag_us.max(1));
            max_lag = max_lag.max(answer.lag_us);
        }
        if answer.lag_us > LATE_AFTER_US {
            late += 1;
        }
        match answer.status {
            Some(status) => *statuses.entry(status).or_insert(0) += 1,
            None => {
                no_answer += 1;
                *errors
                    .entry(answer.error.unwrap_or(TransportError::Other))
                    .or_insert(0) += 1;
            }
        }
        let end = answer.sent_us + answer.latency_us;
        let span = spans.entry(answer.step).or_insert((answer.sent_us, end));
        span.0 = span.0.min(answer.sent_us);
        span.1 = span.1.max(end);
        let second = seconds
            .entry((answer.sent_us - first_sent) / 1_000_000)
            .or_insert_with(|| (0, 0, histogram()));
        second.0 += 1;
        second.1 += u64::from(answer.is_error());
        second.2.saturating_record(answer.latency_us.max(1));
        let step = by_step
            .entry(answer.step)
            .or_insert_with(|| (0, 0, histogram(), 0));
        step.0 += 1;
        step.1 += u64::from(answer.is_error());
        step.2.saturating_record(answer.latency_us.max(1));
        step.3 = step.3.max(answer.latency_us);
    }
    // The time some step was under load, each from its first send to its last answer: the waits between
    // steps are not load, and steps running side by side (the mixed profile) count once.
    let mut spans: Vec<(u64, u64)> = spans.into_values().collect();
    spans.sort_unstable();
    let mut duration_us = 0;
    let mut covered_to = 0;
    for (first, last) in spans {
        let from = first.max(covered_to);
        if last > from {
            duration_us += last - from;
            covered_to = last;
        }
    }
    let duration_us = duration_us.max(1);
    // The cores the generator could use: its threads, at most the machine's.
    let cores = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(circumstances.threads.max(1));
    let cpu_percent = circumstances.cpu.map_or(0.0, |(cpu, wall)| {
        cpu.as_secs_f64() * 100.0 / wall.as_secs_f64().max(1e-9)
    });
    let lag = open.then(|| percentiles(&lags, max_lag));
    let bottleneck = if let Some(lag) = lag.filter(|lag| lag.p99 * 1000.0 > SATURATED_LAG_US as f64)
    {
        Some(format!(
            "requests started up to {:.1} ms (p99) after their scheduled time: the generator could not keep the schedule",
            lag.p99
        ))
    } else if !circumstances.shares_process_with_target
        && cpu_percent >= SATURATED_CPU_SHARE * 100.0 * cores as f64
    {
        Some(format!(
            "the generator used {cpu_percent:.0}% of the {cores} core(s) its threads can use: it, not the target, may have set the pace (`--threads` gives it more)"
        ))
    } else {
        None
    };
    let distribution = if latencies.is_empty() {
        Vec::new()
    } else {
        latencies
            .iter_quantiles(2)
            .map(|step| {
                [
                    step.quantile_iterated_to() * 100.0,
                    (step.value_iterated_to() as f64 / 1000.0).min(max_latency as f64 / 1000.0),
                ]
            })
            .collect()
    };
    let mut figures = LoadFigures {
        model: circumstances.model.clone(),
        users: circumstances.users,
        requests: answers.len() as u64,
        duration_ms: duration_us.div_ceil(1000),
        requests_per_second: answers.len() as f64 * 1_000_000.0 / duration_us as f64,
        latency_ms: percentiles(&latencies, max_latency),
        service_ms: open.then(|| percentiles(&service, max_service)),
        distribution,
        statuses,
        no_answer,
        errors,
        seconds: seconds
            .into_iter()
            .map(|(at_s, (requests, errors, histogram))| Second {
                at_s,
                requests,
                errors,
                p50_ms: quantile_ms(&histogram, 0.5),
                p99_ms: quantile_ms(&histogram, 0.99),
            })
            .collect(),
        by_step: by_step
            .into_iter()
            .map(
                |(step, (requests, errors, histogram, max_us))| StepFigures {
                    step,
                    requests,
                    errors,
                    p50_ms: quantile_within_ms(&histogram, 0.5, max_us),
                    p99_ms: quantile_within_ms(&histogram, 0.99, max_us),
                    max_ms: max_us as f64 / 1000.0,
                    first_refusal: first_refusal(answers, step),
                },
            )
            .collect(),
        generator: GeneratorFigures {
            cpu_percent,
            cores,
            shares_process_with_target: circumstances.shares_process_with_target,
            late,
            queued,
            dropped: circumstances.dropped,
            start_lag_ms: lag,
            bottleneck,
        },
        thresholds: Vec::new(),
        threshold: None,
        steps: Vec::new(),
        compared: None,
        answers: Vec::new(),
    };
    let saturated = figures.generator.bottleneck.is_some();
    let measured = Measured {
        figures: &figures,
        latencies: &latencies,
    };
    let verdicts = checks
        .iter()
        .map(|check| FigureVerdict {
            inconclusive: saturated,
            ..check.judge(&measured)
        })
        .collect();
    figures.thresholds = verdicts;
    figures
}

/// The first refused answer of `step` in the order its requests were sent.
fn first_refusal(answers: &[MeteredAnswer], step: u16) -> Option<FirstRefusal> {
    let mut sent: Vec<(u64, bool)> = answers
        .iter()
        .filter(|a| a.step == step)
        .map(|a| (a.sent_us, a.status.is_some_and(|s| REFUSED.contains(&s))))
        .collect();
    sent.sort_by_key(|(at, _)| *at);
    let first_sent = sent.first()?.0;
    sent.iter()
        .position(|(_, refused)| *refused)
        .map(|index| FirstRefusal {
            request: index as u64 + 1,
            after_ms: (sent[index].0 - first_sent) as f64 / 1000.0,
        })
}

/// The CPU time this process has used so far (every thread), where the platform tells it.
pub(crate) fn process_cpu_time() -> Option<std::time::Duration> {
    cpu_time::ProcessTime::try_now()
        .ok()
        .map(|time| time.as_duration())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn answer(sent_us: u64, latency_us: u64, status: Option<u16>, step: u16) -> MeteredAnswer {
        MeteredAnswer {
            sent_us,
            latency_us,
            lag_us: 0,
            queued: false,
            status,
            error: status.is_none().then_some(TransportError::Reset),
            step,
        }
    }

    fn close(actual: f64, expected: f64) -> bool {
        (actual - expected).abs() <= expected * 0.001
    }

    #[test]
    fn figures_count_statuses_and_take_percentiles_to_a_tenth_of_a_percent() {
        let answers: Vec<MeteredAnswer> = (0..100)
            .map(|n| {
                let status = if n == 99 {
                    None
                } else {
                    Some(if n < 90 { 401 } else { 429 })
                };
                answer(n * 1_000, (n + 1) * 100, status, 0)
            })
            .collect();
        let figures = figures_of(&answers, &Circumstances::closed(8), &[]);
        assert_eq!(figures.requests, 100);
        assert_eq!(figures.statuses.get(&401), Some(&90));
        assert_eq!(figures.statuses.get(&429), Some(&9));
        assert_eq!(figures.no_answer, 1);
        assert_eq!(figures.errors.get(&TransportError::Reset), Some(&1));
        assert!(
            close(figures.latency_ms.p50, 5.0),
            "{:?}",
            figures.latency_ms
        );
        assert!(
            close(figures.latency_ms.p99, 9.9),
            "{:?}",
            figures.latency_ms
        );
        assert_eq!(figures.latency_ms.max, 10.0);
        // A bucket's bound lies above the largest value recorded in it: no percentile says more than
        // the largest.
        let slow = [answer(0, 2_851_610, Some(200), 0)];
        let one_slow = figures_of(&slow, &Circumstances::closed(1), &[]);
        let latency = &one_slow.latency_ms;
        assert_eq!(latency.max, 2_851.61);
        for p in [latency.p50, latency.p90, latency.p99, latency.p999] {
            assert!(p <= latency.max, "{latency:?}");
        }
        assert!(one_slow.by_step[0].p99_ms <= one_slow.by_step[0].max_ms);
        assert!(
            one_slow
                .distribution
                .iter()
                .all(|[_, ms]| *ms <= latency.max)
        );
        assert_eq!(figures.seconds.len(), 1);
        assert_eq!(figures.seconds[0].requests, 100);
        assert_eq!(figures.seconds[0].errors, 1);
        assert!(figures.distribution.len() > 3);
        // From the first send (0) to the last answer (99 ms + 10 ms).
        assert_eq!(figures.duration_ms, 109);
        // Two steps with a wait between them: only the steps count.
        let two_steps = [
            answer(0, 1_000, Some(401), 0),
            answer(60_000_000, 1_000, Some(401), 1),
        ];
        let figures = figures_of(&two_steps, &Circumstances::closed(1), &[]);
        assert_eq!(figures.duration_ms, 2);
        assert_eq!(figures.seconds.len(), 2);
        // Two steps side by side over the same second count it once.
        let side_by_side: Vec<MeteredAnswer> = (0..10)
            .flat_map(|n| {
                [
                    answer(n * 100_000, 1_000, Some(200), 0),
                    answer(n * 100_000 + 50_000, 1_000, Some(200), 1),
                ]
            })
            .collect();
        let figures = figures_of(&side_by_side, &Circumstances::closed(1), &[]);
        assert_eq!(figures.duration_ms, 951);
        assert!((figures.requests_per_second - 20.0 / 0.951).abs() < 0.1);
    }

    #[derive(Debug)]
    struct P99Below(f64);

    impl FigureCheck for P99Below {
        fn judge(&self, measured: &Measured<'_>) -> FigureVerdict {
            let actual = measured.latency_ms(99.0);
            FigureVerdict {
                threshold: format!("p99<{}", self.0),
                actual,
                passed: actual < self.0,
                inconclusive: false,
                baseline: None,
            }
        }
    }

    #[test]
    fn a_generator_busy_on_every_core_its_threads_can_use_makes_the_checks_inconclusive() {
        let answers: Vec<MeteredAnswer> = (0..100)
            .map(|n| answer(n * 1_000, 1_000, Some(200), 0))
            .collect();
        let checks: Vec<Box<dyn FigureCheck>> = vec![Box::new(P99Below(100.0))];
        let busy = |cpu_ms: u64, threads: usize, shares_process_with_target: bool| Circumstances {
            cpu: Some((Duration::from_millis(cpu_ms), Duration::from_millis(100))),
            threads,
            shares_process_with_target,
            ..Circumstances::closed(64)
        };
        // One thread at 95 % of one core: the generator set the pace, whatever the machine has.
        let figures = figures_of(&answers, &busy(95, 1, false), &checks);
        assert_eq!(figures.generator.cores, 1);
        let said = figures.generator.bottleneck.as_deref().unwrap_or_default();
        assert!(said.contains("95% of the 1 core(s)"), "{said}");
        assert!(!figures.passed());
        // Half of its one core: conclusive.
        let figures = figures_of(&answers, &busy(50, 1, false), &checks);
        assert_eq!(figures.generator.bottleneck, None);
        assert!(figures.passed());
        // The cores are the threads', never more than the machine has.
        let machine = std::thread::available_parallelism().map_or(1, usize::from);
        let figures = figures_of(&answers, &busy(50, 256, false), &checks);
        assert_eq!(figures.generator.cores, machine);
        // A target in this process spends the same CPU: no verdict on the generator from it.
        let figures = figures_of(&answers, &busy(95, 1, true), &checks);
        assert_eq!(figures.generator.bottleneck, None);
    }

    #[test]
    fn a_late_schedule_makes_the_checks_inconclusive_and_the_latency_corrected() {
        // Scheduled every ms; the generator sent each 20 ms late, and the target answered in 1 ms.
        let answers: Vec<MeteredAnswer> = (0..200)
            .map(|n| MeteredAnswer {
                lag_us: 20_000,
                ..answer(n * 1_000, 21_000, Some(200), 0)
            })
            .collect();
        let open = Circumstances {
            model: LoadModel::Open {
                schedule: "1000/s for 0.2s".into(),
                scheduled: 200,
                target_rps: 1000.0,
                max_in_flight: 64,
            },
            ..Circumstances::closed(64)
        };
        let checks: Vec<Box<dyn FigureCheck>> = vec![Box::new(P99Below(100.0))];
        let figures = figures_of(&answers, &open, &checks);
        assert!(close(figures.latency_ms.p99, 21.0));
        assert!(close(figures.service_ms.unwrap().p99, 1.0));
        assert_eq!(figures.generator.late, 200);
        assert!(figures.generator.bottleneck.is_some());
        assert!(figures.thresholds[0].passed && figures.thresholds[0].inconclusive);
        assert!(!figures.passed());
        // The same lag spent waiting for a connection the target kept busy: the target's doing.
        let waited: Vec<MeteredAnswer> = answers
            .iter()
            .map(|a| MeteredAnswer { queued: true, ..*a })
            .collect();
        let figures = figures_of(&waited, &open, &checks);
        assert_eq!(
            (figures.generator.late, figures.generator.queued),
            (200, 200)
        );
        assert_eq!(figures.generator.bottleneck, None);
        assert!(close(figures.latency_ms.p99, 21.0));
        // On time: conclusive.
        let on_time: Vec<MeteredAnswer> = answers
            .iter()
            .map(|a| MeteredAnswer {
                lag_us: 100,
                latency_us: 1_100,
                ..*a
            })
            .collect();
        let figures = figures_of(&on_time, &open, &checks);
        assert_eq!(figures.generator.late, 0);
        assert_eq!(figures.generator.bottleneck, None);
        assert!(figures.passed());
    }
}
