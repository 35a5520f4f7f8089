//! Reporters: turn engine events into human, JSON, JUnit, HTML and GitHub output, a load run into human,
//! JSON, JUnit and HTML (a page of charts) output with its progress, and a projected schedule into text.
//! Each writes to a `dyn Write`; [`output`] opens them.

mod curl;
mod figures_html;
mod format;
mod github;
mod html;
mod human;
mod json;
mod junit;
mod listings;
pub mod load;
mod load_html;
mod load_progress;
pub mod output;
mod plan;
mod redact;
mod sink;
mod timeline;

pub use curl::reproduce as curl_command;
pub use format::{
    ColorChoice, FormatSpec, HumanStyle, ListFormat, ReportFormat, SeveralOnStdout, format_specs,
    reporters,
};
pub use github::{GithubReporter, annotations as github_annotations, markdown as github_markdown};
pub use html::HtmlReporter;
pub use human::{HumanReporter, id_ranges};
pub use json::JsonReporter;
pub use junit::JunitReporter;
pub use listings::{
    RequirementListing, requirement_listings, write_detection, write_list, write_requirements,
};
pub use load_html::write_load_html;
pub use load_progress::LoadProgress;
pub use plan::write_plan;
pub use redact::{Redactor, prepare_run, prepare_target};
pub use sink::{Reporter, ReporterSet};
