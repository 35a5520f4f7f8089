//! End-to-end tests of the `authconform` runner: the engine against mock targets, the reporters on a fixed
//! report and on real runs (the HTML report also in a browser), the command line, and a real client (the
//! Appmixer CLI) against the reference server.

mod appmixer_cli;
mod architecture;
mod cli;
mod daily_use;
mod declared;
mod detect;
mod embedded;
mod engine;
mod html_report;
mod load;
mod misbehaving;
mod mutants;
mod one_client;
mod plan;
mod precision;
#[path = "../../reference-server/tests/http/redis_instances.rs"]
mod redis_instances;
#[path = "../../reference-server/tests/http/redis_server.rs"]
#[expect(
    dead_code,
    reason = "the reference server's own tests restart Redis; these only start it"
)]
mod redis_server;
mod redis_store;
mod reports;
mod runs;
mod secrets;
mod state_file;
mod support;
mod target_file_fuzz;
mod vendor_stack;
