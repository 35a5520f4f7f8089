//! Profile detection: a few harmless probes tell which documented profiles a target matches (appmixer-5.1,
//! appmixer-6, appmixer-cloud; Creditsafe Connect present or not), with the evidence for each conclusion;
//! what its answers declare in `RateLimit-Policy`; and, where that can be seen cheaply, whether it trusts
//! `X-Forwarded-For`.
//!
//! The declared policies cost nothing extra: they are read from the answers to the requests detection sends
//! anyway (the invalid `POST /authenticate`, the one signup). Trust in `X-Forwarded-For` is read from
//! `RateLimit`'s `r` under forged addresses (from 2001:db8::/32, reserved for documentation, random so no
//! earlier run shares one): first from a pair of identical invalid `POST /authenticate` requests with a
//! fresh body (two requests of the overall threshold, no signup), else from the signup detection sends: when
//! its per-address policy shows earlier attempts under a fresh forged address, the header was not used;
//! only when it shows none is a second signup sent, under another forged address.
//!
//! With an admin account, a signup refused for want of a token is tried again with the admin's token, so
//! an appmixer-6 server that requires a create scope is told from appmixer-cloud by its answer's shape.

use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};
use serde::Serialize;
use serde_json::{Value, json};

use crate::target::declared::{self, Declarations, DeclaredPolicy, Endpoint, LimitKind};
use crate::target::{
    ClientError, FORWARDED_FOR, PreparedRequest, Response, RunIds, TargetClient, TargetDescription,
    sign_in,
};

/// One probe and what it showed.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    pub request: String,
    pub status: Option<u16>,
    pub observation: String,
}

/// Whether the target trusts `X-Forwarded-For`, as far as its answers showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reading", rename_all = "lowercase")]
pub enum ForwardedFor {
    /// Requests under different forged addresses were counted apart.
    Trusted { by: String },
    /// Requests under different forged addresses were counted together.
    Ignored { by: String },
    /// Nothing seen tells.
    Unknown { why: String },
}

impl ForwardedFor {
    /// One phrase for the evidence: `X-Forwarded-For is trusted`, ...
    pub fn summary(&self) -> &'static str {
        match self {
            ForwardedFor::Trusted { .. } => "so X-Forwarded-For is trusted",
            ForwardedFor::Ignored { .. } => "so X-Forwarded-For is not trusted",
            ForwardedFor::Unknown { .. } => {
                "which does not tell whether X-Forwarded-For is trusted"
            }
        }
    }
}

/// What the probes concluded.
#[derive(Debug, Clone, Serialize)]
pub struct Detection {
    pub target: String,
    /// `appmixer-5.1`, `appmixer-6` or `appmixer-cloud`, when the Appmixer API answered like one of them.
    pub appmixer: Option<&'static str>,
    pub creditsafe_connect: bool,
    pub evidence: Vec<Evidence>,
    /// The policies the answers declared in `RateLimit-Policy`, placed as documented limits where they can be.
    pub declarations: Declarations,
    pub forwarded_for: ForwardedFor,
    /// Creating a user needed the admin's token (anonymous signups were refused, the admin's accepted).
    pub create_needs_admin: bool,
    /// The signups (`POST /user`) the probes sent, from the runner's own address whatever they claimed.
    #[serde(skip)]
    pub signups_sent: u64,
    /// The lifetime (`exp − iat`) of the token a signup returned, in seconds.
    pub appmixer_token_lifetime_s: Option<u64>,
}

impl Detection {
    /// The profiles to pass to `run --profile`.
    pub fn profiles(&self) -> Vec<&'static str> {
        let mut profiles: Vec<&'static str> = self.appmixer.into_iter().collect();
        if self.creditsafe_connect {
            profiles.push("creditsafe-connect");
        }
        profiles
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error(transparent)]
    Client(#[from] ClientError),
}

/// A random address in 2001:db8::/32 (documentation), as an `X-Forwarded-For` header.
pub(crate) fn forged_address() -> (HeaderName, HeaderValue) {
    let host: u64 = rand::random();
    let value = format!(
        "2001:db8:{:x}:{:x}:{:x}:{:x}::1",
        (host >> 48) & 0xffff,
        (host >> 32) & 0xffff,
        (host >> 16) & 0xffff,
        host & 0xffff
    );
    let value = HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("2001:db8::1"));
    (FORWARDED_FOR, value)
}

