//! The limits a target declares in its IETF `RateLimit-Policy` fields: the policies read from an answer of
//! a limited endpoint, what each is taken to be (one of the documented limits, or "cannot tell", never a
//! guess), where they disagree with the limits the target is described with, and the probe `run` sends to
//! read them before any check.
//!
//! A policy is placed by its name when the name says (`email`, `ip`, `identical-invalid`, `lockout` and
//! their common spellings: `per-email`, `signup_ip`, `client`, `invalid`, `overall`, `global`, ...), else
//! by the endpoint whose answer declared it and what the policy reads: on `POST /authenticate` the larger
//! of two quotas is the overall threshold (the documents put it three orders above the identical-invalid
//! limit), and on `POST /user` a policy that shows earlier attempts after a signup with a fresh e-mail
//! counts per client address. A policy left over is listed as undecided, with why.
//!
//! The probe costs the target as little as a request to a limited endpoint can. Its signup names a fresh
//! e-mail address and no password, so every reading of the documents refuses it as invalid: a target that
//! validates before it counts counts nothing, and one that counts every attempt counts one attempt of the
//! client's address and none of any real e-mail address. Its `POST /authenticate` names a fresh user and
//! no password: one request of the overall threshold (the lockout checks start from an empty window) and
//! the first of an identity no one else sends. The lockout threshold is never probed. An endpoint is only
//! probed when the target's profiles have its limits.

use std::fmt::Write as _;
use std::path::Path;

use authconform_scenario::model::Profile;
use reqwest::Method;
use serde::Serialize;
use serde_json::json;

use super::client::{PreparedRequest, Response, TargetClient};
use super::description::{Limits, TargetDescription};
use super::flags::TargetFlags;
use super::ratelimit_fields;
use super::run_ids::RunIds;

/// A limited endpoint whose answers may declare policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Endpoint {
    /// `POST /user`: the signup limits (per e-mail address, per client address).
    Signup,
    /// `POST /authenticate`: the identical-invalid limit and the overall threshold.
    Authenticate,
}

impl Endpoint {
    pub fn request(self) -> &'static str {
        match self {
            Endpoint::Signup => "POST /user",
            Endpoint::Authenticate => "POST /authenticate",
        }
    }
}

/// One member of `RateLimit-Policy` as an answer declared it, with what `RateLimit` showed left of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeclaredPolicy {
    pub endpoint: Endpoint,
    pub name: String,
    pub quota: Option<u64>,
    pub window_s: Option<u64>,
    /// `r` of the same name in `RateLimit` on that answer.
    pub remaining: Option<u64>,
}

impl DeclaredPolicy {
    /// The member as written: `"email";q=10;w=3600`.
    pub fn member(&self) -> String {
        let mut text = format!("\"{}\"", self.name);
        if let Some(q) = self.quota {
            let _ = write!(text, ";q={q}");
        }
        if let Some(w) = self.window_s {
            let _ = write!(text, ";w={w}");
        }
        text
    }
}

/// A documented limit a policy can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LimitKind {
    SignupEmail,
    SignupIp,
    IdenticalInvalid,
    OverallThreshold,
}

impl LimitKind {
    const ALL: [LimitKind; 4] = [
        LimitKind::SignupEmail,
        LimitKind::SignupIp,
        LimitKind::IdenticalInvalid,
        LimitKind::OverallThreshold,
    ];

