//! How each declared policy is taken to be one of the documented limits: by its name, or by the endpoint
//! whose answer declared it and what it reads; never a guess.
//!
//! A policy is placed by its name when the name says (`email`, `ip`, `identical-invalid`, `lockout` and
//! their common spellings: `per-email`, `signup_ip`, `client`, `invalid`, `overall`, `global`, ...), else
//! by the endpoint whose answer declared it and what the policy reads: on `POST /authenticate` the larger
//! of two quotas is the overall threshold (the documents put it three orders above the identical-invalid
//! limit), and on `POST /user` a policy that shows earlier attempts after a signup with a fresh e-mail
//! counts per client address. A policy left over is listed as undecided, with why.

use super::{Declarations, DeclaredPolicy, Endpoint, LimitKind, Placed, Undecided};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::declared::tests::policy;

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
}
