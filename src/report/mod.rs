//! Reporters: turn engine events into human, JSON and JUnit output. Each writes to a `dyn Write`.

mod curl;
mod human;
mod json;
mod junit;
mod redact;
mod sink;

pub use curl::reproduce as curl_command;
pub use human::HumanReporter;
pub use json::JsonReporter;
pub use junit::JunitReporter;
pub use redact::{Redactor, prepare_run, prepare_target};
pub use sink::{Reporter, ReporterSet};
