//! The state file around a run: where it lives for the flags, what earlier runs left (read before the run
//! and `plan`), and what this run adds (written after it), or what `init`'s probes sent.

use std::path::PathBuf;

use crate::cli::StateFlags;
use crate::engine::RunReport;
use crate::target::state::{self, SentSignups, TargetState};
use crate::target::{ClockMode, TargetDescription, TargetFlags};

use super::CommandError;

/// How long a signup is kept after it was sent: beyond any window it may count toward, with room for a
/// fixed window's edge.
const KEEP_BEYOND_WINDOW_MS: u64 = 60_000;

/// Where the target's state file is, or `None` when the run keeps none (`--no-state`, or a test clock,
/// whose time is not the wall clock's).
pub(super) fn state_path(
    flags: &StateFlags,
    target_flags: &TargetFlags,
    target: &TargetDescription,
) -> Option<PathBuf> {
    if flags.no_state || target.clock != ClockMode::Real {
        return None;
    }
    Some(flags.state.clone().unwrap_or_else(|| {
        state::default_path(target_flags.target_file.as_deref(), &target.base_url)
    }))
}

/// What earlier runs left on the target (an empty state when the file does not exist yet).
pub(super) fn earlier(
    path: Option<&PathBuf>,
    target: &TargetDescription,
) -> Result<Option<TargetState>, CommandError> {
    let Some(path) = path else {
        return Ok(None);
    };
    let base_url = target.base_url.as_str();
    Ok(Some(
        state::load(path, base_url)?.unwrap_or_else(|| TargetState::new(base_url)),
    ))
}

/// Adds what the run sent to the earlier state and writes it, forgetting what no longer counts.
pub(super) fn remember(
    path: Option<&PathBuf>,
    earlier: Option<TargetState>,
    target: &TargetDescription,
    report: &RunReport,
) -> Result<(), CommandError> {
    let (Some(path), Some(mut state)) = (path, earlier) else {
        return Ok(());
    };
    let sent = report
        .targets
        .iter()
        .flat_map(|target| target.sent_signups.iter().cloned());
    state.merge(sent, state::now_unix_ms(), keep_ms(target));
    for target in &report.targets {
        state.request_costs.extend(target.request_costs.clone());
    }
    state::save(path, &state)?;
    Ok(())
}

/// What `init --output FILE` does with the state file beside FILE, decided before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum StateBeside {
    /// None yet, or this target's own: the probes' signups are added to it.
    Kept,
    /// Another target's state, or one this build cannot read (`holds` says which), replaced with `--force`
    /// once the new target file is written.
    Replaced { path: PathBuf, holds: String },
}

/// Checks the state file beside `target_file` before `init` probes anything: another target's state (the
/// one the file described before) or an unreadable one stops `init` unless `force` replaces it, so a
/// refusal leaves the folder as it was and sends nothing.
pub(super) fn beside_init_output(
    target_file: &std::path::Path,
    target: &TargetDescription,
    force: bool,
) -> Result<StateBeside, CommandError> {
    let path = state::default_path(Some(target_file), &target.base_url);
    let holds = match state::load(&path, target.base_url.as_str()) {
        Ok(_) => return Ok(StateBeside::Kept),
        Err(state::StateError::Foreign { found, .. }) => format!("the state of {found}"),
        Err(state::StateError::Corrupt { message, .. }) => {
            format!("a state file this build cannot read ({message})")
        }
        Err(other) => return Err(other.into()),
    };
    if force {
        Ok(StateBeside::Replaced { path, holds })
    } else {
        Err(CommandError::InitOverState {
            output: target_file.to_owned(),
            state: path,
            holds,
            expected: target.base_url.to_string(),
        })
    }
}

/// Removes the state file `init --force` replaces; said on stderr, never silently.
pub(super) fn replace_beside_init_output(beside: &StateBeside) -> Result<(), CommandError> {
    let StateBeside::Replaced { path, holds } = beside else {
        return Ok(());
    };
    match std::fs::remove_file(path) {
        Ok(()) => {
            eprintln!("replaced {}: it held {holds}", path.display());
            Ok(())
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(state::StateError::Write {
            path: path.clone(),
            source,
        }
        .into()),
    }
}

/// Keeps `signups` that probes (`init`) just sent from the runner's own address in the state file that
/// `run --target-file TARGET_FILE` reads. Whether each counts is not known, so none is counted in; when
/// the target said what its IP window held (`ip_window_held`, from its `RateLimit` fields), that is kept
/// too, so `plan` expects the run to read it again and count them in.
pub(super) fn remember_probes(
    target_file: &std::path::Path,
    target: &TargetDescription,
    signups: u64,
    ip_window_held: Option<u64>,
) -> Result<(), CommandError> {
    if signups == 0 {
        return Ok(());
    }
    let path = state::default_path(Some(target_file), &target.base_url);
    let base_url = target.base_url.as_str();
    let mut kept = state::load(&path, base_url)?.unwrap_or_else(|| TargetState::new(base_url));
    let now = state::now_unix_ms();
    kept.merge(
        [SentSignups {
            address: state::DIRECT.to_owned(),
            at_unix_ms: now,
            count: signups,
            counted: false,
        }],
        now,
        keep_ms(target),
    );
    kept.ip_window_read = ip_window_held.map(|held| state::WindowRead {
        at_unix_ms: now,
        held,
    });
    state::save(&path, &kept)?;
    Ok(())
}

/// How long the state file keeps a signup after it was sent: beyond the longer signup window.
fn keep_ms(target: &TargetDescription) -> u64 {
    let limits = &target.limits;
    limits
        .signup_ip_window_ms
        .max(limits.signup_email_window_ms)
        .saturating_add(KEEP_BEYOND_WINDOW_MS)
}
