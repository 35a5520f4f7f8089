//! The state file: what this tool did to one target and when (the signups it sent, per client address), so
//! that the next run counts what still lies inside a window instead of demanding an empty one. JSON, kept
//! under `.authconform/` beside the target file (or where `--state FILE` says); a file that is not one, or
//! that belongs to another target, is an error, never silently reset.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// The folder state files live in, beside the target file (or in the current directory).
pub const STATE_DIR: &str = ".authconform";
/// What the `format` member of every state file says.
const FORMAT: &str = "authconform-state";
/// The version of the shape this build reads and writes.
const VERSION: u32 = 1;
/// The address the runner's own connections come from, when no `X-Forwarded-For` names another.
pub const DIRECT: &str = "direct";

/// One target's state file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetState {
    /// Always `authconform-state`.
    pub format: String,
    pub version: u32,
    /// The target the state belongs to: its first base URL.
    pub base_url: String,
    /// Signups sent, oldest first, kept while they may still count toward a window.
    pub signups: Vec<SentSignups>,
    /// What one round of each request (`METHOD path`) took the last time it was sent, in microseconds: the
    /// plan's cost of it on this target.
    #[serde(default)]
    pub request_costs: BTreeMap<String, u64>,
    /// What the target last said its IP window held for the runner's own address: its `RateLimit` `r`
    /// for the IP policy on the answer to the declared limits' probe. A run counts in every signup sent
    /// up to then by it, however each one counted; `plan` expects the next run to read it again. Absent
    /// when the target did not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_window_read: Option<WindowRead>,
}

/// What a target said its IP window held at one time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowRead {
    /// Milliseconds since the Unix epoch: when the answer came.
    pub at_unix_ms: u64,
    /// Signups counting toward the window then, that answer's own included (the quota less `r`).
    pub held: u64,
}

/// Signups sent at one time from one client address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SentSignups {
    /// [`DIRECT`], or the `X-Forwarded-For` address they claimed.
    pub address: String,
    /// Milliseconds since the Unix epoch.
    pub at_unix_ms: u64,
    pub count: u64,
    /// Whether they are known to count toward the IP limit under every reading: answered as valid
    /// signups (created, or refused as duplicates), never refused by a limit or as invalid. Kept in the
    /// file only when true.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub counted: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read the state file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}:{line}:{column}: not a state file this build can read ({message}); move it away or pass --no-state"
    )]
    Corrupt {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "{path} is the state of {found}, not of {expected}; give this target its own file with --state FILE, or pass --no-state"
    )]
    Foreign {
        path: PathBuf,
        found: String,
        expected: String,
    },
    #[error("cannot write the state file {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl TargetState {
    pub fn new(base_url: &str) -> TargetState {
        TargetState {
            format: FORMAT.to_owned(),
            version: VERSION,
            base_url: base_url.to_owned(),
            signups: Vec::new(),
            request_costs: BTreeMap::new(),
            ip_window_read: None,
        }
    }

    /// The signups from `address` still inside a window of `window_ms` at `now_unix_ms`, each less than a
    /// window old.
    pub fn counting(&self, address: &str, now_unix_ms: u64, window_ms: u64) -> Vec<&SentSignups> {
        self.signups
            .iter()
            .filter(|sent| sent.address == address)
            .filter(|sent| now_unix_ms.saturating_sub(sent.at_unix_ms) < window_ms)
            .collect()
    }

    /// The addresses other than [`DIRECT`] that sent signups less than `window_ms` before `now_unix_ms`.
    pub fn busy_addresses(&self, now_unix_ms: u64, window_ms: u64) -> Vec<&str> {
        let mut busy: Vec<&str> = Vec::new();
        for sent in &self.signups {
            if sent.address != DIRECT
                && now_unix_ms.saturating_sub(sent.at_unix_ms) < window_ms
                && !busy.contains(&sent.address.as_str())
            {
                busy.push(&sent.address);
            }
        }
        busy
    }

    /// Adds a run's signups and forgets those more than `keep_ms` before `now_unix_ms`.
    pub fn merge(
        &mut self,
        sent: impl IntoIterator<Item = SentSignups>,
        now_unix_ms: u64,
        keep_ms: u64,
    ) {
        self.signups.extend(sent);
        self.signups
            .retain(|sent| now_unix_ms.saturating_sub(sent.at_unix_ms) < keep_ms);
        self.signups.sort_by_key(|sent| sent.at_unix_ms);
    }
}

/// Where a target's state lives by default: `.authconform/` beside the target file, named after it, or in
/// the current directory, named after the target's host and port.
pub fn default_path(target_file: Option<&Path>, base_url: &reqwest::Url) -> PathBuf {
    match target_file {
        Some(file) => {
            let stem = file
                .file_stem()
                .map_or_else(|| "target".into(), |stem| stem.to_string_lossy());
            let folder = file.parent().unwrap_or(Path::new(""));
            folder.join(STATE_DIR).join(format!("{stem}.state.json"))
        }
        None => {
            let host: String = base_url
                .host_str()
                .unwrap_or("target")
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '.' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let port = base_url.port_or_known_default().unwrap_or(0);
            PathBuf::from(STATE_DIR).join(format!("{host}_{port}.state.json"))
        }
    }
}

