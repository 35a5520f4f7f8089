//! `detect`: which documented profiles a target matches, with the evidence.

use std::io::Write;

use crate::cli::DetectArgs;
use crate::report::{output, write_detection, write_list};

use super::setup::{detection_target, runtime};
use super::{CommandError, exit};

pub(super) fn detect(args: &DetectArgs) -> Result<u8, CommandError> {
    if !args.target.names_a_target() {
        return Err(CommandError::DetectWithoutTarget);
    }
    let target = detection_target(&args.target)?;
    let runtime = runtime()?;
    let detection = runtime.block_on(crate::detect::detect(&target))?;
    let mut out = output::open(None)?.writer;
    write_list(&mut out, args.format, &detection, |out, detection| {
        write_detection(out, detection)
    })
    .and_then(|()| out.flush())
    .map_err(CommandError::Write)?;
    Ok(if detection.profiles().is_empty() {
        exit::FAILED
    } else {
        exit::PASSED
    })
}
