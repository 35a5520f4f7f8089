//! The shared state every handler reads: configuration, clock, users, hasher, token keys and limiters, kept
//! in this process or, with `--store redis://…`, in Redis so that several instances act as one server.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::config::{Config, StoreLocation};
use crate::limits::{Limiter, RedisLimiter, Rule, WindowLimiter};
use crate::passwords::{HashError, PasswordDigest, PasswordHasher};
use crate::store::{
    LoginField, MemoryStore, RedisStore, RedisUsers, SharedClock, SharedConnectAccount,
    SharedSeeds, StoreError, Unavailable, User, Users, new_id,
};
use crate::tokens::{AppmixerTokens, CreditsafeTokens, KeyError};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("could not seed the admin account: {0}")]
    Seed(#[from] StoreError),
    #[error("--store {url}: {source}")]
    Store { url: String, source: Unavailable },
    #[error("a Redis store needs the async runtime: build the state with AppState::open")]
    NeedsRuntime,
    #[error(
        "--aligned-boundary-at-attempt moves windows kept in memory only; leave it out with --store redis://"
    )]
    BoundaryInRedis,
    #[error("the start-up task failed: {0}")]
    Task(String),
}

/// The seeded Creditsafe Connect account.
#[derive(Debug)]
pub(crate) struct ConnectAccount {
    pub(crate) id: String,
    pub(crate) username: String,
    pub(crate) email: Option<String>,
    pub(crate) password: PasswordDigest,
}

/// Everything the handlers share (cheap to clone).
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Shared>,
}

#[derive(Debug)]
pub struct Shared {
    pub(crate) config: Config,
    pub(crate) clock: Clock,
    pub(crate) store: Users,
    /// With a Redis store: the connection, for health checks.
    pub(crate) redis: Option<RedisStore>,
    /// With a Redis store and the test clock: the offset every instance adds to its clock.
    pub(crate) shared_clock: Option<SharedClock>,
    pub(crate) hasher: PasswordHasher,
    pub(crate) appmixer_tokens: AppmixerTokens,
    pub(crate) creditsafe_tokens: CreditsafeTokens,
    pub(crate) signup_by_email: Limiter,
    pub(crate) signup_by_ip: Limiter,
    pub(crate) connect_identical_invalid: Limiter,
    pub(crate) connect_overall: Limiter,
    pub(crate) connect_account: ConnectAccount,
    /// The `counter-not-atomic` fault: a request that passed the overall check wakes those waiting
    /// between their own check and count (never used without the fault).
    pub(crate) unsynchronized_checks: tokio::sync::Notify,
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.inner
    }
}

/// The four limiters' rules, as configured (and as any deliberate fault bends them).
struct LimiterRules {
    signup_by_email: Rule,
    signup_by_ip: Rule,
    connect_identical_invalid: Rule,
    connect_overall: Rule,
}

impl LimiterRules {
    fn from_config(config: &Config) -> LimiterRules {
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
        if fault!(config, LockoutOneLate) {
            threshold += 1;
        }
        if fault!(config, IdenticalInvalidOneLow) {
            invalid_limit = invalid_limit.saturating_sub(1).max(1);
        }
        if fault!(config, LockoutEndsEarly) {
            lockout_ms = lockout_ms * 4 / 5;
        }
        // A refusal announces at most the configured wait, whatever a fault does to the real one.
        LimiterRules {
            signup_by_email: Rule::refuse(email_limit, email_window_ms)
                .with_kind(kind)
                .announcing(config.signup_rate_limit_email_window_ms),
            signup_by_ip: Rule::refuse(ip_limit, ip_window_ms)
                .with_kind(kind)
                .announcing(config.signup_rate_limit_ip_window_ms),
            connect_identical_invalid: Rule::refuse(invalid_limit, invalid_window_ms)
                .with_kind(kind)
                .announcing(config.cs_identical_invalid_window_ms),
            connect_overall: Rule {
                lockout_extends: config.cs_lockout_extends,
                lockout_ends_with_window: fault!(config, LockoutFromWindowStart),
                ..Rule::lock_out(threshold, config.cs_overall_window_ms, lockout_ms)
                    .with_kind(kind)
                    .announcing(config.cs_overall_window_ms)
            },
        }
    }
}

