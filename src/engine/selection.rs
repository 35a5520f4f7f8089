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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use authconform_scenario::model::{Origin, Phase, Scenario};

    use super::*;

    fn scenario(name: &str, covers: &[&str], tags: &[&str]) -> Scenario {
        Scenario {
            name: name.into(),
            title: String::new(),
            covers: covers.iter().map(|c| (*c).to_owned()).collect(),
            profiles: Vec::new(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            requires: Vec::new(),
            phase: Phase::Normal,
            holds: Vec::new(),
            steps: Vec::new(),
            origin: Origin {
                file: PathBuf::new(),
                line: 1,
                column: 1,
            },
        }
    }

    #[test]
    fn globs_match_names_ids_and_tags() {
        let lockout = scenario(
            "creditsafe-lockout-after-threshold",
            &["CS-LOCKOUT-01"],
            &["lockout"],
        );
        let signin = scenario("signin-valid", &["AM-SIGNIN-01"], &[]);
        let only_cs = Selection::new(&["CS-*".into()], &[]).unwrap();
        assert!(only_cs.selects(&lockout) && !only_cs.selects(&signin));
        let skip_tag = Selection::new(&[], &["lockout".into()]).unwrap();
        assert!(!skip_tag.selects(&lockout) && skip_tag.selects(&signin));
        let by_name = Selection::new(&["signin-*".into()], &[]).unwrap();
        assert!(by_name.selects(&signin) && !by_name.selects(&lockout));
        assert!(Selection::all().selects(&lockout) && !Selection::all().is_narrowed());
    }

    #[test]
    fn a_bad_glob_names_its_flag() {
        let err = Selection::new(&["[".into()], &[]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("--only `[` is not a valid glob"),
            "{err}"
        );
    }
}
