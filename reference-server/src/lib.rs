//! The authconform reference server: every documented profile (Appmixer 5.1, 6 and cloud; Creditsafe
//! Connect) implemented exactly, with limits that stay exact under concurrency and an injectable clock.
//!
//! Build a [`Config`] (or parse [`ServerArgs`]), make an [`AppState`], then [`app`] gives the router and
//! [`serve`] / [`RunningServer`] run it. State lives in memory, or with `--store redis://…` in Redis so that
//! several instances share users and one global set of limits.

/// Whether the server runs with any of the named faults switched on (always false without the `faults`
/// feature), e.g. `fault!(state.config, NoLockout | RefusalsNotCounted)`.
macro_rules! fault {
    ($config:expr, $($fault:ident)|+) => {{
        #[cfg(feature = "faults")]
        let on = false $(|| $config.faults.contains(&$crate::faults::Fault::$fault))+;
        #[cfg(not(feature = "faults"))]
        let on = $crate::no_fault(&$config, stringify!($($fault)|+));
        on
    }};
}

pub(crate) use fault;

/// What [`fault!`] is without the `faults` feature: never on.
#[cfg(not(feature = "faults"))]
#[inline(always)]
pub(crate) fn no_fault<T>(_config: &T, _faults: &str) -> bool {
    false
}

mod app;
mod app_layers;
mod body;
mod clock;
mod config;
mod errors;
#[cfg(feature = "faults")]
mod faults;
mod graceful;
mod idle_timeout;
mod json_answer;
mod limits;
mod passwords;
mod ratelimit_headers;
mod routes;
mod self_wakes;
mod server;
mod state;
mod store;
mod tokens;

pub use app::app;
pub use clock::Clock;
pub use config::{
    AppmixerProfile, Config, ConfigError, LockoutScope, PasswordCost, SeedAccount, ServerArgs,
    StoreLocation, WindowKind, random_password,
};
#[cfg(feature = "faults")]
pub use faults::Fault;
pub use server::{RunError, RunningServer, run, serve};
pub use state::{AppState, StartError};
