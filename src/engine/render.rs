//! Evaluating templates: turning `{{ expr }}` into values from the scenario's identities, captures, the
//! target's accounts and limits, and a step's request into one ready to send ([`prepare`]).

use std::collections::HashMap;

use authconform_scenario::model::JsonTemplate;
use authconform_scenario::model::{Body, RequestSpec};
use authconform_scenario::template::{
    AccountField, AccountName, Expr, Function, Part, Template, UserField,
};
use bytes::Bytes;
use rand::Rng;
use rand::distr::Alphanumeric;
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use serde_json::Value;

use super::jwt;
use crate::target::{PreparedRequest, RunIds, TargetClient, TargetDescription};

/// Why a template could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("`captured.{0}` was never captured (an earlier capture failed)")]
    NotCaptured(String),
    #[error("no {0} account is configured")]
    NoAccount(&'static str),
    #[error("could not sign in the admin account: {0}")]
    AdminToken(String),
    #[error("no `secrets.appmixer_jwt_secret` is configured")]
    NoSecret,
    #[error("`{expr}` is not an integer (it is {value})")]
    NotInteger { expr: String, value: String },
    #[error("could not sign an expired token: {0}")]
    SignExpiredToken(String),
}

/// A fresh identity for `user.NAME.*`.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pub(crate) username: String,
    pub(crate) email: String,
    pub(crate) password: String,
}

/// A response kept by `capture_response`.
#[derive(Debug, Clone)]
pub(crate) struct CapturedResponse {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
}

/// Per-scenario state that templates read.
#[derive(Debug, Default, Clone)]
pub(crate) struct ScenarioVars {
    pub(crate) identities: HashMap<String, Identity>,
    pub(crate) captured: HashMap<String, Value>,
    pub(crate) responses: HashMap<String, CapturedResponse>,
    /// Requests sent by each marked request step, by its mark (`sent.MARK`).
    pub(crate) sent: HashMap<String, u64>,
    /// `signups.counted`: the signups known to count toward the IP window when the last
    /// `wait.empty_window` ended.
    pub(crate) counted_signups: u64,
    /// Every secret value generated or used, for redaction in reports.
    pub(crate) secrets: Vec<String>,
}

/// Everything an expression can read.
pub(crate) struct Scope<'a> {
    pub(crate) target: &'a TargetDescription,
    pub(crate) ids: &'a RunIds,
    /// The admin's token, when the scenario needs it and sign-in was attempted.
    pub(crate) admin_token: Option<&'a Result<String, String>>,
    pub(crate) vars: &'a mut ScenarioVars,
    pub(crate) repeat_index: u64,
    /// The target's current time in Unix seconds (test clock included).
    pub(crate) now_s: i64,
}

