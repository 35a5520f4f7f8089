//! Parsing and validating scenario files against the catalogue, and assembling them into a [`Suite`].

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};

use crate::catalogue_file::parse_profiles;
use crate::diagnostics::{Diagnostic, Diagnostics, Related, SourceFile, did_you_mean, suggest};
use crate::model::{
    Action, Body, Capability, Catalogue, Expectations, JsonTemplate, JsonType, JwtExpectation,
    Level, Matcher, Origin, Phase, Profile, RequestSpec, RequestStep, Scenario, StatusPattern,
    StatusSet, Step, Suite, Tally, Wait, WindowName, Within,
};
use crate::reader::{Reader, Value, describe, get};
use crate::template::Template;
use crate::template_syntax::{CapturedRef, parse_template_with_refs};

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
pub const MAX_REPEAT: i64 = 100_000;
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
    if reader.diagnostics.is_empty() {
        Ok(scenarios)
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
        for scenario in scenarios {
            let span = name_span(&reader.file, &scenario);
            all.push((scenario, reader.file.clone(), span));
        }
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

/// The span of a scenario's `name` value (found again from its origin line).
fn name_span(file: &SourceFile, scenario: &Scenario) -> Range<usize> {
    let quoted = format!("\"{}\"", scenario.name);
    let start_line = scenario.origin.line.saturating_sub(1);
    let mut offset = 0;
    for (index, line) in file.text.split_inclusive('\n').enumerate() {
        if index >= start_line
            && let Some(at) = line.find(&quoted)
            && line.trim_start().starts_with("name")
        {
            return offset + at..offset + at + quoted.len();
        }
        offset += line.len();
    }
    let start = line_offset(file, scenario.origin.line);
    start..start
}

fn line_offset(file: &SourceFile, line: usize) -> usize {
    file.text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum()
}

fn read_file(reader: &mut Reader, text: &str, catalogue: &Catalogue) -> Vec<Scenario> {
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
        reader.error(
            span.start..span.start,
            format!("{what} has no `{key}`"),
            None,
        );
    }
    value
}

