//! Which scenarios a run selects: `--only` and `--skip` globs matched against scenario names, the
//! requirement ids they cover, and their tags.

use authconform_scenario::model::Scenario;
use globset::{Glob, GlobSet, GlobSetBuilder};

#[derive(Debug, Clone, Default)]
pub struct Selection {
    only: Option<GlobSet>,
    skip: Option<GlobSet>,
}

#[derive(Debug, thiserror::Error)]
#[error("{flag} `{pattern}` is not a valid glob")]
pub struct SelectionError {
    pub flag: &'static str,
    pub pattern: String,
    #[source]
    pub source: globset::Error,
}

impl Selection {
    /// Everything.
    pub fn all() -> Selection {
        Selection::default()
    }

    pub fn new(only: &[String], skip: &[String]) -> Result<Selection, SelectionError> {
        Ok(Selection {
            only: build("--only", only)?,
            skip: build("--skip", skip)?,
        })
    }

    /// Whether `--only` or `--skip` narrowed the run.
    pub fn is_narrowed(&self) -> bool {
        self.only.is_some() || self.skip.is_some()
    }

    pub fn selects(&self, scenario: &Scenario) -> bool {
        let matches = |set: &GlobSet| {
            set.is_match(&scenario.name)
                || scenario.covers.iter().any(|id| set.is_match(id))
                || scenario.tags.iter().any(|tag| set.is_match(tag))
        };
        self.only.as_ref().is_none_or(matches) && !self.skip.as_ref().is_some_and(matches)
    }
}

fn build(flag: &'static str, patterns: &[String]) -> Result<Option<GlobSet>, SelectionError> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = Glob::new(pattern).map_err(|source| SelectionError {
            flag,
            pattern: pattern.clone(),
            source,
        })?;
        builder.add(glob);
    }
    builder.build().map(Some).map_err(|source| SelectionError {
        flag,
        pattern: patterns.join(", "),
        source,
    })
}
