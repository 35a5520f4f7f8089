//! What a user is: the record, the field a sign-in names it by, what storing one can fail with, and the
//! ids new users get.

use std::sync::atomic::{AtomicU32, Ordering};

use rand::RngCore;

use super::redis_connection::Unavailable;
use crate::passwords::PasswordDigest;

/// One Appmixer user.
#[derive(Debug, Clone)]
pub(crate) struct User {
    pub(crate) id: String,
    pub(crate) username: String,
    pub(crate) email: String,
    pub(crate) password: PasswordDigest,
    pub(crate) is_active: bool,
    pub(crate) plan: String,
    pub(crate) vendor: Option<String>,
    pub(crate) scope: Vec<String>,
    /// The user's `GET /user` answer, rendered the first time it is asked for: a stored record never
    /// changes, so a client polling with its token is answered without serialising it again.
    pub(crate) rendered_me: std::sync::OnceLock<bytes::Bytes>,
}

/// The field a sign-in names its user by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoginField {
    Username,
    Email,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("a user with this {0} already exists")]
    Taken(&'static str),
    #[error("the user store is full")]
    Full,
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

/// A new 24-hex-digit id in the shape of Appmixer's (MongoDB ObjectId): seconds, randomness, a counter.
pub(crate) fn new_id(now_s: u64) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let mut random = [0u8; 5];
    rand::rng().fill_bytes(&mut random);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed) & 0x00ff_ffff;
    let seconds = u32::try_from(now_s & 0xffff_ffff).unwrap_or(u32::MAX);
    let mut id = format!("{seconds:08x}");
    for byte in random {
        id.push_str(&format!("{byte:02x}"));
    }
    id.push_str(&format!("{count:06x}"));
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_24_hex_digits_and_distinct() {
        let first = new_id(1_700_000_000);
        let second = new_id(1_700_000_000);
        assert_eq!(first.len(), 24);
        assert!(first.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(first, second);
    }
}