impl Scope<'_> {
    /// Renders a template: a single expression keeps its JSON type, anything else is a string.
    pub(crate) fn render(&mut self, template: &Template) -> Result<Value, RenderError> {
        if let Some(expr) = template.single_expression() {
            return self.eval(expr);
        }
        self.render_string(template).map(Value::String)
    }

    pub(crate) fn render_string(&mut self, template: &Template) -> Result<String, RenderError> {
        let mut out = String::new();
        for part in &template.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Expr(expr) => push_value(&mut out, &self.eval(expr)?),
            }
        }
        Ok(out)
    }

    pub(crate) fn render_json(&mut self, template: &JsonTemplate) -> Result<Value, RenderError> {
        Ok(match template {
            JsonTemplate::Null => Value::Null,
            JsonTemplate::Bool(b) => Value::Bool(*b),
            JsonTemplate::Number(n) => Value::Number(n.clone()),
            JsonTemplate::String(t) => self.render(t)?,
            JsonTemplate::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| self.render_json(item))
                    .collect::<Result<_, _>>()?,
            ),
            JsonTemplate::Object(fields) => {
                let mut map = serde_json::Map::with_capacity(fields.len());
                for (key, value) in fields {
                    map.insert(key.clone(), self.render_json(value)?);
                }
                Value::Object(map)
            }
        })
    }

    /// Writes a JSON template's rendered value straight into `out`: the bytes `render_json(..).to_string()`
    /// would give (keys in the template's order), without building the value first. A request body is
    /// rendered this way for every request a flood sends.
    pub(crate) fn write_json(
        &mut self,
        template: &JsonTemplate,
        out: &mut Vec<u8>,
    ) -> Result<(), RenderError> {
        match template {
            JsonTemplate::String(t) => write_json_value(out, &self.render(t)?),
            JsonTemplate::Array(items) => {
                out.push(b'[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push(b',');
                    }
                    self.write_json(item, out)?;
                }
                out.push(b']');
            }
            JsonTemplate::Object(fields) => {
                out.push(b'{');
                for (index, (key, value)) in fields.iter().enumerate() {
                    if index > 0 {
                        out.push(b',');
                    }
                    write_json_value(out, key);
                    out.push(b':');
                    self.write_json(value, out)?;
                }
                out.push(b'}');
            }
            JsonTemplate::Null => out.extend_from_slice(b"null"),
            JsonTemplate::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            JsonTemplate::Number(n) => out.extend_from_slice(n.to_string().as_bytes()),
        }
        Ok(())
    }

    pub(crate) fn render_integer(&mut self, template: &Template) -> Result<i64, RenderError> {
        let value = self.render(template)?;
        as_integer(&value).ok_or_else(|| RenderError::NotInteger {
            expr: template.source.clone(),
            value: value.to_string(),
        })
    }

    fn eval(&mut self, expr: &Expr) -> Result<Value, RenderError> {
        Ok(match expr {
            Expr::User { name, field } => {
                let identity = self.identity(name);
                Value::String(match field {
                    UserField::Username => identity.username.clone(),
                    UserField::Email => identity.email.clone(),
                    UserField::Password => identity.password.clone(),
                })
            }
            Expr::Unique => Value::String(format!("u{}x{}", self.ids.run_id, self.ids.next())),
            Expr::UniqueEmail => Value::String(format!(
                "u.{}.{}@example.com",
                self.ids.run_id,
                self.ids.next()
            )),
            Expr::Account { account, field } => Value::String(self.account(*account, *field)?),
            Expr::Limit(name) => Value::from(self.target.limits.limit(*name)),
            Expr::Captured(name) => self
                .vars
                .captured
                .get(name)
                .cloned()
                .ok_or_else(|| RenderError::NotCaptured(name.clone()))?,
            Expr::RepeatIndex => Value::from(self.repeat_index),
            // A marked step that was left out (its target lacked what it requires) sent nothing.
            Expr::Sent(mark) => Value::from(self.vars.sent.get(mark).copied().unwrap_or(0)),
            Expr::CountedSignups => Value::from(self.vars.counted_signups),
            Expr::SignupAuth => match (&self.target.admin, self.admin_token) {
                (None, _) => Value::String(String::new()),
                (Some(_), Some(Ok(token))) => Value::String(format!("Bearer {token}")),
                // Signup is open: without an admin token the setup signs up anonymously instead.
                (Some(_), _) if self.target.user_create_scope.is_none() => {
                    Value::String(String::new())
                }
                (Some(_), _) => Value::String(format!("Bearer {}", self.admin_token()?)),
            },
            Expr::Integer(n) => Value::from(*n),
            Expr::Offset(inner, by) => {
                let value = self.eval(inner)?;
                let base = as_integer(&value).ok_or_else(|| RenderError::NotInteger {
                    expr: describe(inner),
                    value: value.to_string(),
                })?;
                Value::from(base.saturating_add(*by))
            }
            Expr::Sum(left, sign, right) => {
                let mut integer = |expr: &Expr| -> Result<i64, RenderError> {
                    let value = self.eval(expr)?;
                    as_integer(&value).ok_or_else(|| RenderError::NotInteger {
                        expr: describe(expr),
                        value: value.to_string(),
                    })
                };
                let left = integer(left)?;
                let right = integer(right)?;
                Value::from(left.saturating_add(sign.saturating_mul(right)))
            }
            Expr::Call(function, argument) => {
                let argument = self.eval(argument)?;
                self.call(*function, &argument)?
            }
        })
    }

    fn identity(&mut self, name: &str) -> &Identity {
        if !self.vars.identities.contains_key(name) {
            let n = self.ids.next();
            let run = &self.ids.run_id;
            let password: String = rand::rng()
                .sample_iter(Alphanumeric)
                .take(16)
                .map(char::from)
                .collect();
            let password = format!("Pw-{password}");
            self.vars.secrets.push(password.clone());
            let identity = Identity {
                username: format!("{name}.{run}.{n}@example.com"),
                email: format!("{name}.{run}.{n}@mail.example.com"),
                password,
            };
            self.vars.identities.insert(name.to_owned(), identity);
        }
        &self.vars.identities[name]
    }

    fn account(&self, account: AccountName, field: AccountField) -> Result<String, RenderError> {
        let (configured, label) = match account {
            AccountName::Admin => (&self.target.admin, "admin"),
            AccountName::Creditsafe => (&self.target.creditsafe, "creditsafe"),
        };
        let configured = configured.as_ref().ok_or(RenderError::NoAccount(label))?;
        Ok(match field {
            AccountField::Username => configured.username.clone(),
            AccountField::Email => configured.email().to_owned(),
            AccountField::Password => configured.password.clone(),
            AccountField::Token => self.admin_token()?,
        })
    }

    fn admin_token(&self) -> Result<String, RenderError> {
        match self.admin_token {
            Some(Ok(token)) => Ok(token.clone()),
            Some(Err(reason)) => Err(RenderError::AdminToken(reason.clone())),
            None => Err(RenderError::NoAccount("admin")),
        }
    }

    fn call(&mut self, function: Function, argument: &Value) -> Result<Value, RenderError> {
        let text = match argument {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        Ok(Value::String(match function {
            Function::Tamper => jwt::tamper(&text),
            Function::AlgNone => jwt::alg_none(&text),
            Function::ExpiredToken => {
                let secret = self
                    .target
                    .appmixer_jwt_secret
                    .as_deref()
                    .ok_or(RenderError::NoSecret)?;
                let token = jwt::expired_token(&text, secret, self.now_s)
                    .map_err(RenderError::SignExpiredToken)?;
                self.vars.secrets.push(token.clone());
                token
            }
            Function::Respell => format!(" {} ", text.to_uppercase()),
            Function::Uppercase => text.to_uppercase(),
            Function::Padded => format!(" {text} "),
            Function::LongString => {
                let n = as_integer(argument).ok_or_else(|| RenderError::NotInteger {
                    expr: "long_string argument".into(),
                    value: argument.to_string(),
                })?;
                let n = usize::try_from(n.max(0)).unwrap_or(0);
                "a".repeat(n)
            }
        }))
    }
}

