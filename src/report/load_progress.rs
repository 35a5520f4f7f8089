//! Progress of a benchmark flood on stderr: a bar for its requests. Hidden when stderr is not a terminal. (The
//! lockout profile is a run: the engine's events and the run's reporters show its waits and steps.)

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::load::LoadEvent;

/// Draws the bars a load run's events describe.
#[derive(Debug, Default)]
pub struct LoadProgress {
    bar: Option<ProgressBar>,
}

impl LoadProgress {
    pub fn new() -> LoadProgress {
        LoadProgress::default()
    }

    pub fn handle(&mut self, event: &LoadEvent<'_>) {
        match event {
            LoadEvent::FloodStarted { total } => {
                self.start(
                    *total,
                    "{spinner} {pos}/{len} requests {per_sec} {wide_bar}",
                );
            }
            LoadEvent::FloodProgress { sent, .. } => {
                if let Some(bar) = &self.bar {
                    bar.set_position(*sent);
                }
            }
            LoadEvent::FloodFinished => {
                if let Some(bar) = self.bar.take() {
                    bar.finish_and_clear();
                }
            }
            LoadEvent::Finished(_) => {}
        }
    }

    fn start(&mut self, length: u64, template: &str) {
        let bar = ProgressBar::with_draw_target(Some(length), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        self.bar = Some(bar);
    }
}