    /// The `[limits]` names of its quota and its window.
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            LimitKind::SignupEmail => ("signup_email", "signup_email_window_ms"),
            LimitKind::SignupIp => ("signup_ip", "signup_ip_window_ms"),
            LimitKind::IdenticalInvalid => ("cs_identical_invalid", "cs_invalid_window_ms"),
            LimitKind::OverallThreshold => ("cs_overall_threshold", "cs_overall_window_ms"),
        }
    }

    fn endpoint(self) -> Endpoint {
        match self {
            LimitKind::SignupEmail | LimitKind::SignupIp => Endpoint::Signup,
            LimitKind::IdenticalInvalid | LimitKind::OverallThreshold => Endpoint::Authenticate,
        }
    }

    fn other_on_its_endpoint(self) -> LimitKind {
        match self {
            LimitKind::SignupEmail => LimitKind::SignupIp,
            LimitKind::SignupIp => LimitKind::SignupEmail,
            LimitKind::IdenticalInvalid => LimitKind::OverallThreshold,
            LimitKind::OverallThreshold => LimitKind::IdenticalInvalid,
        }
    }

    /// The kind a policy's name says, when it says one.
    fn named(name: &str) -> Option<LimitKind> {
        let lower = name.to_ascii_lowercase();
        let words: Vec<&str> = lower
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        let has = |list: &[&str]| words.iter().any(|w| list.contains(w));
        let kinds = [
            (LimitKind::SignupEmail, lower.contains("mail")),
            (
                LimitKind::SignupIp,
                has(&[
                    "ip", "ips", "ipv4", "ipv6", "client", "addr", "remote", "peer",
                ]),
            ),
            (
                LimitKind::IdenticalInvalid,
                has(&[
                    "identical",
                    "invalid",
                    "duplicate",
                    "same",
                    "failed",
                    "failures",
                ]),
            ),
            (
                LimitKind::OverallThreshold,
                has(&["lockout", "lock", "overall", "global", "threshold", "total"]),
            ),
        ];
        let mut said = kinds.into_iter().filter(|(_, says)| *says).map(|(k, _)| k);
        match (said.next(), said.next()) {
            (Some(kind), None) => Some(kind),
            _ => None,
        }
    }
}

/// What a declared policy was taken to be, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Placed {
    pub kind: LimitKind,
    pub policy: DeclaredPolicy,
    /// `its name`, `the larger quota on POST /authenticate`, ...
    pub by: String,
}

impl Placed {
    /// The quota, when declared.
    pub fn quota(&self) -> Option<u64> {
        self.policy.quota
    }

    /// The window in milliseconds, when declared (`w` is in whole seconds).
    pub fn window_ms(&self) -> Option<u64> {
        self.policy.window_s.map(|w| w.saturating_mul(1000))
    }
}

/// A declared policy that could not be placed as a documented limit.
#[derive(Debug, Clone, Serialize)]
pub struct Undecided {
    pub policy: DeclaredPolicy,
    pub why: String,
}

/// Everything the answers seen declared: the policies placed, and those that could not be.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Declarations {
    pub placed: Vec<Placed>,
    /// Policies declared but not placed, each with why.
    pub undecided: Vec<Undecided>,
    /// Field lines that did not parse, as `endpoint: why`.
    pub malformed: Vec<String>,
    /// The endpoints whose answers were read.
    pub read: Vec<Endpoint>,
}

impl Declarations {
    pub fn is_empty(&self) -> bool {
        self.placed.is_empty() && self.undecided.is_empty()
    }

    /// The policy placed as `kind`, if any.
    pub fn of(&self, kind: LimitKind) -> Option<&Placed> {
        self.placed.iter().find(|p| p.kind == kind)
    }

    /// The declared value of a `[limits]` name, with the policy that declared it.
    pub fn value_of(&self, limit: &str) -> Option<(u64, &Placed)> {
        LimitKind::ALL.into_iter().find_map(|kind| {
            let (quota, window) = kind.names();
            let placed = self.of(kind)?;
            if limit == quota {
                Some((placed.quota()?, placed))
            } else if limit == window {
                Some((placed.window_ms()?, placed))
            } else {
                None
            }
        })
    }
}

