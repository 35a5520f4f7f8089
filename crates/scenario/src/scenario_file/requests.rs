//! Request steps: the request itself, `repeat`, `concurrency`, `within`, `mark`, `capture`, `reading`,
//! `precondition` and `blame`.

use super::expectations::{ExpectTable, read_expectations};
use super::templates::{
    is_identifier, is_token, json_template, read_mark, template, template_from,
};
use super::waits::window;
use super::*;

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
