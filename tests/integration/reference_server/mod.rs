//! The reference server over HTTP, requirement by requirement, on an injected clock.

mod appmixer;
mod bad_input;
mod creditsafe;
mod faults;
mod general;
mod openapi;
mod signup_limits;
mod store_outage;

use std::net::SocketAddr;

use authconform_reference_server::{
    AppState, AppmixerProfile, Clock, Config, RunningServer, SeedAccount,
};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

pub const ADMIN_PASSWORD: &str = "admin-password-1";
pub const CONNECT_USERNAME: &str = "connect-user@example.com";
pub const CONNECT_PASSWORD: &str = "connect-password-1";
/// 2023-11-14T22:13:20Z.
pub const START_MS: u64 = 1_700_000_000_000;

/// One server instance on port 0 with a manual clock, and a client for it.
pub struct Server {
    pub running: RunningServer,
    pub client: reqwest::Client,
}

/// What came back: status, headers and the body as JSON (`Value::Null` when it is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Answer {
    pub fn message(&self) -> &str {
        self.json["message"].as_str().unwrap_or("")
    }
}

pub fn config(profile: AppmixerProfile) -> Config {
    Config {
        profile,
        admin: SeedAccount {
            username: "admin@example.com".into(),
            email: Some("admin@example.com".into()),
            password: ADMIN_PASSWORD.into(),
        },
        creditsafe_account: SeedAccount {
            username: CONNECT_USERNAME.into(),
            email: None,
            password: CONNECT_PASSWORD.into(),
        },
        test_clock: true,
        trust_forwarded_for: true,
        ..Config::default()
    }
}

pub async fn start(config: Config) -> Server {
    let state = AppState::open(config, Clock::manual(START_MS))
        .await
        .expect("the state builds");
    let running = RunningServer::start(SocketAddr::from(([127, 0, 0, 1], 0)), state)
        .await
        .expect("the server binds");
    Server {
        running,
        client: reqwest::Client::builder().build().unwrap(),
    }
}

pub async fn start_profile(profile: AppmixerProfile) -> Server {
    start(config(profile)).await
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.base_url())
    }

    pub fn advance_ms(&self, ms: u64) {
        self.running.state.clock.advance_ms(ms);
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a readable body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            text,
            json,
        }
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(self.client.post(self.url(path)).json(&body))
            .await
    }

    /// A POST from a given client address (the server trusts `X-Forwarded-For` in these tests).
    pub async fn post_from(&self, client: &str, path: &str, body: Value) -> Answer {
        self.send(
            self.client
                .post(self.url(path))
                .header("x-forwarded-for", client)
                .json(&body),
        )
        .await
    }

    pub async fn post_with_token(&self, path: &str, token: &str, body: Value) -> Answer {
        self.send(
            self.client
                .post(self.url(path))
                .bearer_auth(token)
                .json(&body),
        )
        .await
    }

    pub async fn post_raw(
        &self,
        path: &str,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Answer {
        let mut request = self.client.post(self.url(path)).body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        self.send(request).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        let mut request = self.client.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        self.send(request).await
    }

    /// Creates a user (as profile 6/cloud expect: username, email, password) and returns the answer.
    pub async fn create_user(&self, username: &str, email: &str, password: &str) -> Answer {
        self.post(
            "/user",
            json!({ "username": username, "email": email, "password": password }),
        )
        .await
    }

    pub async fn admin_token(&self) -> String {
        let answer = self
            .post(
                "/user/auth",
                json!({ "username": "admin@example.com", "password": ADMIN_PASSWORD }),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        answer.json["token"].as_str().unwrap().to_owned()
    }
}

/// Redactions for snapshots: tokens and ids change every run.
#[macro_export]
macro_rules! assert_redacted_snapshot {
    ($name:expr, $value:expr) => {
        insta::assert_json_snapshot!($name, $value, {
            ".token" => "[token]",
            ".user.id" => "[id]",
            ".id" => "[id]",
        })
    };
}

/// Decodes a JWT's header and claims without verifying it.
pub fn jwt_parts(token: &str) -> (Value, Value) {
    use base64::Engine;
    let mut parts = token.split('.');
    let mut decode = || {
        let part = parts.next().expect("a JWT part");
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .expect("base64url");
        serde_json::from_slice::<Value>(&bytes).expect("JSON")
    };
    let header = decode();
    let claims = decode();
    (header, claims)
}