/// The policies one answer of `endpoint` declares (with `RateLimit`'s `r` for each), and its malformed lines.
pub(crate) fn policies_in(
    endpoint: Endpoint,
    response: &Response,
) -> (Vec<DeclaredPolicy>, Vec<String>) {
    let fields = ratelimit_fields::read(response);
    let unsigned = |value: Option<i64>| value.and_then(|v| u64::try_from(v).ok());
    let policies = fields
        .policies
        .iter()
        .map(|policy| DeclaredPolicy {
            endpoint,
            name: policy.name.clone(),
            quota: unsigned(policy.quota),
            window_s: unsigned(policy.window_s),
            remaining: fields
                .remaining
                .iter()
                .find(|r| r.name == policy.name)
                .and_then(|r| unsigned(r.remaining)),
        })
        .collect();
    let malformed = fields
        .malformed
        .into_iter()
        .map(|why| format!("{}: {why}", endpoint.request()))
        .collect();
    (policies, malformed)
}

/// Places the policies the answers declared. `fresh_email_signup` says the signup answer among them was to
/// an e-mail address never used before (so a policy showing earlier attempts there is not the e-mail one).
pub(crate) fn place(
    declared: Vec<DeclaredPolicy>,
    malformed: Vec<String>,
    read: Vec<Endpoint>,
    fresh_email_signup: bool,
) -> Declarations {
    let mut out = Declarations {
        malformed,
        read,
        ..Declarations::default()
    };
    // The same policy may come on several answers: the latest reading of each counts.
    let mut policies: Vec<DeclaredPolicy> = Vec::new();
    for policy in declared {
        policies.retain(|p| !(p.endpoint == policy.endpoint && p.name == policy.name));
        policies.push(policy);
    }
    let mut left: Vec<DeclaredPolicy> = Vec::new();
    for policy in policies {
        match LimitKind::named(&policy.name) {
            Some(kind) if kind.endpoint() != policy.endpoint => out.undecided.push(Undecided {
                policy: policy.clone(),
                why: format!(
                    "its name reads like {}, which {} does not have",
                    kind.names().0,
                    policy.endpoint.request()
                ),
            }),
            Some(kind) if out.of(kind).is_some() => out.undecided.push(Undecided {
                why: format!("another policy is already named like {}", kind.names().0),
                policy,
            }),
            Some(kind) => out.placed.push(Placed {
                kind,
                policy,
                by: "its name".into(),
            }),
            None => left.push(policy),
        }
    }
    for endpoint in [Endpoint::Signup, Endpoint::Authenticate] {
        let unnamed: Vec<DeclaredPolicy> = left
            .iter()
            .filter(|p| p.endpoint == endpoint)
            .cloned()
            .collect();
        place_unnamed(&mut out, endpoint, unnamed, fresh_email_signup);
    }
    out
}

