//! authconform: checks HTTP authentication APIs against their documented behaviour and cites a requirement
//! id for every verdict.
//!
//! The binary is a thin shell over this library: [`cli`] parses arguments, [`commands`] carries them out by
//! driving [`engine`], whose events the [`report`] module turns into human, JSON and JUnit output. The
//! built-in [`suite`] is compiled into the binary; [`embedded`] starts the bundled reference server.

pub mod cli;
pub mod commands;
pub mod config;
pub mod detect;
pub mod embedded;
pub mod engine;
pub mod expectations;
pub mod init;
pub mod load;
pub mod report;
pub mod suite;
