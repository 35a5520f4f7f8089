//! Creditsafe Connect: `POST /authenticate` with its two limits (5 identical invalid requests per window,
//! then 429; more than 10,000 requests per window, then a lockout that 429s count toward) and the JWK set.

use std::net::{IpAddr, SocketAddr};

use axum::body::HttpBody;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::json;

use crate::body::{self, BodyError};
use crate::config::LockoutScope;
use crate::errors::{
    CONNECT_INVALID_CREDENTIALS, CONNECT_LOCKED_OUT, CONNECT_TOO_MANY_INVALID, ConnectError,
};
use crate::limits::{Decision, Ticket};
use crate::ratelimit_headers::{self, Counted, Policy};
use crate::routes::client_address::{client_address_from, recorded_peer};
use crate::state::AppState;

impl From<BodyError> for ConnectError {
    fn from(error: BodyError) -> ConnectError {
        ConnectError::new(error.status(), error.to_string())
    }
}

/// `POST /authenticate` through the router, from the peer recorded on the request.
pub(crate) async fn authenticate(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let peer = recorded_peer(&parts.extensions);
    authenticate_from(&state, &parts, body, peer).await
}

/// `POST /authenticate` from `peer`; every answer carries the endpoint's `RateLimit` fields (when they are
/// on). The request's head is borrowed from the caller, so that it is not copied into every future
/// between them (a future holds what it is given, and is moved whole).
pub(crate) async fn authenticate_from<B>(
    state: &AppState,
    parts: &Parts,
    body: B,
    peer: Option<SocketAddr>,
) -> Response
where
    B: HttpBody<Data = Bytes> + Unpin,
{
    let mut counted = Counted::default();
    let mut response = answer_authenticate(state, parts, body, peer, &mut counted)
        .await
        .into_response();
    let config = &state.config;
    let policies = [Policy::identical_invalid(config), Policy::lockout(config)];
    ratelimit_headers::add_counted(config, &mut response, &policies, &counted);
    response
}

async fn answer_authenticate<B>(
    state: &AppState,
    parts: &Parts,
    body: B,
    peer: Option<SocketAddr>,
    counted: &mut Counted,
) -> Result<Response, ConnectError>
where
    B: HttpBody<Data = Bytes> + Unpin,
{
    let trusted = state.config.trust_forwarded_for;
    let lockout_trusts = trusted || fault!(state.config, LockoutTrustsForwardedFor);
    let invalid_trusts = trusted || fault!(state.config, InvalidLimitTrustsForwardedFor);
    let lockout_client = client_address_from(peer, parts, lockout_trusts);
    let client = if invalid_trusts == lockout_trusts {
        lockout_client
    } else {
        client_address_from(peer, parts, invalid_trusts)
    };
    // Read the body first so a refused connection can be kept alive.
    let bytes =
        body::read_limited_within(body, state.config.body_limit_bytes, state.request_timeout())
            .await;
    let now_ms = state.now_ms().await?;

    // Every request counts toward the overall threshold, refused ones included.
    let lockout_key: Option<IpAddr> = match state.config.cs_lockout_scope {
        LockoutScope::Client => Some(lockout_client),
        LockoutScope::Endpoint => None,
    };
    let overall = if fault!(state.config, NoLockout | RefusalsNotCounted) {
        None
    } else if fault!(state.config, CounterNotAtomic) {
        counter_not_atomic(state, &lockout_key, now_ms).await?
    } else {
        Some(state.connect_overall.attempt(&lockout_key, now_ms).await?)
    };
    if let Some(Decision::Limited { retry_after_ms }) = overall {
        let mut refusal = ConnectError::limited(CONNECT_LOCKED_OUT, retry_after_ms);
        refusal.status = StatusCode::from_u16(state.config.cs_lockout_status)
            .unwrap_or(StatusCode::TOO_MANY_REQUESTS);
        if fault!(state.config, LockoutRetryAfterMillis) {
            refusal.retry_after_s = Some(retry_after_ms.max(1));
        }
        let lockout = Policy::lockout(&state.config);
        return Ok(refused(state, refusal, lockout, retry_after_ms));
    }
    if let Some(Decision::Allowed { count, .. }) = overall {
        counted.record(Policy::lockout(&state.config), count);
    }
    // Under a deliberate fault a successful sign-in takes its count back below.
    let overall_ticket = match overall {
        Some(Decision::Allowed { ticket, .. })
            if fault!(state.config, SuccessfulSignInsNotCounted) =>
        {
            Some(ticket)
        }
        _ => None,
    };
    let past = PastLockout {
        client,
        lockout_key,
        now_ms,
        overall_ticket,
    };
    // Boxed: the rest (the JSON, the identical-invalid limit, a password hash) would otherwise make the
    // future of every answer, a lockout's included, as large as its own, and a future is moved whole.
    Box::pin(answer_credentials(state, parts, bytes?, past, counted)).await
}