/// Reads the state at `path` for the target at `base_url`; `None` when there is no file yet.
pub fn load(path: &Path, base_url: &str) -> Result<Option<TargetState>, StateError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(StateError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    let corrupt = |line: usize, column: usize, message: String| StateError::Corrupt {
        path: path.to_owned(),
        line,
        column,
        message,
    };
    let state: TargetState = serde_json::from_str(&text)
        .map_err(|error| corrupt(error.line(), error.column(), error.to_string()))?;
    if state.format != FORMAT || state.version != VERSION {
        return Err(corrupt(
            1,
            1,
            format!(
                "format {:?} version {}, expected {FORMAT:?} version {VERSION}",
                state.format, state.version
            ),
        ));
    }
    if state.base_url != base_url {
        return Err(StateError::Foreign {
            path: path.to_owned(),
            found: state.base_url,
            expected: base_url.to_owned(),
        });
    }
    Ok(Some(state))
}

/// Writes the state to `path` whole or not at all (a new file renamed over the old one), creating its folder.
pub fn save(path: &Path, state: &TargetState) -> Result<(), StateError> {
    let write_error = |source: std::io::Error| StateError::Write {
        path: path.to_owned(),
        source,
    };
    let folder = match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(folder).map_err(write_error)?;
    let mut file = tempfile::NamedTempFile::new_in(folder).map_err(write_error)?;
    let text = serde_json::to_string_pretty(state).map_err(|error| write_error(error.into()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .map_err(write_error)?;
    file.persist(path)
        .map_err(|error| write_error(error.error))?;
    Ok(())
}

/// Milliseconds since the Unix epoch, now.
pub fn now_unix_ms() -> u64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "http://127.0.0.1:8080/";

    fn sent(address: &str, at_unix_ms: u64, count: u64) -> SentSignups {
        SentSignups {
            address: address.to_owned(),
            at_unix_ms,
            count,
            counted: false,
        }
    }

    #[test]
    fn a_state_file_round_trips() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join(STATE_DIR).join("t.state.json");
        assert_eq!(load(&path, URL).unwrap(), None, "no file yet");
        let mut state = TargetState::new(URL);
        state.merge(
            [sent(DIRECT, 1_000, 3), sent("203.0.113.1", 2_000, 1)],
            2_000,
            60_000,
        );
        save(&path, &state).unwrap();
        assert_eq!(load(&path, URL).unwrap(), Some(state));
    }

    #[test]
    fn a_corrupt_file_is_an_error_with_its_line_and_column() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("t.state.json");
        std::fs::write(
            &path,
            "{\n  \"format\": \"authconform-state\",\n  \"version\": oops\n}",
        )
        .unwrap();
        let error = load(&path, URL).unwrap_err().to_string();
        assert!(error.contains("t.state.json:3:"), "{error}");
        assert!(error.contains("--no-state"), "{error}");
        std::fs::write(&path, "{\"format\": \"something-else\", \"version\": 1, \"base_url\": \"x\", \"signups\": []}").unwrap();
        let error = load(&path, URL).unwrap_err().to_string();
        assert!(error.contains("\"something-else\""), "{error}");
    }

    #[test]
    fn another_targets_file_is_refused() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("t.state.json");
        save(&path, &TargetState::new("http://127.0.0.1:9/")).unwrap();
        let error = load(&path, URL).unwrap_err();
        assert!(matches!(error, StateError::Foreign { .. }), "{error}");
        assert!(error.to_string().contains("http://127.0.0.1:9/"), "{error}");
    }

    #[test]
    fn only_what_is_still_inside_a_window_counts_and_is_kept() {
        let mut state = TargetState::new(URL);
        state.merge(
            [
                sent(DIRECT, 10_000, 2),
                sent(DIRECT, 50_000, 5),
                sent("203.0.113.4", 55_000, 1),
                sent("203.0.113.9", 1_000, 1),
            ],
            60_000,
            120_000,
        );
        assert_eq!(
            state.counting(DIRECT, 70_000, 60_000),
            vec![&sent(DIRECT, 50_000, 5)]
        );
        assert_eq!(state.busy_addresses(70_000, 60_000), vec!["203.0.113.4"]);
        state.merge([], 140_000, 120_000);
        assert_eq!(
            state.signups,
            vec![sent(DIRECT, 50_000, 5), sent("203.0.113.4", 55_000, 1)],
            "what was sent more than 120 s before is forgotten"
        );
    }

    #[test]
    fn the_default_place_is_beside_the_target_file() {
        let url: reqwest::Url = URL.parse().unwrap();
        assert_eq!(
            default_path(Some(Path::new("conf/staging.toml")), &url),
            Path::new("conf/.authconform/staging.state.json")
        );
        assert_eq!(
            default_path(None, &url),
            Path::new(".authconform/127.0.0.1_8080.state.json")
        );
    }
}