/// What differs between the stores once the state is built.
struct Stored {
    store: Users,
    redis: Option<RedisStore>,
    shared_clock: Option<SharedClock>,
    limiters: [Limiter; 4],
    appmixer_tokens: AppmixerTokens,
    creditsafe_tokens: CreditsafeTokens,
    connect_account: ConnectAccount,
}

impl AppState {
    /// Drops every expired in-memory limiter entry (the background sweeper calls this; Redis keys expire
    /// by themselves).
    pub(crate) fn sweep_limiters(&self) {
        let now_ms = self.clock.now_ms();
        for limiter in self.limiters() {
            limiter.sweep(now_ms);
        }
    }

    /// How many keys the in-memory limiters track in all; `None` with a Redis store.
    pub(crate) fn tracked_keys(&self) -> Option<usize> {
        self.limiters()
            .iter()
            .map(|limiter| limiter.tracked_keys())
            .sum()
    }

    fn limiters(&self) -> [&Limiter; 4] {
        [
            &self.signup_by_email,
            &self.signup_by_ip,
            &self.connect_identical_invalid,
            &self.connect_overall,
        ]
    }

    /// The longest a request may wait on a slow body or a busy hasher.
    pub(crate) fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.config.request_timeout_ms)
    }

    /// The server's time, in Unix milliseconds: the clock, plus (Redis store and test clock) the offset
    /// every instance shares, so advancing the clock through one instance advances them all.
    pub(crate) async fn now_ms(&self) -> Result<u64, Unavailable> {
        match &self.shared_clock {
            None => Ok(self.clock.now_ms()),
            // Boxed: the memory path's futures stay small.
            Some(shared) => Ok(self
                .clock
                .now_ms()
                .saturating_add(Box::pin(shared.offset_ms()).await?)),
        }
    }

    /// How far the test clock has been advanced in all.
    pub(crate) async fn clock_offset_ms(&self) -> Result<u64, Unavailable> {
        match &self.shared_clock {
            None => Ok(self.clock.offset_ms()),
            Some(shared) => Ok(self
                .clock
                .offset_ms()
                .saturating_add(shared.offset_ms().await?)),
        }
    }

    /// Moves the test clock forward (every instance's, with a Redis store).
    pub(crate) async fn advance_clock_ms(&self, by_ms: u64) -> Result<(), Unavailable> {
        match &self.shared_clock {
            None => {
                self.clock.advance_ms(by_ms);
                Ok(())
            }
            Some(shared) => shared.advance_ms(by_ms).await.map(|_| ()),
        }
    }

    /// Whether the store answers (always, in memory).
    pub(crate) async fn store_health(&self) -> Result<(), Unavailable> {
        match &self.redis {
            None => Ok(()),
            Some(redis) => redis.ping().await,
        }
    }

    /// The clock this instance reads (a [`Clock::manual`] one can be advanced by a test).
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// In-memory state on the system clock (advanceable when `config.test_clock` is on).
    pub fn new(config: Config) -> Result<AppState, StartError> {
        AppState::with_clock(config, Clock::system())
    }

    /// In-memory state on a given clock, e.g. [`Clock::manual`] in tests. Seeding hashes two passwords
    /// (blocking). A Redis store needs [`AppState::open`].
    pub fn with_clock(config: Config, clock: Clock) -> Result<AppState, StartError> {
        if config.store != StoreLocation::Memory {
            return Err(StartError::NeedsRuntime);
        }
        let hasher = hasher(&config)?;
        let now_s = clock.now_s();
        let store = MemoryStore::new(config.max_users);
        store.insert(admin_user(
            &config,
            new_id(now_s),
            hasher.digest_blocking(&config.admin.password)?,
        ))?;
        let connect_account = ConnectAccount {
            id: connect_account_id(now_s),
            username: config.creditsafe_account.username.clone(),
            email: config.creditsafe_account.email.clone(),
            password: hasher.digest_blocking(&config.creditsafe_account.password)?,
        };
        let rules = LimiterRules::from_config(&config);
        let max_keys = config.limiter_max_keys;
        let in_memory = |rule| {
            Limiter::Memory(
                WindowLimiter::new(rule, max_keys)
                    .with_boundary_at_attempt(config.aligned_boundary_at_attempt, clock.now_ms()),
            )
        };
        let stored = Stored {
            store: Users::Memory(store),
            redis: None,
            shared_clock: None,
            limiters: [
                in_memory(rules.signup_by_email),
                in_memory(rules.signup_by_ip),
                in_memory(rules.connect_identical_invalid),
                in_memory(rules.connect_overall),
            ],
            appmixer_tokens: AppmixerTokens::new(
                config.appmixer_jwt_secret.as_deref(),
                config.appmixer_token_lifetime_s,
            ),
            creditsafe_tokens: CreditsafeTokens::new(
                config.creditsafe_signing_key_pem.as_deref(),
                config.creditsafe_token_lifetime_s,
            )?,
            connect_account,
        };
        Ok(AppState::assemble(config, clock, hasher, stored))
    }

    /// State for any store. In Redis, the token secret, the signing key and the seeded accounts are
    /// decided by the first instance to start and read back by the others, so every instance accepts
    /// every other's tokens.
    pub async fn open(config: Config, clock: Clock) -> Result<AppState, StartError> {
        match config.store.clone() {
            StoreLocation::Memory => {
                tokio::task::spawn_blocking(move || AppState::with_clock(config, clock))
                    .await
                    .map_err(|error| StartError::Task(error.to_string()))?
            }
            StoreLocation::Redis { url } => AppState::open_redis(config, clock, url).await,
        }
    }

    async fn open_redis(config: Config, clock: Clock, url: String) -> Result<AppState, StartError> {
        let unavailable = |source| StartError::Store {
            url: url.clone(),
            source,
        };
        let redis = RedisStore::connect(
            &url,
            &config.store_prefix,
            Duration::from_millis(config.store_timeout_ms),
        )
        .await
        .map_err(unavailable)?;
        let seeds = SharedSeeds::new(redis.clone());

        let secret = match &config.appmixer_jwt_secret {
            Some(secret) => secret.clone(),
            None => match seeds.stored("appmixer-jwt-secret").await {
                Ok(Some(secret)) => secret,
                Ok(None) => seeds
                    .agree("appmixer-jwt-secret", &crate::config::random_password())
                    .await
                    .map_err(unavailable)?,
                Err(source) => return Err(unavailable(source)),
            },
        };
        let pem = match &config.creditsafe_signing_key_pem {
            Some(pem) => pem.clone(),
            None => match seeds.stored("creditsafe-signing-key").await {
                Ok(Some(pem)) => pem,
                Ok(None) => {
                    let generated = blocking(CreditsafeTokens::generate_pem).await??;
                    seeds
                        .agree("creditsafe-signing-key", &generated)
                        .await
                        .map_err(unavailable)?
                }
                Err(source) => return Err(unavailable(source)),
            },
        };
        let creditsafe_tokens =
            CreditsafeTokens::new(Some(&pem), config.creditsafe_token_lifetime_s)?;

        let hasher = hasher(&config)?;
        let (admin_password, connect_password) = {
            let hasher = hasher.clone();
            let admin = config.admin.password.clone();
            let connect = config.creditsafe_account.password.clone();
            blocking(move || -> Result<_, HashError> {
                Ok((
                    hasher.digest_blocking(&admin)?,
                    hasher.digest_blocking(&connect)?,
                ))
            })
            .await??
        };

        let users = RedisUsers::new(redis.clone(), config.max_users);
        let now_s = clock.now_s();
        match users
            .insert(admin_user(&config, new_id(now_s), admin_password))
            .await
        {
            Ok(_) => {}
            // Seeded by an earlier start or another instance: everyone uses that account.
            Err(StoreError::Taken(_)) => seeded_admin_exists(&users, &config).await?,
            Err(error) => return Err(error.into()),
        }
        let connect_account = seeds
            .connect_account(SharedConnectAccount {
                id: connect_account_id(now_s),
                username: config.creditsafe_account.username.clone(),
                email: config.creditsafe_account.email.clone(),
                password: connect_password.to_stored(),
            })
            .await
            .map_err(unavailable)?;
        let connect_password = connect_account.password_digest().ok_or_else(|| {
            unavailable(Unavailable {
                reason: "the stored creditsafe account has no readable password".into(),
            })
        })?;

        if config.aligned_boundary_at_attempt.is_some() {
            return Err(StartError::BoundaryInRedis);
        }
        let rules = LimiterRules::from_config(&config);
        let in_redis = |name, rule| Limiter::Redis(RedisLimiter::new(redis.clone(), name, rule));
        let stored = Stored {
            store: Users::Redis(users),
            redis: Some(redis.clone()),
            shared_clock: config.test_clock.then(|| SharedClock::new(redis.clone())),
            limiters: [
                in_redis("signup-email", rules.signup_by_email),
                in_redis("signup-ip", rules.signup_by_ip),
                in_redis("identical-invalid", rules.connect_identical_invalid),
                in_redis("overall", rules.connect_overall),
            ],
            appmixer_tokens: AppmixerTokens::new(Some(&secret), config.appmixer_token_lifetime_s),
            creditsafe_tokens,
            connect_account: ConnectAccount {
                id: connect_account.id,
                username: connect_account.username,
                email: connect_account.email,
                password: connect_password,
            },
        };
        Ok(AppState::assemble(config, clock, hasher, stored))
    }

    fn assemble(config: Config, clock: Clock, hasher: PasswordHasher, stored: Stored) -> AppState {
        let [
            signup_by_email,
            signup_by_ip,
            connect_identical_invalid,
            connect_overall,
        ] = stored.limiters;
        AppState {
            inner: Arc::new(Shared {
                config,
                clock,
                store: stored.store,
                redis: stored.redis,
                shared_clock: stored.shared_clock,
                hasher,
                appmixer_tokens: stored.appmixer_tokens,
                creditsafe_tokens: stored.creditsafe_tokens,
                signup_by_email,
                signup_by_ip,
                connect_identical_invalid,
                connect_overall,
                connect_account: stored.connect_account,
                unsynchronized_checks: tokio::sync::Notify::new(),
            }),
        }
    }
}

