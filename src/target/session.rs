//! The admin account's session on a target: the one sign-in (`POST /user/auth` with the account's
//! credentials) whose token the engine's scenarios and the load profiles both use, and the token kept
//! between uses ([`AdminSession`]).

use reqwest::Method;
use serde_json::{Value, json};

use super::client::{PreparedRequest, TargetClient, excerpt};
use super::description::Account;

/// Why signing in gave no token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    #[error("POST /user/auth: {summary}")]
    NoAnswer { summary: String },
    #[error("POST /user/auth answered {status} {body}")]
    NoToken { status: u16, body: String },
}

/// Signs `account` in and returns its token: a 200 whose JSON body carries `token`.
pub(crate) async fn sign_in(
    client: &TargetClient,
    account: &Account,
) -> Result<String, SignInError> {
    let body = json!({ "username": account.username, "password": account.password });
    let request = PreparedRequest::json(Method::POST, "/user/auth", Some(&body));
    let response = client
        .send(&request)
        .await
        .map_err(|no| SignInError::NoAnswer {
            summary: no.summary,
        })?;
    let token = response
        .json()
        .and_then(|body| body.get("token").and_then(Value::as_str).map(str::to_owned));
    match (response.status, token) {
        (200, Some(token)) => Ok(token),
        (status, _) => Err(SignInError::NoToken {
            status,
            body: excerpt(&response.body),
        }),
    }
}

/// The admin's token, kept: signed in on first need, and again once half its lifetime has passed on the
/// target's clock (waits can move it by weeks). A failed sign-in is kept and not retried. Held while signing
/// in, so those who ask at the same time sign in once.
#[derive(Debug, Default)]
pub(crate) struct AdminSession {
    state: tokio::sync::Mutex<SessionState>,
}

#[derive(Debug, Default)]
struct SessionState {
    token: Option<Result<String, String>>,
    signed_in_at_ms: u64,
}

impl AdminSession {
    /// The token as it stands, without signing in.
    pub(crate) async fn token(&self) -> Option<Result<String, String>> {
        self.state.lock().await.token.clone()
    }

    /// The token, signing `account` in first when there is none yet or it is `lifetime_ms / 2` old at
    /// `now_ms`. `None` without an account. `fresh_token` is told of every new token (to keep it out of
    /// reports).
    pub(crate) async fn ensure(
        &self,
        client: &TargetClient,
        account: Option<&Account>,
        now_ms: u64,
        lifetime_ms: u64,
        fresh_token: impl FnOnce(&str),
    ) -> Option<Result<String, String>> {
        let mut state = self.state.lock().await;
        let fresh = now_ms.saturating_sub(state.signed_in_at_ms) < lifetime_ms / 2;
        if matches!(state.token, Some(Ok(_))) && fresh || matches!(state.token, Some(Err(_))) {
            return state.token.clone();
        }
        state.signed_in_at_ms = now_ms;
        let account = account?;
        let result = sign_in(client, account)
            .await
            .map_err(|error| error.to_string());
        if let Ok(token) = &result {
            fresh_token(token);
        }
        state.token = Some(result);
        state.token.clone()
    }
}
