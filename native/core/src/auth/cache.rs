//! In-memory access-token cache with expiry skew and single-flight requests.
//!
//! A valid cached token never causes a token request; callers asking concurrently for the same
//! token wait on one request instead of each sending their own.

use crate::auth::token::TokenResponse;
use crate::error::Result;
use chrono::{DateTime, Duration, Utc};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Tokens are treated as expired this long before they really expire, so a request that starts
/// with a cached token does not fail mid-flight.
pub const EXPIRY_SKEW: Duration = Duration::minutes(5);

/// What identifies a token: who asked, where, for what.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    pub authority: String,
    pub tenant: String,
    pub client_id: String,
    /// Scopes (or the v1 resource), lower-cased and sorted so order does not matter.
    pub target: Vec<String>,
}

impl CacheKey {
    pub fn new(authority: &str, tenant: &str, client_id: &str, target: impl IntoIterator<Item = String>) -> Self {
        let mut target: Vec<String> = target.into_iter().map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty()).collect();
        target.sort();
        target.dedup();
        Self {
            authority: authority.to_ascii_lowercase(),
            tenant: tenant.trim().to_ascii_lowercase(),
            client_id: client_id.trim().to_ascii_lowercase(),
            target,
        }
    }
}

type Slot = Arc<tokio::sync::Mutex<Option<TokenResponse>>>;

#[derive(Default)]
pub struct TokenCache {
    slots: Mutex<HashMap<CacheKey, Slot>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// Counters for diagnostics and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
}

impl TokenCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// Returns the cached token for `key` when it is valid at `now` (with skew); otherwise runs
    /// `fetch` — once, however many callers are waiting — and caches its answer.
    pub async fn get_or_fetch<F, Fut>(&self, key: CacheKey, now: impl Fn() -> DateTime<Utc>, fetch: F) -> Result<TokenResponse>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<TokenResponse>>,
    {
        let slot = self.slots.lock().entry(key).or_default().clone();
        let mut guard = slot.lock().await;
        if let Some(token) = guard.as_ref()
            && token.expires_on - EXPIRY_SKEW > now()
        {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(token.clone());
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        // On error nothing is cached; the next caller tries again.
        let fresh = fetch().await?;
        *guard = Some(fresh.clone());
        Ok(fresh)
    }

    /// Drops the cached token for `key` if it is still `stale` (a token the service refused,
    /// e.g. revoked or judged expired by a server whose clock runs ahead). Another caller may
    /// already have replaced it with a fresh one; that one is kept.
    pub async fn invalidate(&self, key: &CacheKey, stale: &crate::secret::Secret) {
        let Some(slot) = self.slots.lock().get(key).cloned() else { return };
        let mut guard = slot.lock().await;
        if guard.as_ref().is_some_and(|t| t.access_token.expose() == stale.expose()) {
            *guard = None;
        }
    }

    /// Forgets every token (on disconnect).
    pub fn clear(&self) {
        self.slots.lock().clear();
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats { hits: self.hits.load(Ordering::Relaxed), misses: self.misses.load(Ordering::Relaxed) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::claims::Claims;
    use crate::secret::Secret;
    use std::sync::atomic::AtomicUsize;

    fn token(expires_on: DateTime<Utc>) -> TokenResponse {
        TokenResponse {
            access_token: Secret::new("at"),
            refresh_token: None,
            id_token: None,
            expires_on,
            scopes: vec![],
            resource: None,
            claims: Claims::default(),
            id_token_claims: None,
        }
    }

    #[test]
    fn keys_ignore_case_and_order() {
        let a = CacheKey::new("https://L/", "T", "C", ["B".to_string(), "a".to_string()]);
        let b = CacheKey::new("https://l/", "t", "c", ["a".to_string(), "b".to_string(), "A".to_string()]);
        assert_eq!(a, b);
    }

    #[tokio::test]
    async fn valid_tokens_are_served_from_cache_and_stale_ones_refetched() {
        let cache = TokenCache::new();
        let calls = AtomicUsize::new(0);
        let now = Utc::now();
        let key = || CacheKey::new("a", "t", "c", ["s".to_string()]);
        for _ in 0..3 {
            cache
                .get_or_fetch(key(), || now, || async {
                    calls.fetch_add(1, Ordering::SeqCst);
                    Ok(token(now + Duration::hours(1)))
                })
                .await
                .unwrap();
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Inside the skew window the token counts as expired.
        let later = now + Duration::minutes(56);
        cache
            .get_or_fetch(key(), || later, || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok(token(later + Duration::hours(1)))
            })
            .await
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(cache.stats(), CacheStats { hits: 2, misses: 2 });
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_request() {
        let cache = Arc::new(TokenCache::new());
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let cache = cache.clone();
            let calls = calls.clone();
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_fetch(CacheKey::new("a", "t", "c", ["s".to_string()]), Utc::now, || async move {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        Ok(token(Utc::now() + Duration::hours(1)))
                    })
                    .await
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn errors_are_not_cached() {
        let cache = TokenCache::new();
        let key = || CacheKey::new("a", "t", "c", ["s".to_string()]);
        let first = cache.get_or_fetch(key(), Utc::now, || async { Err(crate::Error::Cancelled) }).await;
        assert!(first.is_err());
        let second = cache.get_or_fetch(key(), Utc::now, || async { Ok(token(Utc::now() + Duration::hours(1))) }).await;
        assert!(second.is_ok());
    }
}
