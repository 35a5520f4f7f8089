//! End-to-end tests of the `authconform` runner: the engine against mock targets, the reporters on a fixed
//! report and on real runs (the HTML report also in a browser), the command line, and a real client (the
//! Appmixer CLI) against the reference server.

mod appmixer_cli;
mod architecture;
mod cli;
mod detect;
mod embedded;
mod engine;
mod html_report;
mod load;
mod misbehaving;
mod mutants;
mod plan;
mod redis_server;
mod redis_store;
mod reference_server;
mod reports;
mod runs;
mod secrets;
mod support;
mod target_file_fuzz;
