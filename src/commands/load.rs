//! `load`: a load profile against one target, through the engine and the run's reporters.

use std::sync::Arc;

use authconform_scenario::model::Profile;

use crate::cli::LoadArgs;
use crate::embedded::EmbeddedServers;
use crate::load::{LoadOptions, LoadProfile};
use crate::report::{HumanStyle, format_specs, output};

use super::run::expectations_for;
use super::setup::{explicit_target, generator_runtime, stop_on_ctrl_c};
use super::{CommandError, exit};

/// Runs the profile and writes its report in every format asked for (`--expect` and redaction as for
/// `run`); with `--report-dir`, the HTML report goes there too, beside goose's reports of each flood.
pub(super) fn load(args: &LoadArgs) -> Result<u8, CommandError> {
    if args.profile == LoadProfile::Lockout {
        let given = [
            ("--requests", args.requests.is_some()),
            ("--arrival-rate", args.arrival_rate.is_some()),
            ("--stages", args.stages.is_some()),
        ];
        if let Some((flag, _)) = given.iter().find(|(_, given)| *given) {
            return Err(CommandError::NotForLockout { flag });
        }
    }
    let regressions = match &args.baseline {
        Some(path) => crate::load::Baseline::read(path)
            .and_then(|baseline| baseline.of_profile(args.profile))
            .and_then(|baseline| baseline.regressions(&args.max_regression))
            .map_err(|error| CommandError::Load(error.into()))?,
        None => Vec::new(),
    };
    let max_in_flight = usize::from(args.max_in_flight);
    let open = match (&args.arrival_rate, &args.stages) {
        (Some(rate), _) => Some(crate::load::Schedule::constant(*rate, args.duration)),
        (None, Some(stages)) => Some(crate::load::Schedule::ramps(
            crate::load::Rate { per_second: 0.0 },
            stages.0.clone(),
        )),
        (None, None) => None,
    }
    .map(|schedule| crate::load::OpenModel {
        schedule,
        max_in_flight,
        max_queued: args
            .max_queued
            .map_or(max_in_flight, |n| usize::try_from(n).unwrap_or(usize::MAX)),
    });
    let explicit_target = explicit_target(&args.target)?;
    let specs = format_specs(&args.formats, "json=load.json")?;
    let suite = crate::suite::load(&[])?;
    let expectations = Arc::new(expectations_for(args.expect.as_deref(), &suite)?);
    let style = HumanStyle {
        color: args.color,
        verbose: args.verbose,
        show_secrets: args.show_secrets,
    };
    let mut reporters = crate::report::reporters(&specs, style)?;
    if let Some(dir) = &args.report_dir {
        let page = output::open(Some(&dir.join(crate::load::LOAD_PAGE)))?;
        reporters.add(Box::new(crate::report::HtmlReporter::new(
            page.writer,
            args.show_secrets,
        )));
    }
    reporters.expect(expectations.clone());
    let options = LoadOptions {
        interrupt: crate::engine::Interrupt::default(),
        profile: args.profile,
        users: usize::from(args.users),
        requests: args.requests,
        rate: args
            .rate
            .map(|rate| usize::try_from(rate).unwrap_or(usize::MAX)),
        report_dir: args.report_dir.clone(),
        thresholds: args.thresholds.clone(),
        open,
        regressions,
        mix: args.mix,
        target_in_process: explicit_target.is_none(),
        // The bundled server runs on the generator's runtime: it gets the machine's cores unless told.
        threads: args.threads.map_or_else(
            || {
                if explicit_target.is_none() {
                    std::thread::available_parallelism().map_or(1, usize::from)
                } else {
                    1
                }
            },
            usize::from,
        ),
    };
    let wanted = match args.profile {
        LoadProfile::Lockout => Profile::CreditsafeConnect,
        LoadProfile::Signin | LoadProfile::Signup | LoadProfile::Mixed => Profile::Appmixer6,
        LoadProfile::SignupLimit => Profile::AppmixerCloud,
    };
    let compared = compared_targets(args, wanted)?;
    let runtime = generator_runtime(options.threads)?;
    let interrupt = stop_on_ctrl_c();
    let options = LoadOptions {
        interrupt: interrupt.clone(),
        ..options
    };
    let (rounds, strict) = (args.rounds, args.strict);
    // Spawned onto the runtime's workers: under `block_on` the engine's task (which renders every request
    // and judges every answer) would run on this thread, apart from the users sending on the workers, and
    // every hand-off between them would wake a thread.
    let run = runtime.spawn(async move {
        let in_process = explicit_target.is_none();
        let (target, servers) = match target_or_embedded(explicit_target, wanted).await {
            Ok(found) => found,
            Err(error) => return (Err(error), reporters),
        };
        let mut handle = |event: &crate::engine::EngineEvent<'_>| reporters.handle(event);
        let result = if compared.is_empty() && rounds == 1 {
            crate::load::run(&target, &options, strict, &mut handle).await
        } else {
            let mut targets = vec![(target, in_process)];
            targets.extend(compared.into_iter().map(|target| (target, false)));
            crate::load::compare(&targets, &options, rounds, strict, &mut handle).await
        };
        if let Some(servers) = servers {
            servers.shutdown().await;
        }
        let result = result.map_err(|error| match error {
            crate::load::LoadError::Engine(error) => CommandError::Engine(error),
            crate::load::LoadError::Suite(error) => CommandError::Suite(error),
            other => CommandError::Load(other),
        });
        (result, reporters)
    });
    let (report, reporters) = runtime.block_on(run).map_err(CommandError::LoadTask)?;
    let report = match report {
        // Stopped before a flood answered: nothing to report but that.
        Err(CommandError::Load(crate::load::LoadError::NothingMeasured { .. }))
            if interrupt.fired() =>
        {
            reporters.finish().map_err(CommandError::Write)?;
            return Ok(exit::INTERRUPTED);
        }
        other => other?,
    };
    reporters.finish().map_err(CommandError::Write)?;
    if interrupt.fired() {
        return Ok(exit::INTERRUPTED);
    }
    let thresholds_met = report
        .targets
        .iter()
        .all(|target| target.load.as_ref().is_none_or(|load| load.passed()));
    Ok(
        if expectations.apply_run(&report).passed() && thresholds_met {
            exit::PASSED
        } else {
            exit::FAILED
        },
    )
}

