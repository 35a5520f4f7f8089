//! `init --measure-limits`: limits measured by sending what they count, for a target that does not declare
//! them. The e-mail limit with a throwaway address, the identical-invalid limit with a throwaway body, and
//! each one's window when its refusal's `Retry-After` is short enough to wait out; and, when nothing the
//! target declared showed it, whether it trusts `X-Forwarded-For`: the identical-invalid limit used up once
//! more with another throwaway body, then the same request under a forged address. Never the lockout
//! threshold: crossing it would lock every client of the server out.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::detect::{ForwardedFor, forged_address};
use crate::target::{
    NoResponse, PreparedRequest, Response, RunIds, TargetClient, TargetDescription,
};

/// At most this many attempts for one limit: beyond it the limit is reported as not reached.
pub const MAX_ATTEMPTS: u64 = 100;

/// The documented e-mail refusal (AM-SIGNUP-RL-01): an attempt refused with another message (the IP
/// limit's) says nothing of the e-mail limit.
const EMAIL_MESSAGE: &str =
    "Too many signup attempts for this email address. Please try again later.";

/// What to measure, and how long a window may be waited out.
#[derive(Debug, Clone, Copy)]
pub struct MeasureOptions {
    pub email_limit: bool,
    pub identical_invalid_limit: bool,
    /// Whether to find out if the target trusts `X-Forwarded-For` (with the identical-invalid limit, once
    /// measured).
    pub forwarded_for: bool,
    /// A window whose refusal asks for a longer wait is estimated from `Retry-After`, not waited out.
    pub max_wait: Duration,
}

/// One limit as measured: its value and how it was found, in a sentence for the target file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measurement {
    /// The target file's name of the limit (`signup_email`, `cs_invalid_window_ms`, ...).
    pub limit: &'static str,
    pub value: u64,
    pub how: String,
}

/// A limit that could not be measured, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotMeasured {
    pub limit: &'static str,
    pub why: String,
}

/// Everything `--measure-limits` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Measurements {
    pub measured: Vec<Measurement>,
    pub not_measured: Vec<NotMeasured>,
    /// The signups (`POST /user`) the measures sent from the runner's own address.
    pub signups_sent: u64,
    /// Whether the target trusts `X-Forwarded-For`, when that was measured.
    pub forwarded_for: Option<ForwardedFor>,
}

impl Measurements {
    pub fn of(&self, limit: &str) -> Option<&Measurement> {
        self.measured.iter().find(|m| m.limit == limit)
    }
}

/// What measuring costs the target, for the warning printed before anything is sent.
pub fn cost(options: &MeasureOptions) -> String {
    let mut parts = Vec::new();
    if options.email_limit {
        parts.push(format!(
            "up to {MAX_ATTEMPTS} signups with one throwaway e-mail address (each also counts toward this \
             client address's IP limit, and the first creates a user)"
        ));
    }
    if options.identical_invalid_limit {
        parts.push(format!(
            "up to {MAX_ATTEMPTS} identical invalid POST /authenticate requests with a throwaway user name \
             (they count toward the lockout threshold, which is never approached)"
        ));
        if options.forwarded_for {
            parts.push(
                "as many with a second throwaway name, plus two (one under a forged X-Forwarded-For), to see \
                 whether that header is trusted"
                    .to_owned(),
            );
        }
    }
    format!(
        "--measure-limits sends {}; a window is waited out when its refusal asks for at most {} s",
        parts.join(", and "),
        options.max_wait.as_secs()
    )
}

