//! The state a run shares across every scenario on one target: its client, its virtual clock, the admin
//! token, the client addresses handed out and the secrets seen. Scenarios hold it behind `&`, so several
//! can run on one target at once; what belongs to one scenario lives in that scenario's run.

use authconform_scenario::model::{Capability, Catalogue, Wait};
use parking_lot::Mutex;
use reqwest::Method;
use reqwest::header::{HeaderName, HeaderValue};

use super::EngineError;
use super::events::EngineEvent;
use super::judge::Requirements;
use super::schedule::needs::wait_ms;
use super::schedule::signups::{SignupLedger, SignupRule};
use super::schedule::time::{TargetTime, Waits};
use crate::target::clock::{self, CLOCK_PATH, ClockReading, VirtualClock};
use crate::target::state::{self, SentSignups, TargetState};
use std::collections::BTreeMap;
use std::time::Duration;

use super::schedule::needs::request_key;
use crate::target::{
    AdminSession, ClientAddresses, ClockError, ClockMode, PreparedRequest, RunIds, TargetClient,
    TargetDescription, excerpt, signup_rule, unmet,
};
use authconform_scenario::model::RequestSpec;

/// One target as every scenario on it sees it.
pub(crate) struct SharedTarget<'a> {
    pub(crate) target: &'a TargetDescription,
    /// Which requirements apply to the target, and at what level.
    pub(crate) requirements: Requirements<'a>,
    pub(crate) ids: &'a RunIds,
    pub(crate) client: TargetClient,
    /// Every scenario's waits, and the clock they move.
    pub(crate) waits: Waits<TargetClock>,
    addresses: ClientAddresses,
    /// The signups sent from the one client address, when every scenario shares it.
    signups: Mutex<SignupLedger>,
    /// Every signup sent, from which address and when (virtual ms), for the state file.
    sent_signups: Mutex<Vec<(u64, String, u64)>>,
    /// The Unix time of virtual 0.
    started_unix_ms: u64,
    /// Per `METHOD path`: microseconds its request steps took, and their rounds of requests.
    costs: Mutex<BTreeMap<String, (u64, u64)>>,
    admin: AdminSession,
    secrets: Mutex<Vec<String>>,
    /// A load run's meter: concurrent steps run at its users and are timed into it.
    pub(crate) meter: Option<std::sync::Arc<crate::engine::Meter>>,
    /// Stops the run from outside: waits end, and no further step is sent.
    pub(crate) interrupt: crate::engine::Interrupt,
}