/// Places the policies of one endpoint whose names do not say what they are.
fn place_unnamed(
    out: &mut Declarations,
    endpoint: Endpoint,
    unnamed: Vec<DeclaredPolicy>,
    fresh_email_signup: bool,
) {
    let kinds: Vec<LimitKind> = LimitKind::ALL
        .into_iter()
        .filter(|k| k.endpoint() == endpoint)
        .collect();
    let open: Vec<LimitKind> = kinds
        .iter()
        .copied()
        .filter(|k| out.of(*k).is_none())
        .collect();
    match (unnamed.as_slice(), open.as_slice()) {
        ([], _) => {}
        ([policy], [kind]) => out.placed.push(Placed {
            kind: *kind,
            policy: policy.clone(),
            by: format!(
                "the other policy on {} than {}",
                endpoint.request(),
                kind.other_on_its_endpoint().names().0
            ),
        }),
        ([a, b], [_, _]) => {
            let pair = match endpoint {
                Endpoint::Authenticate => by_quota(a, b),
                Endpoint::Signup if fresh_email_signup => by_earlier_attempts(a, b),
                Endpoint::Signup => None,
            };
            match pair {
                Some(((first, first_kind), (second, second_kind), by)) => {
                    out.placed.push(Placed {
                        kind: first_kind,
                        policy: first.clone(),
                        by: by.clone(),
                    });
                    out.placed.push(Placed {
                        kind: second_kind,
                        policy: second.clone(),
                        by,
                    });
                }
                None => {
                    let why = match endpoint {
                        Endpoint::Authenticate => {
                            "two unnamed policies with the same quota: which is the identical-invalid \
                             limit and which the overall threshold cannot be told"
                        }
                        Endpoint::Signup => {
                            "two unnamed policies, and the readings do not tell which counts per e-mail \
                             address and which per client address"
                        }
                    };
                    for policy in [a, b] {
                        out.undecided.push(Undecided {
                            policy: policy.clone(),
                            why: why.into(),
                        });
                    }
                }
            }
        }
        (policies, open) => {
            let why = if open.is_empty() {
                format!(
                    "both limits of {} are already placed by name",
                    endpoint.request()
                )
            } else if policies.len() == 1 {
                format!(
                    "the only policy on {}, and its name does not say whether it is {}",
                    endpoint.request(),
                    kinds
                        .iter()
                        .map(|k| k.names().0)
                        .collect::<Vec<_>>()
                        .join(" or ")
                )
            } else {
                format!(
                    "{} unnamed policies on {}, which has {} documented limit(s) to place",
                    policies.len(),
                    endpoint.request(),
                    open.len()
                )
            };
            for policy in policies {
                out.undecided.push(Undecided {
                    policy: policy.clone(),
                    why: why.clone(),
                });
            }
        }
    }
}

type Pair<'p> = (
    (&'p DeclaredPolicy, LimitKind),
    (&'p DeclaredPolicy, LimitKind),
    String,
);

/// On `POST /authenticate`: the larger quota is the overall threshold.
fn by_quota<'p>(a: &'p DeclaredPolicy, b: &'p DeclaredPolicy) -> Option<Pair<'p>> {
    let (qa, qb) = (a.quota?, b.quota?);
    let (small, large) = match qa.cmp(&qb) {
        std::cmp::Ordering::Less => (a, b),
        std::cmp::Ordering::Greater => (b, a),
        std::cmp::Ordering::Equal => return None,
    };
    Some((
        (small, LimitKind::IdenticalInvalid),
        (large, LimitKind::OverallThreshold),
        "the smaller and the larger quota on POST /authenticate".into(),
    ))
}

/// On `POST /user` after a signup with a fresh e-mail: a policy with fewer than `q - 1` left had counted
/// attempts before, so it is not keyed on that e-mail: it counts per client address.
fn by_earlier_attempts<'p>(a: &'p DeclaredPolicy, b: &'p DeclaredPolicy) -> Option<Pair<'p>> {
    let used_before = |p: &DeclaredPolicy| {
        p.quota
            .zip(p.remaining)
            .map(|(q, r)| r < q.saturating_sub(1))
    };
    let (per_address, per_email) = match (used_before(a)?, used_before(b)?) {
        (true, false) => (a, b),
        (false, true) => (b, a),
        _ => return None,
    };
    Some((
        (per_email, LimitKind::SignupEmail),
        (per_address, LimitKind::SignupIp),
        "after a signup with a fresh e-mail, only one showed earlier attempts (so it counts per client \
         address)"
            .into(),
    ))
}

/// Whether [`probe`] sends a signup (from the runner's own address) to this target.
pub fn probe_signs_up(target: &TargetDescription) -> bool {
    target.profiles.contains(&Profile::AppmixerCloud)
}

/// Reads what the target declares, for `run`: one probe per limited endpoint its profiles have (see the
/// module's doc for what each costs). A probe that gets no answer declares nothing: the run reports the
/// target as it finds it.
pub(crate) async fn probe(target: &TargetDescription) -> Declarations {
    let Ok(client) = TargetClient::new(target) else {
        return Declarations::default();
    };
    let id = RunIds::new().run_id;
    let mut declared = Vec::new();
    let mut malformed = Vec::new();
    let mut read = Vec::new();
    let profiles = &target.profiles;
    let probes = [
        (
            probe_signs_up(target),
            Endpoint::Signup,
            "/user",
            json!({ "username": format!("declared.{id}@example.com"), "email": format!("declared.{id}@example.com") }),
        ),
        (
            profiles.contains(&Profile::CreditsafeConnect),
            Endpoint::Authenticate,
            "/authenticate",
            json!({ "username": format!("authconform-declared-{id}") }),
        ),
    ];
    for (wanted, endpoint, path, body) in probes {
        if !wanted {
            continue;
        }
        let request = PreparedRequest::json(Method::POST, path, Some(&body));
        if let Ok(response) = client.send_to(0, &request).await {
            let (policies, bad) = policies_in(endpoint, &response);
            declared.extend(policies);
            malformed.extend(bad);
            read.push(endpoint);
        }
    }
    place(declared, malformed, read, true)
}

/// Where a limit's value in a description came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Given {
    /// `--limit NAME=VALUE`.
    Flag,
    /// The target file, at `file:line:col`.
    File(String),
    /// Neither: the documented default.
    Default,
}

