//! The authconform scenario format: the requirement catalogue, scenario files, templates and their spans.
//!
//! This crate parses and validates; it never does HTTP. The runner consumes [`model::Suite`].

pub mod model;
pub mod template;
