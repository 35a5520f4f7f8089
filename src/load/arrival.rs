//! The open model: a schedule of request start times (`--arrival-rate 500/s --duration 10s`, or ramps
//! with `--stages 30s:100/s,60s:2000/s,10s:0/s`), and the driver that starts each request on time whatever
//! the target's latency. A request due while `--max-in-flight` requests wait for answers queues for the
//! next free connection (late); one due while `--max-queued` are queued too is dropped, and so is one still
//! queued when the schedule ends. Every answer is timed from its scheduled start, so a stalled target cannot
//! hide behind requests never sent.

use std::collections::VecDeque;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use tokio::task::JoinSet;

use crate::engine::{DrivenAnswer, DrivenStep, Driver, LoadModel, QueuedRequest};
use crate::target::Lane;

/// The most requests one schedule may start (its answers are kept for the figures).
pub const MAX_SCHEDULED: u64 = 600_000;

/// A rate of request starts: `500/s`, `500` (per second) or `30/m`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_second: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{given}`: {reason}")]
pub struct ScheduleError {
    pub given: String,
    pub reason: String,
}

fn schedule_error(given: &str, reason: &str) -> ScheduleError {
    ScheduleError {
        given: given.to_owned(),
        reason: reason.to_owned(),
    }
}

impl FromStr for Rate {
    type Err = ScheduleError;

    fn from_str(text: &str) -> Result<Rate, ScheduleError> {
        let compact = text.trim();
        let (number, per) = match compact.split_once('/') {
            Some((number, unit)) => match unit.trim() {
                "s" => (number, 1.0),
                "m" => (number, 60.0),
                _ => {
                    return Err(schedule_error(
                        text,
                        "a rate is per second (/s) or per minute (/m)",
                    ));
                }
            },
            None => (compact, 1.0),
        };
        let count: f64 = number
            .trim()
            .parse()
            .map_err(|_| schedule_error(text, "a rate is a number of requests, e.g. 500/s"))?;
        if !count.is_finite() || count < 0.0 {
            return Err(schedule_error(text, "a rate is zero or more"));
        }
        Ok(Rate {
            per_second: count / per,
        })
    }
}

/// A length of time: `10s`, `500ms`, `2m`.
pub fn parse_length(text: &str) -> Result<Duration, ScheduleError> {
    let compact = text.trim();
    let (number, unit_ms) = if let Some(n) = compact.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = compact.strip_suffix('s') {
        (n, 1000.0)
    } else if let Some(n) = compact.strip_suffix('m') {
        (n, 60_000.0)
    } else {
        return Err(schedule_error(
            text,
            "a length takes a unit: ms, s or m (e.g. 30s)",
        ));
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| schedule_error(text, "a length is a number with ms, s or m"))?;
    if !value.is_finite() || value <= 0.0 || value * unit_ms > 3_600_000.0 {
        return Err(schedule_error(
            text,
            "a length is above zero and at most an hour",
        ));
    }
    Ok(Duration::from_secs_f64(value * unit_ms / 1000.0))
}

/// One stage of a ramp: over `length`, the rate moves in a straight line to `rate`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage {
    pub length: Duration,
    pub rate: Rate,
}

/// The stages of `--stages`: `LENGTH:RATE` pairs separated by commas.
pub fn parse_stages(text: &str) -> Result<Vec<Stage>, ScheduleError> {
    let stages = text
        .split(',')
        .filter(|part| !part.trim().is_empty())
        .map(|part| {
            let (length, rate) = part
                .split_once(':')
                .ok_or_else(|| schedule_error(part, "a stage is LENGTH:RATE, e.g. 30s:100/s"))?;
            Ok(Stage {
                length: parse_length(length)?,
                rate: rate.parse()?,
            })
        })
        .collect::<Result<Vec<Stage>, ScheduleError>>()?;
    if stages.is_empty() {
        return Err(schedule_error(
            text,
            "give at least one stage, e.g. 30s:100/s",
        ));
    }
    Ok(stages)
}

/// The stages of `--stages`, as one value.
#[derive(Debug, Clone, PartialEq)]
pub struct Stages(pub Vec<Stage>);

impl FromStr for Stages {
    type Err = ScheduleError;

    fn from_str(text: &str) -> Result<Stages, ScheduleError> {
        parse_stages(text).map(Stages)
    }
}

