//! The draft-ietf-httpapi-ratelimit-headers fields on refusals, when `--ratelimit-headers` is on: every
//! policy of the endpoint on a `RateLimit-Policy` line of its own (`"name";q=QUOTA;w=SECONDS`), and the
//! policy that refused on `RateLimit` (`"name";r=0;t=SECONDS`).

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
        let line = format!(
            "\"{}\";q={quota};w={}",
            policy.name,
            policy.window_ms.div_ceil(1000)
        );
        if let Ok(value) = HeaderValue::from_str(&line) {
            headers.append("ratelimit-policy", value);
        }
    }
    let remaining = u8::from(fault!(config, RateLimitRemainingOnRefusal));
    let line = format!("\"{}\";r={remaining};t={retry_after_s}", refused.name);
    if let Ok(value) = HeaderValue::from_str(&line) {
        headers.append("ratelimit", value);
    }
}
