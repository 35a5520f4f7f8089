//! `authconform-reference-server`: parses flags and serves until SIGINT or SIGTERM.

use std::process::ExitCode;

use authconform_reference_server::{
    AppState, ServerArgs, describe_accounts, serve, shutdown_signal,
};
use clap::Parser;

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
    let listen = args.listen;
    let generated_admin = args.admin_password.is_none() && args.accounts.is_none();
    let generated_creditsafe = args.creditsafe_password.is_none() && args.accounts.is_none();
    let config = match args.into_config() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let accounts = describe_accounts(&config, generated_admin, generated_creditsafe);
    let profile = config.profile;
    let state = match tokio::task::spawn_blocking(move || AppState::new(config)).await {
        Ok(Ok(state)) => state,
        Ok(Err(error)) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(3);
        }
    };
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("error: --listen {listen}: {error}");
            return ExitCode::from(3);
        }
    };
    let address = match listener.local_addr() {
        Ok(address) => address,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(3);
        }
    };
    // One line on stdout, so a script can read the bound address (e.g. with port 0).
    println!("listening on http://{address}");
    eprintln!("profile {} (and creditsafe-connect)", profile.as_str());
    for line in accounts {
        eprintln!("{line}");
    }
    match serve(listener, state, shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(3)
        }
    }
}
