//! The steps of a scenario: requests (with their templates, repeat, concurrency, captures and readings)
//! and waits.

use super::expectations::{ExpectTable, read_expectations};
use super::*;

pub(super) fn read_step(
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
    let requires = read_requires(reader, table);
    let continue_on_failure = match get(table, "continue_on_failure") {
        Some(value) => reader
            .boolean(value, "`continue_on_failure`")
            .unwrap_or(false),
        None => false,
    };
    let skip_after_clock_boundary = match get(table, "skip_after_clock_boundary") {
        Some(value) => reader
            .boolean(value, "`skip_after_clock_boundary`")
            .unwrap_or(false),
        None => false,
    };
    if skip_after_clock_boundary
        && get(table, "wait").is_none()
        && let Some((key, _)) = table.get_key_value("skip_after_clock_boundary")
    {
        reader.error(
            key.span(),
            "`skip_after_clock_boundary` belongs to a wait, not a request step",
            Some("only a wait can be left out when a sequence is repeated".into()),
        );
    }
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
                "precondition",
                "blame",
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
            read_wait(reader, wait, names).map(Action::Wait)
        }
        (Some(request), None) => read_request_step(reader, table, request, catalogue, names)
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
        requires,
        continue_on_failure,
        skip_after_clock_boundary,
        action: action?,
        origin: origin(reader, &span),
    })
}

/// Whether `table` has an unknown key that is a misspelling of one of `wanted` (already reported by
/// `check_keys`, so a "missing" diagnostic would only repeat it).
pub(super) fn has_misspelt(table: &DeTable<'_>, known: &[&str], wanted: &[&str]) -> bool {
    table.keys().any(|key| {
        !known.contains(&key.get_ref().as_ref())
            && did_you_mean(key.get_ref(), wanted.iter().copied()).is_some()
    })
}