fn as_integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Appends `value` as JSON (strings quoted and escaped, as `serde_json` writes them).
fn write_json_value(out: &mut Vec<u8>, value: &(impl serde::Serialize + ?Sized)) {
    // Writing into a Vec cannot fail, and every value written here has string keys only.
    let _ = serde_json::to_writer(out, value);
}

fn push_value(out: &mut String, value: &Value) {
    match value {
        Value::String(s) => out.push_str(s),
        Value::Null => {}
        other => out.push_str(&other.to_string()),
    }
}

fn describe(expr: &Expr) -> String {
    match expr {
        Expr::Limit(name) => format!("limits.{}", name.as_str()),
        Expr::RepeatIndex => "repeat.index".into(),
        Expr::Captured(name) => format!("captured.{name}"),
        Expr::Sent(mark) => format!("sent.{mark}"),
        Expr::CountedSignups => "signups.counted".into(),
        other => format!("{other:?}"),
    }
}

/// Renders a request. `Err` says why it cannot be sent.
pub(super) fn prepare(
    client: &TargetClient,
    spec: &RequestSpec,
    scope: &mut Scope<'_>,
    forwarded_for: Option<&(HeaderName, HeaderValue)>,
) -> Result<PreparedRequest, String> {
    let fail = |err: RenderError| format!("could not render the request: {err}");
    let method = Method::from_bytes(spec.method.as_bytes())
        .map_err(|_| format!("`{}` is not a valid HTTP method", spec.method))?;
    let path = scope.render_string(&spec.path).map_err(fail)?;
    let path = client.path(&path)?;
    let mut headers = Vec::with_capacity(spec.headers.len() + 2);
    for (name, template) in &spec.headers {
        let value = scope.render_string(template).map_err(fail)?;
        if value.is_empty() {
            continue;
        }
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("`{name}` is not a header name"))?;
        let value = HeaderValue::from_str(&value)
            .map_err(|_| format!("the value of `{name}` is not a valid header"))?;
        headers.push((name, value));
    }
    let body: Option<Bytes> = match &spec.body {
        Body::None => None,
        Body::Json(template) => {
            let mut json = Vec::with_capacity(64);
            scope.write_json(template, &mut json).map_err(fail)?;
            if spec.content_type.is_none() {
                headers.push((CONTENT_TYPE, HeaderValue::from_static("application/json")));
            }
            Some(Bytes::from(json))
        }
        Body::Raw(template) => Some(Bytes::from(
            scope.render_string(template).map_err(fail)?.into_bytes(),
        )),
    };
    if let Some(content_type) = &spec.content_type {
        let value = HeaderValue::from_str(content_type)
            .map_err(|_| format!("content type `{content_type}` is not a valid header"))?;
        headers.push((CONTENT_TYPE, value));
    }
    if let Some((name, value)) = forwarded_for {
        headers.push((name.clone(), value.clone()));
    }
    Ok(PreparedRequest {
        method,
        path,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use authconform_scenario::model::Profile;
    use authconform_scenario::template::LimitName;

    fn target() -> TargetDescription {
        let mut target = TargetDescription::new(
            "http://127.0.0.1:1".parse().unwrap(),
            vec![Profile::Appmixer6],
        );
        target.appmixer_jwt_secret = Some("s3cret".into());
        target
    }

    fn template(parts: Vec<Part>) -> Template {
        Template {
            source: "test".into(),
            parts,
        }
    }

    fn with_scope<T>(f: impl FnOnce(&mut Scope<'_>) -> T) -> T {
        let target = target();
        let ids = RunIds::with_id("run1".into());
        let mut vars = ScenarioVars::default();
        let mut scope = Scope {
            target: &target,
            ids: &ids,
            admin_token: None,
            vars: &mut vars,
            repeat_index: 3,
            now_s: 1_700_000_000,
        };
        f(&mut scope)
    }

    #[test]
    fn a_single_expression_keeps_its_type() {
        with_scope(|scope| {
            let t = template(vec![Part::Expr(Expr::Offset(
                Box::new(Expr::Limit(LimitName::SignupEmail)),
                1,
            ))]);
            assert_eq!(scope.render(&t).unwrap(), Value::from(11));
            let mixed = template(vec![
                Part::Literal("n=".into()),
                Part::Expr(Expr::RepeatIndex),
            ]);
            assert_eq!(scope.render(&mixed).unwrap(), Value::from("n=3"));
        });
    }

    #[test]
    fn identities_are_stable_per_name_and_distinct_across_names() {
        with_scope(|scope| {
            let user = |name: &str, field| {
                template(vec![Part::Expr(Expr::User {
                    name: name.into(),
                    field,
                })])
            };
            let a1 = scope
                .render_string(&user("alice", UserField::Username))
                .unwrap();
            let a2 = scope
                .render_string(&user("alice", UserField::Username))
                .unwrap();
            let b = scope
                .render_string(&user("bob", UserField::Username))
                .unwrap();
            let email = scope
                .render_string(&user("alice", UserField::Email))
                .unwrap();
            assert_eq!(a1, a2);
            assert_ne!(a1, b);
            assert_ne!(a1, email);
            assert!(a1.contains('@') && a1.contains("run1"), "{a1}");
            let password = scope
                .render_string(&user("alice", UserField::Password))
                .unwrap();
            assert_eq!(scope.vars.secrets.len(), 2, "alice's and bob's passwords");
            assert_eq!(scope.vars.secrets[0], password);
        });
    }

    #[test]
    fn unique_values_differ_on_every_evaluation() {
        with_scope(|scope| {
            let t = template(vec![Part::Expr(Expr::UniqueEmail)]);
            let first = scope.render_string(&t).unwrap();
            assert_ne!(first, scope.render_string(&t).unwrap());
        });
    }

    #[test]
    fn a_missing_capture_says_so() {
        with_scope(|scope| {
            let t = template(vec![Part::Expr(Expr::Captured("token".into()))]);
            assert_eq!(
                scope.render(&t),
                Err(RenderError::NotCaptured("token".into()))
            );
        });
    }

    #[test]
    fn signup_auth_is_empty_without_an_admin() {
        with_scope(|scope| {
            let t = template(vec![Part::Expr(Expr::SignupAuth)]);
            assert_eq!(scope.render_string(&t).unwrap(), "");
        });
    }

    #[test]
    fn a_json_body_is_written_as_its_rendered_value_serializes() {
        with_scope(|scope| {
            let text = |t: &str| JsonTemplate::String(template(vec![Part::Literal(t.into())]));
            let body = JsonTemplate::Object(vec![
                // keys in the template's order, not sorted
                (
                    "zeta".into(),
                    text("quote \" backslash \\ newline \n tab \t é"),
                ),
                (
                    "limit".into(),
                    JsonTemplate::String(template(vec![Part::Expr(Expr::Limit(
                        LimitName::SignupEmail,
                    ))])),
                ),
                (
                    "label".into(),
                    JsonTemplate::String(template(vec![
                        Part::Literal("n=".into()),
                        Part::Expr(Expr::RepeatIndex),
                    ])),
                ),
                (
                    "list".into(),
                    JsonTemplate::Array(vec![
                        JsonTemplate::Null,
                        JsonTemplate::Bool(true),
                        JsonTemplate::Bool(false),
                        JsonTemplate::Number(serde_json::Number::from_f64(1.5).unwrap()),
                        JsonTemplate::Number((-7).into()),
                        JsonTemplate::Array(vec![]),
                        JsonTemplate::Object(vec![]),
                    ]),
                ),
                ("\u{1}key\"".into(), text("")),
            ]);
            let mut written = Vec::new();
            scope.write_json(&body, &mut written).unwrap();
            let expected = scope.render_json(&body).unwrap().to_string();
            assert_eq!(String::from_utf8(written).unwrap(), expected);
            assert!(
                expected.starts_with(r#"{"zeta":"quote \" backslash"#),
                "{expected}"
            );
            // an expression that cannot be rendered stops the body with its error
            let broken = JsonTemplate::Object(vec![(
                "token".into(),
                JsonTemplate::String(template(vec![Part::Expr(Expr::Captured("none".into()))])),
            )]);
            assert_eq!(
                scope.write_json(&broken, &mut Vec::new()),
                Err(RenderError::NotCaptured("none".into()))
            );
        });
    }

    #[test]
    fn long_string_has_the_length_asked() {
        with_scope(|scope| {
            let t = template(vec![Part::Expr(Expr::Call(
                Function::LongString,
                Box::new(Expr::Integer(5)),
            ))]);
            assert_eq!(scope.render_string(&t).unwrap(), "aaaaa");
        });
    }
}
