//! Carrying out each command: build the suite and targets, run the engine with the chosen reporters, and
//! map the outcome to an exit code.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use crate::cli::{
    CheckScenariosArgs, Cli, ColorChoice, Command, CompletionsArgs, FormatSpec, InitArgs,
    ListFormat, ManArgs, PlanArgs, ReportFormat, RequirementsArgs, RunArgs, ServeArgs,
};
use crate::detect::DetectError;
use crate::embedded::{EmbeddedError, EmbeddedServers};
use crate::engine::{
    self, EngineError, RunPlan, RunReport, Selection, SelectionError, TargetPlan, Verdict,
};
use crate::expectations::{self, Expectations, ExpectationsError};
use crate::report::output::{self, OutputError};
use crate::report::{
    GithubReporter, HtmlReporter, HumanReporter, JsonReporter, JunitReporter, LoadProgress,
    Reporter, ReporterSet,
};
use crate::suite::{self, SuiteError};
use crate::target::{self, DescriptionError, TargetDescription, TargetFlags};

/// Exit codes, fixed by cause.
pub mod exit {
    pub const PASSED: u8 = 0;
    pub const FAILED: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const RUNTIME: u8 = 3;
}

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Description(#[from] DescriptionError),
    #[error(transparent)]
    Selection(#[from] SelectionError),
    #[error(transparent)]
    Expectations(#[from] ExpectationsError),
    /// The selection (`--only`, `--skip`, the profiles) left nothing to check: never a green run.
    #[error("{0}")]
    NothingToCheck(String),
    #[error("{} exists: add --force to overwrite it", path.display())]
    Exists { path: PathBuf },
    #[error("init needs a target: add --target URL (or --target-file FILE to start from)")]
    InitWithoutTarget,
    #[error(transparent)]
    Suite(#[from] SuiteError),
    #[error("{flag} describes a target, but none is given: add --target URL or --target-file FILE")]
    TargetFlagWithoutTarget { flag: &'static str },
    #[error("detect needs a target: add --target URL or --target-file FILE")]
    DetectWithoutTarget,
    #[error(
        "--format: more than one format writes to stdout; give all but one a path (`{example}`)"
    )]
    SeveralOnStdout { example: &'static str },
    #[error("--format github is a report of `run`; for load, use junit or json")]
    GithubForLoad,
    #[error("no embedded instance serves {profile}")]
    NoEmbeddedInstance {
        profile: authconform_scenario::model::Profile,
    },
    /// The reference server's flags or address (its message names the flag).
    #[error("{0}")]
    ServeSetup(authconform_reference_server::RunError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Embedded(#[from] EmbeddedError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("could not write the report")]
    Write(#[source] io::Error),
    #[error("could not start the async runtime")]
    Runtime(#[source] io::Error),
    #[error(transparent)]
    Load(#[from] crate::load::LoadError),
    #[error(transparent)]
    Detect(#[from] DetectError),
    #[error("the reference server failed")]
    Serve(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl CommandError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CommandError::Description(_)
            | CommandError::Selection(_)
            | CommandError::Expectations(_)
            | CommandError::NothingToCheck(_)
            | CommandError::Exists { .. }
            | CommandError::InitWithoutTarget
            | CommandError::Suite(_)
            | CommandError::TargetFlagWithoutTarget { .. }
            | CommandError::DetectWithoutTarget
            | CommandError::SeveralOnStdout { .. }
            | CommandError::GithubForLoad
            | CommandError::NoEmbeddedInstance { .. }
            | CommandError::ServeSetup(_)
            | CommandError::Output(_)
            | CommandError::Engine(EngineError::ClockProtocol { .. })
            | CommandError::Load(crate::load::LoadError::Missing { .. }) => exit::USAGE,
            CommandError::Engine(_)
            | CommandError::Embedded(_)
            | CommandError::Write(_)
            | CommandError::Runtime(_)
            | CommandError::Serve(_)
            | CommandError::Load(_)
            | CommandError::Detect(_) => exit::RUNTIME,
        }
    }

    /// What to print under the message: a mistake in the target file, underlined in its text.
    pub fn snippet(&self, styled: bool) -> Option<String> {
        match self {
            CommandError::Description(error) => error.snippet(styled),
            _ => None,
        }
    }

    /// Stdout was closed early (`authconform run | head`): not worth an error.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, CommandError::Write(err) if err.kind() == io::ErrorKind::BrokenPipe)
    }
}

/// Runs a parsed command line; `Ok` carries the exit code.
pub fn execute(cli: Cli) -> Result<u8, CommandError> {
    match cli.command {
        Command::Run(args) => run(&args),
        Command::Plan(args) => plan(&args),
        Command::Serve(args) => serve(*args),
        Command::Load(args) => load(&args),
        Command::Detect(args) => detect(&args),
        Command::Init(args) => init(&args),
        Command::Completions(args) => completions(&args),
        Command::Man(args) => man(&args),
        Command::Requirements(args) => requirements(&args),
        Command::CheckScenarios(args) => check_scenarios(&args),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, CommandError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CommandError::Runtime)
}

/// The target the flags describe; `None` when they describe none (the embedded default).
fn explicit_target(target: &TargetFlags) -> Result<Option<TargetDescription>, CommandError> {
    if target.names_a_target() {
        Ok(Some(target::load(target)?))
    } else if let Some(flag) = target.first_target_flag() {
        Err(CommandError::TargetFlagWithoutTarget { flag })
    } else {
        Ok(None)
    }
}

fn run(args: &RunArgs) -> Result<u8, CommandError> {
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

fn plan(args: &PlanArgs) -> Result<u8, CommandError> {
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
fn format_specs(
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

fn load(args: &crate::cli::LoadArgs) -> Result<u8, CommandError> {
    use crate::load::{self, LoadOptions, LoadProfile};
    use authconform_scenario::model::Profile;

    let explicit_target = explicit_target(&args.target)?;
    let specs = format_specs(&args.formats, "json=load.json")?;
    if specs.iter().any(|spec| spec.format == ReportFormat::Github) {
        return Err(CommandError::GithubForLoad);
    }
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
        let written = match spec.format {
            ReportFormat::Human => {
                crate::report::load::write_human(&report, &mut out, args.verbose)
            }
            ReportFormat::Json => crate::report::load::write_json(&report, &mut out),
            ReportFormat::Junit => crate::report::load::write_junit(&report, &mut out),
            ReportFormat::Html => crate::report::write_load_html(&mut out, &report),
            ReportFormat::Github => unreachable!("refused before the run"),
        };
        written
            .and_then(|()| out.flush())
            .map_err(CommandError::Write)?;
    }
    Ok(if report.passed(args.strict) {
        exit::PASSED
    } else {
        exit::FAILED
    })
}

fn init(args: &InitArgs) -> Result<u8, CommandError> {
    if !args.target.names_a_target() {
        return Err(CommandError::InitWithoutTarget);
    }
    if let Some(path) = &args.output
        && path.exists()
        && !args.force
    {
        return Err(CommandError::Exists { path: path.clone() });
    }
    let target = detection_target(&args.target)?;
    let runtime = runtime()?;
    let (detection, clock) = runtime.block_on(async {
        let detection = crate::detect::detect(&target).await;
        let clock = crate::init::probe_test_clock(&target).await;
        (detection, clock)
    });
    let detection = detection?;
    let text = crate::init::target_file(&target, &detection, clock);
    let mut out = output::open(args.output.as_deref())?.writer;
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(CommandError::Write)?;
    if let Some(path) = &args.output {
        eprintln!(
            "wrote {} (matches: {}); check the lines marked CHECK, then: authconform run --target-file {}",
            path.display(),
            match detection.profiles().as_slice() {
                [] => "no documented profile".to_owned(),
                profiles => profiles.join(", "),
            },
            path.display()
        );
    }
    Ok(if detection.profiles().is_empty() {
        exit::FAILED
    } else {
        exit::PASSED
    })
}

fn completions(args: &CompletionsArgs) -> Result<u8, CommandError> {
    use clap::CommandFactory;
    // Generated into memory first: clap_complete panics when its writer fails (`| head`).
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "authconform", &mut script);
    let mut out = io::stdout().lock();
    out.write_all(&script)
        .and_then(|()| out.flush())
        .map_err(CommandError::Write)?;
    Ok(exit::PASSED)
}

fn man(args: &ManArgs) -> Result<u8, CommandError> {
    use clap::CommandFactory;
    let command = Cli::command();
    match &args.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .and_then(|()| clap_mangen::generate_to(command, dir))
                .map_err(|source| OutputError {
                    path: dir.clone(),
                    source,
                })?;
        }
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(command)
                .render(&mut page)
                .map_err(CommandError::Write)?;
            let mut out = io::stdout().lock();
            out.write_all(&page)
                .and_then(|()| out.flush())
                .map_err(CommandError::Write)?;
        }
    }
    Ok(exit::PASSED)
}

/// The target `detect` and `init` probe: the flags' description, with any placeholder profile (detection is
/// what tells the profiles).
fn detection_target(flags: &TargetFlags) -> Result<TargetDescription, CommandError> {
    let mut flags = flags.clone();
    if flags.profiles.is_empty() {
        flags.profiles.push("creditsafe-connect".into());
    }
    Ok(target::load(&flags)?)
}

fn detect(args: &crate::cli::DetectArgs) -> Result<u8, CommandError> {
    if !args.target.names_a_target() {
        return Err(CommandError::DetectWithoutTarget);
    }
    let target = detection_target(&args.target)?;
    let runtime = runtime()?;
    let detection = runtime.block_on(crate::detect::detect(&target))?;
    let mut out = output::open(None)?.writer;
    let written = match args.format {
        ListFormat::Json => serde_json::to_writer_pretty(&mut out, &detection)
            .map_err(io::Error::from)
            .and_then(|()| writeln!(out)),
        ListFormat::Human => detection.write_human(&mut out),
    };
    written
        .and_then(|()| out.flush())
        .map_err(CommandError::Write)?;
    Ok(if detection.profiles().is_empty() {
        exit::FAILED
    } else {
        exit::PASSED
    })
}

fn serve(args: ServeArgs) -> Result<u8, CommandError> {
    use authconform_reference_server::RunError;
    let runtime = runtime()?;
    runtime
        .block_on(authconform_reference_server::run(args.server))
        .map_err(|error| match error {
            RunError::Config(_) | RunError::Bind { .. } => CommandError::ServeSetup(error),
            RunError::Task(message) => CommandError::Serve(message.into()),
            RunError::Start(error) => CommandError::Serve(Box::new(error)),
            RunError::Serve(error) => CommandError::Serve(Box::new(error)),
        })?;
    Ok(exit::PASSED)
}

#[derive(Debug, Serialize)]
struct RequirementListing<'a> {
    id: &'a str,
    level: authconform_scenario::model::Level,
    profiles: &'a [authconform_scenario::model::Profile],
    title: &'a str,
    clause: &'a str,
    source: &'a str,
    scenarios: Vec<&'a str>,
}

fn requirements(args: &RequirementsArgs) -> Result<u8, CommandError> {
    let suite = suite::load(&args.scenarios)?;
    let listings: Vec<RequirementListing<'_>> = suite
        .catalogue
        .requirements
        .iter()
        .map(|r| RequirementListing {
            id: &r.id,
            level: r.level,
            profiles: &r.profiles,
            title: &r.requirement,
            clause: &r.clause,
            source: &r.source,
            scenarios: suite
                .scenarios
                .iter()
                .filter(|s| s.covers.contains(&r.id))
                .map(|s| s.name.as_str())
                .collect(),
        })
        .collect();
    let mut out = io::stdout().lock();
    let written = match args.format {
        ListFormat::Json => serde_json::to_writer_pretty(&mut out, &listings)
            .map_err(io::Error::from)
            .and_then(|()| writeln!(out)),
        ListFormat::Human => write_requirements(&mut out, &listings),
    };
    written
        .and_then(|()| out.flush())
        .map_err(CommandError::Write)?;
    Ok(exit::PASSED)
}

fn write_requirements(out: &mut dyn Write, listings: &[RequirementListing<'_>]) -> io::Result<()> {
    let uncovered = listings.iter().filter(|l| l.scenarios.is_empty()).count();
    for listing in listings {
        let level = listing.level.as_str();
        let profiles: Vec<&str> = listing.profiles.iter().map(|p| p.as_str()).collect();
        writeln!(out, "{:<16} {level:<6} {}", listing.id, listing.title)?;
        writeln!(out, "{:<23} profiles: {}", "", profiles.join(", "))?;
        if listing.scenarios.is_empty() {
            writeln!(out, "{:<23} scenarios: (none)", "")?;
        } else {
            writeln!(
                out,
                "{:<23} scenarios: {}",
                "",
                listing.scenarios.join(", ")
            )?;
        }
    }
    writeln!(
        out,
        "{} requirements, {} covered by no scenario",
        listings.len(),
        uncovered
    )
}

fn check_scenarios(args: &CheckScenariosArgs) -> Result<u8, CommandError> {
    let suite = suite::check_dir(&args.dir)?;
    let files: std::collections::BTreeSet<_> =
        suite.scenarios.iter().map(|s| &s.origin.file).collect();
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "ok: {} scenarios in {} files, {} requirements",
        suite.scenarios.len(),
        files.len(),
        suite.catalogue.requirements.len()
    )
    .and_then(|()| out.flush())
    .map_err(CommandError::Write)?;
    Ok(exit::PASSED)
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    use super::*;
    use crate::load::{FloodError, LoadError};

    fn not_found() -> io::Error {
        io::Error::new(io::ErrorKind::NotFound, "no such file or directory")
    }

    /// No message in the chain repeats the message of its cause (main prints the whole chain).
    fn assert_each_cause_once(error: &(dyn Error + 'static)) {
        let mut current = Some(error);
        while let Some(error) = current {
            if let Some(cause) = error.source() {
                assert!(
                    !error.to_string().contains(&cause.to_string()),
                    "`{error}` repeats its cause `{cause}`"
                );
            }
            current = error.source();
        }
    }

    #[test]
    fn a_chain_names_each_cause_once() {
        let errors = [
            CommandError::Description(DescriptionError::Read {
                path: "t.toml".into(),
                source: not_found(),
            }),
            CommandError::Output(OutputError {
                path: "report.json".into(),
                source: not_found(),
            }),
            CommandError::Write(not_found()),
            CommandError::Runtime(not_found()),
            CommandError::Embedded(EmbeddedError::Bind(not_found())),
            CommandError::Load(LoadError::Flood(FloodError::Empty)),
            CommandError::Serve(Box::new(not_found())),
        ];
        for error in &errors {
            assert_each_cause_once(error);
        }
        let printed = format!(
            "{:#}",
            anyhow::Error::from(CommandError::Output(OutputError {
                path: "reports/report.json".into(),
                source: not_found(),
            }))
        );
        assert_eq!(
            printed,
            "could not create reports/report.json: no such file or directory"
        );
    }

    #[test]
    fn a_client_that_cannot_be_built_is_a_runtime_failure() {
        let error = CommandError::Detect(DetectError::Client(crate::target::ClientError::Header(
            "X-Bad".into(),
        )));
        assert_eq!(error.exit_code(), exit::RUNTIME);
        let error = CommandError::Engine(EngineError::Client(crate::target::ClientError::Header(
            "X-Bad".into(),
        )));
        assert_eq!(error.exit_code(), exit::RUNTIME);
    }
}
