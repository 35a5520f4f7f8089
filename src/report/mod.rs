//! Reporters: turn engine events into human, JSON, JUnit and HTML output. Each writes to a `dyn Write`.

mod curl;
mod html;
mod human;
mod json;
mod junit;
mod redact;
mod sink;

pub use curl::reproduce as curl_command;
pub use html::HtmlReporter;
pub use human::HumanReporter;
pub use json::JsonReporter;
pub use junit::JunitReporter;
pub use redact::{Redactor, prepare_run, prepare_target};
pub use sink::{Reporter, ReporterSet};
