//! `authconform init`: a commented target file (the format of `docs/target.md`) written from what `detect`
//! found on a target: its profiles with the evidence, whether it speaks the test-clock protocol, the limits
//! its `RateLimit-Policy` fields declare (each line saying so) or the documented defaults to check, whether
//! it trusts `X-Forwarded-For` when that was seen, and the accounts given on the command line.

use std::fmt::Write as _;

use crate::detect::{Detection, ForwardedFor};
use crate::measure::Measurements;
use crate::target::{Account, TargetClient, TargetDescription, clock};

/// Whether the target speaks the test-clock protocol (`GET /_authconform/clock` answers a reading).
pub async fn probe_test_clock(target: &TargetDescription) -> bool {
    match TargetClient::new(target) {
        Ok(client) => clock::speaks_protocol(&client).await,
        Err(_) => false,
    }
}

/// The target file's text.
pub fn target_file(
    target: &TargetDescription,
    detection: &Detection,
    test_clock: bool,
    measured: &Measurements,
) -> String {
    let mut text = String::new();
    let profiles = detection.profiles();
    let _ = writeln!(
        text,
        "# authconform target file (docs/target.md), written by `authconform init` from what `detect` found at\n\
         # {}. Check every line marked CHECK, then:\n\
         #   authconform run --target-file <this file>\n",
        target.base_url
    );
    let _ = writeln!(text, "base_url = {}", quoted(target.base_url.as_str()));
    text.push('\n');
    let _ = writeln!(text, "# What detect saw:");
    for evidence in &detection.evidence {
        let status = evidence
            .status
            .map_or("no answer".to_owned(), |s| s.to_string());
        let _ = writeln!(
            text,
            "#   {} -> {status}: {}",
            evidence.request, evidence.observation
        );
    }
    if profiles.is_empty() {
        let _ = writeln!(
            text,
            "# CHECK: the target matched no documented profile; name the ones it claims \
             (appmixer-5.1, appmixer-6, appmixer-cloud, creditsafe-connect)."
        );
    }
    let names: Vec<String> = profiles.iter().map(|p| quoted(p)).collect();
    let _ = writeln!(text, "profiles = [{}]", names.join(", "));
    text.push('\n');
    if test_clock {
        let _ = writeln!(
            text,
            "# GET /_authconform/clock answered: the target speaks the test-clock protocol, so waits advance\n\
             # its clock instead of lasting the documented windows."
        );
        let _ = writeln!(text, "clock = \"control\"");
    } else {
        let _ = writeln!(
            text,
            "# GET /_authconform/clock did not answer: windows are really waited out (with the documented\n\
             # windows a full run takes hours; start the target with short windows and give them under [limits])."
        );
        let _ = writeln!(text, "clock = \"real\"");
    }
    let _ = writeln!(
        text,
        "slack_ms = {}               # timing slack around windows\n\
         timeout_ms = {}            # per request",
        target.slack_ms, target.timeout_ms
    );
    // Measured only when the answers the target declared did not show it.
    let forwarded_for = measured
        .forwarded_for
        .as_ref()
        .filter(|_| matches!(detection.forwarded_for, ForwardedFor::Unknown { .. }))
        .unwrap_or(&detection.forwarded_for);
    forwarded_for_line(&mut text, target, forwarded_for);
    if target.insecure {
        let _ = writeln!(text, "insecure = true");
    }
    if let Some(scope) = &target.user_create_scope {
        let _ = writeln!(
            text,
            "# Given on the command line (--user-create-scope).\nuser_create_scope = {}",
            quoted(scope)
        );
    } else if detection.create_needs_admin {
        let _ = writeln!(
            text,
            "# A signup without a token was refused and the admin's was accepted: creating users needs a scope.\n\
             # CHECK: the scope's name (API_USER_CREATE_SCOPE)\n\
             user_create_scope = \"admin\""
        );
    } else if profiles.iter().any(|p| p.starts_with("appmixer")) {
        let _ = writeln!(
            text,
            "# CHECK: set when the target runs with API_USER_CREATE_SCOPE (needs [accounts.admin])\n\
             # user_create_scope = \"admin\""
        );
    }
    text.push('\n');
    limits_section(&mut text, target, &profiles, detection, measured);
    accounts_section(&mut text, target, &profiles);
    text
}

