//! Listings for people and scripts: the requirement catalogue with its coverage, and what `detect` found.
//! Each is JSON (serde's) or text; [`write_list`] picks.

use std::io::{self, Write};

use authconform_scenario::model::Suite;
use serde::Serialize;

use super::ListFormat;
use crate::detect::Detection;

/// `value` as pretty JSON, or as `human` writes it.
pub fn write_list<T: Serialize>(
    out: &mut dyn Write,
    format: ListFormat,
    value: &T,
    human: impl FnOnce(&mut dyn Write, &T) -> io::Result<()>,
) -> io::Result<()> {
    match format {
        ListFormat::Json => serde_json::to_writer_pretty(&mut *out, value)
            .map_err(io::Error::from)
            .and_then(|()| writeln!(out)),
        ListFormat::Human => human(out, value),
    }
}

/// One requirement of the catalogue, with the scenarios of the suite that cover it.
#[derive(Debug, Serialize)]
pub struct RequirementListing<'a> {
    pub id: &'a str,
    pub level: authconform_scenario::model::Level,
    pub profiles: &'a [authconform_scenario::model::Profile],
    pub title: &'a str,
    pub clause: &'a str,
    pub source: &'a str,
    pub scenarios: Vec<&'a str>,
}

/// Every requirement of the suite's catalogue, with its coverage.
pub fn requirement_listings(suite: &Suite) -> Vec<RequirementListing<'_>> {
    suite
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
        .collect()
}

/// The catalogue for people: each requirement, its profiles and the scenarios that cover it.
pub fn write_requirements(
    out: &mut dyn Write,
    listings: &[RequirementListing<'_>],
) -> io::Result<()> {
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

/// What `detect` found, for people: the target, each probe's answer, the profiles it matches.
pub fn write_detection(out: &mut dyn Write, detection: &Detection) -> io::Result<()> {
    writeln!(out, "{}", detection.target)?;
    for evidence in &detection.evidence {
        let status = evidence
            .status
            .map_or("no answer".to_owned(), |s| s.to_string());
        writeln!(
            out,
            "  {:<52} {:>9}  {}",
            evidence.request, status, evidence.observation
        )?;
    }
    match detection.profiles().as_slice() {
        [] => writeln!(out, "matches no documented profile"),
        profiles => writeln!(out, "matches: {}", profiles.join(", ")),
    }
}
