//! The `authconform` binary: parses the command line and reports errors; everything else is the library.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than the system allocator: a flood renders, sends and judges each request in a few dozen
/// small blocks (the request, its headers, the answer), and mimalloc's thread-local free lists make each a
/// few instructions.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = authconform::cli::Cli::parse();
    match authconform::commands::execute(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) if err.is_broken_pipe() => ExitCode::SUCCESS,
        Err(err) => {
            let code = err.exit_code();
            let snippet = err.snippet(std::io::IsTerminal::is_terminal(&std::io::stderr()));
            eprintln!("error: {:#}", anyhow::Error::from(err));
            if let Some(snippet) = snippet {
                eprintln!("{snippet}");
            }
            ExitCode::from(code)
        }
    }
}
