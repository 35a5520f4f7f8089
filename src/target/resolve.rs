//! Resolving a target description: the target file (if any) with the flags laid over it, and why that can
//! fail (a mistake located in the file, or naming its flag).

use std::path::Path;

use authconform_scenario::model::Profile;

use super::description::TargetDescription;
use super::description_error::DescriptionError;
use super::file::ParsedFile;
use super::flags::TargetFlags;
use super::values::same_base;

/// Reads the target file the flags name (if any) and lays the flags over it.
pub fn load(flags: &TargetFlags) -> Result<TargetDescription, DescriptionError> {
    let text = match &flags.target_file {
        Some(path) => {
            Some(
                std::fs::read_to_string(path).map_err(|source| DescriptionError::Read {
                    path: path.clone(),
                    source,
                })?,
            )
        }
        None => None,
    };
    resolve(flags.target_file.as_deref().zip(text.as_deref()), flags)
}

/// Resolves a description from the file's text (if any) and the flags.
pub fn resolve(
    file: Option<(&Path, &str)>,
    flags: &TargetFlags,
) -> Result<TargetDescription, DescriptionError> {
    let parsed = match file {
        Some((path, text)) => Some(ParsedFile::parse(path, text)?),
        None => None,
    };

    let base_urls = if flags.base_urls.is_empty() {
        match &parsed {
            Some(file) => file.base_urls()?,
            None => Vec::new(),
        }
    } else {
        flag_base_urls(&flags.base_urls)?
    };
    if base_urls.is_empty() {
        return Err(DescriptionError::NoUrl);
    }

    let profiles = if !flags.profiles.is_empty() {
        flags.profiles.clone()
    } else {
        match parsed.as_ref().and_then(ParsedFile::profiles) {
            Some(profiles) => profiles?,
            None => Vec::new(),
        }
    };
    if profiles.is_empty() {
        return Err(DescriptionError::NoProfiles);
    }
    let mut target = TargetDescription::spread_over(base_urls, dedup(profiles))
        .ok_or(DescriptionError::NoUrl)?;
    if let Some(file) = parsed {
        file.apply(&mut target);
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
    if let Some(size) = flags.max_body {
        target.max_body_bytes = size;
    }
    target.insecure |= flags.insecure;
    target.forwarded_for |= flags.forwarded_for;
    target.headers.extend(flags.headers.iter().cloned());
    for limit in &flags.limits {
        limit.apply(&mut target.limits);
    }
    if let Some(admin) = &flags.admin {
        target.admin = Some(admin.clone());
    }
    if let Some(creditsafe) = &flags.creditsafe {
        target.creditsafe = Some(creditsafe.clone());
    }
    if let Some(scope) = &flags.user_create_scope {
        target.user_create_scope = Some(scope.clone());
    }
    if target.timeout_ms == 0 {
        return Err(DescriptionError::ZeroTimeout);
    }
    if target.max_body_bytes == 0 {
        return Err(DescriptionError::ZeroMaxBody);
    }
    Ok(target)
}

/// The `--target` URLs (each already a valid http(s) URL, clap saw to that): none given twice.
fn flag_base_urls(given: &[reqwest::Url]) -> Result<Vec<reqwest::Url>, DescriptionError> {
    let mut urls: Vec<reqwest::Url> = Vec::with_capacity(given.len());
    for url in given {
        if urls.iter().any(|seen| same_base(seen, url)) {
            return Err(DescriptionError::Flag {
                flag: "--target",
                message: format!("`{url}` is given twice"),
            });
        }
        urls.push(url.clone());
    }
    Ok(urls)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::{ClockMode, LimitSetting, Limits};

    fn file(text: &str) -> Result<TargetDescription, DescriptionError> {
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
            limits: vec![LimitSetting {
                name: "signup_email",
                value: 3,
            }],
            headers: vec![("X-Tenant".into(), "demo".into())],
            admin: Some(
                crate::target::flags::parse_account("root@example.com:pw:with:colons").unwrap(),
            ),
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
        let err = crate::target::flags::parse_limit("signup_mail=3").unwrap_err();
        let err = format!("--limit: {err}");
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
            base_urls: vec![
                "http://127.0.0.1:3".parse().unwrap(),
                "http://127.0.0.1:4".parse().unwrap(),
            ],
            profiles: vec![Profile::Appmixer6],
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
            base_urls: vec![
                "http://127.0.0.1:3".parse().unwrap(),
                "http://127.0.0.1:3/".parse().unwrap(),
            ],
            profiles: vec![Profile::Appmixer6],
            ..TargetFlags::default()
        };
        assert_eq!(
            resolve(None, &flags).unwrap_err().to_string(),
            "--target: `http://127.0.0.1:3/` is given twice"
        );
    }

    #[test]
    fn line_column_counts_characters() {
        let line_column = |text: &str, offset| {
            authconform_scenario::diagnostics::SourceFile::new(Path::new("t"), text)
                .line_col(offset)
        };
        assert_eq!(line_column("ab\ncé d", 7), (2, 4));
        assert_eq!(line_column("", 0), (1, 1));
    }
}
