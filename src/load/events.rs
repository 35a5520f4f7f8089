//! What a load run tells the outside world while it runs. It never prints; reporters consume these.

use super::results::LoadReport;

#[derive(Debug)]
pub enum LoadEvent<'a> {
    /// The run waits out a window (clock `real`) or advances the test clock (clock `control`).
    WaitStarted {
        total_ms: u64,
        real: bool,
    },
    /// Only while really waiting.
    WaitProgress {
        elapsed_ms: u64,
        total_ms: u64,
    },
    WaitFinished,
    FloodStarted {
        total: u64,
    },
    FloodProgress {
        sent: u64,
        total: u64,
    },
    FloodFinished,
    Finished(&'a LoadReport),
}
