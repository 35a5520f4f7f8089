//! Parsing and validating scenario files against the catalogue, and assembling them into a [`Suite`].

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};

use crate::catalogue_file::parse_profiles_spanned;
use crate::diagnostics::{Diagnostic, Diagnostics, Related, SourceFile, did_you_mean, suggest};
use crate::model::{
    Action, Body, Capability, Catalogue, Expectations, JsonTemplate, JsonType, JwtExpectation,
    Level, Matcher, Origin, Phase, Profile, RequestSpec, RequestStep, Requirement, Scenario,
    StatusPattern, StatusSet, Step, Suite, Tally, Wait, WindowName, Within,
};
use crate::reader::{Reader, Value, describe, get};
use crate::template::Template;
use crate::template_syntax::{CapturedRef, may_be_integer, parse_template_with_refs};

const SCENARIO_FIELDS: &[&str] = &[
    "name", "title", "covers", "profiles", "level", "tags", "requires", "phase", "step",
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
    "wait",
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
const WAIT_FIELDS: &[&str] = &["window", "ms", "offset_ms", "minus_slack"];
const CAPABILITIES: &[&str] = &[
    "clock-control",
    "open-signup",
    "create-scope",
    "admin-account",
    "creditsafe-account",
    "token-secret",
    "forwarded-for",
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
                            level_name(requirement.level)
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
    let requires = get(table, "requires")
        .and_then(|value| reader.strings(value, "`requires`"))
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(name, span)| match capability(&name) {
            Some(capability) => Some(capability),
            None => {
                reader.error(
                    span,
                    format!("unknown capability `{name}`"),
                    Some(suggest(&name, CAPABILITIES)),
                );
                None
            }
        })
        .collect();
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

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Must => "MUST",
        Level::Should => "SHOULD",
    }
}

