//! The server's configuration: the model it runs with, and the flags and files it is read from.

mod flags;
mod model;

pub use flags::{ConfigError, ServerArgs};
pub use model::{
    AppmixerProfile, Config, LockoutScope, PasswordCost, SeedAccount, StoreLocation, WindowKind,
    random_password,
};
