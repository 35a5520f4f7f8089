//! Parsing and validating scenario files against the catalogue, and assembling them into a [`Suite`]:
//! files and scenarios here, steps in [`steps`], expectations and matchers in [`expectations`].

mod expectations;
mod requests;
mod steps;
mod templates;
#[cfg(test)]
mod tests;
mod waits;

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};

use crate::catalogue_file::parse_profiles_spanned;
use crate::diagnostics::{Diagnostic, Diagnostics, Related, SourceFile, did_you_mean, suggest};
use crate::model::{
    Action, Blame, Body, Capability, Catalogue, Expectations, Hold, HoldMode, JsonTemplate,
    JsonType, JwtExpectation, Level, Matcher, Origin, Phase, Precondition, Profile, RequestSpec,
    RequestStep, Requirement, Resource, Scenario, StatusPattern, StatusSet, Step, Suite, Tally,
    Wait, WindowName, Within,
};
use crate::reader::{Reader, Value, describe, get};
use crate::template::Template;
use crate::template_syntax::{CapturedRef, RefKind, may_be_integer, parse_template_with_refs};
use steps::read_step;

const SCENARIO_FIELDS: &[&str] = &[
    "name",
    "title",
    "covers",
    "profiles",
    "level",
    "tags",
    "requires",
    "phase",
    "exclusive",
    "shared",
    "step",
];
const STEP_FIELDS: &[&str] = &[
    "name",
    "covers",
    "request",
    "repeat",
    "concurrency",
    "expect",
    "capture",
    "capture_response",
    "mark",
    "within",
    "reading",
    "precondition",
    "blame",
    "wait",
    "requires",
    "continue_on_failure",
    "skip_after_clock_boundary",
];
const REQUEST_FIELDS: &[&str] = &["method", "path", "headers", "json", "body", "content_type"];
const EXPECT_FIELDS: &[&str] = &[
    "status",
    "json",
    "message",
    "headers",
    "body_excludes",
    "same_as",
    "jwt",
    "tally",
    "connection",
    "retry_after",
    "ratelimit",
    "should",
];
const MATCHER_FIELDS: &[&str] = &[
    "type",
    "equals",
    "contains",
    "starts_with",
    "matches",
    "integer_range",
    "optional",
];
const WAIT_FIELDS: &[&str] = &[
    "window",
    "ms",
    "offset_ms",
    "minus_slack",
    "since",
    "percent",
    "empty_window",
];
const TYPES: &[&str] = &[
    "string", "number", "integer", "boolean", "null", "array", "object", "present", "absent",
];
/// Upper bounds that keep a scenario from asking for something absurd.
pub const MAX_REPEAT: i64 = 20_000;
pub const MAX_CONCURRENCY: i64 = 1024;

/// Per-scenario names defined so far, for forward-reference checks.
#[derive(Default)]
struct Names {
    captures: Vec<String>,
    responses: Vec<String>,
    marks: Vec<String>,
}

/// `requires = [...]` of a scenario or a step: capabilities by name.
fn read_requires(reader: &mut Reader, table: &DeTable<'_>) -> Vec<Capability> {
    get(table, "requires")
        .and_then(|value| reader.strings(value, "`requires`"))
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(name, span)| match Capability::parse(&name) {
            Some(capability) => Some(capability),
            None => {
                reader.error(
                    span,
                    format!("unknown capability `{name}`"),
                    Some(suggest(&name, &Capability::ALL.map(Capability::as_str))),
                );
                None
            }
        })
        .collect()
}

/// Parses one scenario file against a catalogue.
pub fn parse_scenario_file(
    path: &Path,
    text: &str,
    catalogue: &Catalogue,
) -> Result<Vec<Scenario>, Diagnostics> {
    let mut reader = Reader::new(SourceFile::new(path, text));
    let scenarios = read_file(&mut reader, text, catalogue);
    reader.diagnostics.sort_by_position();
    if reader.diagnostics.is_empty() {
        Ok(scenarios
            .into_iter()
            .map(|(scenario, _)| scenario)
            .collect())
    } else {
        Err(reader.diagnostics)
    }
}