pub(super) fn window(reader: &mut Reader, value: &Value<'_>, what: &str) -> Option<WindowName> {
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

pub(super) fn read_wait(reader: &mut Reader, value: &Value<'_>, names: &Names) -> Option<Wait> {
    let table = reader.table(value, "`wait`")?;
    reader.check_keys(table, WAIT_FIELDS, "wait");
    let kinds: Vec<&str> = ["window", "ms", "empty_window"]
        .into_iter()
        .filter(|key| get(table, key).is_some())
        .collect();
    if let [first, second, ..] = kinds.as_slice() {
        let span = get(table, second).map_or_else(|| value.span(), Value::span);
        reader.error(
            span,
            format!("give one of `wait.window`, `wait.ms` or `wait.empty_window`, not `{first}` and `{second}`"),
            None,
        );
        return None;
    }
    let only_with_window = |reader: &mut Reader, kind: &str| {
        for key in ["offset_ms", "minus_slack", "since", "percent"] {
            if let Some((k, _)) = table.get_key_value(key) {
                reader.error(
                    k.span(),
                    format!("`wait.{key}` only goes with `wait.window`, not with `wait.{kind}`"),
                    None,
                );
            }
        }
    };
    match kinds.first().copied() {
        Some("window") => {
            let window = window(reader, get(table, "window")?, "`wait.window`")?;
            let offset_ms = match get(table, "offset_ms") {
                Some(v) => reader.integer(v, "`wait.offset_ms`")?,
                None => 1000,
            };
            let minus_slack = match get(table, "minus_slack") {
                Some(v) => reader.boolean(v, "`wait.minus_slack`")?,
                None => false,
            };
            let since = match get(table, "since") {
                Some(v) => Some(read_mark(reader, v, names, None, "`wait.since`")?),
                None => None,
            };
            let percent = match get(table, "percent") {
                Some(v) => {
                    let value = reader.integer(v, "`wait.percent`")?;
                    let Some(percent) =
                        u16::try_from(value).ok().filter(|p| (1..=1000).contains(p))
                    else {
                        reader.error(
                            v.span(),
                            format!("`wait.percent` is a share of the window from 1 to 1000, not {value}"),
                            Some("e.g. `percent = 50` waits half the window, `percent = 125` a window and a quarter".into()),
                        );
                        return None;
                    };
                    for key in ["offset_ms", "minus_slack"] {
                        if let Some((k, _)) = table.get_key_value(key) {
                            reader.error(
                                k.span(),
                                format!("`wait.{key}` does not go with `wait.percent`"),
                                Some("`percent` waits exactly that share of the window".into()),
                            );
                        }
                    }
                    Some(percent)
                }
                None => None,
            };
            Some(Wait::Window {
                window,
                offset_ms,
                minus_slack,
                since,
                percent,
            })
        }
        Some("empty_window") => {
            only_with_window(reader, "empty_window");
            let value = get(table, "empty_window")?;
            let window = window(reader, value, "`wait.empty_window`")?;
            if window != WindowName::SignupIpWindow {
                reader.error(
                    value.span(),
                    format!(
                        "`wait.empty_window` knows only `signup_ip_window`, not `{}`",
                        window.as_str()
                    ),
                    Some(
                        "the runner keeps count only of the signups each client address sent"
                            .into(),
                    ),
                );
                return None;
            }
            Some(Wait::EmptyWindow(window))
        }
        Some(_) => {
            only_with_window(reader, "ms");
            let ms = get(table, "ms")?;
            let value = reader.integer(ms, "`wait.ms`")?;
            match u64::try_from(value) {
                Ok(ms) => Some(Wait::Millis(ms)),
                Err(_) => {
                    reader.error(ms.span(), "`wait.ms` must not be negative", None);
                    None
                }
            }
        }
        None => {
            // A misspelt `window` or `ms` already has its diagnostic.
            if has_misspelt(table, WAIT_FIELDS, &["window", "ms", "empty_window"]) {
                return None;
            }
            reader.error(
                value.span(),
                "`wait` needs `window`, `ms` or `empty_window`",
                Some("e.g. `wait.window = \"cs_invalid_window\"`".into()),
            );
            None
        }
    }
}

/// A template from a string value; errors point inside the string when possible.
pub(super) fn template(
    reader: &mut Reader,
    value: &Value<'_>,
    what: &str,
    names: &Names,
) -> Option<Template> {
    let text = reader.string(value, what)?;
    template_from(reader, value, &text, names)
}

pub(super) fn template_from(
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

pub(super) fn check_captured(
    reader: &mut Reader,
    refs: &[CapturedRef],
    names: &Names,
    locate: &dyn Fn(Range<usize>) -> Range<usize>,
) {
    for reference in refs {
        // What the reference names, the names earlier steps define for it, the error and the hints.
        let (defined, message, none_defined, listed) = match reference.kind {
            RefKind::Captured => (
                &names.captures,
                format!(
                    "`captured.{}` is not captured by an earlier step",
                    reference.name
                ),
                "no earlier step captures anything: add `capture = { NAME = \"json.path\" }` to one",
                "earlier steps capture",
            ),
            RefKind::Sent => (
                &names.marks,
                format!("`sent.{}` names no mark of an earlier step", reference.name),
                "no earlier step has a `mark`: add `mark = \"NAME\"` to the request step whose requests you count",
                "earlier steps mark",
            ),
        };
        if defined.contains(&reference.name) {
            continue;
        }
        let hint = did_you_mean(&reference.name, defined.iter().map(String::as_str))
            .unwrap_or_else(|| {
                if defined.is_empty() {
                    none_defined.to_owned()
                } else {
                    format!("{listed}: {}", defined.join(", "))
                }
            });
        reader.push(
            Diagnostic::new(&reader.file, locate(reference.span.clone()), message).hint(Some(hint)),
        );
    }
}

pub(super) fn json_template(
    reader: &mut Reader,
    value: &Value<'_>,
    names: &Names,
) -> Option<JsonTemplate> {
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
pub(super) fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
}

/// The `request` table. `None` after a diagnostic.
pub(super) fn read_request(
    reader: &mut Reader,
    request: &Value<'_>,
    names: &Names,
) -> Option<RequestSpec> {
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
pub(super) fn read_repeat(
    reader: &mut Reader,
    value: &Value<'_>,
    names: &Names,
) -> Option<Template> {
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
pub(super) fn read_concurrency(reader: &mut Reader, value: &Value<'_>) -> Option<u32> {
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
pub(super) fn read_within(
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
    let since = since_value.and_then(|v| read_mark(reader, v, names, own_mark, "`within.since`"));
    let window = window_value.and_then(|v| window(reader, v, "`within.window`"));
    Some(Within {
        since: since?,
        window: window?,
    })
}

/// A reference to a `mark` (`within.since`, `wait.since`): of an earlier step, or of this one (`own_mark`).
fn read_mark(
    reader: &mut Reader,
    value: &Value<'_>,
    names: &Names,
    own_mark: Option<&str>,
    what: &str,
) -> Option<String> {
    let since = reader.string(value, what)?;
    if names.marks.contains(&since) || own_mark == Some(since.as_str()) {
        return Some(since);
    }
    let hint = did_you_mean(&since, names.marks.iter().map(String::as_str))
        .unwrap_or_else(|| "set `mark = \"NAME\"` on an earlier step".into());
    reader.error(
        value.span(),
        format!("no earlier step is marked `{since}`"),
        Some(hint),
    );
    None
}

/// `capture = { NAME = "json.path" }`.
pub(super) fn read_capture(reader: &mut Reader, value: &Value<'_>) -> BTreeMap<String, String> {
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
pub(super) fn read_reading(
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
pub(super) fn optional<T>(field: Option<Option<T>>) -> Option<Option<T>> {
    match field {
        None => Some(None),
        Some(value) => value.map(Some),
    }
}

/// A request step. Every field is checked even when an earlier one is wrong; `None` after a diagnostic.
pub(super) fn read_request_step(
    reader: &mut Reader,
    step: &DeTable<'_>,
    request: &Value<'_>,
    catalogue: &Catalogue,
    names: &mut Names,
) -> Option<RequestStep> {
    let request = read_request(reader, request, names);
    let repeat = get(step, "repeat").map(|value| read_repeat(reader, value, names));
    let concurrency = get(step, "concurrency").map(|value| read_concurrency(reader, value));
    let mark = get(step, "mark").and_then(|v| reader.string(v, "`mark`"));
    let within =
        get(step, "within").map(|value| read_within(reader, value, names, mark.as_deref()));
    let expect = get(step, "expect")
        .map(|value| read_expectations(reader, value, names, ExpectTable::Expect));
    let precondition =
        get(step, "precondition").map(|value| read_precondition(reader, value, catalogue, names));
    let blame = get(step, "blame").map(|value| match value.get_ref() {
        DeValue::Array(_) => reader
            .array(value, "`blame`")
            .unwrap_or_default()
            .iter()
            .map(|item| read_blame(reader, item, catalogue, names))
            // Every entry is read (and diagnosed) before any failure counts.
            .collect::<Vec<_>>()
            .into_iter()
            .collect::<Option<Vec<Blame>>>(),
        _ => read_blame(reader, value, catalogue, names).map(|blame| vec![blame]),
    });
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
        precondition: optional(precondition)?,
        blame: optional(blame)?.unwrap_or_default(),
    })
}

/// `precondition = { requirement = "ID", status = ..., ... }`: expectation keys (no `should`) plus the
/// requirement they belong to. `None` after a diagnostic.
fn read_precondition(
    reader: &mut Reader,
    value: &Value<'_>,
    catalogue: &Catalogue,
    names: &Names,
) -> Option<Precondition> {
    let table = reader.table(value, "`precondition`")?;
    let requirement = match get(table, "requirement") {
        Some(id) => Some(read_requirement_id(
            reader,
            id,
            catalogue,
            "`precondition.requirement`",
        )?),
        None => None,
    };
    let expect = read_expectations(reader, value, names, ExpectTable::Precondition)?;
    Some(Precondition {
        requirement,
        expect,
    })
}

/// `blame = { requirement = "ID", request = {...}, repeat = N, expect = {...} }`, `request` and `repeat`
/// optional (`repeat` only with a `request`). `None` after a diagnostic.
fn read_blame(
    reader: &mut Reader,
    value: &Value<'_>,
    catalogue: &Catalogue,
    names: &Names,
) -> Option<Blame> {
    let table = reader.table(value, "`blame`")?;
    reader.check_keys(
        table,
        &["requirement", "request", "repeat", "expect"],
        "blame",
    );
    let span = value.span();
    let requirement = required(reader, table, "requirement", &span, "`blame`")
        .and_then(|id| read_requirement_id(reader, id, catalogue, "`blame.requirement`"));
    let request = get(table, "request").map(|request| read_request(reader, request, names));
    let repeat = match (get(table, "repeat"), &request) {
        (Some(value), None) => {
            reader.error(
                value.span(),
                "`blame.repeat` needs a `blame.request` to repeat",
                Some("without a request the failing answer itself is looked at, once".into()),
            );
            Some(None)
        }
        (value, _) => value.map(|value| read_repeat(reader, value, names)),
    };
    let expect = required(reader, table, "expect", &span, "`blame`")
        .and_then(|expect| read_expectations(reader, expect, names, ExpectTable::Blame));
    Some(Blame {
        requirement: requirement?,
        request: optional(request)?,
        repeat: optional(repeat)?,
        expect: expect?,
    })
}

pub(super) fn is_identifier(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}
