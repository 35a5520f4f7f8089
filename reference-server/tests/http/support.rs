//! What every test here starts from: a server on a manual clock, answered in process through `app(state)`
//! (no socket) or, where the connection itself is under test, on a port of 127.0.0.1; and the requests and
//! answers the tests speak in.

use std::net::SocketAddr;

use authconform_reference_server::{
    AppState, AppmixerProfile, Clock, Config, RunningServer, SeedAccount, app,
};
use axum::extract::ConnectInfo;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tower::ServiceExt;

pub const ADMIN_PASSWORD: &str = "admin-password-1";
pub const CONNECT_USERNAME: &str = "connect-user@example.com";
pub const CONNECT_PASSWORD: &str = "connect-password-1";
/// 2023-11-14T22:13:20Z.
pub const START_MS: u64 = 1_700_000_000_000;

/// Where requests to an in-process server claim to go; nothing listens there.
const IN_PROCESS: &str = "http://reference.test";

/// The peer address of an in-process request (what a socket would tell the server).
const IN_PROCESS_PEER: ([u8; 4], u16) = ([127, 0, 0, 1], 40_000);

/// One server instance with a manual clock, answering in process or on a port, and a client that builds
/// (and, on a port, sends) the requests.
pub struct Server {
    pub state: AppState,
    pub client: reqwest::Client,
    router: axum::Router,
    running: Option<RunningServer>,
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

/// A server answered in process through `app(state)`: no socket.
pub async fn start(config: Config) -> Server {
    let state = AppState::open(config, Clock::manual(START_MS))
        .await
        .expect("the state builds");
    Server {
        router: app(state.clone()),
        state,
        client: reqwest::Client::new(),
        running: None,
    }
}

/// A server on a port of 127.0.0.1, for tests whose subject is the connection.
pub async fn start_listening(config: Config) -> Server {
    let mut server = start(config).await;
    let running = RunningServer::start(SocketAddr::from(([127, 0, 0, 1], 0)), server.state.clone())
        .await
        .expect("the server binds");
    server.running = Some(running);
    server
}

pub async fn start_profile(profile: AppmixerProfile) -> Server {
    start(config(profile)).await
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        match &self.running {
            Some(running) => format!("{}{path}", running.base_url()),
            None => format!("{IN_PROCESS}{path}"),
        }
    }

    /// The bound address of a server from [`start_listening`].
    pub fn address(&self) -> SocketAddr {
        self.running.as_ref().expect("a listening server").address
    }

    /// Stops a server from [`start_listening`] gracefully.
    pub async fn shutdown(self) -> std::io::Result<()> {
        self.running.expect("a listening server").shutdown().await
    }

    pub fn advance_ms(&self, ms: u64) {
        self.state.clock().advance_ms(ms);
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let request = request.build().expect("a well-formed request");
        let (status, headers, bytes) = match &self.running {
            Some(_) => {
                let response = self
                    .client
                    .execute(request)
                    .await
                    .expect("the server answers");
                let status = response.status().as_u16();
                let headers = response.headers().clone();
                (
                    status,
                    headers,
                    response.bytes().await.expect("a readable body").to_vec(),
                )
            }
            None => self.answer_in_process(request).await,
        };
        let text = String::from_utf8(bytes).expect("a UTF-8 body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            text,
            json,
        }
    }

    /// Hands `request` to the router as a connection from [`IN_PROCESS_PEER`] would.
    async fn answer_in_process(&self, request: reqwest::Request) -> (u16, HeaderMap, Vec<u8>) {
        let request: axum::http::Request<reqwest::Body> =
            request.try_into().expect("an HTTP request");
        let (mut parts, body) = request.into_parts();
        let body = body.as_bytes().expect("a body held in memory").to_vec();
        if !body.is_empty() && !parts.headers.contains_key("content-length") {
            parts.headers.insert("content-length", body.len().into());
        }
        parts
            .extensions
            .insert(ConnectInfo(SocketAddr::from(IN_PROCESS_PEER)));
        let request = axum::http::Request::from_parts(parts, axum::body::Body::from(body));
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("a readable body");
        (status, headers, bytes.to_vec())
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