/// Parses every file, checks names are unique across files, and orders the suite (normal scenarios in file
/// order, then lockout scenarios). Collects every diagnostic of every file.
pub fn assemble_suite(
    catalogue: Catalogue,
    files: Vec<(PathBuf, String)>,
) -> Result<Suite, Diagnostics> {
    let mut diagnostics = Diagnostics::default();
    let mut all: Vec<(Scenario, SourceFile, Range<usize>)> = Vec::new();
    for (path, text) in &files {
        let mut reader = Reader::new(SourceFile::new(path, text));
        let scenarios = read_file(&mut reader, text, &catalogue);
        for (scenario, name_span) in scenarios {
            all.push((scenario, reader.file.clone(), name_span));
        }
        reader.diagnostics.sort_by_position();
        diagnostics.extend(reader.diagnostics);
    }
    let mut first: HashMap<String, (SourceFile, Range<usize>)> = HashMap::new();
    for (scenario, file, span) in &all {
        match first.get(&scenario.name) {
            Some((first_file, first_span)) => diagnostics.push(
                Diagnostic::new(
                    file,
                    span.clone(),
                    format!("scenario name `{}` is used twice", scenario.name),
                )
                .label("second use")
                .hint(Some(
                    "scenario names are unique across the suite and every --scenarios directory"
                        .into(),
                ))
                .related(Related {
                    file: first_file.clone(),
                    span: first_span.clone(),
                    label: "first used here".into(),
                }),
            ),
            None => {
                first.insert(scenario.name.clone(), (file.clone(), span.clone()));
            }
        }
    }
    if !diagnostics.is_empty() {
        return Err(diagnostics);
    }
    let (normal, lockout): (Vec<Scenario>, Vec<Scenario>) = all
        .into_iter()
        .map(|(scenario, _, _)| scenario)
        .partition(|scenario| scenario.phase == Phase::Normal);
    Ok(Suite {
        catalogue,
        scenarios: normal.into_iter().chain(lockout).collect(),
    })
}

/// Every valid scenario of a file, each with the span of its `name` value.
fn read_file(
    reader: &mut Reader,
    text: &str,
    catalogue: &Catalogue,
) -> Vec<(Scenario, Range<usize>)> {
    let Some(root) = reader.parse(text) else {
        return Vec::new();
    };
    let root = root.into_inner();
    reader.check_keys(&root, &["scenario"], "top-level");
    let Some(scenarios) = get(&root, "scenario") else {
        reader.error(
            0..0,
            "this file has no `[[scenario]]`",
            Some("a scenario file holds one or more `[[scenario]]` tables (see docs/scenario-format.md)".into()),
        );
        return Vec::new();
    };
    let Some(scenarios) = reader.array(scenarios, "`scenario`") else {
        return Vec::new();
    };
    scenarios
        .iter()
        .filter_map(|value| read_scenario(reader, value, catalogue))
        .collect()
}

fn origin(reader: &Reader, span: &Range<usize>) -> Origin {
    let (line, column) = reader.file.line_col(span.start);
    Origin {
        file: reader.file.path.clone(),
        line,
        column,
    }
}

fn required<'t, 'i>(
    reader: &mut Reader,
    table: &'t DeTable<'i>,
    key: &str,
    span: &Range<usize>,
    what: &str,
) -> Option<&'t Value<'i>> {
    let value = get(table, key);
    if value.is_none() {
        let span = reader.first_line(span);
        reader.error(span, format!("{what} has no `{key}`"), None);
    }
    value
}

