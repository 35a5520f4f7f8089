//! What one scenario needs to itself, and what it will cost, known before anything is sent: the resources
//! it holds (derived from its steps, plus those its file declares), its requests per path and its waits.
//! Pure: the description of the target and the scenario are all it reads.

use std::collections::BTreeMap;

use authconform_scenario::model::{
    Action, HoldMode, Phase, RequestSpec, Resource, Scenario, Wait, WindowName,
};
use authconform_scenario::template::{Expr, Part, Template};

use crate::engine::clock_boundary::{guard_ms, starts_afresh};
use crate::target::{Limits, TargetDescription, unmet};

/// What one round of requests (one request, or one of each concurrent sender) is taken to cost in the
/// projection: a nearby server answers in milliseconds.
pub const PROJECTED_REQUEST_MS: u64 = 2;

/// The path that creates users (`POST /user`): anonymous calls count toward the per-IP signup limit.
const SIGNUP_PATH: &str = "/user";

/// One scenario as the scheduler sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ScenarioNeeds {
    /// Each resource once, with the stronger mode when derived and declared differ.
    pub(crate) holds: BTreeMap<Resource, HoldMode>,
    /// `METHOD path` → requests it sends (a path with placeholders as written).
    pub(crate) requests: BTreeMap<String, u64>,
    /// Its waits in order, in milliseconds on this target.
    pub(crate) waits_ms: Vec<u64>,
    /// Rounds of requests: each step's requests divided among its concurrent senders, rounded up.
    pub(crate) rounds: u64,
    /// The same per `METHOD path`, for what each costs on the target.
    pub(crate) rounds_by_request: BTreeMap<String, u64>,
    /// Signups (`POST /user`) it may send before its first `wait.empty_window` (all, without one), its
    /// blames' probes included: what it reserves under the IP limit when it shares the one client address.
    pub(crate) signups: u64,
    /// Of `signups`, those only its blames' probes would send (a check that passes sends none of them).
    pub(crate) probe_signups: u64,
    /// Signups it sends after its first `wait.empty_window`.
    pub(crate) signups_after_empty: u64,
    /// Of those, the ones sent after its last wait (a check of a limit's end sends them a window later).
    pub(crate) signups_after_last_wait: u64,
    /// Signups its own steps send from one client address (its blames' probes left out) and, when it checks
    /// the IP limit itself, `None`: more than the IP limit allows in a window cannot be checked.
    pub(crate) own_signups: Option<u64>,
    /// Why it cannot be checked on this target at all (then it holds nothing and sends nothing).
    pub(crate) cannot_run: Option<String>,
    /// On a target with one client address for all, a `wait.empty_window`: whether the scenario sent
    /// signups before it (then the wait is a whole window at least).
    pub(crate) empty_window: Option<bool>,
    /// What repeating its costliest limit sequence once would add, should a window aligned to the clock
    /// start its count afresh inside it (`clock_boundary`); `None` when no sequence of it can be repeated.
    pub(crate) boundary_repeat: Option<RepeatCost>,
}

/// A sequence sent again after a window boundary: the wait it starts over from (a whole window, or an empty
/// IP window), then its own waits but those it leaves out after a boundary, and its requests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RepeatCost {
    pub(crate) waits_ms: u64,
    /// `METHOD path` → rounds, as in [`ScenarioNeeds::rounds_by_request`].
    pub(crate) rounds_by_request: BTreeMap<String, u64>,
    /// The first pass's waits since its mark: with its requests, how much of the window it spans, which is
    /// the chance a boundary at a random place in the window falls inside it.
    pub(crate) span_waits_ms: u64,
    /// The window the sequence is judged within.
    pub(crate) window_ms: u64,
}

impl RepeatCost {
    /// The chance, in percent, that a boundary falls inside the first pass, its requests taking `requests_ms`.
    pub(crate) fn chance_percent(&self, requests_ms: u64) -> u64 {
        let span_ms = self.span_waits_ms.saturating_add(requests_ms);
        (span_ms.saturating_mul(100) / self.window_ms.max(1)).min(100)
    }

