//! The checker proven: every deliberate fault of the reference server (one per requirement at least) must
//! make the suite fail on exactly the requirement it breaks, the correct server must pass under the same
//! configuration, and every accepted reading of an ambiguity must pass with the reading named.

use std::collections::BTreeMap;
use std::sync::Arc;

use authconform::engine::{self, RunPlan, RunReport, Selection, TargetPlan, Verdict};
use authconform::suite;
use authconform::target::{ClockMode, Limits, TargetDescription};
use authconform_reference_server::Fault;
use authconform_reference_server::WindowKind;
use authconform_reference_server::{
    AppmixerProfile, Config, LockoutScope, PasswordCost, SeedAccount,
};
use authconform_scenario::model::{Profile, Suite};
use tokio::sync::Semaphore;

/// Limits away from the documented defaults (so a server that ignores its configuration is caught), and a
/// lowered threshold so lockout checks stay quick.
fn limits() -> Limits {
    Limits {
        signup_email: 4,
        signup_ip: 12,
        cs_overall_threshold: 300,
        ..Limits::default()
    }
}

/// Where a requirement is checked: the server's Appmixer profile, the profiles the runner checks, whether
/// the server requires an admin token to create users, and whether the server trusts `X-Forwarded-For`
/// (and the target is declared to: the runner then gives each scenario its own client address).
pub(crate) type Placement = (AppmixerProfile, Vec<Profile>, bool, bool);

/// One reading of an ambiguity: its name, the server variant, where it is checked, the selection, and the
/// reading the report must name (when the suite can tell).
type Reading = (
    &'static str,
    Variant,
    Placement,
    &'static str,
    Option<&'static str>,
);

pub(crate) fn placement(id: &str) -> Placement {
    // Forged client addresses can only be checked on a target that does not trust them.
    let trusts_forwarded_for = !matches!(id, "AM-SIGNUP-RL-08" | "CS-LOCKOUT-06");
    let (appmixer, profiles, create_scope) = match id {
        _ if id.starts_with("CS-") => (
            AppmixerProfile::Appmixer51,
            vec![Profile::CreditsafeConnect],
            false,
        ),
        "AM-SIGNIN-04" => (
            AppmixerProfile::Appmixer51,
            vec![Profile::Appmixer51],
            false,
        ),
        "AM-SIGNUP-06" => (
            AppmixerProfile::AppmixerCloud,
            vec![Profile::AppmixerCloud],
            true,
        ),
        _ if id.starts_with("AM-SIGNUP-RL-") || id == "AM-SIGNIN-08" => (
            AppmixerProfile::AppmixerCloud,
            vec![Profile::AppmixerCloud],
            false,
        ),
        // Rate-limit answers (GEN-04, GEN-05) come from both the signup limits and Creditsafe's.
        "GEN-04" | "GEN-05" => (
            AppmixerProfile::AppmixerCloud,
            vec![Profile::AppmixerCloud, Profile::CreditsafeConnect],
            false,
        ),
        _ if id.starts_with("GEN-") => (
            AppmixerProfile::Appmixer6,
            vec![Profile::Appmixer6, Profile::CreditsafeConnect],
            false,
        ),
        _ => (AppmixerProfile::Appmixer6, vec![Profile::Appmixer6], false),
    };
    (appmixer, profiles, create_scope, trusts_forwarded_for)
}

/// A server variant: faults switched on, or a reading of an ambiguity.
#[derive(Clone, Default)]
pub(crate) struct Variant {
    pub(crate) faults: Vec<Fault>,
    pub(crate) window_kind: WindowKind,
    /// Aligned windows: each limiter's boundary moved to just before its Nth counted attempt.
    pub(crate) aligned_boundary_at_attempt: Option<u64>,
    pub(crate) lockout_scope: LockoutScope,
    pub(crate) lockout_status: Option<u16>,
    pub(crate) lockout_extends: bool,
    pub(crate) count_invalid_signups: bool,
    /// Signup e-mails with spaces around them are refused as invalid instead of trimmed.
    pub(crate) refuse_padded_emails: bool,
    /// The runner plays the scenarios one at a time (`--jobs 1`) instead of side by side.
    pub(crate) one_by_one: bool,
}

