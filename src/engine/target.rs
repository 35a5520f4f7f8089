//! One target under test: its client, its virtual clock, the admin token, and the waits that move time.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use authconform_scenario::model::{Capability, Catalogue, Level, Wait};
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use serde_json::{Value, json};

use super::EngineError;
use super::events::EngineEvent;
use super::http::{PreparedRequest, TargetClient};
use super::render::RunIds;
use super::results::Observation;
use crate::config::{ClockMode, TargetDescription};

/// The path of the test-clock protocol (docs/target.md).
pub(crate) const CLOCK_PATH: &str = "/_authconform/clock";

/// How often a real wait reports progress.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(200);

/// Virtual time: real time elapsed since the target's run began plus every advance of the test clock.
#[derive(Debug)]
pub(crate) struct VirtualClock {
    start: Instant,
    advanced_ms: u64,
}

impl VirtualClock {
    fn new() -> VirtualClock {
        VirtualClock {
            start: Instant::now(),
            advanced_ms: 0,
        }
    }

    /// Milliseconds of virtual time since the run on this target began.
    pub(crate) fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .saturating_add(self.advanced_ms)
    }

    /// The target's idea of now, in Unix seconds.
    pub(crate) fn unix_now_s(&self) -> i64 {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        real.saturating_add(i64::try_from(self.advanced_ms / 1000).unwrap_or(i64::MAX))
    }
}

pub(crate) struct TargetRun<'a> {
    pub(crate) target: &'a TargetDescription,
    pub(crate) catalogue: &'a Catalogue,
    pub(crate) client: TargetClient,
    pub(crate) ids: &'a RunIds,
    pub(crate) clock: VirtualClock,
    /// Signed in on first need, and again once half its lifetime has passed in virtual time (waits can
    /// move the target's clock by weeks).
    pub(crate) admin_token: Option<Result<String, String>>,
    admin_token_at_ms: u64,
    scenarios_started: u32,
    pub(crate) secrets: Vec<String>,
    pub(crate) observations: Vec<Observation>,
}

