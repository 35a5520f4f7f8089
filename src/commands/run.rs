//! `run` and `plan`: the conformance suite against the targets (or the embedded default), with the chosen
//! reporters and expectations; and the schedule such a run would follow.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use crate::cli::{ColorChoice, FormatSpec, ListFormat, PlanArgs, ReportFormat, RunArgs};
use crate::embedded::EmbeddedServers;
use crate::engine::{self, RunPlan, RunReport, Selection, TargetPlan, Verdict};
use crate::expectations::{self, Expectations};
use crate::report::output;
use crate::report::{
    GithubReporter, HtmlReporter, HumanReporter, JsonReporter, JunitReporter, Reporter, ReporterSet,
};
use crate::suite;

use super::execute::{explicit_target, runtime};
use super::{CommandError, exit};

pub(super) fn run(args: &RunArgs) -> Result<u8, CommandError> {
    let selection = Selection::new(&args.selection.only, &args.selection.skip)?;
    let explicit_target = explicit_target(&args.target)?;
    let suite = suite::load(&args.selection.scenarios)?;
    let expectations = Arc::new(match &args.expect {
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
    });
    let mut reporters = reporters(args)?;
    reporters.expect(expectations.clone());

    let runtime = runtime()?;
    let report = runtime.block_on(async {
        let (targets, servers) = match explicit_target {
            Some(description) => (vec![TargetPlan::new(description)], None),
            None => {
                let servers = EmbeddedServers::start().await?;
                (servers.targets.clone(), Some(servers))
            }
        };
        let plan = RunPlan {
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
        let result = engine::run(&suite, &plan, &mut |event| reporters.handle(event)).await;
        if let Some(servers) = servers {
            servers.shutdown().await;
        }
        result.map_err(CommandError::from)
    })?;
    reporters.finish().map_err(CommandError::Write)?;
    if let Some(why) = nothing_checked(&report) {
        return Err(CommandError::NothingToCheck(why));
    }
    Ok(if expectations.apply_run(&report).passed() {
        exit::PASSED
    } else {
        exit::FAILED
    })
}

pub(super) fn plan(args: &PlanArgs) -> Result<u8, CommandError> {
    let selection = Selection::new(&args.selection.only, &args.selection.skip)?;
    let explicit_target = explicit_target(&args.target)?;
    let suite = suite::load(&args.selection.scenarios)?;
    let targets = match explicit_target {
        Some(description) => vec![TargetPlan::new(description)],
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
    let written = match args.format {
        ListFormat::Json => serde_json::to_writer_pretty(&mut out, &plan)
            .map_err(io::Error::from)
            .and_then(|()| writeln!(out)),
        ListFormat::Human => crate::report::write_plan(&mut out, &plan),
    };
    written.map_err(CommandError::Write)?;
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

/// Where the GitHub format's Markdown goes: its path, else `$GITHUB_STEP_SUMMARY`, else stdout (`None`).
fn github_summary_path(spec: &FormatSpec) -> Option<PathBuf> {
    spec.path.clone().or_else(|| {
        std::env::var_os("GITHUB_STEP_SUMMARY")
            .filter(|path| !path.is_empty())
            .map(PathBuf::from)
    })
}

/// The formats asked for (human on stdout when none), at most one of them on stdout.
pub(super) fn format_specs(
    given: &[FormatSpec],
    example: &'static str,
) -> Result<Vec<FormatSpec>, CommandError> {
    if given.is_empty() {
        return Ok(vec![FormatSpec {
            format: ReportFormat::Human,
            path: None,
        }]);
    }
    // GitHub's annotations are lines of their own, meant to mix with other output: only its summary counts.
    let on_stdout = |spec: &&FormatSpec| match spec.format {
        ReportFormat::Github => github_summary_path(spec).is_none(),
        _ => spec.path.is_none(),
    };
    if given.iter().filter(on_stdout).count() > 1 {
        return Err(CommandError::SeveralOnStdout { example });
    }
    Ok(given.to_vec())
}

fn reporters(args: &RunArgs) -> Result<ReporterSet, CommandError> {
    let mut set = ReporterSet::new(args.show_secrets);
    for spec in format_specs(&args.formats, "json=report.json")? {
        if spec.format == ReportFormat::Github {
            // The job summary file is shared by the job's steps: append to it.
            let summary = match github_summary_path(&spec) {
                Some(path) => output::append(&path)?,
                None => output::open(None)?,
            };
            set.add(Box::new(GithubReporter::new(
                summary.writer,
                output::open(None)?.writer,
            )));
            continue;
        }
        let output = output::open(spec.path.as_deref())?;
        let out = output.writer;
        let reporter: Box<dyn Reporter> = match spec.format {
            ReportFormat::Human => {
                let color = match args.color {
                    ColorChoice::Always => true,
                    ColorChoice::Never => false,
                    ColorChoice::Auto => {
                        output.is_terminal && std::env::var_os("NO_COLOR").is_none()
                    }
                };
                Box::new(
                    HumanReporter::new(out, color, io::stderr().is_terminal())
                        .verbose(args.verbose),
                )
            }
            ReportFormat::Json => Box::new(JsonReporter::new(out)),
            ReportFormat::Junit => Box::new(JunitReporter::new(out)),
            ReportFormat::Html => Box::new(HtmlReporter::new(out, args.show_secrets)),
            ReportFormat::Github => unreachable!("added above"),
        };
        set.add(reporter);
    }
    Ok(set)
}