/// `forwarded_for`, as the readings showed it, or `false` with why it cannot be known.
fn forwarded_for_line(text: &mut String, target: &TargetDescription, seen: &ForwardedFor) {
    let (value, comment) = match seen {
        _ if target.forwarded_for => (
            true,
            "# Given on the command line (--forwarded-for): each scenario gets its own client address.".to_owned(),
        ),
        ForwardedFor::Trusted { by } => (
            true,
            format!("# Seen: the target trusts X-Forwarded-For ({by}); each scenario gets its own client address."),
        ),
        ForwardedFor::Ignored { by } => (
            false,
            format!("# Seen: the target does not trust X-Forwarded-For ({by})."),
        ),
        ForwardedFor::Unknown { why } => (
            false,
            format!(
                "# CHECK: whether the target trusts X-Forwarded-For cannot be known from its answers ({why});\n\
                 # set true when it does (each scenario then gets its own client address)."
            ),
        ),
    };
    let _ = writeln!(text, "{comment}\nforwarded_for = {value}");
}

fn limits_section(
    text: &mut String,
    target: &TargetDescription,
    profiles: &[&str],
    detection: &Detection,
    measured: &Measurements,
) {
    let declarations = &detection.declarations;
    // What an answer showed outright: the lifetime of the token a signup returned.
    let seen = |name: &str| match name {
        "appmixer_token_lifetime_s" => detection.appmixer_token_lifetime_s,
        _ => None,
    };
    let appmixer = profiles.iter().any(|p| p.starts_with("appmixer"));
    let creditsafe = profiles.contains(&"creditsafe-connect");
    let limits = &target.limits;
    if declarations.is_empty() && !measured.measured.is_empty() {
        let _ = writeln!(
            text,
            "# The limits the target is configured with: lines \"measured by init --measure-limits\" were\n\
             # measured; lines marked CHECK hold the documented defaults (its answers declared none in\n\
             # RateLimit-Policy)."
        );
    } else if declarations.is_empty() {
        let _ = writeln!(
            text,
            "# CHECK: the limits the target is configured with (the documented defaults are filled in; its\n\
             # answers declared none in RateLimit-Policy)."
        );
    } else {
        let _ = writeln!(
            text,
            "# The limits the target is configured with. Lines \"declared by the server\" come from its\n\
             # RateLimit-Policy fields; lines marked CHECK hold the documented defaults."
        );
    }
    for undecided in &declarations.undecided {
        let (policy, why) = (&undecided.policy, &undecided.why);
        let _ = writeln!(
            text,
            "# {} declares `{}`, but which limit it is cannot be told: {why}. CHECK the lines below.",
            policy.endpoint.request(),
            policy.member()
        );
    }
    for malformed in &declarations.malformed {
        let _ = writeln!(text, "# Not read: {malformed}");
    }
    for not_measured in &measured.not_measured {
        let _ = writeln!(
            text,
            "# --measure-limits could not measure {}: {}.",
            not_measured.limit, not_measured.why
        );
    }
    // Where the comments of the `[limits]` lines start: past the longest `# name = value`.
    const LIMIT_COLUMN: usize = 42;
    let _ = writeln!(text, "[limits]");
    let mut line = |relevant: bool, name: &str, value: u64, what: &str| {
        let (assignment, comment) = match (relevant, declarations.value_of(name), measured.of(name))
        {
            (true, Some((declared, placed)), _) => {
                let how = if placed.by == "its name" {
                    String::new()
                } else {
                    format!(" (taken as this limit by {})", placed.by)
                };
                (
                    format!("{name} = {declared}"),
                    format!(
                        "{what}; declared by the server: {} {}{how}",
                        placed.policy.endpoint.request(),
                        placed.policy.member(),
                    ),
                )
            }
            (true, None, Some(measurement)) => (
                format!("{name} = {}", measurement.value),
                format!(
                    "{what}; measured by init --measure-limits: {}",
                    measurement.how
                ),
            ),
            (true, None, None) => match seen(name) {
                Some(seen) => (
                    format!("{name} = {seen}"),
                    format!("{what}; read from the token a signup returned (exp − iat)"),
                ),
                None => (format!("{name} = {value}"), format!("CHECK: {what}")),
            },
            (false, ..) => (format!("# {name} = {value}"), what.to_owned()),
        };
        let _ = writeln!(text, "{assignment:<LIMIT_COLUMN$}# {comment}");
    };
    line(
        appmixer,
        "signup_email",
        limits.signup_email,
        "signups per e-mail address and window",
    );
    line(
        appmixer,
        "signup_email_window_ms",
        limits.signup_email_window_ms,
        "its window",
    );
    line(
        appmixer,
        "signup_ip",
        limits.signup_ip,
        "signups per client address and window",
    );
    line(
        appmixer,
        "signup_ip_window_ms",
        limits.signup_ip_window_ms,
        "its window",
    );
    line(
        appmixer,
        "appmixer_token_lifetime_s",
        limits.appmixer_token_lifetime_s,
        "lifetime of an Appmixer token",
    );
    line(
        creditsafe,
        "cs_identical_invalid",
        limits.cs_identical_invalid,
        "identical invalid requests before 429",
    );
    line(
        creditsafe,
        "cs_invalid_window_ms",
        limits.cs_invalid_window_ms,
        "their window",
    );
    line(
        creditsafe,
        "cs_overall_threshold",
        limits.cs_overall_threshold,
        "requests to /authenticate before the lockout",
    );
    line(
        creditsafe,
        "cs_overall_window_ms",
        limits.cs_overall_window_ms,
        "its window",
    );
    line(
        creditsafe,
        "creditsafe_token_lifetime_s",
        limits.creditsafe_token_lifetime_s,
        "lifetime of a Creditsafe token",
    );
    text.push('\n');
}