/// When each request of a flood is due, from the flood's start.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// The rate at the start; each stage ramps from the rate before it.
    pub start: Rate,
    pub stages: Vec<Stage>,
    /// As given, for the report (`500/s for 10s`).
    pub description: String,
}

impl Schedule {
    /// The same rate for `length`.
    pub fn constant(rate: Rate, length: Duration) -> Schedule {
        Schedule {
            start: rate,
            stages: vec![Stage { length, rate }],
            description: format!("{}/s for {}s", rate.per_second, length.as_secs_f64()),
        }
    }

    /// Ramps from `start` through `stages`.
    pub fn ramps(start: Rate, stages: Vec<Stage>) -> Schedule {
        let description = stages
            .iter()
            .map(|s| format!("{}s:{}/s", s.length.as_secs_f64(), s.rate.per_second))
            .collect::<Vec<_>>()
            .join(",");
        Schedule {
            start,
            stages,
            description: if start.per_second > 0.0 {
                format!("from {}/s, {description}", start.per_second)
            } else {
                description
            },
        }
    }

    /// The whole schedule's length.
    pub fn length(&self) -> Duration {
        self.stages.iter().map(|s| s.length).sum()
    }

    /// How many requests the schedule starts: every whole request due before its end.
    pub fn total(&self) -> u64 {
        let mut before = self.start.per_second;
        let mut count = 0.0;
        for stage in &self.stages {
            count += (before + stage.rate.per_second) / 2.0 * stage.length.as_secs_f64();
            before = stage.rate.per_second;
        }
        // Request k is due when k requests' worth of the rate has passed: k = 0, 1, … below `count`.
        let whole = count.ceil();
        if whole.is_finite() {
            whole as u64
        } else {
            u64::MAX
        }
    }

    /// The mean rate over the whole schedule.
    pub fn mean_rate(&self) -> f64 {
        self.total() as f64 / self.length().as_secs_f64().max(1e-9)
    }

    /// The offsets from the start at which each request is due, in order.
    pub fn due_times(&self) -> Vec<Duration> {
        let total = self.total();
        let mut due = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
        let (mut elapsed, mut counted, mut before) = (0.0_f64, 0.0_f64, self.start.per_second);
        let mut next = 0u64;
        for stage in &self.stages {
            let length = stage.length.as_secs_f64();
            let after = stage.rate.per_second;
            let in_stage = (before + after) / 2.0 * length;
            // Within the stage the count grows as before·t + (after − before)/(2·length)·t².
            let curve = (after - before) / (2.0 * length);
            while next < total && (next as f64) < counted + in_stage {
                let wanted = next as f64 - counted;
                let t = if curve.abs() < 1e-12 {
                    if before > 0.0 { wanted / before } else { 0.0 }
                } else {
                    let discriminant = (before * before + 4.0 * curve * wanted).max(0.0);
                    (-before + discriminant.sqrt()) / (2.0 * curve)
                };
                due.push(Duration::from_secs_f64(elapsed + t.clamp(0.0, length)));
                next += 1;
            }
            elapsed += length;
            counted += in_stage;
            before = after;
        }
        due
    }

    /// The model the figures report.
    pub fn model(&self, max_in_flight: usize) -> LoadModel {
        LoadModel::Open {
            schedule: self.description.clone(),
            scheduled: self.total(),
            target_rps: self.mean_rate(),
            max_in_flight,
        }
    }
}

/// Sends a metered step's requests on a schedule.
#[derive(Debug, Clone)]
pub struct ArrivalDriver {
    due: Arc<Vec<Duration>>,
    max_in_flight: usize,
    max_queued: usize,
}

impl ArrivalDriver {
    /// At most `max_in_flight` requests wait for answers and `max_queued` more for a connection.
    pub fn new(schedule: &Schedule, max_in_flight: usize, max_queued: usize) -> ArrivalDriver {
        ArrivalDriver {
            due: Arc::new(schedule.due_times()),
            max_in_flight: max_in_flight.max(1),
            max_queued,
        }
    }
}

impl Driver for ArrivalDriver {
    fn drive(&self, step: DrivenStep) -> BoxFuture<'static, Result<(), String>> {
        let driver = self.clone();
        Box::pin(async move { driver.keep_schedule(step).await })
    }
}