impl Given {
    fn describe(&self, name: &str, value: u64) -> String {
        match self {
            Given::Flag => format!("--limit {name}={value}"),
            Given::File(at) => format!("{at} sets {value}"),
            Given::Default => format!("not given, so the documented default {value}"),
        }
    }
}

/// Where `name`'s value came from: a flag, a line of the target file, or the default.
pub(crate) fn origin_of(flags: &TargetFlags, name: &str) -> Given {
    if flags.limits.iter().any(|l| l.name == name) {
        return Given::Flag;
    }
    if let Some(path) = &flags.target_file
        && let Ok(text) = std::fs::read_to_string(path)
        && let Some(at) = locate_limit(path, &text, name)
    {
        return Given::File(at);
    }
    Given::Default
}

/// `file:line:col` of `[limits] name` in a target file's text.
fn locate_limit(path: &Path, text: &str, name: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Spans {
        #[serde(default)]
        limits: std::collections::BTreeMap<String, toml::Spanned<toml::Value>>,
    }
    let spans: Spans = toml::from_str(text).ok()?;
    let start = spans.limits.get(name)?.span().start;
    let before = text.get(..start)?;
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Some(format!("{}:{line}:{col}", path.display()))
}

/// One limit the description gives otherwise than the target declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disagreement {
    pub limit: &'static str,
    pub given: u64,
    pub given_from: Given,
    pub declared: u64,
    /// `POST /user declares "email";q=3;w=2 (placed by its name)`.
    pub declared_from: String,
}

impl std::fmt::Display for Disagreement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}, but the server declares {} ({})",
            self.limit,
            self.given_from.describe(self.limit, self.given),
            self.declared,
            self.declared_from
        )
    }
}

impl Disagreement {
    /// What `--trust-declared` took instead: `cs_identical_invalid = 4 as the server declares (...), not 5`.
    pub fn taken(&self) -> String {
        format!(
            "{} = {} as the server declares ({}), not {}",
            self.limit, self.declared, self.declared_from, self.given
        )
    }
}

