//! Reporters: turn engine events into human, JSON, JUnit, HTML and GitHub output, and load runs into a
//! page of charts. Each writes to a `dyn Write`.

mod curl;
mod github;
mod html;
mod human;
mod json;
mod junit;
mod load_html;
mod redact;
mod sink;

pub use curl::reproduce as curl_command;
pub use github::{GithubReporter, annotations as github_annotations, markdown as github_markdown};
pub use html::HtmlReporter;
pub use human::{HumanReporter, id_ranges};
pub use json::JsonReporter;
pub use junit::JunitReporter;
pub use load_html::write_load_html;
pub use redact::{Redactor, prepare_run, prepare_target};
pub use sink::{Reporter, ReporterSet};