fn read_scenario(
    reader: &mut Reader,
    value: &Value<'_>,
    catalogue: &Catalogue,
) -> Option<(Scenario, Range<usize>)> {
    let span = value.span();
    let table = reader.table(value, "each `[[scenario]]`")?;
    let errors_before = reader.diagnostics.len();
    reader.check_keys(table, SCENARIO_FIELDS, "scenario");
    let name = required(reader, table, "name", &span, "this scenario").and_then(|v| {
        let name = reader.string(v, "`name`")?;
        let valid = !name.is_empty()
            && name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
        if !valid {
            reader.error(
                v.span(),
                format!("`{name}` is not a kebab-case name"),
                Some(
                    "use lower-case letters, digits and `-`, e.g. `signin-requires-password`"
                        .into(),
                ),
            );
        }
        Some(name)
    });
    let title = required(reader, table, "title", &span, "this scenario")
        .and_then(|v| reader.string(v, "`title`"));
    let covers = required(reader, table, "covers", &span, "this scenario")
        .and_then(|v| read_covers(reader, v, catalogue, None));
    if let Some(value) = get(table, "covers")
        && let DeValue::Array(items) = value.get_ref()
        && items.is_empty()
    {
        reader.error(
            value.span(),
            "a scenario must cover at least one requirement",
            Some(
                "list requirement ids from the catalogue, e.g. `covers = [\"CS-INVALID-01\"]`"
                    .into(),
            ),
        );
    }
    let covers = covers.unwrap_or_default();
    let covered: Vec<&Requirement> = covers.iter().filter_map(|id| catalogue.get(id)).collect();
    let mut allowed_profiles: Vec<Profile> = Vec::new();
    for requirement in &covered {
        for profile in &requirement.profiles {
            if !allowed_profiles.contains(profile) {
                allowed_profiles.push(*profile);
            }
        }
    }
    allowed_profiles.sort();
    let profiles = match get(table, "profiles") {
        Some(value) => {
            let profiles = parse_profiles_spanned(reader, value).unwrap_or_default();
            check_scenario_profiles(reader, value, &profiles, &covered, &allowed_profiles);
            profiles.into_iter().map(|(profile, _)| profile).collect()
        }
        None => allowed_profiles.clone(),
    };
    if let Some(value) = get(table, "level")
        && let Some(level) = reader.string(value, "`level`")
    {
        let level = match level.as_str() {
            "must" => Some(Level::Must),
            "should" => Some(Level::Should),
            other => {
                reader.error(
                    value.span(),
                    format!("unknown level `{other}`"),
                    Some(suggest(other, &["must", "should"])),
                );
                None
            }
        };
        if let Some(level) = level {
            for requirement in &covered {
                if requirement.level != level {
                    reader.error(
                        value.span(),
                        format!(
                            "`{}` is a {} requirement",
                            requirement.id,
                            requirement.level.keyword()
                        ),
                        Some("drop `level` or make it match every covered requirement".into()),
                    );
                }
            }
        }
    }
    let tags = get(table, "tags")
        .and_then(|value| reader.strings(value, "`tags`"))
        .map(|tags| tags.into_iter().map(|(tag, _)| tag).collect())
        .unwrap_or_default();
    let requires = read_requires(reader, table);
    let phase = match get(table, "phase") {
        Some(value) => match reader.string(value, "`phase`").as_deref() {
            Some("normal") => Phase::Normal,
            Some("lockout") => Phase::Lockout,
            Some(other) => {
                reader.error(
                    value.span(),
                    format!("unknown phase `{other}`"),
                    Some(suggest(other, &["normal", "lockout"])),
                );
                Phase::Normal
            }
            None => Phase::Normal,
        },
        None => Phase::Normal,
    };
    let mut holds = Vec::new();
    for (field, mode) in [
        ("exclusive", HoldMode::Exclusive),
        ("shared", HoldMode::Shared),
    ] {
        let names = get(table, field)
            .and_then(|value| reader.strings(value, &format!("`{field}`")))
            .unwrap_or_default();
        for (name, span) in names {
            match Resource::parse(&name) {
                Some(resource) => holds.push(Hold { resource, mode }),
                None => reader.error(
                    span,
                    format!("unknown resource `{name}`"),
                    Some("expected `client-address` or `endpoint:/path`".into()),
                ),
            }
        }
    }
    let mut steps = Vec::new();
    if let Some(value) = required(reader, table, "step", &span, "this scenario")
        && let Some(items) = reader.array(value, "`step`")
    {
        if items.is_empty() {
            reader.error(value.span(), "a scenario needs at least one step", None);
        }
        let mut names = Names::default();
        for (index, item) in items.iter().enumerate() {
            if let Some(step) = read_step(reader, item, index, &covers, catalogue, &mut names) {
                steps.push(step);
            }
        }
    }
    if reader.diagnostics.len() > errors_before {
        return None;
    }
    let name_span = get(table, "name").map_or(span.start..span.start, |v| v.span());
    let scenario = Scenario {
        name: name?,
        title: title?,
        covers,
        profiles,
        tags,
        requires,
        phase,
        holds,
        steps,
        origin: origin(reader, &span),
    };
    Some((scenario, name_span))
}

