//! Reporters: turn engine events (of `run` and `load` alike) into human, JSON, JUnit, HTML and GitHub output,
//! a load run's figures included, and a projected schedule into text. Each writes to a `dyn Write`;
//! [`output`] opens them.

mod curl;
mod figures_html;
mod figures_text;
mod format;
mod github;
mod html;
mod human;
mod json;
mod junit;
mod listings;
mod load_charts;
mod load_compare;
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
pub use plan::write_plan;
pub use redact::{Redactor, prepare_run, prepare_target};
pub use sink::{Reporter, ReporterSet};