/// What the overall limit settled for a request it let through, for the rest of its answer.
struct PastLockout {
    /// Whom the identical-invalid limit counts.
    client: IpAddr,
    /// Whom the overall limit counted.
    lockout_key: Option<IpAddr>,
    now_ms: u64,
    /// The overall limit's count, to give back (under a deliberate fault) if the sign-in succeeds.
    overall_ticket: Option<Ticket>,
}

/// The answer to a request the overall limit let through: the credentials in `bytes`, checked under the
/// identical-invalid limit.
async fn answer_credentials(
    state: &AppState,
    parts: &Parts,
    bytes: Bytes,
    past: PastLockout,
    counted: &mut Counted,
) -> Result<Response, ConnectError> {
    let PastLockout {
        client,
        lockout_key,
        now_ms,
        overall_ticket,
    } = past;
    if fault!(state.config, ConnectMissingBodyCrashes) && bytes.is_empty() {
        return Err(ConnectError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "An internal server error occurred.",
        ));
    }
    // The body is optional: no body means no credentials, which is an invalid request like any other.
    let (username, password, identity) = if bytes.iter().all(u8::is_ascii_whitespace) {
        (None, None, Vec::new())
    } else {
        let object = body::json_object(&parts.headers, &bytes).map_err(|error| {
            if matches!(error, BodyError::Malformed(_))
                && fault!(state.config, MalformedJsonCrashes)
            {
                ConnectError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "An internal server error occurred.",
                )
            } else if matches!(error, BodyError::Malformed(_))
                && fault!(state.config, ParserErrorEchoesBody)
            {
                ConnectError::new(StatusCode::BAD_REQUEST, body::echoing_parse_error(&bytes))
            } else {
                ConnectError::from(error)
            }
        })?;
        let username = body::optional_string(&object, "username")
            .map_err(|message| ConnectError::new(StatusCode::BAD_REQUEST, message))?
            .map(str::to_owned);
        let password = body::optional_string(&object, "password")
            .map_err(|message| ConnectError::new(StatusCode::BAD_REQUEST, message))?
            .map(str::to_owned);
        // "Identical" ignores whitespace: key on the re-serialised JSON.
        let identity = serde_json::to_vec(&object).unwrap_or_else(|_| bytes.to_vec());
        (username, password, identity)
    };

    // Count this request as invalid up front (exact under concurrency); give it back if it was valid.
    let identity: &[u8] = if fault!(state.config, InvalidLimitPerClient) {
        &[]
    } else {
        &identity
    };
    if fault!(state.config, RefusalsNotCounted)
        && !state
            .connect_identical_invalid
            .would_refuse(&(client, identity), now_ms)
            .await?
        && let Decision::Limited { retry_after_ms } =
            state.connect_overall.attempt(&lockout_key, now_ms).await?
    {
        let refusal = ConnectError::limited(CONNECT_LOCKED_OUT, retry_after_ms);
        let lockout = Policy::lockout(&state.config);
        return Ok(refused(state, refusal, lockout, retry_after_ms));
    }
    let ticket = match state
        .connect_identical_invalid
        .attempt(&(client, identity), now_ms)
        .await?
    {
        Decision::Limited { retry_after_ms } => {
            let announced_ms = if fault!(state.config, RetryAfterBeyondWindow) {
                state
                    .config
                    .cs_identical_invalid_window_ms
                    .saturating_mul(30)
            } else {
                retry_after_ms
            };
            let refusal = ConnectError::limited(CONNECT_TOO_MANY_INVALID, announced_ms);
            let identical = Policy::identical_invalid(&state.config);
            return Ok(refused(state, refusal, identical, retry_after_ms));
        }
        Decision::Allowed { ticket, count } => {
            counted.record(Policy::identical_invalid(&state.config), count);
            ticket
        }
    };

    let account = &state.connect_account;
    let (Some(username), Some(password)) = (username, password) else {
        // Without both fields no account can match, and there is nothing to learn from timing: answer
        // at once instead of paying for a hash.
        return Err(ConnectError::new(
            StatusCode::UNAUTHORIZED,
            CONNECT_INVALID_CREDENTIALS,
        ));
    };
    let known = username == account.username;
    let verified = state
        .hasher
        .verify(&password, known.then_some(&account.password))
        .await
        .map_err(|_| {
            ConnectError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "The service is temporarily unable to handle the request.",
            )
        })?;
    if !verified {
        return Err(ConnectError::new(
            StatusCode::UNAUTHORIZED,
            CONNECT_INVALID_CREDENTIALS,
        ));
    }
    if !fault!(state.config, IdenticalValidCounted) {
        state.connect_identical_invalid.give_back(ticket).await?;
        counted.give_back(Policy::identical_invalid(&state.config));
    }
    if let Some(ticket) = overall_ticket {
        state.connect_overall.give_back(ticket).await?;
        counted.give_back(Policy::lockout(&state.config));
    }
    let token = state
        .creditsafe_tokens
        .issue(
            &account.id,
            &account.username,
            account.email.as_deref(),
            now_ms / 1000,
        )
        .map_err(|_| {
            ConnectError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "The service is temporarily unable to handle the request.",
            )
        })?;
    if fault!(state.config, ConnectTokenAlgNone) {
        return Ok(axum::Json(json!({ "token": unsigned(&token) })).into_response());
    }
    if fault!(state.config, ConnectTokenRenamed) {
        return Ok(axum::Json(json!({ "access_token": token })).into_response());
    }
    Ok(axum::Json(json!({ "token": token })).into_response())
}

