//! The results of a run: verdicts per (target, requirement), with the evidence behind each.
//!
//! This is plain data: the engine fills it in, reporters read it, and the JSON reporter serialises it as is
//! (the shape is documented by `docs/report.schema.json`).

use std::fmt;

use authconform_scenario::model::{Level, Profile};
use serde::Serialize;

use crate::target::ClockMode;

/// The version of the JSON report's shape.
pub const SCHEMA_VERSION: u32 = 3;

/// A verdict, ordered by precedence: when several judgements meet, the greatest wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Skip,
    Pass,
    /// A failure, warning or inconclusive check the expectations file (`--expect`) names for this target:
    /// shown, counted apart, and not failing the run. The engine never judges it; it is applied afterwards.
    Expected,
    /// Undetermined (a setup step failed, or the timing margin was lost). A definite warning or failure
    /// elsewhere outranks it: it is evidence, this is its absence.
    Inconclusive,
    Warn,
    Fail,
}

impl Verdict {
    /// Every verdict in the order a reader cares about: what needs attention first.
    pub const BY_ATTENTION: [Verdict; 6] = [
        Verdict::Fail,
        Verdict::Warn,
        Verdict::Inconclusive,
        Verdict::Expected,
        Verdict::Pass,
        Verdict::Skip,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Skip => "skip",
            Verdict::Pass => "pass",
            Verdict::Expected => "expected",
            Verdict::Warn => "warn",
            Verdict::Inconclusive => "inconclusive",
            Verdict::Fail => "fail",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub schema_version: u32,
    pub tool_version: String,
    pub run_id: String,
    pub strict: bool,
    pub duration_ms: u64,
    pub targets: Vec<TargetReport>,
    /// Verdicts per (target, requirement), every target's summed.
    pub summary: Summary,
    /// Each requirement once, whatever the number of targets: the verdict that needs the most attention on
    /// any target it applies to (a failure on one outranks passes on the others), skipped when no target
    /// judged it, not applicable when it applies to none of them.
    pub requirements: Summary,
    /// Expectations (`--expect`) that no longer happen or have expired: each fails the run.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expectation_problems: Vec<ExpectationProblem>,
}

impl RunReport {
    /// Whether every required check passed (warnings count as failures under `--strict`, already folded in).
    /// A check that could not be concluded did not pass: a gate must not go green on it.
    pub fn passed(&self) -> bool {
        self.summary.failed == 0
            && self.summary.inconclusive == 0
            && self.expectation_problems.is_empty()
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub warned: usize,
    pub skipped: usize,
    pub inconclusive: usize,
    /// Outcomes the expectations file names: they do not fail the run.
    pub expected: usize,
    /// Skipped because the requirement belongs to none of the target's profiles (apart from `skipped`,
    /// which counts what applies and was not checked).
    pub not_applicable: usize,
}

impl Summary {
    pub fn count(&mut self, verdict: Verdict) {
        match verdict {
            Verdict::Skip => self.skipped += 1,
            Verdict::Pass => self.passed += 1,
            Verdict::Expected => self.expected += 1,
            Verdict::Warn => self.warned += 1,
            Verdict::Inconclusive => self.inconclusive += 1,
            Verdict::Fail => self.failed += 1,
        }
    }

    /// Counts one requirement's verdict on a target with these profiles, a skip that does not apply apart.
    pub fn count_requirement(&mut self, requirement: &RequirementReport, profiles: &[Profile]) {
        if requirement.verdict == Verdict::Skip && !requirement.applies_to(profiles) {
            self.not_applicable += 1;
        } else {
            self.count(requirement.verdict);
        }
    }

    /// Each requirement of these targets counted once (see [`RunReport::requirements`]).
    pub fn by_requirement(targets: &[TargetReport]) -> Summary {
        // Per id: `None` while it applies to no target seen, else the verdict that needs most attention.
        let mut verdicts: Vec<(&str, Option<Verdict>)> = Vec::new();
        for target in targets {
            for requirement in &target.requirements {
                let verdict = requirement
                    .applies_to(&target.profiles)
                    .then_some(requirement.verdict);
                match verdicts.iter_mut().find(|(id, _)| *id == requirement.id) {
                    Some((_, seen)) => *seen = (*seen).max(verdict),
                    None => verdicts.push((&requirement.id, verdict)),
                }
            }
        }
        let mut summary = Summary::default();
        for (_, verdict) in verdicts {
            match verdict {
                Some(verdict) => summary.count(verdict),
                None => summary.not_applicable += 1,
            }
        }
        summary
    }

    /// Every count, not-applicable included.
    pub fn total(&self) -> usize {
        self.passed
            + self.failed
            + self.warned
            + self.skipped
            + self.inconclusive
            + self.expected
            + self.not_applicable
    }

    /// How many requirements have this verdict.
    pub fn get(&self, verdict: Verdict) -> usize {
        match verdict {
            Verdict::Skip => self.skipped,
            Verdict::Pass => self.passed,
            Verdict::Expected => self.expected,
            Verdict::Warn => self.warned,
            Verdict::Inconclusive => self.inconclusive,
            Verdict::Fail => self.failed,
        }
    }

