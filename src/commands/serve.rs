//! `serve`: the bundled reference server, in the foreground.

use crate::cli::ServeArgs;

use super::setup::runtime;
use super::{CommandError, exit};

pub(super) fn serve(args: ServeArgs) -> Result<u8, CommandError> {
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
