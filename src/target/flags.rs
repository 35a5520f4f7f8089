//! The target flags (`--target`, `--header`, `--limit`, `--admin`, ...): their clap definitions and the value
//! parsers that turn each into a typed value, so a mistake is reported by clap naming the flag.

use std::ffi::OsStr;
use std::path::PathBuf;

use authconform_scenario::model::Profile;
use clap::builder::{PossibleValue, TypedValueParser};
use clap::error::ErrorKind;

use super::description::{Account, ClockMode, Limits};
use super::values::{parse_profile, parse_url};

/// The target to check; flags override the target file.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Target")]
pub struct TargetFlags {
    /// Base URL of the target; repeat it for several instances of one target (requests are spread
    /// round-robin over them; the test clock is advanced through the first)
    #[arg(long = "target", value_name = "URL", value_parser = FlagParser::new("--target", parse_url))]
    pub base_urls: Vec<reqwest::Url>,
    /// Target description (TOML, see docs/target.md)
    #[arg(long, value_name = "FILE")]
    pub target_file: Option<PathBuf>,
    /// A profile the target implements (repeatable)
    #[arg(long = "profile", value_name = "PROFILE",
          value_parser = FlagParser::new("--profile", parse_profile)
              .with_values(&["appmixer-5.1", "appmixer-6", "appmixer-cloud", "creditsafe-connect"]))]
    pub profiles: Vec<Profile>,
    /// `control`: advance the target's test clock; `real`: really wait out windows [default: real]
    #[arg(long, value_enum)]
    pub clock: Option<ClockMode>,
    /// Accept invalid TLS certificates
    #[arg(long)]
    pub insecure: bool,
    /// Per-request timeout in milliseconds [default: 10000]
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout_ms: Option<u64>,
    /// Read at most this much of each response body (`64KiB`, `1MiB`, `500000`); the rest is left unread
    /// and the answer is reported as cut [default: 1MiB]
    #[arg(long, value_name = "SIZE", value_parser = FlagParser::new("--max-body", parse_byte_size))]
    pub max_body: Option<usize>,
    /// Timing slack around windows in milliseconds [default: 1000]
    #[arg(long, value_name = "MS")]
    pub slack_ms: Option<u64>,
    /// The target trusts X-Forwarded-For: each scenario gets its own client address
    #[arg(long)]
    pub forwarded_for: bool,
    /// A header sent with every request (repeatable)
    #[arg(long = "header", value_name = "NAME: VALUE",
          value_parser = FlagParser::new("--header", parse_header))]
    pub headers: Vec<(String, String)>,
    /// A limit the target is configured with, e.g. signup_email=3 (repeatable)
    #[arg(long = "limit", value_name = "NAME=VALUE",
          value_parser = FlagParser::new("--limit", parse_limit))]
    pub limits: Vec<LimitSetting>,
    /// An account with the admin scope
    #[arg(long, value_name = "USER:PASSWORD",
          value_parser = FlagParser::new("--admin", parse_account))]
    pub admin: Option<Account>,
    /// A valid Creditsafe Connect account
    #[arg(long, value_name = "USER:PASSWORD",
          value_parser = FlagParser::new("--creditsafe", parse_account))]
    pub creditsafe: Option<Account>,
    /// The scope the target requires to create users (API_USER_CREATE_SCOPE)
    #[arg(long, value_name = "SCOPE")]
    pub user_create_scope: Option<String>,
}

impl TargetFlags {
    /// Whether any flag describes a target.
    pub fn names_a_target(&self) -> bool {
        !self.base_urls.is_empty() || self.target_file.is_some()
    }

    /// The first target flag given, for the error when no target is.
    pub fn first_target_flag(&self) -> Option<&'static str> {
        [
            (!self.profiles.is_empty(), "--profile"),
            (self.clock.is_some(), "--clock"),
            (self.insecure, "--insecure"),
            (self.timeout_ms.is_some(), "--timeout-ms"),
            (self.max_body.is_some(), "--max-body"),
            (self.slack_ms.is_some(), "--slack-ms"),
            (self.forwarded_for, "--forwarded-for"),
            (!self.headers.is_empty(), "--header"),
            (!self.limits.is_empty(), "--limit"),
            (self.admin.is_some(), "--admin"),
            (self.creditsafe.is_some(), "--creditsafe"),
            (self.user_create_scope.is_some(), "--user-create-scope"),
        ]
        .into_iter()
        .find_map(|(given, flag)| given.then_some(flag))
    }
}

/// `--limit NAME=VALUE`, checked against [`Limits::NAMES`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitSetting {
    pub name: &'static str,
    pub value: u64,
}

impl LimitSetting {
    /// Sets the limit in `limits`.
    pub fn apply(&self, limits: &mut Limits) {
        if let Some(field) = limits.field_mut(self.name) {
            *field = self.value;
        }
    }
}

