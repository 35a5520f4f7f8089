//! The cloud's signup rate limits (AM-SIGNUP-RL-*): one attempt counted per client address and per e-mail
//! address, the e-mail read however it is written, and the refusal as sent.

use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use crate::errors::{Boom, EMAIL_LIMIT_MESSAGE, IP_LIMIT_MESSAGE};
use crate::limits::Decision;
use crate::ratelimit_headers::{self, Counted, Policy};
use crate::routes::client_address::client_address;
use crate::state::AppState;

/// Counts one signup attempt against the per-IP and the per-e-mail limits (the cloud's), and returns the
/// refusal when either is used up; `counted` keeps each count for the answer's fields. The e-mail limit
/// counts an address however it is written (AM-SIGNUP-RL-09); an attempt that names no e-mail counts toward
/// the IP limit only.
pub(crate) async fn count_signup(
    state: &AppState,
    parts: &Parts,
    email: Option<&str>,
    now_ms: u64,
    counted: &mut Counted,
) -> Result<Option<Boom>, Boom> {
    let trust_forwarded_for =
        state.config.trust_forwarded_for || fault!(state.config, IpLimitTrustsForwardedFor);
    let client = client_address(parts, trust_forwarded_for);
    let by_ip = state.signup_by_ip.attempt(&client, now_ms).await?;
    if let Decision::Allowed { count, .. } = by_ip {
        counted.record(Policy::signup_ip(&state.config), count);
    }
    if let Decision::Limited { retry_after_ms } = by_ip {
        counted.refused();
        let mut refusal = Boom::too_many_requests(IP_LIMIT_MESSAGE, retry_after_ms);
        if fault!(state.config, IpLimitAnswers403) {
            refusal.status = StatusCode::FORBIDDEN;
        }
        return Ok(Some(refusal));
    }
    let Some(email) = email else {
        return Ok(None);
    };
    let email_key = if fault!(state.config, EmailLimitGlobal) {
        String::new()
    } else if fault!(state.config, EmailLimitCaseSensitive) {
        email.to_owned()
    } else if fault!(state.config, EmailLimitUntrimmed) {
        email.to_lowercase()
    } else {
        email_limit_key(email)
    };
    let by_email = state
        .signup_by_email
        .attempt(email_key.as_str(), now_ms)
        .await?;
    if let Decision::Allowed { count, .. } = by_email {
        counted.record(Policy::signup_email(&state.config), count);
    }
    if let Decision::Limited { retry_after_ms } = by_email {
        counted.refused();
        let message = if fault!(state.config, EmailLimitMessageOneWordOff) {
            "Too many signup attempts for this e-mail address. Please try again later."
        } else {
            EMAIL_LIMIT_MESSAGE
        };
        return Ok(Some(Boom::too_many_requests(message, retry_after_ms)));
    }
    Ok(None)
}

/// What the per-e-mail limit counts per: the address trimmed and lowercased.
fn email_limit_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Adds the signup policies to an answer of `POST /user` on the cloud (when the fields are on): what
/// [`count_signup`] counted, or only the policies when it counted nothing.
pub(crate) fn signup_fields(state: &AppState, response: &mut Response, counted: &Counted) {
    let config = &state.config;
    let policies = [Policy::signup_email(config), Policy::signup_ip(config)];
    ratelimit_headers::add_counted(config, response, &policies, counted);
}

/// A signup refusal as sent (plain text under the `SignupLimitPlainText` fault), with `RateLimit` fields
/// naming the limit that refused when they are on.
pub(crate) fn signup_refusal(state: &AppState, boom: Boom) -> Result<Response, Boom> {
    if fault!(state.config, SignupLimitPlainText) {
        return Ok((boom.status, boom.message).into_response());
    }
    let config = &state.config;
    let policies = [Policy::signup_email(config), Policy::signup_ip(config)];
    let refused = if boom.message == IP_LIMIT_MESSAGE {
        policies[1]
    } else {
        policies[0]
    };
    let reset_s = boom.retry_after_s.unwrap_or(1);
    let mut response = boom.into_response();
    ratelimit_headers::add(config, &mut response, &policies, refused, reset_s);
    Ok(response)
}