fn capability(name: &str) -> Option<Capability> {
    Some(match name {
        "clock-control" => Capability::ClockControl,
        "open-signup" => Capability::OpenSignup,
        "create-scope" => Capability::CreateScope,
        "admin-account" => Capability::AdminAccount,
        "creditsafe-account" => Capability::CreditsafeAccount,
        "token-secret" => Capability::TokenSecret,
        "forwarded-for" => Capability::ForwardedFor,
        _ => return None,
    })
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

fn read_step(
    reader: &mut Reader,
    value: &Value<'_>,
    index: usize,
    scenario_covers: &[String],
    catalogue: &Catalogue,
    names: &mut Names,
) -> Option<Step> {
    let span = value.span();
    let table = reader.table(value, "each `[[scenario.step]]`")?;
    let errors_before = reader.diagnostics.len();
    reader.check_keys(table, STEP_FIELDS, "step");
    let name = get(table, "name")
        .and_then(|v| reader.string(v, "`name`"))
        .unwrap_or_else(|| format!("step {}", index + 1));
    let covers = match get(table, "covers") {
        Some(value) => {
            read_covers(reader, value, catalogue, Some(scenario_covers)).unwrap_or_default()
        }
        None => scenario_covers.to_vec(),
    };
    let action = match (get(table, "request"), get(table, "wait")) {
        (Some(request), Some(wait)) => {
            reader.error(
                wait.span(),
                "a step is a request or a wait, not both",
                Some(format!(
                    "move the wait into its own step (request at {})",
                    reader.file.line_col(request.span().start).0
                )),
            );
            None
        }
        (None, Some(wait)) => {
            for key in [
                "repeat",
                "concurrency",
                "expect",
                "capture",
                "capture_response",
                "within",
                "reading",
            ] {
                if let Some((key_value, _)) = table.get_key_value(key) {
                    reader.error(
                        key_value.span(),
                        format!("`{key}` belongs to a request step, not a wait"),
                        None,
                    );
                }
            }
            if let Some((mark, value)) = table.get_key_value("mark") {
                let _ = value;
                reader.error(
                    mark.span(),
                    "`mark` belongs to a request step, not a wait",
                    None,
                );
            }
            read_wait(reader, wait).map(Action::Wait)
        }
        (Some(request), None) => read_request_step(reader, table, request, names)
            .map(|step| Action::Request(Box::new(step))),
        (None, None) => {
            // A misspelt `request` or `wait` already has its diagnostic.
            if has_misspelt(table, STEP_FIELDS, &["request", "wait"]) {
                return None;
            }
            reader.error(
                reader.first_line(&span),
                "this step has neither `request` nor `wait`",
                Some("add `request.method` and `request.path`, or `wait.window`".into()),
            );
            None
        }
    };
    if reader.diagnostics.len() > errors_before {
        return None;
    }
    Some(Step {
        name,
        covers,
        action: action?,
        origin: origin(reader, &span),
    })
}

/// Whether `table` has an unknown key that is a misspelling of one of `wanted` (already reported by
/// `check_keys`, so a "missing" diagnostic would only repeat it).
fn has_misspelt(table: &DeTable<'_>, known: &[&str], wanted: &[&str]) -> bool {
    table.keys().any(|key| {
        !known.contains(&key.get_ref().as_ref())
            && did_you_mean(key.get_ref(), wanted.iter().copied()).is_some()
    })
}

fn window(reader: &mut Reader, value: &Value<'_>, what: &str) -> Option<WindowName> {
    let name = reader.string(value, what)?;
    let found = WindowName::ALL.into_iter().find(|w| w.as_str() == name);
    if found.is_none() {
        reader.error(
            value.span(),
            format!("unknown window `{name}`"),
            Some(suggest(&name, &WindowName::ALL.map(WindowName::as_str))),
        );
    }
    found
}

fn read_wait(reader: &mut Reader, value: &Value<'_>) -> Option<Wait> {
    let table = reader.table(value, "`wait`")?;
    reader.check_keys(table, WAIT_FIELDS, "wait");
    match (get(table, "window"), get(table, "ms")) {
        (Some(window_value), None) => {
            let window = window(reader, window_value, "`wait.window`")?;
            let offset_ms = match get(table, "offset_ms") {
                Some(v) => reader.integer(v, "`wait.offset_ms`")?,
                None => 1000,
            };
            let minus_slack = match get(table, "minus_slack") {
                Some(v) => reader.boolean(v, "`wait.minus_slack`")?,
                None => false,
            };
            Some(Wait::Window {
                window,
                offset_ms,
                minus_slack,
            })
        }
        (None, Some(ms)) => {
            for key in ["offset_ms", "minus_slack"] {
                if let Some((k, _)) = table.get_key_value(key) {
                    reader.error(
                        k.span(),
                        format!("`wait.{key}` only goes with `wait.window`"),
                        None,
                    );
                }
            }
            let value = reader.integer(ms, "`wait.ms`")?;
            match u64::try_from(value) {
                Ok(ms) => Some(Wait::Millis(ms)),
                Err(_) => {
                    reader.error(ms.span(), "`wait.ms` must not be negative", None);
                    None
                }
            }
        }
        (Some(window), Some(_)) => {
            reader.error(
                window.span(),
                "give `wait.window` or `wait.ms`, not both",
                None,
            );
            None
        }
        (None, None) => {
            // A misspelt `window` or `ms` already has its diagnostic.
            if has_misspelt(table, WAIT_FIELDS, &["window", "ms"]) {
                return None;
            }
            reader.error(
                value.span(),
                "`wait` needs `window` or `ms`",
                Some("e.g. `wait.window = \"cs_invalid_window\"`".into()),
            );
            None
        }
    }
}

/// A template from a string value; errors point inside the string when possible.
fn template(reader: &mut Reader, value: &Value<'_>, what: &str, names: &Names) -> Option<Template> {
    let text = reader.string(value, what)?;
    template_from(reader, value, &text, names)
}

fn template_from(
    reader: &mut Reader,
    value: &Value<'_>,
    text: &str,
    names: &Names,
) -> Option<Template> {
    let map = reader.string_map(value);
    let locate = |range: Range<usize>| match &map {
        Some(map) => map.span(range),
        None => value.span(),
    };
    match parse_template_with_refs(text) {
        Ok((template, refs)) => {
            check_captured(reader, &refs, names, &locate);
            Some(template)
        }
        Err(error) => {
            let span = locate(error.span.clone());
            reader.push(
                Diagnostic::new(
                    &reader.file,
                    span,
                    format!("in a template: {}", error.message),
                )
                .hint(error.hint),
            );
            None
        }
    }
}

fn check_captured(
    reader: &mut Reader,
    refs: &[CapturedRef],
    names: &Names,
    locate: &dyn Fn(Range<usize>) -> Range<usize>,
) {
    for reference in refs {
        if !names.captures.contains(&reference.name) {
            let hint = did_you_mean(&reference.name, names.captures.iter().map(String::as_str)).unwrap_or_else(|| {
                if names.captures.is_empty() {
                    "no earlier step captures anything: add `capture = { NAME = \"json.path\" }` to one".into()
                } else {
                    format!("earlier steps capture: {}", names.captures.join(", "))
                }
            });
            reader.push(
                Diagnostic::new(
                    &reader.file,
                    locate(reference.span.clone()),
                    format!(
                        "`captured.{}` is not captured by an earlier step",
                        reference.name
                    ),
                )
                .hint(Some(hint)),
            );
        }
    }
}

fn json_template(reader: &mut Reader, value: &Value<'_>, names: &Names) -> Option<JsonTemplate> {
    Some(match value.get_ref() {
        DeValue::String(text) => JsonTemplate::String(template_from(reader, value, text, names)?),
        DeValue::Integer(_) => JsonTemplate::Number(reader.integer(value, "a number")?.into()),
        DeValue::Float(float) => {
            let number = float
                .as_str()
                .replace('_', "")
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64);
            match number {
                Some(number) => JsonTemplate::Number(number),
                None => {
                    reader.error(value.span(), "JSON has no infinities or NaN", None);
                    return None;
                }
            }
        }
        DeValue::Boolean(flag) => JsonTemplate::Bool(*flag),
        DeValue::Datetime(_) => {
            reader.error(
                value.span(),
                "a date-time cannot be sent as JSON",
                Some("quote it to send a string".into()),
            );
            return None;
        }
        DeValue::Array(items) => {
            let mut out = Vec::new();
            for item in items {
                out.push(json_template(reader, item, names)?);
            }
            JsonTemplate::Array(out)
        }
        DeValue::Table(table) => {
            let mut out = Vec::new();
            for (key, item) in table {
                out.push((
                    key.get_ref().to_string(),
                    json_template(reader, item, names)?,
                ));
            }
            JsonTemplate::Object(out)
        }
    })
}

/// An HTTP token (method or header name).
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
}