    pub fn add(&mut self, other: &Summary) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.warned += other.warned;
        self.skipped += other.skipped;
        self.inconclusive += other.inconclusive;
        self.expected += other.expected;
        self.not_applicable += other.not_applicable;
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetReport {
    pub name: String,
    pub base_url: String,
    /// The target's further base URLs, when requests were spread over several instances.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_base_urls: Vec<String>,
    pub profiles: Vec<Profile>,
    pub clock: ClockMode,
    /// Set when only the scenarios needing one capability ran on this target.
    pub only_requiring: Option<String>,
    pub duration_ms: u64,
    pub summary: Summary,
    pub requirements: Vec<RequirementReport>,
    pub scenarios: Vec<ScenarioReport>,
    pub observations: Vec<Observation>,
    /// A load run's figures (`authconform load`): what its concurrent steps measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load: Option<super::figures::LoadFigures>,
    /// The signups the run sent, per client address, for the target's state file (real clock only).
    #[serde(skip)]
    pub sent_signups: Vec<crate::target::state::SentSignups>,
    /// What one round of each request (`METHOD path`) took, in microseconds, for the state file.
    #[serde(skip)]
    pub request_costs: std::collections::BTreeMap<String, u64>,
    /// Values to hide from reports unless `--show-secrets`: passwords, tokens, the signing secret.
    #[serde(skip)]
    pub secrets: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RequirementReport {
    pub id: String,
    pub level: Level,
    pub profiles: Vec<Profile>,
    /// The paraphrase the report prints.
    pub title: String,
    pub clause: String,
    pub source: String,
    pub accept: Option<String>,
    pub verdict: Verdict,
    /// Scenarios that ran and judged it.
    pub scenarios: Vec<String>,
    pub findings: Vec<Finding>,
    /// Every step that judged it, passed or not, with what it sent and what came back.
    pub checks: Vec<Check>,
    /// Why it (or one of its scenarios) was skipped.
    pub skip_reasons: Vec<String>,
    pub readings: Vec<ReadingSeen>,
    /// The expectation that made the verdict `expected`, with the outcome it names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expectation: Option<ExpectationNote>,
}

impl RequirementReport {
    /// A must-level requirement of `profiles` with this verdict and nothing else, for tests.
    #[cfg(test)]
    pub(crate) fn bare(id: &str, profiles: Vec<Profile>, verdict: Verdict) -> RequirementReport {
        RequirementReport {
            id: id.to_owned(),
            level: Level::Must,
            profiles,
            title: String::new(),
            clause: String::new(),
            source: String::new(),
            accept: None,
            verdict,
            scenarios: Vec::new(),
            findings: Vec::new(),
            checks: Vec::new(),
            skip_reasons: Vec::new(),
            readings: Vec::new(),
            expectation: None,
        }
    }

    /// Whether the requirement belongs to one of these profiles.
    pub fn applies_to(&self, profiles: &[Profile]) -> bool {
        self.profiles
            .iter()
            .any(|profile| profiles.contains(profile))
    }
}

/// Why an outcome was expected: the entry of the expectations file that names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpectationNote {
    /// The verdict the engine judged, and the expectation names: fail, warn or inconclusive.
    pub outcome: Verdict,
    pub reason: String,
    /// `YYYY-MM-DD`: the last day the expectation holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// `file:line` of the entry.
    pub location: String,
}

/// An expectation that fails the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpectationProblem {
    pub kind: ExpectationProblemKind,
    /// The id or glob the entry names.
    pub requirement: String,
    pub note: ExpectationNote,
    /// What went wrong, in a sentence.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExpectationProblemKind {
    /// The expected outcome did not happen on any target: the entry is out of date.
    Stale,
    /// The entry's `until` date has passed.
    Expired,
}

impl ExpectationProblemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExpectationProblemKind::Stale => "stale",
            ExpectationProblemKind::Expired => "expired",
        }
    }
}

/// One piece of evidence against a requirement: a failure, a warning or an inconclusive check.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub severity: Verdict,
    pub scenario: String,
    /// 1-based.
    pub step_number: usize,
    pub step: String,
    /// `file:line` of the step.
    pub location: String,
    pub expected: Option<String>,
    pub actual: Option<String>,
    /// Why the finding is inconclusive, or what else to know.
    pub note: Option<String>,
    /// For an inconclusive finding: the requirement whose breach kept this one from being judged.
    pub blocked_by: Option<String>,
    pub exchange: Option<Exchange>,
    /// A `curl` command reproducing the request; filled in by the reporters.
    pub curl: Option<String>,
}

/// One step that judged a requirement, whatever its verdict: the evidence a reader checks a pass against.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub scenario: String,
    /// 1-based.
    pub step_number: usize,
    pub step: String,
    /// `file:line` of the step.
    pub location: String,
    /// The worst finding of this step about this requirement, or pass.
    pub verdict: Verdict,
    /// Requests the step sent.
    pub requests: u64,
    /// The step's first exchange and, when it sent more than one request, its last.
    pub exchanges: Vec<SampleExchange>,
}

