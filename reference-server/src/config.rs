//! The server's configuration: every flag, its environment fallback and its documented default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use serde::Deserialize;

pub use crate::limiter::WindowKind;

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
    /// Fixed or sliding windows, for every limit.
    pub window_kind: WindowKind,
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

pub const DEFAULT_ADMIN_USERNAME: &str = "admin@example.com";
pub const DEFAULT_CREDITSAFE_USERNAME: &str = "connect-user@example.com";
pub const DEFAULT_STORE_PREFIX: &str = "authconform:";

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
            cs_identical_invalid_limit: 5,
            cs_identical_invalid_window_ms: 120_000,
            cs_overall_threshold: 10_000,
            cs_overall_window_ms: 300_000,
            cs_lockout_scope: LockoutScope::Client,
            cs_lockout_extends: false,
            cs_lockout_status: 429,
            window_kind: WindowKind::Fixed,
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

/// The seeded-accounts file (see `fixtures/accounts.toml`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountsFile {
    pub admin: Option<SeedAccount>,
    pub creditsafe: Option<SeedAccount>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("--accounts {}: {source}", path.display())]
    ReadAccounts {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{message}", path.display())]
    ParseAccounts { path: PathBuf, message: String },
    #[error("--creditsafe-signing-key {}: {source}", path.display())]
    ReadKey {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{flag} must be at least 1")]
    Zero { flag: &'static str },
    #[error("--api-user-create-scope must not be empty (leave it unset for an open signup)")]
    EmptyScope,
}

/// The command-line flags of the reference server (also embedded in `authconform serve`).
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// Address to listen on; port 0 picks a free port (the bound address is printed on one line).
    #[arg(long, env = "AUTHCONFORM_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// The Appmixer API to answer as. `POST /authenticate` (Creditsafe Connect) is always on.
    #[arg(long, env = "AUTHCONFORM_PROFILE", value_enum, default_value_t = AppmixerProfile::AppmixerCloud)]
    pub profile: AppmixerProfile,

    /// Signups per e-mail address within one e-mail window (appmixer-cloud).
    #[arg(long, env = "USER_SIGNUP_RATE_LIMIT_EMAIL", default_value_t = 10)]
    pub signup_rate_limit_email: u64,

    /// The e-mail window, in milliseconds.
    #[arg(
        long,
        env = "USER_SIGNUP_RATE_LIMIT_EMAIL_WINDOW_MS",
        default_value_t = 3_600_000
    )]
    pub signup_rate_limit_email_window_ms: u64,

    /// Signups per client address within one IP window (appmixer-cloud).
    #[arg(long, env = "USER_SIGNUP_RATE_LIMIT_IP", default_value_t = 50)]
    pub signup_rate_limit_ip: u64,

    /// The IP window, in milliseconds.
    #[arg(
        long,
        env = "USER_SIGNUP_RATE_LIMIT_IP_WINDOW_MS",
        default_value_t = 3_600_000
    )]
    pub signup_rate_limit_ip_window_ms: u64,

    /// Require a token with this scope (e.g. `admin`) to create users; unset, signup is open.
    #[arg(long, env = "API_USER_CREATE_SCOPE")]
    pub api_user_create_scope: Option<String>,

    /// Signup attempts that fail validation count toward the signup limits (by default only valid
    /// attempts count; the documents allow either reading).
    #[arg(long, env = "USER_SIGNUP_COUNT_INVALID")]
    pub count_invalid_signups: bool,

    /// Identical invalid `POST /authenticate` requests answered 401 per window; the next is 429.
    #[arg(long, env = "CREDITSAFE_IDENTICAL_INVALID_LIMIT", default_value_t = 5)]
    pub creditsafe_identical_invalid_limit: u64,

    /// The identical-invalid window, in milliseconds.
    #[arg(
        long,
        env = "CREDITSAFE_IDENTICAL_INVALID_WINDOW_MS",
        default_value_t = 120_000
    )]
    pub creditsafe_identical_invalid_window_ms: u64,

    /// Requests to `POST /authenticate` per window before a lockout (429s count).
    #[arg(long, env = "CREDITSAFE_OVERALL_THRESHOLD", default_value_t = 10_000)]
    pub creditsafe_overall_threshold: u64,

    /// The overall window and the lockout's length, in milliseconds.
    #[arg(long, env = "CREDITSAFE_OVERALL_WINDOW_MS", default_value_t = 300_000)]
    pub creditsafe_overall_window_ms: u64,

    /// What a lockout is keyed on: each client address, or the whole endpoint.
    #[arg(long, env = "CREDITSAFE_LOCKOUT_SCOPE", value_enum, default_value_t = LockoutScope::Client)]
    pub creditsafe_lockout_scope: LockoutScope,

    /// Requests during a lockout restart it (by default a lockout runs a full window from its trigger).
    #[arg(long, env = "CREDITSAFE_LOCKOUT_EXTENDS")]
    pub creditsafe_lockout_extends: bool,

    /// The status a lockout is answered with: 429 (documented), or 403 or 503 (readings a checker warns on).
    #[arg(long, env = "CREDITSAFE_LOCKOUT_STATUS", default_value_t = 429, value_parser = lockout_status)]
    pub creditsafe_lockout_status: u16,

    /// Fixed windows (opened by a key's first attempt) or sliding windows (the last window's attempts).
    #[arg(long, env = "AUTHCONFORM_WINDOW_KIND", value_enum, default_value_t = WindowKind::Fixed)]
    pub window_kind: WindowKind,

    /// A TOML file with `[admin]` and `[creditsafe]` accounts (username, email, password), e.g.
    /// `fixtures/accounts.toml`. The flags below override it.
    #[arg(long, env = "AUTHCONFORM_ACCOUNTS")]
    pub accounts: Option<PathBuf>,

    /// The seeded admin's username (also its e-mail).
    #[arg(long, env = "AUTHCONFORM_ADMIN_USERNAME")]
    pub admin_username: Option<String>,

    /// The seeded admin's password; random (and printed at start) when not given anywhere.
    #[arg(long, env = "AUTHCONFORM_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,

    /// The seeded Creditsafe Connect username.
    #[arg(long, env = "AUTHCONFORM_CREDITSAFE_USERNAME")]
    pub creditsafe_username: Option<String>,

    /// The seeded Creditsafe Connect password; random (and printed at start) when not given anywhere.
    #[arg(long, env = "AUTHCONFORM_CREDITSAFE_PASSWORD", hide_env_values = true)]
    pub creditsafe_password: Option<String>,

    /// The HS256 secret for Appmixer tokens; random at start when not given.
    #[arg(long, env = "AUTHCONFORM_APPMIXER_JWT_SECRET", hide_env_values = true)]
    pub appmixer_jwt_secret: Option<String>,

    /// A PKCS#8 PEM file with the RSA key for Creditsafe tokens; generated at start when not given.
    #[arg(long, env = "AUTHCONFORM_CREDITSAFE_SIGNING_KEY")]
    pub creditsafe_signing_key: Option<PathBuf>,

    /// Serve the test-clock protocol (`GET`/`POST /_authconform/clock`) so checks can skip waiting.
    #[arg(long, env = "AUTHCONFORM_TEST_CLOCK")]
    pub test_clock: bool,

    /// Take the client address from the first `X-Forwarded-For` entry (only behind a trusted proxy or
    /// for a test runner that isolates scenarios by address).
    #[arg(long, env = "AUTHCONFORM_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,

    /// Largest accepted request body, in bytes; larger bodies get 413.
    #[arg(long, env = "AUTHCONFORM_BODY_LIMIT", default_value_t = 64 * 1024)]
    pub body_limit: usize,

    /// Longest a request may take, in milliseconds, before the server answers 503.
    #[arg(long, env = "AUTHCONFORM_REQUEST_TIMEOUT_MS", default_value_t = 30_000)]
    pub request_timeout_ms: u64,

    /// Concurrent password hash operations (default: the number of cores).
    #[arg(long, env = "AUTHCONFORM_HASH_CONCURRENCY")]
    pub hash_concurrency: Option<usize>,

    /// Where users and limiter state live: `memory`, or `redis://HOST:PORT/DB` so that several instances
    /// share users and enforce one global set of limits.
    #[arg(long, env = "AUTHCONFORM_STORE", default_value = "memory", value_parser = store_location)]
    pub store: StoreLocation,

    /// What every Redis key starts with (instances on one Redis and prefix share everything).
    #[arg(long, env = "AUTHCONFORM_STORE_PREFIX", default_value = DEFAULT_STORE_PREFIX)]
    pub store_prefix: String,

    /// Longest one Redis operation may take, in milliseconds, before the request is answered 503.
    #[arg(long, env = "AUTHCONFORM_STORE_TIMEOUT_MS", default_value_t = 1_000)]
    pub store_timeout_ms: u64,
}

