//! The Appmixer user API: `POST /user/auth` (sign in), `POST /user` (create user, with the cloud's signup
//! rate limits and `API_USER_CREATE_SCOPE`) and `GET /user`, answering as the configured profile.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::body::{self, BodyError};
use crate::config::AppmixerProfile;
use crate::errors::{BAD_CREDENTIALS_MESSAGE, Boom, IP_LIMIT_MESSAGE};
use crate::json_answer::json_bytes_answer;
use crate::limits::Decision;
use crate::ratelimit_headers::Counted;
use crate::routes::client_address::client_address;
use crate::routes::signup_limits::{count_signup, signup_fields, signup_refusal};
use crate::state::AppState;
use crate::store::{LoginField, StoreError, User, new_id};
use crate::tokens::AppmixerClaims;

impl From<BodyError> for Boom {
    fn from(error: BodyError) -> Boom {
        Boom::new(error.status(), error.to_string())
    }
}

/// `POST /user/auth`.
pub(crate) async fn sign_in(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, Boom> {
    let (parts, body) = request.into_parts();
    let object = json_request_body(&state, &parts, body).await?;
    let password = match required_string(&object, "password") {
        Err(_) if fault!(state.config, SignInWithoutPasswordCrashes) => return Err(crash()),
        other => other?,
    };
    let (field, login) = match state.config.profile {
        AppmixerProfile::Appmixer51
            if fault!(state.config, SignIn51ByEmail) && !object.contains_key("username") =>
        {
            (LoginField::Email, required_string(&object, "email")?)
        }
        AppmixerProfile::Appmixer51 => {
            let username = required_string(&object, "username")?;
            if !looks_like_email(username) {
                return Err(Boom::bad_request("\"username\" must be a valid email"));
            }
            (LoginField::Username, username)
        }
        AppmixerProfile::Appmixer6 | AppmixerProfile::AppmixerCloud => {
            let username = non_empty_string(&object, "username")?;
            let email = non_empty_string(&object, "email")?;
            match (username, email) {
                (Some(username), _) => (LoginField::Username, username),
                (None, Some(_)) if fault!(state.config, SignInByEmailRefused) => {
                    return Err(Boom::bad_request("\"username\" is required"));
                }
                (None, Some(email)) => (LoginField::Email, email),
                (None, None) if fault!(state.config, SignInWithoutIdentityCrashes) => {
                    return Err(crash());
                }
                (None, None) => {
                    return Err(Boom::bad_request(
                        "\"value\" must contain at least one of [username, email]",
                    ));
                }
            }
        }
    };
    let now_ms = state.now_ms().await?;
    if fault!(state.config, SignInRateLimited)
        && state.config.profile == AppmixerProfile::AppmixerCloud
    {
        let client = client_address(&parts, state.config.trust_forwarded_for);
        if let Decision::Limited { retry_after_ms } =
            state.signup_by_ip.attempt(&client, now_ms).await?
        {
            return Err(Boom::too_many_requests(IP_LIMIT_MESSAGE, retry_after_ms));
        }
    }
    let user = state.store.find(field, login).await.map_err(store_error)?;
    if user.is_none() && fault!(state.config, SignInUnknownUserDiffers) {
        return Err(Boom::new(StatusCode::NOT_FOUND, "User not found"));
    }
    let verified = state
        .hasher
        .verify(password, user.as_ref().map(|user| &user.password))
        .await
        .map_err(|_| unavailable())?;
    let Some(user) = user.filter(|_| verified) else {
        if fault!(state.config, PasswordEchoed) {
            return Err(Boom::unauthorized(format!("Invalid password `{password}`")));
        }
        return Err(Boom::unauthorized(BAD_CREDENTIALS_MESSAGE));
    };
    let token = issue_token(&state, &user, now_ms)?;
    let mut user_body = user_json(state.config.profile, &user);
    if fault!(state.config, SignInUserWithoutPlan)
        && let Some(object) = user_body.as_object_mut()
    {
        object.remove("plan");
    }
    if fault!(state.config, SignInWithoutToken) {
        return Ok(axum::Json(json!({ "user": user_body })).into_response());
    }
    Ok(axum::Json(json!({ "user": user_body, "token": token })).into_response())
}

/// `POST /user`; on the cloud every answer to a caller the signup limits apply to carries their
/// `RateLimit` fields (when they are on).
pub(crate) async fn create_user(State(state): State<AppState>, request: Request) -> Response {
    let mut counted = Counted::default();
    let mut response = answer_create_user(state.clone(), request, &mut counted)
        .await
        .into_response();
    if state.config.profile == AppmixerProfile::AppmixerCloud {
        signup_fields(&state, &mut response, &counted);
    }
    response
}

async fn answer_create_user(
    state: AppState,
    request: Request,
    counted: &mut Counted,
) -> Result<Response, Boom> {
    let (parts, body) = request.into_parts();
    let object = json_request_body(&state, &parts, body).await?;
    if fault!(state.config, SignupNeedsToken) && bearer_token(&parts.headers)?.is_none() {
        return Err(Boom::unauthorized("Missing authentication"));
    }
    let now_ms = state.now_ms().await?;
    let caller = match bearer_token(&parts.headers)? {
        Some(token) => Some(authenticate(&state, token, now_ms).await?.0),
        None => None,
    };
    if let Some(required) = state
        .config
        .user_create_scope
        .as_ref()
        .filter(|_| !fault!(state.config, CreateScopeIgnored))
    {
        match &caller {
            None => return Err(Boom::unauthorized("Missing authentication")),
            Some(claims) if !claims.scope.iter().any(|scope| scope == required) => {
                return Err(Boom::new(StatusCode::FORBIDDEN, "Insufficient scope"));
            }
            Some(_) => {}
        }
    }
    let is_admin = caller
        .as_ref()
        .is_some_and(|claims| claims.scope.iter().any(|scope| scope == "admin"))
        && !fault!(state.config, AdminRateLimited);

    let limited = state.config.profile == AppmixerProfile::AppmixerCloud && !is_admin;
    if is_admin {
        counted.exempt();
    }
    if limited && state.config.count_invalid_signups {
        // This reading counts every attempt, valid or not: count before validating.
        let named = body::optional_string(&object, "email").ok().flatten();
        if let Some(refusal) = count_signup(&state, &parts, named, now_ms, counted).await? {
            return signup_refusal(&state, refusal);
        }
    }
    let password = required_string(&object, "password")?;
    let (username, email) = match state.config.profile {
        AppmixerProfile::Appmixer51 => {
            let username = non_empty_string(&object, "username")?;
            let email = non_empty_string(&object, "email")?;
            for (field, value) in [("username", username), ("email", email)] {
                if value.is_some_and(|value| !looks_like_email(value)) {
                    return Err(Boom::bad_request(format!(
                        "\"{field}\" must be a valid email"
                    )));
                }
            }
            let username = username.or(email).unwrap_or_default();
            let email = email.unwrap_or(username);
            (username, email)
        }
        AppmixerProfile::Appmixer6 | AppmixerProfile::AppmixerCloud => {
            let username = required_string(&object, "username")?;
            let email = match required_string(&object, "email") {
                Err(_) if fault!(state.config, SignupEmailOptional) => username,
                // Surrounding spaces are not part of an address (as joi's `trim()` reads it), unless
                // this server refuses them as invalid.
                Ok(email) if state.config.refuse_padded_emails => email,
                other => other?.trim(),
            };
            if !looks_like_email(email) && !fault!(state.config, SignupEmailOptional) {
                return Err(Boom::bad_request("\"email\" must be a valid email"));
            }
            (username, email)
        }
    };
    if limited
        && !state.config.count_invalid_signups
        && let Some(refusal) = count_signup(
            &state,
            &parts,
            Some(limit_key_source(&state, &object, email)),
            now_ms,
            counted,
        )
        .await?
    {
        return signup_refusal(&state, refusal);
    }

    if fault!(state.config, SignupDuplicatesAllowed) {
        let existing = match state
            .store
            .find(LoginField::Username, username)
            .await
            .map_err(store_error)?
        {
            Some(existing) => Some(existing),
            None => state
                .store
                .find(LoginField::Email, email)
                .await
                .map_err(store_error)?,
        };
        if let Some(existing) = existing {
            let token = issue_token(&state, &existing, now_ms)?;
            return Ok(axum::Json(
                json!({ "token": token, "user": user_json(state.config.profile, &existing) }),
            )
            .into_response());
        }
    }
    // Refuse duplicates before paying for a hash; the insert below re-checks atomically.
    for (field, value, name) in [
        (LoginField::Username, username, "username"),
        (LoginField::Email, email, "email"),
    ] {
        if !value.is_empty()
            && state
                .store
                .find(field, value)
                .await
                .map_err(store_error)?
                .is_some()
        {
            if fault!(state.config, DuplicateSignupCrashes) {
                return Err(crash());
            }
            return Err(store_error(StoreError::Taken(name)));
        }
    }
    let digest = state
        .hasher
        .digest(password)
        .await
        .map_err(|_| unavailable())?;
    let user = state
        .store
        .insert(User {
            id: new_id(now_ms / 1000),
            username: username.to_owned(),
            email: email.to_owned(),
            password: digest,
            is_active: false,
            plan: "free".into(),
            vendor: None,
            scope: vec!["user".into()],
            rendered_me: Default::default(),
        })
        .await
        .map_err(store_error)?;
    let token = if fault!(state.config, SignupTokenUnusable) {
        crate::tokens::AppmixerTokens::new(None, state.config.appmixer_token_lifetime_s)
            .issue(&user.id, &user.scope, now_ms / 1000)
            .map_err(|_| unavailable())?
    } else {
        issue_token(&state, &user, now_ms)?
    };
    let mut body = match state.config.profile {
        AppmixerProfile::Appmixer51 => json!({ "token": token }),
        profile => json!({ "token": token, "user": user_json(profile, &user) }),
    };
    if fault!(state.config, SignupAnswersWithoutToken)
        && let Some(object) = body.as_object_mut()
    {
        object.remove("token");
    }
    Ok(axum::Json(body).into_response())
}

/// `GET /user`.
pub(crate) async fn get_user(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, Boom> {
    get_user_with(&state, request.headers()).await
}

/// [`get_user`] on a state the caller holds, from the request's headers.
pub(crate) async fn get_user_with(state: &AppState, headers: &HeaderMap) -> Result<Response, Boom> {
    let Some(token) = bearer_token(headers)? else {
        return Err(Boom::unauthorized("Missing authentication"));
    };
    let now_ms = state.now_ms().await?;
    let (_, user) = authenticate(state, token, now_ms).await?;
    if fault!(state.config, MeWithoutScope) {
        return Ok(axum::Json(Me::of(&user, None)).into_response());
    }
    let rendered = user.rendered_me.get_or_init(|| {
        serde_json::to_vec(&Me::of(&user, Some(&user.scope)))
            .map(Bytes::from)
            .unwrap_or_default()
    });
    if rendered.is_empty() {
        return Ok(axum::Json(Me::of(&user, Some(&user.scope))).into_response());
    }
    Ok(json_bytes_answer(StatusCode::OK, rendered.clone()))
}

/// The `GET /user` answer, serialised straight from the user (no intermediate JSON tree), once per stored
/// user (`User::rendered_me`).
#[derive(serde::Serialize)]
struct Me<'a> {
    id: &'a str,
    username: &'a str,
    #[serde(rename = "isActive")]
    is_active: bool,
    email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a [String]>,
    plan: &'a str,
}

impl<'a> Me<'a> {
    fn of(user: &'a User, scope: Option<&'a [String]>) -> Me<'a> {
        Me {
            id: &user.id,
            username: &user.username,
            is_active: user.is_active,
            email: &user.email,
            scope,
            plan: &user.plan,
        }
    }
}

