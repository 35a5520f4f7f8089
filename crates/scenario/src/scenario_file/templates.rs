//! Templates as fields hold them: strings and JSON with `{{ expressions }}` checked against the names a
//! scenario defines (marks, captures), and the identifiers those names must be.

use super::*;

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

pub(super) fn is_identifier(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A reference to a `mark` (`within.since`, `wait.since`): of an earlier step, or of this one (`own_mark`).
pub(super) fn read_mark(
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