/// Measures what `options` asks for on the target.
pub async fn measure(target: &TargetDescription, options: &MeasureOptions) -> Measurements {
    let client = match TargetClient::new(target) {
        Ok(client) => client,
        Err(error) => {
            return Measurements {
                measured: Vec::new(),
                not_measured: vec![NotMeasured {
                    limit: "all",
                    why: error.to_string(),
                }],
                signups_sent: 0,
                forwarded_for: None,
            };
        }
    };
    let id = RunIds::new().run_id;
    let mut found = Measurements::default();
    if options.email_limit {
        let email = format!("authconform-measure-{id}@example.com");
        let body =
            json!({ "username": email, "email": email, "password": format!("Measure-{id}-pw1") });
        let probe = Probe {
            limit: "signup_email",
            window: "signup_email_window_ms",
            path: "/user",
            body,
            refused: |response: &Response| {
                response.status == 429
                    && message(response).is_some_and(|text| text == EMAIL_MESSAGE)
            },
            other_refusal: "a 429 without the e-mail message (the IP limit?) came first",
        };
        probe.run(&client, options, &mut found).await;
    }
    if options.identical_invalid_limit {
        let body = json!({ "username": format!("authconform-measure-{id}"), "password": "not-the-password" });
        let probe = Probe {
            limit: "cs_identical_invalid",
            window: "cs_invalid_window_ms",
            path: "/authenticate",
            body,
            refused: |response: &Response| response.status == 429,
            other_refusal: "",
        };
        probe.run(&client, options, &mut found).await;
        if options.forwarded_for {
            found.forwarded_for = Some(match found.of("cs_identical_invalid") {
                Some(limit) if limit.value > 0 => {
                    let username = format!("authconform-measure-{id}-forwarded-for");
                    forwarded_for(&client, &username, limit.value).await
                }
                _ => ForwardedFor::Unknown {
                    why: "the identical-invalid limit it is read from was not measured".to_owned(),
                },
            });
        }
    }
    found
}

/// Whether the target trusts `X-Forwarded-For`: `limit` identical invalid requests from the runner's own
/// address use the limit up, then the same request under a forged address is answered (counted apart:
/// trusted) or refused (counted together: not trusted), and one more without the header must still be
/// refused, or the window rolled over in between and nothing is concluded.
async fn forwarded_for(client: &TargetClient, username: &str, limit: u64) -> ForwardedFor {
    let body = json!({ "username": username, "password": "not-the-password" });
    let direct = PreparedRequest::json(Method::POST, "/authenticate", Some(&body));
    let mut forged = direct.clone();
    let (header, address) = forged_address();
    let shown = address.to_str().unwrap_or_default().to_owned();
    forged.headers.push((header, address));
    // The status, or why there was no answer.
    let status = |answer: Result<Response, NoResponse>| {
        answer
            .map(|response| response.status)
            .map_err(|error| error.summary)
    };
    for attempt in 1..=limit {
        match status(client.send_to(0, &direct).await) {
            Ok(429) => {
                return ForwardedFor::Unknown {
                    why: format!(
                        "measured by init --measure-limits: identical invalid request {attempt} was refused before the limit of {limit}"
                    ),
                };
            }
            Ok(_) => {}
            Err(summary) => {
                return ForwardedFor::Unknown {
                    why: format!(
                        "measured by init --measure-limits: identical invalid request {attempt} was not answered ({summary})"
                    ),
                };
            }
        }
    }
    let under_forged = status(client.send_to(0, &forged).await);
    let after = status(client.send_to(0, &direct).await);
    let seen = format!(
        "measured by init --measure-limits: {limit} identical invalid requests used the limit up, then the same under X-Forwarded-For: {shown} was"
    );
    match (under_forged, after) {
        (Ok(429), _) => ForwardedFor::Ignored {
            by: format!("{seen} refused too: counted together"),
        },
        (Ok(forged_status), Ok(429)) => ForwardedFor::Trusted {
            by: format!(
                "{seen} answered {forged_status} while the next without it was refused: counted apart"
            ),
        },
        (Ok(forged_status), Ok(after_status)) => ForwardedFor::Unknown {
            why: format!(
                "{seen} answered {forged_status}, but so was the next without it ({after_status}): the window may have ended in between"
            ),
        },
        (Err(summary), _) | (_, Err(summary)) => ForwardedFor::Unknown {
            why: format!(
                "measured by init --measure-limits: a request was not answered ({summary})"
            ),
        },
    }
}

/// One limit's probe: the same request until the limit refuses it.
struct Probe {
    limit: &'static str,
    window: &'static str,
    path: &'static str,
    body: Value,
    /// Whether an answer is this limit's refusal.
    refused: fn(&Response) -> bool,
    /// Why a 429 that is not this limit's stops the measure (empty: every 429 is this limit's).
    other_refusal: &'static str,
}

impl Probe {
    /// Sends one attempt, counting it when it is a signup.
    async fn send(
        &self,
        client: &TargetClient,
        request: &PreparedRequest,
        found: &mut Measurements,
    ) -> Result<Response, NoResponse> {
        if self.path == "/user" {
            found.signups_sent += 1;
        }
        client.send_to(0, request).await
    }

