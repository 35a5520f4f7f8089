//! The shared state every handler reads: configuration, clock, store, hasher, token keys and limiters.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Config;
use crate::limiter::{Rule, WindowLimiter};
use crate::passwords::{HashError, PasswordDigest, PasswordHasher};
use crate::store::{MemoryStore, StoreError, User, UserStore, new_id};
use crate::tokens::{AppmixerTokens, CreditsafeTokens, KeyError};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("could not seed the admin account: {0}")]
    Seed(#[from] StoreError),
}

/// The seeded Creditsafe Connect account.
#[derive(Debug)]
pub struct ConnectAccount {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub password: PasswordDigest,
}

/// Everything the handlers share (cheap to clone).
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Shared>,
}

#[derive(Debug)]
pub struct Shared {
    pub config: Config,
    pub clock: Clock,
    pub store: Arc<dyn UserStore>,
    pub hasher: PasswordHasher,
    pub appmixer_tokens: AppmixerTokens,
    pub creditsafe_tokens: CreditsafeTokens,
    pub signup_by_email: WindowLimiter,
    pub signup_by_ip: WindowLimiter,
    pub connect_identical_invalid: WindowLimiter,
    pub connect_overall: WindowLimiter,
    pub connect_account: ConnectAccount,
    pub admin_id: String,
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.inner
    }
}

impl AppState {
    /// Drops every limiter entry whose window has passed (the background sweeper calls this).
    pub fn sweep_limiters(&self) {
        let now_ms = self.clock.now_ms();
        for limiter in self.limiters() {
            limiter.sweep(now_ms);
        }
    }

    /// How many keys the limiters track in all.
    pub fn tracked_keys(&self) -> usize {
        self.limiters()
            .iter()
            .map(|limiter| limiter.tracked_keys())
            .sum()
    }

    fn limiters(&self) -> [&WindowLimiter; 4] {
        [
            &self.signup_by_email,
            &self.signup_by_ip,
            &self.connect_identical_invalid,
            &self.connect_overall,
        ]
    }

    /// The longest a request may wait on a slow body or a busy hasher.
    pub fn request_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.config.request_timeout_ms)
    }

    /// State on the system clock (advanceable when `config.test_clock` is on).
    pub fn new(config: Config) -> Result<AppState, StartError> {
        AppState::with_clock(config, Clock::system())
    }

    /// State on a given clock, e.g. [`Clock::manual`] in tests. Seeding hashes two passwords (blocking).
    pub fn with_clock(config: Config, clock: Clock) -> Result<AppState, StartError> {
        let store: Arc<dyn UserStore> = Arc::new(MemoryStore::new(config.max_users));
        let hasher = PasswordHasher::with_max_wait(
            config.hash_concurrency,
            std::time::Duration::from_millis(config.request_timeout_ms),
        )?;
        let now_s = clock.now_s();
        let admin_id = new_id(now_s);
        store.insert(User {
            id: admin_id.clone(),
            username: config.admin.username.clone(),
            email: config
                .admin
                .email
                .clone()
                .unwrap_or_else(|| config.admin.username.clone()),
            password: hasher.digest_blocking(&config.admin.password)?,
            is_active: true,
            plan: "free".into(),
            vendor: None,
            scope: vec!["user".into(), "admin".into()],
        })?;
        let connect_account = ConnectAccount {
            id: format!("{}", 101_000_000 + (now_s % 1_000_000)),
            username: config.creditsafe_account.username.clone(),
            email: config.creditsafe_account.email.clone(),
            password: hasher.digest_blocking(&config.creditsafe_account.password)?,
        };
        let kind = config.window_kind;
        let mut email_limit = config.signup_rate_limit_email;
        let mut ip_limit = config.signup_rate_limit_ip;
        let mut email_window_ms = config.signup_rate_limit_email_window_ms;
        let mut ip_window_ms = config.signup_rate_limit_ip_window_ms;
        let mut invalid_limit = config.cs_identical_invalid_limit;
        let mut invalid_window_ms = config.cs_identical_invalid_window_ms;
        let mut threshold = config.cs_overall_threshold;
        let mut lockout_ms = config.cs_overall_window_ms;
        if fault!(config, SignupLimitsIgnoreConfiguration) {
            (email_limit, ip_limit) = (10, 50);
        }
        if fault!(config, EmailLimitOffByOne) {
            email_limit += 1;
        }
        if fault!(config, SignupWindowTooLong) {
            (email_window_ms, ip_window_ms) = (email_window_ms * 4, ip_window_ms * 4);
        }
        if fault!(config, IdenticalInvalidOffByOne) {
            invalid_limit += 1;
        }
        if fault!(config, IdenticalInvalidNeverResets) {
            invalid_window_ms = u64::MAX / 4;
        }
        if fault!(config, LockoutOneEarly) {
            threshold = threshold.saturating_sub(1);
        }
        if fault!(config, LockoutEndsEarly) {
            lockout_ms = lockout_ms * 4 / 5;
        }
        let refuse = |limit, window_ms| {
            WindowLimiter::new(
                Rule::refuse(limit, window_ms).with_kind(kind),
                config.limiter_max_keys,
            )
        };
        let signup_by_email = refuse(email_limit, email_window_ms);
        let signup_by_ip = refuse(ip_limit, ip_window_ms);
        let connect_identical_invalid = refuse(invalid_limit, invalid_window_ms);
        let connect_overall = WindowLimiter::new(
            Rule {
                lockout_extends: config.cs_lockout_extends,
                ..Rule::lock_out(threshold, config.cs_overall_window_ms, lockout_ms).with_kind(kind)
            },
            config.limiter_max_keys,
        );
        Ok(AppState {
            inner: Arc::new(Shared {
                appmixer_tokens: AppmixerTokens::new(
                    config.appmixer_jwt_secret.as_deref(),
                    config.appmixer_token_lifetime_s,
                ),
                creditsafe_tokens: CreditsafeTokens::new(
                    config.creditsafe_signing_key_pem.as_deref(),
                    config.creditsafe_token_lifetime_s,
                )?,
                config,
                clock,
                store,
                hasher,
                signup_by_email,
                signup_by_ip,
                connect_identical_invalid,
                connect_overall,
                connect_account,
                admin_id,
            }),
        })
    }
}