/// The probes, sent to the target's first base URL, and what each showed.
struct Prober {
    client: TargetClient,
    evidence: Vec<Evidence>,
    declared: Vec<DeclaredPolicy>,
    malformed: Vec<String>,
    read: Vec<Endpoint>,
    signups_sent: u64,
    /// The lifetime of the first Appmixer token an answer carried (`exp − iat`, in seconds).
    token_lifetime_s: Option<u64>,
}

impl Prober {
    /// Reads the lifetime of the token in a created user's `answer`, once, and says it for the evidence.
    fn token_lifetime(&mut self, answer: Option<&Value>) -> String {
        let lifetime = answer
            .and_then(|answer| answer.get("token"))
            .and_then(Value::as_str)
            .and_then(|token| crate::target::decode_jwt(token).ok())
            .and_then(|token| token.lifetime())
            .and_then(|(seconds, how)| {
                Some((u64::try_from(seconds).ok().filter(|s| *s > 0)?, how))
            });
        match lifetime {
            Some((seconds, how)) => {
                self.token_lifetime_s.get_or_insert(seconds);
                format!("; its token lives {seconds} s ({how})")
            }
            None => String::new(),
        }
    }

    async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: Vec<(HeaderName, HeaderValue)>,
    ) -> Option<Response> {
        if method == Method::POST && path == "/user" {
            self.signups_sent += 1;
        }
        let mut request = PreparedRequest::json(method, path, body.as_ref());
        request.headers.extend(headers);
        self.client.send_to(0, &request).await.ok()
    }

    fn note(&mut self, request: String, status: Option<u16>, observation: impl Into<String>) {
        self.evidence.push(Evidence {
            request,
            status,
            observation: observation.into(),
        });
    }

    /// Keeps what an answer of `endpoint` declares; returns its policies as read.
    fn declared_in(&mut self, endpoint: Endpoint, response: &Response) -> Vec<DeclaredPolicy> {
        let (policies, malformed) = declared::policies_in(endpoint, response);
        self.declared.extend(policies.iter().cloned());
        self.malformed.extend(malformed);
        if !self.read.contains(&endpoint) {
            self.read.push(endpoint);
        }
        policies
    }
}

/// `"email";q=10;w=3600 (r=9), ...`, or that nothing is declared.
fn shown(policies: &[DeclaredPolicy]) -> String {
    if policies.is_empty() {
        return "no RateLimit-Policy".into();
    }
    let members: Vec<String> = policies
        .iter()
        .map(|p| match p.remaining {
            Some(r) => format!("{} (r={r})", p.member()),
            None => p.member(),
        })
        .collect();
    format!("declares {}", members.join(", "))
}

/// `r` of the policy named `name` on an answer.
fn remaining_of(policies: &[DeclaredPolicy], name: &str) -> Option<u64> {
    policies
        .iter()
        .find(|p| p.name == name)
        .and_then(|p| p.remaining)
}

/// Two readings of `r` of one policy under two forged addresses: trusted if counted apart, ignored if
/// counted together.
fn pair_reading(policy: &str, first: u64, second: u64, what: &str) -> ForwardedFor {
    let seen =
        format!("{what}: \"{policy}\" r={first}, then r={second} under another forged address");
    if second == first {
        ForwardedFor::Trusted {
            by: format!("{seen}: counted apart"),
        }
    } else if second + 1 == first {
        ForwardedFor::Ignored {
            by: format!("{seen}: counted together"),
        }
    } else {
        ForwardedFor::Unknown {
            why: format!(
                "{seen}: neither one count apart nor together (another client may share it)"
            ),
        }
    }
}