    /// What it adds to a run on average, its requests at the projected cost: what makes one sequence of a
    /// check the one to project.
    fn expected_ms(&self) -> u64 {
        let rounds: u64 = self.rounds_by_request.values().sum();
        let requests_ms = rounds.saturating_mul(PROJECTED_REQUEST_MS);
        self.waits_ms.saturating_add(requests_ms) * self.chance_percent(requests_ms) / 100
    }
}

/// A limit sequence being walked: from the step carrying its mark to the steps judged `within` it.
#[derive(Default)]
struct OpenSequence {
    /// The wait a repeat starts over from: the last one before the mark that starts the target afresh.
    start_over_ms: u64,
    /// Every wait since the mark (how long the first pass spans).
    span_waits_ms: u64,
    /// Repeat cost since the mark: waits a repeat keeps, and the requests.
    repeat: RepeatCost,
}

impl ScenarioNeeds {
    pub(crate) fn total_requests(&self) -> u64 {
        self.requests.values().sum()
    }

    pub(crate) fn total_wait_ms(&self) -> u64 {
        self.waits_ms.iter().sum()
    }

    /// Whether the two may run at the same time: every resource both hold, both hold shared.
    pub(crate) fn compatible(&self, other: &ScenarioNeeds) -> bool {
        self.holds.iter().all(|(resource, mode)| {
            other
                .holds
                .get(resource)
                .is_none_or(|theirs| *mode == HoldMode::Shared && *theirs == HoldMode::Shared)
        })
    }

    /// Why the scenario cannot be checked on this target: its steps send more signups from one client
    /// address than the IP limit allows in a window, so the IP limit, not the one it checks, would answer
    /// its last attempts (a target may apply either limiter first).
    pub(crate) fn exceeds_ip_limit(&self, limits: &Limits) -> Option<String> {
        let own = self.own_signups?;
        (own > limits.signup_ip).then(|| {
            format!(
                "it sends {own} signups from one client address, more than signup_ip ({}) allows in a window, \
                 so the IP limit would answer its last checks (raise signup_ip on the target for this check)",
                limits.signup_ip
            )
        })
    }

    /// What it holds, as `resource (mode)` words for the plan.
    pub(crate) fn describe_holds(&self) -> String {
        if self.holds.is_empty() {
            return "nothing".to_owned();
        }
        let words: Vec<String> = self
            .holds
            .iter()
            .map(|(resource, mode)| match (resource, mode) {
                (_, HoldMode::Exclusive) => format!("{resource} (exclusive)"),
                (Resource::ClientAddress, HoldMode::Shared) if self.signups > 0 => {
                    format!("{resource} (shared, {} signups)", self.signups)
                }
                (_, HoldMode::Shared) => format!("{resource} (shared)"),
            })
            .collect();
        words.join(", ")
    }
}

