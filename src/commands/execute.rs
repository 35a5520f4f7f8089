//! Dispatch of a parsed command line to its command.

use crate::cli::{Cli, Command};

use super::CommandError;
use super::catalogue::{check_scenarios, requirements};
use super::detect::detect;
use super::init::init;
use super::load::load;
use super::run::{plan, run};
use super::serve::serve;
use super::shell::{completions, man};

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