fn user_json(profile: AppmixerProfile, user: &User) -> Value {
    let mut body = json!({
        "id": user.id,
        "username": user.username,
        "isActive": user.is_active,
        "email": user.email,
        "plan": user.plan,
    });
    if profile == AppmixerProfile::Appmixer6
        && let Some(object) = body.as_object_mut()
    {
        object.insert(
            "vendor".into(),
            user.vendor.clone().map_or(Value::Null, Value::String),
        );
    }
    body
}

fn issue_token(state: &AppState, user: &User, now_ms: u64) -> Result<String, Boom> {
    let now_s = now_ms / 1000;
    let issued = if fault!(state.config, TokenWithoutIat) {
        state
            .appmixer_tokens
            .issue_without_iat(&user.id, &user.scope, now_s)
    } else {
        state.appmixer_tokens.issue(&user.id, &user.scope, now_s)
    };
    issued.map_err(|_| unavailable())
}

/// The claims of a valid token and the user it names.
async fn authenticate(
    state: &AppState,
    token: &str,
    now_ms: u64,
) -> Result<(Arc<AppmixerClaims>, Arc<User>), Boom> {
    let lenience = crate::tokens::Lenience {
        accept_expired: fault!(state.config, ExpiredTokensAccepted),
        accept_unsigned: fault!(state.config, AlgNoneAccepted),
    };
    let claims = state
        .appmixer_tokens
        .verify_with(token, now_ms / 1000, lenience)
        .map_err(|rejection| match rejection {
            crate::tokens::TokenRejection::Expired => Boom::unauthorized("Token expired"),
            crate::tokens::TokenRejection::Invalid => Boom::unauthorized("Invalid token"),
        })?;
    let user = state
        .store
        .get(&claims.id)
        .await
        .map_err(store_error)?
        .ok_or_else(|| Boom::unauthorized("Invalid token"))?;
    Ok((claims, user))
}

