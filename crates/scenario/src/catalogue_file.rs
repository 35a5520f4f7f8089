//! Parsing and validating the requirement catalogue (`requirements.toml`).

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use crate::diagnostics::{Diagnostic, Diagnostics, Related, SourceFile, suggest};
use crate::model::{Catalogue, Level, Profile, Requirement};
use crate::reader::{Reader, get};

const REQUIREMENT_FIELDS: &[&str] = &[
    "id",
    "level",
    "profiles",
    "requirement",
    "clause",
    "source",
    "accept",
];
const PROFILE_NAMES: &[&str] = &[
    "appmixer-5.1",
    "appmixer-6",
    "appmixer-cloud",
    "creditsafe-connect",
];

/// Parses a requirement catalogue.
pub fn parse_catalogue(path: &Path, text: &str) -> Result<Catalogue, Diagnostics> {
    let mut reader = Reader::new(SourceFile::new(path, text));
    let Some(root) = reader.parse(text) else {
        return Err(reader.diagnostics);
    };
    let root_span = root.span();
    let root = root.into_inner();
    reader.check_keys(&root, &["requirement"], "catalogue");
    let mut catalogue = Catalogue::default();
    let Some(entries) = get(&root, "requirement") else {
        reader.error(
            root_span.start..root_span.start,
            "the catalogue has no `[[requirement]]` entries",
            Some("add one `[[requirement]]` table per requirement id".into()),
        );
        reader.diagnostics.sort_by_position();
        return Err(reader.diagnostics);
    };
    let mut seen: HashMap<String, Range<usize>> = HashMap::new();
    if let Some(entries) = reader.array(entries, "`requirement`") {
        for entry in entries {
            let Some(table) = reader.table(entry, "each `[[requirement]]`") else {
                continue;
            };
            reader.check_keys(table, REQUIREMENT_FIELDS, "requirement");
            let text_field = |reader: &mut Reader, key: &str| -> Option<String> {
                match get(table, key) {
                    Some(value) => reader.string(value, &format!("`{key}`")),
                    None => {
                        reader.error(
                            reader.first_line(&entry.span()),
                            format!("this requirement has no `{key}`"),
                            None,
                        );
                        None
                    }
                }
            };
            let id = text_field(&mut reader, "id");
            let level = text_field(&mut reader, "level");
            let requirement = text_field(&mut reader, "requirement");
            let clause = text_field(&mut reader, "clause");
            let source = text_field(&mut reader, "source");
            let accept = get(table, "accept").and_then(|value| reader.string(value, "`accept`"));
            let level = level.and_then(|level| match level.as_str() {
                "must" => Some(Level::Must),
                "should" => Some(Level::Should),
                other => {
                    let span = get(table, "level").map_or(entry.span(), |v| v.span());
                    reader.error(
                        span,
                        format!("unknown level `{other}`"),
                        Some(suggest(other, &["must", "should"])),
                    );
                    None
                }
            });
            let profiles = match get(table, "profiles") {
                Some(value) => parse_profiles(&mut reader, value),
                None => {
                    reader.error(
                        reader.first_line(&entry.span()),
                        "this requirement has no `profiles`",
                        None,
                    );
                    None
                }
            };
            if let Some(id) = &id {
                let span = get(table, "id").map_or(entry.span(), |v| v.span());
                if !valid_id(id) {
                    reader.error(
                        span.clone(),
                        format!("`{id}` is not a requirement id"),
                        Some(
                            "ids are upper-case words and a two-digit number, e.g. `CS-INVALID-01`"
                                .into(),
                        ),
                    );
                }
                if let Some(first) = seen.get(id) {
                    let related = Related {
                        file: reader.file.clone(),
                        span: first.clone(),
                        label: "first defined here".into(),
                    };
                    let diagnostic = Diagnostic::new(
                        &reader.file,
                        span,
                        format!("requirement `{id}` is defined twice"),
                    )
                    .related(related);
                    reader.push(diagnostic);
                } else {
                    seen.insert(id.clone(), span);
                }
            }
            if let (
                Some(id),
                Some(level),
                Some(profiles),
                Some(requirement),
                Some(clause),
                Some(source),
            ) = (id, level, profiles, requirement, clause, source)
            {
                catalogue.requirements.push(Requirement {
                    id,
                    level,
                    profiles,
                    requirement,
                    clause,
                    source,
                    accept,
                });
            }
        }
    }
    reader.diagnostics.sort_by_position();
    if reader.diagnostics.is_empty() {
        Ok(catalogue)
    } else {
        Err(reader.diagnostics)
    }
}

/// A non-empty array of known profile names, without duplicates.
pub(crate) fn parse_profiles(
    reader: &mut Reader,
    value: &crate::reader::Value<'_>,
) -> Option<Vec<Profile>> {
    parse_profiles_spanned(reader, value)
        .map(|profiles| profiles.into_iter().map(|(profile, _)| profile).collect())
}

/// [`parse_profiles`], keeping where each profile is written.
pub(crate) fn parse_profiles_spanned(
    reader: &mut Reader,
    value: &crate::reader::Value<'_>,
) -> Option<Vec<(Profile, Range<usize>)>> {
    let names = reader.strings(value, "`profiles`")?;
    if names.is_empty() {
        reader.error(
            value.span(),
            "`profiles` must name at least one profile",
            Some(format!("profiles: {}", PROFILE_NAMES.join(", "))),
        );
        return None;
    }
    let mut profiles: Vec<(Profile, Range<usize>)> = Vec::new();
    let mut ok = true;
    for (name, span) in names {
        match Profile::parse(&name) {
            Some(profile) if !profiles.iter().any(|(p, _)| *p == profile) => {
                profiles.push((profile, span));
            }
            Some(_) => {
                reader.error(span, format!("profile `{name}` is listed twice"), None);
                ok = false;
            }
            None => {
                reader.error(
                    span,
                    format!("unknown profile `{name}`"),
                    Some(suggest(&name, PROFILE_NAMES)),
                );
                ok = false;
            }
        }
    }
    ok.then_some(profiles)
}

fn valid_id(id: &str) -> bool {
    let mut parts: Vec<&str> = id.split('-').collect();
    let Some(number) = parts.pop() else {
        return false;
    };
    !parts.is_empty()
        && number.len() == 2
        && number.chars().all(|c| c.is_ascii_digit())
        && parts
            .iter()
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_uppercase()))
}