/// Derives what a scenario needs on a target (docs/scenario-format.md, "Running beside other scenarios").
pub(crate) fn needs(scenario: &Scenario, target: &TargetDescription) -> ScenarioNeeds {
    let mut holds: BTreeMap<Resource, HoldMode> = BTreeMap::new();
    let mut hold = |resource: Resource, mode: HoldMode| {
        let entry = holds.entry(resource).or_insert(mode);
        *entry = (*entry).max(mode);
    };
    let mut requests: BTreeMap<String, u64> = BTreeMap::new();
    let mut rounds_by_request: BTreeMap<String, u64> = BTreeMap::new();
    let mut waits_ms = Vec::new();
    let mut rounds = 0;
    let mut signups = 0;
    let mut own_signups = 0;
    let mut probes = 0;
    let mut probes_before_empty = None;
    let mut counts_ip = false;
    let mut signups_before_empty = None;
    let mut signups_at_last_wait = 0;
    // Milliseconds of waiting before each mark, so a wait `since` a mark counts only what is left of it.
    let mut waited_ms: u64 = 0;
    let mut marks: BTreeMap<&str, u64> = BTreeMap::new();
    // Requests each marked step sends, for `sent.MARK` in later counts.
    let mut sent: BTreeMap<String, u64> = BTreeMap::new();
    // Limit sequences by mark, the wait a repeat would start over from, and the costliest repeat so far.
    let mut sequences: BTreeMap<&str, OpenSequence> = BTreeMap::new();
    let mut start_over_ms: u64 = 0;
    let mut boundary_repeat: Option<RepeatCost> = None;
    let endpoint_mode = match scenario.phase {
        Phase::Lockout => HoldMode::Exclusive,
        Phase::Normal => HoldMode::Shared,
    };
    for step in &scenario.steps {
        if unmet(target, &step.requires).is_some() {
            continue;
        }
        match &step.action {
            Action::Request(request) => {
                if let Some(mark) = &request.mark {
                    marks.insert(mark, waited_ms);
                    sequences.insert(
                        mark,
                        OpenSequence {
                            start_over_ms,
                            ..OpenSequence::default()
                        },
                    );
                }
                let path = literal(&request.request.path);
                let known = Known {
                    limits: &target.limits,
                    sent: &sent,
                };
                let repeat = planned_repeat(request.repeat.as_ref(), &known);
                let key = request_key(&request.request);
                *requests.entry(key.clone()).or_default() += repeat;
                let step_rounds = repeat.div_ceil(u64::from(request.concurrency.max(1)));
                rounds += step_rounds;
                for sequence in sequences.values_mut() {
                    *sequence
                        .repeat
                        .rounds_by_request
                        .entry(key.clone())
                        .or_default() += step_rounds;
                }
                if let Some(within) = &request.within
                    && let Some(sequence) = sequences.get(within.since.as_str())
                {
                    let window_ms = target.limits.window_ms(within.window);
                    let cost = RepeatCost {
                        waits_ms: sequence
                            .start_over_ms
                            .saturating_add(sequence.repeat.waits_ms),
                        rounds_by_request: sequence.repeat.rounds_by_request.clone(),
                        span_waits_ms: sequence.span_waits_ms,
                        window_ms,
                    };
                    // Repeated only when the first pass and the repeat fit in one window together.
                    let fits = sequence
                        .span_waits_ms
                        .saturating_add(sequence.repeat.waits_ms)
                        .saturating_add(guard_ms(window_ms))
                        < window_ms;
                    let costlier = boundary_repeat
                        .as_ref()
                        .is_none_or(|known| cost.expected_ms() > known.expected_ms());
                    if fits && costlier {
                        boundary_repeat = Some(cost);
                    }
                }
                *rounds_by_request.entry(key).or_default() += step_rounds;
                if is_signup(&request.request) {
                    signups += repeat;
                    if !carries_bearer_token(&request.request) {
                        own_signups += repeat;
                    }
                    counts_ip |= request
                        .within
                        .as_ref()
                        .is_some_and(|within| within.window == WindowName::SignupIpWindow)
                        || request.repeat.as_ref().is_some_and(names_ip_limit);
                }
                for blame in &request.blame {
                    if blame.request.as_ref().is_some_and(is_signup) {
                        let repeat = planned_repeat(blame.repeat.as_ref(), &known);
                        signups += repeat;
                        probes += repeat;
                    }
                }
                if let Some(mark) = &request.mark {
                    sent.insert(mark.clone(), repeat);
                }
                if let Some(path) = path {
                    hold(Resource::Endpoint(path), endpoint_mode);
                }
            }
            Action::Wait(Wait::EmptyWindow(window)) => {
                // A repeat from here waits for the window its sequence filled to empty again.
                start_over_ms = target.limits.window_ms(*window);
                counts_ip = true;
                signups_before_empty.get_or_insert(signups);
                probes_before_empty.get_or_insert(probes);
            }
            Action::Wait(wait) => {
                let full = wait_ms(target, wait);
                let left = match wait {
                    Wait::Window {
                        since: Some(mark), ..
                    } => {
                        let since_mark = waited_ms - marks.get(mark.as_str()).copied().unwrap_or(0);
                        full.saturating_sub(since_mark)
                    }
                    _ => full,
                };
                waits_ms.push(left);
                waited_ms += left;
                for sequence in sequences.values_mut() {
                    sequence.span_waits_ms += left;
                    if !step.skip_after_clock_boundary {
                        sequence.repeat.waits_ms += left;
                    }
                }
                if starts_afresh(wait) {
                    start_over_ms = left;
                }
                signups_at_last_wait = signups;
                counts_ip |= matches!(
                    wait,
                    Wait::Window {
                        window: WindowName::SignupIpWindow,
                        ..
                    }
                );
            }
        }
    }
    if !target.forwarded_for && (signups > 0 || counts_ip) {
        let mode = if counts_ip {
            HoldMode::Exclusive
        } else {
            HoldMode::Shared
        };
        hold(Resource::ClientAddress, mode);
    }
    for declared in &scenario.holds {
        hold(declared.resource.clone(), declared.mode);
    }
    let needs = ScenarioNeeds {
        holds,
        requests,
        waits_ms,
        rounds,
        rounds_by_request,
        signups: signups_before_empty.unwrap_or(signups),
        probe_signups: probes_before_empty.unwrap_or(probes),
        signups_after_empty: signups - signups_before_empty.unwrap_or(signups),
        signups_after_last_wait: (signups - signups_at_last_wait)
            .min(signups - signups_before_empty.unwrap_or(signups)),
        own_signups: (!counts_ip).then_some(own_signups),
        empty_window: signups_before_empty
            .filter(|_| !target.forwarded_for)
            .map(|before| before > 0),
        cannot_run: None,
        boundary_repeat,
    };
    match needs.exceeds_ip_limit(&target.limits) {
        Some(why) => ScenarioNeeds {
            cannot_run: Some(why),
            ..ScenarioNeeds::default()
        },
        None => needs,
    }
}

