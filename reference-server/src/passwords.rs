//! Password hashing: argon2id at the OWASP minimum (19 MiB, 2 passes, 1 lane), or at a light cost for
//! throwaway instances, run on the blocking pool behind a semaphore sized to the cores, with reused memory,
//! so a sign-in storm neither starves the runtime nor multiplies 19 MiB by the number of requests in flight.

use std::sync::Arc;

use argon2::{Algorithm, Argon2, Block, Params, Version};
use parking_lot::Mutex;
use rand::RngCore;
use tokio::sync::Semaphore;

/// How much work a password hash costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum PasswordCost {
    /// argon2id at OWASP's minimum: 19 MiB, 2 passes, 1 lane.
    #[default]
    Owasp,
    /// argon2id with 64 KiB and 1 pass, hundreds of times cheaper: only for throwaway instances whose
    /// accounts are disposable (a test run), never for passwords anyone keeps.
    Light,
}

const LANES: u32 = 1;
const SALT_LEN: usize = 16;
const HASH_LEN: usize = 32;

/// The argon2id memory (KiB) and passes of a cost: OWASP's minimum, or the light setting.
fn memory_and_passes(cost: PasswordCost) -> (u32, u32) {
    match cost {
        PasswordCost::Owasp => (19_456, 2),
        PasswordCost::Light => (64, 1),
    }
}

/// A stored password: its salt and its argon2id digest under the hasher's parameters.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct PasswordDigest {
    salt: [u8; SALT_LEN],
    hash: [u8; HASH_LEN],
}

impl std::fmt::Debug for PasswordDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordDigest(..)")
    }
}

impl PasswordDigest {
    /// The digest as kept in a shared store: base64 of the salt followed by the hash.
    pub(crate) fn to_stored(&self) -> String {
        use base64::Engine;
        let mut bytes = [0u8; SALT_LEN + HASH_LEN];
        bytes[..SALT_LEN].copy_from_slice(&self.salt);
        bytes[SALT_LEN..].copy_from_slice(&self.hash);
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// Reads [`to_stored`](Self::to_stored)'s form back; `None` when it is not one.
    pub(crate) fn from_stored(text: &str) -> Option<PasswordDigest> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .ok()?;
        if bytes.len() != SALT_LEN + HASH_LEN {
            return None;
        }
        Some(PasswordDigest {
            salt: bytes[..SALT_LEN].try_into().ok()?,
            hash: bytes[SALT_LEN..].try_into().ok()?,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("the password hashing pool has shut down")]
    Closed,
    #[error("every password hasher stayed busy for longer than the request timeout")]
    Busy,
    #[error("password hashing failed: {0}")]
    Argon2(argon2::Error),
}

/// The hashing service every handler shares.
#[derive(Clone)]
pub(crate) struct PasswordHasher {
    inner: Arc<HasherInner>,
}

struct HasherInner {
    argon2: Argon2<'static>,
    /// The size of one working area, in argon2 blocks of 1 KiB.
    memory_blocks: usize,
    permits: Semaphore,
    /// The longest a hash may wait for a free hasher before the request is refused (503).
    max_wait: std::time::Duration,
    /// One argon2 working area per permit, reused between hashes.
    memory: Mutex<Vec<Vec<Block>>>,
    /// What an unknown user's password is checked against, so that costs the same as a wrong password.
    decoy: PasswordDigest,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("available", &self.inner.permits.available_permits())
            .finish()
    }
}

impl PasswordHasher {
    /// At most `concurrency` hashes run at once, at the OWASP cost.
    #[cfg(test)]
    pub(crate) fn new(concurrency: usize) -> Result<PasswordHasher, HashError> {
        PasswordHasher::with_max_wait(
            concurrency,
            PasswordCost::Owasp,
            std::time::Duration::from_secs(30),
        )
    }

    /// At most `concurrency` hashes run at once, each at `cost`; a hash that waits longer than `max_wait`
    /// for its turn fails with [`HashError::Busy`].
    pub(crate) fn with_max_wait(
        concurrency: usize,
        cost: PasswordCost,
        max_wait: std::time::Duration,
    ) -> Result<PasswordHasher, HashError> {
        let (memory_kib, passes) = memory_and_passes(cost);
        let params =
            Params::new(memory_kib, passes, LANES, Some(HASH_LEN)).map_err(HashError::Argon2)?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let memory_blocks = memory_kib as usize;
        let mut decoy_memory = vec![Block::default(); memory_blocks];
        let mut decoy_password = [0u8; 24];
        rand::rng().fill_bytes(&mut decoy_password);
        let decoy = digest_with(&argon2, &decoy_password, &mut decoy_memory)?;
        Ok(PasswordHasher {
            inner: Arc::new(HasherInner {
                argon2,
                memory_blocks,
                permits: Semaphore::new(concurrency.max(1)),
                max_wait,
                memory: Mutex::new(vec![decoy_memory]),
                decoy,
            }),
        })
    }

    /// Hashes a new password with a fresh salt.
    pub(crate) async fn digest(&self, password: &str) -> Result<PasswordDigest, HashError> {
        let password = password.as_bytes().to_vec();
        self.on_pool(move |argon2, memory| digest_with(argon2, &password, memory))
            .await
    }