/// The `request` table. `None` after a diagnostic.
fn read_request(reader: &mut Reader, request: &Value<'_>, names: &Names) -> Option<RequestSpec> {
    let table = reader.table(request, "`request`")?;
    reader.check_keys(table, REQUEST_FIELDS, "request");
    let span = request.span();
    let method = required(reader, table, "method", &span, "`request`").and_then(|v| {
        let method = reader.string(v, "`request.method`")?;
        if !is_token(&method) {
            reader.error(
                v.span(),
                format!("`{method}` is not an HTTP method"),
                Some("e.g. `GET` or `POST`".into()),
            );
            return None;
        }
        Some(method)
    });
    let path = required(reader, table, "path", &span, "`request`").and_then(|v| {
        let text = reader.string(v, "`request.path`")?;
        if !text.starts_with('/') {
            reader.error(
                v.span(),
                "`request.path` must start with `/`",
                Some("the path is relative to the target's base URL, e.g. `/user/auth`".into()),
            );
            return None;
        }
        template_from(reader, v, &text, names)
    });
    let mut headers = Vec::new();
    if let Some(value) = get(table, "headers")
        && let Some(map) = reader.table(value, "`request.headers`")
    {
        for (key, header) in map {
            let name = key.get_ref().to_string();
            if !is_token(&name) {
                reader.error(key.span(), format!("`{name}` is not a header name"), None);
                continue;
            }
            if let Some(template) = template(reader, header, &format!("header `{name}`"), names) {
                headers.push((name, template));
            }
        }
    }
    let body = match (get(table, "json"), get(table, "body")) {
        (Some(_), Some(raw)) => {
            reader.error(
                raw.span(),
                "give `request.json` or `request.body`, not both",
                None,
            );
            Body::None
        }
        (Some(json), None) => json_template(reader, json, names).map_or(Body::None, Body::Json),
        (None, Some(raw)) => {
            template(reader, raw, "`request.body`", names).map_or(Body::None, Body::Raw)
        }
        (None, None) => Body::None,
    };
    let content_type =
        get(table, "content_type").and_then(|v| reader.string(v, "`request.content_type`"));
    Some(RequestSpec {
        method: method?,
        path: path?,
        headers,
        body,
        content_type,
    })
}

/// `repeat`: a literal count in range or exactly one template expression. `None` after a diagnostic.
fn read_repeat(reader: &mut Reader, value: &Value<'_>, names: &Names) -> Option<Template> {
    match value.get_ref() {
        DeValue::Integer(_) => {
            let count = reader.integer(value, "`repeat`")?;
            if !(1..=MAX_REPEAT).contains(&count) {
                reader.error(
                    value.span(),
                    format!("`repeat` must be from 1 to {MAX_REPEAT}"),
                    Some("to send no request, leave the step out".into()).filter(|_| count == 0),
                );
                return None;
            }
            Some(Template::literal(count.to_string()))
        }
        DeValue::String(_) => {
            let template = template(reader, value, "`repeat`", names)?;
            if !template.single_expression().is_some_and(may_be_integer) {
                reader.error(
                    value.span(),
                    "`repeat` must be a number or exactly one numeric `{{ expression }}`",
                    Some("e.g. `repeat = \"{{limits.signup_email}}\"`".into()),
                );
                return None;
            }
            Some(template)
        }
        other => {
            reader.error(
                value.span(),
                format!(
                    "`repeat` must be an integer or a template, not {}",
                    describe(other)
                ),
                None,
            );
            None
        }
    }
}

/// `concurrency`, in range. `None` after a diagnostic.
fn read_concurrency(reader: &mut Reader, value: &Value<'_>) -> Option<u32> {
    let n = reader.integer(value, "`concurrency`")?;
    if !(1..=MAX_CONCURRENCY).contains(&n) {
        reader.error(
            value.span(),
            format!("`concurrency` must be from 1 to {MAX_CONCURRENCY}"),
            None,
        );
        return None;
    }
    u32::try_from(n).ok()
}

/// `within = { since, window }`; `since` names a mark of an earlier step or of this one.
fn read_within(
    reader: &mut Reader,
    value: &Value<'_>,
    names: &Names,
    own_mark: Option<&str>,
) -> Option<Within> {
    let table = reader.table(value, "`within`")?;
    reader.check_keys(table, &["since", "window"], "within");
    let span = value.span();
    let since_value = required(reader, table, "since", &span, "`within`");
    let window_value = required(reader, table, "window", &span, "`within`");
    let since = since_value.and_then(|v| {
        let since = reader.string(v, "`within.since`")?;
        let defined = names.marks.contains(&since) || own_mark == Some(since.as_str());
        if !defined {
            let hint = did_you_mean(&since, names.marks.iter().map(String::as_str))
                .unwrap_or_else(|| "set `mark = \"NAME\"` on an earlier step".into());
            reader.error(
                v.span(),
                format!("no earlier step is marked `{since}`"),
                Some(hint),
            );
            return None;
        }
        Some(since)
    });
    let window = window_value.and_then(|v| window(reader, v, "`within.window`"));
    Some(Within {
        since: since?,
        window: window?,
    })
}

/// `capture = { NAME = "json.path" }`.
fn read_capture(reader: &mut Reader, value: &Value<'_>) -> BTreeMap<String, String> {
    let mut capture = BTreeMap::new();
    let Some(map) = reader.table(value, "`capture`") else {
        return capture;
    };
    for (key, path) in map {
        let name = key.get_ref().to_string();
        if !is_identifier(&name) {
            reader.error(
                key.span(),
                format!("`{name}` is not a capture name"),
                Some("use letters, digits and `_`".into()),
            );
            continue;
        }
        if let Some(text) = reader.string(path, &format!("`capture.{name}`")) {
            if text.is_empty() || text.split('.').any(str::is_empty) {
                reader.error(
                    path.span(),
                    format!("`{text}` is not a JSON path"),
                    Some(
                        "a dotted path into the response body, e.g. `user.id` or `scope.0`".into(),
                    ),
                );
                continue;
            }
            capture.insert(name, text);
        }
    }
    capture
}