/// A scenario's own `profiles` must be profiles of its requirements (a subset of their union) and must
/// leave every covered requirement at least one profile to be judged on.
fn check_scenario_profiles(
    reader: &mut Reader,
    value: &Value<'_>,
    profiles: &[(Profile, Range<usize>)],
    covered: &[&Requirement],
    allowed: &[Profile],
) {
    if covered.is_empty() || profiles.is_empty() {
        return;
    }
    let names = |list: &mut dyn Iterator<Item = Profile>| -> String {
        list.map(|p| format!("`{p}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut outside = false;
    for (profile, span) in profiles {
        if !allowed.contains(profile) {
            outside = true;
            reader.error(
                span.clone(),
                format!("profile `{profile}` is not a profile of the covered requirements"),
                Some(format!(
                    "the covered requirements apply to {}",
                    names(&mut allowed.iter().copied())
                )),
            );
        }
    }
    if outside {
        return;
    }
    for requirement in covered {
        if !profiles
            .iter()
            .any(|(profile, _)| requirement.profiles.contains(profile))
        {
            reader.error(
                value.span(),
                format!(
                    "`{}` applies to none of this scenario's profiles",
                    requirement.id
                ),
                Some(format!(
                    "`{}` applies to {}; add one of them or cover it in another scenario",
                    requirement.id,
                    names(&mut requirement.profiles.iter().copied())
                )),
            );
        }
    }
}

/// One requirement id from the catalogue (`precondition.requirement`, `blame.requirement`).
fn read_requirement_id(
    reader: &mut Reader,
    value: &Value<'_>,
    catalogue: &Catalogue,
    what: &str,
) -> Option<String> {
    let id = reader.string(value, what)?;
    if catalogue.get(&id).is_some() {
        return Some(id);
    }
    let known = catalogue.requirements.iter().map(|r| r.id.as_str());
    reader.error(
        value.span(),
        format!("unknown requirement id `{id}`"),
        Some(
            did_you_mean(&id, known)
                .unwrap_or_else(|| "see `authconform requirements` for every id".into()),
        ),
    );
    None
}

/// Requirement ids, each in the catalogue (and, for a step, among the scenario's).
fn read_covers(
    reader: &mut Reader,
    value: &Value<'_>,
    catalogue: &Catalogue,
    scenario_covers: Option<&[String]>,
) -> Option<Vec<String>> {
    let ids = reader.strings(value, "`covers`")?;
    let mut covers = Vec::new();
    for (id, span) in ids {
        if catalogue.get(&id).is_none() {
            let known: Vec<&str> = catalogue
                .requirements
                .iter()
                .map(|r| r.id.as_str())
                .collect();
            reader.error(
                span,
                format!("unknown requirement id `{id}`"),
                Some(
                    did_you_mean(&id, known.iter().copied())
                        .unwrap_or_else(|| "see `authconform requirements` for every id".into()),
                ),
            );
            continue;
        }
        if let Some(scenario_covers) = scenario_covers
            && !scenario_covers.contains(&id)
        {
            reader.error(
                span,
                format!("`{id}` is not among the scenario's `covers`"),
                Some("a step may only judge requirements its scenario covers".into()),
            );
            continue;
        }
        if !covers.contains(&id) {
            covers.push(id);
        }
    }
    Some(covers)
}

/// Whether `table` has an unknown key that is a misspelling of one of `wanted` (already reported by
/// `check_keys`, so a "missing" diagnostic would only repeat it).
fn has_misspelt(table: &DeTable<'_>, known: &[&str], wanted: &[&str]) -> bool {
    table.keys().any(|key| {
        !known.contains(&key.get_ref().as_ref())
            && did_you_mean(key.get_ref(), wanted.iter().copied()).is_some()
    })
}
