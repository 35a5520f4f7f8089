//! How a base URL and a profile name are read, the same from `--target`/`--profile` and from a target
//! file.

use authconform_scenario::model::Profile;

/// Whether two base URLs name the same place (a trailing `/` aside).
pub(crate) fn same_base(a: &reqwest::Url, b: &reqwest::Url) -> bool {
    a.as_str().trim_end_matches('/') == b.as_str().trim_end_matches('/')
}

pub(crate) fn parse_url(text: &str) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(text).map_err(|err| format!("`{text}` is not a URL: {err}"))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(format!("`{text}` has scheme `{other}`; use http or https")),
    }
}

pub(crate) fn parse_profile(name: &str) -> Result<Profile, String> {
    Profile::parse(name)
        .ok_or_else(|| format!("unknown profile `{name}` (known: {})", profile_names()))
}

pub(crate) fn profile_names() -> String {
    Profile::ALL.map(Profile::as_str).join(", ")
}