/// Calls each due time on a thread of its own, which sleeps between them on the system clock (microseconds,
/// where the runtime's timer wheel steps in whole milliseconds) and hands each one to the driver as it comes.
/// It stops early when the driver stops listening.
fn tick(
    started: Instant,
    due: Vec<Duration>,
) -> std::io::Result<(
    tokio::sync::mpsc::UnboundedReceiver<Instant>,
    std::sync::mpsc::Sender<()>,
)> {
    let (ticks, ticked) = tokio::sync::mpsc::unbounded_channel();
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("authconform-arrivals".to_owned())
        .spawn(move || {
            for offset in due {
                let at = started + offset;
                let now = Instant::now();
                if at > now
                    && !matches!(
                        stopped.recv_timeout(at - now),
                        Err(std::sync::mpsc::RecvTimeoutError::Timeout)
                    )
                {
                    return;
                }
                if ticks.send(at).is_err() {
                    return;
                }
            }
        })?;
    Ok((ticked, stop))
}

impl ArrivalDriver {
    async fn keep_schedule(&self, step: DrivenStep) -> Result<(), String> {
        let mut senders = Senders {
            step: &step,
            lanes: Vec::new(),
            in_flight: JoinSet::new(),
            backlog: VecDeque::new(),
            max_in_flight: self.max_in_flight,
            max_queued: self.max_queued,
            dropped: 0,
        };
        // A flood with fewer requests than the schedule (one kind of the mixed profile) takes an even share
        // of its start times: the same shape at its share of the rate.
        let scheduled = self.due.len();
        let wanted = usize::try_from(step.total)
            .unwrap_or(usize::MAX)
            .min(scheduled);
        let due: Vec<Duration> = (0..wanted)
            .map(|k| self.due[k * scheduled / wanted])
            .collect();
        let (mut ticks, stop) = tick(Instant::now(), due)
            .map_err(|error| format!("could not start the open model's clock thread: {error}"))?;
        let mut taken = 0;
        let mut exhausted = false;
        loop {
            tokio::select! {
                biased;
                Some(Ok(done)) = senders.in_flight.join_next(), if !senders.in_flight.is_empty() => {
                    senders.answered(done);
                }
                due = ticks.recv() => match due {
                    Some(due) => senders.due(due),
                    None => break,
                },
            }
            // Free lanes take the requests due: the oldest waiting first, each rendered only now.
            while let Some((due, waited)) = senders.next_to_send() {
                match step.requests.next().await {
                    Some(queued) => {
                        taken += 1;
                        senders.send(queued, due, waited);
                    }
                    None => {
                        // The step has no more requests to send.
                        exhausted = true;
                        senders.backlog.clear();
                        break;
                    }
                }
            }
            if exhausted || (taken == wanted && senders.backlog.is_empty()) {
                break;
            }
        }
        let _ = stop.send(());
        // The schedule is over: what still waits for a connection was not sent in time, and is not sent
        // now (as k6 and oha end a run); the requests in flight are answered.
        senders.dropped += senders.backlog.len() as u64;
        senders.backlog.clear();
        while let Some(done) = senders.in_flight.join_next().await {
            if let Ok(done) = done {
                senders.answered(done);
            }
        }
        step.dropped.store(senders.dropped, Ordering::Relaxed);
        Ok(())
    }
}

/// The requests of one flood in flight, each on a lane of its own, and the start times that came due while
/// every lane was busy.
struct Senders<'s> {
    step: &'s DrivenStep,
    lanes: Vec<Lane>,
    in_flight: JoinSet<(DrivenAnswer, Lane)>,
    /// Start times that came due while `max_in_flight` were waiting, oldest first: each is sent, late, as a
    /// lane frees up (at most `max_queued` wait). The request itself is rendered only when it is sent, so a
    /// target that falls behind costs the generator nothing for what it never sends.
    /// With each, whether it waited for a lane (every one busy, or others already waiting, when it came).
    backlog: VecDeque<(Instant, bool)>,
    max_in_flight: usize,
    max_queued: usize,
    dropped: u64,
}

