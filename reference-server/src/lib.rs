//! The authconform reference server: every documented profile (Appmixer 5.1, 6 and cloud; Creditsafe
//! Connect) implemented exactly, with limits that stay exact under concurrency and an injectable clock.
//!
//! Build a [`Config`] (or parse [`ServerArgs`]), make an [`AppState`], then [`app`] gives the router and
//! [`serve`] / [`RunningServer`] run it. State lives in memory, or with `--store redis://…` in Redis so that
//! several instances share users and one global set of limits.

/// Whether the server runs with any of the named faults switched on (always false without the `faults`
/// feature), e.g. `fault!(state.config, NoLockout | RefusalsNotCounted)`.
#[macro_export]
macro_rules! fault {
    ($config:expr, $($fault:ident)|+) => {{
        #[cfg(feature = "faults")]
        let on = false $(|| $config.faults.contains(&$crate::faults::Fault::$fault))+;
        #[cfg(not(feature = "faults"))]
        let on = $crate::no_fault(&$config, stringify!($($fault)|+));
        on
    }};
}

/// What [`fault!`] is without the `faults` feature: never on.
#[doc(hidden)]
#[inline(always)]
pub fn no_fault<T>(_config: &T, _faults: &str) -> bool {
    false
}

pub mod app;
pub mod appmixer;
pub mod body;
pub mod client;
pub mod clock;
pub mod config;
pub mod creditsafe;
pub mod errors;
#[cfg(feature = "faults")]
pub mod faults;
pub mod limiter;
pub mod limits;
pub mod passwords;
pub mod redis_store;
pub mod state;
pub mod store;
pub mod test_clock;
pub mod tokens;

pub use app::{RunError, RunningServer, app, run, serve, shutdown_signal};
pub use clock::Clock;
pub use config::{
    AppmixerProfile, Config, ConfigError, LockoutScope, SeedAccount, ServerArgs, StoreLocation,
};
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
