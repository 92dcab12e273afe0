//! Refresh tokens: opaque handles to server-side records, as Entra's are.
//!
//! Semantics follow api-contracts §1.5 and §2.7:
//! - every redemption returns a new token and the old one keeps working (rolling refresh);
//! - a token unused for 90 days (emulator clock) fails with AADSTS700082;
//! - revoking a user's sessions moves their `TokensValidFrom` forward; every grant whose
//!   original sign-in is older fails with AADSTS50173;
//! - the MFA flag of the original sign-in travels with the grant into every token minted from
//!   it, including tokens for other resources (multi-resource refresh tokens).

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use parking_lot::Mutex;

use crate::scenario::Scenario;
use crate::tokens::new_refresh_token_value;

/// Entra's `MaxInactiveTime` for refresh tokens.
pub fn max_inactive_time() -> Duration {
    Duration::days(90)
}

#[derive(Debug, Clone)]
pub struct RefreshTokenRecord {
    pub tenant_id: String,
    pub client_id: String,
    pub user_id: String,
    pub mfa: bool,
    /// When the user originally signed in / consented; inherited across rotations.
    pub auth_time: DateTime<Utc>,
    /// When this particular token value was issued.
    pub issued_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    /// The resource the grant was last used for (app id) and the identifier the client used;
    /// a redemption that names no resource gets a token for this one.
    pub resource_app_id: String,
    pub resource_identifier: String,
    /// Scenario consent the grant descends from, if any (diagnostics only).
    pub consent: Option<String>,
}

#[derive(Debug, Default)]
pub struct RefreshTokenStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    tokens: HashMap<String, RefreshTokenRecord>,
    /// Per user (lower-case id): grants from sign-ins at or before this instant are revoked.
    tokens_valid_from: HashMap<String, DateTime<Utc>>,
}

/// Why a refresh token cannot be redeemed (beyond not existing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unusable {
    Revoked {
        auth_time: DateTime<Utc>,
        valid_from: DateTime<Utc>,
    },
    Inactive {
        issued_at: DateTime<Utc>,
    },
}

impl RefreshTokenStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads the scenario's consents as already-issued refresh tokens.
    pub fn seed(&self, scenario: &Scenario) {
        let mut inner = self.inner.lock();
        for tenant in &scenario.tenants {
            for consent in &tenant.consents {
                let Some(app) = tenant.application(&consent.client_id) else {
                    continue;
                };
                let Some((resource, identifier)) = scenario.consent_resource(app, consent) else {
                    continue;
                };
                let issued_at = consent.issued_at.resolve(scenario.loaded_at);
                let last_used_at = consent
                    .last_used_at
                    .map(|t| t.resolve(scenario.loaded_at))
                    .unwrap_or(issued_at);
                inner.tokens.insert(
                    consent.refresh_token.clone(),
                    RefreshTokenRecord {
                        tenant_id: tenant.id.clone(),
                        client_id: app.app_id.clone(),
                        user_id: consent.user_id.clone(),
                        mfa: consent.mfa,
                        auth_time: issued_at,
                        issued_at,
                        last_used_at,
                        resource_app_id: resource.app_id.clone(),
                        resource_identifier: identifier,
                        consent: Some(consent.name.clone()),
                    },
                );
            }
        }
    }

    pub fn get(&self, value: &str) -> Option<RefreshTokenRecord> {
        self.inner.lock().tokens.get(value).cloned()
    }

    /// Checks revocation and inactivity at `now`.
    pub fn check(&self, record: &RefreshTokenRecord, now: DateTime<Utc>) -> Result<(), Unusable> {
        let inner = self.inner.lock();
        if let Some(valid_from) = inner
            .tokens_valid_from
            .get(&record.user_id.to_ascii_lowercase())
            && record.auth_time <= *valid_from
        {
            return Err(Unusable::Revoked {
                auth_time: record.auth_time,
                valid_from: *valid_from,
            });
        }
        if now - record.last_used_at > max_inactive_time() {
            return Err(Unusable::Inactive {
                issued_at: record.issued_at,
            });
        }
        Ok(())
    }

    /// Marks `old` used and stores a fresh token that inherits its grant. Returns the new value.
    pub fn rotate(&self, old: &str, mut next: RefreshTokenRecord, now: DateTime<Utc>) -> String {
        let value = new_refresh_token_value();
        let mut inner = self.inner.lock();
        if let Some(record) = inner.tokens.get_mut(old) {
            record.last_used_at = now;
        }
        next.issued_at = now;
        next.last_used_at = now;
        inner.tokens.insert(value.clone(), next);
        value
    }

    /// Stores a token from a fresh sign-in (e.g. ROPC). Returns its value.
    pub fn issue(&self, mut record: RefreshTokenRecord, now: DateTime<Utc>) -> String {
        let value = new_refresh_token_value();
        record.issued_at = now;
        record.last_used_at = now;
        self.inner.lock().tokens.insert(value.clone(), record);
        value
    }

    /// Revokes every grant of `user_id` (admin "revoke sessions"). Returns how many stored
    /// tokens that affects.
    pub fn revoke_user(&self, user_id: &str, now: DateTime<Utc>) -> usize {
        let mut inner = self.inner.lock();
        inner
            .tokens_valid_from
            .insert(user_id.to_ascii_lowercase(), now);
        inner
            .tokens
            .values()
            .filter(|r| r.user_id.eq_ignore_ascii_case(user_id) && r.auth_time <= now)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(now: DateTime<Utc>) -> RefreshTokenRecord {
        RefreshTokenRecord {
            tenant_id: "t".into(),
            client_id: "c".into(),
            user_id: "U".into(),
            mfa: true,
            auth_time: now,
            issued_at: now,
            last_used_at: now,
            resource_app_id: "r".into(),
            resource_identifier: "r".into(),
            consent: None,
        }
    }

    #[test]
    fn rotation_keeps_old_token_and_inactivity_is_per_token() {
        let store = RefreshTokenStore::new();
        let t0 = Utc::now();
        let first = store.issue(record(t0), t0);
        let t1 = t0 + Duration::days(60);
        let second = store.rotate(&first, record(t0), t1);
        assert_ne!(first, second);
        let (Some(a), Some(b)) = (store.get(&first), store.get(&second)) else {
            panic!("both stored")
        };
        assert_eq!(store.check(&a, t1), Ok(()));
        // 91 days after t1 both are idle for > 90 days.
        let t2 = t1 + Duration::days(91);
        assert!(matches!(
            store.check(&a, t2),
            Err(Unusable::Inactive { .. })
        ));
        assert!(matches!(
            store.check(&b, t2),
            Err(Unusable::Inactive { .. })
        ));
        // 89 days after t1 the rotated one is fine.
        assert_eq!(store.check(&b, t1 + Duration::days(89)), Ok(()));
    }

    #[test]
    fn revocation_is_by_original_sign_in_time() {
        let store = RefreshTokenStore::new();
        let t0 = Utc::now();
        let v = store.issue(record(t0), t0);
        assert_eq!(store.revoke_user("u", t0 + Duration::seconds(1)), 1);
        let Some(r) = store.get(&v) else {
            panic!("stored")
        };
        assert!(matches!(
            store.check(&r, t0 + Duration::seconds(2)),
            Err(Unusable::Revoked { .. })
        ));
    }
}