impl ServerArgs {
    /// Whether the admin and the Creditsafe passwords will be generated (neither a flag nor a file gives
    /// them), so the operator must be told them.
    pub fn generated_passwords(&self) -> (bool, bool) {
        (
            self.admin_password.is_none() && self.accounts.is_none(),
            self.creditsafe_password.is_none() && self.accounts.is_none(),
        )
    }

    /// Resolves the flags, the environment and the accounts file into a configuration.
    pub fn into_config(self) -> Result<Config, ConfigError> {
        let defaults = Config::default();
        let file = match &self.accounts {
            Some(path) => Some(read_accounts(path)?),
            None => None,
        };
        let (file_admin, file_creditsafe) = match file {
            Some(file) => (file.admin, file.creditsafe),
            None => (None, None),
        };
        let admin = merge_account(
            file_admin,
            self.admin_username,
            self.admin_password,
            defaults.admin,
        );
        let creditsafe_account = merge_account(
            file_creditsafe,
            self.creditsafe_username,
            self.creditsafe_password,
            defaults.creditsafe_account,
        );
        let creditsafe_signing_key_pem = match &self.creditsafe_signing_key {
            Some(path) => {
                Some(
                    std::fs::read_to_string(path).map_err(|source| ConfigError::ReadKey {
                        path: path.clone(),
                        source,
                    })?,
                )
            }
            None => None,
        };
        if self.api_user_create_scope.as_deref() == Some("") {
            return Err(ConfigError::EmptyScope);
        }
        let positive = [
            (
                "--signup-rate-limit-email-window-ms",
                self.signup_rate_limit_email_window_ms,
            ),
            (
                "--signup-rate-limit-ip-window-ms",
                self.signup_rate_limit_ip_window_ms,
            ),
            (
                "--creditsafe-identical-invalid-window-ms",
                self.creditsafe_identical_invalid_window_ms,
            ),
            (
                "--creditsafe-overall-window-ms",
                self.creditsafe_overall_window_ms,
            ),
            ("--request-timeout-ms", self.request_timeout_ms),
            ("--store-timeout-ms", self.store_timeout_ms),
            ("--body-limit", self.body_limit as u64),
        ];
        for (flag, value) in positive {
            if value == 0 {
                return Err(ConfigError::Zero { flag });
            }
        }
        if self.hash_concurrency == Some(0) {
            return Err(ConfigError::Zero {
                flag: "--hash-concurrency",
            });
        }
        Ok(Config {
            profile: self.profile,
            signup_rate_limit_email: self.signup_rate_limit_email,
            signup_rate_limit_email_window_ms: self.signup_rate_limit_email_window_ms,
            signup_rate_limit_ip: self.signup_rate_limit_ip,
            signup_rate_limit_ip_window_ms: self.signup_rate_limit_ip_window_ms,
            user_create_scope: self.api_user_create_scope,
            count_invalid_signups: self.count_invalid_signups,
            cs_identical_invalid_limit: self.creditsafe_identical_invalid_limit,
            cs_identical_invalid_window_ms: self.creditsafe_identical_invalid_window_ms,
            cs_overall_threshold: self.creditsafe_overall_threshold,
            cs_overall_window_ms: self.creditsafe_overall_window_ms,
            cs_lockout_scope: self.creditsafe_lockout_scope,
            cs_lockout_extends: self.creditsafe_lockout_extends,
            cs_lockout_status: self.creditsafe_lockout_status,
            window_kind: self.window_kind,
            admin,
            creditsafe_account,
            appmixer_jwt_secret: self.appmixer_jwt_secret,
            creditsafe_signing_key_pem,
            test_clock: self.test_clock,
            trust_forwarded_for: self.trust_forwarded_for,
            body_limit_bytes: self.body_limit,
            request_timeout_ms: self.request_timeout_ms,
            hash_concurrency: self.hash_concurrency.unwrap_or(defaults.hash_concurrency),
            store: self.store,
            store_prefix: self.store_prefix,
            store_timeout_ms: self.store_timeout_ms,
            ..defaults
        })
    }
}

