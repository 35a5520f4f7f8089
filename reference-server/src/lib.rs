//! The authconform reference server: every documented profile (Appmixer 5.1, 6 and cloud; Creditsafe
//! Connect) implemented exactly, with limits that stay exact under concurrency and an injectable clock.
//!
//! Build a [`Config`] (or parse [`ServerArgs`]), make an [`AppState`], then [`app`] gives the router and
//! [`serve`] / [`RunningServer`] run it.

pub mod app;
pub mod appmixer;
pub mod body;
pub mod client;
pub mod clock;
pub mod config;
pub mod creditsafe;
pub mod errors;
pub mod limiter;
pub mod passwords;
pub mod state;
pub mod store;
pub mod test_clock;
pub mod tokens;

pub use app::{RunningServer, app, serve};
pub use clock::Clock;
pub use config::{AppmixerProfile, Config, ConfigError, LockoutScope, SeedAccount, ServerArgs};
pub use state::{AppState, StartError};

/// Lines describing seeded accounts whose passwords were generated, for the operator.
pub fn describe_accounts(
    config: &Config,
    generated_admin: bool,
    generated_creditsafe: bool,
) -> Vec<String> {
    let mut lines = Vec::new();
    if generated_admin {
        lines.push(format!(
            "admin account: {} / {} (generated; set --admin-password to choose)",
            config.admin.username, config.admin.password
        ));
    }
    if generated_creditsafe {
        lines.push(format!(
            "creditsafe account: {} / {} (generated; set --creditsafe-password to choose)",
            config.creditsafe_account.username, config.creditsafe_account.password
        ));
    }
    lines
}
