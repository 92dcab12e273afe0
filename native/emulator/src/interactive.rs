//! Interactive sign-in without a user: the authorization-code and device-code flows.
//!
//! There is no browser and nobody types a password. Who signs in is *scripted*:
//! - `/authorize` takes the pending "next sign-in" (`POST /_emulator/sign-in/next`, used once),
//!   else the user whose UPN is the `login_hint`, else the tenant's `interactiveSignIn`;
//! - a device code is approved through `POST /_emulator/device-codes/approve`, or
//!   automatically after N pending polls (`POST /_emulator/device-codes/auto-approve`, or the
//!   scenario's `deviceCodeAutoApprove`).
//!
//! The sign-in itself is judged as Entra would judge it ([`evaluate`]): unknown user
//! (AADSTS50034), disabled (50057), no MFA in a tenant that requires it (50076, as Conditional
//! Access would refuse), consent declined (65004).
//!
//! This module holds the run-time state of those flows: issued authorization codes, device
//! codes and the scripted sign-ins waiting to be used. Every expiry uses the emulator clock.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::scenario::{Scenario, Tenant, User};
use crate::sts::errors::StsError;
use crate::sts::request::Endpoint;
use crate::sts::scopes::{OidcScopes, Permissions};

/// Entra's authorization codes live about ten minutes (api-contracts §1.4).
pub fn authorization_code_lifetime() -> Duration {
    Duration::minutes(10)
}

/// Who signs in, and how. Used by the control plane, by `tenants[].interactiveSignIn` and by
/// `deviceCodeAutoApprove` (which adds `afterPolls`).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScriptedSignIn {
    pub user_id: String,
    /// Whether the user completes MFA. Absent: they do if they have MFA registered.
    #[serde(default)]
    pub mfa: Option<bool>,
    /// The user signs in but declines the consent prompt (AADSTS65004).
    #[serde(default)]
    pub decline: bool,
}

/// `deviceCodeAutoApprove` / `POST /_emulator/device-codes/auto-approve`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AutoApprove {
    /// Pending polls answered before the approval happens (0: approved at once).
    #[serde(default)]
    pub after_polls: u32,
    pub user_id: String,
    #[serde(default)]
    pub mfa: Option<bool>,
    #[serde(default)]
    pub decline: bool,
}

impl AutoApprove {
    pub fn sign_in(&self) -> ScriptedSignIn {
        ScriptedSignIn {
            user_id: self.user_id.clone(),
            mfa: self.mfa,
            decline: self.decline,
        }
    }
}

/// A successful scripted sign-in.
#[derive(Debug, Clone, Copy)]
pub struct SignedIn<'s> {
    pub tenant: &'s Tenant,
    pub user: &'s User,
    pub mfa: bool,
}

/// Judges a scripted sign-in as Entra would. `tenant` is the tenant the flow runs in (`None`
/// on `common`/`organizations`: the user's own tenant then). `resource_app_id` names the
/// resource in the MFA error message.
pub fn evaluate<'s>(
    scenario: &'s Scenario,
    tenant: Option<&'s Tenant>,
    script: &ScriptedSignIn,
    resource_app_id: &str,
) -> Result<SignedIn<'s>, StsError> {
    let found = match tenant {
        Some(t) => t.user(&script.user_id).map(|u| (t, u)),
        None => scenario
            .tenants
            .iter()
            .find_map(|t| t.user(&script.user_id).map(|u| (t, u))),
    };
    let Some((tenant, user)) = found else {
        let label = tenant.map_or("organizations", |t| t.default_domain());
        return Err(StsError::user_not_found(&script.user_id, label));
    };
    if !user.account_enabled {
        return Err(StsError::user_disabled());
    }
    let mfa = script.mfa.unwrap_or(user.mfa_registered);
    if tenant.require_mfa && !mfa {
        // Conditional Access / security defaults: the sign-in needed MFA and did not get it.
        return Err(StsError::mfa_required(
            "interaction_required",
            resource_app_id,
        ));
    }
    if script.decline {
        return Err(StsError::user_declined_consent());
    }
    Ok(SignedIn { tenant, user, mfa })
}