    async fn run(&self, client: &TargetClient, options: &MeasureOptions, found: &mut Measurements) {
        let request = PreparedRequest::json(Method::POST, self.path, Some(&self.body));
        let first = Instant::now();
        let mut accepted = 0;
        let refusal = loop {
            if accepted == MAX_ATTEMPTS {
                found.not_measured.push(NotMeasured {
                    limit: self.limit,
                    why: format!("{MAX_ATTEMPTS} attempts were all answered without its refusal"),
                });
                return;
            }
            let response = match self.send(client, &request, found).await {
                Ok(response) => response,
                Err(error) => {
                    found.not_measured.push(NotMeasured {
                        limit: self.limit,
                        why: format!(
                            "attempt {} was not answered ({})",
                            accepted + 1,
                            error.summary
                        ),
                    });
                    return;
                }
            };
            if (self.refused)(&response) {
                break response;
            }
            if response.status == 429 {
                found.not_measured.push(NotMeasured {
                    limit: self.limit,
                    why: format!("{} after {accepted} attempt(s)", self.other_refusal),
                });
                return;
            }
            accepted += 1;
        };
        let refused_after = first.elapsed();
        found.measured.push(Measurement {
            limit: self.limit,
            value: accepted,
            how: format!(
                "{accepted} identical {} {} answered, attempt {} refused",
                self.path,
                if accepted == 1 { "was" } else { "were" },
                accepted + 1
            ),
        });
        let Some(retry_after) = retry_after(&refusal) else {
            found.not_measured.push(NotMeasured {
                limit: self.window,
                why: "its refusal had no Retry-After in seconds".into(),
            });
            return;
        };
        // The window opened at the first attempt: the refusal's wait plus the time since. Retry-After is
        // the wait left rounded up to a second, so the sum lies within a second above the window.
        let window_ms = whole_seconds_ms(refused_after + retry_after);
        if retry_after > options.max_wait {
            found.measured.push(Measurement {
                limit: self.window,
                value: window_ms,
                how: format!(
                    "estimated: the refusal asked to wait {} s, more than --max-wait; not waited out",
                    retry_after.as_secs()
                ),
            });
            return;
        }
        tokio::time::sleep(retry_after).await;
        let again = self.send(client, &request, found).await;
        let how = match again {
            Ok(response) if !(self.refused)(&response) && response.status != 429 => format!(
                "waited out: accepted again {:.1} s after the first attempt, as its Retry-After said",
                first.elapsed().as_secs_f64()
            ),
            Ok(response) => format!(
                "estimated from Retry-After; still refused ({}) when it said to try again",
                response.status
            ),
            Err(error) => format!(
                "estimated from Retry-After; the try after it failed ({})",
                error.summary
            ),
        };
        found.measured.push(Measurement {
            limit: self.window,
            value: window_ms,
            how,
        });
    }
}

/// The answer's `message` (or `error`) member.
fn message(response: &Response) -> Option<String> {
    let body = response.json()?;
    ["message", "error"]
        .iter()
        .find_map(|key| body.get(*key)?.as_str().map(str::to_owned))
}

/// How long the answer's `Retry-After` asks to wait (whole seconds or an HTTP-date).
fn retry_after(response: &Response) -> Option<Duration> {
    response.retry_after_seconds().map(Duration::from_secs)
}

/// Whole seconds of `duration` (rounded down), in milliseconds.
fn whole_seconds_ms(duration: Duration) -> u64 {
    duration.as_secs().saturating_mul(1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_is_the_whole_seconds_of_the_wait_and_the_time_since_the_first_attempt() {
        // 0.6 s of attempts, then Retry-After 2 (1.4 s left, rounded up) of a 2-second window.
        assert_eq!(
            whole_seconds_ms(Duration::from_millis(600) + Duration::from_secs(2)),
            2_000
        );
        assert_eq!(whole_seconds_ms(Duration::from_millis(2_000)), 2_000);
    }

    #[test]
    fn the_warning_names_what_is_spent_and_never_the_lockout() {
        let text = cost(&MeasureOptions {
            email_limit: true,
            identical_invalid_limit: true,
            forwarded_for: true,
            max_wait: Duration::from_secs(130),
        });
        assert!(text.contains("IP limit"), "{text}");
        assert!(text.contains("forged X-Forwarded-For"), "{text}");
        assert!(text.contains("never approached"), "{text}");
        assert!(text.contains("130 s"), "{text}");
    }
}