/// How a request is named in the plan and the state file: `METHOD path`, the path as written when it has
/// placeholders.
pub(crate) fn request_key(request: &RequestSpec) -> String {
    let path = literal(&request.path);
    format!(
        "{} {}",
        request.method,
        path.as_deref().unwrap_or(&request.path.source)
    )
}

/// Whether a request creates users: every `POST /user` is counted toward the one address's IP limit, an
/// admin's too. The documents say an admin's creations are never limited, but a target that counts them all
/// the same (an AM-SIGNUP-RL-04 breach) must fail that requirement alone, not meet the IP limit in checks
/// the runner believed had room.
pub(crate) fn is_signup(request: &RequestSpec) -> bool {
    request.method == "POST" && literal(&request.path).is_some_and(|path| path == SIGNUP_PATH)
}

/// How long a wait step waits on this target.
pub(crate) fn wait_ms(target: &TargetDescription, wait: &Wait) -> u64 {
    match wait {
        Wait::Millis(ms) => *ms,
        // How long depends on what was sent before: the run knows, not the step.
        Wait::EmptyWindow(_) => 0,
        Wait::Window {
            window,
            offset_ms,
            minus_slack,
            percent,
            ..
        } => {
            let window_ms = target.limits.window_ms(*window);
            if let Some(percent) = percent {
                window_ms.saturating_mul(u64::from(*percent)) / 100
            } else if *minus_slack {
                // Twice the slack: the requests since the step's mark took some of the window already, and
                // the probe after this wait must stay inside its `within` margin.
                window_ms.saturating_sub(target.slack_ms.saturating_mul(2))
            } else {
                window_ms.saturating_add_signed(*offset_ms)
            }
        }
    }
}

/// Whether a request sends a bearer token of its own (`"Bearer {{account.admin.token}}"`): an admin's
/// creation, which a conforming target never counts toward a limit, so a check's room under the IP limit
/// leaves it out (the ledger still counts it, in case the target does).
fn carries_bearer_token(request: &RequestSpec) -> bool {
    request.headers.iter().any(|(name, value)| {
        name.eq_ignore_ascii_case("authorization")
            && matches!(value.parts.first(), Some(Part::Literal(text)) if text.starts_with("Bearer "))
    })
}