/// The resource a flow asked for, owned (the scenario's `Resource` is found again by app id).
#[derive(Debug, Clone)]
pub struct RequestedResource {
    pub app_id: String,
    /// The identifier as the client sent it (becomes `aud`).
    pub audience: String,
    pub permissions: Permissions,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeMethod {
    S256,
    Plain,
}

#[derive(Debug, Clone)]
pub struct AuthorizationCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub tenant_id: String,
    pub user_id: String,
    pub mfa: bool,
    /// `None` when the request named no resource (v1 without `resource`, v2 with only OIDC
    /// scopes); the redemption must then name one (or gets Graph on v2).
    pub resource: Option<RequestedResource>,
    pub oidc: OidcScopes,
    pub code_challenge: Option<(String, ChallengeMethod)>,
    pub nonce: Option<String>,
    pub auth_time: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub redeemed: bool,
}

#[derive(Debug, Clone)]
pub enum DeviceCodeState {
    Pending,
    Approved {
        tenant_id: String,
        user_id: String,
        mfa: bool,
        auth_time: DateTime<Utc>,
    },
    /// The user's sign-in failed (unknown, disabled, MFA required) or they declined; the
    /// next poll reports it.
    Failed(StsError),
    Redeemed,
}

impl DeviceCodeState {
    fn label(&self) -> &'static str {
        match self {
            DeviceCodeState::Pending => "pending",
            DeviceCodeState::Approved { .. } => "approved",
            DeviceCodeState::Failed(e) if e.error == "authorization_declined" => "declined",
            DeviceCodeState::Failed(_) => "failed",
            DeviceCodeState::Redeemed => "redeemed",
        }
    }
}

#[derive(Debug, Clone)]
pub struct DeviceCode {
    pub user_code: String,
    pub client_id: String,
    /// `None` for `common` / `organizations`: the approving user's tenant decides.
    pub tenant_id: Option<String>,
    pub endpoint: Endpoint,
    pub resource: Option<RequestedResource>,
    pub oidc: OidcScopes,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub interval_seconds: u32,
    pub last_poll: Option<DateTime<Utc>>,
    pub polls: u32,
    pub pending_polls: u32,
    pub slow_downs: u32,
    pub auto_approve: Option<AutoApprove>,
    pub state: DeviceCodeState,
}

/// What `GET /_emulator/device-codes` shows (no device code values: they are credentials).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceCodeSummary {
    pub user_code: String,
    pub client_id: String,
    pub tenant_id: Option<String>,
    pub status: &'static str,
    pub error_code: Option<u32>,
    pub polls: u32,
    pub pending_polls: u32,
    pub slow_downs: u32,
    pub interval: u32,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Default)]
pub struct InteractiveStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    next_sign_in: Option<ScriptedSignIn>,
    next_auto_approve: Option<AutoApprove>,
    codes: HashMap<String, AuthorizationCode>,
    /// By device code value.
    device_codes: HashMap<String, DeviceCode>,
    /// Normalised user code -> device code value.
    user_codes: HashMap<String, String>,
}

/// User codes are compared without case, spaces or dashes (people type them).
pub fn normalise_user_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Eight characters without look-alikes (0/O, 1/I/L).
fn new_user_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    (0..8)
        .map(|_| char::from(ALPHABET[rand::random_range(0..ALPHABET.len())]))
        .collect()
}

pub enum Approval {
    Approved,
    Failed(StsError),
}

impl InteractiveStore {
    pub fn new() -> Self {
        Self::default()
    }

    // --- scripted sign-ins -------------------------------------------------------------

    pub fn set_next_sign_in(&self, script: Option<ScriptedSignIn>) {
        self.inner.lock().next_sign_in = script;
    }

    pub fn take_next_sign_in(&self) -> Option<ScriptedSignIn> {
        self.inner.lock().next_sign_in.take()
    }

    pub fn set_next_auto_approve(&self, rule: Option<AutoApprove>) {
        self.inner.lock().next_auto_approve = rule;
    }

    // --- authorization codes -----------------------------------------------------------

    pub fn store_code(&self, value: String, code: AuthorizationCode) {
        self.inner.lock().codes.insert(value, code);
    }

    pub fn code(&self, value: &str) -> Option<AuthorizationCode> {
        self.inner.lock().codes.get(value).cloned()
    }

    /// Marks a code redeemed. Returns false if it already was (a concurrent redemption won).
    pub fn redeem_code(&self, value: &str) -> bool {
        match self.inner.lock().codes.get_mut(value) {
            Some(c) if !c.redeemed => {
                c.redeemed = true;
                true
            }
            _ => false,
        }
    }

