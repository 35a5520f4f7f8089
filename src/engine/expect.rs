//! Expectations: what must hold of a response, evaluated into mismatches a person can read.
//!
//! Templates inside expectations are rendered once per step ([`RenderedExpectations`]); each response is
//! then checked without further allocation unless something is wrong.

use authconform_scenario::model::{Expectations, JwtExpectation, StatusSet, WindowName};
use serde_json::Value;

use super::json_match::{RenderedMatcher, lookup, short};
use super::jwt;
use super::mismatch::Mismatch;
use super::ratelimit_fields;
use super::render::{CapturedResponse, RenderError, Scope};
use super::results::ObservationKind;
use crate::target::{Response, excerpt, retry_after};

/// A tally with its templates rendered.
#[derive(Debug, Clone)]
pub(crate) struct RenderedTally {
    pub(crate) status: StatusSet,
    /// Only answers with exactly this message count.
    pub(crate) message: Option<String>,
    /// Answers showing this policy used up count too: `(quota, window in seconds)`.
    pub(crate) policy: Option<(i64, i64)>,
    pub(crate) count: u64,
    /// A bound (`at_most`) rather than an exact count.
    pub(crate) at_most: bool,
    /// A floor (`at_least`) rather than an exact count.
    pub(crate) at_least: bool,
}

/// The message an answer carries: a JSON body's `message`, or else a short plain-text body, for telling
/// which limit refused it.
pub(crate) fn answer_message(response: &Response) -> Option<String> {
    const LONGEST: usize = 300;
    match serde_json::from_slice::<Value>(&response.body) {
        Ok(body) => body
            .get("message")
            .and_then(Value::as_str)
            .map(|m| m.chars().take(LONGEST).collect()),
        Err(_) => {
            let text = String::from_utf8_lossy(&response.body);
            let text = text.trim();
            (!text.is_empty() && text.len() <= LONGEST).then(|| text.to_owned())
        }
    }
}

/// The shortest run of a secret that counts as echoing it: parsers quote a few characters around the point
/// where they stopped (node quotes about ten), and eight characters of a random password are a leak.
const ECHOED_RUN_CHARS: usize = 8;

/// The part of `secret` the body contains: the whole of it, or else a run of [`ECHOED_RUN_CHARS`]
/// characters of it.
fn echoed_part<'s>(body: &[u8], secret: &'s str) -> Option<&'s str> {
    if secret.is_empty() {
        return None;
    }
    if contains_bytes(body, secret.as_bytes()) {
        return Some(secret);
    }
    let starts: Vec<usize> = secret.char_indices().map(|(at, _)| at).collect();
    starts
        .iter()
        .zip(starts.iter().skip(ECHOED_RUN_CHARS).chain([&secret.len()]))
        .map(|(&from, &to)| &secret[from..to])
        .find(|run| contains_bytes(body, run.as_bytes()))
}

/// Expectations of one tier with their templates rendered.
#[derive(Debug, Default)]
pub(crate) struct RenderedExpectations {
    status: Option<StatusSet>,
    json: Vec<(String, RenderedMatcher)>,
    message: Option<String>,
    headers: Vec<(String, RenderedMatcher)>,
    body_excludes: Vec<String>,
    same_as: Option<(String, CapturedResponse)>,
    jwt: Option<JwtExpectation>,
    pub(crate) tally: Vec<RenderedTally>,
    /// The window whose length bounds a 429's `Retry-After`, with that length.
    retry_after: Option<(WindowName, u64)>,
    /// The quota and window (ms) of the limit a refusal's `RateLimit` fields must agree with.
    ratelimit: Option<(u64, u64)>,
}

impl RenderedExpectations {
    /// Whether nothing is expected of an answer.
    pub(crate) fn is_empty(&self) -> bool {
        self.status.is_none()
            && self.json.is_empty()
            && self.message.is_none()
            && self.headers.is_empty()
            && self.body_excludes.is_empty()
            && self.same_as.is_none()
            && self.jwt.is_none()
            && self.tally.is_empty()
            && self.retry_after.is_none()
            && self.ratelimit.is_none()
    }

