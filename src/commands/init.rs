//! `init`: a commented target file written from what probing the target finds.

use std::io::Write;

use std::time::Duration;

use crate::cli::InitArgs;
use crate::detect::ForwardedFor;
use crate::measure::{self, MeasureOptions, Measurements};
use crate::report::output;

use super::setup::{detection_target, runtime};
use super::{CommandError, exit};

pub(super) fn init(args: &InitArgs) -> Result<u8, CommandError> {
    if !args.target.names_a_target() {
        return Err(CommandError::InitWithoutTarget);
    }
    if let Some(path) = &args.output
        && path.exists()
        && !args.force
    {
        return Err(CommandError::Exists { path: path.clone() });
    }
    let target = detection_target(&args.target)?;
    let state_beside = args
        .output
        .as_deref()
        .map(|path| super::state::beside_init_output(path, &target, args.force))
        .transpose()?;
    let runtime = runtime()?;
    let (detection, clock) = runtime.block_on(async {
        let detection = crate::detect::detect(&target).await;
        let clock = crate::init::probe_test_clock(&target).await;
        (detection, clock)
    });
    let detection = detection?;
    let measured = if args.measure_limits {
        let profiles = detection.profiles();
        let options = MeasureOptions {
            email_limit: profiles.contains(&"appmixer-cloud")
                && detection.declarations.value_of("signup_email").is_none(),
            identical_invalid_limit: profiles.contains(&"creditsafe-connect")
                && detection
                    .declarations
                    .value_of("cs_identical_invalid")
                    .is_none(),
            forwarded_for: !target.forwarded_for
                && matches!(detection.forwarded_for, ForwardedFor::Unknown { .. }),
            // A test clock does not move by itself: its windows are estimated, never waited out.
            max_wait: Duration::from_secs(if clock { 0 } else { args.max_wait }),
        };
        if options.email_limit || options.identical_invalid_limit {
            eprintln!("warning: {}", measure::cost(&options));
            runtime.block_on(measure::measure(&target, &options))
        } else {
            eprintln!(
                "--measure-limits: nothing to measure (the target declares its limits, or has neither the signup nor the identical-invalid limit)"
            );
            Measurements::default()
        }
    } else {
        Measurements::default()
    };
    let text = crate::init::target_file(&target, &detection, clock, &measured);
    let mut out = output::open(args.output.as_deref())?.writer;
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(CommandError::Write)?;
    if let Some(beside) = &state_beside {
        super::state::replace_beside_init_output(beside)?;
    }
    if let Some(path) = &args.output
        && !clock
    {
        // A run soon after starts its IP check only once these no longer count, instead of meeting the
        // IP limit early.
        super::state::remember_probes(
            path,
            &target,
            detection.signups_sent + measured.signups_sent,
            detection.declarations.ip_window_held(),
        )?;
    }
    if let Some(path) = &args.output {
        eprintln!(
            "wrote {} (matches: {}); check the lines marked CHECK, then: authconform run --target-file {}",
            path.display(),
            match detection.profiles().as_slice() {
                [] => "no documented profile".to_owned(),
                profiles => profiles.join(", "),
            },
            path.display()
        );
    }
    Ok(if detection.profiles().is_empty() {
        exit::FAILED
    } else {
        exit::PASSED
    })
}