/// `reading = { "STATUS" = "NAME" }`; each status must be one `expect.status` allows.
fn read_reading(
    reader: &mut Reader,
    value: &Value<'_>,
    expected: Option<&StatusSet>,
) -> BTreeMap<u16, String> {
    let mut reading = BTreeMap::new();
    let Some(map) = reader.table(value, "`reading`") else {
        return reading;
    };
    for (key, name) in map {
        let status = key
            .get_ref()
            .parse::<u16>()
            .ok()
            .filter(|s| (100..=599).contains(s));
        match status {
            Some(status) if expected.is_some_and(|set| !set.matches(status)) => reader.error(
                key.span(),
                format!(
                    "`expect.status` does not allow {status}, so no response can show this reading"
                ),
                expected.map(|set| format!("`expect.status` allows {set}")),
            ),
            Some(status) => {
                if let Some(name) = reader.string(name, "a reading") {
                    reading.insert(status, name);
                }
            }
            None => reader.error(
                key.span(),
                format!("`{}` is not a status code", key.get_ref()),
                Some("reading keys are status codes, e.g. `\"429\" = \"sliding window\"`".into()),
            ),
        }
    }
    reading
}

/// An optional field: `Some(None)` when absent, `None` when present but wrong.
fn optional<T>(field: Option<Option<T>>) -> Option<Option<T>> {
    match field {
        None => Some(None),
        Some(value) => value.map(Some),
    }
}

/// A request step. Every field is checked even when an earlier one is wrong; `None` after a diagnostic.
fn read_request_step(
    reader: &mut Reader,
    step: &DeTable<'_>,
    request: &Value<'_>,
    names: &mut Names,
) -> Option<RequestStep> {
    let request = read_request(reader, request, names);
    let repeat = get(step, "repeat").map(|value| read_repeat(reader, value, names));
    let concurrency = get(step, "concurrency").map(|value| read_concurrency(reader, value));
    let mark = get(step, "mark").and_then(|v| reader.string(v, "`mark`"));
    let within =
        get(step, "within").map(|value| read_within(reader, value, names, mark.as_deref()));
    let expect = get(step, "expect").map(|value| read_expectations(reader, value, names, true));
    let capture = get(step, "capture")
        .map(|value| read_capture(reader, value))
        .unwrap_or_default();
    let capture_response =
        get(step, "capture_response").and_then(|v| reader.string(v, "`capture_response`"));
    let expected_status = expect.as_ref().and_then(|e| e.as_ref()?.status.as_ref());
    let reading = get(step, "reading")
        .map(|value| read_reading(reader, value, expected_status))
        .unwrap_or_default();
    // Names this step defines are visible to later steps, even when the step itself is wrong.
    names.captures.extend(capture.keys().cloned());
    names.responses.extend(capture_response.iter().cloned());
    names.marks.extend(mark.iter().cloned());
    Some(RequestStep {
        request: request?,
        repeat: optional(repeat)?,
        concurrency: optional(concurrency)?.unwrap_or(1),
        expect: optional(expect)?.unwrap_or_default(),
        capture,
        capture_response,
        mark,
        within: optional(within)?,
        reading,
    })
}

