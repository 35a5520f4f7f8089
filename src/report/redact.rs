//! Hiding secrets from reports (passwords, tokens, Authorization values become `***`) unless
//! `--show-secrets`, and adding the `curl` reproduction of each recorded request.

use serde_json::Value;

use super::curl;
use crate::engine::{Exchange, RunReport, TargetReport};

const MASK: &str = "***";

/// Header names whose values are credentials.
const SECRET_HEADERS: [&str; 5] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
];

/// Replaces known secret values and credential-shaped fields.
#[derive(Debug, Clone)]
pub struct Redactor {
    /// Longest first, so a secret containing another is masked whole.
    secrets: Vec<String>,
}

impl Redactor {
    pub fn new(secrets: &[String]) -> Redactor {
        // Very short values would mask ordinary text; generated secrets are long.
        let mut secrets: Vec<String> = secrets.iter().filter(|s| s.len() >= 6).cloned().collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Redactor { secrets }
    }

    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MASK);
            }
        }
        out
    }

    fn header(&self, name: &str, value: &str) -> String {
        if SECRET_HEADERS.iter().any(|h| name.eq_ignore_ascii_case(h)) {
            // Keep the scheme (`Bearer ***`) so the reproduction still shows what kind of credential it was.
            return match value.split_once(' ') {
                Some((scheme, _)) => format!("{scheme} {MASK}"),
                None => MASK.to_owned(),
            };
        }
        self.text(value)
    }

    /// A body: credential fields of a JSON body masked, then known secrets anywhere.
    fn body(&self, body: &str) -> String {
        match serde_json::from_str::<Value>(body) {
            Ok(mut value) if value.is_object() || value.is_array() => {
                mask_fields(&mut value);
                self.text(&value.to_string())
            }
            _ => self.text(body),
        }
    }

    fn exchange(&self, exchange: &mut Exchange) {
        let request = &mut exchange.request;
        request.url = self.text(&request.url);
        for (name, value) in &mut request.headers {
            *value = self.header(name, value);
        }
        if let Some(body) = &mut request.body {
            *body = self.body(body);
        }
        if let Some(response) = &mut exchange.response {
            for (name, value) in &mut response.headers {
                *value = self.header(name, value);
            }
            response.body = self.body(&response.body);
        }
        if let Some(error) = &mut exchange.error {
            *error = self.text(error);
        }
    }
}

fn mask_fields(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, field) in map.iter_mut() {
                let key = key.to_ascii_lowercase();
                if (key.contains("password") || key.contains("token") || key.contains("secret"))
                    && field.is_string()
                {
                    *field = Value::String(MASK.to_owned());
                } else {
                    mask_fields(field);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_fields),
        _ => {}
    }
}

/// A copy of a target's report ready to print: secrets hidden (unless `show_secrets`) and `curl` filled in.
pub fn prepare_target(target: &TargetReport, show_secrets: bool) -> TargetReport {
    let mut target = target.clone();
    let redactor = Redactor::new(&target.secrets);
    for requirement in &mut target.requirements {
        for finding in &mut requirement.findings {
            if !show_secrets {
                for text in [
                    &mut finding.expected,
                    &mut finding.actual,
                    &mut finding.note,
                ]
                .into_iter()
                .flatten()
                {
                    *text = redactor.text(text);
                }
                if let Some(exchange) = &mut finding.exchange {
                    redactor.exchange(exchange);
                }
            }
            finding.curl = finding
                .exchange
                .as_ref()
                .map(|e| curl::reproduce(&e.request));
        }
        for sample in requirement
            .checks
            .iter_mut()
            .flat_map(|check| &mut check.exchanges)
        {
            if !show_secrets {
                redactor.exchange(&mut sample.exchange);
            }
            sample.curl = Some(curl::reproduce(&sample.exchange.request));
        }
    }
    if !show_secrets {
        for observation in &mut target.observations {
            observation.detail = redactor.text(&observation.detail);
        }
    }
    target
}

pub fn prepare_run(report: &RunReport, show_secrets: bool) -> RunReport {
    RunReport {
        targets: report
            .targets
            .iter()
            .map(|target| prepare_target(target, show_secrets))
            .collect(),
        ..report.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{RecordedRequest, RecordedResponse};

    #[test]
    fn credentials_are_masked_everywhere() {
        let redactor = Redactor::new(&["Pw-abcdefgh".to_owned()]);
        let mut exchange = Exchange {
            request: RecordedRequest {
                method: "POST".into(),
                url: "http://127.0.0.1:1/x?p=Pw-abcdefgh".into(),
                headers: vec![("Authorization".into(), "Bearer eyJ.x.y".into())],
                body: Some(r#"{"username":"a@example.com","password":"Pw-abcdefgh"}"#.into()),
                body_bytes: 10,
            },
            response: Some(RecordedResponse {
                status: 200,
                headers: vec![],
                body: r#"{"token":"eyJ.x.y","echo":"was Pw-abcdefgh"}"#.into(),
                body_bytes: 10,
            }),
            error: None,
        };
        redactor.exchange(&mut exchange);
        assert_eq!(exchange.request.url, "http://127.0.0.1:1/x?p=***");
        assert_eq!(exchange.request.headers[0].1, "Bearer ***");
        assert_eq!(
            exchange.request.body.as_deref(),
            Some(r#"{"username":"a@example.com","password":"***"}"#)
        );
        assert_eq!(
            exchange.response.unwrap().body,
            r#"{"token":"***","echo":"was ***"}"#
        );
    }

    #[test]
    fn plain_text_bodies_lose_known_secrets_only() {
        let redactor = Redactor::new(&["Pw-abcdefgh".to_owned(), "abc".to_owned()]);
        assert_eq!(redactor.body("user:Pw-abcdefgh abc"), "user:*** abc");
    }
}
