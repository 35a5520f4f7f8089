//! Progress of a load run on stderr: a bar for the flood's requests and one for each real wait. Hidden when
//! stderr is not a terminal.

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
            LoadEvent::WaitStarted {
                total_ms,
                real: true,
            } => self.start(
                total_ms / 1000,
                "waiting out the window {wide_bar} {pos}/{len} s",
            ),
            LoadEvent::WaitProgress { elapsed_ms, .. } => {
                if let Some(bar) = &self.bar {
                    bar.set_position(elapsed_ms / 1000);
                }
            }
            LoadEvent::FloodFinished | LoadEvent::WaitFinished => {
                if let Some(bar) = self.bar.take() {
                    bar.finish_and_clear();
                }
            }
            LoadEvent::WaitStarted { real: false, .. } | LoadEvent::Finished(_) => {}
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
