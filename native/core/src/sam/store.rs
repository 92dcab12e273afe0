//! Where secrets (refresh tokens, application secrets) live: one trait, several stores.
//!
//! A store keeps named secrets. Names follow Azure Key Vault's rule (1–127 characters from
//! `[0-9a-zA-Z-]`) in every store, so a profile can move between stores without renaming,
//! and names are case-insensitive (Key Vault's and Windows' behaviour).

use crate::error::Error;
use crate::sam::error::SamResult;
use crate::secret::Secret;
use parking_lot::Mutex;
use std::collections::HashMap;

/// A named-secret store. Implementations must write atomically: a reader sees the old value or
/// the new one, never a mix, and a failed write leaves the old value in place.
#[async_trait::async_trait]
pub trait SecretStore: Send + Sync {
    /// The secret stored under `name`, or `None` when there is none.
    async fn read(&self, name: &str) -> SamResult<Option<Secret>>;

    /// Stores `value` under `name`, replacing what was there.
    async fn write(&self, name: &str, value: &Secret) -> SamResult<()>;

    /// Removes `name`; `false` when there was nothing to remove.
    async fn delete(&self, name: &str) -> SamResult<bool>;

    /// Where the store keeps its secrets, for messages ("encrypted file store in /x",
    /// "Key Vault `https://v.vault.azure.net`"). Never contains a secret.
    fn describe(&self) -> String;

    /// Serialises read-modify-write cycles on `name` (a refresh-token rotation) across
    /// processes until the returned guard is dropped. Stores that cannot lock return `None`;
    /// rotation is then last-writer-wins, which loses nothing because every refresh token an
    /// exchange returns stays valid (rolling refresh tokens, api-contracts §2.7).
    async fn lock(&self, _name: &str) -> SamResult<Option<StoreLock>> {
        Ok(None)
    }
}

/// Held while a read-modify-write cycle runs; dropping it releases the lock.
pub struct StoreLock {
    _guard: Box<dyn Send + Sync>,
}

impl StoreLock {
    pub fn new(guard: impl Send + Sync + 'static) -> Self {
        Self { _guard: Box::new(guard) }
    }
}

impl std::fmt::Debug for StoreLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreLock")
    }
}

/// Longest secret name (Key Vault's limit).
pub const MAX_NAME_LEN: usize = 127;

/// Checks a secret name: 1–127 characters from `[0-9a-zA-Z-]`.
pub fn validate_name(name: &str) -> Result<(), Error> {
    if name.is_empty() || name.len() > MAX_NAME_LEN || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        let shown: String = name.chars().take(40).collect();
        return Err(Error::invalid_input("SecretName", format!("'{shown}' is not a valid secret name: use 1 to 127 letters, digits and dashes")));
    }
    Ok(())
}

/// Secrets in process memory: lost when the process ends. For tests, and for callers that
/// hand over a refresh token for one run without persisting it.
#[derive(Default)]
pub struct MemoryStore {
    values: Mutex<HashMap<String, Secret>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait::async_trait]
impl SecretStore for MemoryStore {
    async fn read(&self, name: &str) -> SamResult<Option<Secret>> {
        validate_name(name)?;
        Ok(self.values.lock().get(&name.to_ascii_lowercase()).cloned())
    }

    async fn write(&self, name: &str, value: &Secret) -> SamResult<()> {
        validate_name(name)?;
        self.values.lock().insert(name.to_ascii_lowercase(), value.clone());
        Ok(())
    }

    async fn delete(&self, name: &str) -> SamResult<bool> {
        validate_name(name)?;
        Ok(self.values.lock().remove(&name.to_ascii_lowercase()).is_some())
    }

    fn describe(&self) -> String {
        "process memory (not persisted)".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_key_vault_rules() {
        for ok in ["a", "contoso-refresh-token", &"x".repeat(127)] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a_b", "a.b", "../x", "a/b", "é", &"x".repeat(128)] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn memory_store_round_trips_case_insensitively() {
        let store = MemoryStore::new();
        assert!(store.read("Rt").await.unwrap().is_none());
        store.write("Rt", &Secret::new("v1")).await.unwrap();
        assert_eq!(store.read("rt").await.unwrap().unwrap().expose(), "v1");
        assert!(store.delete("RT").await.unwrap());
        assert!(!store.delete("rt").await.unwrap());
    }
}
