//! `completions` and `man`: shell completion scripts and manual pages generated from the CLI's definition.

use std::io::{self, Write};

use crate::cli::{Cli, CompletionsArgs, ManArgs};
use crate::report::output::OutputError;

use super::{CommandError, exit};

pub(super) fn completions(args: &CompletionsArgs) -> Result<u8, CommandError> {
    use clap::CommandFactory;
    // Generated into memory first: clap_complete panics when its writer fails (`| head`).
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "authconform", &mut script);
    let mut out = io::stdout().lock();
    out.write_all(&script)
        .and_then(|()| out.flush())
        .map_err(CommandError::Write)?;
    Ok(exit::PASSED)
}

pub(super) fn man(args: &ManArgs) -> Result<u8, CommandError> {
    use clap::CommandFactory;
    let command = Cli::command();
    match &args.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .and_then(|()| clap_mangen::generate_to(command, dir))
                .map_err(|source| OutputError {
                    path: dir.clone(),
                    source,
                })?;
        }
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(command)
                .render(&mut page)
                .map_err(CommandError::Write)?;
            let mut out = io::stdout().lock();
            out.write_all(&page)
                .and_then(|()| out.flush())
                .map_err(CommandError::Write)?;
        }
    }
    Ok(exit::PASSED)
}