    // --- device codes ------------------------------------------------------------------

    /// Stores a new device code, attaching the pending one-shot auto-approval (or else
    /// `standing`, the scenario's rule). Returns the user code.
    pub fn store_device_code(
        &self,
        device_code: String,
        mut record: DeviceCode,
        standing: Option<&AutoApprove>,
    ) -> String {
        let mut inner = self.inner.lock();
        let user_code = loop {
            let candidate = new_user_code();
            if !inner.user_codes.contains_key(&candidate) {
                break candidate;
            }
        };
        record.user_code = user_code.clone();
        record.auto_approve = inner.next_auto_approve.take().or_else(|| standing.cloned());
        inner
            .user_codes
            .insert(user_code.clone(), device_code.clone());
        inner.device_codes.insert(device_code, record);
        user_code
    }

    /// Runs `f` on the device code (or `None`) under the store lock.
    pub fn with_device_code<R>(
        &self,
        device_code: &str,
        f: impl FnOnce(Option<&mut DeviceCode>) -> R,
    ) -> R {
        let mut inner = self.inner.lock();
        f(inner.device_codes.get_mut(device_code))
    }

    /// Runs `f` on the device code a user code names (or `None`).
    pub fn with_user_code<R>(
        &self,
        user_code: &str,
        f: impl FnOnce(Option<&mut DeviceCode>) -> R,
    ) -> R {
        let mut inner = self.inner.lock();
        let device = inner
            .user_codes
            .get(&normalise_user_code(user_code))
            .cloned();
        f(device.and_then(|d| inner.device_codes.get_mut(&d)))
    }

    pub fn device_code_summaries(&self) -> Vec<DeviceCodeSummary> {
        let inner = self.inner.lock();
        let mut list: Vec<DeviceCodeSummary> = inner
            .device_codes
            .values()
            .map(|d| DeviceCodeSummary {
                user_code: d.user_code.clone(),
                client_id: d.client_id.clone(),
                tenant_id: d.tenant_id.clone(),
                status: d.state.label(),
                error_code: match &d.state {
                    DeviceCodeState::Failed(e) => Some(e.code),
                    _ => None,
                },
                polls: d.polls,
                pending_polls: d.pending_polls,
                slow_downs: d.slow_downs,
                interval: d.interval_seconds,
                expires_at: d.expires_at,
            })
            .collect();
        list.sort_by_key(|d| d.expires_at);
        list
    }
}

/// Applies a scripted sign-in to a pending device code.
pub fn approve_device_code(
    scenario: &Scenario,
    code: &mut DeviceCode,
    script: &ScriptedSignIn,
    now: DateTime<Utc>,
) -> Approval {
    let tenant = code.tenant_id.as_deref().and_then(|t| scenario.tenant(t));
    let resource_app_id = code
        .resource
        .as_ref()
        .map(|r| r.app_id.clone())
        .unwrap_or_else(|| crate::scenario::GRAPH_APP_ID.to_owned());
    let outcome = evaluate(scenario, tenant, script, &resource_app_id).and_then(|s| {
        // Only the client's own tenant (or a tenant that has the app) can complete it.
        if s.tenant.application(&code.client_id).is_none() {
            return Err(StsError::unknown_client(
                &code.client_id,
                s.tenant.default_domain(),
            ));
        }
        Ok(s)
    });
    match outcome {
        Ok(s) => {
            code.state = DeviceCodeState::Approved {
                tenant_id: s.tenant.id.clone(),
                user_id: s.user.id.clone(),
                mfa: s.mfa,
                auth_time: now,
            };
            Approval::Approved
        }
        Err(e) => {
            // In the device flow a declined consent surfaces as `authorization_declined`.
            let e = if e.code == StsError::user_declined_consent().code {
                StsError::device_authorization_declined()
            } else {
                e
            };
            code.state = DeviceCodeState::Failed(e.clone());
            Approval::Failed(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_eight_unambiguous_characters() {
        for _ in 0..50 {
            let c = new_user_code();
            assert_eq!(c.len(), 8);
            assert!(!c.contains(['0', 'O', '1', 'I', 'L']), "{c}");
        }
        assert_eq!(normalise_user_code("abcd-12 34"), "ABCD1234");
    }
}
