//! The server's configuration as it runs: [`Config`], every limit and switch with its documented default,
//! and the types it is made of.

use clap::ValueEnum;
use serde::Deserialize;

pub use crate::limits::WindowKind;
pub use crate::passwords::PasswordCost;

/// Which documented Appmixer API the server answers as (`POST /authenticate` is always on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum AppmixerProfile {
    /// Appmixer 5.1: sign-in by e-mail-shaped `username`; create user needs only `password`, returns `{token}`.
    #[value(name = "appmixer-5.1")]
    Appmixer51,
    /// Appmixer 6: sign-in by `username` or `email`; create user returns `{token, user}` with `vendor`.
    #[value(name = "appmixer-6")]
    Appmixer6,
    /// Appmixer cloud: as 6, plus signup rate limiting per e-mail and per IP.
    #[default]
    #[value(name = "appmixer-cloud")]
    AppmixerCloud,
}

impl AppmixerProfile {
    pub fn as_str(self) -> &'static str {
        match self {
            AppmixerProfile::Appmixer51 => "appmixer-5.1",
            AppmixerProfile::Appmixer6 => "appmixer-6",
            AppmixerProfile::AppmixerCloud => "appmixer-cloud",
        }
    }
}

/// What a Creditsafe lockout is keyed on (the documents allow either reading).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LockoutScope {
    /// Each client address has its own 10,000-request budget.
    #[default]
    Client,
    /// One budget for the whole endpoint.
    Endpoint,
}

/// Where users, limiter counts, lockouts and (with `--test-clock`) the clock offset live.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum StoreLocation {
    /// In this process: the fastest, but every instance has its own users and limits.
    #[default]
    Memory,
    /// In Redis (`redis://HOST:PORT/DB`): every instance on the same Redis and prefix shares users and
    /// enforces one global set of limits.
    Redis { url: String },
}

impl StoreLocation {
    /// `memory`, or the Redis URL as given.
    pub fn describe(&self) -> &str {
        match self {
            StoreLocation::Memory => "memory",
            StoreLocation::Redis { url } => url,
        }
    }
}

/// A seeded account: credentials the server knows at start.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedAccount {
    pub username: String,
    #[serde(default)]
    pub email: Option<String>,
    pub password: String,
}

/// The complete, validated configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub profile: AppmixerProfile,
    /// `USER_SIGNUP_RATE_LIMIT_EMAIL`: signups per e-mail address per window (default 10).
    pub signup_rate_limit_email: u64,
    /// `USER_SIGNUP_RATE_LIMIT_EMAIL_WINDOW_MS` (default 3,600,000).
    pub signup_rate_limit_email_window_ms: u64,
    /// `USER_SIGNUP_RATE_LIMIT_IP`: signups per client address per window (default 50).
    pub signup_rate_limit_ip: u64,
    /// `USER_SIGNUP_RATE_LIMIT_IP_WINDOW_MS` (default 3,600,000).
    pub signup_rate_limit_ip_window_ms: u64,
    /// `API_USER_CREATE_SCOPE`: when set, `POST /user` needs a token with this scope.
    pub user_create_scope: Option<String>,
    /// `USER_SIGNUP_COUNT_INVALID`: a signup attempt that fails validation (e.g. a JSON object naming the
    /// e-mail but no `password`) counts toward the signup limits. The documents allow either reading.
    pub count_invalid_signups: bool,
    /// `USER_SIGNUP_REFUSE_PADDED_EMAIL`: an e-mail with surrounding spaces is refused as invalid rather
    /// than trimmed, before any limit counts it. The documents allow either reading (AM-SIGNUP-RL-09).
    pub refuse_padded_emails: bool,
    /// Identical invalid `POST /authenticate` requests allowed per window (default 5).
    pub cs_identical_invalid_limit: u64,
    /// The identical-invalid window (default 120,000 ms).
    pub cs_identical_invalid_window_ms: u64,
    /// Requests to `POST /authenticate` allowed per window before a lockout (default 10,000).
    pub cs_overall_threshold: u64,
    /// The overall window, which is also the lockout's length (default 300,000 ms).
    pub cs_overall_window_ms: u64,
    pub cs_lockout_scope: LockoutScope,
    /// Whether requests during a lockout restart it (the documents allow either reading).
    pub cs_lockout_extends: bool,
    /// The status of a lockout answer: 429 (expected), or 403 / 503 (accepted with a warning).
    pub cs_lockout_status: u16,
    /// Fixed, sliding or clock-aligned windows, for every limit.
    pub window_kind: WindowKind,
    /// Aligned windows kept in memory: each limiter's grid moves once so that a boundary falls just before
    /// its Nth counted attempt (a boundary put inside a chosen sequence, for tests of the runner).
    pub aligned_boundary_at_attempt: Option<u64>,
    /// Refusals carry the draft-ietf `RateLimit` and `RateLimit-Policy` fields (off by default).
    pub ratelimit_headers: bool,
    /// The seeded Appmixer account with the `admin` scope.
    pub admin: SeedAccount,
    /// The seeded Creditsafe Connect account.
    pub creditsafe_account: SeedAccount,
    /// The HS256 secret for Appmixer tokens; random at start when absent.
    pub appmixer_jwt_secret: Option<String>,
    /// A PKCS#8 PEM RSA private key for Creditsafe tokens; generated at start when absent.
    pub creditsafe_signing_key_pem: Option<String>,
    /// Appmixer token lifetime (default 30 days).
    pub appmixer_token_lifetime_s: u64,
    /// Creditsafe token lifetime (default 1 hour).
    pub creditsafe_token_lifetime_s: u64,
    /// Serve the `/_authconform/clock` protocol.
    pub test_clock: bool,
    /// Take the client address from the first `X-Forwarded-For` entry.
    pub trust_forwarded_for: bool,
    /// Largest accepted request body.
    pub body_limit_bytes: usize,
    /// Longest a request may take before the server answers 503.
    pub request_timeout_ms: u64,
    /// Concurrent password hash operations (default: the number of cores).
    pub hash_concurrency: usize,
    /// The argon2id cost of every password hash (default OWASP's minimum).
    pub password_cost: PasswordCost,
    /// Largest number of keys one rate limiter tracks; beyond it, new keys are refused (fail closed).
    pub limiter_max_keys: usize,
    /// Largest number of users the store holds; beyond it, signups get 503.
    pub max_users: usize,
    /// Where the state lives (memory by default).
    pub store: StoreLocation,
    /// What every Redis key starts with, so several deployments can share one Redis.
    pub store_prefix: String,
    /// The longest one Redis operation may take before the request is answered 503.
    pub store_timeout_ms: u64,
    /// Deliberate non-conformances (test builds only).
    #[cfg(feature = "faults")]
    pub faults: Vec<crate::faults::Fault>,
}

