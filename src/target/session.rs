//! The admin account's session on a target: the one sign-in (`POST /user/auth` with the account's
//! credentials) whose token the engine's scenarios and the load profiles both use.

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