/// The token of an `Authorization: Bearer …` header; `Ok(None)` without the header, 401 for another scheme.
fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, Boom> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| Boom::unauthorized("Invalid token"))?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(Boom::unauthorized("Missing authentication"));
    }
    Ok(Some(token.trim()))
}

fn required_string<'a>(object: &'a Map<String, Value>, field: &str) -> Result<&'a str, Boom> {
    non_empty_string(object, field)?
        .ok_or_else(|| Boom::bad_request(format!("\"{field}\" is required")))
}

fn non_empty_string<'a>(
    object: &'a Map<String, Value>,
    field: &str,
) -> Result<Option<&'a str>, Boom> {
    match body::optional_string(object, field).map_err(Boom::bad_request)? {
        Some("") => Err(Boom::bad_request(format!(
            "\"{field}\" is not allowed to be empty"
        ))),
        other => Ok(other),
    }
}

/// A plain e-mail shape check: one `@`, something before it, a dotted domain after it, no spaces.
pub(crate) fn looks_like_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !value.chars().any(char::is_whitespace)
        && value.len() <= 254
}

/// The request's JSON object body: read within the limits, then parsed (413, 415 and 400 otherwise).
async fn json_request_body(
    state: &AppState,
    parts: &axum::http::request::Parts,
    body: axum::body::Body,
) -> Result<Map<String, Value>, Boom> {
    let bytes =
        body::read_limited_within(body, state.config.body_limit_bytes, state.request_timeout())
            .await?;
    body::json_object(&parts.headers, &bytes).map_err(|error| body_error(state, error, &bytes))
}