/// Probes a target. Creates one user with a fresh identity (to read the shape of the create-user answer),
/// two when a second signup is what tells whether `X-Forwarded-For` is trusted.
pub async fn detect(target: &TargetDescription) -> Result<Detection, DetectError> {
    let mut prober = Prober {
        client: TargetClient::new(target)?,
        evidence: Vec::new(),
        declared: Vec::new(),
        malformed: Vec::new(),
        read: Vec::new(),
        signups_sent: 0,
        token_lifetime_s: None,
    };
    let id = RunIds::new().run_id;
    let post = Method::POST;
    let mut forwarded_for: Option<ForwardedFor> = None;

    // Creditsafe Connect: an invalid request is 401 (or 400), never 404. A fresh identity, so the
    // identical-invalid count starts from nothing.
    let identity = json!({ "username": format!("authconform-detect-{id}") });
    let response = prober
        .send(
            post.clone(),
            "/authenticate",
            Some(identity.clone()),
            vec![forged_address()],
        )
        .await;
    let status = response.as_ref().map(|r| r.status);
    let creditsafe_connect = matches!(status, Some(400 | 401 | 429));
    let first = match (&response, creditsafe_connect) {
        (Some(response), true) => prober.declared_in(Endpoint::Authenticate, response),
        _ => Vec::new(),
    };
    prober.note(
        "POST /authenticate {username} (forged XFF)".into(),
        status,
        if creditsafe_connect {
            format!("answers like Creditsafe Connect; {}", shown(&first))
        } else {
            "no Creditsafe Connect endpoint".into()
        },
    );
    // The same request under another forged address, when the identical-invalid policy shows its `r`.
    let identical = declared::place(first.clone(), Vec::new(), Vec::new(), false)
        .of(LimitKind::IdenticalInvalid)
        .filter(|placed| placed.policy.remaining.is_some())
        .map(|placed| placed.policy.name.clone());
    if let Some(name) = identical {
        let response = prober
            .send(
                post.clone(),
                "/authenticate",
                Some(identity),
                vec![forged_address()],
            )
            .await;
        let status = response.as_ref().map(|r| r.status);
        let second = match &response {
            Some(response) => prober.declared_in(Endpoint::Authenticate, response),
            None => Vec::new(),
        };
        let reading = match (remaining_of(&first, &name), remaining_of(&second, &name)) {
            (Some(a), Some(b)) => pair_reading(&name, a, b, "identical invalid requests"),
            _ => ForwardedFor::Unknown {
                why: format!("the second identical request showed no `r` for \"{name}\""),
            },
        };
        prober.note(
            "POST /authenticate, same body (another forged XFF)".into(),
            status,
            format!("{}; {}", shown(&second), reading.summary()),
        );
        forwarded_for = Some(reading);
    }

    // Appmixer: GET /user without a token is 401.
    let response = prober.send(Method::GET, "/user", None, Vec::new()).await;
    let status = response.as_ref().map(|r| r.status);
    let appmixer_present = status == Some(401);
    prober.note(
        "GET /user without a token".into(),
        status,
        if appmixer_present {
            "an Appmixer user API"
        } else {
            "no Appmixer user API"
        },
    );
    let mut create_needs_admin = false;
    let appmixer = if appmixer_present {
        let (profile, needs_admin, reading) =
            appmixer_profile(&mut prober, target, &id, forwarded_for.as_ref()).await;
        create_needs_admin = needs_admin;
        forwarded_for = combine(forwarded_for, reading);
        Some(profile)
    } else {
        None
    };

    let declarations = declared::place(
        prober.declared,
        prober.malformed,
        prober.read,
        appmixer_present,
    );
    let forwarded_for = forwarded_for.unwrap_or_else(|| ForwardedFor::Unknown {
        why: if declarations.is_empty() {
            "the answers declare no RateLimit policy whose `r` would show it".into()
        } else {
            "no policy counted per client address showed its `r` (RateLimit) on the answers read"
                .into()
        },
    });
    Ok(Detection {
        target: target.base_url.to_string(),
        appmixer,
        creditsafe_connect,
        evidence: prober.evidence,
        declarations,
        forwarded_for,
        create_needs_admin,
        signups_sent: prober.signups_sent,
        appmixer_token_lifetime_s: prober.token_lifetime_s,
    })
}

/// Two readings of `X-Forwarded-For` into one: ignored anywhere is ignored (one client's address is then
/// what the target counts, at least there).
fn combine(earlier: Option<ForwardedFor>, later: Option<ForwardedFor>) -> Option<ForwardedFor> {
    match (earlier, later) {
        (Some(ForwardedFor::Trusted { by }), Some(ForwardedFor::Ignored { by: ignored })) => {
            Some(ForwardedFor::Ignored {
                by: format!("{ignored}; though {by}"),
            })
        }
        (Some(ForwardedFor::Unknown { .. }) | None, later @ Some(_)) => later,
        (earlier, _) => earlier,
    }
}