/// One recorded exchange of a step, numbered within the step.
#[derive(Debug, Clone, Serialize)]
pub struct SampleExchange {
    /// 1-based position of the request within the step (its repeat number).
    pub request_number: u64,
    pub exchange: Exchange,
    /// A `curl` command reproducing the request; filled in by the reporters.
    pub curl: Option<String>,
}

/// A reading (one of the accepted interpretations) the target showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReadingSeen {
    pub scenario: String,
    pub step: String,
    pub status: u16,
    pub reading: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    pub name: String,
    pub title: String,
    pub location: String,
    pub covers: Vec<String>,
    pub verdict: Verdict,
    pub skip_reason: Option<String>,
    pub steps_run: usize,
    pub requests: u64,
    pub duration_ms: u64,
    /// When it started and ended, in virtual milliseconds since its target's run began (real time plus
    /// every advance of the test clock).
    pub start_ms: u64,
    pub end_ms: u64,
    /// Its waits, on the same axis.
    pub waits: Vec<WaitSpan>,
}

/// One wait of a scenario, in virtual milliseconds since its target's run began.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaitSpan {
    pub step: String,
    pub start_ms: u64,
    pub end_ms: u64,
}

/// Something seen on the target that the report shows regardless of verdicts.
#[derive(Debug, Clone, Serialize)]
pub struct Observation {
    pub scenario: String,
    pub step: String,
    pub requirements: Vec<String>,
    pub kind: ObservationKind,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ObservationKind {
    Reading,
    Jwt,
    MessageShape,
    /// A 429's `Retry-After` (or its absence) and any `RateLimit`/`RateLimit-Policy` fields.
    RateLimitFields,
    /// An answer whose body went on past `--max-body`: it was judged on the part read.
    BodyCut,
    /// A load driver failed after its flood's last answer (goose writing its own reports).
    LoadDriver,
}

/// A request and what came back, as sent and received.
#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    pub request: RecordedRequest,
    pub response: Option<RecordedResponse>,
    /// Why no response arrived.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecordedRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy), cut at [`RECORDED_BODY_LIMIT`] bytes.
    pub body: Option<String>,
    pub body_bytes: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecordedResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy), cut at [`RECORDED_BODY_LIMIT`] bytes.
    pub body: String,
    pub body_bytes: usize,
}

/// How much of a body an exchange keeps.
pub const RECORDED_BODY_LIMIT: usize = 4096;

/// Text of a body, cut at [`RECORDED_BODY_LIMIT`] bytes on a character boundary.
pub(crate) fn body_excerpt(body: &[u8]) -> String {
    let cut = body.len().min(RECORDED_BODY_LIMIT);
    let text = String::from_utf8_lossy(&body[..cut]);
    let mut text = text.into_owned();
    if body.len() > cut {
        // A cut inside a multi-byte character shows as a replacement character; drop it.
        while text.ends_with('\u{fffd}') {
            text.pop();
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn requirement(id: &str, profile: Profile, verdict: Verdict) -> RequirementReport {
        RequirementReport::bare(id, vec![profile], verdict)
    }

    fn target(profiles: Vec<Profile>, requirements: Vec<RequirementReport>) -> TargetReport {
        let mut summary = Summary::default();
        for requirement in &requirements {
            summary.count_requirement(requirement, &profiles);
        }
        TargetReport {
            name: "t".into(),
            base_url: "http://127.0.0.1:1/".into(),
            other_base_urls: Vec::new(),
            profiles,
            clock: ClockMode::Control,
            only_requiring: None,
            duration_ms: 0,
            summary,
            requirements,
            scenarios: Vec::new(),
            observations: Vec::new(),
            load: None,
            sent_signups: Vec::new(),
            request_costs: Default::default(),
            secrets: Vec::new(),
        }
    }

    #[test]
    fn each_requirement_counts_once_with_the_verdict_that_needs_most_attention() {
        let cloud = Profile::AppmixerCloud;
        let connect = Profile::CreditsafeConnect;
        let first = target(
            vec![cloud],
            vec![
                requirement("A", cloud, Verdict::Pass),
                requirement("B", cloud, Verdict::Pass),
                requirement("C", cloud, Verdict::Skip),
                requirement("D", connect, Verdict::Skip),
                requirement("E", connect, Verdict::Skip),
            ],
        );
        let second = target(
            vec![cloud, connect],
            vec![
                requirement("A", cloud, Verdict::Fail),
                requirement("B", cloud, Verdict::Skip),
                requirement("C", cloud, Verdict::Skip),
                requirement("D", connect, Verdict::Pass),
            ],
        );
        assert_eq!(
            (first.summary.skipped, first.summary.not_applicable),
            (1, 2),
            "a skip that does not apply is counted apart"
        );
        let requirements = Summary::by_requirement(&[first, second]);
        assert_eq!(
            requirements,
            Summary {
                passed: 2,
                failed: 1,
                skipped: 1,
                not_applicable: 1,
                ..Summary::default()
            },
            "A failed on one target, B and D passed where checked, C was checked nowhere, E applies nowhere"
        );
        assert_eq!(requirements.total(), 5);
    }
}