/// `memory`, or a `redis://` URL the Redis client accepts (no TLS, no Unix sockets).
fn store_location(value: &str) -> Result<StoreLocation, String> {
    use redis::IntoConnectionInfo;
    if value == "memory" {
        return Ok(StoreLocation::Memory);
    }
    if value.starts_with("rediss://") || value.starts_with("redis+unix://") {
        return Err(format!(
            "`{value}`: only plain `redis://HOST:PORT/DB` is supported (no TLS, no Unix sockets)"
        ));
    }
    if !value.starts_with("redis://") {
        return Err(format!(
            "`{value}` is neither `memory` nor a `redis://HOST:PORT/DB` URL"
        ));
    }
    value
        .into_connection_info()
        .map_err(|error| format!("`{value}` is not a usable Redis URL: {error}"))?;
    Ok(StoreLocation::Redis {
        url: value.to_owned(),
    })
}

fn lockout_status(value: &str) -> Result<u16, String> {
    match value {
        "429" | "403" | "503" => value.parse().map_err(|_| "not a number".to_owned()),
        _ => Err(format!("`{value}` is not one of 429, 403, 503")),
    }
}

fn merge_account(
    file: Option<SeedAccount>,
    username: Option<String>,
    password: Option<String>,
    default: SeedAccount,
) -> SeedAccount {
    let base = file.unwrap_or(default);
    let email = match (&username, &base.email) {
        (Some(name), _) if name.contains('@') => Some(name.clone()),
        (Some(_), _) => None,
        (None, email) => email.clone(),
    };
    SeedAccount {
        username: username.unwrap_or(base.username),
        email,
        password: password.unwrap_or(base.password),
    }
}

fn read_accounts(path: &Path) -> Result<AccountsFile, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadAccounts {
        path: path.to_owned(),
        source,
    })?;
    toml::from_str(&text).map_err(|error| ConfigError::ParseAccounts {
        path: path.to_owned(),
        message: describe_toml_error(&text, &error),
    })
}

/// `line:col: message` for a TOML error.
fn describe_toml_error(text: &str, error: &toml::de::Error) -> String {
    let message = error.message().to_owned();
    match error.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("{line}:{col}: {message}")
        }
        None => format!(" {message}"),
    }
}