/// The Appmixer profile, whether creating a user needed the admin, and what the signup showed about
/// `X-Forwarded-For` (when nothing earlier told).
async fn appmixer_profile(
    prober: &mut Prober,
    target: &TargetDescription,
    id: &str,
    told: Option<&ForwardedFor>,
) -> (&'static str, bool, Option<ForwardedFor>) {
    let post = Method::POST;
    // 5.1 signs in by an e-mail-shaped username only: e-mail alone is refused with 4xx other than 401.
    let response = prober
        .send(
            post.clone(),
            "/user/auth",
            Some(json!({ "email": "authconform-detect@example.com", "password": "not-the-password" })),
            Vec::new(),
        )
        .await;
    let status = response.as_ref().map(|r| r.status);
    let email_sign_in = status == Some(401);
    prober.note(
        "POST /user/auth {email, password}".into(),
        status,
        if email_sign_in {
            "sign-in by e-mail is accepted (6 or cloud)"
        } else {
            "sign-in needs a username (5.1)"
        },
    );

    // The shape of the create-user answer separates 6 (user with vendor) from cloud.
    let body = |n: u32| {
        let name = format!("detect.{id}.{n}@example.com");
        json!({ "username": name, "email": name, "password": format!("Detect-{id}-pw") })
    };
    let response = prober
        .send(post.clone(), "/user", Some(body(1)), vec![forged_address()])
        .await;
    let status = response.as_ref().map(|r| r.status);
    let signup = match &response {
        Some(response) => prober.declared_in(Endpoint::Signup, response),
        None => Vec::new(),
    };
    // Without `vendor`, sign-in by e-mail separates cloud from 5.1.
    let by_sign_in = if email_sign_in {
        "appmixer-cloud"
    } else {
        "appmixer-5.1"
    };
    let answer = response.as_ref().and_then(Response::json);
    let shape = shape_of(status, answer.as_ref(), by_sign_in);
    let request = "POST /user {username, email, password} (forged XFF)";
    let (profile, needs_admin) = match shape {
        Some((profile, observation)) => {
            let lifetime = prober.token_lifetime(answer.as_ref());
            prober.note(
                request.into(),
                status,
                format!("{observation}{lifetime}; {}", shown(&signup)),
            );
            (profile, false)
        }
        None if matches!(status, Some(401 | 403)) && target.admin.is_some() => {
            prober.note(
                request.into(),
                status,
                format!("not created without a token; {}", shown(&signup)),
            );
            as_admin(prober, target, body(2), by_sign_in).await
        }
        None => {
            prober.note(
                request.into(),
                status,
                format!(
                    "not created (a create scope or a limit): judged by sign-in alone{}; {}",
                    if matches!(status, Some(401 | 403)) {
                        " (give --admin to create the user as the admin)"
                    } else {
                        ""
                    },
                    shown(&signup)
                ),
            );
            (by_sign_in, false)
        }
    };

    // X-Forwarded-For from the per-address policy (or, when no name says which it is, from both signup
    // policies: the e-mail one cannot move, as every signup names a fresh address), unless the
    // identical-invalid pair told.
    let placed = declared::place(signup.clone(), Vec::new(), Vec::new(), true);
    let readable = |p: &&DeclaredPolicy| p.remaining.is_some() && p.quota.is_some();
    let watched: Vec<DeclaredPolicy> = match placed.of(LimitKind::SignupIp) {
        Some(ip) => vec![ip.policy.clone()]
            .into_iter()
            .filter(|p| readable(&p))
            .collect(),
        None if signup.len() == 2 && signup.iter().all(|p| readable(&p)) => signup.clone(),
        None => Vec::new(),
    };
    if watched.is_empty() {
        return (profile, needs_admin, None);
    }
    if let Some(used) = watched
        .iter()
        .find(|p| p.remaining < p.quota.map(|q| q.saturating_sub(1)))
    {
        let reading = ForwardedFor::Ignored {
            by: format!(
                "under a fresh forged address and e-mail the signup's \"{}\" showed r={} of q={}: this \
                 client's earlier signups counted",
                used.name,
                used.remaining.unwrap_or(0),
                used.quota.unwrap_or(0)
            ),
        };
        if let Some(note) = prober
            .evidence
            .iter_mut()
            .rev()
            .find(|n| n.request == request)
        {
            note.observation = format!("{}; {}", note.observation, reading.summary());
        }
        return (profile, needs_admin, Some(reading));
    }
    if told.is_some_and(|t| !matches!(t, ForwardedFor::Unknown { .. })) {
        return (profile, needs_admin, None);
    }
    let response = prober
        .send(post, "/user", Some(body(3)), vec![forged_address()])
        .await;
    let status = response.as_ref().map(|r| r.status);
    let second = match &response {
        Some(response) => prober.declared_in(Endpoint::Signup, response),
        None => Vec::new(),
    };
    let reading = signup_reading(&watched, &second);
    prober.note(
        "POST /user, fresh e-mail (another forged XFF)".into(),
        status,
        format!("{}; {}", shown(&second), reading.summary()),
    );
    (profile, needs_admin, Some(reading))
}

