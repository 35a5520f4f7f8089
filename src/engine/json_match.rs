//! JSON matchers: one value (at a body path or in a header) checked against a rendered matcher, and each
//! matcher and mismatch described for a person.

use authconform_scenario::model::{JsonType, Matcher, Pattern};
use serde_json::Value;

use super::render::{RenderError, Scope};
use crate::target::truncate;

/// A matcher with its templates rendered.
#[derive(Debug)]
pub(crate) struct RenderedMatcher {
    types: Vec<JsonType>,
    equals: Option<Value>,
    contains: Option<Value>,
    starts_with: Option<String>,
    matches: Option<Pattern>,
    integer_range: Option<(i64, i64)>,
    optional: bool,
}

impl RenderedMatcher {
    /// Renders a matcher's templates in the step's scope.
    pub(super) fn render(
        m: &Matcher,
        scope: &mut Scope<'_>,
    ) -> Result<RenderedMatcher, RenderError> {
        Ok(RenderedMatcher {
            types: m.types.clone(),
            equals: m
                .equals
                .as_ref()
                .map(|t| scope.render_json(t))
                .transpose()?,
            contains: m
                .contains
                .as_ref()
                .map(|t| scope.render_json(t))
                .transpose()?,
            starts_with: m
                .starts_with
                .as_ref()
                .map(|t| scope.render_string(t))
                .transpose()?,
            matches: m.matches.clone(),
            integer_range: m.integer_range,
            optional: m.optional,
        })
    }

    /// `None` when the value matches; otherwise what is wrong with it, phrased after its path.
    pub(super) fn check(&self, value: Option<&Value>) -> Option<String> {
        let Some(value) = value else {
            return if self.optional || self.types.contains(&JsonType::Absent) {
                None
            } else {
                Some("is absent".into())
            };
        };
        if !self.types.is_empty() && !self.types.iter().any(|t| type_matches(*t, value)) {
            return Some(format!("is {}", short(value)));
        }
        if let Some(expected) = &self.equals
            && !values_equal(expected, value)
        {
            return Some(format!("is {}", short(value)));
        }
        if let Some(expected) = &self.contains {
            let found = match (value, expected) {
                (Value::Array(items), _) => items.iter().any(|item| values_equal(expected, item)),
                (Value::String(text), Value::String(part)) => text.contains(part.as_str()),
                _ => false,
            };
            if !found {
                return Some(format!("is {}", short(value)));
            }
        }
        if let Some(prefix) = &self.starts_with
            && !value
                .as_str()
                .is_some_and(|text| text.starts_with(prefix.as_str()))
        {
            return Some(format!("is {}", short(value)));
        }
        if let Some(pattern) = &self.matches {
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if !pattern.is_match(&text) {
                return Some(format!("is {}", short(value)));
            }
        }
        if let Some((min, max)) = self.integer_range {
            let number = match value {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse::<i64>().ok(),
                _ => None,
            };
            if !number.is_some_and(|n| (min..=max).contains(&n)) {
                return Some(format!("is {}", short(value)));
            }
        }
        None
    }

    pub(super) fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.types.is_empty() {
            let names: Vec<&str> = self.types.iter().map(|t| type_name(*t)).collect();
            parts.push(names.join(" or "));
        }
        if let Some(v) = &self.equals {
            parts.push(format!("equals {}", short(v)));
        }
        if let Some(v) = &self.contains {
            parts.push(format!("contains {}", short(v)));
        }
        if let Some(prefix) = &self.starts_with {
            parts.push(format!("starts with \"{prefix}\""));
        }
        if let Some(pattern) = &self.matches {
            parts.push(format!("matches /{}/", pattern.as_str()));
        }
        if let Some((min, max)) = self.integer_range {
            parts.push(format!("an integer in [{min}, {max}]"));
        }
        if parts.is_empty() {
            parts.push("present".into());
        }
        if self.optional {
            parts.push("if present".into());
        }
        parts.join(", ")
    }
}

