//! From every scenario's outcome to one verdict per requirement on a target: passes, findings, checks,
//! readings and skip reasons gathered per requirement, the verdict they make, and chains of blockers
//! followed to the requirement that really broke.

use std::collections::{BTreeMap, HashMap};

use authconform_scenario::model::{Profile, Requirement, Scenario};

use super::judge::ScenarioOutcome;
use super::results::{Check, Finding, Observation, ReadingSeen, RequirementReport, Verdict};

/// Everything learnt about one requirement on one target.
#[derive(Debug, Default)]
pub(super) struct Judgement {
    pub(super) verdict: Option<Verdict>,
    scenarios: Vec<String>,
    findings: Vec<Finding>,
    checks: Vec<Check>,
    pub(super) skip_reasons: Vec<String>,
    readings: Vec<ReadingSeen>,
}

impl Judgement {
    fn raise(&mut self, verdict: Verdict) {
        self.verdict = Some(self.verdict.map_or(verdict, |v| v.max(verdict)));
    }

    fn judged_by(&mut self, scenario: &str) {
        if !self.scenarios.iter().any(|s| s == scenario) {
            self.scenarios.push(scenario.to_owned());
        }
    }
}

/// Folds one scenario's outcome into the judgements of the requirements it touched, and its observations
/// into the target's.
pub(super) fn judge_outcome(
    scenario: &Scenario,
    mut outcome: ScenarioOutcome,
    judgements: &mut HashMap<String, Judgement>,
    observations: &mut Vec<Observation>,
) {
    observations.append(&mut outcome.observations);
    for (id, reason) in outcome.skipped {
        judgements.entry(id).or_default().skip_reasons.push(reason);
    }
    for id in &outcome.passes {
        let judgement = judgements.entry(id.clone()).or_default();
        judgement.raise(Verdict::Pass);
        judgement.judged_by(&scenario.name);
    }
    for (id, finding) in outcome.findings {
        let judgement = judgements.entry(id.clone()).or_default();
        judgement.raise(finding.severity);
        judgement.judged_by(&scenario.name);
        judgement.findings.push(finding);
    }
    for (id, check) in outcome.checks {
        judgements.entry(id).or_default().checks.push(check);
    }
    for (id, reading) in outcome.readings {
        let judgement = judgements.entry(id.clone()).or_default();
        if !judgement.readings.contains(&reading) {
            judgement.readings.push(reading);
        }
    }
}

/// One requirement's verdict on a target from what every scenario found (skipped when it does not apply,
/// or nothing checked it; a warning fails under `--strict`).
pub(super) fn requirement_report(
    requirement: &Requirement,
    profiles: &[Profile],
    judgement: Option<Judgement>,
    strict: bool,
) -> RequirementReport {
    let applicable = requirement.profiles.iter().any(|p| profiles.contains(p));
    let mut judgement = judgement.unwrap_or_default();
    let verdict = if !applicable {
        let names: Vec<&str> = profiles.iter().map(|p| p.as_str()).collect();
        judgement.skip_reasons = vec![format!("not applicable to {}", names.join(", "))];
        Verdict::Skip
    } else {
        match judgement.verdict {
            Some(verdict) => verdict,
            None => {
                if judgement.skip_reasons.is_empty() {
                    let names: Vec<&str> = profiles.iter().map(|p| p.as_str()).collect();
                    judgement.skip_reasons.push(format!(
                        "no selected scenario checks it on {}",
                        names.join(", ")
                    ));
                }
                Verdict::Skip
            }
        }
    };
    let verdict = if strict && verdict == Verdict::Warn {
        Verdict::Fail
    } else {
        verdict
    };
    RequirementReport {
        id: requirement.id.clone(),
        level: requirement.level,
        profiles: requirement.profiles.clone(),
        title: requirement.requirement.clone(),
        clause: requirement.clause.clone(),
        source: requirement.source.clone(),
        accept: requirement.accept.clone(),
        verdict,
        scenarios: judgement.scenarios,
        findings: judgement.findings,
        checks: judgement.checks,
        skip_reasons: judgement.skip_reasons,
        readings: judgement.readings,
        expectation: None,
    }
}

