//! Fanning engine events out to several reporters, with secrets hidden and reproductions added first.

use std::io;

use super::redact::{prepare_run, prepare_target};
use crate::engine::EngineEvent;

/// Something that consumes engine events and writes output.
pub trait Reporter {
    fn handle(&mut self, event: &EngineEvent<'_>) -> io::Result<()>;
}

/// Every reporter of a run. Reports pass through redaction (unless secrets are to be shown) on their way.
pub struct ReporterSet {
    reporters: Vec<Box<dyn Reporter>>,
    show_secrets: bool,
    first_error: Option<io::Error>,
}

impl ReporterSet {
    pub fn new(show_secrets: bool) -> ReporterSet {
        ReporterSet {
            reporters: Vec::new(),
            show_secrets,
            first_error: None,
        }
    }

    pub fn add(&mut self, reporter: Box<dyn Reporter>) {
        self.reporters.push(reporter);
    }

    pub fn handle(&mut self, event: &EngineEvent<'_>) {
        match event {
            EngineEvent::TargetFinished(target) => {
                let prepared = prepare_target(target, self.show_secrets);
                self.dispatch(&EngineEvent::TargetFinished(&prepared));
            }
            EngineEvent::RunFinished(report) => {
                let prepared = prepare_run(report, self.show_secrets);
                self.dispatch(&EngineEvent::RunFinished(&prepared));
            }
            other => self.dispatch(other),
        }
    }

    fn dispatch(&mut self, event: &EngineEvent<'_>) {
        for reporter in &mut self.reporters {
            if let Err(err) = reporter.handle(event)
                && self.first_error.is_none()
            {
                self.first_error = Some(err);
            }
        }
    }

    /// The first write error any reporter met.
    pub fn finish(self) -> io::Result<()> {
        self.first_error.map_or(Ok(()), Err)
    }
}