fn type_matches(expected: JsonType, value: &Value) -> bool {
    match expected {
        JsonType::String => value.is_string(),
        JsonType::Number => value.is_number(),
        JsonType::Integer => value.is_i64() || value.is_u64(),
        JsonType::Boolean => value.is_boolean(),
        JsonType::Null => value.is_null(),
        JsonType::Array => value.is_array(),
        JsonType::Object => value.is_object(),
        JsonType::Present => true,
        JsonType::Absent => false,
    }
}

fn type_name(t: JsonType) -> &'static str {
    match t {
        JsonType::String => "string",
        JsonType::Number => "number",
        JsonType::Integer => "integer",
        JsonType::Boolean => "boolean",
        JsonType::Null => "null",
        JsonType::Array => "array",
        JsonType::Object => "object",
        JsonType::Present => "present",
        JsonType::Absent => "absent",
    }
}

/// Equality that treats `1` and `1.0` as the same number.
fn values_equal(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Number(a), Value::Number(b)) => a == b || a.as_f64() == b.as_f64(),
        _ => expected == actual,
    }
}

/// Follows a dotted path (`user.id`, `scope.0`) into a JSON value.
pub(crate) fn lookup<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.')
        .try_fold(value, |current, segment| match current {
            Value::Object(map) => map.get(segment),
            Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        })
}

/// A value for a message: its type and a shortened rendering.
pub(crate) fn short(value: &Value) -> String {
    let kind = match value {
        Value::Null => return "null".into(),
        Value::Bool(b) => return format!("boolean {b}"),
        Value::Number(n) => return format!("number {n}"),
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    format!("{kind} {}", truncate(&value.to_string(), 120))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn matcher(types: Vec<JsonType>) -> RenderedMatcher {
        RenderedMatcher {
            types,
            equals: None,
            contains: None,
            starts_with: None,
            matches: None,
            integer_range: None,
            optional: false,
        }
    }

    #[test]
    fn paths_follow_objects_and_arrays() {
        let body = json!({ "user": { "id": "1" }, "scope": ["user"] });
        assert_eq!(lookup(&body, "user.id"), Some(&json!("1")));
        assert_eq!(lookup(&body, "scope.0"), Some(&json!("user")));
        assert_eq!(lookup(&body, "scope.1"), None);
        assert_eq!(lookup(&body, "user.id.x"), None);
    }

    #[test]
    fn type_alternatives_and_absence() {
        let m = matcher(vec![JsonType::Null, JsonType::String]);
        assert_eq!(m.check(Some(&json!(null))), None);
        assert_eq!(m.check(Some(&json!("x"))), None);
        assert_eq!(m.check(Some(&json!(1))).as_deref(), Some("is number 1"));
        assert_eq!(m.check(None).as_deref(), Some("is absent"));
        assert_eq!(matcher(vec![JsonType::Absent]).check(None), None);
        assert!(
            matcher(vec![JsonType::Absent])
                .check(Some(&json!(1)))
                .is_some()
        );
    }

    #[test]
    fn integer_ranges_parse_header_strings() {
        let mut m = matcher(vec![]);
        m.integer_range = Some((0, 86400));
        m.optional = true;
        assert_eq!(m.check(Some(&json!("120"))), None);
        assert_eq!(m.check(None), None);
        assert!(m.check(Some(&json!("-5"))).is_some());
        assert!(m.check(Some(&json!("soon"))).is_some());
        assert_eq!(m.describe(), "an integer in [0, 86400], if present");
    }

    #[test]
    fn contains_looks_into_arrays_and_strings() {
        let mut m = matcher(vec![JsonType::Array]);
        m.contains = Some(json!("user"));
        assert_eq!(m.check(Some(&json!(["admin", "user"]))), None);
        assert!(m.check(Some(&json!(["admin"]))).is_some());
        let mut s = matcher(vec![]);
        s.contains = Some(json!("json"));
        assert_eq!(s.check(Some(&json!("application/json"))), None);
    }

    #[test]
    fn numbers_compare_by_value() {
        assert!(values_equal(&json!(1), &json!(1.0)));
        assert!(!values_equal(&json!(1), &json!("1")));
    }
}
