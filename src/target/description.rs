//! The target description: what a target claims (profiles, limits, accounts) and how to reach it, fully
//! resolved. Plain data, so that the conformance engine, a load profile and detection can all take it;
//! [`super::file`] reads it from TOML and [`super::flags`] overlays the command line.

use std::fmt;

use authconform_scenario::model::{Profile, WindowName};
use authconform_scenario::template::LimitName;
use serde::{Deserialize, Serialize};

/// How the runner moves through time windows on the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ClockMode {
    /// Really wait out windows.
    Real,
    /// Advance the target's test clock (`/_authconform/clock`).
    Control,
}

impl fmt::Display for ClockMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ClockMode::Real => "real",
            ClockMode::Control => "control",
        })
    }
}

/// The limits and windows the target is configured with. Defaults are the documented values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    pub signup_email: u64,
    pub signup_email_window_ms: u64,
    pub signup_ip: u64,
    pub signup_ip_window_ms: u64,
    pub cs_identical_invalid: u64,
    pub cs_invalid_window_ms: u64,
    pub cs_overall_threshold: u64,
    pub cs_overall_window_ms: u64,
    pub appmixer_token_lifetime_s: u64,
    pub creditsafe_token_lifetime_s: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            signup_email: 10,
            signup_email_window_ms: 3_600_000,
            signup_ip: 50,
            signup_ip_window_ms: 3_600_000,
            cs_identical_invalid: 5,
            cs_invalid_window_ms: 120_000,
            cs_overall_threshold: 10_000,
            cs_overall_window_ms: 300_000,
            appmixer_token_lifetime_s: 2_592_000,
            creditsafe_token_lifetime_s: 3_600,
        }
    }
}

impl Limits {
    /// The names `--limit NAME=VALUE` and `[limits]` accept.
    pub const NAMES: [&'static str; 10] = [
        "signup_email",
        "signup_email_window_ms",
        "signup_ip",
        "signup_ip_window_ms",
        "cs_identical_invalid",
        "cs_invalid_window_ms",
        "cs_overall_threshold",
        "cs_overall_window_ms",
        "appmixer_token_lifetime_s",
        "creditsafe_token_lifetime_s",
    ];

    pub fn limit(&self, name: LimitName) -> u64 {
        match name {
            LimitName::SignupEmail => self.signup_email,
            LimitName::SignupIp => self.signup_ip,
            LimitName::CsIdenticalInvalid => self.cs_identical_invalid,
            LimitName::CsOverallThreshold => self.cs_overall_threshold,
        }
    }

    pub fn window_ms(&self, window: WindowName) -> u64 {
        match window {
            WindowName::SignupEmailWindow => self.signup_email_window_ms,
            WindowName::SignupIpWindow => self.signup_ip_window_ms,
            WindowName::CsInvalidWindow => self.cs_invalid_window_ms,
            WindowName::CsOverallWindow => self.cs_overall_window_ms,
            WindowName::AppmixerTokenLifetime => {
                self.appmixer_token_lifetime_s.saturating_mul(1000)
            }
            WindowName::CreditsafeTokenLifetime => {
                self.creditsafe_token_lifetime_s.saturating_mul(1000)
            }
        }
    }

    pub(crate) fn field_mut(&mut self, name: &str) -> Option<&mut u64> {
        Some(match name {
            "signup_email" => &mut self.signup_email,
            "signup_email_window_ms" => &mut self.signup_email_window_ms,
            "signup_ip" => &mut self.signup_ip,
            "signup_ip_window_ms" => &mut self.signup_ip_window_ms,
            "cs_identical_invalid" => &mut self.cs_identical_invalid,
            "cs_invalid_window_ms" => &mut self.cs_invalid_window_ms,
            "cs_overall_threshold" => &mut self.cs_overall_threshold,
            "cs_overall_window_ms" => &mut self.cs_overall_window_ms,
            "appmixer_token_lifetime_s" => &mut self.appmixer_token_lifetime_s,
            "creditsafe_token_lifetime_s" => &mut self.creditsafe_token_lifetime_s,
            _ => return None,
        })
    }
}

/// An account the runner may use on the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    pub username: String,
    /// Defaults to the username.
    #[serde(default)]
    pub email: Option<String>,
    pub password: String,
}

impl Account {
    pub fn email(&self) -> &str {
        self.email.as_deref().unwrap_or(&self.username)
    }
}

/// How much of a response body is read by default: 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;

/// Everything the runner knows about one target, fully resolved.
#[derive(Debug, Clone)]
pub struct TargetDescription {
    /// How reports name the target.
    pub name: String,
    /// The (first) base URL: where the test clock is advanced, and what reports name the target by.
    pub base_url: reqwest::Url,
    /// Further base URLs of the same logical target, e.g. several instances sharing one store: requests
    /// are spread round-robin over `base_url` and these, so checks of global limits see every instance.
    pub other_base_urls: Vec<reqwest::Url>,
    pub profiles: Vec<Profile>,
    pub clock: ClockMode,
    pub slack_ms: u64,
    pub timeout_ms: u64,
    /// Response bodies are read up to this many bytes; the rest is left unread and the answer is marked cut.
    pub max_body_bytes: usize,
    pub insecure: bool,
    pub forwarded_for: bool,
    /// Sent with every request.
    pub headers: Vec<(String, String)>,
    pub user_create_scope: Option<String>,
    pub limits: Limits,
    pub admin: Option<Account>,
    pub creditsafe: Option<Account>,
    pub appmixer_jwt_secret: Option<String>,
}

impl TargetDescription {
    /// A description with every documented default, for the given URL and profiles.
    pub fn new(base_url: reqwest::Url, profiles: Vec<Profile>) -> TargetDescription {
        TargetDescription {
            name: base_url.to_string(),
            base_url,
            other_base_urls: Vec::new(),
            profiles,
            clock: ClockMode::Real,
            slack_ms: 1000,
            timeout_ms: 10_000,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            insecure: false,
            forwarded_for: false,
            headers: Vec::new(),
            user_create_scope: None,
            limits: Limits::default(),
            admin: None,
            creditsafe: None,
            appmixer_jwt_secret: None,
        }
    }

    /// A description of several instances of one target: requests go round-robin to each URL in turn.
    /// `None` when `base_urls` is empty.
    pub fn spread_over(
        base_urls: Vec<reqwest::Url>,
        profiles: Vec<Profile>,
    ) -> Option<TargetDescription> {
        let mut urls = base_urls.into_iter();
        let mut target = TargetDescription::new(urls.next()?, profiles);
        target.other_base_urls = urls.collect();
        if !target.other_base_urls.is_empty() {
            target.name = format!(
                "{} (and {} more)",
                target.base_url,
                target.other_base_urls.len()
            );
        }
        Some(target)
    }

    /// Every base URL, the first first.
    pub fn all_base_urls(&self) -> impl Iterator<Item = &reqwest::Url> {
        std::iter::once(&self.base_url).chain(&self.other_base_urls)
    }
}
