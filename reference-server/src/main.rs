//! `authconform-reference-server`: parses flags and serves until SIGINT or SIGTERM.

use std::process::ExitCode;

use authconform_reference_server::{RunError, ServerArgs, StartError};
use clap::Parser;

/// mimalloc rather than the system allocator: every request allocates a few dozen small blocks (the
/// parsed request, its extensions, the answer), and mimalloc's thread-local free lists make each one a
/// few instructions.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "authconform-reference-server",
    version,
    about = "The bundled reference implementation of the Appmixer user API and Creditsafe Connect's authenticate",
    long_about = "Serves POST /user/auth, POST /user and GET /user as the chosen Appmixer profile, and \
                  POST /authenticate (Creditsafe Connect) always. Every flag can also be set through the \
                  environment variable shown; the Appmixer signup limits use Appmixer's own variable names."
)]
struct Cli {
    #[command(flatten)]
    server: ServerArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: could not start the runtime: {error}");
            return ExitCode::from(3);
        }
    };
    runtime.block_on(run(cli.server))
}

async fn run(args: ServerArgs) -> ExitCode {
    match authconform_reference_server::run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            match error {
                // A Redis store that does not answer is the environment's failure, not the flags'.
                RunError::Start(StartError::Store { .. }) => ExitCode::from(3),
                RunError::Config(_) | RunError::Start(_) => ExitCode::from(2),
                RunError::Task(_) | RunError::Bind { .. } | RunError::Serve(_) => ExitCode::from(3),
            }
        }
    }
}
