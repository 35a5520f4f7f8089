//! Reading spanned TOML: typed accessors over `toml`'s span-preserving tree that record a diagnostic,
//! with a precise span and a hint, whenever a value has the wrong type or a key is unknown.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diagnostics::{Diagnostic, Diagnostics, SourceFile, suggest};

pub(crate) type Value<'i> = Spanned<DeValue<'i>>;

/// Collects diagnostics for one file.
pub(crate) struct Reader {
    pub file: SourceFile,
    pub diagnostics: Diagnostics,
}

impl Reader {
    pub fn new(file: SourceFile) -> Reader {
        Reader {
            file,
            diagnostics: Diagnostics::default(),
        }
    }

    pub fn error(&mut self, span: Range<usize>, message: impl Into<String>, hint: Option<String>) {
        let diagnostic = Diagnostic::new(&self.file, span, message).hint(hint);
        self.diagnostics.push(diagnostic);
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// Parses the file; a syntax error becomes a diagnostic.
    pub fn parse<'i>(&mut self, text: &'i str) -> Option<Spanned<DeTable<'i>>> {
        match DeTable::parse(text) {
            Ok(table) => Some(table),
            Err(error) => {
                let span = error.span().unwrap_or(0..0);
                let message = error.message().trim().to_owned();
                self.error(span, format!("invalid TOML: {message}"), None);
                None
            }
        }
    }

    /// Reports every key of `table` not in `known`, with a did-you-mean.
    pub fn check_keys(&mut self, table: &DeTable<'_>, known: &[&str], what: &str) {
        for key in table.keys() {
            let name: &str = key.get_ref();
            if !known.contains(&name) {
                self.error(
                    key.span(),
                    format!("unknown {what} field `{name}`"),
                    Some(suggest(name, known)),
                );
            }
        }
    }

    pub fn string(&mut self, value: &Value<'_>, what: &str) -> Option<String> {
        match value.get_ref() {
            DeValue::String(text) => Some(text.to_string()),
            other => {
                self.type_error(value.span(), what, "a string", other);
                None
            }
        }
    }

    pub fn integer(&mut self, value: &Value<'_>, what: &str) -> Option<i64> {
        match value.get_ref() {
            DeValue::Integer(integer) => {
                match i64::from_str_radix(&integer.as_str().replace('_', ""), integer.radix()) {
                    Ok(number) => Some(number),
                    Err(_) => {
                        self.error(value.span(), format!("{what} is out of range"), None);
                        None
                    }
                }
            }
            other => {
                self.type_error(value.span(), what, "an integer", other);
                None
            }
        }
    }

    pub fn boolean(&mut self, value: &Value<'_>, what: &str) -> Option<bool> {
        match value.get_ref() {
            DeValue::Boolean(flag) => Some(*flag),
            other => {
                self.type_error(value.span(), what, "`true` or `false`", other);
                None
            }
        }
    }

    pub fn table<'v, 'i>(&mut self, value: &'v Value<'i>, what: &str) -> Option<&'v DeTable<'i>> {
        match value.get_ref() {
            DeValue::Table(table) => Some(table),
            other => {
                self.type_error(value.span(), what, "a table", other);
                None
            }
        }
    }

    pub fn array<'v, 'i>(&mut self, value: &'v Value<'i>, what: &str) -> Option<&'v [Value<'i>]> {
        match value.get_ref() {
            DeValue::Array(items) => Some(&items[..]),
            other => {
                self.type_error(value.span(), what, "an array", other);
                None
            }
        }
    }

    /// An array of strings, each with its span.
    pub fn strings(
        &mut self,
        value: &Value<'_>,
        what: &str,
    ) -> Option<Vec<(String, Range<usize>)>> {
        let items = self.array(value, what)?;
        let mut out = Vec::new();
        for item in items {
            out.push((self.string(item, &format!("each of {what}"))?, item.span()));
        }
        Some(out)
    }

    fn type_error(&mut self, span: Range<usize>, what: &str, expected: &str, found: &DeValue<'_>) {
        self.error(
            span,
            format!("{what} must be {expected}, not {}", describe(found)),
            None,
        );
    }

    /// Where the text of a string value starts inside the file, when it can be mapped byte for byte (no
    /// escapes); used to point at a position inside a template.
    pub fn string_content_offset(&self, value: &Value<'_>) -> Option<usize> {
        let span = value.span();
        let raw = self.file.text.get(span.clone())?;
        let DeValue::String(text) = value.get_ref() else {
            return None;
        };
        for quote in ["\"\"\"", "'''", "\"", "'"] {
            if raw.len() >= 2 * quote.len() && raw.starts_with(quote) && raw.ends_with(quote) {
                let inner = &raw[quote.len()..raw.len() - quote.len()];
                if inner == text.as_ref() {
                    return Some(span.start + quote.len());
                }
            }
        }
        None
    }
}

pub(crate) fn describe(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// The value under `key`, if present.
pub(crate) fn get<'t, 'i>(table: &'t DeTable<'i>, key: &str) -> Option<&'t Value<'i>> {
    table.get(key)
}

/// The span of `key` itself (for "missing" errors pointing at the parent, use the table's span instead).
pub(crate) fn key_span(table: &DeTable<'_>, key: &str) -> Option<Range<usize>> {
    table.get_key_value(key).map(|(key, _)| key.span())
}