/// The limits `limits` gives otherwise than `declarations` declare. A window agrees when it rounds up to
/// the declared whole seconds (`w`), as GEN-05 reads it.
pub(crate) fn disagreements(
    declarations: &Declarations,
    limits: &Limits,
    flags: &TargetFlags,
) -> Vec<Disagreement> {
    let mut out = Vec::new();
    for kind in LimitKind::ALL {
        let Some(placed) = declarations.of(kind) else {
            continue;
        };
        let (quota_name, window_name) = kind.names();
        let declared_from = format!(
            "{} declares `{}`, placed as {quota_name} by {}",
            placed.policy.endpoint.request(),
            placed.policy.member(),
            placed.by
        );
        // `Limits` is read by name through its one setter, on a copy.
        let mut given_limits = limits.clone();
        if let Some(quota) = placed.quota() {
            let given = given_limits.field_mut(quota_name).map_or(0, |v| *v);
            if given != quota {
                out.push(Disagreement {
                    limit: quota_name,
                    given,
                    given_from: origin_of(flags, quota_name),
                    declared: quota,
                    declared_from: declared_from.clone(),
                });
            }
        }
        if let Some(window_s) = placed.policy.window_s {
            let given = given_limits.field_mut(window_name).map_or(0, |v| *v);
            if given.div_ceil(1000) != window_s {
                out.push(Disagreement {
                    limit: window_name,
                    given,
                    given_from: origin_of(flags, window_name),
                    declared: window_s.saturating_mul(1000),
                    declared_from,
                });
            }
        }
    }
    out
}

/// The limits with every declared value in place of the described one.
pub(crate) fn with_declared(limits: &Limits, disagreements: &[Disagreement]) -> Limits {
    let mut limits = limits.clone();
    for disagreement in disagreements {
        if let Some(field) = limits.field_mut(disagreement.limit) {
            *field = disagreement.declared;
        }
    }
    limits
}

/// The description gives limits otherwise than the target declares: `run` stops before any check.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "the target declares other limits than it is described with:\n{}\nnothing was sent to check it: correct the \
     description, or add --trust-declared to run with the server's values",
    disagreements.iter().map(|d| format!("  {d}")).collect::<Vec<_>>().join("\n")
)]
pub struct DeclaredMismatch {
    pub disagreements: Vec<Disagreement>,
}