    /// Whether `password` matches `stored`; with `stored = None` (unknown user) it costs the same and
    /// answers false.
    pub(crate) async fn verify(
        &self,
        password: &str,
        stored: Option<&PasswordDigest>,
    ) -> Result<bool, HashError> {
        let known = stored.is_some();
        let against = stored.cloned().unwrap_or_else(|| self.inner.decoy.clone());
        let password = password.as_bytes().to_vec();
        let matches = self
            .on_pool(move |argon2, memory| {
                let mut hash = [0u8; HASH_LEN];
                argon2
                    .hash_password_into_with_memory(&password, &against.salt, &mut hash, memory)
                    .map_err(HashError::Argon2)?;
                Ok(aws_lc_rs::constant_time::verify_slices_are_equal(&hash, &against.hash).is_ok())
            })
            .await?;
        Ok(known && matches)
    }

    /// Hashes synchronously, for seeding accounts at start.
    pub(crate) fn digest_blocking(&self, password: &str) -> Result<PasswordDigest, HashError> {
        let mut memory = self.take_memory();
        let result = digest_with(&self.inner.argon2, password.as_bytes(), &mut memory);
        self.inner.memory.lock().push(memory);
        result
    }

    async fn on_pool<T, F>(&self, work: F) -> Result<T, HashError>
    where
        T: Send + 'static,
        F: FnOnce(&Argon2<'static>, &mut [Block]) -> Result<T, HashError> + Send + 'static,
    {
        let _permit = tokio::time::timeout(self.inner.max_wait, self.inner.permits.acquire())
            .await
            .map_err(|_| HashError::Busy)?
            .map_err(|_| HashError::Closed)?;
        let inner = self.inner.clone();
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut memory = this.take_memory();
            let result = work(&inner.argon2, &mut memory);
            inner.memory.lock().push(memory);
            result
        })
        .await
        .map_err(|_| HashError::Closed)?
    }

    fn take_memory(&self) -> Vec<Block> {
        self.inner
            .memory
            .lock()
            .pop()
            .unwrap_or_else(|| vec![Block::default(); self.inner.memory_blocks])
    }
}

fn digest_with(
    argon2: &Argon2<'static>,
    password: &[u8],
    memory: &mut [Block],
) -> Result<PasswordDigest, HashError> {
    let mut salt = [0u8; SALT_LEN];
    rand::rng().fill_bytes(&mut salt);
    let mut hash = [0u8; HASH_LEN];
    argon2
        .hash_password_into_with_memory(password, &salt, &mut hash, memory)
        .map_err(HashError::Argon2)?;
    Ok(PasswordDigest { salt, hash })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_right_password_verifies_and_others_do_not() {
        let hasher = PasswordHasher::new(2).unwrap();
        let stored = hasher.digest("correct horse").await.unwrap();
        assert!(hasher.verify("correct horse", Some(&stored)).await.unwrap());
        assert!(!hasher.verify("correct horsf", Some(&stored)).await.unwrap());
        assert!(!hasher.verify("", Some(&stored)).await.unwrap());
        assert!(!hasher.verify("correct horse", None).await.unwrap());
    }

    #[tokio::test]
    async fn the_light_cost_still_tells_the_right_password_from_others() {
        let light = PasswordHasher::with_max_wait(
            2,
            PasswordCost::Light,
            std::time::Duration::from_secs(30),
        )
        .unwrap();
        let stored = light.digest("correct horse").await.unwrap();
        assert!(light.verify("correct horse", Some(&stored)).await.unwrap());
        assert!(!light.verify("correct horsf", Some(&stored)).await.unwrap());
        assert!(!light.verify("", Some(&stored)).await.unwrap());
        assert!(!light.verify("correct horse", None).await.unwrap());
        // A digest made at one cost is not accepted at the other: the parameters are part of the hash.
        let owasp = PasswordHasher::new(1).unwrap();
        assert!(!owasp.verify("correct horse", Some(&stored)).await.unwrap());
        assert_eq!(light.inner.memory.lock()[0].len(), 64);
    }

    #[tokio::test]
    async fn a_stored_digest_reads_back_and_still_verifies() {
        let hasher = PasswordHasher::new(1).unwrap();
        let digest = hasher.digest("kept").await.unwrap();
        let read_back = PasswordDigest::from_stored(&digest.to_stored()).unwrap();
        assert_eq!(read_back, digest);
        assert!(hasher.verify("kept", Some(&read_back)).await.unwrap());
        assert!(PasswordDigest::from_stored("not base64!").is_none());
        assert!(PasswordDigest::from_stored("c2hvcnQ=").is_none());
    }

    #[tokio::test]
    async fn salts_differ_between_digests_of_one_password() {
        let hasher = PasswordHasher::new(1).unwrap();
        let first = hasher.digest("same").await.unwrap();
        let second = hasher.digest("same").await.unwrap();
        assert_ne!(first, second);
    }

    #[tokio::test]
    async fn working_memory_is_bounded_by_the_permits() {
        let hasher = PasswordHasher::new(2).unwrap();
        let stored = hasher.digest("pw").await.unwrap();
        let checks: Vec<_> = (0..16)
            .map(|_| {
                let hasher = hasher.clone();
                let stored = stored.clone();
                tokio::spawn(async move { hasher.verify("pw", Some(&stored)).await.unwrap() })
            })
            .collect();
        for check in checks {
            assert!(check.await.unwrap());
        }
        assert!(hasher.inner.memory.lock().len() <= 2);
    }
}
