//! The command-line flags ([`ServerArgs`]), their environment fallbacks, the seeded-accounts file, and
//! their resolution into a validated [`Config`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::Args;
use serde::Deserialize;

use super::model::{
    AppmixerProfile, Config, DEFAULT_STORE_PREFIX, LockoutScope, PasswordCost, SeedAccount,
    StoreLocation, WindowKind,
};

/// The seeded-accounts file (see `fixtures/accounts.toml`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccountsFile {
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

    /// A signup e-mail with spaces around it is refused as invalid (400) instead of trimmed; it never
    /// reaches the limits (the documents allow either).
    #[arg(long, env = "USER_SIGNUP_REFUSE_PADDED_EMAIL")]
    pub refuse_padded_emails: bool,

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

    /// Refusals carry the IETF draft `RateLimit` and `RateLimit-Policy` fields (draft-ietf-httpapi-
    /// ratelimit-headers): each limit a policy of its own, the one that refused at `r=0`.
    #[arg(long, env = "AUTHCONFORM_RATELIMIT_HEADERS")]
    pub ratelimit_headers: bool,

    /// The status a lockout is answered with: 429 (documented), or 403 or 503 (readings a checker warns on).
    #[arg(long, env = "CREDITSAFE_LOCKOUT_STATUS", default_value_t = 429, value_parser = lockout_status)]
    pub creditsafe_lockout_status: u16,

    /// Fixed windows (opened by a key's first attempt), sliding windows (the last window's attempts), or
    /// windows aligned to the clock (opening at every multiple of their length, as cache counters keep them).
    #[arg(long, env = "AUTHCONFORM_WINDOW_KIND", value_enum, default_value_t = WindowKind::Fixed)]
    pub window_kind: WindowKind,

    /// With `--window-kind aligned` (in memory): move each limiter's boundaries once, so that one falls
    /// just before its Nth counted attempt. Puts a boundary inside a chosen sequence, to test a runner.
    #[arg(long, value_name = "N", requires = "window_kind", value_parser = clap::value_parser!(u64).range(1..))]
    pub aligned_boundary_at_attempt: Option<u64>,

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

    /// The cost of every password hash: `owasp` (argon2id, 19 MiB, 2 passes) or `light` (64 KiB, 1 pass).
    /// `light` is only for throwaway instances whose accounts are disposable, such as a test run: it makes
    /// stolen hashes cheap to crack. Every instance on one store must use the same cost.
    #[arg(long, env = "AUTHCONFORM_PASSWORD_COST", value_enum, default_value_t = PasswordCost::Owasp)]
    pub password_cost: PasswordCost,

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
            refuse_padded_emails: self.refuse_padded_emails,
            cs_identical_invalid_limit: self.creditsafe_identical_invalid_limit,
            cs_identical_invalid_window_ms: self.creditsafe_identical_invalid_window_ms,
            cs_overall_threshold: self.creditsafe_overall_threshold,
            cs_overall_window_ms: self.creditsafe_overall_window_ms,
            cs_lockout_scope: self.creditsafe_lockout_scope,
            cs_lockout_extends: self.creditsafe_lockout_extends,
            cs_lockout_status: self.creditsafe_lockout_status,
            ratelimit_headers: self.ratelimit_headers,
            window_kind: self.window_kind,
            aligned_boundary_at_attempt: self.aligned_boundary_at_attempt,
            admin,
            creditsafe_account,
            appmixer_jwt_secret: self.appmixer_jwt_secret,
            creditsafe_signing_key_pem,
            test_clock: self.test_clock,
            trust_forwarded_for: self.trust_forwarded_for,
            body_limit_bytes: self.body_limit,
            request_timeout_ms: self.request_timeout_ms,
            hash_concurrency: self.hash_concurrency.unwrap_or(defaults.hash_concurrency),
            password_cost: self.password_cost,
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
