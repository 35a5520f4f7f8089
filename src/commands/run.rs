//! `run` and `plan`: the conformance suite against the targets (or the embedded default), with the chosen
//! reporters and expectations; and the schedule such a run would follow.

use std::io;
use std::sync::Arc;

use crate::cli::{PlanArgs, RunArgs};
use crate::embedded::EmbeddedServers;
use crate::engine::{self, RunPlan, RunReport, Selection, TargetPlan, Verdict};
use crate::expectations::{self, Expectations};
use crate::report::{HumanStyle, ReporterSet, format_specs};
use crate::suite;
use crate::target::declared;
use crate::target::{
    self,
    state::{SentSignups, TargetState, WindowRead},
};

use super::setup::{explicit_target, runtime, stop_on_ctrl_c};
use super::state::{self, state_path};
use super::{CommandError, exit};

pub(super) fn run(args: &RunArgs) -> Result<u8, CommandError> {
    let selection = Selection::new(&args.selection.only, &args.selection.skip)?;
    let explicit_target = explicit_target(&args.target)?;
    let suite = suite::load(&args.selection.scenarios)?;
    let expectations = Arc::new(expectations_for(args.expect.as_deref(), &suite)?);
    let mut reporters = reporters(args)?;
    reporters.expect(expectations.clone());

    let state_path = explicit_target
        .as_ref()
        .and_then(|target| state_path(&args.state, &args.target, target));
    let earlier = match &explicit_target {
        Some(target) => state::earlier(state_path.as_ref(), target)?,
        None => None,
    };
    let runtime = runtime()?;
    let report = runtime.block_on(async {
        let interrupt = stop_on_ctrl_c();
        let (targets, servers) = match explicit_target.clone() {
            Some(description) => {
                let mut target = TargetPlan::new(description);
                target.earlier = earlier.clone();
                target.knows_history = state_path.is_some();
                (vec![target], None)
            }
            None => {
                let servers = EmbeddedServers::start().await?;
                (servers.targets.clone(), Some(servers))
            }
        };
        let mut plan = RunPlan {
            targets,
            selection,
            strict: args.strict,
            jobs: args.selection.jobs(),
        };
        if let Some(why) = nothing_selected(&suite, &plan, args) {
            if let Some(servers) = servers {
                servers.shutdown().await;
            }
            return Err(CommandError::NothingToCheck(why));
        }
        // A target given by flags or file: its declared limits, before any check is sent.
        if servers.is_none() {
            for target in &mut plan.targets {
                let reconciled =
                    declared::reconcile(&args.target, &mut target.description, args.trust_declared)
                        .await?;
                for disagreement in reconciled.used {
                    eprintln!("--trust-declared: {}", disagreement.taken());
                }
                // The probe's signup counts toward the runner's own address like any other.
                // What the target said its IP window then held settles every signup sent until then.
                if declared::probe_signs_up(&target.description) {
                    let base_url = target.description.base_url.as_str();
                    let now = target::state::now_unix_ms();
                    let state = target
                        .earlier
                        .get_or_insert_with(|| TargetState::new(base_url));
                    state.signups.push(SentSignups {
                        address: target::state::DIRECT.to_owned(),
                        at_unix_ms: now,
                        count: 1,
                        counted: reconciled.signup_counted,
                    });
                    state.ip_window_read = reconciled.signup_ip_held.map(|held| WindowRead {
                        at_unix_ms: now,
                        held,
                    });
                }
            }
        }
        for target in &mut plan.targets {
            target.interrupt = interrupt.clone();
        }
        let earlier = plan.targets.first().and_then(|t| t.earlier.clone());
        let result = engine::run(&suite, &plan, &mut |event| reporters.handle(event)).await;
        if let Some(servers) = servers {
            servers.shutdown().await;
        }
        result
            .map(|report| (report, earlier, interrupt.fired()))
            .map_err(CommandError::from)
    })?;
    let (report, earlier, interrupted) = report;
    reporters.finish().map_err(CommandError::Write)?;
    if let Some(target) = &explicit_target {
        state::remember(state_path.as_ref(), earlier, target, &report)?;
    }
    if interrupted {
        return Ok(exit::INTERRUPTED);
    }
    if let Some(why) = nothing_checked(&report) {
        return Err(CommandError::NothingToCheck(why));
    }
    Ok(if expectations.apply_run(&report).passed() {
        exit::PASSED
    } else {
        exit::FAILED
    })
}