/// A body that is no JSON object, answered as a 4xx (or, under deliberate faults, a crash or an answer
/// that quotes the body).
fn body_error(state: &AppState, error: BodyError, bytes: &[u8]) -> Boom {
    if matches!(error, BodyError::Malformed(_)) {
        if fault!(state.config, MalformedJsonCrashes) {
            return crash();
        }
        if fault!(state.config, ParserErrorEchoesBody) {
            return Boom::bad_request(body::echoing_parse_error(bytes));
        }
    }
    Boom::from(error)
}

/// The address the e-mail limit counts: the validated one, or as sent under a deliberate fault.
fn limit_key_source<'a>(
    state: &AppState,
    object: &'a Map<String, Value>,
    email: &'a str,
) -> &'a str {
    if fault!(state.config, EmailLimitUntrimmed) {
        return object.get("email").and_then(Value::as_str).unwrap_or(email);
    }
    email
}

fn crash() -> Boom {
    Boom::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "An internal server error occurred",
    )
}

/// The answer to a store error: 409 for a taken name, 503 for a full or unreachable store.
fn store_error(error: StoreError) -> Boom {
    match error {
        StoreError::Taken(field) => Boom::new(
            StatusCode::CONFLICT,
            format!("A user with this {field} already exists"),
        ),
        StoreError::Full => unavailable(),
        StoreError::Unavailable(error) => Boom::from(error),
    }
}

fn unavailable() -> Boom {
    Boom::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "The service is temporarily unable to handle the request",
    )
}

#[cfg(test)]
mod tests {
    use super::looks_like_email;

    #[test]
    fn email_shapes() {
        assert!(looks_like_email("abc@example.com"));
        assert!(!looks_like_email("abc"));
        assert!(!looks_like_email("@example.com"));
        assert!(!looks_like_email("a@b"));
        assert!(!looks_like_email("a b@example.com"));
        assert!(!looks_like_email("a@@example.com"));
    }
}