/// The path when it has no placeholders.
fn literal(template: &Template) -> Option<String> {
    match template.parts.as_slice() {
        [Part::Literal(text)] => Some(text.clone()),
        [] => Some(String::new()),
        _ => None,
    }
}

fn names_ip_limit(template: &Template) -> bool {
    template.any(&|expr| {
        matches!(
            expr,
            Expr::Limit(authconform_scenario::template::LimitName::SignupIp)
        )
    })
}

/// What a `repeat` can be evaluated on before anything is sent: the target's limits, and what the marked
/// steps before it send (`sent.MARK`; a step left out sends nothing).
struct Known<'a> {
    limits: &'a Limits,
    sent: &'a BTreeMap<String, u64>,
}

/// How many requests a step sends: its `repeat` evaluated on what is known (1 when it has none, or when
/// the count depends on something only known while running).
fn planned_repeat(repeat: Option<&Template>, known: &Known<'_>) -> u64 {
    let Some(repeat) = repeat else {
        return 1;
    };
    let value = match repeat.parts.as_slice() {
        [Part::Expr(expr)] => evaluate(expr, known),
        [Part::Literal(text)] => text.trim().parse().ok(),
        _ => None,
    };
    value.map_or(1, |value| u64::try_from(value.max(0)).unwrap_or(0))
}

