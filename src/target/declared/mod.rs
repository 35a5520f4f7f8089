//! The limits a target declares in its IETF `RateLimit-Policy` fields: the policies read from an answer of
//! a limited endpoint, and the probe `run` sends to read them before any check.
//!
//! `placing` takes each policy to be one of the documented limits (or "cannot tell", never a guess); `given`
//! holds them against the limits the target is described with.
//!
//! The probe costs the target as little as a request to a limited endpoint can. Its signup creates a user
//! with a fresh e-mail address: one attempt of the client's address and none of any real e-mail address,
//! which every reading of the documents counts, so a run on one client address counts it exactly in its IP
//! check instead of waiting a window for it to age out. Its `POST /authenticate` names a fresh user and
//! no password: one request of the overall threshold (the lockout checks start from an empty window) and
//! the first of an identity no one else sends. The lockout threshold is never probed. An endpoint is only
//! probed when the target's profiles have its limits.

mod given;
mod placing;

use std::fmt::Write as _;

use authconform_scenario::model::Profile;
use reqwest::Method;
use serde::Serialize;
use serde_json::json;

pub use given::{DeclaredMismatch, Disagreement, Given, Reconciled, reconcile};
pub(crate) use placing::place;

use super::client::{PreparedRequest, Response, TargetClient};
use super::description::TargetDescription;
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
    /// The status the probe's signup was answered with, when it was sent and answered.
    pub signup_status: Option<u16>,
}

impl Declarations {
    /// Whether the probe's signup is known to count toward the IP limit under every reading: it was
    /// accepted (a valid signup for a fresh address), not refused by a limit or as invalid.
    pub fn signup_counted(&self) -> bool {
        self.signup_status
            .is_some_and(|status| (200..300).contains(&status))
    }

    /// How many signups the IP policy's window held once the probe's signup was accepted, by the target's
    /// own count: its quota less what `RateLimit` showed left of it. `None` when it did not say, or the
    /// probe was not accepted (a refusal's `r=0` says only that the window is full).
    pub fn signup_ip_held(&self) -> Option<u64> {
        if !self.signup_counted() {
            return None;
        }
        self.ip_window_held()
    }

    /// How many signups the IP policy's window held on the answer read, by the target's own count (its
    /// quota less `r`), whatever that answer was.
    pub fn ip_window_held(&self) -> Option<u64> {
        let placed = self.of(LimitKind::SignupIp)?;
        placed.quota()?.checked_sub(placed.policy.remaining?)
    }
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
    let mut signup_status = None;
    let profiles = &target.profiles;
    let probes = [
        (
            probe_signs_up(target),
            Endpoint::Signup,
            "/user",
            json!({ "username": format!("declared.{id}@example.com"), "email": format!("declared.{id}@example.com"), "password": format!("declared-{id}-password") }),
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
            if endpoint == Endpoint::Signup {
                signup_status = Some(response.status);
            }
            let (policies, bad) = policies_in(endpoint, &response);
            declared.extend(policies);
            malformed.extend(bad);
            read.push(endpoint);
        }
    }
    Declarations {
        signup_status,
        ..place(declared, malformed, read, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn policy(
        endpoint: Endpoint,
        name: &str,
        q: u64,
        w: u64,
        r: Option<u64>,
    ) -> DeclaredPolicy {
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
    fn the_ip_window_holds_the_quota_less_what_is_left_once_the_probe_was_accepted() {
        let declared = |r: Option<u64>, status: u16| {
            let mut declarations = place(
                vec![
                    policy(Endpoint::Signup, "email", 10, 60, Some(9)),
                    policy(Endpoint::Signup, "ip", 50, 60, r),
                ],
                Vec::new(),
                vec![Endpoint::Signup],
                true,
            );
            declarations.signup_status = Some(status);
            declarations
        };
        assert_eq!(declared(Some(38), 200).signup_ip_held(), Some(12));
        assert_eq!(declared(None, 200).signup_ip_held(), None, "no `r`");
        assert_eq!(
            declared(Some(0), 429).signup_ip_held(),
            None,
            "a refusal says only that the window is full"
        );
        assert_eq!(declared(Some(51), 200).signup_ip_held(), None, "r over q");
    }
}