impl<'a> TargetRun<'a> {
    pub(crate) fn new(
        target: &'a TargetDescription,
        catalogue: &'a Catalogue,
        ids: &'a RunIds,
    ) -> Result<TargetRun<'a>, EngineError> {
        let mut secrets: Vec<String> = Vec::new();
        for account in [&target.admin, &target.creditsafe].into_iter().flatten() {
            secrets.push(account.password.clone());
        }
        secrets.extend(target.appmixer_jwt_secret.clone());
        Ok(TargetRun {
            target,
            catalogue,
            client: TargetClient::new(target)?,
            ids,
            clock: VirtualClock::new(),
            admin_token: None,
            admin_token_at_ms: 0,
            scenarios_started: 0,
            secrets,
            observations: Vec::new(),
        })
    }

    /// Checks every base URL of the target answers (and speaks the clock protocol in `control` mode).
    pub(crate) async fn probe(&self) -> Result<(), EngineError> {
        let path = match self.target.clock {
            ClockMode::Control => CLOCK_PATH,
            ClockMode::Real => "/",
        };
        let request = self.prepare(Method::GET, path, None)?;
        for base in 0..self.client.base_count() {
            let response = self.client.send_to(base, &request).await.map_err(|no| {
                EngineError::Unreachable {
                    target: self.target.name.clone(),
                    url: no.url.to_string(),
                    reason: format!("{}: {}", no.summary, no.detail),
                }
            })?;
            if self.target.clock == ClockMode::Control && clock_reading(&response).is_none() {
                return Err(EngineError::ClockProtocol {
                    target: self.target.name.clone(),
                    problem: format!(
                        "GET {} answered {} {}",
                        response.url,
                        response.status,
                        super::expect::excerpt(&response.body)
                    ),
                });
            }
        }
        Ok(())
    }

    fn prepare(
        &self,
        method: Method,
        path: &str,
        json: Option<&Value>,
    ) -> Result<PreparedRequest, EngineError> {
        let path = self
            .client
            .path(path)
            .map_err(|reason| EngineError::Unreachable {
                target: self.target.name.clone(),
                url: path.to_owned(),
                reason,
            })?;
        let mut headers = Vec::new();
        let body = json.map(|value| {
            headers.push((CONTENT_TYPE, HeaderValue::from_static("application/json")));
            value.to_string().into_bytes().into()
        });
        Ok(PreparedRequest {
            method,
            path,
            headers,
            body,
        })
    }

    /// The `X-Forwarded-For` value for the next scenario, when the target trusts it.
    pub(crate) fn next_forwarded_for(&mut self) -> Option<(HeaderName, HeaderValue)> {
        self.scenarios_started += 1;
        if !self.target.forwarded_for {
            return None;
        }
        // 203.0.113.0/24 is reserved for documentation, so no real client shares an address with a scenario.
        let host = (self.scenarios_started - 1) % 254 + 1;
        let value = HeaderValue::from_str(&format!("203.0.113.{host}")).ok()?;
        Some((HeaderName::from_static("x-forwarded-for"), value))
    }

    /// Signs the admin account in on first need, and again when the token may have expired since.
    pub(crate) async fn ensure_admin_token(&mut self) {
        let half_life_ms = self
            .target
            .limits
            .appmixer_token_lifetime_s
            .saturating_mul(500);
        let fresh = self.clock.now_ms().saturating_sub(self.admin_token_at_ms) < half_life_ms;
        if matches!(self.admin_token, Some(Ok(_))) && fresh {
            return;
        }
        if matches!(self.admin_token, Some(Err(_))) {
            return;
        }
        self.admin_token_at_ms = self.clock.now_ms();
        let Some(admin) = &self.target.admin else {
            return;
        };
        let body = json!({ "username": admin.username, "password": admin.password });
        let result = match self.prepare(Method::POST, "/user/auth", Some(&body)) {
            Err(err) => Err(err.to_string()),
            Ok(request) => match self.client.send(&request).await {
                Err(no) => Err(format!("POST /user/auth: {}", no.summary)),
                Ok(response) => {
                    let token = response.json().and_then(|body| {
                        body.get("token").and_then(Value::as_str).map(str::to_owned)
                    });
                    match (response.status, token) {
                        (200, Some(token)) => Ok(token),
                        (status, _) => Err(format!(
                            "POST /user/auth answered {status} {}",
                            super::expect::excerpt(&response.body)
                        )),
                    }
                }
            },
        };
        if let Ok(token) = &result {
            self.secrets.push(token.clone());
        }
        self.admin_token = Some(result);
    }

    /// Waits as a wait step says: advances the test clock or really sleeps. `Err` says why it could not.
    pub(crate) async fn wait(
        &mut self,
        wait: &Wait,
        scenario: &str,
        step: &str,
        events: &mut dyn FnMut(&EngineEvent<'_>),
    ) -> Result<(), String> {
        let total_ms = self.wait_ms(wait);
        events(&EngineEvent::WaitStarted {
            scenario,
            step,
            total_ms,
            clock: self.target.clock,
        });
        let result = match self.target.clock {
            ClockMode::Control => self.advance(total_ms).await,
            ClockMode::Real => {
                let start = Instant::now();
                let total = Duration::from_millis(total_ms);
                loop {
                    let elapsed = start.elapsed();
                    if elapsed >= total {
                        break;
                    }
                    tokio::time::sleep((total - elapsed).min(PROGRESS_INTERVAL)).await;
                    events(&EngineEvent::WaitProgress {
                        elapsed_ms: u64::try_from(start.elapsed().as_millis())
                            .unwrap_or(u64::MAX)
                            .min(total_ms),
                        total_ms,
                    });
                }
                Ok(())
            }
        };
        events(&EngineEvent::WaitFinished { scenario, step });
        result
    }

    /// How long a wait step waits on this target.
    pub(crate) fn wait_ms(&self, wait: &Wait) -> u64 {
        match wait {
            Wait::Millis(ms) => *ms,
            Wait::Window {
                window,
                offset_ms,
                minus_slack,
            } => {
                let window_ms = self.target.limits.window_ms(*window);
                if *minus_slack {
                    // Twice the slack: the requests since the step's mark took some of the window
                    // already, and the probe after this wait must stay inside its `within` margin.
                    window_ms.saturating_sub(self.target.slack_ms.saturating_mul(2))
                } else {
                    window_ms.saturating_add_signed(*offset_ms)
                }
            }
        }
    }

    /// Advances the target's test clock once, through its first base URL; with several base URLs, checks
    /// that every other instance's clock moved with it (they must share one clock, docs/target.md).
    async fn advance(&mut self, advance_ms: u64) -> Result<(), String> {
        let body = json!({ "advance_ms": advance_ms });
        let request = self
            .prepare(Method::POST, CLOCK_PATH, Some(&body))
            .map_err(|err| err.to_string())?;
        match self.client.send_to(0, &request).await {
            Ok(response) if response.status == 200 => {
                self.clock.advanced_ms = self.clock.advanced_ms.saturating_add(advance_ms);
                match clock_reading(&response) {
                    Some((_, offset_ms)) => self.check_clocks_agree(&response.url, offset_ms).await,
                    None => Ok(()),
                }
            }
            Ok(response) => Err(format!(
                "could not advance the target's clock: POST {CLOCK_PATH} answered {} {}",
                response.status,
                super::expect::excerpt(&response.body)
            )),
            Err(no) => Err(format!(
                "could not advance the target's clock: {}",
                no.summary
            )),
        }
    }

    /// With several base URLs: whether every instance reports the clock offset the first one reported.
    async fn check_clocks_agree(&self, first: &reqwest::Url, offset_ms: u64) -> Result<(), String> {
        let request = self
            .prepare(Method::GET, CLOCK_PATH, None)
            .map_err(|err| err.to_string())?;
        for base in 1..self.client.base_count() {
            let reading = match self.client.send_to(base, &request).await {
                Ok(response) => clock_reading(&response),
                Err(no) => {
                    return Err(format!(
                        "could not read the clock at {}: {}",
                        no.url, no.summary
                    ));
                }
            };
            match reading {
                Some((_, other_offset_ms)) if other_offset_ms == offset_ms => {}
                other => {
                    let url = self
                        .client
                        .url_at(base, CLOCK_PATH)
                        .map_or_else(|_| format!("base URL {}", base + 1), |url| url.to_string());
                    return Err(format!(
                        "the target's instances do not share one test clock: after advancing it through \
                         {first} (offset {offset_ms} ms there), {url} reports {} (docs/target.md: \
                         several base URLs need one shared clock)",
                        other.map_or_else(
                            || "no clock".to_owned(),
                            |(_, offset)| format!("offset {offset} ms")
                        )
                    ));
                }
            }
        }
        Ok(())
    }

    /// Why the target lacks a capability, or `None` when it has it.
    pub(crate) fn missing(&self, capability: Capability) -> Option<String> {
        let target = self.target;
        let why = match capability {
            Capability::ClockControl => (target.clock != ClockMode::Control)
                .then(|| "the target's clock is real".to_owned()),
            Capability::OpenSignup => target
                .user_create_scope
                .as_ref()
                .map(|scope| format!("creating users needs the `{scope}` scope on this target")),
            Capability::CreateScope => match (&target.user_create_scope, &target.admin) {
                (None, _) => Some("no user_create_scope is configured".to_owned()),
                (Some(_), None) => Some("no admin account is configured".to_owned()),
                (Some(_), Some(_)) => None,
            },
            Capability::AdminAccount => target
                .admin
                .is_none()
                .then(|| "no admin account is configured".to_owned()),
            Capability::CreditsafeAccount => target
                .creditsafe
                .is_none()
                .then(|| "no creditsafe account is configured".to_owned()),
            Capability::TokenSecret => target
                .appmixer_jwt_secret
                .is_none()
                .then(|| "no secrets.appmixer_jwt_secret is configured".to_owned()),
            Capability::ForwardedFor => (!target.forwarded_for).then(|| {
                "the target does not trust X-Forwarded-For (forwarded_for = false)".to_owned()
            }),
            Capability::UntrustedForwardedFor => target.forwarded_for.then(|| {
                "the target is declared to trust X-Forwarded-For (forwarded_for = true)".to_owned()
            }),
        }?;
        Some(format!("needs {}; {why}", capability.as_str()))
    }

    /// Whether a requirement applies to this target's profiles.
    pub(crate) fn applies(&self, requirement: &str) -> bool {
        self.catalogue
            .get(requirement)
            .is_some_and(|r| r.profiles.iter().any(|p| self.target.profiles.contains(p)))
    }

    pub(crate) fn level(&self, requirement: &str) -> Level {
        self.catalogue
            .get(requirement)
            .map_or(Level::Must, |r| r.level)
    }
}

/// `(now_ms, offset_ms)` from a 200 answer of the clock protocol (`offset_ms` 0 when absent).
fn clock_reading(response: &super::http::Response) -> Option<(u64, u64)> {
    if response.status != 200 {
        return None;
    }
    let body = response.json()?;
    let now_ms = body.get("now_ms")?.as_u64()?;
    let offset_ms = body.get("offset_ms").and_then(Value::as_u64).unwrap_or(0);
    Some((now_ms, offset_ms))
}
