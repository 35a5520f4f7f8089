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

    /// The part of `span` on its first line: a table's header rather than the whole table.
    pub fn first_line(&self, span: &Range<usize>) -> Range<usize> {
        let end = self
            .file
            .text
            .get(span.clone())
            .and_then(|text| text.find('\n'))
            .map_or(span.end, |newline| span.start + newline);
        span.start..end.max(span.start)
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// Parses the file; a syntax error becomes a diagnostic, and then there is no tree to validate. Only the
    /// first syntax error in the file is reported: the ones after it are mostly echoes of it.
    pub fn parse<'i>(&mut self, text: &'i str) -> Option<Spanned<DeTable<'i>>> {
        let (table, errors) = DeTable::parse_recoverable(text);
        let Some(error) = errors
            .iter()
            .min_by_key(|error| error.span().map_or(usize::MAX, |span| span.start))
        else {
            return Some(table);
        };
        let span = error.span().unwrap_or(0..0);
        let message = error.message().trim();
        let message = message.strip_suffix('.').unwrap_or(message);
        self.error(span, format!("invalid TOML: {message}"), None);
        None
    }

    /// Reports every key of `table` not in `known`, with a did-you-mean.
    pub fn check_keys(&mut self, table: &DeTable<'_>, known: &[&str], what: &str) {
        self.check_keys_except(table, known, what, &[]);
    }

    /// [`Reader::check_keys`], leaving alone the keys in `reported` (they have a diagnostic of their own).
    pub fn check_keys_except(
        &mut self,
        table: &DeTable<'_>,
        known: &[&str],
        what: &str,
        reported: &[&str],
    ) {
        for key in table.keys() {
            let name: &str = key.get_ref();
            if !known.contains(&name) && !reported.contains(&name) {
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
                // A single value where a list is expected: show it as a one-element list.
                let hint = self
                    .file
                    .text
                    .get(value.span())
                    .filter(|raw| !raw.contains('\n') && !matches!(other, DeValue::Table(_)))
                    .map(|raw| format!("for a list of one, write `[{raw}]`"));
                self.error(
                    value.span(),
                    format!("{what} must be an array, not {}", describe(other)),
                    hint,
                );
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

    /// Maps byte offsets inside a string value's text to offsets in the file, so that a diagnostic can point
    /// inside the string even when the file spells it with escapes. `None` when the value is not a string.
    pub fn string_map(&self, value: &Value<'_>) -> Option<StringMap> {
        let DeValue::String(text) = value.get_ref() else {
            return None;
        };
        let span = value.span();
        let raw = self.file.text.get(span.clone())?;
        StringMap::new(raw, text, span.start)
    }
}

/// Where each byte of a string value's text is written in the file.
#[derive(Debug)]
pub(crate) struct StringMap {
    /// `offsets[i]`: the file offset where the text's byte `i` is written; one more entry for the end.
    offsets: Vec<usize>,
}

type Chars<'a> = std::iter::Peekable<std::str::CharIndices<'a>>;

impl StringMap {
    /// Maps `text` (the decoded value) onto `raw` (the string as written, quotes included, at `base`).
    /// `None` when the two do not agree, e.g. for a string spelled in a way this does not know.
    fn new(raw: &str, text: &str, base: usize) -> Option<StringMap> {
        let quote = ["\"\"\"", "'''", "\"", "'"]
            .into_iter()
            .find(|quote| raw.len() >= 2 * quote.len() && raw.starts_with(quote))?;
        let basic = quote.starts_with('"');
        let multi_line = quote.len() == 3;
        let inner = raw.get(quote.len()..raw.len() - quote.len())?;
        let mut start = base + quote.len();
        let mut body = inner;
        if multi_line {
            // A newline right after the opening delimiter is not part of the string.
            for newline in ["\r\n", "\n"] {
                if let Some(rest) = body.strip_prefix(newline) {
                    start += newline.len();
                    body = rest;
                    break;
                }
            }
        }
        let mut decoded = String::with_capacity(body.len());
        let mut offsets = Vec::with_capacity(body.len() + 1);
        let mut chars: Chars<'_> = body.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            let here = start + at;
            if !(basic && c == '\\') {
                let crlf = c == '\r' && chars.peek().is_some_and(|(_, next)| *next == '\n');
                let kept = text
                    .get(decoded.len()..)
                    .is_some_and(|rest| rest.starts_with('\r'));
                if multi_line && crlf && !kept {
                    // The newline was read as a plain `\n`.
                    continue;
                }
                decoded.push(c);
                offsets.extend((0..c.len_utf8()).map(|k| here + k));
                continue;
            }
            let (_, escape) = chars.next()?;
            let decoded_char = match escape {
                'b' => '\u{8}',
                't' => '\t',
                'n' => '\n',
                'f' => '\u{c}',
                'r' => '\r',
                'e' => '\u{1b}',
                '"' => '"',
                '\\' => '\\',
                'x' => hex(&mut chars, 2)?,
                'u' => hex(&mut chars, 4)?,
                'U' => hex(&mut chars, 8)?,
                c if c.is_whitespace() && multi_line => {
                    // A line-ending backslash: the whitespace up to the next non-whitespace is dropped.
                    while chars.peek().is_some_and(|(_, next)| next.is_whitespace()) {
                        chars.next();
                    }
                    continue;
                }
                _ => return None,
            };
            decoded.push(decoded_char);
            offsets.extend(std::iter::repeat_n(here, decoded_char.len_utf8()));
        }
        offsets.push(start + body.len());
        (decoded == text).then_some(StringMap { offsets })
    }

    /// The file span of a byte range of the text (clamped to the text).
    pub fn span(&self, range: Range<usize>) -> Range<usize> {
        let last = self.offsets.len() - 1;
        let start = self.offsets[range.start.min(last)];
        let end = self.offsets[range.end.clamp(range.start.min(last), last)];
        start..end.max(start)
    }
}

fn hex(chars: &mut Chars<'_>, digits: usize) -> Option<char> {
    let mut value = 0u32;
    for _ in 0..digits {
        let (_, digit) = chars.next()?;
        value = value * 16 + digit.to_digit(16)?;
    }
    char::from_u32(value)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The file text a byte range of the decoded string maps to.
    fn mapped<'t>(raw: &'t str, decoded: &str, range: Range<usize>) -> Option<&'t str> {
        let map = StringMap::new(raw, decoded, 0)?;
        raw.get(map.span(range))
    }

    #[test]
    fn string_maps_point_through_escapes_and_delimiters() {
        assert_eq!(mapped(r#""a{{x}}b""#, "a{{x}}b", 3..4), Some("x"));
        assert_eq!(mapped(r#"'a\{{x}}'"#, r"a\{{x}}", 4..5), Some("x"));
        let raw = r#""\"q\" \u00e9 {{x}}""#;
        assert_eq!(mapped(raw, "\"q\" é {{x}}", 9..10), Some("x"));
        // A decoded character maps to its whole escape.
        assert_eq!(mapped(raw, "\"q\" é {{x}}", 0..1), Some("\\\""));
        let raw = "\"\"\"\n  one \\\n    {{x}}\"\"\"";
        assert_eq!(mapped(raw, "  one {{x}}", 8..9), Some("x"));
        let raw = "'''\r\nline\r\n{{x}}'''";
        assert_eq!(mapped(raw, "line\n{{x}}", 7..8), Some("x"));
        assert_eq!(mapped(raw, "line\r\n{{x}}", 8..9), Some("x"));
        // Out-of-range ends are clamped; a mismatch gives no map.
        assert_eq!(mapped(r#""ab""#, "ab", 1..99), Some("b"));
        assert!(StringMap::new(r#""ab""#, "abc", 0).is_none());
        assert!(StringMap::new(r#""\q""#, "q", 0).is_none());
    }
}
