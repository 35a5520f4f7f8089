//! Users in Redis: one hash per user (`PREFIX user:ID`), index keys for usernames and e-mails
//! (`PREFIX user-by-username:NAME`, `PREFIX user-by-email:EMAIL`) and a count, with uniqueness checked and
//! the user inserted in one script. Users never change once created.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use redis::Script;

use super::redis_connection::{RedisStore, Unavailable};
use super::user::{LoginField, StoreError, User};
use crate::passwords::PasswordDigest;

static INSERT_SCRIPT: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("insert_user.lua")));
static FIND_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("find_user.lua")));

/// The users of every instance on one Redis and prefix.
#[derive(Debug, Clone)]
pub(crate) struct RedisUsers {
    store: RedisStore,
    max_users: usize,
}

impl RedisUsers {
    pub(crate) fn new(store: RedisStore, max_users: usize) -> RedisUsers {
        RedisUsers { store, max_users }
    }

    /// Inserts `user` unless its username or e-mail is taken (atomically, whichever instance asks).
    pub(crate) async fn insert(&self, user: User) -> Result<Arc<User>, StoreError> {
        let mut invocation = INSERT_SCRIPT.prepare_invoke();
        invocation
            .key(self.user_key(&user.id))
            .key(self.index_key(LoginField::Username, &user.username))
            .key(self.index_key(LoginField::Email, &user.email))
            .key(self.store.key("users"))
            .arg(self.max_users)
            .arg(u8::from(!user.username.is_empty()))
            .arg(u8::from(!user.email.is_empty()))
            .arg(&user.id);
        for (field, value) in fields(&user) {
            invocation.arg(field).arg(value);
        }
        let outcome: String = self
            .store
            .invoke(&invocation)
            .await
            .map_err(StoreError::Unavailable)?;
        match outcome.as_str() {
            "ok" => Ok(Arc::new(user)),
            "username" => Err(StoreError::Taken("username")),
            "email" => Err(StoreError::Taken("email")),
            "full" => Err(StoreError::Full),
            other => Err(StoreError::Unavailable(Unavailable {
                reason: format!("the insert script answered `{other}`"),
            })),
        }
    }

    pub(crate) async fn find(
        &self,
        field: LoginField,
        value: &str,
    ) -> Result<Option<Arc<User>>, StoreError> {
        let mut invocation = FIND_SCRIPT.prepare_invoke();
        invocation
            .key(self.index_key(field, value))
            .arg(self.store.key("user:"));
        let record: HashMap<String, String> = self
            .store
            .invoke(&invocation)
            .await
            .map_err(StoreError::Unavailable)?;
        user_from(record)
    }

    pub(crate) async fn get(&self, id: &str) -> Result<Option<Arc<User>>, StoreError> {
        let record: HashMap<String, String> = self
            .store
            .query(redis::cmd("HGETALL").arg(self.user_key(id)))
            .await
            .map_err(StoreError::Unavailable)?;
        user_from(record)
    }

    /// How many users there are.
    pub(crate) async fn count(&self) -> Result<usize, StoreError> {
        let count: Option<usize> = self
            .store
            .query(redis::cmd("GET").arg(self.store.key("users")))
            .await
            .map_err(StoreError::Unavailable)?;
        Ok(count.unwrap_or(0))
    }

    fn user_key(&self, id: &str) -> String {
        self.store.key(&format!("user:{id}"))
    }

    fn index_key(&self, field: LoginField, value: &str) -> String {
        match field {
            LoginField::Username => self.store.key(&format!("user-by-username:{value}")),
            LoginField::Email => self.store.key(&format!("user-by-email:{value}")),
        }
    }
}

/// The hash fields of a user record.
fn fields(user: &User) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("id", user.id.clone()),
        ("username", user.username.clone()),
        ("email", user.email.clone()),
        ("password", user.password.to_stored()),
        (
            "is_active",
            if user.is_active { "1" } else { "0" }.to_owned(),
        ),
        ("plan", user.plan.clone()),
        ("scope", user.scope.join(" ")),
    ];
    if let Some(vendor) = &user.vendor {
        fields.push(("vendor", vendor.clone()));
    }
    fields
}

/// A user read back from its hash; `None` for no record; an error for a record this server did not write.
fn user_from(mut record: HashMap<String, String>) -> Result<Option<Arc<User>>, StoreError> {
    if record.is_empty() {
        return Ok(None);
    }
    let mut take = |field: &str| record.remove(field);
    let damaged = |field: &str| {
        StoreError::Unavailable(Unavailable {
            reason: format!("a stored user has no readable `{field}`"),
        })
    };
    let password = take("password")
        .as_deref()
        .and_then(PasswordDigest::from_stored)
        .ok_or_else(|| damaged("password"))?;
    Ok(Some(Arc::new(User {
        id: take("id").ok_or_else(|| damaged("id"))?,
        username: take("username").unwrap_or_default(),
        email: take("email").unwrap_or_default(),
        password,
        is_active: take("is_active").as_deref() == Some("1"),
        plan: take("plan").unwrap_or_default(),
        vendor: take("vendor"),
        scope: take("scope")
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        rendered_me: Default::default(),
    })))
}
