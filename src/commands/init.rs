//! `init`: a commented target file written from what probing the target finds.

use std::io::Write;

use crate::cli::InitArgs;
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
    let runtime = runtime()?;
    let (detection, clock) = runtime.block_on(async {
        let detection = crate::detect::detect(&target).await;
        let clock = crate::init::probe_test_clock(&target).await;
        (detection, clock)
    });
    let detection = detection?;
    let text = crate::init::target_file(&target, &detection, clock);
    let mut out = output::open(args.output.as_deref())?.writer;
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(CommandError::Write)?;
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