/// A clap value parser that reports a mistake as `FLAG: message`, as every other target error names its flag.
#[derive(Clone)]
pub(crate) struct FlagParser<T> {
    flag: &'static str,
    parse: fn(&str) -> Result<T, String>,
    /// The values `--help` and shell completions offer, where there is a fixed set.
    values: &'static [&'static str],
}

impl<T> FlagParser<T> {
    pub(crate) const fn new(flag: &'static str, parse: fn(&str) -> Result<T, String>) -> Self {
        FlagParser {
            flag,
            parse,
            values: &[],
        }
    }

    /// The fixed set of values the flag takes, for `--help` and completions.
    pub(crate) const fn with_values(self, values: &'static [&'static str]) -> Self {
        FlagParser { values, ..self }
    }
}

impl<T: Clone + Send + Sync + 'static> TypedValueParser for FlagParser<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<T, clap::Error> {
        let parsed = match value.to_str() {
            Some(text) => (self.parse)(text),
            None => Err("the value is not UTF-8".to_owned()),
        };
        parsed.map_err(|message| {
            clap::Error::raw(
                ErrorKind::ValueValidation,
                format!("{}: {message}\n", self.flag),
            )
            .with_cmd(cmd)
        })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        (!self.values.is_empty()).then(|| {
            Box::new(self.values.iter().map(PossibleValue::new)) as Box<dyn Iterator<Item = _>>
        })
    }
}

/// `NAME: VALUE`, the name a valid header name.
pub(crate) fn parse_header(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("`{text}` is not `NAME: VALUE`"))?;
    let name = name.trim();
    if name.is_empty() || reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err(format!("`{name}` is not a valid header name"));
    }
    Ok((name.to_owned(), value.trim().to_owned()))
}

/// A size in bytes, with or without a unit (`500000`, `64KiB`, `1MiB`, `2MB`); at least one byte.
pub(crate) fn parse_byte_size(text: &str) -> Result<usize, String> {
    let size: bytesize::ByteSize = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a size (e.g. `500000`, `64KiB`, `1MiB`)"))?;
    match usize::try_from(size.as_u64()) {
        Ok(0) => Err("the size must be at least one byte".to_owned()),
        Ok(bytes) => Ok(bytes),
        Err(_) => Err(format!("`{text}` is too large")),
    }
}

/// `NAME=VALUE`, the name one of [`Limits::NAMES`].
pub(crate) fn parse_limit(text: &str) -> Result<LimitSetting, String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not `NAME=VALUE`"))?;
    let name = Limits::NAMES
        .into_iter()
        .find(|known| *known == name.trim())
        .ok_or_else(|| {
            format!(
                "unknown limit `{}` (known: {})",
                name.trim(),
                Limits::NAMES.join(", ")
            )
        })?;
    let value = value
        .trim()
        .parse()
        .map_err(|_| format!("`{}` is not a non-negative integer", value.trim()))?;
    Ok(LimitSetting { name, value })
}

/// `USER:PASSWORD` (the password may hold colons).
pub(crate) fn parse_account(text: &str) -> Result<Account, String> {
    let (username, password) = text
        .split_once(':')
        .ok_or_else(|| "expected `USER:PASSWORD`".to_owned())?;
    if username.is_empty() {
        return Err("the user name is empty".into());
    }
    Ok(Account {
        username: username.to_owned(),
        email: None,
        password: password.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Probe {
        #[command(flatten)]
        flags: TargetFlags,
    }

    #[test]
    fn values_are_parsed_by_clap() {
        let probe = Probe::try_parse_from([
            "probe",
            "--header",
            "X-Tenant: demo",
            "--limit",
            "signup_email=3",
            "--admin",
            "root@example.com:pw:with:colons",
        ])
        .unwrap();
        assert_eq!(
            probe.flags.headers,
            vec![("X-Tenant".to_owned(), "demo".to_owned())]
        );
        assert_eq!(
            probe.flags.limits,
            vec![LimitSetting {
                name: "signup_email",
                value: 3
            }]
        );
        assert_eq!(probe.flags.admin.unwrap().password, "pw:with:colons");
    }

    #[test]
    fn a_bad_value_names_its_flag() {
        let err = Probe::try_parse_from(["probe", "--limit", "signup_mail=3"]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("error: --limit: unknown limit `signup_mail`"),
            "{err}"
        );
        let err = Probe::try_parse_from(["probe", "--header", "bad name: x"]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("error: --header: `bad name` is not a valid header name"),
            "{err}"
        );
        for (size, message) in [
            ("lots", "error: --max-body: `lots` is not a size"),
            ("0", "error: --max-body: the size must be at least one byte"),
        ] {
            let err = Probe::try_parse_from(["probe", "--max-body", size]).unwrap_err();
            assert!(err.to_string().starts_with(message), "{err}");
        }
        let sized = Probe::try_parse_from(["probe", "--max-body", "64KiB"]).unwrap();
        assert_eq!(sized.flags.max_body, Some(64 * 1024));
        let err = Probe::try_parse_from(["probe", "--admin", ":pw"]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("error: --admin: the user name is empty"),
            "{err}"
        );
        assert_eq!(err.exit_code(), 2);
    }
}
