//! The target's time: the test-clock protocol (`/_authconform/clock`, docs/target.md) read and advanced in
//! one place, real waits that report their progress, and the virtual time a run has moved through.
//!
//! Everyone who moves a target's time (scenario waits, the lockout load profile) goes through
//! [`pass_time`]; `init` and `detect` ask [`speaks_protocol`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::{Method, Url};
use serde_json::{Value, json};

use super::client::{NoResponse, PreparedRequest, Response, TargetClient, excerpt};

/// The path of the test-clock protocol (docs/target.md).
pub(crate) const CLOCK_PATH: &str = "/_authconform/clock";

/// How often a real wait reports progress.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(200);

/// What a clock answered: its time and how far it has been advanced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ClockReading {
    pub(crate) now_ms: u64,
    /// 0 when the answer leaves it out.
    pub(crate) offset_ms: u64,
}

impl ClockReading {
    /// The reading in a 200 answer of the clock protocol; `None` for anything else.
    pub(crate) fn of(response: &Response) -> Option<ClockReading> {
        if response.status != 200 {
            return None;
        }
        let body = response.json()?;
        Some(ClockReading {
            now_ms: body.get("now_ms")?.as_u64()?,
            offset_ms: body.get("offset_ms").and_then(Value::as_u64).unwrap_or(0),
        })
    }
}

/// Why the target's test clock could not be moved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    #[error("the run was interrupted (Ctrl-C) before the wait ended")]
    Interrupted,
    #[error("could not advance the target's clock: POST {CLOCK_PATH} answered {status} {body}")]
    Refused { status: u16, body: String },
    #[error("could not advance the target's clock: {summary}")]
    NoAnswer { summary: String },
    #[error("could not read the clock at {url}: {summary}")]
    Unreadable { url: String, summary: String },
    #[error(
        "the target's instances do not share one test clock: after advancing it through {first} (offset \
         {offset_ms} ms there), {other} reports {seen} (docs/target.md: several base URLs need one shared clock)"
    )]
    NotShared {
        first: String,
        offset_ms: u64,
        other: String,
        seen: String,
    },
}

/// Whether the target speaks the test-clock protocol: its first base URL answers `GET` with a reading.
pub(crate) async fn speaks_protocol(client: &TargetClient) -> bool {
    read(client, 0)
        .await
        .is_ok_and(|response| ClockReading::of(&response).is_some())
}

/// Moves a target's time forward by `ms` on its own: advances the test clock (checking every instance
/// moved with it), or really waits, calling `progress(elapsed_ms)` as it goes. For one sequence of
/// requests alone on a target (the lockout load profile); scenarios that run side by side wait together
/// through the engine's waits, which use the same two moves.
pub(crate) async fn pass_time(
    client: &TargetClient,
    real: bool,
    ms: u64,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<(), ClockError> {
    if real {
        sleep(ms, progress).await;
        return Ok(());
    }
    if let Some((url, reading)) = advance(client, ms).await? {
        check_shared(client, &url, reading.offset_ms).await?;
    }
    Ok(())
}

/// Reads the clock of base URL number `base`: the answer, or why none came.
pub(crate) async fn read(client: &TargetClient, base: usize) -> Result<Response, NoResponse> {
    client
        .send_to(base, &PreparedRequest::json(Method::GET, CLOCK_PATH, None))
        .await
}

/// Advances the target's test clock once, through its first base URL. `Ok` once it accepted the advance,
/// with the URL that answered and its reading when the answer carried one.
async fn advance(
    client: &TargetClient,
    advance_ms: u64,
) -> Result<Option<(Url, ClockReading)>, ClockError> {
    let body = json!({ "advance_ms": advance_ms });
    let request = PreparedRequest::json(Method::POST, CLOCK_PATH, Some(&body));
    match client.send_to(0, &request).await {
        Ok(response) if response.status == 200 => {
            Ok(ClockReading::of(&response).map(|reading| (response.url, reading)))
        }
        Ok(response) => Err(ClockError::Refused {
            status: response.status,
            body: excerpt(&response.body),
        }),
        Err(no) => Err(ClockError::NoAnswer {
            summary: no.summary,
        }),
    }
}

/// With several base URLs: whether every instance reports the clock offset the first one reported after
/// an advance (they must share one clock, docs/target.md).
async fn check_shared(
    client: &TargetClient,
    first: &Url,
    offset_ms: u64,
) -> Result<(), ClockError> {
    for base in 1..client.base_count() {
        let reading = match read(client, base).await {
            Ok(response) => ClockReading::of(&response),
            Err(no) => {
                return Err(ClockError::Unreadable {
                    url: no.url.to_string(),
                    summary: no.summary,
                });
            }
        };
        match reading {
            Some(reading) if reading.offset_ms == offset_ms => {}
            other => {
                return Err(ClockError::NotShared {
                    first: first.to_string(),
                    offset_ms,
                    other: client
                        .url_at(base, CLOCK_PATH)
                        .map_or_else(|_| format!("base URL {}", base + 1), |url| url.to_string()),
                    seen: other.map_or_else(
                        || "no clock".to_owned(),
                        |reading| format!("offset {} ms", reading.offset_ms),
                    ),
                });
            }
        }
    }
    Ok(())
}

/// Really waits `total_ms`, calling `progress(elapsed_ms)` every [`PROGRESS_INTERVAL`].
async fn sleep(total_ms: u64, progress: &mut (dyn FnMut(u64) + Send)) {
    let start = Instant::now();
    let total = Duration::from_millis(total_ms);
    loop {
        let elapsed = start.elapsed();
        if elapsed >= total {
            break;
        }
        tokio::time::sleep((total - elapsed).min(PROGRESS_INTERVAL)).await;
        progress(
            u64::try_from(start.elapsed().as_millis())
                .unwrap_or(u64::MAX)
                .min(total_ms),
        );
    }
}

/// Virtual time: real time elapsed since a run on the target began plus every advance of its test clock.
/// Shared by everything that runs on the target at once.
#[derive(Debug)]
pub(crate) struct VirtualClock {
    start: Instant,
    advanced_ms: AtomicU64,
}

impl VirtualClock {
    pub(crate) fn new() -> VirtualClock {
        VirtualClock {
            start: Instant::now(),
            advanced_ms: AtomicU64::new(0),
        }
    }

    /// Counts an advance of the target's test clock.
    pub(crate) fn advanced(&self, ms: u64) {
        // fetch_update cannot fail with a closure that always returns Some.
        let _ = self
            .advanced_ms
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |advanced| {
                Some(advanced.saturating_add(ms))
            });
    }

    /// Milliseconds of virtual time since the run on this target began.
    pub(crate) fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .saturating_add(self.advanced_ms.load(Ordering::Relaxed))
    }

    /// The target's idea of now, in Unix seconds.
    pub(crate) fn unix_now_s(&self) -> i64 {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let advanced_s = self.advanced_ms.load(Ordering::Relaxed) / 1000;
        real.saturating_add(i64::try_from(advanced_s).unwrap_or(i64::MAX))
    }
}
