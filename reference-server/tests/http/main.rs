//! The reference server over HTTP, requirement by requirement, on an injected clock: in process through
//! `app(state)` where no socket is needed, on a port where the connection itself is the subject, and on a
//! real Redis where the store is.

mod appmixer;
mod bad_input;
mod connections;
mod creditsafe;
mod faults;
mod general;
mod on_redis;
mod openapi;
mod public_api;
mod ratelimit_fields;
mod redis_instances;
mod redis_server;
mod signup_limits;
mod support;