/// The known outcomes `--expect FILE` lists (none without it), checked against the suite's catalogue.
pub(super) fn expectations_for(
    path: Option<&std::path::Path>,
    suite: &authconform_scenario::model::Suite,
) -> Result<Expectations, CommandError> {
    Ok(match path {
        Some(path) => {
            let ids: Vec<&str> = suite
                .catalogue
                .requirements
                .iter()
                .map(|r| r.id.as_str())
                .collect();
            expectations::load(path, &ids)?
        }
        None => Expectations::default(),
    })
}

pub(super) fn plan(args: &PlanArgs) -> Result<u8, CommandError> {
    let selection = Selection::new(&args.selection.only, &args.selection.skip)?;
    let explicit_target = explicit_target(&args.target)?;
    let suite = suite::load(&args.selection.scenarios)?;
    let targets = match explicit_target {
        Some(description) => {
            let path = state_path(&args.state, &args.target, &description);
            let mut target = TargetPlan::new(description);
            target.earlier = state::earlier(path.as_ref(), &target.description)?;
            vec![target]
        }
        // The embedded default's descriptions: its servers start (nothing is sent to them) and stop.
        None => runtime()?.block_on(async {
            let servers = EmbeddedServers::start().await?;
            let targets = servers.targets.clone();
            servers.shutdown().await;
            Ok::<_, CommandError>(targets)
        })?,
    };
    let run_plan = RunPlan {
        targets,
        selection,
        strict: false,
        jobs: args.selection.jobs(),
    };
    let plan = engine::plan(&suite, &run_plan);
    let mut out = io::stdout().lock();
    crate::report::write_list(&mut out, args.format, &plan, |out, plan| {
        crate::report::write_plan(out, plan)
    })
    .map_err(CommandError::Write)?;
    Ok(exit::PASSED)
}

/// Why the plan runs no scenario on any target, when it runs none.
fn nothing_selected(
    suite: &authconform_scenario::model::Suite,
    plan: &RunPlan,
    args: &RunArgs,
) -> Option<String> {
    if plan.targets.iter().any(|target| {
        engine::planned_scenarios(suite, plan, target)
            .next()
            .is_some()
    }) {
        return None;
    }
    let mut flags: Vec<String> = Vec::new();
    flags.extend(
        args.selection
            .only
            .iter()
            .map(|glob| format!("--only '{glob}'")),
    );
    flags.extend(
        args.selection
            .skip
            .iter()
            .map(|glob| format!("--skip '{glob}'")),
    );
    let flags = if flags.is_empty() {
        "the selection".to_owned()
    } else {
        flags.join(" ")
    };
    let mut profiles: Vec<&str> = Vec::new();
    for target in &plan.targets {
        for profile in &target.description.profiles {
            if !profiles.contains(&profile.as_str()) {
                profiles.push(profile.as_str());
            }
        }
    }
    let selected = suite
        .scenarios
        .iter()
        .filter(|scenario| plan.selection.selects(scenario))
        .count();
    Some(if selected == 0 {
        format!(
            "nothing to check: {flags} leaves none of the {} scenarios (globs match scenario names, requirement ids and tags; `authconform requirements` lists them)",
            suite.scenarios.len()
        )
    } else {
        format!(
            "nothing to check: {flags} selects {selected} scenario{}, but none for the profiles {} of the target",
            if selected == 1 { "" } else { "s" },
            profiles.join(", ")
        )
    })
}

/// Why no requirement was judged on any target (every selected scenario was skipped), when none was.
fn nothing_checked(report: &RunReport) -> Option<String> {
    let judged = report
        .targets
        .iter()
        .flat_map(|target| &target.requirements)
        .any(|requirement| requirement.verdict != Verdict::Skip);
    if judged {
        return None;
    }
    let mut reasons: Vec<&str> = Vec::new();
    for scenario in report.targets.iter().flat_map(|target| &target.scenarios) {
        if let Some(reason) = scenario.skip_reason.as_deref()
            && !reasons.contains(&reason)
        {
            reasons.push(reason);
        }
    }
    Some(if reasons.is_empty() {
        "nothing was checked: no selected scenario judged a requirement".to_owned()
    } else {
        format!(
            "nothing was checked: every selected scenario was skipped ({})",
            reasons.join("; ")
        )
    })
}

fn reporters(args: &RunArgs) -> Result<ReporterSet, CommandError> {
    let specs = format_specs(&args.formats, "json=report.json")?;
    let style = HumanStyle {
        color: args.color,
        verbose: args.verbose,
        show_secrets: args.show_secrets,
    };
    Ok(crate::report::reporters(&specs, style)?)
}
