//! The embedded default: the bundled reference server, every Appmixer profile, the whole built-in suite.
//! The reference implementation must pass every requirement that applies to it.

use authconform::embedded::EmbeddedServers;
use authconform::engine::{self, RunPlan, Selection, Verdict};
use authconform::suite;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_server_passes_the_built_in_suite() {
    let suite = suite::load(&[]).expect("the built-in suite is valid");
    let servers = EmbeddedServers::start()
        .await
        .expect("the embedded servers start");
    let plan = RunPlan {
        targets: servers.targets.clone(),
        selection: Selection::all(),
        strict: true,
    };
    let started = std::time::Instant::now();
    let report = engine::run(&suite, &plan, &mut |_| {})
        .await
        .expect("the run completes");
    servers.shutdown().await;
    println!(
        "embedded run: {} targets, {} scenarios run, {} requests in {:.2}s",
        report.targets.len(),
        report
            .targets
            .iter()
            .flat_map(|t| &t.scenarios)
            .filter(|s| s.verdict != Verdict::Skip)
            .count(),
        report
            .targets
            .iter()
            .flat_map(|t| &t.scenarios)
            .map(|s| s.requests)
            .sum::<u64>(),
        started.elapsed().as_secs_f64()
    );

    // Nothing fails, warns or is inconclusive anywhere, and every requirement passes on some instance (a
    // requirement needing e.g. create-scope is skipped on the instances without it).
    let mut problems = Vec::new();
    for target in &report.targets {
        for requirement in &target.requirements {
            if !matches!(requirement.verdict, Verdict::Pass | Verdict::Skip) {
                problems.push(format!(
                    "{} on {}: {} {:#?}",
                    requirement.id, target.name, requirement.verdict, requirement.findings
                ));
            }
        }
    }
    for requirement in &suite.catalogue.requirements {
        let passed_somewhere = report
            .targets
            .iter()
            .flat_map(|t| &t.requirements)
            .any(|r| r.id == requirement.id && r.verdict == Verdict::Pass);
        if !passed_somewhere {
            let reasons: Vec<&String> = report
                .targets
                .iter()
                .flat_map(|t| &t.requirements)
                .filter(|r| r.id == requirement.id)
                .flat_map(|r| &r.skip_reasons)
                .collect();
            problems.push(format!(
                "{} passed on no instance: {reasons:?}",
                requirement.id
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(report.summary.failed, 0);
}
