//! The target description: what a target claims (profiles, limits, accounts) and how to reach it.
//!
//! It comes from a TOML file (`--target-file`, documented in `docs/target.md`) overlaid with flags. Mistakes in
//! the file are reported as `file:line:col`; mistakes in flags name the flag. The description is plain data so
//! that the conformance engine and a load profile can both take it.

use std::fmt;
use std::path::{Path, PathBuf};

use authconform_scenario::model::{Profile, WindowName};
use authconform_scenario::template::LimitName;
use serde::{Deserialize, Serialize};
use toml::Spanned;

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

    fn field_mut(&mut self, name: &str) -> Option<&mut u64> {
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

/// Target settings given as flags; each overrides the file.
#[derive(Debug, Clone, Default)]
pub struct TargetFlags {
    /// `--target`, once per base URL.
    pub base_urls: Vec<String>,
    pub profiles: Vec<String>,
    pub clock: Option<ClockMode>,
    pub insecure: bool,
    pub timeout_ms: Option<u64>,
    pub slack_ms: Option<u64>,
    pub forwarded_for: bool,
    /// `NAME: VALUE`
    pub headers: Vec<String>,
    /// `NAME=VALUE`
    pub limits: Vec<String>,
    /// `USER:PASSWORD`
    pub admin: Option<String>,
    /// `USER:PASSWORD`
    pub creditsafe: Option<String>,
    pub user_create_scope: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("could not read target file {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: {message}", path.display())]
    InFile {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{flag}: {message}")]
    Flag { flag: &'static str, message: String },
    #[error("{0}")]
    Missing(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetFile {
    base_url: Option<Spanned<String>>,
    base_urls: Option<Spanned<Vec<Spanned<String>>>>,
    profiles: Option<Vec<Spanned<String>>>,
    clock: Option<ClockMode>,
    slack_ms: Option<u64>,
    timeout_ms: Option<u64>,
    insecure: Option<bool>,
    forwarded_for: Option<bool>,
    #[serde(default)]
    headers: std::collections::BTreeMap<String, String>,
    user_create_scope: Option<String>,
    #[serde(default)]
    limits: Limits,
    #[serde(default)]
    accounts: AccountsFile,
    #[serde(default)]
    secrets: SecretsFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountsFile {
    admin: Option<Account>,
    creditsafe: Option<Account>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretsFile {
    appmixer_jwt_secret: Option<String>,
}

/// Reads the target file (if any) and overlays the flags.
pub fn load(file: Option<&Path>, flags: &TargetFlags) -> Result<TargetDescription, ConfigError> {
    let parsed = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_owned(),
                source,
            })?;
            Some((path, text))
        }
        None => None,
    };
    resolve(
        parsed.as_ref().map(|(path, text)| (*path, text.as_str())),
        flags,
    )
}

/// Resolves a description from the file's text (if any) and the flags.
pub fn resolve(
    file: Option<(&Path, &str)>,
    flags: &TargetFlags,
) -> Result<TargetDescription, ConfigError> {
    let parsed = match file {
        Some((path, text)) => Some((path, text, parse_file(path, text)?)),
        None => None,
    };

    let base_urls = if flags.base_urls.is_empty() {
        match &parsed {
            Some((path, text, file)) => file_base_urls(path, text, file)?,
            None => Vec::new(),
        }
    } else {
        flag_base_urls(&flags.base_urls)?
    };
    if base_urls.is_empty() {
        return Err(ConfigError::Missing(
            "no target URL: give --target URL (once per instance) or `base_url` / `base_urls` in the target file".into(),
        ));
    }

    let profiles = if !flags.profiles.is_empty() {
        flags
            .profiles
            .iter()
            .map(|name| {
                parse_profile(name).map_err(|message| ConfigError::Flag {
                    flag: "--profile",
                    message,
                })
            })
            .collect::<Result<Vec<_>, _>>()?
    } else if let Some((
        path,
        text,
        TargetFile {
            profiles: Some(names),
            ..
        },
    )) = &parsed
    {
        names
            .iter()
            .map(|name| {
                parse_profile(name.get_ref())
                    .map_err(|message| located(path, text, name.span(), message))
            })
            .collect::<Result<Vec<_>, _>>()?
    } else {
        Vec::new()
    };
    if profiles.is_empty() {
        return Err(ConfigError::Missing(format!(
            "no profiles: say what the target implements with --profile or `profiles` in the target file ({})",
            profile_names()
        )));
    }

    let mut target = TargetDescription::spread_over(base_urls, dedup(profiles))
        .ok_or_else(|| ConfigError::Missing("no target URL".into()))?;
    if let Some((_, _, file)) = parsed {
        target.clock = file.clock.unwrap_or(target.clock);
        target.slack_ms = file.slack_ms.unwrap_or(target.slack_ms);
        target.timeout_ms = file.timeout_ms.unwrap_or(target.timeout_ms);
        target.insecure = file.insecure.unwrap_or(false);
        target.forwarded_for = file.forwarded_for.unwrap_or(false);
        target.headers = file.headers.into_iter().collect();
        target.user_create_scope = file.user_create_scope;
        target.limits = file.limits;
        target.admin = file.accounts.admin;
        target.creditsafe = file.accounts.creditsafe;
        target.appmixer_jwt_secret = file.secrets.appmixer_jwt_secret;
    }

    if let Some(clock) = flags.clock {
        target.clock = clock;
    }
    if let Some(slack) = flags.slack_ms {
        target.slack_ms = slack;
    }
    if let Some(timeout) = flags.timeout_ms {
        target.timeout_ms = timeout;
    }
    target.insecure |= flags.insecure;
    target.forwarded_for |= flags.forwarded_for;
    for header in &flags.headers {
        let (name, value) = header.split_once(':').ok_or_else(|| ConfigError::Flag {
            flag: "--header",
            message: format!("`{header}` is not `NAME: VALUE`"),
        })?;
        let name = name.trim();
        if name.is_empty() || reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(ConfigError::Flag {
                flag: "--header",
                message: format!("`{name}` is not a valid header name"),
            });
        }
        target
            .headers
            .push((name.to_owned(), value.trim().to_owned()));
    }
    for limit in &flags.limits {
        let (name, value) = limit.split_once('=').ok_or_else(|| ConfigError::Flag {
            flag: "--limit",
            message: format!("`{limit}` is not `NAME=VALUE`"),
        })?;
        let field = target
            .limits
            .field_mut(name.trim())
            .ok_or_else(|| ConfigError::Flag {
                flag: "--limit",
                message: format!(
                    "unknown limit `{}` (known: {})",
                    name.trim(),
                    Limits::NAMES.join(", ")
                ),
            })?;
        *field = value.trim().parse().map_err(|_| ConfigError::Flag {
            flag: "--limit",
            message: format!("`{}` is not a non-negative integer", value.trim()),
        })?;
    }
    if let Some(admin) = &flags.admin {
        target.admin = Some(parse_account("--admin", admin)?);
    }
    if let Some(creditsafe) = &flags.creditsafe {
        target.creditsafe = Some(parse_account("--creditsafe", creditsafe)?);
    }
    if let Some(scope) = &flags.user_create_scope {
        target.user_create_scope = Some(scope.clone());
    }
    if target.timeout_ms == 0 {
        return Err(ConfigError::Missing("timeout_ms must be at least 1".into()));
    }
    Ok(target)
}

fn parse_file(path: &Path, text: &str) -> Result<TargetFile, ConfigError> {
    toml::from_str(text).map_err(|err| {
        let (line, column) = err
            .span()
            .map_or((1, 1), |span| line_column(text, span.start));
        ConfigError::InFile {
            path: path.to_owned(),
            line,
            column,
            message: err.message().trim().to_owned(),
        }
    })
}

/// The `--target` URLs: each a valid http(s) URL, none given twice.
fn flag_base_urls(texts: &[String]) -> Result<Vec<reqwest::Url>, ConfigError> {
    let mut urls: Vec<reqwest::Url> = Vec::with_capacity(texts.len());
    for text in texts {
        let url = parse_url(text).map_err(|message| ConfigError::Flag {
            flag: "--target",
            message,
        })?;
        if urls.iter().any(|seen| same_base(seen, &url)) {
            return Err(ConfigError::Flag {
                flag: "--target",
                message: format!("`{text}` is given twice"),
            });
        }
        urls.push(url);
    }
    Ok(urls)
}

/// A mistake in the target file at `span`, with its line and column.
fn located(path: &Path, text: &str, span: std::ops::Range<usize>, message: String) -> ConfigError {
    let (line, column) = line_column(text, span.start);
    ConfigError::InFile {
        path: path.to_owned(),
        line,
        column,
        message,
    }
}

/// `base_url`, or the list `base_urls` (not both), each located in the file when it is wrong.
fn file_base_urls(
    path: &Path,
    text: &str,
    file: &TargetFile,
) -> Result<Vec<reqwest::Url>, ConfigError> {
    let at = |span: std::ops::Range<usize>, message: String| located(path, text, span, message);
    match (&file.base_url, &file.base_urls) {
        (Some(_), Some(list)) => Err(at(
            list.span(),
            "give either `base_url` or `base_urls`, not both".into(),
        )),
        (Some(url), None) => Ok(vec![
            parse_url(url.get_ref()).map_err(|message| at(url.span(), message))?,
        ]),
        (None, Some(list)) => {
            if list.get_ref().is_empty() {
                return Err(at(
                    list.span(),
                    "`base_urls` is empty: list at least one URL".into(),
                ));
            }
            let mut urls: Vec<reqwest::Url> = Vec::with_capacity(list.get_ref().len());
            for entry in list.get_ref() {
                let url =
                    parse_url(entry.get_ref()).map_err(|message| at(entry.span(), message))?;
                if urls.iter().any(|seen| same_base(seen, &url)) {
                    return Err(at(
                        entry.span(),
                        format!("`{}` is listed twice", entry.get_ref()),
                    ));
                }
                urls.push(url);
            }
            Ok(urls)
        }
        (None, None) => Ok(Vec::new()),
    }
}

/// Whether two base URLs name the same place (a trailing `/` aside).
fn same_base(a: &reqwest::Url, b: &reqwest::Url) -> bool {
    a.as_str().trim_end_matches('/') == b.as_str().trim_end_matches('/')
}

fn parse_url(text: &str) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(text).map_err(|err| format!("`{text}` is not a URL: {err}"))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(format!("`{text}` has scheme `{other}`; use http or https")),
    }
}