    /// Renders one tier (the `should` table is rendered separately).
    pub(crate) fn render(
        expect: &Expectations,
        scope: &mut Scope<'_>,
    ) -> Result<RenderedExpectations, RenderError> {
        let matcher = RenderedMatcher::render;
        let mut rendered = RenderedExpectations {
            status: expect.status.clone(),
            message: expect
                .message
                .as_ref()
                .map(|t| scope.render_string(t))
                .transpose()?,
            jwt: expect.jwt.clone(),
            ratelimit: expect.ratelimit.map(|r| {
                (
                    scope.target.limits.limit(r.limit),
                    scope.target.limits.window_ms(r.window),
                )
            }),
            retry_after: expect
                .retry_after
                .map(|window| (window, scope.target.limits.window_ms(window))),
            ..RenderedExpectations::default()
        };
        for (path, m) in &expect.json {
            rendered.json.push((path.clone(), matcher(m, scope)?));
        }
        for (name, m) in &expect.headers {
            rendered.headers.push((name.clone(), matcher(m, scope)?));
        }
        for t in &expect.body_excludes {
            rendered.body_excludes.push(scope.render_string(t)?);
        }
        if let Some(name) = &expect.same_as {
            let captured = scope
                .vars
                .responses
                .get(name)
                .cloned()
                .ok_or_else(|| RenderError::NotCaptured(name.clone()))?;
            rendered.same_as = Some((name.clone(), captured));
        }
        for tally in &expect.tally {
            let count = scope.render_integer(&tally.count)?;
            rendered.tally.push(RenderedTally {
                status: tally.status.clone(),
                message: tally
                    .message
                    .as_ref()
                    .map(|t| scope.render_string(t))
                    .transpose()?,
                policy: tally.policy.map(|policy| {
                    let window_ms = scope.target.limits.window_ms(policy.window);
                    (
                        i64::try_from(scope.target.limits.limit(policy.limit)).unwrap_or(i64::MAX),
                        i64::try_from(window_ms.div_ceil(1000)).unwrap_or(i64::MAX),
                    )
                }),
                count: u64::try_from(count.max(0)).unwrap_or(0),
                at_most: tally.at_most,
                at_least: tally.at_least,
            });
        }
        Ok(rendered)
    }

    /// Checks one response, appending what did not hold and reporting what was observed.
    pub(crate) fn check(
        &self,
        response: &Response,
        out: &mut Vec<Mismatch>,
        observe: &mut dyn FnMut(ObservationKind, String),
    ) {
        if let Some(status) = &self.status
            && !status.matches(response.status)
        {
            out.push(Mismatch::new(
                format!("status {status}"),
                format!("status {}{}", response.status, body_hint(response)),
            ));
        }
        let needs_json = !self.json.is_empty() || self.message.is_some() || self.jwt.is_some();
        let json = if needs_json { response.json() } else { None };
        if !self.json.is_empty() {
            match &json {
                Some(body) => {
                    for (path, matcher) in &self.json {
                        if let Some(problem) = matcher.check(lookup(body, path)) {
                            out.push(Mismatch::new(
                                format!("`{path}`: {}", matcher.describe()),
                                format!("`{path}` {problem}"),
                            ));
                        }
                    }
                }
                None => out.push(Mismatch::new(
                    "a JSON body",
                    format!("not JSON: {}", excerpt(&response.body)),
                )),
            }
        }
        if let Some(message) = &self.message {
            self.check_message(message, response, json.as_ref(), out, observe);
        }
        for (name, matcher) in &self.headers {
            let value = response.header(name).map(|v| Value::String(v.to_owned()));
            if let Some(problem) = matcher.check(value.as_ref()) {
                out.push(Mismatch::new(
                    format!("header `{name}`: {}", matcher.describe()),
                    format!("header `{name}` {problem}"),
                ));
            }
        }
        for excluded in &self.body_excludes {
            if let Some(found) = echoed_part(&response.body, excluded) {
                let actual = if found == excluded.as_str() {
                    "the body contains it".to_owned()
                } else {
                    format!("the body contains `{found}`, a part of it")
                };
                out.push(Mismatch::new(
                    format!("a body without `{excluded}`"),
                    actual,
                ));
            }
        }
        if let Some((name, earlier)) = &self.same_as
            && (earlier.status != response.status || earlier.body != response.body)
        {
            out.push(Mismatch::new(
                format!(
                    "the same status and body as `{name}`: {} {}",
                    earlier.status,
                    excerpt(&earlier.body)
                ),
                format!("{} {}", response.status, excerpt(&response.body)),
            ));
        }
        if let Some(expect) = &self.jwt {
            check_jwt(expect, json.as_ref(), out, observe);
        }
        if let Some((window, window_ms)) = self.retry_after
            && response.status == 429
        {
            check_retry_after(response, window, window_ms, out, observe);
        }
        if let Some((quota, window_ms)) = self.ratelimit
            && response.status == 429
        {
            let fields = ratelimit_fields::read(response);
            if fields.is_empty() {
                observe(
                    ObservationKind::RateLimitFields,
                    "a 429 without `RateLimit` fields".into(),
                );
            }
            for line in fields
                .lines
                .iter()
                .chain(&ratelimit_fields::legacy_lines(response))
            {
                observe(
                    ObservationKind::RateLimitFields,
                    format!("a 429 with `{line}`"),
                );
            }
            out.extend(ratelimit_fields::judge_refusal(&fields, quota, window_ms));
        }
    }

