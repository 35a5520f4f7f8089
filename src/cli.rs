//! The command line: every flag, its help, and the examples that teach it. Parsing only; [`crate::commands`]
//! carries the commands out.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use crate::report::{ColorChoice, FormatSpec, ListFormat, ReportFormat};
use crate::target::TargetFlags;

const ABOUT: &str = "Checks HTTP authentication APIs against their documented behaviour, citing a requirement id \
                     for every verdict";

const EXAMPLES: &str = "\
Examples:
  authconform run                                  check the bundled reference server, every profile
  authconform run --target http://127.0.0.1:8080 --profile appmixer-6
  authconform run --target-file staging.toml --format junit=report.xml --format human
  authconform run --target-file staging.toml --only 'CS-*' --skip lockout
  authconform run --target-file staging.toml --expect known-failures.toml --format github
  authconform init --target http://127.0.0.1:8080 --output staging.toml
  authconform requirements --format json
  authconform check-scenarios vendor-scenarios/

Exit codes: 0 every required check passed, 1 a requirement failed (or warned under --strict),
2 usage, target description or scenario error, 3 target unreachable or runtime failure,
130 interrupted by Ctrl-C (the reports and the state file hold what was done).";

const RUN_EXAMPLES: &str = "\
Examples:
  authconform run
      Start the bundled reference server in-process (test clock on), once per Appmixer
      profile, and check each instance with the whole suite.
  authconform run --target http://127.0.0.1:8080 --profile appmixer-cloud --clock control \\
      --admin admin@example.com:secret
      Check a server that speaks the test-clock protocol: waits advance its clock.
  authconform run --target-file staging.toml --strict --format json=report.json
      Check the target described in staging.toml (see docs/target.md); warnings fail the run.
  authconform run --format human --format html=reports/report.html
      Also write a self-contained HTML report: every requirement with its verdict, the quoted
      clause, the requests and responses (secrets hidden) and curl commands to replay them.
  authconform run --target-file staging.toml --only 'AM-SIGNIN-*' --skip rate-limit
      Only the sign-in requirements, without rate-limit scenarios (globs match ids, names
      and tags). A selection that runs no check exits 2.
  authconform run --target-file staging.toml --expect known-failures.toml
      Known failures, warnings and inconclusive checks (ids or globs, each with a reason and
      an optional `until` date) do not fail the run; an entry that no longer happens, or has
      expired, does (see docs/cli.md).
  authconform run --format human --format github
      In a GitHub Actions job: the Markdown summary goes to $GITHUB_STEP_SUMMARY, and
      failures and warnings become annotations.
  authconform run --target http://127.0.0.1:8081 --target http://127.0.0.1:8082 \\
      --target http://127.0.0.1:8083 --profile appmixer-cloud --clock control
      Three instances of one target (e.g. sharing one Redis): requests go to each in turn,
      so the limits are checked as global.

Without --target or --target-file the embedded reference server is checked.
Exit codes: 0 pass, 1 a requirement failed (or warned under --strict), 2 usage or scenario error,
3 target unreachable, 130 interrupted by Ctrl-C (the reports and the state file hold what was done).";

#[derive(Debug, Parser)]
#[command(name = "authconform", version, about = ABOUT, after_help = EXAMPLES, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a target (or the embedded reference server) against the conformance suite
    #[command(after_help = RUN_EXAMPLES)]
    Run(Box<RunArgs>),
    /// Print the schedule a run would follow, before sending anything: which scenario runs when and
    /// holding what, the projected wall time, the requests per endpoint and what will be locked out
    #[command(
        after_help = "Examples:\n  authconform plan\n  authconform plan --target-file staging.toml --clock real --jobs 4"
    )]
    Plan(Box<PlanArgs>),
    /// Run the bundled reference server
    #[command(after_help = "Example:\n  authconform serve --profile appmixer-cloud --test-clock")]
    Serve(Box<ServeArgs>),
    /// Put a target under load: the 10,000-request lockout check, or benchmarks in the closed or open model
    #[command(after_help = LOAD_EXAMPLES)]
    Load(Box<LoadArgs>),
    /// Probe a target and report which documented profiles it matches, with the evidence
    #[command(
        after_help = "Examples:\n  authconform detect --target http://127.0.0.1:8080\n  authconform detect --target-file staging.toml --format json\n\n\
                            The probes are harmless but not silent: one user with a fresh identity is created."
    )]
    Detect(Box<DetectArgs>),
    /// List every requirement with the scenarios that cover it
    #[command(
        after_help = "Examples:\n  authconform requirements\n  authconform requirements --format json"
    )]
    Requirements(RequirementsArgs),
    /// Write a commented target file from what `detect` finds on a target
    #[command(
        after_help = "Example:\n  authconform init --target http://127.0.0.1:8080 --output staging.toml\n\n\
                            The probes of `detect` run first (one user with a fresh identity is created). \
                            An existing file is kept unless --force."
    )]
    Init(Box<InitArgs>),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish)
    #[command(
        after_help = "Examples:\n  authconform completions bash > ~/.local/share/bash-completion/completions/authconform\n  \
                            authconform completions zsh > ~/.zfunc/_authconform\n  \
                            authconform completions fish > ~/.config/fish/completions/authconform.fish"
    )]
    Completions(CompletionsArgs),
    /// Print the man page (roff), or write one page per command into a directory
    #[command(
        after_help = "Examples:\n  authconform man | man -l -\n  authconform man --dir target/man"
    )]
    Man(ManArgs),
    /// Validate scenario files and print their diagnostics
    #[command(
        after_help = "Example:\n  authconform check-scenarios vendor-scenarios/\n\n\
                            Files are checked against the directory's own requirements.toml if it has one, \
                            else against the built-in catalogue. Exit code 2 when a file has errors."
    )]
    CheckScenarios(CheckScenariosArgs),
}

