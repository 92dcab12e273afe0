//! Profile health: is the stored refresh token still usable, and for how long?
//!
//! Entra ID refresh tokens expire after 90 days without use (`MaxInactiveTime`, AADSTS700082;
//! api-contracts §2.7); every exchange returns a new one with a fresh 90 days. So the age that
//! matters is the time since the last exchange (or the consent), which the profile records.
//! MFA matters too: Partner Center refuses App+User tokens whose `amr` lacks `mfa` (§5.4).
//!
//! Status, first match wins:
//! - **Expired**: no refresh token stored, never consented, or 90 days or more since the last
//!   use;
//! - **Warning**: the last token did not prove MFA, fewer than 14 days are left, or the store
//!   could not be read;
//! - **Healthy** otherwise.

use crate::auth::claims::amr_has_mfa as has_mfa;
use crate::sam::error::ProfileEntry;
use crate::sam::profile::SecureAppProfile;
use crate::sam::store::SecretStore;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// Entra ID's refresh-token inactivity limit.
pub const INACTIVITY_LIMIT_DAYS: i64 = 90;
/// Fewer days left than this is a warning.
pub const WARNING_DAYS: i64 = 14;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum HealthStatus {
    Healthy,
    Warning,
    Expired,
}

/// What `Test-PartnerSecureAppProfile`-style output shows. No secrets.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProfileHealth {
    pub profile: String,
    pub status: HealthStatus,
    /// Whether the store holds a refresh token (`None`: not checked or not readable).
    pub refresh_token_stored: Option<bool>,
    pub refresh_token_store: String,
    pub last_exchange_on: Option<DateTime<Utc>>,
    /// Whole days since the last use.
    pub age_days: Option<i64>,
    /// When the token expires if unused (`last_exchange_on` + 90 days).
    pub expires_on: Option<DateTime<Utc>>,
    /// Whole days until then (negative once past).
    pub days_left: Option<i64>,
    pub last_amr: Vec<String>,
    pub mfa: bool,
    pub consented_scopes: Vec<String>,
    pub consented_on: Option<DateTime<Utc>>,
    pub consented_by: Option<String>,
    /// One sentence: what the status means and what to do.
    pub advice: String,
}

/// Health from the profile alone, at `now`. `token_stored` is what a store check found
/// (`None` when not checked); `store_problem` a failure reading the store.
pub fn assess(profile: &SecureAppProfile, now: DateTime<Utc>, token_stored: Option<bool>, store_problem: Option<String>) -> ProfileHealth {
    let limit = Duration::days(INACTIVITY_LIMIT_DAYS);
    let expires_on = profile.last_exchange_on.map(|t| t + limit);
    let remaining = expires_on.map(|e| e - now);
    let mfa = has_mfa(&profile.last_amr);
    let date = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
    let (status, advice) = if token_stored == Some(false) {
        (
            HealthStatus::Expired,
            format!("No refresh token is stored in the {}. Consent once with multi-factor authentication to store one.", profile.refresh_token_store.describe()),
        )
    } else if let (Some(last), Some(remaining), Some(expires)) = (profile.last_exchange_on, remaining, expires_on) {
        if remaining <= Duration::zero() {
            (
                HealthStatus::Expired,
                format!(
                    "The refresh token was last used on {}, {} days ago; Entra ID refuses refresh tokens unused for {INACTIVITY_LIMIT_DAYS} days (AADSTS700082). Consent again with multi-factor authentication.",
                    date(last),
                    (now - last).num_days()
                ),
            )
        } else if let Some(problem) = store_problem {
            (HealthStatus::Warning, format!("The refresh token store could not be read, so the token could not be checked: {problem}"))
        } else if !mfa {
            (
                HealthStatus::Warning,
                format!(
                    "The last token from this refresh token did not prove multi-factor authentication (amr: {}); Partner Center refuses such App+User tokens. Consent again and complete MFA.",
                    if profile.last_amr.is_empty() { "none".to_owned() } else { profile.last_amr.join(", ") }
                ),
            )
        } else if remaining < Duration::days(WARNING_DAYS) {
            (
                HealthStatus::Warning,
                format!(
                    "The refresh token expires on {} ({} days left) unless it is used before then. Run an exchange now (any token request renews it), and schedule one at least monthly.",
                    date(expires),
                    remaining.num_days()
                ),
            )
        } else {
            (
                HealthStatus::Healthy,
                format!("The refresh token was last used on {} and renews itself with every exchange; unused it would expire on {}.", date(last), date(expires)),
            )
        }
    } else {
        (HealthStatus::Expired, "The profile has never been consented. Consent once with multi-factor authentication to store a refresh token.".to_owned())
    };
    ProfileHealth {
        profile: profile.name.clone(),
        status,
        refresh_token_stored: token_stored,
        refresh_token_store: profile.refresh_token_store.describe(),
        last_exchange_on: profile.last_exchange_on,
        age_days: profile.last_exchange_on.map(|t| (now - t).num_days()),
        expires_on,
        days_left: remaining.map(|r| r.num_days()),
        last_amr: profile.last_amr.clone(),
        mfa,
        consented_scopes: profile.consented_scopes.clone(),
        consented_on: profile.consented_on,
        consented_by: profile.consented_by.clone(),
        advice,
    }
}

/// Health at `now`, after checking that `store` holds the profile's refresh token.
pub async fn check(profile: &SecureAppProfile, store: &dyn SecretStore, now: DateTime<Utc>) -> ProfileHealth {
    match store.read(profile.refresh_token_store.secret_name()).await {
        Ok(found) => assess(profile, now, Some(found.is_some()), None),
        Err(e) => assess(profile, now, None, Some(e.in_profile(&profile.name, ProfileEntry::RefreshToken).to_string())),
    }
}
