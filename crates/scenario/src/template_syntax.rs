//! The template grammar: `{{ expr }}` inside strings, parsed into [`Template`] with precise error offsets.
//!
//! ```text
//! template := (text | "{{" expr "}}")*
//! expr     := term (("+" | "-") integer)*
//! term     := integer | name "(" expr ")" | name ("." name)*
//! ```

use std::ops::Range;

use crate::diagnostics::suggest;
use crate::template::{
    AccountField, AccountName, Expr, Function, LimitName, Part, Template, UserField,
};

/// A template that does not parse: where (byte range inside the string) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    pub span: Range<usize>,
    pub message: String,
    pub hint: Option<String>,
}

/// A reference to a name an earlier step defines (a captured value, or the mark of a step whose requests
/// are counted), with where it appears inside the string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedRef {
    pub name: String,
    pub span: Range<usize>,
    pub kind: RefKind,
}

/// What a [`CapturedRef`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    /// `captured.NAME`: a key of an earlier step's `capture`.
    Captured,
    /// `sent.MARK`: the `mark` of an earlier request step.
    Sent,
}

const ROOTS: &[&str] = &[
    "user",
    "unique",
    "account",
    "limits",
    "captured",
    "repeat",
    "signup_auth",
    "tamper",
    "alg_none",
    "expired_token",
    "long_string",
    "respell",
    "uppercase",
    "padded",
    "sent",
    "signups",
];
const FUNCTIONS: &[&str] = &[
    "tamper",
    "alg_none",
    "expired_token",
    "long_string",
    "respell",
    "uppercase",
    "padded",
];

/// Parses a template string.
pub fn parse_template(text: &str) -> Result<Template, TemplateError> {
    parse_template_with_refs(text).map(|(template, _)| template)
}

/// Parses a template string and lists the `captured.NAME` references it makes.
pub fn parse_template_with_refs(text: &str) -> Result<(Template, Vec<CapturedRef>), TemplateError> {
    let mut parts = Vec::new();
    let mut refs = Vec::new();
    let mut literal = String::new();
    let mut rest = 0;
    while let Some(found) = text[rest..].find("{{") {
        let open = rest + found;
        literal.push_str(&text[rest..open]);
        let inner_start = open + 2;
        let Some(close_rel) = text[inner_start..].find("}}") else {
            return Err(TemplateError {
                span: open..text.len(),
                message: "`{{` is never closed".into(),
                hint: Some("close the expression with `}}`".into()),
            });
        };
        let close = inner_start + close_rel;
        if !literal.is_empty() {
            parts.push(Part::Literal(std::mem::take(&mut literal)));
        }
        let mut parser = ExprParser {
            text,
            pos: inner_start,
            end: close,
            refs: &mut refs,
        };
        let expr = parser.expression()?;
        parser.skip_spaces();
        if parser.pos != close {
            return Err(TemplateError {
                span: parser.pos..close,
                message: format!(
                    "unexpected `{}` in the expression",
                    &text[parser.pos..close]
                ),
                hint: Some("an expression is a name, a function call, or `expr + N`".into()),
            });
        }
        parts.push(Part::Expr(expr));
        rest = close + 2;
    }
    literal.push_str(&text[rest..]);
    if !literal.is_empty() || parts.is_empty() {
        parts.push(Part::Literal(literal));
    }
    Ok((
        Template {
            source: text.to_owned(),
            parts,
        },
        refs,
    ))
}

struct ExprParser<'t, 'r> {
    text: &'t str,
    pos: usize,
    end: usize,
    refs: &'r mut Vec<CapturedRef>,
}

impl ExprParser<'_, '_> {
    fn peek(&self) -> Option<char> {
        self.text[self.pos..self.end].chars().next()
    }