const LOAD_EXAMPLES: &str = "\
Examples:
  authconform load
      The lockout profile against the bundled reference server (test clock on): cross the
      10,000-request threshold with 64 concurrent users and verify CS-LOCKOUT-01 to 05.
  authconform load lockout --target-file staging.toml --users 128 --report-dir reports/load
      The same against a staging target, with the HTML report and goose's reports of each flood.
  authconform load signin --target-file staging.toml --requests 5000 --threshold 'p95<200ms'
      Sign-in throughput and latency, each answer judged on AM-SIGNIN-01; exit 1 when one fails or
      the 95th percentile is 200 ms or more.

A load run is a run: the profile's scenario goes through the same engine, judges and reports as
`authconform run` (every --format, --expect), its floods driven by goose at --users in flight.

Exit codes: 0 every check and threshold held, 1 one failed, 2 usage or target description error,
3 target unreachable, 130 interrupted by Ctrl-C (the figures measured so far are reported).";

#[derive(Debug, Args)]
pub struct DetectArgs {
    #[command(flatten)]
    pub target: TargetFlags,

    /// `human` (default) or `json`
    #[arg(long, value_enum, default_value_t = ListFormat::Human, help_heading = "Output")]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// lockout (Creditsafe POST /authenticate), the Appmixer benchmarks signin, signup and mixed, or
    /// signup-limit (the IP limit checked under load)
    #[arg(value_enum, default_value_t = crate::load::LoadProfile::Lockout)]
    pub profile: crate::load::LoadProfile,

    #[command(flatten)]
    pub target: TargetFlags,