/// The targets of `--compare`: each a target file, or a URL described by the first target's flags.
fn compared_targets(
    args: &LoadArgs,
    wanted: Profile,
) -> Result<Vec<crate::target::TargetDescription>, CommandError> {
    args.compare
        .iter()
        .map(|given| {
            let flags = if given.starts_with("http://") || given.starts_with("https://") {
                let url =
                    crate::target::parse_url(given).map_err(|reason| CommandError::CompareUrl {
                        given: given.clone(),
                        reason,
                    })?;
                let mut flags = args.target.clone();
                flags.target_file = None;
                flags.base_urls = vec![url];
                if flags.profiles.is_empty() {
                    flags.profiles = vec![wanted];
                }
                flags
            } else {
                crate::target::TargetFlags {
                    target_file: Some(given.into()),
                    ..crate::target::TargetFlags::default()
                }
            };
            let mut target =
                crate::target::load(&flags).map_err(|source| CommandError::CompareTarget {
                    given: given.clone(),
                    source,
                })?;
            if target.name == target.base_url.to_string() || target.name.is_empty() {
                target.name = given.clone();
            }
            Ok(target)
        })
        .collect()
}

/// The target given, or the bundled reference instance of `profile` (with its servers, to shut down after).
async fn target_or_embedded(
    explicit_target: Option<crate::target::TargetDescription>,
    profile: authconform_scenario::model::Profile,
) -> Result<(crate::target::TargetDescription, Option<EmbeddedServers>), CommandError> {
    if let Some(description) = explicit_target {
        return Ok((description, None));
    }
    let servers = EmbeddedServers::start().await?;
    let target = servers
        .targets
        .iter()
        .find(|plan| plan.description.profiles.contains(&profile))
        .map(|plan| plan.description.clone())
        .ok_or(CommandError::NoEmbeddedInstance { profile })?;
    Ok((target, Some(servers)))
}
