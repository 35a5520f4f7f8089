//! A step's `expect` table: statuses, headers, body matchers and JWT expectations.

use super::templates::{json_template, template};
use super::waits::window;
use super::*;
use crate::model::{Pattern, RateLimitExpectation};
use crate::template::LimitName;

/// Which table holds expectations: they differ only in the keys they allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ExpectTable {
    Expect,
    Should,
    Precondition,
    Blame,
}

impl ExpectTable {
    fn name(self) -> &'static str {
        match self {
            ExpectTable::Expect => "expect",
            ExpectTable::Should => "expect.should",
            ExpectTable::Precondition => "precondition",
            ExpectTable::Blame => "blame.expect",
        }
    }
}

pub(super) fn read_expectations(
    reader: &mut Reader,
    value: &Value<'_>,
    names: &Names,
    kind: ExpectTable,
) -> Option<Expectations> {
    let what = kind.name();
    let table = reader.table(value, &format!("`{what}`"))?;
    let allow_should = kind == ExpectTable::Expect;
    if kind == ExpectTable::Should
        && let Some((key, _)) = table.get_key_value("should")
    {
        reader.error(
            key.span(),
            "`expect.should` cannot hold another `should`",
            Some("put every warning-only expectation directly under `expect.should`".into()),
        );
    }
    let mut known: Vec<&str> = EXPECT_FIELDS
        .iter()
        .copied()
        .filter(|k| allow_should || *k != "should")
        .collect();
    if kind == ExpectTable::Precondition {
        known.push("requirement");
    }
    // A nested `should` has its own message (above).
    let except: &[&str] = if kind == ExpectTable::Should {
        &["should"]
    } else {
        &[]
    };
    reader.check_keys_except(table, &known, what, except);
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
            reader.check_keys(
                entry,
                &[
                    "status", "message", "policy", "count", "at_most", "at_least",
                ],
                "tally",
            );
            let span = item.span();
            let status = required(reader, entry, "status", &span, "a tally")
                .and_then(|v| status_set(reader, v));
            let given: Vec<&str> = ["count", "at_most", "at_least"]
                .into_iter()
                .filter(|key| get(entry, key).is_some())
                .collect();
            if let [_, second, ..] = given.as_slice() {
                reader.error(
                    get(entry, second).map_or(span.clone(), |v| v.span()),
                    "a tally has one of `count`, `at_most` or `at_least`, not several",
                    None,
                );
                continue;
            }
            let at_most = given == ["at_most"];
            let at_least = given == ["at_least"];
            let key = given.first().copied().unwrap_or("count");
            let count = required(reader, entry, key, &span, "a tally").and_then(|v| {
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
            let message = match get(entry, "message") {
                Some(v) => match template(reader, v, "a tally `message`", names) {
                    Some(message) => Some(message),
                    None => continue,
                },
                None => None,
            };
            let policy = match get(entry, "policy") {
                Some(v) => match read_ratelimit(reader, v, "a tally `policy`") {
                    Some(policy) => Some(policy),
                    None => continue,
                },
                None => None,
            };
            if let (Some(status), Some(count)) = (status, count) {
                expect.tally.push(Tally {
                    status,
                    message,
                    policy,
                    count,
                    at_most,
                    at_least,
                });
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
    if let Some(value) = get(table, "retry_after") {
        expect.retry_after = window(reader, value, "`expect.retry_after`");
    }
    if let Some(value) = get(table, "ratelimit") {
        expect.ratelimit = read_ratelimit(reader, value, "`expect.ratelimit`");
    }
    if allow_should && let Some(value) = get(table, "should") {
        expect.should = read_expectations(reader, value, names, ExpectTable::Should).map(Box::new);
    }
    Some(expect)
}

pub(super) fn status_pattern(reader: &mut Reader, value: &Value<'_>) -> Option<StatusPattern> {
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

pub(super) fn status_set(reader: &mut Reader, value: &Value<'_>) -> Option<StatusSet> {
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

pub(super) fn json_types(
    reader: &mut Reader,
    value: &Value<'_>,
    text: &str,
) -> Option<Vec<JsonType>> {
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

pub(super) fn read_matcher(
    reader: &mut Reader,
    value: &Value<'_>,
    names: &Names,
) -> Option<Matcher> {
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
                match Pattern::new(&pattern) {
                    Ok(compiled) => matcher.matches = Some(compiled),
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

pub(super) fn read_jwt(reader: &mut Reader, value: &Value<'_>) -> Option<JwtExpectation> {
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

/// `expect.ratelimit` or a tally's `policy`: `{ limit = "signup_email", window = "signup_email_window" }`.
fn read_ratelimit(
    reader: &mut Reader,
    value: &Value<'_>,
    what: &str,
) -> Option<RateLimitExpectation> {
    let table = reader.table(value, what)?;
    reader.check_keys(table, &["limit", "window"], "ratelimit");
    let span = value.span();
    let limit_value = required(reader, table, "limit", &span, what)?;
    let name = reader.string(limit_value, "its `limit`")?;
    let Some(limit) = LimitName::ALL.into_iter().find(|l| l.as_str() == name) else {
        reader.error(
            limit_value.span(),
            format!("unknown limit `{name}`"),
            Some(suggest(&name, &LimitName::ALL.map(LimitName::as_str))),
        );
        return None;
    };
    let window_value = required(reader, table, "window", &span, what)?;
    let window = window(reader, window_value, "its `window`")?;
    Some(RateLimitExpectation { limit, window })
}