    /// Concurrent users (requests in flight)
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=4096), help_heading = "Load")]
    pub users: u16,

    /// Threads the generator runs on [default: 1 against a target given by --target or --target-file,
    /// every core against the bundled server, which then runs on them too]. On one thread each request is rendered, sent and judged with no
    /// hand-off between threads: the least CPU per request, and the other cores stay with a target on the
    /// same machine. Raise it when the report says the generator set the pace
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256), help_heading = "Load")]
    pub threads: Option<u16>,

    /// signin/signup: requests in all, 1 to 20000 (default 2000); the lockout profile sends what its check needs
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=20_000), help_heading = "Load")]
    pub requests: Option<u64>,

    /// Closed model: at most this many requests per second, all floods together, a cap (--arrival-rate keeps an exact rate; default: as fast as the target answers)
    #[arg(long, value_name = "PER_SECOND", value_parser = clap::value_parser!(u64).range(1..), help_heading = "Load")]
    pub rate: Option<u64>,

    /// Write the HTML report into DIR as authconform-load.html, beside goose's HTML, JSON and Markdown reports of each flood
    #[arg(long, value_name = "DIR", help_heading = "Load")]
    pub report_dir: Option<PathBuf>,

    /// Fail (exit 1) unless the run meets it: `p95<200ms`, `p99.9<1s`, `rps>1000`, `errors<1%` (repeatable)
    #[arg(long = "threshold", value_name = "EXPR", help_heading = "Load")]
    pub thresholds: Vec<crate::load::Threshold>,

    /// Open model: start requests at this rate whatever the target's latency (`500/s`, `30/m`), for
    /// --duration; latencies count from each request's scheduled start (coordinated omission corrected)
    #[arg(long, value_name = "RATE", conflicts_with_all = ["requests", "users", "rate", "stages"], help_heading = "Open model")]
    pub arrival_rate: Option<crate::load::Rate>,

    /// How long --arrival-rate runs (`30s`, `2m`)
    #[arg(long, value_name = "LENGTH", default_value = "10s", value_parser = crate::load::parse_length, requires = "arrival_rate", help_heading = "Open model")]
    pub duration: std::time::Duration,

    /// Open model with ramps: LENGTH:RATE stages, each ramping from the rate before it (the first from 0),
    /// e.g. `30s:100/s,60s:2000/s,10s:0/s`
    #[arg(long, value_name = "STAGES", conflicts_with_all = ["requests", "users", "rate"], help_heading = "Open model")]
    pub stages: Option<crate::load::Stages>,

    /// Open model: at most this many requests waiting for an answer (one connection each); a request due
    /// when all are waiting queues for the next free one (late), and when as many are queued it is dropped
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u16).range(1..=16384), help_heading = "Open model")]
    pub max_in_flight: u16,

    /// Open model: at most this many due requests wait for a free connection before one is dropped
    /// [default: --max-in-flight]; a large value queues as wrk2 and oha do
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(0..=10_000_000), help_heading = "Open model")]
    pub max_queued: Option<u64>,

    /// mixed: the weight of each kind of request (signin, me = GET /user with the session's token, signup)
    #[arg(long, value_name = "WEIGHTS", default_value = crate::load::DEFAULT_MIX, help_heading = "Load")]
    pub mix: crate::load::Mix,

    /// Benchmark this target too, in turn with the first (a target file, or a URL taking the first's
    /// profiles and flags); repeatable. The report compares their medians over --rounds
    #[arg(long = "compare", value_name = "FILE|URL", help_heading = "Compare")]
    pub compare: Vec<String>,

    /// How many times each target is benchmarked, in turn (a, b, a, b …), for medians that a burst of
    /// other work on the machine does not decide
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=20), help_heading = "Compare")]
    pub rounds: u32,

    /// Compare with an earlier run's JSON report (`--format json=FILE`): exit 1 when a figure regressed
    /// beyond --max-regression
    #[arg(long, value_name = "FILE", help_heading = "Baseline")]
    pub baseline: Option<PathBuf>,

    /// How far each figure may move the wrong way from the baseline: latencies and errors `+N%`, rate `-N%`
    #[arg(long, value_name = "LIMITS", default_value = crate::load::DEFAULT_LIMITS, requires = "baseline", help_heading = "Baseline")]
    pub max_regression: crate::load::RegressionLimits,

    /// Treat warnings (e.g. a lockout answered 403) as failures
    #[arg(long, help_heading = "Load")]
    pub strict: bool,

    /// human, json, junit, html or github, optionally to a file (`-` is stdout);
    /// repeatable [default: human]
    #[arg(long = "format", value_name = "FORMAT[=PATH]", help_heading = "Output")]
    pub formats: Vec<FormatSpec>,
    /// The human report lists every check with its expected and actual values, passes included
    #[arg(long, short, help_heading = "Output")]
    pub verbose: bool,
    /// Known outcomes (TOML) marked `expected` instead of failing the run (lockout profile; see `run --expect`)
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub expect: Option<PathBuf>,
    /// Show passwords, tokens and Authorization values in reports instead of `***`
    #[arg(long, help_heading = "Output")]
    pub show_secrets: bool,
    /// When to colour the human report
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, help_heading = "Output")]
    pub color: ColorChoice,
}

/// Which scenarios `run` and `plan` take, and how many of a target at once.
#[derive(Debug, Args)]
pub struct SuiteSelection {
    /// Add the scenario files (*.toml) of DIR to the built-in suite
    #[arg(long = "scenarios", value_name = "DIR", help_heading = "Selection")]
    pub scenarios: Vec<PathBuf>,
    /// Only scenarios whose name, covered requirement id or tag matches GLOB
    #[arg(long, value_name = "GLOB", help_heading = "Selection")]
    pub only: Vec<String>,
    /// Leave out scenarios whose name, covered requirement id or tag matches GLOB
    #[arg(long, value_name = "GLOB", help_heading = "Selection")]
    pub skip: Vec<String>,
    /// At most N scenarios of a target at once (targets side by side); 1 runs everything in suite
    /// order, one target after another
    #[arg(long, value_name = "N", default_value_t = crate::engine::DEFAULT_JOBS as u64,
          value_parser = clap::value_parser!(u64).range(1..=256), help_heading = "Selection")]
    pub jobs: u64,
}

