//! The target file (`--target-file`, TOML, documented in `docs/target.md`): its shape, and mistakes in it
//! located as `file:line:col` with the offending text underlined, like scenario-file mistakes.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use authconform_scenario::diagnostics::{Diagnostic, SourceFile, did_you_mean};
use authconform_scenario::model::Profile;
use serde::Deserialize;
use toml::Spanned;

use super::description::{Account, ClockMode, Limits, TargetDescription};
use super::description_error::DescriptionError;
use super::values::{parse_profile, parse_url, same_base};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TargetFile {
    base_url: Option<Spanned<String>>,
    base_urls: Option<Spanned<Vec<Spanned<String>>>>,
    profiles: Option<Vec<Spanned<String>>>,
    clock: Option<ClockMode>,
    slack_ms: Option<u64>,
    timeout_ms: Option<u64>,
    max_body: Option<bytesize::ByteSize>,
    insecure: Option<bool>,
    forwarded_for: Option<bool>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
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

/// A target file, parsed, with its text for locating mistakes.
pub(super) struct ParsedFile {
    source: SourceFile,
    file: TargetFile,
}

impl ParsedFile {
    pub(super) fn parse(path: &Path, text: &str) -> Result<ParsedFile, DescriptionError> {
        let source = SourceFile::new(path, text);
        match toml::from_str(text) {
            Ok(file) => Ok(ParsedFile { source, file }),
            Err(err) => {
                let span = err.span().unwrap_or(0..0);
                let message = err.message().trim().to_owned();
                let hint = unknown_field_hint(&message);
                Err(located(&source, span, message, "here", hint))
            }
        }
    }

    /// A mistake at `span`, with its location and the text underlined.
    fn at(&self, span: Range<usize>, message: String, label: &str) -> DescriptionError {
        located(&self.source, span, message, label, None)
    }

    /// `base_url`, or the list `base_urls` (not both), each located in the file when it is wrong.
    pub(super) fn base_urls(&self) -> Result<Vec<reqwest::Url>, DescriptionError> {
        match (&self.file.base_url, &self.file.base_urls) {
            (Some(_), Some(list)) => Err(self.at(
                list.span(),
                "give either `base_url` or `base_urls`, not both".into(),
                "the second list of URLs",
            )),
            (Some(url), None) => {
                Ok(vec![parse_url(url.get_ref()).map_err(|message| {
                    self.at(url.span(), message, "not an http(s) URL")
                })?])
            }
            (None, Some(list)) => {
                if list.get_ref().is_empty() {
                    return Err(self.at(
                        list.span(),
                        "`base_urls` is empty: list at least one URL".into(),
                        "empty",
                    ));
                }
                let mut urls: Vec<reqwest::Url> = Vec::with_capacity(list.get_ref().len());
                for entry in list.get_ref() {
                    let url = parse_url(entry.get_ref())
                        .map_err(|message| self.at(entry.span(), message, "not an http(s) URL"))?;
                    if urls.iter().any(|seen| same_base(seen, &url)) {
                        return Err(self.at(
                            entry.span(),
                            format!("`{}` is listed twice", entry.get_ref()),
                            "listed before",
                        ));
                    }
                    urls.push(url);
                }
                Ok(urls)
            }
            (None, None) => Ok(Vec::new()),
        }
    }

    /// The file's `profiles`, each located when unknown; `None` when the file names none.
    pub(super) fn profiles(&self) -> Option<Result<Vec<Profile>, DescriptionError>> {
        let names = self.file.profiles.as_ref()?;
        Some(
            names
                .iter()
                .map(|name| {
                    parse_profile(name.get_ref()).map_err(|message| {
                        let hint =
                            did_you_mean(name.get_ref(), Profile::ALL.iter().map(|p| p.as_str()));
                        located(&self.source, name.span(), message, "unknown profile", hint)
                    })
                })
                .collect(),
        )
    }

    /// Sets everything else the file says on `target`.
    pub(super) fn apply(self, target: &mut TargetDescription) {
        let file = self.file;
        target.clock = file.clock.unwrap_or(target.clock);
        target.slack_ms = file.slack_ms.unwrap_or(target.slack_ms);
        target.timeout_ms = file.timeout_ms.unwrap_or(target.timeout_ms);
        target.max_body_bytes = file.max_body.map_or(target.max_body_bytes, |size| {
            usize::try_from(size.as_u64()).unwrap_or(usize::MAX)
        });
        target.insecure = file.insecure.unwrap_or(false);
        target.forwarded_for = file.forwarded_for.unwrap_or(false);
        target.headers = file.headers.into_iter().collect();
        target.user_create_scope = file.user_create_scope;
        target.limits = file.limits;
        target.admin = file.accounts.admin;
        target.creditsafe = file.accounts.creditsafe;
        target.appmixer_jwt_secret = file.secrets.appmixer_jwt_secret;
    }
}

fn located(
    source: &SourceFile,
    span: Range<usize>,
    message: String,
    label: &str,
    hint: Option<String>,
) -> DescriptionError {
    DescriptionError::InFile(Box::new(
        Diagnostic::new(source, span, message)
            .label(label)
            .hint(hint),
    ))
}

/// toml's "unknown field `x`, expected one of `a`, `b`" as "did you mean `a`?".
fn unknown_field_hint(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, expected) = rest.split_once('`')?;
    let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    did_you_mean(field, candidates)
}