    /// The end of the character at `at` (for a one-character span), or `at` at the end of the expression.
    fn char_end(&self, at: usize) -> usize {
        self.text
            .get(at..self.end)
            .and_then(|rest| rest.chars().next())
            .map_or(at, |c| at + c.len_utf8())
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += self.peek().map_or(1, char::len_utf8);
        }
    }

    fn error(
        &self,
        span: Range<usize>,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> TemplateError {
        TemplateError {
            span,
            message: message.into(),
            hint,
        }
    }

    fn expression(&mut self) -> Result<Expr, TemplateError> {
        self.skip_spaces();
        let term_start = self.pos;
        let mut expr = self.term()?;
        let term_end = self.pos;
        loop {
            self.skip_spaces();
            let sign = match self.peek() {
                Some('+') => 1,
                Some('-') => -1,
                _ => return Ok(expr),
            };
            if !may_be_integer(&expr) {
                return Err(self.error(
                    term_start..term_end,
                    "only a number can take `+` or `-`",
                    Some(
                        "numbers are integers, `limits.NAME`, `repeat.index` and `captured.NAME`"
                            .into(),
                    ),
                ));
            }
            self.pos += 1;
            self.skip_spaces();
            let start = self.pos;
            if self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
                let right = self.term()?;
                if !may_be_integer(&right) {
                    return Err(self.error(
                        start..self.pos,
                        "only a number can be added or taken away",
                        Some(
                            "numbers are integers, `limits.NAME`, `repeat.index` and `captured.NAME`"
                                .into(),
                        ),
                    ));
                }
                expr = Expr::Sum(Box::new(expr), sign, Box::new(right));
                continue;
            }
            let digits = self.take_while(|c| c.is_ascii_digit());
            let value: i64 = digits.parse().map_err(|_| {
                self.error(
                    start..self.pos.max(self.char_end(start)),
                    "expected a whole number after `+` or `-`",
                    None,
                )
            })?;
            expr = Expr::Offset(Box::new(expr), sign * value);
        }
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &str {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if !keep(c) {
                break;
            }
            self.pos += c.len_utf8();
        }
        &self.text[start..self.pos]
    }

    fn term(&mut self) -> Result<Expr, TemplateError> {
        let start = self.pos;
        match self.peek() {
            Some(c) if c.is_ascii_digit() => {
                let digits = self.take_while(|c| c.is_ascii_digit());
                digits
                    .parse::<i64>()
                    .map(Expr::Integer)
                    .map_err(|_| self.error(start..self.pos, "this number is too large", None))
            }
            Some(c) if c.is_ascii_alphabetic() || c == '_' => self.path_or_call(start),
            _ => Err(self.error(
                start..self.char_end(start),
                "expected an expression",
                Some(format!("start with one of {}", ROOTS.join(", "))),
            )),
        }
    }

    fn name(&mut self) -> (String, Range<usize>) {
        let start = self.pos;
        let name = self
            .take_while(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            .to_owned();
        (name, start..self.pos)
    }

    fn path_or_call(&mut self, start: usize) -> Result<Expr, TemplateError> {
        let (head, head_span) = self.name();
        if self.peek() == Some('(') {
            let function = match head.as_str() {
                "tamper" => Function::Tamper,
                "alg_none" => Function::AlgNone,
                "expired_token" => Function::ExpiredToken,
                "long_string" => Function::LongString,
                "respell" => Function::Respell,
                "uppercase" => Function::Uppercase,
                "padded" => Function::Padded,
                _ => {
                    return Err(self.error(
                        head_span,
                        format!("unknown function `{head}`"),
                        Some(suggest(&head, FUNCTIONS)),
                    ));
                }
            };
            self.pos += 1;
            let argument_start = self.pos;
            let argument = self.expression()?;
            self.skip_spaces();
            if self.peek() != Some(')') {
                return Err(self.error(
                    self.pos..self.char_end(self.pos),
                    format!("`{head}(` is never closed"),
                    Some("close the call with `)`".into()),
                ));
            }
            let argument_span = argument_start..self.pos;
            self.pos += 1;
            check_argument(function, &argument)
                .map_err(|(message, hint)| self.error(argument_span, message, Some(hint)))?;
            return Ok(Expr::Call(function, Box::new(argument)));
        }
        let mut segments = vec![(head, head_span)];
        while self.peek() == Some('.') {
            self.pos += 1;
            segments.push(self.name());
        }
        self.path(start, &segments)
    }

    fn path(
        &mut self,
        start: usize,
        segments: &[(String, Range<usize>)],
    ) -> Result<Expr, TemplateError> {
        let whole = start..self.pos;
        let names: Vec<&str> = segments.iter().map(|(name, _)| name.as_str()).collect();
        let span_of = |index: usize| {
            segments
                .get(index)
                .map_or(whole.clone(), |(_, span)| span.clone())
        };
        let missing = |index: usize, what: &str, allowed: &[&str]| {
            let span = span_of(index.min(segments.len() - 1));
            let given = segments.get(index).map_or("", |(name, _)| name.as_str());
            TemplateError {
                span,
                message: if given.is_empty() {
                    format!("`{}` needs a {what}", names[..index].join("."))
                } else {
                    format!("unknown {what} `{given}`")
                },
                hint: Some(suggest(given, allowed)),
            }
        };
        match names.as_slice() {
            ["user", name, field] if !name.is_empty() => {
                let field = match *field {
                    "username" => UserField::Username,
                    "email" => UserField::Email,
                    "password" => UserField::Password,
                    _ => return Err(missing(2, "user field", &["username", "email", "password"])),
                };
                Ok(Expr::User {
                    name: (*name).to_owned(),
                    field,
                })
            }
            ["user", ..] => Err(TemplateError {
                span: whole,
                message: "a user reference is `user.NAME.FIELD`".into(),
                hint: Some("e.g. `user.alice.email` (fields: username, email, password)".into()),
            }),
            ["unique"] => Ok(Expr::Unique),
            ["unique", "email"] => Ok(Expr::UniqueEmail),
            ["unique", ..] => Err(missing(1, "`unique` form", &["email"])),
            ["account", account, field] => {
                let account = match *account {
                    "admin" => AccountName::Admin,
                    "creditsafe" => AccountName::Creditsafe,
                    _ => return Err(missing(1, "account", &["admin", "creditsafe"])),
                };
                let field = match (account, *field) {
                    (_, "username") => AccountField::Username,
                    (_, "password") => AccountField::Password,
                    (AccountName::Admin, "email") => AccountField::Email,
                    (AccountName::Admin, "token") => AccountField::Token,
                    (AccountName::Admin, _) => {
                        return Err(missing(
                            2,
                            "account field",
                            &["username", "email", "password", "token"],
                        ));
                    }
                    (AccountName::Creditsafe, _) => {
                        return Err(missing(2, "account field", &["username", "password"]));
                    }
                };
                Ok(Expr::Account { account, field })
            }
            ["account", ..] => Err(TemplateError {
                span: whole,
                message: "an account reference is `account.NAME.FIELD`".into(),
                hint: Some("e.g. `account.admin.token` or `account.creditsafe.password`".into()),
            }),
            ["limits", name] => LimitName::ALL
                .into_iter()
                .find(|limit| limit.as_str() == *name)
                .map(Expr::Limit)
                .ok_or_else(|| missing(1, "limit", &LimitName::ALL.map(LimitName::as_str))),
            ["limits", ..] => Err(missing(1, "limit", &LimitName::ALL.map(LimitName::as_str))),
            ["captured", name] if !name.is_empty() => {
                self.refs.push(CapturedRef {
                    name: (*name).to_owned(),
                    span: span_of(1),
                    kind: RefKind::Captured,
                });
                Ok(Expr::Captured((*name).to_owned()))
            }
            ["captured", ..] => Err(TemplateError {
                span: whole,
                message: "a captured value is `captured.NAME`".into(),
                hint: Some("NAME is a key of an earlier step's `capture` table".into()),
            }),
            ["sent", name] if !name.is_empty() => {
                self.refs.push(CapturedRef {
                    name: (*name).to_owned(),
                    span: span_of(1),
                    kind: RefKind::Sent,
                });
                Ok(Expr::Sent((*name).to_owned()))
            }
            ["sent", ..] => Err(TemplateError {
                span: whole,
                message: "a count of requests sent is `sent.MARK`".into(),
                hint: Some("MARK is the `mark` of an earlier request step".into()),
            }),
            ["repeat", "index"] => Ok(Expr::RepeatIndex),
            ["repeat", ..] => Err(missing(1, "`repeat` field", &["index"])),
            ["signup_auth"] => Ok(Expr::SignupAuth),
            ["signups", "counted"] => Ok(Expr::CountedSignups),
            ["signups", ..] => Err(missing(1, "`signups` field", &["counted"])),
            [head, ..] => Err(TemplateError {
                span: span_of(0),
                message: format!("unknown name `{head}`"),
                hint: Some(suggest(head, ROOTS)),
            }),
            [] => Err(TemplateError {
                span: whole,
                message: "expected an expression".into(),
                hint: None,
            }),
        }
    }
}