/// Two signups under two forged addresses, each with a fresh e-mail: trusted when no watched policy moved
/// (the per-address one counted each address apart), ignored when one moved by exactly one.
fn signup_reading(watched: &[DeclaredPolicy], second: &[DeclaredPolicy]) -> ForwardedFor {
    let mut moved = Vec::new();
    for policy in watched {
        let (Some(first), Some(then)) = (policy.remaining, remaining_of(second, &policy.name))
        else {
            return ForwardedFor::Unknown {
                why: format!("the second signup showed no `r` for \"{}\"", policy.name),
            };
        };
        if then != first {
            moved.push((policy.name.as_str(), first, then));
        }
    }
    let names: Vec<String> = watched.iter().map(|p| format!("\"{}\"", p.name)).collect();
    match moved.as_slice() {
        [] => ForwardedFor::Trusted {
            by: format!(
                "signups: {} kept its r under another forged address: counted apart",
                names.join(" and ")
            ),
        },
        [(name, first, then)] if then + 1 == *first => pair_reading(name, *first, *then, "signups"),
        _ => ForwardedFor::Unknown {
            why: format!(
                "{} moved otherwise than one count apart or together (another client may share them)",
                names.join(" and ")
            ),
        },
    }
}

/// The profile a created user's answer shows, or `None` when no user was created.
fn shape_of(
    status: Option<u16>,
    answer: Option<&Value>,
    by_sign_in: &'static str,
) -> Option<(&'static str, &'static str)> {
    if status != Some(200) {
        return None;
    }
    let user = answer.and_then(|a| a.get("user"));
    Some(match user {
        Some(user) if user.get("vendor").is_some() => {
            ("appmixer-6", "created; the user has `vendor`")
        }
        Some(_) => (by_sign_in, "created; the user has no `vendor`"),
        None => (by_sign_in, "created; the answer is only a token"),
    })
}

/// Signs the admin in and creates the user with its token: the answer's shape tells the profile.
async fn as_admin(
    prober: &mut Prober,
    target: &TargetDescription,
    body: Value,
    by_sign_in: &'static str,
) -> (&'static str, bool) {
    let Some(admin) = &target.admin else {
        return (by_sign_in, false);
    };
    let token = match sign_in(&prober.client, admin).await {
        Ok(token) => token,
        Err(error) => {
            prober.note(
                "POST /user/auth as the admin (--admin)".into(),
                None,
                format!("the admin could not sign in ({error}): judged by sign-in alone"),
            );
            return (by_sign_in, false);
        }
    };
    let bearer = HeaderValue::from_str(&format!("Bearer {token}"))
        .unwrap_or(HeaderValue::from_static("Bearer -"));
    let response = prober
        .send(
            Method::POST,
            "/user",
            Some(body),
            vec![(AUTHORIZATION, bearer)],
        )
        .await;
    let status = response.as_ref().map(|r| r.status);
    let answer = response.as_ref().and_then(Response::json);
    let request = "POST /user as the admin (--admin's token)".to_owned();
    match shape_of(status, answer.as_ref(), by_sign_in) {
        Some((profile, observation)) => {
            let lifetime = prober.token_lifetime(answer.as_ref());
            prober.note(
                request,
                status,
                format!(
                    "{observation}{lifetime}: creating users needs a token with a create scope"
                ),
            );
            (profile, true)
        }
        None => {
            prober.note(
                request,
                status,
                "not created with the admin's token either: judged by sign-in alone",
            );
            (by_sign_in, false)
        }
    }
}
