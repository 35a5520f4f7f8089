//! Users in this process: indexed by id, username and e-mail, uniqueness checked and the user inserted under
//! one lock.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;

use super::user::{LoginField, StoreError, User};

/// Users in memory, indexed by id, username and e-mail (stored and looked up exactly as given).
#[derive(Debug)]
pub(crate) struct MemoryStore {
    max_users: usize,
    inner: RwLock<Indexes>,
}

#[derive(Debug, Default)]
struct Indexes {
    /// Hashed with foldhash, faster than SipHash (every `GET /user` looks a user up by id): ids are the
    /// server's own, so nobody can choose ones that collide.
    by_id: HashMap<String, Arc<User>, foldhash::fast::RandomState>,
    by_username: HashMap<String, String>,
    by_email: HashMap<String, String>,
}

impl MemoryStore {
    pub(crate) fn new(max_users: usize) -> MemoryStore {
        MemoryStore {
            max_users,
            inner: RwLock::new(Indexes::default()),
        }
    }

    pub(crate) fn insert(&self, user: User) -> Result<Arc<User>, StoreError> {
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

    pub(crate) fn find(&self, field: LoginField, value: &str) -> Option<Arc<User>> {
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

    pub(crate) fn get(&self, id: &str) -> Option<Arc<User>> {
        self.inner.read().by_id.get(id).cloned()
    }

    pub(crate) fn len(&self) -> usize {
        self.inner.read().by_id.len()
    }
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
            rendered_me: Default::default(),
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
}