/// A refusal by one of the endpoint's two limits, with `RateLimit` fields naming it when they are on.
fn refused(state: &AppState, refusal: ConnectError, by: Policy, retry_after_ms: u64) -> Response {
    let config = &state.config;
    let mut response = refusal.into_response();
    ratelimit_headers::add(
        config,
        &mut response,
        &[Policy::identical_invalid(config), Policy::lockout(config)],
        by,
        retry_after_ms.div_ceil(1000).max(1),
    );
    response
}

/// The same claims under an `alg: none` header, without a signature (a deliberate fault).
fn unsigned(token: &str) -> String {
    use base64::Engine;
    let header =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let claims = token.split('.').nth(1).unwrap_or_default();
    format!("{header}.{claims}.")
}

/// `GET /.well-known/jwks.json`: the key that verifies Creditsafe tokens.
pub(crate) async fn jwks(State(state): State<AppState>) -> Response {
    axum::Json(state.creditsafe_tokens.jwks().clone()).into_response()
}

/// The `counter-not-atomic` fault: check, wait, then count, so that concurrent requests pass the check
/// before any of them counts. A request waits until another has passed its check (then the two overlap,
/// however slowly a busy machine lets them arrive), or 25 ms when none comes (one at a time).
async fn counter_not_atomic(
    state: &AppState,
    lockout_key: &Option<IpAddr>,
    now_ms: u64,
) -> Result<Option<Decision>, ConnectError> {
    let refused = state
        .connect_overall
        .would_refuse(lockout_key, now_ms)
        .await?;
    // Wake those that checked before this one, then wait for one that checks after it (a `Notified` hears
    // `notify_waiters` from its creation on, so this request's own call does not wake it).
    state.unsynchronized_checks.notify_waiters();
    let another_checked = state.unsynchronized_checks.notified();
    let _ = tokio::time::timeout(std::time::Duration::from_millis(25), another_checked).await;
    let decision = state.connect_overall.attempt(lockout_key, now_ms).await?;
    Ok(refused.then_some(decision))
}
