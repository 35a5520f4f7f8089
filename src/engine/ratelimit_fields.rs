//! GEN-05 on the IETF `RateLimit` and `RateLimit-Policy` fields (draft-ietf-httpapi-ratelimit-headers), as
//! `target::ratelimit_fields` reads them: whether a refusal's fields agree with the limit that refused it,
//! and which policies a refusal shows used up. `X-RateLimit-*` fields are only shown.

use super::mismatch::Mismatch;
use crate::target::Response;
pub(crate) use crate::target::ratelimit_fields::{RateLimitFields, Remaining, read};

/// The policies a response shows used up: `(q, w)` of each `RateLimit` member at `r=0` whose
/// `RateLimit-Policy` declares both. How a refusal names its limit when its text does not.
pub(crate) fn exhausted_policies(response: &Response) -> Vec<(i64, i64)> {
    if response.header_lines("ratelimit").is_empty() {
        return Vec::new();
    }
    let fields = read(response);
    let mut exhausted: Vec<(i64, i64)> = fields
        .remaining
        .iter()
        .filter(|r| r.remaining == Some(0))
        .filter_map(|r| fields.policies.iter().find(|p| p.name == r.name))
        .filter_map(|p| p.quota.zip(p.window_s))
        .collect();
    exhausted.sort_unstable();
    exhausted.dedup();
    exhausted
}

/// `X-RateLimit-*` lines, shown and never judged.
pub(crate) fn legacy_lines(response: &Response) -> Vec<String> {
    response
        .header_names()
        .filter(|name| name.starts_with("x-ratelimit-"))
        .flat_map(|name| {
            response
                .header_lines(name)
                .into_iter()
                .map(move |value| format!("{name}: {value}"))
        })
        .collect()
}

/// GEN-05 on a refusal by a limit of `quota` per `window_ms`: when the fields are sent, every line parses,
/// a policy shows `r=0`, its `t` is no longer than its window (plus a second), and where the policy is
/// declared, its `q` and `w` are the limit's. Nothing sent holds.
pub(crate) fn judge_refusal(fields: &RateLimitFields, quota: u64, window_ms: u64) -> Vec<Mismatch> {
    let mut out: Vec<Mismatch> = fields
        .malformed
        .iter()
        .map(|why| {
            Mismatch::new(
                "`RateLimit` fields that parse (RFC 9651 lists)",
                why.clone(),
            )
        })
        .collect();
    if fields.is_empty() || !fields.malformed.is_empty() {
        return out;
    }
    let window_s = i64::try_from(window_ms.div_ceil(1000)).unwrap_or(i64::MAX);
    let quota = i64::try_from(quota).unwrap_or(i64::MAX);
    let exhausted: Vec<&Remaining> = fields
        .remaining
        .iter()
        .filter(|r| r.remaining == Some(0))
        .collect();
    if exhausted.is_empty() {
        let shown: Vec<String> = fields
            .remaining
            .iter()
            .map(|r| format!("\"{}\" r={}", r.name, show(r.remaining)))
            .collect();
        out.push(Mismatch::new(
            "on a 429, the policy that refused shows `r=0` in `RateLimit`",
            if shown.is_empty() {
                "no `RateLimit` member at all".to_owned()
            } else {
                format!("`RateLimit` shows {}", shown.join(", "))
            },
        ));
        return out;
    }
    // The refusing policy is one of those exhausted: one that agrees with the limit clears the refusal.
    let problems: Vec<(&str, Vec<String>)> = exhausted
        .iter()
        .map(|remaining| {
            let declared = fields.policies.iter().find(|p| p.name == remaining.name);
            let bound_s = declared
                .and_then(|p| p.window_s)
                .unwrap_or(window_s)
                .saturating_add(1);
            let mut wrong = Vec::new();
            if let Some(t) = remaining.reset_s
                && t > bound_s
            {
                wrong.push(format!("t={t} is longer than its window (plus 1 s)"));
            }
            if let Some(policy) = declared {
                if policy.quota.is_some_and(|q| q != quota) {
                    wrong.push(format!(
                        "q={} where the limit is {quota}",
                        show(policy.quota)
                    ));
                }
                if policy.window_s.is_some_and(|w| w != window_s) {
                    wrong.push(format!(
                        "w={} where the window is {window_s} s",
                        show(policy.window_s)
                    ));
                }
            }
            (remaining.name.as_str(), wrong)
        })
        .collect();
    if problems.iter().all(|(_, wrong)| !wrong.is_empty()) {
        let problems: Vec<String> = problems
            .iter()
            .map(|(name, wrong)| format!("\"{name}\": {}", wrong.join(", ")))
            .collect();
        out.push(Mismatch::new(
            format!(
                "the refusing policy (`r=0`) agrees with the limit: q={quota}, w={window_s}, t at most {} s",
                window_s.saturating_add(1)
            ),
            problems.join("; "),
        ));
    }
    out
}

fn show(value: Option<i64>) -> String {
    value.map_or_else(|| "(none)".to_owned(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(lines: &[(&str, &str)]) -> RateLimitFields {
        let mut headers = reqwest::header::HeaderMap::new();
        for (name, value) in lines {
            headers.append(
                reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        read(&Response {
            url: "http://127.0.0.1:1/".parse().unwrap(),
            status: 429,
            headers,
            body: Vec::new(),
            truncated: false,
        })
    }

    #[test]
    fn every_line_and_member_is_read() {
        let read = fields(&[
            ("ratelimit-policy", "\"email\";q=3;w=2"),
            ("ratelimit-policy", "\"ip\";q=6;w=2, burst;q=100;w=1"),
            ("ratelimit", "\"ip\";r=0;t=2"),
        ]);
        assert_eq!(read.policies.len(), 3);
        assert_eq!(read.policies[1].name, "ip");
        assert_eq!(read.policies[2].name, "burst");
        assert_eq!(read.remaining[0].remaining, Some(0));
        assert!(read.malformed.is_empty());
        // The IP limit refused, and its policy is the one judged, not the first line's.
        assert!(judge_refusal(&read, 6, 2_000).is_empty());
        let wrong_policy = judge_refusal(&read, 3, 2_000);
        assert_eq!(wrong_policy.len(), 1, "{wrong_policy:?}");
        assert!(wrong_policy[0].actual.contains("q=6 where the limit is 3"));
    }

    #[test]
    fn a_malformed_second_line_is_seen() {
        let read = fields(&[("ratelimit", "\"ip\";r=0;t=2"), ("ratelimit", "ip;;r=0")]);
        assert_eq!(read.malformed.len(), 1, "{read:?}");
        assert_eq!(judge_refusal(&read, 6, 2_000).len(), 1);
    }

    #[test]
    fn a_refusal_shows_an_exhausted_policy_within_its_window() {
        let remaining = fields(&[("ratelimit", "\"ip\";r=2;t=2")]);
        let found = judge_refusal(&remaining, 6, 2_000);
        assert!(found[0].actual.contains("r=2"), "{found:?}");
        let late = fields(&[("ratelimit", "\"ip\";r=0;t=9")]);
        assert!(judge_refusal(&late, 6, 2_000)[0].actual.contains("t=9"));
        assert!(
            judge_refusal(&fields(&[]), 6, 2_000).is_empty(),
            "nothing sent holds"
        );
    }
}
