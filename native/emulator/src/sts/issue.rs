//! Minting tokens once a grant has been approved, and shaping the success response for the
//! endpoint version (api-contracts §1.8, §1.9).
//!
//! Every value minted here is recorded in the ledger for the leak-detection hook.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::jwt;
use crate::refresh_tokens::RefreshTokenRecord;
use crate::scenario::{Application, Tenant};
use crate::state::Emulator;
use crate::sts::errors::StsError;
use crate::sts::request::Endpoint;
use crate::sts::scopes::{OidcScopes, ResourceScope, v2_response_scope};
use crate::tokens::{self, ClientAuthMethod, UserTokenSubject, Validity};

/// How the refresh token of a user-flow response comes about.
pub enum RefreshIssue<'a> {
    /// No refresh token in the response (v2 without `offline_access`).
    None,
    /// Rolling refresh: a new token inheriting the grant of `old`.
    Rotate {
        old: &'a str,
        record: &'a RefreshTokenRecord,
    },
    /// A fresh sign-in (password, authorization code, device code).
    Fresh { auth_time: DateTime<Utc> },
}

pub struct UserIssuance<'a> {
    pub subject: UserTokenSubject<'a>,
    pub requested: &'a ResourceScope<'a>,
    pub granted: Vec<String>,
    pub oidc: OidcScopes,
    pub id_token: bool,
    pub client_info: bool,
    pub refresh: RefreshIssue<'a>,
    /// The `nonce` of the authorization request, echoed in the ID token (OIDC).
    pub nonce: Option<&'a str>,
}

#[derive(Debug, Default)]
pub struct Issued {
    pub access_token: String,
    pub lifetime: i64,
    pub expires_on: i64,
    pub not_before: i64,
    pub resource: String,
    pub scope_v1: Option<String>,
    pub scope_v2: Option<String>,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
    pub client_info: Option<String>,
}

fn validity(st: &Emulator, now: DateTime<Utc>) -> Validity {
    let iat = now.timestamp();
    Validity {
        iat,
        exp: iat + i64::from(st.scenario.access_token_lifetime_seconds),
    }
}

fn sign(st: &Emulator, claims: &Value) -> Result<String, StsError> {
    let token =
        jwt::encode(&st.keys, claims).map_err(|_| StsError::internal("token signing failed"))?;
    st.ledger.record(&token);
    Ok(token)
}

pub fn user_tokens(
    st: &Emulator,
    now: DateTime<Utc>,
    issue: UserIssuance<'_>,
) -> Result<Issued, StsError> {
    let v = validity(st, now);
    let s = &issue.subject;
    let access_token = sign(
        st,
        &tokens::user_access_token(s, &issue.requested.audience, &issue.granted, v),
    )?;
    let id_token = if issue.id_token {
        let mut claims = tokens::id_token(s, &st.base_url, v);
        if let (Some(nonce), Some(map)) = (issue.nonce, claims.as_object_mut()) {
            map.insert("nonce".into(), json!(nonce));
        }
        Some(sign(st, &claims)?)
    } else {
        None
    };
    // A refresh token stays the user's, in their home tenant, even when it was redeemed at a
    // customer's authority: it can be redeemed again at home or at another customer.
    let next_record = |auth_time: DateTime<Utc>, consent: Option<String>| RefreshTokenRecord {
        tenant_id: s.home_tenant().id.clone(),
        client_id: s.app.app_id.clone(),
        user_id: s.user.id.clone(),
        mfa: s.mfa,
        auth_time,
        issued_at: now,
        last_used_at: now,
        resource_app_id: issue.requested.resource.app_id.clone(),
        resource_identifier: issue.requested.audience.clone(),
        consent,
    };
    let refresh_token = match issue.refresh {
        RefreshIssue::None => None,
        RefreshIssue::Rotate { old, record } => Some(st.refresh_tokens.rotate(
            old,
            next_record(record.auth_time, record.consent.clone()),
            now,
        )),
        RefreshIssue::Fresh { auth_time } => {
            Some(st.refresh_tokens.issue(next_record(auth_time, None), now))
        }
    };
    if let Some(rt) = &refresh_token {
        st.ledger.record(rt);
    }
    Ok(Issued {
        access_token,
        lifetime: v.exp - v.iat,
        expires_on: v.exp,
        not_before: v.iat,
        resource: issue.requested.audience.clone(),
        scope_v1: Some(issue.granted.join(" ")),
        scope_v2: Some(v2_response_scope(
            issue.requested,
            &issue.granted,
            issue.oidc,
        )),
        refresh_token,
        id_token,
        client_info: issue
            .client_info
            .then(|| tokens::client_info(&s.user.id, &s.home_tenant().id)),
    })
}

pub fn app_token(
    st: &Emulator,
    now: DateTime<Utc>,
    tenant: &Tenant,
    app: &Application,
    client_auth: ClientAuthMethod,
    requested: &ResourceScope<'_>,
) -> Result<Issued, StsError> {
    let v = validity(st, now);
    let roles = app.roles_for(&st.scenario, requested.resource);
    let claims = tokens::app_access_token(tenant, app, client_auth, &requested.audience, &roles, v);
    Ok(Issued {
        access_token: sign(st, &claims)?,
        lifetime: v.exp - v.iat,
        expires_on: v.exp,
        not_before: v.iat,
        resource: requested.audience.clone(),
        ..Issued::default()
    })
}

impl Issued {
    /// v2: integer lifetimes. v1: every number as a string, plus `expires_on`, `not_before`,
    /// `resource`. Client-credential responses carry no `scope` (the documented samples have
    /// none).
    pub fn render(&self, endpoint: Endpoint) -> Value {
        let mut body = Map::new();
        body.insert("token_type".into(), json!("Bearer"));
        match endpoint {
            Endpoint::V2 => {
                if let Some(scope) = &self.scope_v2 {
                    body.insert("scope".into(), json!(scope));
                }
                body.insert("expires_in".into(), json!(self.lifetime));
                body.insert("ext_expires_in".into(), json!(self.lifetime));
            }
            Endpoint::V1 => {
                if let Some(scope) = &self.scope_v1 {
                    body.insert("scope".into(), json!(scope));
                }
                body.insert("expires_in".into(), json!(self.lifetime.to_string()));
                body.insert("ext_expires_in".into(), json!(self.lifetime.to_string()));
                body.insert("expires_on".into(), json!(self.expires_on.to_string()));
                body.insert("not_before".into(), json!(self.not_before.to_string()));
                body.insert("resource".into(), json!(self.resource));
            }
        }
        body.insert("access_token".into(), json!(self.access_token));
        if let Some(rt) = &self.refresh_token {
            body.insert("refresh_token".into(), json!(rt));
        }
        if let Some(id) = &self.id_token {
            body.insert("id_token".into(), json!(id));
        }
        if let Some(ci) = &self.client_info {
            body.insert("client_info".into(), json!(ci));
        }
        Value::Object(body)
    }
}
