//! `load`: the goose load profiles against one target, with their reports and the page of charts.

use std::io::{self, Write};

use crate::cli::LoadArgs;
use crate::embedded::EmbeddedServers;
use crate::report::LoadProgress;
use crate::report::output;

use super::execute::{explicit_target, runtime};
use super::run::expectations_for;
use super::{CommandError, exit};
use crate::report::{HumanStyle, format_specs};

pub(super) fn load(args: &LoadArgs) -> Result<u8, CommandError> {
    use crate::load::{self, LoadProfile};
    use authconform_scenario::model::Profile;

    let explicit_target = explicit_target(&args.target)?;
    let specs = format_specs(&args.formats, "json=load.json")?;
    if args.profile == LoadProfile::Lockout {
        return lockout(args, explicit_target, &specs);
    }
    crate::report::load::check_formats(&specs)?;
    let options = options(args, args.requests, args.rate);
    let runtime = runtime()?;
    let report = runtime.block_on(async {
        let wanted = match args.profile {
            LoadProfile::Lockout => Profile::CreditsafeConnect,
            LoadProfile::Signin | LoadProfile::Signup => Profile::Appmixer6,
        };
        let (target, servers) = target_or_embedded(explicit_target, wanted).await?;
        // goose prints progress lines on stdout; keep stdout for the report.
        let quiet_stdout = gag::Redirect::stdout(io::stderr()).ok();
        let mut progress = LoadProgress::new();
        let result = load::run(&target, &options, &mut |event| progress.handle(event)).await;
        drop(quiet_stdout);
        if let Some(servers) = servers {
            servers.shutdown().await;
        }
        result.map_err(CommandError::from)
    })?;
    // The page of charts goes beside goose's reports.
    if let Some(dir) = &args.report_dir {
        let mut out = output::open(Some(&dir.join(crate::load::LOAD_PAGE)))?.writer;
        crate::report::write_load_html(&mut out, &report)
            .and_then(|()| out.flush())
            .map_err(CommandError::Write)?;
    }
    for spec in &specs {
        let mut out = output::open(spec.path.as_deref())?.writer;
        crate::report::load::write(spec.format, &report, &mut out, args.verbose)
            .and_then(|()| out.flush())
            .map_err(CommandError::Write)?;
    }
    Ok(if report.passed(args.strict) {
        exit::PASSED
    } else {
        exit::FAILED
    })
}

/// The lockout profile: the catalogue's lockout check under load, through the engine and the run's reporters
/// (every format, `--expect`, redaction); the figures and thresholds are part of the report.
fn lockout(
    args: &LoadArgs,
    explicit_target: Option<crate::target::TargetDescription>,
    specs: &[crate::report::FormatSpec],
) -> Result<u8, CommandError> {
    use authconform_scenario::model::Profile;
    use std::sync::Arc;

    for (given, flag) in [
        (args.requests.is_some(), "--requests"),
        (args.rate.is_some(), "--rate"),
    ] {
        if given {
            return Err(CommandError::NotForLockout { flag });
        }
    }
    let suite = crate::suite::load(&[])?;
    let expectations = Arc::new(expectations_for(args.expect.as_deref(), &suite)?);
    let style = HumanStyle {
        color: args.color,
        verbose: args.verbose,
        show_secrets: args.show_secrets,
    };
    let mut reporters = crate::report::reporters(specs, style)?;
    if let Some(dir) = &args.report_dir {
        let page = output::open(Some(&dir.join(crate::load::LOAD_PAGE)))?;
        reporters.add(Box::new(crate::report::HtmlReporter::new(
            page.writer,
            args.show_secrets,
        )));
    }
    reporters.expect(expectations.clone());
    let options = options(args, None, None);
    let runtime = runtime()?;
    let report = runtime.block_on(async {
        let (target, servers) =
            target_or_embedded(explicit_target, Profile::CreditsafeConnect).await?;
        let result =
            crate::load::run_lockout(&suite, &target, &options, args.strict, &mut |event| {
                reporters.handle(event)
            })
            .await;
        if let Some(servers) = servers {
            servers.shutdown().await;
        }
        result.map_err(CommandError::from)
    })?;
    reporters.finish().map_err(CommandError::Write)?;
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

/// The load options the flags give; `requests` and `rate` only for the benchmarks.
fn options(args: &LoadArgs, requests: Option<u64>, rate: Option<u64>) -> crate::load::LoadOptions {
    crate::load::LoadOptions {
        profile: args.profile,
        users: usize::from(args.users),
        requests,
        rate: rate.map(|rate| usize::try_from(rate).unwrap_or(usize::MAX)),
        report_dir: args.report_dir.clone(),
        thresholds: args.thresholds.clone(),
    }
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
