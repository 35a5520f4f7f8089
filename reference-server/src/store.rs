//! Where users live: [`Users`], in this process ([`MemoryStore`]) or in Redis, shared by every instance.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use parking_lot::RwLock;
use rand::RngCore;

use crate::passwords::PasswordDigest;
use crate::redis_store::{RedisUsers, Unavailable};

/// One Appmixer user.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub username: String,
    pub email: String,
    pub password: PasswordDigest,
    pub is_active: bool,
    pub plan: String,
    pub vendor: Option<String>,
    pub scope: Vec<String>,
}

/// The field a sign-in names its user by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginField {
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

/// The users, in memory or in Redis. Inserting checks uniqueness and inserts atomically. The Redis
/// futures are boxed, so their size does not weigh on every handler's future in memory mode.
#[derive(Debug)]
pub enum Users {
    Memory(MemoryStore),
    Redis(RedisUsers),
}

impl Users {
    pub async fn insert(&self, user: User) -> Result<Arc<User>, StoreError> {
        match self {
            Users::Memory(store) => store.insert(user),
            Users::Redis(store) => Box::pin(store.insert(user)).await,
        }
    }

    pub async fn find(
        &self,
        field: LoginField,
        value: &str,
    ) -> Result<Option<Arc<User>>, StoreError> {
        match self {
            Users::Memory(store) => Ok(store.find(field, value)),
            Users::Redis(store) => Box::pin(store.find(field, value)).await,
        }
    }

    pub async fn get(&self, id: &str) -> Result<Option<Arc<User>>, StoreError> {
        match self {
            Users::Memory(store) => Ok(store.get(id)),
            Users::Redis(store) => Box::pin(store.get(id)).await,
        }
    }

    /// How many users there are.
    pub async fn count(&self) -> Result<usize, StoreError> {
        match self {
            Users::Memory(store) => Ok(store.len()),
            Users::Redis(store) => Box::pin(store.count()).await,
        }
    }
}

/// Users in memory, indexed by id, username and e-mail (stored and looked up exactly as given).
#[derive(Debug)]
pub struct MemoryStore {
    max_users: usize,
    inner: RwLock<Indexes>,
}

#[derive(Debug, Default)]
struct Indexes {
    by_id: HashMap<String, Arc<User>>,
    by_username: HashMap<String, String>,
    by_email: HashMap<String, String>,
}

impl MemoryStore {
    pub fn new(max_users: usize) -> MemoryStore {
        MemoryStore {
            max_users,
            inner: RwLock::new(Indexes::default()),
        }
    }

    pub fn insert(&self, user: User) -> Result<Arc<User>, StoreError> {
        let mut indexes = self.inner.write();
        if !user.username.is_empty() && indexes.by_username.contains_key(&user.username) {
            return Err(StoreError::Taken("username"));
        }
        if !user.email.is_empty() && indexes.by_email.contains_key(&user.email) {
            return Err(StoreError::Taken("email"));
        }
        if indexes.by_id.len() >= self.max_users {
            return Err(StoreError::Full);
        }
        let user = Arc::new(user);
        if !user.username.is_empty() {
            indexes
                .by_username
                .insert(user.username.clone(), user.id.clone());
        }
        if !user.email.is_empty() {
            indexes.by_email.insert(user.email.clone(), user.id.clone());
        }
        indexes.by_id.insert(user.id.clone(), user.clone());
        Ok(user)
    }

    pub fn find(&self, field: LoginField, value: &str) -> Option<Arc<User>> {
        let indexes = self.inner.read();
        let index = match field {
            LoginField::Username => &indexes.by_username,
            LoginField::Email => &indexes.by_email,
        };
        index
            .get(value)
            .and_then(|id| indexes.by_id.get(id))
            .cloned()
    }

    pub fn get(&self, id: &str) -> Option<Arc<User>> {
        self.inner.read().by_id.get(id).cloned()
    }

    pub fn len(&self) -> usize {
        self.inner.read().by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A new 24-hex-digit id in the shape of Appmixer's (MongoDB ObjectId): seconds, randomness, a counter.
pub fn new_id(now_s: u64) -> String {
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

    fn user(id: &str, username: &str, email: &str) -> User {
        let hasher = crate::passwords::PasswordHasher::new(1).unwrap();
        User {
            id: id.into(),
            username: username.into(),
            email: email.into(),
            password: hasher.digest_blocking("pw").unwrap(),
            is_active: false,
            plan: "free".into(),
            vendor: None,
            scope: vec!["user".into()],
        }
    }

    #[test]
    fn usernames_and_emails_are_unique_and_found_exactly() {
        let store = MemoryStore::new(10);
        store.insert(user("1", "Ann", "ann@example.com")).unwrap();
        assert_eq!(
            store
                .insert(user("2", "Ann", "other@example.com"))
                .unwrap_err(),
            StoreError::Taken("username")
        );
        assert_eq!(
            store
                .insert(user("3", "Bob", "ann@example.com"))
                .unwrap_err(),
            StoreError::Taken("email")
        );
        assert_eq!(store.find(LoginField::Username, "Ann").unwrap().id, "1");
        assert_eq!(
            store.find(LoginField::Email, "ann@example.com").unwrap().id,
            "1"
        );
        assert!(store.find(LoginField::Username, "ann").is_none());
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn a_full_store_refuses_new_users() {
        let store = MemoryStore::new(1);
        store.insert(user("1", "a", "a@example.com")).unwrap();
        assert_eq!(
            store.insert(user("2", "b", "b@example.com")).unwrap_err(),
            StoreError::Full
        );
    }

    #[test]
    fn ids_are_24_hex_digits_and_distinct() {
        let first = new_id(1_700_000_000);
        let second = new_id(1_700_000_000);
        assert_eq!(first.len(), 24);
        assert!(first.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(first, second);
    }
}
