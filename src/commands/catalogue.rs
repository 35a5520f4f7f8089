//! `requirements` and `check-scenarios`: the requirement catalogue with its coverage, and validation of
//! scenario files.

use std::io::{self, Write};

use crate::cli::{CheckScenariosArgs, RequirementsArgs};
use crate::report::{requirement_listings, write_list, write_requirements};
use crate::suite;

use super::{CommandError, exit};

pub(super) fn requirements(args: &RequirementsArgs) -> Result<u8, CommandError> {
    let suite = suite::load(&args.scenarios)?;
    let listings = requirement_listings(&suite);
    let mut out = io::stdout().lock();
    write_list(&mut out, args.format, &listings, |out, listings| {
        write_requirements(out, listings)
    })
    .and_then(|()| out.flush())
    .map_err(CommandError::Write)?;
    Ok(exit::PASSED)
}

pub(super) fn check_scenarios(args: &CheckScenariosArgs) -> Result<u8, CommandError> {
    let suite = suite::check_dir(&args.dir)?;
    let files: std::collections::BTreeSet<_> =
        suite.scenarios.iter().map(|s| &s.origin.file).collect();
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "ok: {} scenarios in {} files, {} requirements",
        suite.scenarios.len(),
        files.len(),
        suite.catalogue.requirements.len()
    )
    .and_then(|()| out.flush())
    .map_err(CommandError::Write)?;
    Ok(exit::PASSED)
}
