//! The authconform scenario format: the requirement catalogue, scenario files, templates and their spans.
//!
//! This crate parses and validates; it never does HTTP. The runner consumes [`model::Suite`], built by
//! [`assemble_suite`] from the catalogue ([`parse_catalogue`]) and the scenario files.

mod analysis;
mod catalogue_file;
pub mod diagnostics;
pub mod model;
mod reader;
mod scenario_file;
pub mod template;
mod template_syntax;

pub use catalogue_file::parse_catalogue;
pub use diagnostics::{Diagnostic, Diagnostics};
pub use scenario_file::{MAX_CONCURRENCY, MAX_REPEAT, assemble_suite, parse_scenario_file};
pub use template_syntax::{CapturedRef, TemplateError, parse_template, parse_template_with_refs};
