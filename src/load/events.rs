//! What a load run tells the outside world while it runs. It never prints; reporters consume these.

use super::results::LoadReport;

#[derive(Debug)]
pub enum LoadEvent<'a> {
    FloodStarted { total: u64 },
    FloodProgress { sent: u64, total: u64 },
    FloodFinished,
    Finished(&'a LoadReport),
}
