//! authconform: checks HTTP authentication APIs against their documented behaviour and cites a requirement
//! id for every verdict.
//!
//! The binary is a thin shell over this library: [`cli`] parses arguments, [`commands`] carries them out by
//! driving [`engine`] (or [`load`], or [`detect`]), whose events the [`report`] module turns into human,
//! JSON, JUnit and HTML output. [`target`] is what all three share about one target: its description, its
//! HTTP client and its test clock. The built-in [`suite`] is compiled into the binary; [`embedded`] starts
//! the bundled reference server. `docs/architecture.md` draws the data flow and which part may import which.

pub mod cli;
pub mod commands;
pub mod detect;
pub mod embedded;
pub mod engine;
pub mod expectations;
pub mod init;
pub mod load;
pub mod measure;
pub mod report;
pub mod suite;
pub mod target;