fn accounts_section(text: &mut String, target: &TargetDescription, profiles: &[&str]) {
    let appmixer = profiles.iter().any(|p| p.starts_with("appmixer"));
    let creditsafe = profiles.contains(&"creditsafe-connect");
    match &target.admin {
        Some(admin) => account(text, "admin", "--admin", admin),
        None if appmixer => {
            let _ = writeln!(
                text,
                "# CHECK: an account with the admin scope enables AM-SIGNUP-06 and AM-SIGNUP-RL-04 (skipped without one).\n\
                 # [accounts.admin]\n\
                 # username = \"admin@example.com\"\n\
                 # email = \"admin@example.com\"\n\
                 # password = \"\"\n"
            );
        }
        None => {}
    }
    match &target.creditsafe {
        Some(connect) => account(text, "creditsafe", "--creditsafe", connect),
        None if creditsafe => {
            let _ = writeln!(
                text,
                "# CHECK: a valid Creditsafe Connect account (CS-AUTH-01 and the lockout probes).\n\
                 # [accounts.creditsafe]\n\
                 # username = \"\"\n\
                 # password = \"\"\n"
            );
        }
        None => {}
    }
}

/// An account given on the command line, written out.
fn account(text: &mut String, name: &str, flag: &str, account: &Account) {
    let _ = writeln!(
        text,
        "# Given on the command line ({flag}).\n[accounts.{name}]\nusername = {}",
        quoted(&account.username)
    );
    if let Some(email) = &account.email {
        let _ = writeln!(text, "email = {}", quoted(email));
    }
    let _ = writeln!(text, "password = {}\n", quoted(&account.password));
}

/// A TOML basic string.
fn quoted(value: &str) -> String {
    toml::Value::String(value.to_owned()).to_string()
}
