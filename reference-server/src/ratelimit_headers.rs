//! The draft-ietf-httpapi-ratelimit-headers fields, when `--ratelimit-headers` is on, on every answer of a
//! limited endpoint, as limiters such as express-rate-limit (`standardHeaders: 'draft-8'`) send them: every
//! policy of the endpoint on a `RateLimit-Policy` line of its own (`"name";q=QUOTA;w=SECONDS`), and on
//! `RateLimit` what is left of each policy that counted the request (`"name";r=REMAINING`). A refusal names
//! only the policy that refused, used up (`"name";r=0;t=SECONDS`). An answer given before any limit counted
//! the request (a signup refused as invalid before counting) declares the policies with no `RateLimit`; an
//! answer no limit applies to (the admin's signups) has neither field.

use axum::http::HeaderValue;
use axum::response::Response;

use crate::config::Config;

/// One limit as a policy: its name, quota and window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Policy {
    pub(crate) name: &'static str,
    pub(crate) quota: u64,
    pub(crate) window_ms: u64,
}

impl Policy {
    pub(crate) fn signup_email(config: &Config) -> Policy {
        Policy {
            name: "email",
            quota: config.signup_rate_limit_email,
            window_ms: config.signup_rate_limit_email_window_ms,
        }
    }

    pub(crate) fn signup_ip(config: &Config) -> Policy {
        Policy {
            name: "ip",
            quota: config.signup_rate_limit_ip,
            window_ms: config.signup_rate_limit_ip_window_ms,
        }
    }

    pub(crate) fn identical_invalid(config: &Config) -> Policy {
        Policy {
            name: "identical-invalid",
            quota: config.cs_identical_invalid_limit,
            window_ms: config.cs_identical_invalid_window_ms,
        }
    }

    pub(crate) fn lockout(config: &Config) -> Policy {
        Policy {
            name: "lockout",
            quota: config.cs_overall_threshold,
            window_ms: config.cs_overall_window_ms,
        }
    }
}

/// What the limits of one request counted, for the fields of its answer: each policy that counted it and
/// its count in the window, and whether the answer's fields are another's business (a refusal by a limit
/// carries its own, or none under a deliberate fault; a caller no limit applies to gets none).
#[derive(Debug, Default)]
pub(crate) struct Counted {
    counts: Vec<(Policy, u64)>,
    settled: bool,
}

impl Counted {
    /// `policy` counted the request as its `count`th of the window.
    pub(crate) fn record(&mut self, policy: Policy, count: u64) {
        self.counts.retain(|(p, _)| *p != policy);
        self.counts.push((policy, count));
    }

    /// The request's attempt at `policy` was given back (it turned out not to count).
    pub(crate) fn give_back(&mut self, policy: Policy) {
        for (p, count) in &mut self.counts {
            if *p == policy {
                *count = count.saturating_sub(1);
            }
        }
    }

    /// No limit of the endpoint applies to this caller (the answer carries no fields).
    pub(crate) fn exempt(&mut self) {
        self.settled = true;
    }

    /// A limit refused the request: the refusal carries the fields it carries (see [`add`]).
    pub(crate) fn refused(&mut self) {
        self.settled = true;
    }
}

/// Adds the fields to an answer of an endpoint limited by `policies`: the policies, and what `counted` left
/// of each. A refusal that already carries the fields (see [`add`]) is left as it is.
pub(crate) fn add_counted(
    config: &Config,
    response: &mut Response,
    policies: &[Policy],
    counted: &Counted,
) {
    if !config.ratelimit_headers
        || counted.settled
        || response.headers().contains_key("ratelimit-policy")
    {
        return;
    }
    let headers = response.headers_mut();
    for policy in policies {
        if let Ok(value) = HeaderValue::from_str(&policy_line(*policy, policy.quota)) {
            headers.append("ratelimit-policy", value);
        }
    }
    for (policy, count) in &counted.counts {
        let line = format!(
            "\"{}\";r={}",
            policy.name,
            policy.quota.saturating_sub(*count)
        );
        if let Ok(value) = HeaderValue::from_str(&line) {
            headers.append("ratelimit", value);
        }
    }
}

/// Adds the fields to a refusal by `refused`, one of `policies`, whose wait is `retry_after_s`.
pub(crate) fn add(
    config: &Config,
    response: &mut Response,
    policies: &[Policy],
    refused: Policy,
    retry_after_s: u64,
) {
    if !config.ratelimit_headers {
        return;
    }
    let headers = response.headers_mut();
    for policy in policies {
        let quota = if fault!(config, RateLimitPolicyQuotaWrong) && *policy == refused {
            policy.quota + 1
        } else {
            policy.quota
        };
        if let Ok(value) = HeaderValue::from_str(&policy_line(*policy, quota)) {
            headers.append("ratelimit-policy", value);
        }
    }
    let remaining = u8::from(fault!(config, RateLimitRemainingOnRefusal));
    let line = format!("\"{}\";r={remaining};t={retry_after_s}", refused.name);
    if let Ok(value) = HeaderValue::from_str(&line) {
        headers.append("ratelimit", value);
    }
}

fn policy_line(policy: Policy, quota: u64) -> String {
    format!(
        "\"{}\";q={quota};w={}",
        policy.name,
        policy.window_ms.div_ceil(1000)
    )
}