pub(crate) async fn check(
    suite: &Suite,
    variant: Variant,
    placement: Placement,
    only: &[String],
) -> RunReport {
    let (appmixer, profiles, create_scope, trusts_forwarded_for) = placement;
    let limits = limits();
    let admin = SeedAccount {
        username: "admin@example.com".into(),
        email: Some("admin@example.com".into()),
        password: "mutant-admin-password".into(),
    };
    let connect = SeedAccount {
        username: "connect-user@example.com".into(),
        email: None,
        password: "mutant-connect-password".into(),
    };
    let config = Config {
        profile: appmixer,
        signup_rate_limit_email: limits.signup_email,
        signup_rate_limit_ip: limits.signup_ip,
        cs_overall_threshold: limits.cs_overall_threshold,
        user_create_scope: create_scope.then(|| "admin".to_owned()),
        admin: admin.clone(),
        creditsafe_account: connect.clone(),
        appmixer_jwt_secret: Some("mutant-secret".into()),
        test_clock: true,
        trust_forwarded_for: trusts_forwarded_for,
        window_kind: variant.window_kind,
        aligned_boundary_at_attempt: variant.aligned_boundary_at_attempt,
        cs_lockout_scope: variant.lockout_scope,
        cs_lockout_status: variant.lockout_status.unwrap_or(429),
        cs_lockout_extends: variant.lockout_extends,
        count_invalid_signups: variant.count_invalid_signups,
        refuse_padded_emails: variant.refuse_padded_emails,
        // Refusals carry `RateLimit` fields, so GEN-05 is judged wherever a limit refuses.
        ratelimit_headers: true,
        hash_concurrency: 1,
        // Throwaway accounts: light hashing keeps the many whole-suite runs cheap.
        password_cost: PasswordCost::Light,
        faults: variant.faults,
        ..Config::default()
    };
    let server = crate::support::start_reference(config).await;
    let mut target = TargetDescription::new(server.base_url().parse().unwrap(), profiles);
    target.clock = ClockMode::Control;
    target.forwarded_for = trusts_forwarded_for;
    target.limits = limits;
    target.user_create_scope = create_scope.then(|| "admin".to_owned());
    target.admin = Some(crate::support::runner_account(&admin));
    target.creditsafe = Some(crate::support::runner_account(&connect));
    target.appmixer_jwt_secret = Some("mutant-secret".into());
    let plan = RunPlan {
        targets: vec![TargetPlan::new(target)],
        selection: Selection::new(only, &[]).unwrap(),
        strict: true,
        jobs: if variant.one_by_one {
            1
        } else {
            authconform::engine::DEFAULT_JOBS
        },
    };
    let report = engine::run(suite, &plan, &mut |_| {}).await.unwrap();
    server.shutdown().await.unwrap();
    report
}

/// Why a requirement got its verdict: the first few findings, one line each.
pub(crate) fn explain(report: &RunReport, id: &str) -> String {
    report.targets[0]
        .requirements
        .iter()
        .filter(|r| r.id == id)
        .flat_map(|r| &r.findings)
        .take(3)
        .map(|f| {
            format!(
                "\n      {} {} step {} `{}`: expected {:?}, actual {:?}, note {:?}",
                f.severity, f.scenario, f.step_number, f.step, f.expected, f.actual, f.note
            )
        })
        .collect()
}