fn hasher(config: &Config) -> Result<PasswordHasher, HashError> {
    PasswordHasher::with_max_wait(
        config.hash_concurrency,
        config.password_cost,
        Duration::from_millis(config.request_timeout_ms),
    )
}

/// The seeded admin: scopes `user` and `admin`.
fn admin_user(config: &Config, id: String, password: PasswordDigest) -> User {
    User {
        id,
        username: config.admin.username.clone(),
        email: config
            .admin
            .email
            .clone()
            .unwrap_or_else(|| config.admin.username.clone()),
        password,
        is_active: true,
        plan: "free".into(),
        vendor: None,
        scope: vec!["user".into(), "admin".into()],
        rendered_me: Default::default(),
    }
}

/// Checks the admin's name is taken by the admin an earlier start (or another instance) seeded, under its
/// username or its e-mail, and not by nobody.
async fn seeded_admin_exists(users: &RedisUsers, config: &Config) -> Result<(), StartError> {
    if users
        .find(LoginField::Username, &config.admin.username)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let email = config
        .admin
        .email
        .as_deref()
        .unwrap_or(&config.admin.username);
    match users.find(LoginField::Email, email).await? {
        Some(_) => Ok(()),
        None => Err(StartError::Seed(StoreError::Taken("username"))),
    }
}

fn connect_account_id(now_s: u64) -> String {
    format!("{}", 101_000_000 + (now_s % 1_000_000))
}

/// Runs slow start-up work (hashing, key generation) on the blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, StartError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| StartError::Task(error.to_string()))
}