/// Reads what `target` declares ([`probe`]) and holds it against its limits: agreement leaves the
/// description as it is; a disagreement is an error, unless `trust_declared`, which puts the server's values
/// in place (and returns the disagreements so the caller can say so).
pub async fn reconcile(
    flags: &TargetFlags,
    target: &mut TargetDescription,
    trust_declared: bool,
) -> Result<Vec<Disagreement>, DeclaredMismatch> {
    let declarations = probe(target).await;
    let disagreements = disagreements(&declarations, &target.limits, flags);
    if disagreements.is_empty() {
        return Ok(disagreements);
    }
    if !trust_declared {
        return Err(DeclaredMismatch { disagreements });
    }
    target.limits = with_declared(&target.limits, &disagreements);
    Ok(disagreements)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(endpoint: Endpoint, name: &str, q: u64, w: u64, r: Option<u64>) -> DeclaredPolicy {
        DeclaredPolicy {
            endpoint,
            name: name.into(),
            quota: Some(q),
            window_s: Some(w),
            remaining: r,
        }
    }

    #[test]
    fn names_place_policies_in_their_common_spellings() {
        for (name, kind) in [
            ("email", Some(LimitKind::SignupEmail)),
            ("signup_email", Some(LimitKind::SignupEmail)),
            ("per-e-mail", Some(LimitKind::SignupEmail)),
            ("ip", Some(LimitKind::SignupIp)),
            ("signup-per-IP", Some(LimitKind::SignupIp)),
            ("client", Some(LimitKind::SignupIp)),
            ("identical-invalid", Some(LimitKind::IdenticalInvalid)),
            ("invalid_requests", Some(LimitKind::IdenticalInvalid)),
            ("lockout", Some(LimitKind::OverallThreshold)),
            ("global", Some(LimitKind::OverallThreshold)),
            ("100-in-1min", None),
            ("default", None),
            ("email-per-ip", None),
        ] {
            assert_eq!(LimitKind::named(name), kind, "{name}");
        }
    }

    #[test]
    fn unnamed_policies_are_placed_by_their_endpoint_and_reading_or_left_undecided() {
        let auth = place(
            vec![
                policy(Endpoint::Authenticate, "10000-in-5min", 10_000, 300, None),
                policy(Endpoint::Authenticate, "5-in-2min", 5, 120, None),
            ],
            Vec::new(),
            vec![Endpoint::Authenticate],
            true,
        );
        assert_eq!(
            auth.value_of("cs_overall_threshold").map(|(v, _)| v),
            Some(10_000)
        );
        assert_eq!(
            auth.value_of("cs_invalid_window_ms").map(|(v, _)| v),
            Some(120_000)
        );

        let signup = place(
            vec![
                policy(Endpoint::Signup, "a", 10, 3600, Some(9)),
                policy(Endpoint::Signup, "b", 50, 3600, Some(40)),
            ],
            Vec::new(),
            vec![Endpoint::Signup],
            true,
        );
        assert_eq!(signup.value_of("signup_ip").map(|(v, _)| v), Some(50));
        let unreadable = place(
            vec![
                policy(Endpoint::Signup, "a", 10, 3600, Some(9)),
                policy(Endpoint::Signup, "b", 50, 3600, Some(49)),
            ],
            Vec::new(),
            vec![Endpoint::Signup],
            true,
        );
        assert!(unreadable.placed.is_empty());
        assert_eq!(unreadable.undecided.len(), 2, "{unreadable:?}");

        let alone = place(
            vec![policy(Endpoint::Signup, "fixed-window", 10, 60, None)],
            Vec::new(),
            vec![Endpoint::Signup],
            true,
        );
        assert!(alone.placed.is_empty());
        assert!(alone.undecided[0].why.contains("does not say"), "{alone:?}");

        let other = place(
            vec![
                policy(Endpoint::Signup, "email", 3, 2, None),
                policy(Endpoint::Signup, "anything", 6, 2, None),
            ],
            Vec::new(),
            vec![Endpoint::Signup],
            true,
        );
        assert_eq!(other.value_of("signup_ip").map(|(v, _)| v), Some(6));

        let wrong_endpoint = place(
            vec![policy(Endpoint::Authenticate, "email", 3, 2, None)],
            Vec::new(),
            vec![Endpoint::Authenticate],
            true,
        );
        assert!(wrong_endpoint.placed.is_empty());
    }

    #[test]
    fn a_window_agrees_when_it_rounds_up_to_the_declared_seconds() {
        let declarations = place(
            vec![policy(Endpoint::Signup, "email", 3, 2, None)],
            Vec::new(),
            vec![Endpoint::Signup],
            true,
        );
        let limits = Limits {
            signup_email: 3,
            signup_email_window_ms: 1_500,
            ..Limits::default()
        };
        let flags = TargetFlags::default();
        assert!(disagreements(&declarations, &limits, &flags).is_empty());
        let longer = Limits {
            signup_email: 5,
            signup_email_window_ms: 3_000,
            ..limits
        };
        let found = disagreements(&declarations, &longer, &flags);
        assert_eq!(
            found
                .iter()
                .map(|d| (d.limit, d.given, d.declared))
                .collect::<Vec<_>>(),
            [
                ("signup_email", 5, 3),
                ("signup_email_window_ms", 3_000, 2_000)
            ]
        );
        assert_eq!(found[0].given_from, Given::Default);
        let taken = with_declared(&longer, &found);
        assert_eq!(
            (taken.signup_email, taken.signup_email_window_ms),
            (3, 2_000)
        );
    }

    #[test]
    fn a_limit_is_located_in_the_target_file() {
        let text = "base_url = \"http://x\"\nprofiles = [\"appmixer-cloud\"]\n\n[limits]\nsignup_email = 7\n";
        assert_eq!(
            locate_limit(Path::new("t.toml"), text, "signup_email").as_deref(),
            Some("t.toml:5:16")
        );
        assert_eq!(locate_limit(Path::new("t.toml"), text, "signup_ip"), None);
    }
}
