//! Precision: one fault, one failing requirement. The whole suite runs against every fault of the mutation
//! suite (in the placement where the mutation suite checks it) and against the correct server in the same
//! placement; every requirement other than the fault's own whose verdict moved is listed. None may fail or
//! warn, and one may be inconclusive only when its findings name the fault's requirement as the blocker.
//! Each fault is run twice, scenarios side by side and one at a time (`--jobs 1`): every verdict must be the
//! same both ways.

use std::collections::BTreeMap;
use std::sync::Arc;

use authconform::engine::{RunReport, Verdict};
use authconform::suite;
use authconform_reference_server::Fault;
use tokio::sync::Semaphore;

use crate::mutants::{Placement, Variant, check, placement, verdicts};

/// One requirement whose verdict moved under a fault: its id, the verdict before and after, and whether
/// every inconclusive finding names the fault's requirement as its blocker.
struct Moved {
    id: String,
    correct: Verdict,
    faulty: Verdict,
    blocked_by_fault: bool,
}

impl Moved {
    /// A collateral move the precision target forbids.
    fn is_collateral(&self) -> bool {
        match self.faulty {
            // No expectations file is given, so `expected` stands only for a failure or warning.
            Verdict::Fail | Verdict::Warn | Verdict::Expected => true,
            Verdict::Inconclusive => !self.blocked_by_fault,
            Verdict::Skip | Verdict::Pass => false,
        }
    }
}

fn moved(broken: &str, correct: &RunReport, faulty: &RunReport) -> Vec<Moved> {
    let before = verdicts(correct);
    faulty.targets[0]
        .requirements
        .iter()
        .filter(|r| r.id != broken)
        .filter_map(|r| {
            let correct = before.get(&r.id).copied().unwrap_or(Verdict::Skip);
            (correct != r.verdict).then(|| Moved {
                id: r.id.clone(),
                correct,
                faulty: r.verdict,
                blocked_by_fault: r
                    .findings
                    .iter()
                    .filter(|f| f.severity == Verdict::Inconclusive)
                    .all(|f| f.blocked_by.as_deref() == Some(broken)),
            })
        })
        .collect()
}

fn placement_key((appmixer, profiles, scope, trusted): &Placement) -> String {
    format!("{appmixer:?}/{profiles:?}/{scope}/{trusted}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_fault_moves_only_its_own_requirement() {
    let suite = Arc::new(suite::load(&[]).unwrap());
    let permits = Arc::new(Semaphore::new(4));
    let local = tokio::task::LocalSet::new();

    // The correct server once per placement, then every fault in its placement, the whole suite each time.
    let mut placements: BTreeMap<String, Placement> = BTreeMap::new();
    for fault in Fault::ALL {
        let placement = placement(fault.describe().0);
        placements.insert(placement_key(&placement), placement);
    }
    let mut correct_runs = tokio::task::JoinSet::new();
    for (key, placement) in placements {
        let (suite, permits) = (suite.clone(), permits.clone());
        correct_runs.spawn_local_on(
            async move {
                let _permit = permits.acquire().await.unwrap();
                (key, check(&suite, Variant::default(), placement, &[]).await)
            },
            &local,
        );
    }
    let mut fault_runs = tokio::task::JoinSet::new();
    for fault in Fault::ALL {
        let (suite, permits) = (suite.clone(), permits.clone());
        fault_runs.spawn_local_on(
            async move {
                let _permit = permits.acquire().await.unwrap();
                let placement = placement(fault.describe().0);
                let variant = Variant {
                    faults: vec![fault],
                    ..Variant::default()
                };
                let one_by_one = Variant {
                    one_by_one: true,
                    ..variant.clone()
                };
                let report = check(&suite, variant, placement.clone(), &[]).await;
                let one_by_one = check(&suite, one_by_one, placement.clone(), &[]).await;
                (fault, placement_key(&placement), report, one_by_one)
            },
            &local,
        );
    }
    let (correct, faulty) = local
        .run_until(async {
            let mut correct = BTreeMap::new();
            while let Some(run) = correct_runs.join_next().await {
                let (key, report) = run.unwrap();
                correct.insert(key, report);
            }
            let mut faulty = Vec::new();
            while let Some(run) = fault_runs.join_next().await {
                faulty.push(run.unwrap());
            }
            (correct, faulty)
        })
        .await;

    let mut table = Vec::new();
    let mut collateral = Vec::new();
    let mut order_dependent = Vec::new();
    for (fault, key, report, one_by_one) in faulty {
        let (id, _) = fault.describe();
        let (side_by_side, in_order) = (verdicts(&report), verdicts(&one_by_one));
        for (requirement, verdict) in &side_by_side {
            let alone = in_order.get(requirement).copied().unwrap_or(Verdict::Skip);
            if alone != *verdict {
                order_dependent.push(format!(
                    "{fault:?}: {requirement} is {verdict} side by side ({}) but {alone} with --jobs 1 ({})",
                    crate::mutants::explain(&report, requirement),
                    crate::mutants::explain(&one_by_one, requirement)
                ));
            }
        }
        let moves = moved(id, &correct[&key], &report);
        let described: Vec<String> = moves
            .iter()
            .map(|m| {
                let blocker = if m.faulty == Verdict::Inconclusive && m.blocked_by_fault {
                    format!(" (blocked by {id})")
                } else {
                    String::new()
                };
                format!("{} {}→{}{blocker}", m.id, m.correct, m.faulty)
            })
            .collect();
        let bad: Vec<&Moved> = moves.iter().filter(|m| m.is_collateral()).collect();
        for m in &bad {
            let findings: String = report.targets[0]
                .requirements
                .iter()
                .filter(|r| r.id == m.id)
                .flat_map(|r| &r.findings)
                .take(3)
                .map(|f| format!("\n      {}", crate::support::describe_finding(f)))
                .collect();
            collateral.push(format!(
                "{} ({id}): {} {}→{}{findings}",
                fault.name(),
                m.id,
                m.correct,
                m.faulty
            ));
        }
        table.push(format!(
            "| `{}` | {id} | {} |",
            fault.name(),
            if described.is_empty() {
                "—".to_owned()
            } else {
                described.join(", ")
            }
        ));
    }
    table.sort();
    println!(
        "| fault | breaks | other requirements that moved |\n|---|---|---|\n{}\ncollateral failures, warnings and unblamed inconclusives: {}",
        table.join("\n"),
        collateral.len()
    );
    println!(
        "verdicts that differ between side by side and --jobs 1: {}",
        order_dependent.len()
    );
    assert!(
        collateral.is_empty(),
        "collateral:\n{}",
        collateral.join("\n")
    );
    assert!(
        order_dependent.is_empty(),
        "order dependent:\n{}",
        order_dependent.join("\n")
    );
}
