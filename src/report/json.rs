//! The JSON report: the whole [`RunReport`], versioned by `schema_version` (see `docs/report.schema.json`).

use std::io::{self, Write};

use crate::engine::{EngineEvent, RunReport};

pub struct JsonReporter {
    out: Box<dyn Write + Send>,
}

impl JsonReporter {
    pub fn new(out: Box<dyn Write + Send>) -> JsonReporter {
        JsonReporter { out }
    }

    pub fn write(out: &mut dyn Write, report: &RunReport) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, report)?;
        writeln!(out)?;
        out.flush()
    }
}

impl super::Reporter for JsonReporter {
    fn handle(&mut self, event: &EngineEvent<'_>) -> io::Result<()> {
        match event {
            EngineEvent::RunFinished(report) => JsonReporter::write(&mut self.out, report),
            _ => Ok(()),
        }
    }
}