fn is_identifier(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn read_expectations(
    reader: &mut Reader,
    value: &Value<'_>,
    names: &Names,
    allow_should: bool,
) -> Option<Expectations> {
    let table = reader.table(
        value,
        if allow_should {
            "`expect`"
        } else {
            "`expect.should`"
        },
    )?;
    if !allow_should && let Some((key, _)) = table.get_key_value("should") {
        reader.error(
            key.span(),
            "`expect.should` cannot hold another `should`",
            Some("put every warning-only expectation directly under `expect.should`".into()),
        );
    }
    let known: Vec<&str> = EXPECT_FIELDS
        .iter()
        .copied()
        .filter(|k| allow_should || *k != "should")
        .collect();
    let what = if allow_should {
        "expect"
    } else {
        "expect.should"
    };
    // A nested `should` has its own message (above).
    reader.check_keys_except(table, &known, what, &["should"]);
    let mut expect = Expectations::default();
    if let Some(value) = get(table, "status") {
        expect.status = status_set(reader, value);
    }
    if let Some(value) = get(table, "json")
        && let Some(map) = reader.table(value, "`expect.json`")
    {
        for (key, matcher) in map {
            if let Some(matcher) = read_matcher(reader, matcher, names) {
                expect.json.push((key.get_ref().to_string(), matcher));
            }
        }
    }
    if let Some(value) = get(table, "message") {
        expect.message = template(reader, value, "`expect.message`", names);
    }
    if let Some(value) = get(table, "headers")
        && let Some(map) = reader.table(value, "`expect.headers`")
    {
        for (key, matcher) in map {
            if let Some(matcher) = read_matcher(reader, matcher, names) {
                expect
                    .headers
                    .push((key.get_ref().to_ascii_lowercase(), matcher));
            }
        }
    }
    if let Some(value) = get(table, "body_excludes")
        && let Some(items) = reader.array(value, "`expect.body_excludes`")
    {
        for item in items {
            if let Some(template) = template(reader, item, "each of `expect.body_excludes`", names)
            {
                expect.body_excludes.push(template);
            }
        }
    }
    if let Some(value) = get(table, "same_as")
        && let Some(name) = reader.string(value, "`expect.same_as`")
    {
        if names.responses.contains(&name) {
            expect.same_as = Some(name);
        } else {
            let hint = did_you_mean(&name, names.responses.iter().map(String::as_str))
                .unwrap_or_else(|| "set `capture_response = \"NAME\"` on an earlier step".into());
            reader.error(
                value.span(),
                format!("no earlier step captured a response named `{name}`"),
                Some(hint),
            );
        }
    }
    if let Some(value) = get(table, "jwt") {
        expect.jwt = read_jwt(reader, value);
    }
    if let Some(value) = get(table, "tally")
        && let Some(items) = reader.array(value, "`expect.tally`")
    {
        for item in items {
            let Some(entry) = reader.table(item, "each tally") else {
                continue;
            };
            reader.check_keys(entry, &["status", "count"], "tally");
            let span = item.span();
            let status = required(reader, entry, "status", &span, "a tally")
                .and_then(|v| status_set(reader, v));
            let count = required(reader, entry, "count", &span, "a tally").and_then(|v| {
                match v.get_ref() {
                    DeValue::Integer(_) => reader
                        .integer(v, "`count`")
                        .map(|n| Template::literal(n.to_string())),
                    _ => {
                        let count = template(reader, v, "`count`", names)?;
                        if !count.single_expression().is_some_and(may_be_integer) {
                            reader.error(
                                v.span(),
                                "a tally `count` must be a number or exactly one `{{ expression }}`",
                                Some("e.g. `count = \"{{limits.cs_overall_threshold}}\"`".into()),
                            );
                            return None;
                        }
                        Some(count)
                    }
                }
            });
            if let (Some(status), Some(count)) = (status, count) {
                expect.tally.push(Tally { status, count });
            }
        }
    }
    if let Some(value) = get(table, "connection")
        && let Some(text) = reader.string(value, "`expect.connection`")
        && text != "kept"
    {
        reader.error(
            value.span(),
            format!("unknown connection expectation `{text}`"),
            Some("the only one is `\"kept\"` (and it is implied)".into()),
        );
    }
    if allow_should && let Some(value) = get(table, "should") {
        expect.should = read_expectations(reader, value, names, false).map(Box::new);
    }
    Some(expect)
}

fn status_pattern(reader: &mut Reader, value: &Value<'_>) -> Option<StatusPattern> {
    match value.get_ref() {
        DeValue::Integer(_) => {
            let code = reader.integer(value, "a status")?;
            if (100..=599).contains(&code) {
                u16::try_from(code).ok().map(StatusPattern::Code)
            } else {
                reader.error(
                    value.span(),
                    format!("{code} is not an HTTP status"),
                    Some("statuses run from 100 to 599".into()),
                );
                None
            }
        }
        DeValue::String(text) => {
            let bytes = text.as_bytes();
            if bytes.len() == 3
                && (b'1'..=b'5').contains(&bytes[0])
                && bytes[1..].eq_ignore_ascii_case(b"xx")
            {
                Some(StatusPattern::Class(bytes[0] - b'0'))
            } else if let Ok(code) = text.parse::<u16>() {
                if (100..=599).contains(&code) {
                    Some(StatusPattern::Code(code))
                } else {
                    reader.error(value.span(), format!("{code} is not an HTTP status"), None);
                    None
                }
            } else {
                reader.error(
                    value.span(),
                    format!("`{text}` is not a status pattern"),
                    Some("use a code such as `401` or a class such as `\"4xx\"`".into()),
                );
                None
            }
        }
        other => {
            reader.error(
                value.span(),
                format!(
                    "a status must be a code or a class such as `\"4xx\"`, not {}",
                    describe(other)
                ),
                None,
            );
            None
        }
    }
}

fn status_set(reader: &mut Reader, value: &Value<'_>) -> Option<StatusSet> {
    match value.get_ref() {
        DeValue::Array(items) => {
            if items.is_empty() {
                reader.error(value.span(), "an empty status list matches nothing", None);
                return None;
            }
            let mut patterns = Vec::new();
            for item in items {
                patterns.push(status_pattern(reader, item)?);
            }
            Some(StatusSet(patterns))
        }
        _ => status_pattern(reader, value).map(|p| StatusSet(vec![p])),
    }
}

fn json_types(reader: &mut Reader, value: &Value<'_>, text: &str) -> Option<Vec<JsonType>> {
    let mut types = Vec::new();
    for part in text.split('|') {
        let part = part.trim();
        let found = match part {
            "string" => JsonType::String,
            "number" => JsonType::Number,
            "integer" => JsonType::Integer,
            "boolean" => JsonType::Boolean,
            "null" => JsonType::Null,
            "array" => JsonType::Array,
            "object" => JsonType::Object,
            "present" => JsonType::Present,
            "absent" => JsonType::Absent,
            other => {
                reader.error(
                    value.span(),
                    format!("unknown type `{other}`"),
                    Some(suggest(other, TYPES)),
                );
                return None;
            }
        };
        types.push(found);
    }
    Some(types)
}

fn read_matcher(reader: &mut Reader, value: &Value<'_>, names: &Names) -> Option<Matcher> {
    match value.get_ref() {
        DeValue::String(text) => {
            let text = text.to_string();
            Some(Matcher {
                types: json_types(reader, value, &text)?,
                ..Matcher::default()
            })
        }
        DeValue::Table(table) => {
            reader.check_keys(table, MATCHER_FIELDS, "matcher");
            let mut matcher = Matcher::default();
            if let Some(v) = get(table, "type") {
                let text = reader.string(v, "`type`")?;
                matcher.types = json_types(reader, v, &text)?;
            }
            if let Some(v) = get(table, "equals") {
                matcher.equals = json_template(reader, v, names);
            }
            if let Some(v) = get(table, "contains") {
                matcher.contains = json_template(reader, v, names);
            }
            if let Some(v) = get(table, "starts_with") {
                matcher.starts_with = template(reader, v, "`starts_with`", names);
            }
            if let Some(v) = get(table, "matches")
                && let Some(pattern) = reader.string(v, "`matches`")
            {
                match regex::Regex::new(&pattern) {
                    Ok(_) => matcher.matches = Some(pattern),
                    Err(error) => reader.error(
                        v.span(),
                        "not a valid regular expression",
                        Some(error.to_string()),
                    ),
                }
            }
            if let Some(v) = get(table, "integer_range") {
                let items = reader.array(v, "`integer_range`")?;
                if items.len() != 2 {
                    reader.error(v.span(), "`integer_range` is `[min, max]`", None);
                    return None;
                }
                let min = reader.integer(&items[0], "the minimum")?;
                let max = reader.integer(&items[1], "the maximum")?;
                if min > max {
                    reader.error(v.span(), "the minimum is larger than the maximum", None);
                    return None;
                }
                matcher.integer_range = Some((min, max));
            }
            if let Some(v) = get(table, "optional") {
                matcher.optional = reader.boolean(v, "`optional`")?;
            }
            Some(matcher)
        }
        other => {
            reader.error(
                value.span(),
                format!(
                    "a matcher is a type string or a table, not {}",
                    describe(other)
                ),
                Some("e.g. `\"string\"`, `\"null|string\"` or `{ equals = \"x\" }`".into()),
            );
            None
        }
    }
}

fn read_jwt(reader: &mut Reader, value: &Value<'_>) -> Option<JwtExpectation> {
    let table = reader.table(value, "`expect.jwt`")?;
    reader.check_keys(table, &["field", "alg", "claims", "header"], "jwt");
    let span = value.span();
    let field = required(reader, table, "field", &span, "`expect.jwt`")
        .and_then(|v| reader.string(v, "`field`"))?;
    let list = |reader: &mut Reader, key: &str| -> Vec<String> {
        match get(table, key) {
            Some(v) => match v.get_ref() {
                DeValue::String(text) => vec![text.to_string()],
                _ => reader
                    .strings(v, &format!("`{key}`"))
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(s, _)| s)
                    .collect(),
            },
            None => Vec::new(),
        }
    };
    let alg = list(reader, "alg");
    let claims = list(reader, "claims");
    let header = list(reader, "header");
    Some(JwtExpectation {
        field,
        alg,
        claims,
        header,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_catalogue;

    const CATALOGUE: &str = r#"
[[requirement]]
id = "XY-ONE-01"
level = "must"
profiles = ["appmixer-6", "appmixer-cloud"]
requirement = "One."
clause = "One."
source = "Doc"

[[requirement]]
id = "XY-TWO-01"
level = "should"
profiles = ["creditsafe-connect"]
requirement = "Two."
clause = "Two."
source = "Doc"
"#;

    fn catalogue() -> Catalogue {
        parse_catalogue(Path::new("requirements.toml"), CATALOGUE).unwrap()
    }

    /// A one-scenario file: the given scenario lines, then the given step lines.
    fn file(scenario: &str, steps: &str) -> String {
        format!(
            "[[scenario]]\nname = \"a-scenario\"\ntitle = \"A\"\ncovers = [\"XY-ONE-01\"]\n{scenario}\n{steps}"
        )
    }

    const REQUEST: &str = "[[scenario.step]]\nrequest.method = \"GET\"\nrequest.path = \"/user\"\n";

    /// `line:col message` of each diagnostic.
    fn errors(text: &str) -> Vec<String> {
        match parse_scenario_file(Path::new("s.toml"), text, &catalogue()) {
            Ok(_) => Vec::new(),
            Err(diagnostics) => diagnostics
                .iter()
                .map(|d| format!("{}:{} {}", d.line, d.col, d.message))
                .collect(),
        }
    }

    fn parse(text: &str) -> Vec<Scenario> {
        match parse_scenario_file(Path::new("s.toml"), text, &catalogue()) {
            Ok(scenarios) => scenarios,
            Err(diagnostics) => panic!("{diagnostics}"),
        }
    }

    #[test]
    fn a_minimal_scenario_gets_defaults() {
        let scenarios = parse(&file("", REQUEST));
        let [scenario] = scenarios.as_slice() else {
            panic!("one scenario")
        };
        assert_eq!(
            scenario.profiles,
            vec![Profile::Appmixer6, Profile::AppmixerCloud]
        );
        assert_eq!(scenario.phase, Phase::Normal);
        assert_eq!(scenario.origin.line, 1);
        let [step] = scenario.steps.as_slice() else {
            panic!("one step")
        };
        assert_eq!(step.name, "step 1");
        assert_eq!(step.covers, vec!["XY-ONE-01".to_owned()]);
        assert_eq!(step.origin.line, 6);
        let Action::Request(request) = &step.action else {
            panic!("a request step")
        };
        assert_eq!(request.concurrency, 1);
        assert!(request.repeat.is_none());
        assert!(matches!(request.request.body, Body::None));
    }

    #[test]
    fn missing_fields_point_at_their_table() {
        assert_eq!(
            errors("[[scenario]]\nname = \"x\"\n"),
            vec![
                "1:1 this scenario has no `title`",
                "1:1 this scenario has no `covers`",
                "1:1 this scenario has no `step`",
            ]
        );
        assert_eq!(
            errors(&file("", "[[scenario.step]]\nrequest.path = \"/\"\n")),
            vec!["7:1 `request` has no `method`"]
        );
    }

    #[test]
    fn a_step_is_a_request_or_a_wait() {
        assert_eq!(
            errors(&file(
                "",
                &format!("{REQUEST}wait.window = \"cs_invalid_window\"\n")
            )),
            vec!["9:1 a step is a request or a wait, not both"]
        );
        assert_eq!(
            errors(&file(
                "",
                "[[scenario.step]]\nwait.ms = 10\nexpect.status = 200\n"
            )),
            vec!["8:1 `expect` belongs to a request step, not a wait"]
        );
        let scenarios = parse(&file(
            "",
            "[[scenario.step]]\nwait.window = \"cs_invalid_window\"\nwait.offset_ms = -500\n",
        ));
        let Action::Wait(Wait::Window {
            window, offset_ms, ..
        }) = &scenarios[0].steps[0].action
        else {
            panic!("a window wait")
        };
        assert_eq!(*window, WindowName::CsInvalidWindow);
        assert_eq!(*offset_ms, -500);
    }

    #[test]
    fn statuses() {
        let status = |pattern: &str| {
            let text = file("", &format!("{REQUEST}expect.status = {pattern}\n"));
            match parse_scenario_file(Path::new("s.toml"), &text, &catalogue()) {
                Ok(scenarios) => match &scenarios[0].steps[0].action {
                    Action::Request(step) => Ok(step.expect.status.clone()),
                    Action::Wait(_) => Err(Vec::new()),
                },
                Err(diagnostics) => Err(diagnostics.iter().map(|d| d.message.clone()).collect()),
            }
        };
        assert_eq!(
            status("429"),
            Ok(Some(StatusSet(vec![StatusPattern::Code(429)])))
        );
        assert_eq!(
            status("\"4xx\""),
            Ok(Some(StatusSet(vec![StatusPattern::Class(4)])))
        );
        assert_eq!(
            status("[401, 403]"),
            Ok(Some(StatusSet(vec![
                StatusPattern::Code(401),
                StatusPattern::Code(403)
            ])))
        );
        assert!(status("600").is_err());
        assert!(status("\"6xx\"").is_err());
        assert!(status("[]").is_err());
        assert!(status("true").is_err());
    }

    #[test]
    fn names_must_be_defined_by_an_earlier_step() {
        let capture =
            "capture = { token = \"token\" }\ncapture_response = \"first\"\nmark = \"start\"\n";
        let later = "[[scenario.step]]\nrequest.method = \"GET\"\nrequest.path = \"/user/{{captured.token}}\"\nexpect.same_as = \"first\"\nwithin = { since = \"start\", window = \"cs_invalid_window\" }\n";
        assert!(parse(&file("", &format!("{REQUEST}{capture}\n{later}"))).len() == 1);
        let errors = errors(&file(
            "",
            &format!("{REQUEST}\n{later}\n{REQUEST}{capture}"),
        ));
        assert_eq!(
            errors,
            vec![
                "12:34 `captured.token` is not captured by an earlier step",
                "13:18 no earlier step captured a response named `first`",
                "14:20 no earlier step is marked `start`",
            ]
        );
    }

    #[test]
    fn step_covers_are_a_subset_of_the_scenario_covers() {
        let text = file(
            "",
            "[[scenario.step]]\ncovers = [\"XY-TWO-01\"]\nrequest.method = \"GET\"\nrequest.path = \"/\"\n",
        );
        assert_eq!(
            errors(&text),
            vec!["7:11 `XY-TWO-01` is not among the scenario's `covers`"]
        );
        let setup = file(
            "",
            "[[scenario.step]]\ncovers = []\nrequest.method = \"GET\"\nrequest.path = \"/\"\n",
        );
        assert!(parse(&setup)[0].steps[0].covers.is_empty());
    }

    #[test]
    fn readings_name_statuses_the_expectation_allows() {
        let step = |extra: &str| file("", &format!("{REQUEST}{extra}\n"));
        assert!(
            errors(&step(
                "expect.status = [401, 429]\nreading = { \"401\" = \"fixed\", \"429\" = \"sliding\" }"
            ))
            .is_empty()
        );
        assert_eq!(
            errors(&step(
                "expect.status = 401\nreading = { \"401\" = \"fixed\", \"429\" = \"sliding\" }"
            )),
            vec!["10:30 `expect.status` does not allow 429, so no response can show this reading"]
        );
        assert_eq!(
            errors(&step("reading = { \"4xx\" = \"any\" }")),
            vec!["9:13 `4xx` is not a status code"]
        );
    }

    #[test]
    fn repeat_and_concurrency_are_bounded() {
        let step = |extra: &str| file("", &format!("{REQUEST}{extra}\n"));
        assert!(errors(&step("repeat = 20000\nconcurrency = 1024")).is_empty());
        assert_eq!(
            errors(&step("repeat = 20001")),
            vec!["9:10 `repeat` must be from 1 to 20000"]
        );
        assert_eq!(
            errors(&step("concurrency = 0")),
            vec!["9:15 `concurrency` must be from 1 to 1024"]
        );
        assert_eq!(
            errors(&step("repeat = \"x{{limits.signup_ip}}\"")),
            vec!["9:10 `repeat` must be a number or exactly one numeric `{{ expression }}`"]
        );
        assert!(errors(&step("repeat = \"{{limits.signup_ip + 1}}\"")).is_empty());
        assert_eq!(
            errors(&step("repeat = \"{{unique}}\"")),
            vec!["9:10 `repeat` must be a number or exactly one numeric `{{ expression }}`"]
        );
    }

    #[test]
    fn matchers() {
        let text = file(
            "",
            &format!(
                "{REQUEST}expect.json = {{ a = \"null|string\", b = {{ equals = 3, optional = true }}, c = {{ matches = \"^x+$\" }} }}\n"
            ),
        );
        let scenarios = parse(&text);
        let Action::Request(step) = &scenarios[0].steps[0].action else {
            panic!("a request step")
        };
        assert_eq!(step.expect.json.len(), 3);
        assert_eq!(
            step.expect.json[0].1.types,
            vec![JsonType::Null, JsonType::String]
        );
        assert!(step.expect.json[1].1.optional);
        assert_eq!(
            errors(&file(
                "",
                &format!("{REQUEST}expect.json = {{ a = \"strng\" }}\n")
            )),
            vec!["9:21 unknown type `strng`"]
        );
        assert_eq!(
            errors(&file(
                "",
                &format!("{REQUEST}expect.json = {{ a = {{ matches = \"(\" }} }}\n")
            )),
            vec!["9:33 not a valid regular expression"]
        );
    }

    #[test]
    fn level_and_profiles_follow_the_catalogue() {
        assert!(
            errors(&file(
                "level = \"must\"\nprofiles = [\"appmixer-6\"]",
                REQUEST
            ))
            .is_empty()
        );
        assert_eq!(
            errors(&file("level = \"should\"", REQUEST)),
            vec!["5:9 `XY-ONE-01` is a MUST requirement"]
        );
        assert_eq!(
            errors(&file("level = \"mst\"", REQUEST)),
            vec!["5:9 unknown level `mst`"]
        );
        assert_eq!(
            errors(&file("profiles = []", REQUEST)),
            vec!["5:12 `profiles` must name at least one profile"]
        );
    }

    #[test]
    fn unknown_keys_everywhere_get_a_suggestion() {
        let text = file(
            "tgas = []",
            &format!("{REQUEST}expect.shuold.status = 200\nrequest.jsn = {{}}\n"),
        );
        let diagnostics =
            parse_scenario_file(Path::new("s.toml"), &text, &catalogue()).unwrap_err();
        let found: Vec<(String, Option<String>)> = diagnostics
            .iter()
            .map(|d| (d.message.clone(), d.hint.clone()))
            .collect();
        assert_eq!(
            found,
            vec![
                (
                    "unknown scenario field `tgas`".into(),
                    Some("did you mean `tags`?".into())
                ),
                (
                    "unknown expect field `shuold`".into(),
                    Some("did you mean `should`?".into())
                ),
                (
                    "unknown request field `jsn`".into(),
                    Some("did you mean `json`?".into())
                ),
            ]
        );
    }

    #[test]
    fn expect_should_is_parsed_once() {
        let text = file(
            "",
            &format!("{REQUEST}expect.status = \"4xx\"\nexpect.should.status = 400\n"),
        );
        let scenarios = parse(&text);
        let Action::Request(step) = &scenarios[0].steps[0].action else {
            panic!("a request step")
        };
        let should = step.expect.should.as_ref().expect("expect.should");
        assert_eq!(
            should.status,
            Some(StatusSet(vec![StatusPattern::Code(400)]))
        );
        assert!(should.should.is_none());
    }

    #[test]
    fn suites_order_lockout_scenarios_last_and_collect_every_file() {
        let lockout = "[[scenario]]\nname = \"z-lockout\"\ntitle = \"L\"\ncovers = [\"XY-ONE-01\"]\nphase = \"lockout\"\n[[scenario.step]]\nrequest.method = \"GET\"\nrequest.path = \"/\"\n";
        let normal = file("", REQUEST);
        let suite = assemble_suite(
            catalogue(),
            vec![
                (PathBuf::from("a.toml"), lockout.to_owned()),
                (PathBuf::from("b.toml"), normal.clone()),
            ],
        )
        .unwrap();
        let names: Vec<&str> = suite.scenarios.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, vec!["a-scenario", "z-lockout"]);

        let broken = assemble_suite(
            catalogue(),
            vec![
                (
                    PathBuf::from("a.toml"),
                    "[[scenario]]\nnme = 1\n".to_owned(),
                ),
                (PathBuf::from("b.toml"), "x = ".to_owned()),
                (PathBuf::from("c.toml"), normal),
            ],
        )
        .unwrap_err();
        let files: Vec<String> = broken
            .iter()
            .map(|d| d.path().display().to_string())
            .collect();
        assert!(files.contains(&"a.toml".to_owned()));
        assert!(files.contains(&"b.toml".to_owned()));
        assert!(!files.contains(&"c.toml".to_owned()));
    }
}
