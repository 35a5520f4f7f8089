//! End-to-end tests of the `authconform` runner: the engine against mock targets, the reporters on a fixed
//! report, and the command line.

mod cli;
mod detect;
mod embedded;
mod engine;
mod load;
mod misbehaving;
mod mutants;
mod redis_server;
mod redis_store;
mod reference_server;
mod reports;
mod runs;
mod support;
mod target_file_fuzz;