impl Senders<'_> {
    /// A start time has come: it waits for a lane, or is dropped when `max_queued` already wait.
    fn due(&mut self, due: Instant) {
        if self.in_flight.len() >= self.max_in_flight && self.backlog.len() >= self.max_queued {
            // The target has fallen a whole backlog behind: this request cannot start anywhere near its time.
            self.dropped += 1;
        } else {
            let waits = self.in_flight.len() >= self.max_in_flight || !self.backlog.is_empty();
            self.backlog.push_back((due, waits));
        }
    }

    /// The oldest start time waiting, when a lane is free for it; `true` when it waited for a lane (every
    /// one was busy when it came due).
    fn next_to_send(&mut self) -> Option<(Instant, bool)> {
        if self.in_flight.len() >= self.max_in_flight {
            return None;
        }
        self.backlog.pop_front()
    }

    fn send(&mut self, queued: QueuedRequest, due: Instant, waited: bool) {
        let mut lane = self.lanes.pop().unwrap_or_else(|| self.step.lane());
        self.in_flight.spawn(async move {
            let answer = queued.send_on_schedule(&mut lane, Some(due), waited).await;
            (answer, lane)
        });
    }

    /// An answer came: it goes to the engine, and its lane is free for the next start.
    fn answered(&mut self, (answer, lane): (DrivenAnswer, Lane)) {
        self.lanes.push(lane);
        // The engine stops listening only when the step is abandoned.
        let _ = self.step.answers.send(answer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_lengths_and_stages_parse_with_clear_errors() {
        assert_eq!("500/s".parse::<Rate>().unwrap().per_second, 500.0);
        assert_eq!("500".parse::<Rate>().unwrap().per_second, 500.0);
        assert_eq!("30/m".parse::<Rate>().unwrap().per_second, 0.5);
        assert!("fast".parse::<Rate>().unwrap_err().reason.contains("500/s"));
        assert!("5/h".parse::<Rate>().is_err());
        assert!("-1/s".parse::<Rate>().is_err());
        assert_eq!(parse_length("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_length("2m").unwrap(), Duration::from_secs(120));
        assert!(parse_length("10").unwrap_err().reason.contains("unit"));
        assert!(parse_length("0s").is_err());
        let stages = parse_stages("30s:100/s, 60s:2000/s,10s:0/s").unwrap();
        assert_eq!(stages.len(), 3);
        assert_eq!(stages[1].rate.per_second, 2000.0);
        assert!(
            parse_stages("30s")
                .unwrap_err()
                .reason
                .contains("LENGTH:RATE")
        );
        assert!(parse_stages("").is_err());
    }

    #[test]
    fn a_constant_rate_is_evenly_spaced_and_counts_exactly() {
        let schedule = Schedule::constant(Rate { per_second: 500.0 }, Duration::from_secs(10));
        assert_eq!(schedule.total(), 5_000);
        let due = schedule.due_times();
        assert_eq!(due.len(), 5_000);
        assert_eq!(due[0], Duration::ZERO);
        assert_eq!(due[1], Duration::from_millis(2));
        assert_eq!(due[4_999], Duration::from_millis(9_998));
        assert!((schedule.mean_rate() - 500.0).abs() < 1e-9);
    }

    #[test]
    fn ramps_start_requests_along_the_rate_between_stages() {
        // From 0 to 100/s over 10 s (500 requests), then 100/s for 10 s (1,000 more), then down to 0 (500).
        let stages = parse_stages("10s:100/s,10s:100/s,10s:0/s").unwrap();
        let schedule = Schedule::ramps(Rate { per_second: 0.0 }, stages);
        assert_eq!(schedule.total(), 2_000);
        let due = schedule.due_times();
        assert_eq!(due.len(), 2_000);
        assert!(due.windows(2).all(|pair| pair[0] <= pair[1]));
        // Half the ramp's requests are due by t where t²·5 = 250: about 7.07 s.
        assert!((due[250].as_secs_f64() - 50f64.sqrt()).abs() < 1e-6);
        // The steady stage: one every 10 ms from 10 s.
        assert!((due[500].as_secs_f64() - 10.0).abs() < 1e-9);
        assert!((due[600].as_secs_f64() - 11.0).abs() < 1e-9);
        // Each second of the steady stage holds 100.
        let in_second = |s: f64| {
            due.iter()
                .filter(|d| (s..s + 1.0).contains(&d.as_secs_f64()))
                .count()
        };
        assert_eq!(in_second(15.0), 100);
        // The ramp down ends before 30 s.
        assert!(due[1_999].as_secs_f64() < 30.0);
    }
}
