//! Carrying out each command: build the suite and targets, run the engine with the chosen reporters, and
//! map the outcome to an exit code. One file per command (or family of commands); [`execute`] dispatches.

mod catalogue;
mod detect;
mod error;
mod execute;
mod init;
mod load;
mod run;
mod serve;
mod setup;
mod shell;
mod state;

pub use error::{CommandError, exit};
pub use execute::execute;
