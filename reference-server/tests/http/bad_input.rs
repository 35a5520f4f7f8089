//! The bad-input corpus (`fixtures/bad-input/corpus.toml`) replayed against every endpoint of every
//! profile: every answer a 4xx with a JSON body, never a 5xx, never a dropped connection (GEN-02).

use std::collections::BTreeMap;

use authconform_reference_server::AppmixerProfile::{Appmixer6, Appmixer51, AppmixerCloud};
use reqwest::header::{HeaderName, HeaderValue};
use serde::Deserialize;

use crate::support::{config, start_listening};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Corpus {
    case: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[serde(default = "post")]
    method: String,
    paths: Option<Vec<String>>,
    /// `None`: application/json; `Some("")`: no content type at all.
    content_type: Option<String>,
    #[serde(default)]
    prefix: String,
    #[serde(default)]
    chunk: String,
    #[serde(default)]
    repeat: usize,
    #[serde(default)]
    suffix: String,
    body_hex: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default = "one")]
    header_repeat: usize,
    #[serde(default)]
    protocol: bool,
    #[serde(default)]
    success_allowed: bool,
}

fn post() -> String {
    "POST".into()
}

fn one() -> usize {
    1
}

impl Case {
    fn body(&self) -> Vec<u8> {
        if let Some(hex) = &self.body_hex {
            let digits: String = hex.chars().filter(|c| !c.is_whitespace()).collect();
            return (0..digits.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).expect("hex"))
                .collect();
        }
        let mut body = self.prefix.clone().into_bytes();
        for _ in 0..self.repeat {
            body.extend_from_slice(self.chunk.as_bytes());
        }
        body.extend_from_slice(self.suffix.as_bytes());
        body
    }
}

fn corpus() -> Corpus {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/bad-input/corpus.toml"
    );
    toml::from_str(&std::fs::read_to_string(path).unwrap()).expect("the corpus parses")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gen_02_the_bad_input_corpus_never_gets_a_5xx_or_a_dropped_connection() {
    let corpus = corpus();
    let mut sent = 0;
    let mut problems = Vec::new();
    for profile in [Appmixer51, Appmixer6, AppmixerCloud] {
        let server = start_listening(config(profile)).await;
        for case in &corpus.case {
            let paths = case.paths.clone().unwrap_or_else(|| {
                [
                    "/user/auth",
                    "/user",
                    "/authenticate",
                    "/_authconform/clock",
                ]
                .map(String::from)
                .to_vec()
            });
            for path in paths {
                let method = reqwest::Method::from_bytes(case.method.as_bytes()).unwrap();
                let mut request = server
                    .client
                    .request(method, server.url(&path))
                    .body(case.body());
                match case.content_type.as_deref() {
                    None => request = request.header("content-type", "application/json"),
                    Some("") => {}
                    Some(value) => request = request.header("content-type", value),
                }
                for (name, value) in &case.headers {
                    let value = value.repeat(case.header_repeat);
                    request = request.header(
                        HeaderName::from_bytes(name.as_bytes()).unwrap(),
                        HeaderValue::from_bytes(value.as_bytes()).unwrap(),
                    );
                }
                sent += 1;
                let where_ = format!("{} {} {}", profile.as_str(), path, case.name);
                let response = match request.send().await {
                    Ok(response) => response,
                    Err(error) => {
                        problems.push(format!("{where_}: no answer ({error})"));
                        continue;
                    }
                };
                let status = response.status().as_u16();
                let json = response
                    .headers()
                    .get("content-type")
                    .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
                let body = response.bytes().await;
                let fine = match status {
                    400..=499 => {
                        case.protocol
                            || (json
                                && body.as_ref().is_ok_and(|b| {
                                    serde_json::from_slice::<serde_json::Value>(b)
                                        .is_ok_and(|v| v.is_object())
                                }))
                    }
                    200..=299 => case.success_allowed,
                    _ => false,
                };
                if !fine {
                    problems.push(format!("{where_}: status {status}, JSON {json}"));
                }
            }
        }
    }
    println!(
        "bad-input corpus: {} cases, {sent} requests, {} problems",
        corpus.case.len(),
        problems.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
