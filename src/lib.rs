//! authconform: checks HTTP authentication APIs against their documented behaviour and cites a requirement
//! id for every verdict.
//!
//! The binary is a thin shell over this library: [`cli`] parses arguments and drives [`engine`], whose events
//! the [`report`] module turns into human, JSON and JUnit output.

pub mod config;
pub mod engine;
pub mod report;
