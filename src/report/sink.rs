//! Fanning engine events out to several reporters, with expectations applied, secrets hidden and
//! reproductions added first.

use std::io;
use std::sync::Arc;

use super::redact::{prepare_run, prepare_target};
use crate::engine::EngineEvent;
use crate::expectations::Expectations;

/// Something that consumes engine events and writes output.
pub trait Reporter: Send {
    fn handle(&mut self, event: &EngineEvent<'_>) -> io::Result<()>;
}

/// Every reporter of a run. Reports pass through the expectations (when given) and redaction (unless
/// secrets are to be shown) on their way.
pub struct ReporterSet {
    reporters: Vec<Box<dyn Reporter>>,
    show_secrets: bool,
    expectations: Arc<Expectations>,
    first_error: Option<io::Error>,
}

impl ReporterSet {
    pub fn new(show_secrets: bool) -> ReporterSet {
        ReporterSet {
            reporters: Vec::new(),
            show_secrets,
            expectations: Arc::default(),
            first_error: None,
        }
    }

    /// Mark the outcomes these expectations name as `expected`, and report stale and expired ones.
    pub fn expect(&mut self, expectations: Arc<Expectations>) {
        self.expectations = expectations;
    }

    pub fn add(&mut self, reporter: Box<dyn Reporter>) {
        self.reporters.push(reporter);
    }

    pub fn handle(&mut self, event: &EngineEvent<'_>) {
        match event {
            EngineEvent::TargetFinished(target) => {
                let applied = self.expectations.apply_target(target);
                let prepared = prepare_target(&applied, self.show_secrets);
                self.dispatch(&EngineEvent::TargetFinished(&prepared));
            }
            EngineEvent::RunFinished(report) => {
                let applied = self.expectations.apply_run(report);
                let prepared = prepare_run(&applied, self.show_secrets);
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