pub(crate) fn verdicts(report: &RunReport) -> BTreeMap<String, Verdict> {
    report.targets[0]
        .requirements
        .iter()
        .map(|r| (r.id.clone(), r.verdict))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_is_caught_on_the_requirement_it_breaks() {
    let suite = Arc::new(suite::load(&[]).unwrap());
    let permits = Arc::new(Semaphore::new(4));
    // The engine's future is not Send: run the checks concurrently on this thread.
    let local = tokio::task::LocalSet::new();
    let mut runs = tokio::task::JoinSet::new();
    for fault in Fault::ALL {
        let (suite, permits) = (suite.clone(), permits.clone());
        runs.spawn_local_on(
            async move {
                let _permit = permits.acquire().await.unwrap();
                let (id, _) = fault.describe();
                let variant = Variant {
                    faults: vec![fault],
                    ..Variant::default()
                };
                let report = check(&suite, variant, placement(id), &[id.to_owned()]).await;
                (fault, verdicts(&report), explain(&report, id))
            },
            &local,
        );
    }
    let mut survivors = Vec::new();
    let mut table = Vec::new();
    let results = local
        .run_until(async {
            let mut results = Vec::new();
            while let Some(result) = runs.join_next().await {
                results.push(result);
            }
            results
        })
        .await;
    for result in results {
        let (fault, verdicts, why) = result.unwrap();
        let (id, what) = fault.describe();
        let verdict = verdicts.get(id).copied().unwrap_or(Verdict::Skip);
        let caught = verdict == Verdict::Fail;
        table.push(format!(
            "{:<5} {:<16} {:<36} {}",
            if caught { "ok" } else { "MISS" },
            id,
            fault.name(),
            what
        ));
        if !caught {
            survivors.push(format!("{} ({id}): {verdict} — {what}{why}", fault.name()));
        }
    }
    table.sort();
    println!(
        "mutation score: {}/{} caught\n{}",
        Fault::ALL.len() - survivors.len(),
        Fault::ALL.len(),
        table.join("\n")
    );
    assert!(survivors.is_empty(), "survivors:\n{}", survivors.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_correct_server_passes_wherever_a_fault_is_checked() {
    let suite = suite::load(&[]).unwrap();
    let mut placements: Vec<&str> = Fault::ALL.iter().map(|f| f.describe().0).collect();
    placements.sort();
    placements.dedup();
    let mut by_placement: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for id in placements {
        let (appmixer, profiles, scope, trusted) = placement(id);
        by_placement
            .entry(format!("{appmixer:?}/{profiles:?}/{scope}/{trusted}"))
            .or_default()
            .push(id.to_owned());
    }
    // Windows aligned to the clock are correct too: wherever their boundaries fall in the run (the test
    // clock starts at the wall clock), nothing fails.
    let aligned = Variant {
        window_kind: WindowKind::Aligned,
        ..Variant::default()
    };
    for ids in by_placement.values() {
        for (name, variant) in [
            ("correct", Variant::default()),
            ("aligned", aligned.clone()),
        ] {
            let report = check(&suite, variant, placement(&ids[0]), ids).await;
            for (id, verdict) in verdicts(&report) {
                assert!(
                    matches!(verdict, Verdict::Pass | Verdict::Skip),
                    "{id} is {verdict} on the {name} server: {}",
                    explain(&report, &id)
                );
            }
            for id in ids {
                assert_eq!(
                    verdicts(&report).get(id),
                    Some(&Verdict::Pass),
                    "{name}: {id}"
                );
            }
        }
    }
}

/// A server whose windows are aligned to the clock, with a boundary put inside each limit sequence on
/// purpose: the runner repeats the sequence just after the boundary, passes it, and names the reading. The
/// same boundary on a server whose limit is wrong still fails that limit's requirement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_boundary_inside_each_limit_sequence_is_told_from_a_broken_limit() {
    let suite = suite::load(&[]).unwrap();
    let aligned_at = |attempt: u64| Variant {
        window_kind: WindowKind::Aligned,
        aligned_boundary_at_attempt: Some(attempt),
        ..Variant::default()
    };
    let limits = limits();
    // The lockout scenario's first window, as its requests come: distinct invalid ones (the identical limit
    // + 1), then the burst. Its second window begins after what the first window sends, counted on a server
    // with fixed windows (which sends the same requests, no repeat), less the second window's own.
    let lockout = "creditsafe-lockout-after-threshold";
    let fixed = check(
        &suite,
        Variant::default(),
        placement("CS-LOCKOUT-05"),
        &[lockout.to_owned()],
    )
    .await;
    let second_window = 1 + (limits.cs_overall_threshold - 101) + 300;
    let first_window = scenario_requests(&fixed, lockout) - second_window;
    let identical = limits.cs_identical_invalid;
    let cases: Vec<(&str, &str, u64, &str)> = vec![
        // (scenario, placement, the limiter's attempt a boundary falls before, requirement it checks)
        (
            "signup-email-limit",
            "AM-SIGNUP-RL-01",
            2,
            "AM-SIGNUP-RL-01",
        ),
        (
            "signup-ip-limit",
            "AM-SIGNUP-RL-02",
            limits.signup_email + 1 + 2,
            "AM-SIGNUP-RL-02",
        ),
        (
            "creditsafe-sixth-identical-invalid-request-is-refused",
            "CS-INVALID-01",
            2,
            "CS-INVALID-01",
        ),
        (lockout, "CS-LOCKOUT-02", identical + 1 + 2, "CS-LOCKOUT-02"),
        (
            lockout,
            "CS-LOCKOUT-05",
            first_window + 1 + 50,
            "CS-LOCKOUT-05",
        ),
        (
            "creditsafe-lockout-ignores-forged-forwarded-for",
            "CS-LOCKOUT-06",
            identical + 1 + 50,
            "CS-LOCKOUT-06",
        ),
    ];
    for (scenario, at, attempt, id) in cases {
        let report = check(
            &suite,
            aligned_at(attempt),
            placement(at),
            &[scenario.to_owned()],
        )
        .await;
        let target = &report.targets[0];
        for requirement in &target.requirements {
            assert!(
                matches!(requirement.verdict, Verdict::Pass | Verdict::Skip),
                "{scenario} with a boundary before attempt {attempt}: {} is {}: {}",
                requirement.id,
                requirement.verdict,
                explain(&report, &requirement.id)
            );
        }
        let named: Vec<&str> = target
            .requirements
            .iter()
            .filter(|r| r.id == id)
            .flat_map(|r| &r.readings)
            .map(|r| r.reading.as_str())
            .collect();
        assert!(
            named.contains(&"fixed window aligned to the clock"),
            "{scenario}: the boundary before attempt {attempt} was not met inside the sequence \
             (readings of {id}: {named:?})"
        );
    }

    // A limit one too high still fails, boundary or not: the repeat meets it again.
    let broken = Variant {
        faults: vec![Fault::EmailLimitOffByOne],
        ..aligned_at(2)
    };
    let report = check(
        &suite,
        broken,
        placement("AM-SIGNUP-RL-01"),
        &["signup-email-limit".to_owned()],
    )
    .await;
    assert_eq!(
        verdicts(&report).get("AM-SIGNUP-RL-01"),
        Some(&Verdict::Fail),
        "{}",
        explain(&report, "AM-SIGNUP-RL-01")
    );
}

fn scenario_requests(report: &RunReport, name: &str) -> u64 {
    report.targets[0]
        .scenarios
        .iter()
        .find(|s| s.name == name)
        .map(|s| s.requests)
        .unwrap_or_else(|| panic!("{name} did not run"))
}

/// Both readings of each ambiguity pass; where the suite can tell them apart it names the one it saw.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reading_of_every_ambiguity_passes_and_is_named() {
    let suite = suite::load(&[]).unwrap();
    let cs = || placement("CS-AUTH-01");
    let signup = || placement("AM-SIGNUP-RL-01");
    let readings: Vec<Reading> = vec![
        (
            "fixed windows",
            Variant::default(),
            cs(),
            "CS-INVALID-*",
            Some("fixed window from the first request"),
        ),
        (
            "sliding windows",
            Variant {
                window_kind: WindowKind::Sliding,
                ..Variant::default()
            },
            cs(),
            "CS-INVALID-*",
            Some("sliding window"),
        ),
        (
            "fixed signup windows",
            Variant::default(),
            signup(),
            "AM-SIGNUP-RL-*",
            Some("signup attempts failing validation do not count"),
        ),
        (
            "signup attempts failing validation count",
            Variant {
                count_invalid_signups: true,
                ..Variant::default()
            },
            signup(),
            "AM-SIGNUP-RL-*",
            Some("signup attempts failing validation count"),
        ),
        (
            "surrounding spaces trimmed before the e-mail limit",
            Variant::default(),
            signup(),
            "AM-SIGNUP-RL-09",
            Some("surrounding spaces are limited"),
        ),
        (
            "surrounding spaces refused as invalid before any limit",
            Variant {
                refuse_padded_emails: true,
                ..Variant::default()
            },
            signup(),
            "AM-SIGNUP-RL-09",
            Some("surrounding spaces are refused as invalid"),
        ),
        (
            "sliding signup windows",
            Variant {
                window_kind: WindowKind::Sliding,
                ..Variant::default()
            },
            signup(),
            "AM-SIGNUP-RL-*",
            None,
        ),
        (
            "lockout per client",
            Variant::default(),
            cs(),
            "CS-LOCKOUT-*",
            Some("lockout answered 429"),
        ),
        (
            "lockout for the whole endpoint",
            Variant {
                lockout_scope: LockoutScope::Endpoint,
                ..Variant::default()
            },
            cs(),
            "CS-LOCKOUT-*",
            Some("lockout answered 429"),
        ),
        (
            "sliding lockout window",
            Variant {
                window_kind: WindowKind::Sliding,
                ..Variant::default()
            },
            cs(),
            "CS-LOCKOUT-*",
            Some("lockout runs from the triggering request"),
        ),
        (
            "lockout extended by requests during it",
            Variant {
                lockout_extends: true,
                ..Variant::default()
            },
            cs(),
            "CS-LOCKOUT-*",
            Some("lockout extended by requests during it"),
        ),
    ];
    for (name, variant, placement, only, reading) in readings {
        let report = check(&suite, variant, placement, &[only.to_owned()]).await;
        let target = &report.targets[0];
        for requirement in &target.requirements {
            assert!(
                matches!(requirement.verdict, Verdict::Pass | Verdict::Skip),
                "{name}: {} is {}: {:#?}",
                requirement.id,
                requirement.verdict,
                requirement.findings
            );
        }
        if let Some(reading) = reading {
            let seen: Vec<&str> = target
                .requirements
                .iter()
                .flat_map(|r| &r.readings)
                .map(|r| r.reading.as_str())
                .collect();
            assert!(seen.contains(&reading), "{name}: readings seen {seen:?}");
        }
    }
}

/// A lockout answered 403 or 503 is an accepted reading: a warning on the SHOULD (429), never a failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lockout_answered_403_or_503_warns_and_is_named() {
    let suite = suite::load(&[]).unwrap();
    for status in [403u16, 503] {
        let variant = Variant {
            lockout_status: Some(status),
            ..Variant::default()
        };
        let report = check(
            &suite,
            variant,
            placement("CS-LOCKOUT-02"),
            &["CS-LOCKOUT-*".to_owned()],
        )
        .await;
        let target = &report.targets[0];
        let lockout = target
            .requirements
            .iter()
            .find(|r| r.id == "CS-LOCKOUT-02")
            .unwrap();
        // Under --strict a warning is a failure; the findings must all be warnings.
        assert!(
            lockout.findings.iter().all(|f| f.severity == Verdict::Warn),
            "{status}: {:#?}",
            lockout.findings
        );
        let seen: Vec<&str> = lockout
            .readings
            .iter()
            .map(|r| r.reading.as_str())
            .collect();
        assert!(
            seen.contains(&format!("lockout answered {status}").as_str()),
            "{seen:?}"
        );
    }
}

/// docs/mutants.md lists every fault with the requirement it breaks, and every id in the catalogue has one.
#[test]
fn the_mutant_list_is_documented_and_covers_every_requirement() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/mutants.md")).unwrap();
    for fault in Fault::ALL {
        let (id, what) = fault.describe();
        let row = format!(
            "| `{}` | {id} | {} |",
            fault.name(),
            what.replace('|', "\\|")
        );
        assert!(doc.contains(&row), "docs/mutants.md lacks `{row}`");
    }
    let suite = suite::load(&[]).unwrap();
    let broken: Vec<&str> = Fault::ALL.iter().map(|f| f.describe().0).collect();
    let unbroken: Vec<&str> = suite
        .catalogue
        .requirements
        .iter()
        .map(|r| r.id.as_str())
        .filter(|id| !broken.contains(id))
        .collect();
    assert!(unbroken.is_empty(), "no fault breaks {unbroken:?}");
}
