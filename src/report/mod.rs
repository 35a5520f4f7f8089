//! Reporters: turn engine events into human, JSON, JUnit and HTML output, a load run into human, JSON
//! and JUnit output with its progress, and a projected schedule into text. Each writes to a `dyn Write`; [`output`] opens them.

mod curl;
mod html;
mod human;
mod json;
mod junit;
pub mod load;
mod load_progress;
pub mod output;
mod plan;
mod redact;
mod sink;
mod timeline;

pub use curl::reproduce as curl_command;
pub use html::HtmlReporter;
pub use human::HumanReporter;
pub use json::JsonReporter;
pub use junit::JunitReporter;
pub use load_progress::LoadProgress;
pub use plan::write_plan;
pub use redact::{Redactor, prepare_run, prepare_target};
pub use sink::{Reporter, ReporterSet};