    fn check_message(
        &self,
        message: &str,
        response: &Response,
        json: Option<&Value>,
        out: &mut Vec<Mismatch>,
        observe: &mut dyn FnMut(ObservationKind, String),
    ) {
        let expected = format!("message \"{message}\"");
        match json {
            Some(body) => match body.get("message") {
                Some(Value::String(found)) if found == message => {
                    observe(
                        ObservationKind::MessageShape,
                        "the message is `message` in a JSON body".into(),
                    );
                }
                Some(found) => out.push(Mismatch::new(
                    expected,
                    format!("`message` is {}", short(found)),
                )),
                None => out.push(Mismatch::new(
                    expected,
                    format!("a JSON body without `message`: {}", excerpt(&response.body)),
                )),
            },
            None => {
                let text = String::from_utf8_lossy(&response.body);
                if text.trim() == message {
                    // Whether the message belongs in a JSON body is AM-SIGNUP-RL-06's question; a
                    // step judging the message judges only its text.
                    observe(
                        ObservationKind::MessageShape,
                        format!(
                            "the message is a plain-text body (content-type {})",
                            response.header("content-type").unwrap_or("none")
                        ),
                    );
                } else {
                    out.push(Mismatch::new(
                        expected,
                        format!("body {}", excerpt(&response.body)),
                    ));
                }
            }
        }
    }
}

fn check_jwt(
    expect: &JwtExpectation,
    json: Option<&Value>,
    out: &mut Vec<Mismatch>,
    observe: &mut dyn FnMut(ObservationKind, String),
) {
    let field = &expect.field;
    let expected = format!("`{field}` is a JWT");
    let Some(token) = json.and_then(|body| lookup(body, field)) else {
        out.push(Mismatch::new(expected, format!("`{field}` is absent")));
        return;
    };
    let Some(token) = token.as_str() else {
        out.push(Mismatch::new(
            expected,
            format!("`{field}` is {}", short(token)),
        ));
        return;
    };
    let decoded = match jwt::decode(token) {
        Ok(decoded) => decoded,
        Err(problem) => {
            out.push(Mismatch::new(expected, problem));
            return;
        }
    };
    observe(
        ObservationKind::Jwt,
        format!("`{field}`: {}", decoded.describe()),
    );
    if !expect.alg.is_empty() {
        let alg = decoded.alg().unwrap_or("(none)");
        if !expect.alg.iter().any(|a| a == alg) {
            out.push(Mismatch::new(
                format!("`{field}` alg {}", expect.alg.join(" or ")),
                format!("alg {alg}"),
            ));
        }
    }
    let missing: Vec<&str> = expect
        .claims
        .iter()
        .filter(|c| !decoded.claims.contains_key(c.as_str()))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        out.push(Mismatch::new(
            format!("`{field}` claims {}", expect.claims.join(", ")),
            format!("missing {}", missing.join(", ")),
        ));
    }
    let missing: Vec<&str> = expect
        .header
        .iter()
        .filter(|h| !decoded.header.contains_key(h.as_str()))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        out.push(Mismatch::new(
            format!("`{field}` header fields {}", expect.header.join(", ")),
            format!("missing {}", missing.join(", ")),
        ));
    }
}

/// GEN-04 on one 429: its `Retry-After` is whole seconds or an HTTP-date, not negative, and no longer than
/// the window that caused the refusal plus a second. What was sent (or not) is observed; `RateLimit` fields
/// are GEN-05's (`expect.ratelimit`).
fn check_retry_after(
    response: &Response,
    window: WindowName,
    window_ms: u64,
    out: &mut Vec<Mismatch>,
    observe: &mut dyn FnMut(ObservationKind, String),
) {
    let bound_s = window_ms.div_ceil(1000) + 1;
    let expected = || {
        format!(
            "`Retry-After` in whole seconds or an HTTP-date, from 0 to {bound_s} s ({} plus 1 s)",
            window.as_str()
        )
    };
    match response.header("retry-after").map(str::trim) {
        None => observe(
            ObservationKind::RateLimitFields,
            "a 429 without `Retry-After`".into(),
        ),
        Some(value) => {
            observe(
                ObservationKind::RateLimitFields,
                format!("a 429 with `Retry-After: {value}`"),
            );
            match retry_after::seconds(value, response.header("date")) {
                Ok(Some(seconds)) if seconds > bound_s => out.push(Mismatch::new(
                    expected(),
                    format!("`Retry-After: {value}` is {seconds} s"),
                )),
                Ok(_) => {}
                Err(problem) => out.push(Mismatch::new(
                    expected(),
                    format!("`Retry-After: {value}` {problem}"),
                )),
            }
        }
    }
}

fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// A short hint at the body to follow a status, so `status 400` also says why.
fn body_hint(response: &Response) -> String {
    if response.body.is_empty() {
        String::new()
    } else {
        format!(", body {}", excerpt(&response.body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_echoed_whole_or_in_part_is_found() {
        let password = "Pw-abcdefghijklmnop";
        assert_eq!(
            echoed_part(br#"{"message":"bad Pw-abcdefghijklmnop"}"#, password),
            Some(password)
        );
        // node 20 quotes about ten characters after the point where it stopped parsing
        let node = br#"{"message":"Unexpected token 'P', ...\"assword\": Pw-abcdefg\"... is not valid JSON"}"#;
        assert_eq!(echoed_part(node, password), Some("Pw-abcde"));
        assert_eq!(echoed_part(br#"{"message":"Pw-abcd"}"#, password), None);
        assert_eq!(echoed_part(b"anything", ""), None);
        assert_eq!(echoed_part(b"nothing here", "pw"), None);
        assert_eq!(echoed_part(b"a pw here", "pw"), Some("pw"));
    }
}