fn evaluate(expr: &Expr, known: &Known<'_>) -> Option<i64> {
    match expr {
        Expr::Integer(value) => Some(*value),
        Expr::Limit(name) => i64::try_from(known.limits.limit(*name)).ok(),
        Expr::Sent(mark) => i64::try_from(known.sent.get(mark).copied().unwrap_or(0)).ok(),
        // Planned as none: the most a check sends, since it sends fewer for each.
        Expr::CountedSignups => Some(0),
        Expr::Offset(inner, offset) => evaluate(inner, known).map(|v| v.saturating_add(*offset)),
        Expr::Sum(left, sign, right) => Some(
            evaluate(left, known)?.saturating_add(sign.saturating_mul(evaluate(right, known)?)),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use authconform_scenario::model::Profile;
    use authconform_scenario::{parse_catalogue, parse_scenario_file};

    use super::*;

    fn target(forwarded_for: bool) -> TargetDescription {
        let mut target = TargetDescription::new(
            reqwest::Url::parse("http://127.0.0.1:1/").unwrap(),
            vec![Profile::Appmixer6],
        );
        target.forwarded_for = forwarded_for;
        target
    }

    fn scenario(body: &str) -> Scenario {
        let catalogue = parse_catalogue(
            Path::new("requirements.toml"),
            "[[requirement]]\nid = \"XY-ONE-01\"\nlevel = \"must\"\nprofiles = [\"appmixer-6\"]\n\
             requirement = \"One.\"\nclause = \"One.\"\nsource = \"Doc\"\n",
        )
        .unwrap();
        let text =
            format!("[[scenario]]\nname = \"s\"\ntitle = \"S\"\ncovers = [\"XY-ONE-01\"]\n{body}");
        match parse_scenario_file(Path::new("s.toml"), &text, &catalogue) {
            Ok(mut scenarios) => scenarios.remove(0),
            Err(diagnostics) => panic!("{diagnostics}"),
        }
    }

    const SIGNUP: &str = "[[scenario.step]]\nrequest.method = \"POST\"\nrequest.path = \"/user\"\n";
    const COUNTED_SIGNUPS: &str = "[[scenario.step]]\nrequest.method = \"POST\"\nrequest.path = \"/user\"\nrepeat = \"{{limits.signup_ip + 1}}\"\n";
    const IP_WAIT: &str = "[[scenario.step]]\nwait.window = \"signup_ip_window\"\n";
    const FLOOD: &str = "[[scenario.step]]\nrequest.method = \"POST\"\nrequest.path = \"/authenticate\"\nrepeat = \"{{limits.cs_overall_threshold - 1}}\"\n";

    fn holds(needs: &ScenarioNeeds) -> Vec<String> {
        needs
            .holds
            .iter()
            .map(|(r, m)| format!("{r} {m:?}"))
            .collect()
    }

    #[test]
    fn a_signup_shares_the_client_address_only_when_it_is_one_for_all() {
        let plain = scenario(SIGNUP);
        assert_eq!(
            holds(&needs(&plain, &target(false))),
            ["client-address Shared", "endpoint:/user Shared"]
        );
        assert_eq!(
            holds(&needs(&plain, &target(true))),
            ["endpoint:/user Shared"]
        );
    }

    #[test]
    fn a_check_that_counts_signups_holds_the_client_address_to_itself() {
        for body in [COUNTED_SIGNUPS.to_owned(), format!("{IP_WAIT}{SIGNUP}")] {
            let counted = needs(&scenario(&body), &target(false));
            assert_eq!(
                counted.holds.get(&Resource::ClientAddress),
                Some(&HoldMode::Exclusive),
                "{body}"
            );
            let shared = needs(&scenario(SIGNUP), &target(false));
            assert!(!counted.compatible(&shared) && !shared.compatible(&counted));
        }
        let own_address = needs(&scenario(COUNTED_SIGNUPS), &target(true));
        assert!(own_address.compatible(&needs(&scenario(COUNTED_SIGNUPS), &target(true))));
    }

    #[test]
    fn an_email_check_shares_the_address_with_a_budget_of_its_signups_and_probes() {
        const EMAIL_CHECK: &str = "[[scenario.step]]\nrequest.method = \"POST\"\nrequest.path = \"/user\"\n\
            repeat = \"{{limits.signup_email + 1}}\"\n\
            blame = { requirement = \"XY-ONE-01\", request = { method = \"POST\", path = \"/user\" }, repeat = \"{{12 - limits.signup_email}}\", expect = { status = 429 } }\n";
        let needs = needs(&scenario(EMAIL_CHECK), &target(false));
        assert_eq!(
            needs.holds.get(&Resource::ClientAddress),
            Some(&HoldMode::Shared)
        );
        assert_eq!(
            needs.signups,
            11 + 2,
            "ten attempts and one more, and two probes"
        );
        assert_eq!(
            needs.describe_holds(),
            "client-address (shared, 13 signups), endpoint:/user (shared)"
        );
    }

    #[test]
    fn an_empty_window_wait_makes_an_ip_check_that_reserves_only_what_it_sends_before() {
        const EMPTY: &str = "[[scenario.step]]\nwait.empty_window = \"signup_ip_window\"\n";
        let body = format!("{SIGNUP}{EMPTY}{SIGNUP}{SIGNUP}");
        let one_address = needs(&scenario(&body), &target(false));
        assert_eq!(
            one_address.holds.get(&Resource::ClientAddress),
            Some(&HoldMode::Exclusive)
        );
        assert_eq!(
            (one_address.signups, one_address.signups_after_empty),
            (1, 2)
        );
        assert_eq!(one_address.empty_window, Some(true));
        assert!(
            one_address.waits_ms.is_empty(),
            "how long is the run's to know"
        );
        let own_address = needs(&scenario(&body), &target(true));
        assert_eq!(own_address.empty_window, None);
        assert!(!own_address.holds.contains_key(&Resource::ClientAddress));
    }

    #[test]
    fn a_wait_since_a_mark_counts_only_what_is_left_of_it() {
        let mut target = target(true);
        target.limits.signup_email_window_ms = 60_000;
        target.limits.signup_ip_window_ms = 50_000;
        let body = format!(
            "{SIGNUP}mark = \"sent\"\n{IP_WAIT}[[scenario.step]]\nwait = {{ window = \"signup_email_window\", since = \"sent\" }}\n"
        );
        let needs = needs(&scenario(&body), &target);
        assert_eq!(needs.waits_ms, [51_000, 10_000]);
    }

    #[test]
    fn a_step_the_target_cannot_run_is_not_counted() {
        let body = format!("{SIGNUP}requires = [\"admin-account\"]\n{SIGNUP}");
        assert_eq!(needs(&scenario(&body), &target(false)).signups, 1);
    }

    #[test]
    fn a_lockout_holds_every_endpoint_it_calls_to_itself() {
        let lockout = needs(
            &scenario(&format!("phase = \"lockout\"\n{FLOOD}")),
            &target(true),
        );
        let normal = needs(&scenario(FLOOD), &target(true));
        assert_eq!(holds(&lockout), ["endpoint:/authenticate Exclusive"]);
        assert!(normal.compatible(&normal));
        assert!(!lockout.compatible(&normal) && !normal.compatible(&lockout));
        assert!(lockout.compatible(&needs(&scenario(SIGNUP), &target(true))));
    }

    #[test]
    fn a_declared_hold_is_added_and_the_stronger_mode_wins() {
        let declared = scenario(&format!("exclusive = [\"endpoint:/user\"]\n{SIGNUP}"));
        assert_eq!(
            holds(&needs(&declared, &target(true))),
            ["endpoint:/user Exclusive"]
        );
    }

    #[test]
    fn requests_and_waits_are_counted_on_the_target_limits() {
        let mut target = target(false);
        target.limits.cs_overall_threshold = 200;
        target.limits.signup_ip_window_ms = 60_000;
        let needs = needs(&scenario(&format!("{IP_WAIT}{FLOOD}{SIGNUP}")), &target);
        assert_eq!(
            needs.requests,
            BTreeMap::from([
                ("POST /authenticate".to_owned(), 199),
                ("POST /user".to_owned(), 1)
            ])
        );
        assert_eq!(needs.waits_ms, [61_000]);
        assert_eq!(
            (needs.total_requests(), needs.total_wait_ms()),
            (200, 61_000)
        );
    }

    #[test]
    fn a_check_needing_more_signups_than_the_ip_limit_allows_is_not_checkable() {
        // An admin's creations are counted in the ledger but leave the check's room alone.
        let email_check = "[[scenario.step]]\nrequest.method = \"POST\"\nrequest.path = \"/user\"\n\
             repeat = \"{{limits.signup_email + 3}}\"\n\
             blame = { requirement = \"XY-ONE-01\", request = { method = \"POST\", path = \"/user\" }, repeat = 30, expect = { status = 429 } }\n\
             [[scenario.step]]\nrequest.method = \"POST\"\nrequest.path = \"/user\"\n\
             request.headers = { Authorization = \"Bearer {{account.admin.token}}\" }\nrepeat = 4\n";
        let mut target = target(false);
        target.limits.signup_email = 3;
        target.limits.signup_ip = 6;
        // Its own six fit (a blame's probe goes out only once the check has failed).
        let fits = needs(&scenario(email_check), &target);
        assert_eq!(
            (fits.own_signups, fits.cannot_run.as_deref()),
            (Some(6), None)
        );
        assert_eq!(
            (fits.signups, fits.probe_signups),
            (40, 30),
            "the probe and the admin's creations are reserved all the same"
        );
        target.limits.signup_ip = 5;
        let over = needs(&scenario(email_check), &target);
        let why = over
            .cannot_run
            .clone()
            .expect("not checkable under an IP limit of 5");
        assert!(
            why.contains("6 signups") && why.contains("signup_ip (5)"),
            "{why}"
        );
        assert!(
            over.holds.is_empty() && over.total_requests() == 0,
            "it sends nothing"
        );
        // A check of the IP limit itself goes over it on purpose.
        let ip_check = needs(&scenario(COUNTED_SIGNUPS), &target);
        assert_eq!((ip_check.own_signups, ip_check.cannot_run), (None, None));
    }

    #[test]
    fn a_count_may_read_what_an_earlier_marked_step_sends() {
        let body = "[[scenario.step]]\nrequest.method = \"POST\"\nrequest.path = \"/authenticate\"\nmark = \"burst\"\nrepeat = 7\n\
                    [[scenario.step]]\nrequest.method = \"POST\"\nrequest.path = \"/authenticate\"\n\
                    repeat = \"{{limits.cs_overall_threshold - sent.burst}}\"\n";
        let needs = needs(&scenario(body), &target(false));
        assert_eq!(needs.total_requests(), 10_000);
    }
}
