//! `detect`: which documented profiles a target matches, with the evidence.

use std::io::{self, Write};

use crate::cli::{DetectArgs, ListFormat};
use crate::report::output;

use super::execute::{detection_target, runtime};
use super::{CommandError, exit};

pub(super) fn detect(args: &DetectArgs) -> Result<u8, CommandError> {
    if !args.target.names_a_target() {
        return Err(CommandError::DetectWithoutTarget);
    }
    let target = detection_target(&args.target)?;
    let runtime = runtime()?;
    let detection = runtime.block_on(crate::detect::detect(&target))?;
    let mut out = output::open(None)?.writer;
    let written = match args.format {
        ListFormat::Json => serde_json::to_writer_pretty(&mut out, &detection)
            .map_err(io::Error::from)
            .and_then(|()| writeln!(out)),
        ListFormat::Human => detection.write_human(&mut out),
    };
    written
        .and_then(|()| out.flush())
        .map_err(CommandError::Write)?;
    Ok(if detection.profiles().is_empty() {
        exit::FAILED
    } else {
        exit::PASSED
    })
}