fn parse_profile(name: &str) -> Result<Profile, String> {
    Profile::parse(name)
        .ok_or_else(|| format!("unknown profile `{name}` (known: {})", profile_names()))
}

fn profile_names() -> String {
    Profile::ALL.map(Profile::as_str).join(", ")
}

fn parse_account(flag: &'static str, text: &str) -> Result<Account, ConfigError> {
    let (username, password) = text.split_once(':').ok_or_else(|| ConfigError::Flag {
        flag,
        message: "expected `USER:PASSWORD`".into(),
    })?;
    if username.is_empty() {
        return Err(ConfigError::Flag {
            flag,
            message: "the user name is empty".into(),
        });
    }
    Ok(Account {
        username: username.to_owned(),
        email: None,
        password: password.to_owned(),
    })
}

fn dedup(profiles: Vec<Profile>) -> Vec<Profile> {
    let mut out: Vec<Profile> = Vec::with_capacity(profiles.len());
    for profile in profiles {
        if !out.contains(&profile) {
            out.push(profile);
        }
    }
    out
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> Result<TargetDescription, ConfigError> {
        resolve(
            Some((Path::new("target.toml"), text)),
            &TargetFlags::default(),
        )
    }

    #[test]
    fn a_two_line_file_takes_every_default() {
        let target =
            file("base_url = \"http://127.0.0.1:8080\"\nprofiles = [\"appmixer-6\"]\n").unwrap();
        assert_eq!(target.profiles, vec![Profile::Appmixer6]);
        assert_eq!(target.clock, ClockMode::Real);
        assert_eq!(target.limits, Limits::default());
        assert_eq!(target.slack_ms, 1000);
    }

    #[test]
    fn an_unknown_profile_is_located() {
        let err =
            file("base_url = \"http://127.0.0.1:1\"\nprofiles = [\"appmixer-7\"]\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "target.toml:2:13: unknown profile `appmixer-7` (known: appmixer-5.1, appmixer-6, appmixer-cloud, creditsafe-connect)"
        );
    }

    #[test]
    fn an_unknown_key_is_located() {
        let err = file("base_url = \"http://127.0.0.1:1\"\nprofiles = [\"appmixer-6\"]\n[limits]\nsignup_mail = 3\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("target.toml:4:1: unknown field `signup_mail`"),
            "{err}"
        );
    }

    #[test]
    fn flags_override_the_file() {
        let flags = TargetFlags {
            clock: Some(ClockMode::Control),
            limits: vec!["signup_email=3".into()],
            headers: vec!["X-Tenant: demo".into()],
            admin: Some("root@example.com:pw:with:colons".into()),
            ..TargetFlags::default()
        };
        let text = "base_url = \"http://127.0.0.1:1\"\nprofiles = [\"appmixer-cloud\"]\n[limits]\nsignup_email = 7\n";
        let target = resolve(Some((Path::new("t.toml"), text)), &flags).unwrap();
        assert_eq!(target.clock, ClockMode::Control);
        assert_eq!(target.limits.signup_email, 3);
        assert_eq!(
            target.headers,
            vec![("X-Tenant".to_owned(), "demo".to_owned())]
        );
        let admin = target.admin.unwrap();
        assert_eq!(admin.password, "pw:with:colons");
        assert_eq!(admin.email(), "root@example.com");
    }

    #[test]
    fn bad_flags_name_the_flag() {
        let flags = TargetFlags {
            base_urls: vec!["http://127.0.0.1:1".into()],
            profiles: vec!["appmixer-6".into()],
            limits: vec!["signup_mail=3".into()],
            ..TargetFlags::default()
        };
        let err = resolve(None, &flags).unwrap_err().to_string();
        assert!(
            err.starts_with("--limit: unknown limit `signup_mail`"),
            "{err}"
        );
    }

    #[test]
    fn several_base_urls_spread_one_target() {
        let target = file(
            "base_urls = [\"http://127.0.0.1:1\", \"http://127.0.0.1:2/\"]\nprofiles = [\"appmixer-6\"]\n",
        )
        .unwrap();
        assert_eq!(target.base_url.as_str(), "http://127.0.0.1:1/");
        let all: Vec<&str> = target.all_base_urls().map(reqwest::Url::as_str).collect();
        assert_eq!(all, ["http://127.0.0.1:1/", "http://127.0.0.1:2/"]);
        assert_eq!(target.name, "http://127.0.0.1:1/ (and 1 more)");

        let flags = TargetFlags {
            base_urls: vec!["http://127.0.0.1:3".into(), "http://127.0.0.1:4".into()],
            profiles: vec!["appmixer-6".into()],
            ..TargetFlags::default()
        };
        let target = resolve(None, &flags).unwrap();
        assert_eq!(target.other_base_urls.len(), 1);
    }

    #[test]
    fn bad_base_url_lists_are_located() {
        let both = file(
            "base_url = \"http://127.0.0.1:1\"\nbase_urls = [\"http://127.0.0.1:2\"]\nprofiles = [\"appmixer-6\"]\n",
        )
        .unwrap_err();
        assert_eq!(
            both.to_string(),
            "target.toml:2:13: give either `base_url` or `base_urls`, not both"
        );
        let empty = file("base_urls = []\nprofiles = [\"appmixer-6\"]\n").unwrap_err();
        assert_eq!(
            empty.to_string(),
            "target.toml:1:13: `base_urls` is empty: list at least one URL"
        );
        let twice = file(
            "base_urls = [\"http://127.0.0.1:1\", \"http://127.0.0.1:1/\"]\nprofiles = [\"appmixer-6\"]\n",
        )
        .unwrap_err();
        assert_eq!(
            twice.to_string(),
            "target.toml:1:36: `http://127.0.0.1:1/` is listed twice"
        );
        let not_a_url = file(
            "base_urls = [\"http://127.0.0.1:1\", \"ftp://x\"]\nprofiles = [\"appmixer-6\"]\n",
        )
        .unwrap_err();
        assert_eq!(
            not_a_url.to_string(),
            "target.toml:1:36: `ftp://x` has scheme `ftp`; use http or https"
        );
        let flags = TargetFlags {
            base_urls: vec!["http://127.0.0.1:3".into(), "http://127.0.0.1:3/".into()],
            profiles: vec!["appmixer-6".into()],
            ..TargetFlags::default()
        };
        assert_eq!(
            resolve(None, &flags).unwrap_err().to_string(),
            "--target: `http://127.0.0.1:3/` is given twice"
        );
    }

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("ab\ncé d", 7), (2, 4));
        assert_eq!(line_column("", 0), (1, 1));
    }
}
