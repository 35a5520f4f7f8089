//! What the commands share: the async runtime and the target the flags describe.

use crate::target::{self, TargetDescription, TargetFlags};

use super::CommandError;

/// The runtime a command's requests run on.
pub(super) fn runtime() -> Result<tokio::runtime::Runtime, CommandError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CommandError::Runtime)
}

/// The runtime a load generator runs on: one thread (everything on it, no hand-offs between threads), or
/// `threads` workers.
pub(super) fn generator_runtime(threads: usize) -> Result<tokio::runtime::Runtime, CommandError> {
    let mut builder = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(threads);
        builder
    };
    builder.enable_all().build().map_err(CommandError::Runtime)
}

/// The target the flags describe; `None` when they describe none (the embedded default).
pub(super) fn explicit_target(
    target: &TargetFlags,
) -> Result<Option<TargetDescription>, CommandError> {
    if target.names_a_target() {
        Ok(Some(target::load(target)?))
    } else if let Some(flag) = target.first_target_flag() {
        Err(CommandError::TargetFlagWithoutTarget { flag })
    } else {
        Ok(None)
    }
}

/// The target `detect` and `init` probe: the flags' description, with any placeholder profile (detection is
/// what tells the profiles).
pub(super) fn detection_target(flags: &TargetFlags) -> Result<TargetDescription, CommandError> {
    let mut flags = flags.clone();
    if flags.profiles.is_empty() {
        flags
            .profiles
            .push(authconform_scenario::model::Profile::CreditsafeConnect);
    }
    Ok(target::load(&flags)?)
}

/// The stop a run's Ctrl-C fires: the first ends the waits and sends no further step (and stops a goose
/// attack under way), so the run still writes its reports and its state file with what was done; a second
/// quits at once. The process's one handler: set first, it keeps goose from setting its own, which would
/// stop only its attack and leave the run to be judged on part of a flood.
pub(super) fn stop_on_ctrl_c() -> crate::engine::Interrupt {
    let interrupt = crate::engine::Interrupt::default();
    let fired = interrupt.clone();
    let handler = ctrlc::set_handler(move || {
        if fired.fired() {
            std::process::exit(i32::from(super::exit::INTERRUPTED));
        }
        eprintln!(
            "interrupted: stopping, and writing what was done so far (Ctrl-C again quits at once)"
        );
        fired.fire();
        goose::trigger_killswitch("interrupted (Ctrl-C)");
    });
    if let Err(error) = handler {
        // Only a second call in one process gets here: the first handler stays.
        tracing::debug!("the Ctrl-C handler was already set: {error}");
    }
    interrupt
}