/// Whether an expression can evaluate to an integer (a captured value may be one).
pub(crate) fn may_be_integer(expr: &Expr) -> bool {
    match expr {
        Expr::Integer(_)
        | Expr::Limit(_)
        | Expr::RepeatIndex
        | Expr::Captured(_)
        | Expr::Sent(_)
        | Expr::CountedSignups => true,
        Expr::Offset(inner, _) => may_be_integer(inner),
        Expr::Sum(left, _, right) => may_be_integer(left) && may_be_integer(right),
        _ => false,
    }
}

/// Whether a function accepts its argument: `Err((message, hint))` when it does not.
fn check_argument(function: Function, argument: &Expr) -> Result<(), (String, String)> {
    fn known_integer(expr: &Expr) -> bool {
        match expr {
            Expr::Integer(_) | Expr::Limit(_) | Expr::RepeatIndex => true,
            Expr::Offset(inner, _) => known_integer(inner),
            Expr::Sum(left, _, right) => known_integer(left) && known_integer(right),
            _ => false,
        }
    }
    let integer = known_integer(argument);
    match function {
        Function::LongString => match argument {
            Expr::Integer(n) if *n < 0 || *n > 10_000_000 => Err((
                "`long_string` takes a length from 0 to 10,000,000".into(),
                "e.g. `long_string(70000)`".into(),
            )),
            _ if integer => Ok(()),
            _ => Err((
                "`long_string` takes a length".into(),
                "a whole number, `limits.NAME` or `repeat.index`, e.g. `long_string(70000)`".into(),
            )),
        },
        Function::Tamper
        | Function::AlgNone
        | Function::ExpiredToken
        | Function::Respell
        | Function::Uppercase
        | Function::Padded
            if integer =>
        {
            Err((
                "this function takes a token or a value, not a number".into(),
                match function {
                    Function::ExpiredToken => "e.g. `expired_token(captured.user_id)`".into(),
                    Function::Respell => "e.g. `respell(user.target.email)`".into(),
                    Function::Uppercase => "e.g. `uppercase(user.target.email)`".into(),
                    Function::Padded => "e.g. `padded(user.target.email)`".into(),
                    _ => "e.g. `tamper(captured.token)`".into(),
                },
            ))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_expressions() {
        let template = parse_template("Bearer {{ captured.token }}").unwrap();
        assert_eq!(
            template.parts,
            vec![
                Part::Literal("Bearer ".into()),
                Part::Expr(Expr::Captured("token".into()))
            ]
        );
        assert_eq!(
            parse_template("plain").unwrap().parts,
            vec![Part::Literal("plain".into())]
        );
        assert_eq!(
            parse_template("").unwrap().parts,
            vec![Part::Literal(String::new())]
        );
    }

    #[test]
    fn arithmetic_and_calls() {
        let template = parse_template("{{limits.cs_overall_threshold - 1}}").unwrap();
        assert_eq!(
            template.single_expression(),
            Some(&Expr::Offset(
                Box::new(Expr::Limit(LimitName::CsOverallThreshold)),
                -1
            ))
        );
        let template = parse_template("{{ tamper(captured.token) }}").unwrap();
        assert_eq!(
            template.single_expression(),
            Some(&Expr::Call(
                Function::Tamper,
                Box::new(Expr::Captured("token".into()))
            ))
        );
        assert!(parse_template("{{long_string(70000)}}").is_ok());
        let template = parse_template("{{ 10 - limits.signup_email }}").unwrap();
        assert_eq!(
            template.single_expression(),
            Some(&Expr::Sum(
                Box::new(Expr::Integer(10)),
                -1,
                Box::new(Expr::Limit(LimitName::SignupEmail))
            ))
        );
        let template = parse_template("{{ respell(user.target.email) }}").unwrap();
        assert!(matches!(
            template.single_expression(),
            Some(Expr::Call(Function::Respell, _))
        ));
    }

    #[test]
    fn errors_point_inside_the_string_with_hints() {
        let error = parse_template("x {{ user.alice.emial }}").unwrap_err();
        assert_eq!(error.span, 16..21);
        assert_eq!(error.hint.as_deref(), Some("did you mean `email`?"));
        let error = parse_template("{{limit.signup_email}}").unwrap_err();
        assert_eq!(error.hint.as_deref(), Some("did you mean `limits`?"));
        let error = parse_template("{{ tampr(captured.t) }}").unwrap_err();
        assert_eq!(error.hint.as_deref(), Some("did you mean `tamper`?"));
        assert!(parse_template("{{ unique").is_err());
        assert!(parse_template("{{ long_string(captured.x) }}").is_err());
        let error = parse_template("{{ respell(limits.signup_email) }}").unwrap_err();
        assert_eq!(
            error.hint.as_deref(),
            Some("e.g. `respell(user.target.email)`")
        );
        let error = parse_template("{{ respel(user.a.email) }}").unwrap_err();
        assert_eq!(error.hint.as_deref(), Some("did you mean `respell`?"));
        assert!(parse_template("{{ account.creditsafe.token }}").is_err());
        assert!(parse_template("{{ account.creditsafe.email }}").is_err());
        assert!(parse_template("{{ account.admin.email }}").is_ok());
        assert!(parse_template("{{ unique + }}").is_err());
        assert!(parse_template("{{ }}").is_err());
        let error = parse_template("{{ user.a.email + 1 }}").unwrap_err();
        assert_eq!(error.span, 3..15);
        assert!(parse_template("{{ captured.n - 1 + 2 }}").is_ok());
        let error = parse_template("{{ 10 - user.a.email }}").unwrap_err();
        assert_eq!(error.span, 8..20);
        assert!(parse_template("{{ limits.signup_ip - limits.signup_email + 1 }}").is_ok());
        for text in ["{{é}}", "{{ unique + é }}", "{{ tamper(unique é) }}"] {
            let error = parse_template(text).unwrap_err();
            assert!(text.is_char_boundary(error.span.start), "{text}");
            assert!(text.is_char_boundary(error.span.end), "{text}");
            assert!(!error.span.is_empty(), "{text}");
        }
    }

    #[test]
    fn captured_references_are_listed_with_their_spans() {
        let (_, refs) =
            parse_template_with_refs("{{captured.a}}-{{ tamper(captured.bb) }}").unwrap();
        assert_eq!(
            refs,
            vec![
                CapturedRef {
                    name: "a".into(),
                    span: 11..12,
                    kind: RefKind::Captured,
                },
                CapturedRef {
                    name: "bb".into(),
                    span: 34..36,
                    kind: RefKind::Captured,
                },
            ]
        );
    }

    #[test]
    fn sent_counts_and_spellings_parse() {
        let (template, refs) =
            parse_template_with_refs("{{ limits.cs_overall_threshold - sent.successes }}").unwrap();
        assert_eq!(
            refs,
            vec![CapturedRef {
                name: "successes".into(),
                span: 38..47,
                kind: RefKind::Sent,
            }]
        );
        assert!(may_be_integer(template.single_expression().unwrap()));
        let error = parse_template("{{ sent }}").unwrap_err();
        assert_eq!(
            error.hint.as_deref(),
            Some("MARK is the `mark` of an earlier request step")
        );
        assert!(parse_template("{{ uppercase(user.target.email) }}").is_ok());
        assert!(parse_template("{{ padded(user.target.email) }}").is_ok());
        let error = parse_template("{{ padded(limits.signup_email) }}").unwrap_err();
        assert_eq!(
            error.hint.as_deref(),
            Some("e.g. `padded(user.target.email)`")
        );
    }
}