impl SuiteSelection {
    pub fn jobs(&self) -> usize {
        usize::try_from(self.jobs).unwrap_or(1)
    }
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub target: TargetFlags,
    #[command(flatten)]
    pub selection: SuiteSelection,

    #[command(flatten)]
    pub state: StateFlags,

    /// `human` (default) or `json`
    #[arg(long, value_enum, default_value_t = ListFormat::Human, help_heading = "Output")]
    pub format: ListFormat,
}

/// Where a run remembers what it did to a target (real clock only).
#[derive(Debug, Clone, Args)]
pub struct StateFlags {
    /// The target's state file: the signups runs sent and when, and what each request cost, so the next
    /// run counts the signups still inside a window instead of waiting for an empty one, and `plan` takes
    /// the measured costs [default: .authconform/NAME.state.json beside the
    /// target file, or .authconform/HOST_PORT.state.json here]. Read and written on a real clock only
    #[arg(
        long,
        value_name = "FILE",
        help_heading = "Target",
        conflicts_with = "no_state"
    )]
    pub state: Option<PathBuf>,
    /// Neither read nor write a state file (the run then assumes no earlier run's signups still count)
    #[arg(long, help_heading = "Target")]
    pub no_state: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub target: TargetFlags,
    #[command(flatten)]
    pub selection: SuiteSelection,
    #[command(flatten)]
    pub state: StateFlags,
    /// Treat warnings (SHOULD requirements, should-tier expectations) as failures
    #[arg(long, help_heading = "Selection")]
    pub strict: bool,
    /// Known outcomes (TOML): ids or globs expected to fail, warn or be inconclusive, with a reason
    #[arg(long, value_name = "FILE", help_heading = "Selection")]
    pub expect: Option<PathBuf>,
    /// Where the target's RateLimit-Policy fields declare other limits than --limit or the target file,
    /// run with the server's values (without it the run stops, exit 2, naming both)
    #[arg(long, help_heading = "Target")]
    pub trust_declared: bool,

    /// Report format (human, json, junit, html or github), optionally to a file (`-` is stdout);
    /// repeatable [default: human]
    #[arg(long = "format", value_name = "FORMAT[=PATH]", help_heading = "Output")]
    pub formats: Vec<FormatSpec>,
    /// The human report lists every requirement (passes, skips, readings, observations) in full
    #[arg(long, short, help_heading = "Output")]
    pub verbose: bool,
    /// Show passwords, tokens and Authorization values in reports instead of `***`
    #[arg(long, help_heading = "Output")]
    pub show_secrets: bool,
    /// When to colour the human report
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, help_heading = "Output")]
    pub color: ColorChoice,
}

#[derive(Debug, Args)]
pub struct RequirementsArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    pub format: ListFormat,
    /// Count the scenarios of DIR as well (repeatable)
    #[arg(long = "scenarios", value_name = "DIR")]
    pub scenarios: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub target: TargetFlags,

    /// Write the target file here instead of stdout
    #[arg(long, short, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,
    /// Overwrite FILE if it exists, and the state file beside it (.authconform/) when it holds the state of
    /// the target FILE described before
    #[arg(long, requires = "output", help_heading = "Output")]
    pub force: bool,
    /// Measure the limits the target does not declare, by sending what they count: the e-mail limit with
    /// a throwaway address (its signups also count toward this address's IP limit) and the
    /// identical-invalid limit with a throwaway body, each up to 100 requests, and whether X-Forwarded-For
    /// is trusted (that limit's worth more, plus two); never the lockout threshold
    #[arg(long, help_heading = "Measure")]
    pub measure_limits: bool,
    /// With --measure-limits, wait out a window whose refusal asks for at most this long (seconds); a
    /// longer one is estimated from Retry-After
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 130,
        requires = "measure_limits",
        help_heading = "Measure"
    )]
    pub max_wait: u64,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write authconform.1 and one page per command (authconform-run.1, ...) into DIR instead
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CheckScenariosArgs {
    /// Directory of scenario files (*.toml)
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub server: authconform_reference_server::ServerArgs,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_specs_parse() {
        assert_eq!(
            "json=out.json".parse::<FormatSpec>().unwrap(),
            FormatSpec {
                format: ReportFormat::Json,
                path: Some("out.json".into())
            }
        );
        assert_eq!("junit=-".parse::<FormatSpec>().unwrap().path, None);
        assert!(
            "yaml"
                .parse::<FormatSpec>()
                .unwrap_err()
                .contains("unknown format `yaml`")
        );
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
