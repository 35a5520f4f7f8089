//! `requirements` and `check-scenarios`: the requirement catalogue with its coverage, and validation of
//! scenario files.

use std::io::{self, Write};

use serde::Serialize;

use crate::cli::{CheckScenariosArgs, ListFormat, RequirementsArgs};
use crate::suite;

use super::{CommandError, exit};

#[derive(Debug, Serialize)]
struct RequirementListing<'a> {
    id: &'a str,
    level: authconform_scenario::model::Level,
    profiles: &'a [authconform_scenario::model::Profile],
    title: &'a str,
    clause: &'a str,
    source: &'a str,
    scenarios: Vec<&'a str>,
}

pub(super) fn requirements(args: &RequirementsArgs) -> Result<u8, CommandError> {
    let suite = suite::load(&args.scenarios)?;
    let listings: Vec<RequirementListing<'_>> = suite
        .catalogue
        .requirements
        .iter()
        .map(|r| RequirementListing {
            id: &r.id,
            level: r.level,
            profiles: &r.profiles,
            title: &r.requirement,
            clause: &r.clause,
            source: &r.source,
            scenarios: suite
                .scenarios
                .iter()
                .filter(|s| s.covers.contains(&r.id))
                .map(|s| s.name.as_str())
                .collect(),
        })
        .collect();
    let mut out = io::stdout().lock();
    let written = match args.format {
        ListFormat::Json => serde_json::to_writer_pretty(&mut out, &listings)
            .map_err(io::Error::from)
            .and_then(|()| writeln!(out)),
        ListFormat::Human => write_requirements(&mut out, &listings),
    };
    written
        .and_then(|()| out.flush())
        .map_err(CommandError::Write)?;
    Ok(exit::PASSED)
}

fn write_requirements(out: &mut dyn Write, listings: &[RequirementListing<'_>]) -> io::Result<()> {
    let uncovered = listings.iter().filter(|l| l.scenarios.is_empty()).count();
    for listing in listings {
        let level = listing.level.as_str();
        let profiles: Vec<&str> = listing.profiles.iter().map(|p| p.as_str()).collect();
        writeln!(out, "{:<16} {level:<6} {}", listing.id, listing.title)?;
        writeln!(out, "{:<23} profiles: {}", "", profiles.join(", "))?;
        if listing.scenarios.is_empty() {
            writeln!(out, "{:<23} scenarios: (none)", "")?;
        } else {
            writeln!(
                out,
                "{:<23} scenarios: {}",
                "",
                listing.scenarios.join(", ")
            )?;
        }
    }
    writeln!(
        out,
        "{} requirements, {} covered by no scenario",
        listings.len(),
        uncovered
    )
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