impl<'a> SharedTarget<'a> {
    /// The run on `target`; `earlier` is what earlier runs did to it (their signups still count), all of
    /// it when `knows_history` (a state file is kept).
    pub(crate) fn new(
        target: &'a TargetDescription,
        catalogue: &'a Catalogue,
        ids: &'a RunIds,
        earlier: Option<&TargetState>,
        knows_history: bool,
    ) -> Result<SharedTarget<'a>, EngineError> {
        let mut secrets: Vec<String> = Vec::new();
        for account in [&target.admin, &target.creditsafe].into_iter().flatten() {
            secrets.push(account.password.clone());
        }
        secrets.extend(target.appmixer_jwt_secret.clone());
        let client = TargetClient::new(target)?;
        let started_unix_ms = state::now_unix_ms();
        let ledger = match (earlier, signup_rule(target)) {
            (Some(earlier), Some(rule)) => SignupLedger::earlier(earlier, started_unix_ms, rule)
                .with_reading_from(earlier, started_unix_ms, rule),
            _ => SignupLedger::default(),
        };
        // On a test clock waiting costs nothing: the IP check then always starts from an empty window.
        let ledger = if knows_history && target.clock == ClockMode::Real {
            ledger.knowing_its_history()
        } else {
            ledger
        };
        let window_ms = target.limits.signup_ip_window_ms;
        let addresses = ClientAddresses::new(target.forwarded_for).avoiding(
            earlier
                .map(|earlier| earlier.busy_addresses(started_unix_ms, window_ms))
                .unwrap_or_default(),
        );
        Ok(SharedTarget {
            target,
            requirements: Requirements {
                catalogue,
                profiles: &target.profiles,
            },
            ids,
            client: client.clone(),
            waits: Waits::new(
                TargetClock {
                    client,
                    clock: VirtualClock::new(),
                },
                target.clock,
            ),
            addresses,
            signups: Mutex::new(ledger),
            sent_signups: Mutex::new(Vec::new()),
            started_unix_ms,
            costs: Mutex::new(BTreeMap::new()),
            admin: AdminSession::default(),
            secrets: Mutex::new(secrets),
            meter: None,
            interrupt: crate::engine::Interrupt::default(),
        })
    }

    /// Checks every base URL of the target answers (and speaks the clock protocol in `control` mode).
    pub(crate) async fn probe(&self) -> Result<(), EngineError> {
        let path = match self.target.clock {
            ClockMode::Control => CLOCK_PATH,
            ClockMode::Real => "/",
        };
        let request = PreparedRequest::json(Method::GET, path, None);
        for base in 0..self.client.base_count() {
            let response = self.client.send_to(base, &request).await.map_err(|no| {
                EngineError::Unreachable {
                    target: self.target.name.clone(),
                    url: no.url.to_string(),
                    reason: format!("{}: {}", no.summary, no.detail),
                }
            })?;
            if self.target.clock == ClockMode::Control && ClockReading::of(&response).is_none() {
                return Err(EngineError::ClockProtocol {
                    target: self.target.name.clone(),
                    problem: format!(
                        "GET {} answered {} {}",
                        response.url,
                        response.status,
                        excerpt(&response.body)
                    ),
                });
            }
        }
        Ok(())
    }

    /// The client address of the next scenario to start (`X-Forwarded-For`), when the target trusts it.
    pub(crate) fn next_client_address(&self) -> Option<(HeaderName, HeaderValue)> {
        self.addresses.next()
    }

    /// Keeps values to hide from reports (passwords and tokens a scenario generated or used).
    pub(crate) fn add_secrets(&self, secrets: &mut Vec<String>) {
        self.secrets.lock().append(secrets);
    }

    /// Every secret seen on this target so far.
    pub(crate) fn take_secrets(&self) -> Vec<String> {
        std::mem::take(&mut *self.secrets.lock())
    }

    /// The admin's token as it stands, without signing in.
    pub(crate) async fn admin_token(&self) -> Option<Result<String, String>> {
        self.admin.token().await
    }

    /// Signs the admin account in on first need, and again when the token may have expired since.
    pub(crate) async fn ensure_admin_token(&self) -> Option<Result<String, String>> {
        let lifetime_ms = self
            .target
            .limits
            .appmixer_token_lifetime_s
            .saturating_mul(1000);
        self.admin
            .ensure(
                &self.client,
                self.target.admin.as_ref(),
                self.clock().now_ms(),
                lifetime_ms,
                |token| self.secrets.lock().push(token.to_owned()),
            )
            .await
    }

    /// The per-IP signup rule the scenarios share, or `None` when each has an address of its own.
    pub(crate) fn signup_rule(&self) -> Option<SignupRule> {
        signup_rule(self.target)
    }

    /// On a target whose scenarios share one client address: how many more signups its IP limit has room
    /// for now (the limit less those still counting and those reserved and not sent).
    pub(crate) fn signup_room(&self) -> Option<u64> {
        let rule = self.signup_rule()?;
        let now = self.clock().now_ms();
        Some(self.signups.lock().room_at(now, rule))
    }

    /// Whether a `wait.empty_window` may count in the signups known to count: the run knows every signup
    /// of the address it shares (a state file on a real clock).
    pub(crate) fn counts_known_signups(&self) -> bool {
        self.signup_rule().is_some() && self.signups.lock().knows_its_history()
    }

    /// On a target whose scenarios share one client address: the signups known to count that still count
    /// toward its IP window now (what a `wait.empty_window` leaves in it); 0 otherwise.
    pub(crate) fn counted_signups(&self) -> u64 {
        let Some(rule) = self.signup_rule() else {
            return 0;
        };
        let now = self.clock().now_ms();
        self.signups.lock().counted_at(now, rule)
    }

    /// A scenario that will send up to `count` signups from the shared address starts.
    pub(crate) fn reserve_signups(&self, count: u64) {
        if self.signup_rule().is_some() {
            self.signups.lock().reserve(count);
        }
    }

    /// A scenario finished with `remaining` of its reservation unsent.
    pub(crate) fn release_signups(&self, remaining: u64) {
        if self.signup_rule().is_some() {
            self.signups.lock().release(remaining);
        }
    }

    /// `count` signups were sent (by then) claiming `address` (`None`: from the runner's own); `remaining`
    /// is the sender's reservation under the shared address's IP limit.
    pub(crate) fn record_signups(
        &self,
        count: u64,
        remaining: &mut u64,
        address: Option<&HeaderValue>,
    ) {
        if count == 0 {
            return;
        }
        let now = self.clock().now_ms();
        let address = address
            .and_then(|value| value.to_str().ok())
            .unwrap_or(state::DIRECT);
        self.sent_signups
            .lock()
            .push((now, address.to_owned(), count));
        if self.signup_rule().is_some() {
            self.signups.lock().record(now, count, remaining);
        }
    }

    /// A request step sent `rounds` rounds of `request` in `took`.
    pub(crate) fn record_cost(&self, request: &RequestSpec, took: Duration, rounds: u64) {
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        let mut costs = self.costs.lock();
        let entry = costs.entry(request_key(request)).or_default();
        entry.0 = entry.0.saturating_add(us);
        entry.1 = entry.1.saturating_add(rounds);
    }

    /// What one round of each request took on average, in microseconds.
    pub(crate) fn request_costs(&self) -> BTreeMap<String, u64> {
        self.costs
            .lock()
            .iter()
            .filter(|(_, (_, rounds))| *rounds > 0)
            .map(|(request, (us, rounds))| (request.clone(), us / rounds))
            .collect()
    }

    /// The signups this run sent, as the state file keeps them (none on a test clock, whose time is not the
    /// wall clock's).
    pub(crate) fn sent_signups(&self) -> Vec<SentSignups> {
        if self.target.clock != ClockMode::Real {
            return Vec::new();
        }
        self.sent_signups
            .lock()
            .iter()
            .map(|(at_ms, address, count)| SentSignups {
                address: address.clone(),
                at_unix_ms: self.started_unix_ms.saturating_add(*at_ms),
                count: *count,
                counted: false,
            })
            .collect()
    }

    /// Waits until the signups still counting toward the IP window and every reservation fit under the IP
    /// limit (at once, nearly always). `Ok(true)` when it had to wait.
    pub(crate) async fn wait_for_signup_room(
        &self,
        scenario: &str,
        events: &mut (dyn FnMut(&EngineEvent<'_>) + Send),
    ) -> Result<bool, ClockError> {
        let Some(rule) = self.signup_rule() else {
            return Ok(false);
        };
        let mut waited = false;
        loop {
            let now = self.clock().now_ms();
            let wake_at_ms = self.signups.lock().room_from(now, rule);
            if wake_at_ms <= now {
                return Ok(waited);
            }
            waited = true;
            self.wait_until(wake_at_ms, scenario, ROOM_STEP, events)
                .await?;
        }
    }

    /// Waits as a wait step says (from `since_ms` when it counts from a mark): registers the wake-up with
    /// the target's waits, which advance the test clock once every scenario waits, or really sleep. A wait
    /// whose end has already passed returns at once; `Ok(true)` when it waited.
    /// A `wait.empty_window` counts in the signups known to count when `count_known` (and the run knows
    /// every signup of its address); otherwise it waits for an empty window.
    pub(crate) async fn wait(
        &self,
        wait: &Wait,
        since_ms: Option<u64>,
        count_known: bool,
        scenario: &str,
        step: &str,
        events: &mut (dyn FnMut(&EngineEvent<'_>) + Send),
    ) -> Result<bool, ClockError> {
        let now = self.clock().now_ms();
        let wake_at_ms = match wait {
            Wait::EmptyWindow(_) => self
                .signup_rule()
                .and_then(|rule| {
                    self.signups
                        .lock()
                        .only_counted_from(now, rule, count_known)
                })
                .unwrap_or(now),
            _ => since_ms
                .unwrap_or(now)
                .saturating_add(wait_ms(self.target, wait)),
        };
        if wake_at_ms <= now {
            return Ok(false);
        }
        self.wait_until(wake_at_ms, scenario, step, events)
            .await
            .map(|()| true)
    }

    pub(crate) async fn wait_until(
        &self,
        wake_at_ms: u64,
        scenario: &str,
        step: &str,
        events: &mut (dyn FnMut(&EngineEvent<'_>) + Send),
    ) -> Result<(), ClockError> {
        if self.interrupt.fired() {
            return Err(ClockError::Interrupted);
        }
        let total_ms = wake_at_ms.saturating_sub(self.clock().now_ms());
        events(&EngineEvent::WaitStarted {
            scenario,
            step,
            total_ms,
            clock: self.target.clock,
        });
        let mut progress = |elapsed_ms| {
            events(&EngineEvent::WaitProgress {
                scenario,
                step,
                elapsed_ms,
                total_ms,
            });
        };
        let waiting = self.waits.wait_until(wake_at_ms, &mut progress);
        let result = tokio::select! {
            result = waiting => result,
            () = self.interrupt.stopped() => Err(ClockError::Interrupted),
        };
        events(&EngineEvent::WaitFinished { scenario, step });
        result
    }

    /// The run's virtual time on this target.
    pub(crate) fn clock(&self) -> &VirtualClock {
        &self.waits.time().clock
    }

    /// Why the target lacks one of `capabilities` (a scenario's or a step's `requires`), or `None`.
    pub(crate) fn unmet(&self, capabilities: &[Capability]) -> Option<String> {
        unmet(self.target, capabilities)
    }
}

/// The target's time as the waits see it: the run's virtual clock, moved through the test-clock protocol.
pub(crate) struct TargetClock {
    client: TargetClient,
    clock: VirtualClock,
}

impl TargetTime for TargetClock {
    fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// Advances the test clock, and checks every instance's clock moved with it.
    async fn advance(&self, ms: u64) -> Result<(), ClockError> {
        let passed = clock::pass_time(&self.client, false, ms, &mut |_| {}).await;
        self.clock.advanced(ms);
        passed
    }

    async fn sleep(&self, ms: u64, progress: &mut (dyn FnMut(u64) + Send)) {
        // A real wait cannot fail.
        let _ = clock::pass_time(&self.client, true, ms, progress).await;
    }
}

/// Scenarios running at the same time share the target behind `&`.
const _: () = {
    const fn shared_by_reference<T: Sync>() {}
    shared_by_reference::<SharedTarget<'static>>();
};

/// What a wait for room under the IP limit is called in events and reports.
pub(crate) const ROOM_STEP: &str = "wait for room under the IP signup limit";
