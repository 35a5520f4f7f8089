//! `load`: the goose load profiles against one target, with their reports and the page of charts.

use std::io::{self, Write};

use crate::cli::LoadArgs;
use crate::embedded::EmbeddedServers;
use crate::report::LoadProgress;
use crate::report::output;

use super::execute::{explicit_target, runtime};
use super::{CommandError, exit};
use crate::report::format_specs;

pub(super) fn load(args: &LoadArgs) -> Result<u8, CommandError> {
    use crate::load::{self, LoadOptions, LoadProfile};
    use authconform_scenario::model::Profile;

    let explicit_target = explicit_target(&args.target)?;
    let specs = format_specs(&args.formats, "json=load.json")?;
    crate::report::load::check_formats(&specs)?;
    let options = LoadOptions {
        profile: args.profile,
        users: usize::from(args.users),
        requests: args.requests,
        rate: args
            .rate
            .map(|rate| usize::try_from(rate).unwrap_or(usize::MAX)),
        report_dir: args.report_dir.clone(),
        thresholds: args.thresholds.clone(),
    };
    let runtime = runtime()?;
    let report = runtime.block_on(async {
        let (target, servers) = match explicit_target {
            Some(description) => (description, None),
            None => {
                let servers = EmbeddedServers::start().await?;
                let wanted = match args.profile {
                    LoadProfile::Lockout => Profile::CreditsafeConnect,
                    LoadProfile::Signin | LoadProfile::Signup => Profile::Appmixer6,
                };
                let target = servers
                    .targets
                    .iter()
                    .find(|plan| plan.description.profiles.contains(&wanted))
                    .map(|plan| plan.description.clone())
                    .ok_or(CommandError::NoEmbeddedInstance { profile: wanted })?;
                (target, Some(servers))
            }
        };
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
