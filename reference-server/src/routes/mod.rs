//! The handlers, one module per API: Appmixer's user API, Creditsafe Connect's authenticate, the
//! test-clock protocol and health; the signup limits; and who is asking (the client address the per-client limits key on).

pub(crate) mod appmixer;
pub(crate) mod client_address;
pub(crate) mod creditsafe;
pub(crate) mod health;
pub(crate) mod signup_limits;
pub(crate) mod test_clock;