pub(crate) const DEFAULT_ADMIN_USERNAME: &str = "admin@example.com";
pub(crate) const DEFAULT_CREDITSAFE_USERNAME: &str = "connect-user@example.com";
pub(crate) const DEFAULT_STORE_PREFIX: &str = "authconform:";

impl Default for Config {
    fn default() -> Self {
        Config {
            profile: AppmixerProfile::AppmixerCloud,
            signup_rate_limit_email: 10,
            signup_rate_limit_email_window_ms: 3_600_000,
            signup_rate_limit_ip: 50,
            signup_rate_limit_ip_window_ms: 3_600_000,
            user_create_scope: None,
            count_invalid_signups: false,
            refuse_padded_emails: false,
            cs_identical_invalid_limit: 5,
            cs_identical_invalid_window_ms: 120_000,
            cs_overall_threshold: 10_000,
            cs_overall_window_ms: 300_000,
            cs_lockout_scope: LockoutScope::Client,
            cs_lockout_extends: false,
            ratelimit_headers: false,
            cs_lockout_status: 429,
            window_kind: WindowKind::Fixed,
            aligned_boundary_at_attempt: None,
            admin: SeedAccount {
                username: DEFAULT_ADMIN_USERNAME.into(),
                email: Some(DEFAULT_ADMIN_USERNAME.into()),
                password: random_password(),
            },
            creditsafe_account: SeedAccount {
                username: DEFAULT_CREDITSAFE_USERNAME.into(),
                email: None,
                password: random_password(),
            },
            appmixer_jwt_secret: None,
            creditsafe_signing_key_pem: None,
            appmixer_token_lifetime_s: 30 * 24 * 3600,
            creditsafe_token_lifetime_s: 3600,
            test_clock: false,
            trust_forwarded_for: false,
            body_limit_bytes: 64 * 1024,
            request_timeout_ms: 30_000,
            hash_concurrency: default_hash_concurrency(),
            password_cost: PasswordCost::Owasp,
            limiter_max_keys: 1_000_000,
            max_users: 1_000_000,
            store: StoreLocation::Memory,
            store_prefix: DEFAULT_STORE_PREFIX.into(),
            store_timeout_ms: 1_000,
            #[cfg(feature = "faults")]
            faults: Vec::new(),
        }
    }
}

/// A fresh random password for a seeded account nobody configured.
pub fn random_password() -> String {
    use rand::Rng;
    use rand::distr::Alphanumeric;
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(24)
        .map(char::from)
        .collect()
}

fn default_hash_concurrency() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}
