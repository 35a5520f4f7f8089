//! Benchmarks side by side: each target in turn, interleaved over `--rounds` (a, b, a, b …) so a burst of
//! other work on a shared machine lands on every target alike, in one report whose targets name their round
//! and whose figures say which target and round they measured.

use super::{LoadError, LoadOptions, run};
use crate::engine::{Compared, EngineEvent, RunReport};
use crate::target::TargetDescription;

/// Runs the profile against each target in turn, `rounds` times over, and reports them as one run. Each
/// target comes with whether it runs in this process (the bundled reference server).
pub async fn compare(
    targets: &[(TargetDescription, bool)],
    options: &LoadOptions,
    rounds: u32,
    strict: bool,
    events: &mut (dyn FnMut(&EngineEvent<'_>) + Send),
) -> Result<RunReport, LoadError> {
    let mut merged: Option<RunReport> = None;
    for round in 1..=rounds.max(1) {
        for (target, in_process) in targets {
            let mut named = target.clone();
            let options = LoadOptions {
                target_in_process: *in_process,
                ..options.clone()
            };
            if rounds > 1 {
                named.name = format!("{}, round {round}", target.name);
            }
            let first = merged.is_none();
            let mut report = run(&named, &options, strict, &mut |event| match event {
                // One run is reported: its start once, its end once all are measured.
                EngineEvent::RunFinished(_) => {}
                EngineEvent::RunStarted { .. } if !first => {}
                other => events(other),
            })
            .await?;
            for measured in &mut report.targets {
                if let Some(figures) = &mut measured.load {
                    figures.compared = Some(Compared {
                        target: target.name.clone(),
                        round,
                    });
                }
            }
            merged = Some(match merged {
                None => report,
                Some(mut all) => {
                    all.duration_ms += report.duration_ms;
                    all.summary.add(&report.summary);
                    all.targets.extend(report.targets);
                    all.expectation_problems.extend(report.expectation_problems);
                    all
                }
            });
        }
    }
    let merged = merged.expect("at least one target and one round");
    events(&EngineEvent::RunFinished(&merged));
    Ok(merged)
}