fn read_scenario(
    reader: &mut Reader,
    value: &Value<'_>,
    catalogue: &Catalogue,
) -> Option<Scenario> {
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
    if let (Some(covers), Some(value)) = (&covers, get(table, "covers"))
        && covers.is_empty()
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
    let covered: Vec<&crate::model::Requirement> =
        covers.iter().filter_map(|id| catalogue.get(id)).collect();
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
            let profiles = parse_profiles(reader, value).unwrap_or_default();
            for profile in &profiles {
                if !covered.is_empty() && !allowed_profiles.contains(profile) {
                    let allowed: Vec<&str> = allowed_profiles.iter().map(|p| p.as_str()).collect();
                    reader.error(
                        value.span(),
                        format!("profile `{profile}` is not a profile of the covered requirements"),
                        Some(format!(
                            "the covered requirements apply to {}",
                            allowed.join(", ")
                        )),
                    );
                }
            }
            profiles
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
    Some(Scenario {
        name: name?,
        title: title?,
        covers,
        profiles,
        tags,
        requires,
        phase,
        steps,
        origin: origin(reader, &span),
    })
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
            reader.error(
                span.start..span.start,
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
    let base = reader.string_content_offset(value);
    let locate = |range: Range<usize>| match base {
        Some(base) => base + range.start..base + range.end.max(range.start),
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
        DeValue::String(text) => {
            JsonTemplate::String(template_from(reader, value, &text.to_string(), names)?)
        }
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

fn read_request_step(
    reader: &mut Reader,
    step: &DeTable<'_>,
    request: &Value<'_>,
    names: &mut Names,
) -> Option<RequestStep> {
    let table = reader.table(request, "`request`")?;
    reader.check_keys(table, REQUEST_FIELDS, "request");
    let span = request.span();
    let method = required(reader, table, "method", &span, "`request`").and_then(|v| {
        let method = reader.string(v, "`request.method`")?;
        let token = !method.is_empty()
            && method
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c));
        if !token {
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
    let headers = match get(table, "headers") {
        Some(value) => {
            let mut headers = Vec::new();
            if let Some(map) = reader.table(value, "`request.headers`") {
                for (key, header) in map {
                    let name = key.get_ref().to_string();
                    if name.is_empty()
                        || !name
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
                    {
                        reader.error(key.span(), format!("`{name}` is not a header name"), None);
                        continue;
                    }
                    if let Some(template) =
                        template(reader, header, &format!("header `{name}`"), names)
                    {
                        headers.push((name, template));
                    }
                }
            }
            headers
        }
        None => Vec::new(),
    };
    let body = match (get(table, "json"), get(table, "body")) {
        (Some(json), Some(raw)) => {
            let _ = json;
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

    let repeat = match get(step, "repeat") {
        Some(value) => match value.get_ref() {
            DeValue::Integer(_) => {
                let count = reader.integer(value, "`repeat`")?;
                if !(1..=MAX_REPEAT).contains(&count) {
                    reader.error(
                        value.span(),
                        format!("`repeat` must be from 1 to {MAX_REPEAT}"),
                        None,
                    );
                    return None;
                }
                Some(Template::literal(count.to_string()))
            }
            DeValue::String(_) => {
                let template = template(reader, value, "`repeat`", names)?;
                if template.single_expression().is_none() {
                    reader.error(
                        value.span(),
                        "`repeat` must be a number or exactly one `{{ expression }}`",
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
                return None;
            }
        },
        None => None,
    };
    let concurrency = match get(step, "concurrency") {
        Some(value) => {
            let n = reader.integer(value, "`concurrency`")?;
            if !(1..=MAX_CONCURRENCY).contains(&n) {
                reader.error(
                    value.span(),
                    format!("`concurrency` must be from 1 to {MAX_CONCURRENCY}"),
                    None,
                );
                return None;
            }
            u32::try_from(n).ok()?
        }
        None => 1,
    };
    let mark = get(step, "mark").and_then(|v| reader.string(v, "`mark`"));
    let within = match get(step, "within") {
        Some(value) => {
            let table = reader.table(value, "`within`")?;
            reader.check_keys(table, &["since", "window"], "within");
            let span = value.span();
            let since_value = required(reader, table, "since", &span, "`within`");
            let window_value = required(reader, table, "window", &span, "`within`");
            let since = since_value.and_then(|v| {
                let since = reader.string(v, "`within.since`")?;
                let defined =
                    names.marks.contains(&since) || mark.as_deref() == Some(since.as_str());
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
        None => None,
    };
    let expect = match get(step, "expect") {
        Some(value) => read_expectations(reader, value, names, true)?,
        None => Expectations::default(),
    };
    let mut capture = BTreeMap::new();
    if let Some(value) = get(step, "capture")
        && let Some(map) = reader.table(value, "`capture`")
    {
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
            if let Some(path) = reader.string(path, &format!("`capture.{name}`")) {
                capture.insert(name, path);
            }
        }
    }
    let capture_response =
        get(step, "capture_response").and_then(|v| reader.string(v, "`capture_response`"));
    let mut reading = BTreeMap::new();
    if let Some(value) = get(step, "reading")
        && let Some(map) = reader.table(value, "`reading`")
    {
        for (key, name) in map {
            let status = key
                .get_ref()
                .parse::<u16>()
                .ok()
                .filter(|s| (100..=599).contains(s));
            match status {
                Some(status) => {
                    if let Some(name) = reader.string(name, "a reading") {
                        reading.insert(status, name);
                    }
                }
                None => reader.error(
                    key.span(),
                    format!("`{}` is not a status code", key.get_ref()),
                    Some(
                        "reading keys are status codes, e.g. `\"429\" = \"sliding window\"`".into(),
                    ),
                ),
            }
        }
    }
    // Names this step defines are visible to later steps.
    names.captures.extend(capture.keys().cloned());
    names.responses.extend(capture_response.iter().cloned());
    names.marks.extend(mark.iter().cloned());
    Some(RequestStep {
        request: RequestSpec {
            method: method?,
            path: path?,
            headers,
            body,
            content_type,
        },
        repeat,
        concurrency,
        expect,
        capture,
        capture_response,
        mark,
        within,
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
    let known: Vec<&str> = EXPECT_FIELDS
        .iter()
        .copied()
        .filter(|k| allow_should || *k != "should")
        .collect();
    reader.check_keys(
        table,
        &known,
        if allow_should {
            "expect"
        } else {
            "expect.should"
        },
    );
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
                    _ => template(reader, v, "`count`", names),
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
