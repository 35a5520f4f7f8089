//! What can be told about a request step before it runs: which of its templates need the admin's token,
//! and whether its request must be rendered afresh for every send. The runner asks; the answers depend
//! only on the parsed step.

use crate::model::{Body, Expectations, JsonTemplate, Matcher, RequestSpec, RequestStep};
use crate::template::{AccountField, AccountName, Expr, Part, Template};

impl Expr {
    /// Whether this expression (or one inside it) satisfies `predicate`.
    pub fn any(&self, predicate: &dyn Fn(&Expr) -> bool) -> bool {
        predicate(self)
            || match self {
                Expr::Offset(inner, _) | Expr::Call(_, inner) => inner.any(predicate),
                Expr::Sum(left, _, right) => left.any(predicate) || right.any(predicate),
                _ => false,
            }
    }

    /// Whether evaluating it needs the admin's token.
    pub fn needs_admin_token(&self) -> bool {
        matches!(
            self,
            Expr::SignupAuth
                | Expr::Account {
                    account: AccountName::Admin,
                    field: AccountField::Token
                }
        )
    }

    /// Whether it gives a different value on each evaluation.
    pub fn varies_per_evaluation(&self) -> bool {
        matches!(self, Expr::Unique | Expr::UniqueEmail | Expr::RepeatIndex)
    }
}

impl Template {
    /// Whether an expression of the template satisfies `predicate`.
    pub fn any(&self, predicate: &dyn Fn(&Expr) -> bool) -> bool {
        self.parts.iter().any(|part| match part {
            Part::Expr(expr) => expr.any(predicate),
            Part::Literal(_) => false,
        })
    }
}

impl RequestStep {
    /// Whether any template of the step (request, repeat count, expectations, precondition, blames) needs
    /// the admin's token.
    pub fn needs_admin_token(&self) -> bool {
        let mut needs = false;
        self.for_each_template(&mut |t| needs |= t.any(&Expr::needs_admin_token));
        needs
    }

    /// Whether the request itself (path, headers, body) must be rendered afresh for every send.
    pub fn request_varies(&self) -> bool {
        let mut varies = false;
        self.for_each_request_template(&mut |t| varies |= t.any(&Expr::varies_per_evaluation));
        varies
    }

    /// Calls `f` on every template of the request: its path, headers and body.
    pub fn for_each_request_template(&self, f: &mut dyn FnMut(&Template)) {
        request_templates(&self.request, f);
    }

    /// Calls `f` on every template of the step: the request, the repeat count, the expectations and tally
    /// counts, the precondition's expectations and each blame's probe, repeat count and expectations.
    pub fn for_each_template(&self, f: &mut dyn FnMut(&Template)) {
        self.for_each_request_template(f);
        if let Some(repeat) = &self.repeat {
            f(repeat);
        }
        expectations(&self.expect, f);
        if let Some(precondition) = &self.precondition {
            expectations(&precondition.expect, f);
        }
        for blame in &self.blame {
            if let Some(request) = &blame.request {
                request_templates(request, f);
            }
            if let Some(repeat) = &blame.repeat {
                f(repeat);
            }
            expectations(&blame.expect, f);
        }
    }
}

fn request_templates(request: &RequestSpec, f: &mut dyn FnMut(&Template)) {
    f(&request.path);
    request.headers.iter().for_each(|(_, t)| f(t));
    match &request.body {
        Body::None => {}
        Body::Json(t) => json(t, f),
        Body::Raw(t) => f(t),
    }
}

fn json(template: &JsonTemplate, f: &mut dyn FnMut(&Template)) {
    match template {
        JsonTemplate::String(t) => f(t),
        JsonTemplate::Array(items) => items.iter().for_each(|item| json(item, f)),
        JsonTemplate::Object(fields) => fields.iter().for_each(|(_, value)| json(value, f)),
        JsonTemplate::Null | JsonTemplate::Bool(_) | JsonTemplate::Number(_) => {}
    }
}

fn matcher(m: &Matcher, f: &mut dyn FnMut(&Template)) {
    if let Some(t) = &m.equals {
        json(t, f);
    }
    if let Some(t) = &m.contains {
        json(t, f);
    }
    if let Some(t) = &m.starts_with {
        f(t);
    }
}

fn expectations(e: &Expectations, f: &mut dyn FnMut(&Template)) {
    e.json.iter().for_each(|(_, m)| matcher(m, f));
    e.headers.iter().for_each(|(_, m)| matcher(m, f));
    if let Some(t) = &e.message {
        f(t);
    }
    e.body_excludes.iter().for_each(&mut *f);
    e.tally.iter().for_each(|tally| f(&tally.count));
    if let Some(should) = &e.should {
        expectations(should, f);
    }
}

#[cfg(test)]
mod tests {
    use crate::template::{Expr, Function, Part, Template};

    fn template(expr: Expr) -> Template {
        Template {
            source: "t".into(),
            parts: vec![Part::Literal("x".into()), Part::Expr(expr)],
        }
    }

    #[test]
    fn analysis_looks_inside_nested_expressions() {
        let cases = [
            (Expr::SignupAuth, true, false),
            (Expr::Unique, false, true),
            (
                Expr::Call(Function::Tamper, Box::new(Expr::UniqueEmail)),
                false,
                true,
            ),
            (Expr::Offset(Box::new(Expr::RepeatIndex), 1), false, true),
            (Expr::Integer(3), false, false),
            (
                Expr::Sum(Box::new(Expr::Integer(1)), 1, Box::new(Expr::RepeatIndex)),
                false,
                true,
            ),
            (
                Expr::Sum(Box::new(Expr::SignupAuth), -1, Box::new(Expr::Integer(2))),
                true,
                false,
            ),
            (
                Expr::Call(Function::Respell, Box::new(Expr::UniqueEmail)),
                false,
                true,
            ),
        ];
        for (expr, token, varies) in cases {
            let t = template(expr.clone());
            assert_eq!(t.any(&Expr::needs_admin_token), token, "{expr:?}");
            assert_eq!(t.any(&Expr::varies_per_evaluation), varies, "{expr:?}");
        }
        assert!(!Template::literal("plain").any(&|_| true));
    }
}
