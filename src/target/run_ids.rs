//! Run ids: a short random id per run that keeps one run's identities (user names, e-mails) apart from
//! another's on the same target, and a counter for fresh names within the run.

use std::sync::atomic::{AtomicU64, Ordering};

use rand::Rng;

/// Values unique to one run: the run id and a counter for fresh names.
#[derive(Debug)]
pub(crate) struct RunIds {
    pub(crate) run_id: String,
    counter: AtomicU64,
}

impl RunIds {
    /// A fresh random id: eight lowercase hexadecimal digits.
    pub(crate) fn new() -> RunIds {
        let n: u32 = rand::rng().random();
        RunIds::with_id(format!("{n:08x}"))
    }

    pub(crate) fn with_id(run_id: String) -> RunIds {
        RunIds {
            run_id,
            counter: AtomicU64::new(0),
        }
    }

    /// The next number of this run, from 1.
    pub(crate) fn next(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed) + 1
    }
}