/// Follows chains of blockers to the requirement that really broke: a finding blocked by a requirement that
/// is itself only inconclusive, every such finding of it blocked by one other requirement, is blocked by that
/// one (the note keeps the link it went through).
pub(super) fn trace_blockers(requirements: &mut [RequirementReport]) {
    let sole_blocker = |report: &RequirementReport| -> Option<String> {
        if report.verdict != Verdict::Inconclusive {
            return None;
        }
        let mut blockers = report
            .findings
            .iter()
            .filter(|f| f.severity == Verdict::Inconclusive)
            .map(|f| f.blocked_by.as_deref());
        let first = blockers.next()??;
        blockers.all(|b| b == Some(first)).then(|| first.to_owned())
    };
    // Each pass shortens every chain by one link; a chain is never longer than the catalogue.
    for _ in 0..requirements.len() {
        let roots: BTreeMap<String, String> = requirements
            .iter()
            .filter_map(|r| sole_blocker(r).map(|b| (r.id.clone(), b)))
            .filter(|(id, blocker)| id != blocker)
            .collect();
        let mut changed = false;
        for finding in requirements.iter_mut().flat_map(|r| r.findings.iter_mut()) {
            let Some(root) = finding.blocked_by.as_ref().and_then(|b| roots.get(b)) else {
                continue;
            };
            let via = finding.blocked_by.replace(root.clone()).unwrap_or_default();
            let link = format!("{via} was itself blocked by {root}");
            finding.note = Some(match finding.note.take() {
                Some(note) => format!("{note} ({link})"),
                None => link,
            });
            changed = true;
        }
        if !changed {
            break;
        }
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    fn requirement(id: &str, verdict: Verdict, blocked_by: &[Option<&str>]) -> RequirementReport {
        RequirementReport {
            findings: blocked_by
                .iter()
                .map(|blocker| Finding {
                    severity: Verdict::Inconclusive,
                    scenario: "s".into(),
                    step_number: 1,
                    step: "a step".into(),
                    location: "s.toml:1".into(),
                    expected: None,
                    actual: None,
                    note: None,
                    blocked_by: blocker.map(str::to_owned),
                    exchange: None,
                    curl: None,
                })
                .collect(),
            ..RequirementReport::bare(id, Vec::new(), verdict)
        }
    }

    /// A requirement in a case: its id, its verdict, the blockers its inconclusive findings name.
    type Given<'a> = (&'a str, Verdict, &'a [Option<&'a str>]);
    /// A case: the requirements, the one looked at, what its findings name afterwards.
    type Case<'a> = (&'a [Given<'a>], &'a str, &'a [Option<&'a str>]);

    fn blockers(requirements: &[RequirementReport], id: &str) -> Vec<Option<String>> {
        requirements
            .iter()
            .find(|r| r.id == id)
            .unwrap()
            .findings
            .iter()
            .map(|f| f.blocked_by.clone())
            .collect()
    }

    #[test]
    fn blockers_are_followed_to_the_requirement_that_broke() {
        // (what is blocked, its verdict, its findings' blockers) → what each finding names afterwards.
        let cases: &[Case<'_>] = &[
            // A chain of inconclusives ends at the one that failed.
            (
                &[
                    ("C", Verdict::Inconclusive, &[Some("B")]),
                    ("B", Verdict::Inconclusive, &[Some("A")]),
                    ("A", Verdict::Fail, &[]),
                ],
                "C",
                &[Some("A")],
            ),
            // A blocker that failed itself stays the blocker.
            (
                &[
                    ("C", Verdict::Inconclusive, &[Some("B")]),
                    ("B", Verdict::Fail, &[Some("A")]),
                ],
                "C",
                &[Some("B")],
            ),
            // A blocker held up by two different requirements (or by none) is not followed.
            (
                &[
                    ("C", Verdict::Inconclusive, &[Some("B")]),
                    ("B", Verdict::Inconclusive, &[Some("A"), Some("D")]),
                ],
                "C",
                &[Some("B")],
            ),
            (
                &[
                    ("C", Verdict::Inconclusive, &[Some("B")]),
                    ("B", Verdict::Inconclusive, &[None]),
                ],
                "C",
                &[Some("B")],
            ),
        ];
        for (reports, id, expected) in cases {
            let mut requirements: Vec<RequirementReport> = reports
                .iter()
                .map(|(id, verdict, blocked)| requirement(id, *verdict, blocked))
                .collect();
            trace_blockers(&mut requirements);
            let expected: Vec<Option<String>> =
                expected.iter().map(|b| b.map(str::to_owned)).collect();
            assert_eq!(blockers(&requirements, id), expected, "{reports:?}");
        }
    }
}
