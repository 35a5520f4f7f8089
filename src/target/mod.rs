//! Everything about one target that the conformance engine, the load profiles and detection share: its
//! description (the model, the TOML file, the flags), the HTTP client, the test clock, the admin's sign-in,
//! client addresses and run ids. Nothing here knows about scenarios or verdicts.

mod address;
mod capabilities;
mod client;
pub(crate) mod clock;
pub mod declared;
mod description;
mod description_error;
mod file;
pub(crate) mod flags;
mod http1;
mod lane;
pub(crate) mod ratelimit_fields;
mod resolve;
pub(crate) mod retry_after;
mod run_ids;
mod session;
pub mod state;
mod token;
mod values;

pub(crate) use address::{ClientAddresses, FORWARDED_FOR};
pub(crate) use capabilities::{SignupRule, signup_rule, unmet};
pub use client::ClientError;
pub(crate) use client::{
    NoResponse, PreparedRequest, Response, TargetClient, Unanswered, excerpt, truncate,
};
pub use clock::ClockError;
pub use description::{Account, ClockMode, DEFAULT_MAX_BODY_BYTES, Limits, TargetDescription};
pub use description_error::DescriptionError;
pub use flags::{LimitSetting, TargetFlags};
pub(crate) use lane::Lane;
pub use resolve::{load, resolve};
pub(crate) use run_ids::RunIds;
pub use session::SignInError;
pub(crate) use session::{AdminSession, sign_in};
pub(crate) use token::decode as decode_jwt;
pub(crate) use values::parse_url;
