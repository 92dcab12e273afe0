//! Azure Key Vault secrets (api-contracts §6), mounted at `/vault`: a vault named `v` lives at
//! `{base}/vault/v`, so its secrets are `{base}/vault/v/secrets/{name}[/{version}]`.
//!
//! Behaviour reproduced:
//! - the operations of §6.1 on data-plane api-version 7.x: set (every PUT makes a new version),
//!   get (latest or a given version), list secrets and list versions (at most 25 a page,
//!   `nextLink` with an opaque `$skiptoken`), update attributes (PATCH), delete;
//! - the bearer challenge of §6.2: a request without a token gets 401 with
//!   `WWW-Authenticate: Bearer authorization="{base}/{vault tenant}", resource="https://vault.azure.net"`
//!   and `AKV10000`; a token for another audience, from another tenant, expired or badly
//!   signed gets 401 with the same challenge;
//! - access policies: the token's `oid` (user or service principal) needs the operation's
//!   secret permission (`get`, `list`, `set`, `delete`), else 403 `Forbidden` with
//!   `innererror.code` `AccessDenied` and Key Vault's wording;
//! - 404 `SecretNotFound` in §6.2's words, error envelope `{"error":{"code","message"}}`.
//!
//! Deliberate simplifications (documented in the README): no soft delete (DELETE purges at
//! once, `recoveryLevel` is `Purgeable`), no RBAC, no certificate-backed secrets, `nbf`/`exp`
//! are stored but not enforced, vaults are addressed by path instead of by host name.
//!
//! Every secret value stored in a vault is recorded in the secret ledger
//! (`/_emulator/issued-tokens`), so leak scans cover them; values are never logged.

use std::collections::{BTreeMap, HashMap, HashSet};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::bearer::{self, BearerError, ValidatedToken};
use crate::ledger::SecretLedger;
use crate::scenario::Scenario;
use crate::state::AppState;
use crate::tokens::v1_issuer;

/// Azure Key Vault's first-party app id; the scenario's Key Vault resource must use it.
pub const KEY_VAULT_APP_ID: &str = "cfa8b339-82a2-471a-a3c9-0fc0be7a4093";
/// The resource named in the 401 challenge (api-contracts §6.2).
pub const KEY_VAULT_RESOURCE: &str = "https://vault.azure.net";
/// Largest page of a list operation (`maxresults` is 1..25).
pub const MAX_RESULTS: usize = 25;
/// Key Vault's limit on a secret value.
pub const MAX_VALUE_BYTES: usize = 25 * 1024;

const PERMISSIONS: &[&str] = &[
    "get", "list", "set", "delete", "backup", "restore", "recover", "purge",
];

// --- scenario -------------------------------------------------------------------------------

/// `keyVaults[]` in a scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeyVaultSpec {
    /// 3–24 characters, letters, digits and dashes, starting with a letter (Azure's rule).
    pub name: String,
    /// The tenant the vault belongs to: only its tokens are accepted.
    pub tenant_id: String,
    #[serde(default)]
    pub access_policies: Vec<AccessPolicy>,
    /// Secrets present at start-up (each becomes one version).
    #[serde(default)]
    pub secrets: Vec<SeedSecret>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessPolicy {
    /// Object id of a user (`oid` of their tokens) or of a service principal (`oid` of the
    /// app's app-only tokens).
    pub object_id: String,
    /// Secret permissions: `get`, `list`, `set`, `delete` (also `backup`, `restore`,
    /// `recover`, `purge`, accepted but unused).
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedSecret {
    pub name: String,
    pub value: String,
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub tags: Option<BTreeMap<String, String>>,
}

/// Vault name rule: 3–24 characters `[0-9a-zA-Z-]`, starting with a letter, ending with a
/// letter or digit, no `--`.
pub fn is_valid_vault_name(name: &str) -> bool {
    let b = name.as_bytes();
    (3..=24).contains(&b.len())
        && b[0].is_ascii_alphabetic()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        && !name.contains("--")
}

/// Secret name rule of the 7.4 spec: `^[0-9a-zA-Z-]+$`, 1–127 characters.
pub fn is_valid_secret_name(name: &str) -> bool {
    (1..=127).contains(&name.len()) && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
}

/// Start-up checks for `keyVaults`: names, tenants, object ids, permissions, seeded secrets.
pub fn validate(scenario: &Scenario) -> Result<(), String> {
    let mut names = HashSet::new();
    for v in &scenario.key_vaults {
        if !is_valid_vault_name(&v.name) {
            return Err(format!(
                "keyVaults: '{}' is not a valid vault name (3-24 letters, digits and dashes, starting with a letter)",
                v.name
            ));
        }
        if !names.insert(v.name.to_ascii_lowercase()) {
            return Err(format!("keyVaults: '{}' is listed twice", v.name));
        }
        if scenario
            .tenants
            .iter()
            .all(|t| !t.id.eq_ignore_ascii_case(&v.tenant_id))
        {
            return Err(format!(
                "keyVaults: vault '{}' names unknown tenantId {}",
                v.name, v.tenant_id
            ));
        }
        for p in &v.access_policies {
            if uuid::Uuid::parse_str(&p.object_id).is_err() {
                return Err(format!(
                    "keyVaults: vault '{}': objectId '{}' is not a GUID",
                    v.name, p.object_id
                ));
            }
            if let Some(bad) = p
                .permissions
                .iter()
                .find(|x| !PERMISSIONS.iter().any(|k| k.eq_ignore_ascii_case(x)))
            {
                return Err(format!(
                    "keyVaults: vault '{}': unknown secret permission '{bad}' (use {})",
                    v.name,
                    PERMISSIONS.join(", ")
                ));
            }
        }
        let mut secret_names = HashSet::new();
        for s in &v.secrets {
            if !is_valid_secret_name(&s.name) {
                return Err(format!(
                    "keyVaults: vault '{}': '{}' is not a valid secret name",
                    v.name, s.name
                ));
            }
            if !secret_names.insert(s.name.to_ascii_lowercase()) {
                return Err(format!(
                    "keyVaults: vault '{}': secret '{}' is listed twice",
                    v.name, s.name
                ));
            }
            if s.value.len() > MAX_VALUE_BYTES {
                return Err(format!(
                    "keyVaults: vault '{}': secret '{}' is larger than 25 KB",
                    v.name, s.name
                ));
            }
        }
    }
    Ok(())
}

// --- state ----------------------------------------------------------------------------------

/// The vaults of one running emulator and their secrets.
#[derive(Debug, Default)]
pub struct VaultStore {
    vaults: Mutex<HashMap<String, Vault>>,
}

#[derive(Debug, Clone)]
struct Vault {
    name: String,
    tenant_id: String,
    policies: Vec<AccessPolicy>,
    /// Lower-case secret name → secret (Key Vault names are case-insensitive).
    secrets: BTreeMap<String, StoredSecret>,
}

#[derive(Debug, Clone)]
struct StoredSecret {
    /// The name as first written.
    name: String,
    /// Oldest first; the last one is the current version.
    versions: Vec<SecretVersion>,
}

#[derive(Debug, Clone)]
struct SecretVersion {
    version: String,
    value: String,
    content_type: Option<String>,
    tags: Option<BTreeMap<String, String>>,
    enabled: bool,
    nbf: Option<i64>,
    exp: Option<i64>,
    created: i64,
    updated: i64,
}

impl VaultStore {
    /// Loads the scenario's vaults; seeded secret values go into the ledger.
    pub fn new(scenario: &Scenario, ledger: &SecretLedger) -> Self {
        let now = scenario.loaded_at.timestamp();
        let mut vaults = HashMap::new();
        for spec in &scenario.key_vaults {
            let mut vault = Vault {
                name: spec.name.clone(),
                tenant_id: spec.tenant_id.clone(),
                policies: spec.access_policies.clone(),
                secrets: BTreeMap::new(),
            };
            for s in &spec.secrets {
                ledger.record(&s.value);
                vault.set(
                    &s.name,
                    SetParameters {
                        value: s.value.clone(),
                        content_type: s.content_type.clone(),
                        tags: s.tags.clone(),
                        attributes: None,
                    },
                    now,
                );
            }
            vaults.insert(spec.name.to_ascii_lowercase(), vault);
        }
        Self {
            vaults: Mutex::new(vaults),
        }
    }

    /// Names of the secrets in a vault (for tests and diagnostics; never values).
    pub fn secret_names(&self, vault: &str) -> Vec<String> {
        self.vaults
            .lock()
            .get(&vault.to_ascii_lowercase())
            .map(|v| v.secrets.values().map(|s| s.name.clone()).collect())
            .unwrap_or_default()
    }
}

impl Vault {
    fn set(&mut self, name: &str, p: SetParameters, now: i64) -> SecretVersion {
        let attributes = p.attributes.unwrap_or_default();
        let version = SecretVersion {
            version: uuid::Uuid::new_v4().simple().to_string(),
            value: p.value,
            content_type: p.content_type,
            tags: p.tags,
            enabled: attributes.enabled.unwrap_or(true),
            nbf: attributes.nbf,
            exp: attributes.exp,
            created: now,
            updated: now,
        };
        let entry = self
            .secrets
            .entry(name.to_ascii_lowercase())
            .or_insert_with(|| StoredSecret {
                name: name.to_owned(),
                versions: Vec::new(),
            });
        entry.versions.push(version.clone());
        version
    }

    fn allows(&self, object_id: &str, permission: Permission) -> bool {
        self.policies.iter().any(|p| {
            p.object_id.eq_ignore_ascii_case(object_id)
                && p.permissions
                    .iter()
                    .any(|x| x.eq_ignore_ascii_case(permission.as_str()))
        })
    }
}

// --- wire types -----------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SetParameters {
    value: String,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    tags: Option<BTreeMap<String, String>>,
    #[serde(default)]
    attributes: Option<Attributes>,
}

#[derive(Debug, Default, Deserialize)]
struct Attributes {
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    nbf: Option<i64>,
    #[serde(default)]
    exp: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateParameters {
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    tags: Option<BTreeMap<String, String>>,
    #[serde(default)]
    attributes: Option<Attributes>,
}

#[derive(Debug, Clone, Copy)]
enum Permission {
    Get,
    List,
    Set,
    Delete,
}

impl Permission {
    fn as_str(self) -> &'static str {
        match self {
            Permission::Get => "get",
            Permission::List => "list",
            Permission::Set => "set",
            Permission::Delete => "delete",
        }
    }
}

// --- router ---------------------------------------------------------------------------------

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/{vault}/secrets", get(list_secrets))
        .route(
            "/{vault}/secrets/{name}",
            get(get_latest)
                .put(set_secret)
                .delete(delete_secret)
                .patch(update_latest),
        )
        .route(
            "/{vault}/secrets/{name}/",
            get(get_latest).patch(update_latest),
        )
        .route("/{vault}/secrets/{name}/versions", get(list_versions))
        .route(
            "/{vault}/secrets/{name}/{version}",
            get(get_version).patch(update_version),
        )
        .fallback(not_found)
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let mut response = (
        status,
        Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

fn ok(body: Value) -> Response {
    let mut response = Json(body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "NotFound",
        "The requested resource was not found. Key Vault secrets live at /vault/{vaultName}/secrets.",
    )
}

fn challenge_header(st: &AppState, tenant_id: &str) -> HeaderValue {
    let value = format!(
        "Bearer authorization=\"{}/{}\", resource=\"{}\"",
        st.base_url, tenant_id, KEY_VAULT_RESOURCE
    );
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("Bearer"))
}

fn unauthorized(st: &AppState, vault: &Vault, message: &str) -> Response {
    let mut response = error(StatusCode::UNAUTHORIZED, "Unauthorized", message);
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        challenge_header(st, &vault.tenant_id),
    );
    response
}

/// What every request goes through before its operation: the vault exists, a valid token for
/// Key Vault from the vault's tenant, `api-version` 7.x, a valid secret name, the permission.
struct Authorized {
    vault_key: String,
    vault_base: String,
}

#[allow(clippy::result_large_err)]
fn authorize(
    st: &AppState,
    vault_name: &str,
    headers: &HeaderMap,
    query: &[(String, String)],
    secret_name: Option<&str>,
    permission: Permission,
) -> Result<Authorized, Response> {
    let vault_key = vault_name.to_ascii_lowercase();
    let vault = st.key_vaults.vaults.lock().get(&vault_key).cloned();
    let Some(vault) = vault else {
        // A real client would fail to resolve `{name}.vault.azure.net`; the emulator has no
        // DNS, so it says so in Key Vault's envelope.
        return Err(error(
            StatusCode::NOT_FOUND,
            "VaultNotFound",
            &format!("No key vault named '{vault_name}' exists in this emulator."),
        ));
    };
    let token = match bearer::validate(st, headers, KEY_VAULT_APP_ID) {
        Ok(token) => token,
        Err(e) => return Err(unauthorized(st, &vault, &bearer_message(&e, headers))),
    };
    if !token.tenant_id().eq_ignore_ascii_case(&vault.tenant_id) {
        let message = format!(
            "AKV10032: Invalid issuer. Expected one of {}, found {}.",
            v1_issuer(&vault.tenant_id),
            v1_issuer(token.tenant_id())
        );
        return Err(unauthorized(st, &vault, &message));
    }
    check_api_version(query)?;
    if let Some(name) = secret_name
        && !is_valid_secret_name(name)
    {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "BadParameter",
            &format!(
                "The request URI contains an invalid name: {}. Secret names are 1-127 letters, digits and dashes.",
                truncate(name, 140)
            ),
        ));
    }
    if !vault.allows(token.object_id(), permission) {
        tracing::info!(vault = %vault.name, permission = permission.as_str(), "key vault access denied");
        return Err(forbidden(&vault, &token, permission));
    }
    Ok(Authorized {
        vault_key,
        vault_base: format!("{}/vault/{}", st.base_url, vault.name),
    })
}

fn forbidden(vault: &Vault, token: &ValidatedToken, permission: Permission) -> Response {
    let appid = token
        .claims
        .get("appid")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let message = format!(
        "The user, group or application 'appid={appid};oid={};iss={}' does not have secrets {} permission on key vault '{};location=local'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287",
        token.object_id(),
        v1_issuer(token.tenant_id()),
        permission.as_str(),
        vault.name
    );
    let body = json!({"error": {"code": "Forbidden", "message": message, "innererror": {"code": "AccessDenied"}}});
    let mut response = (StatusCode::FORBIDDEN, Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

fn bearer_message(e: &BearerError, headers: &HeaderMap) -> String {
    match e {
        BearerError::Missing => "AKV10000: Request is missing a Bearer or PoP token.".to_owned(),
        BearerError::WrongAudience => {
            let found = token_audience(headers).unwrap_or_default();
            format!("AKV10022: Invalid audience. Expected {KEY_VAULT_RESOURCE}, found: {found}.")
        }
        BearerError::Expired => "AKV10020: Token is expired.".to_owned(),
        BearerError::NotYetValid => "AKV10020: Token is not yet valid.".to_owned(),
        BearerError::Malformed | BearerError::BadSignature => {
            "AKV10021: Invalid token: the signature or format could not be validated.".to_owned()
        }
        BearerError::WrongIssuer => "AKV10032: Invalid issuer.".to_owned(),
    }
}

/// The `aud` of a presented token, read without verification, for the 401 message only.
fn token_audience(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value.split_once(' ')?.1.trim();
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims
        .get("aud")
        .and_then(Value::as_str)
        .map(|a| truncate(a, 200))
}

#[allow(clippy::result_large_err)]
fn check_api_version(query: &[(String, String)]) -> Result<(), Response> {
    let Some((_, version)) = query.iter().find(|(k, _)| k == "api-version") else {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "BadParameter",
            "The 'api-version' query parameter is missing. Use api-version=7.4.",
        ));
    };
    let supported = version.strip_prefix("7.").is_some_and(|rest| {
        let minor = rest.split('-').next().unwrap_or_default();
        !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit())
    });
    if !supported {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "BadParameter",
            &format!(
                "The specified version ({}) is not recognized. Consider using the latest supported version (7.4).",
                truncate(version, 40)
            ),
        ));
    }
    Ok(())
}

fn parse_query(raw: Option<String>) -> Vec<(String, String)> {
    raw.and_then(|q| serde_urlencoded::from_str(&q).ok())
        .unwrap_or_default()
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

fn secret_not_found(name: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "SecretNotFound",
        &format!(
            "A secret with (name/id) {name} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"
        ),
    )
}

fn attributes_json(v: &SecretVersion) -> Value {
    let mut a = Map::new();
    a.insert("enabled".into(), json!(v.enabled));
    if let Some(nbf) = v.nbf {
        a.insert("nbf".into(), json!(nbf));
    }
    if let Some(exp) = v.exp {
        a.insert("exp".into(), json!(exp));
    }
    a.insert("created".into(), json!(v.created));
    a.insert("updated".into(), json!(v.updated));
    a.insert("recoveryLevel".into(), json!("Purgeable"));
    Value::Object(a)
}

/// A `SecretBundle` (with the value) or a `SecretItem` (without).
fn bundle(id: String, v: &SecretVersion, with_value: bool) -> Value {
    let mut b = Map::new();
    if with_value {
        b.insert("value".into(), json!(v.value));
    }
    b.insert("id".into(), json!(id));
    if let Some(ct) = &v.content_type {
        b.insert("contentType".into(), json!(ct));
    }
    b.insert("attributes".into(), attributes_json(v));
    if let Some(tags) = &v.tags {
        b.insert("tags".into(), json!(tags));
    }
    Value::Object(b)
}

// --- handlers -------------------------------------------------------------------------------

async fn set_secret(
    State(st): State<AppState>,
    Path((vault, name)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query = parse_query(query);
    let auth = match authorize(&st, &vault, &headers, &query, Some(&name), Permission::Set) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let params: SetParameters = match serde_json::from_slice(&body) {
        Ok(p) => p,
        Err(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "BadParameter",
                "The request body must be JSON with a string property 'value' (SecretSetParameters).",
            );
        }
    };
    if params.value.len() > MAX_VALUE_BYTES {
        return error(
            StatusCode::BAD_REQUEST,
            "BadParameter",
            "The secret value is larger than the 25 KB Key Vault allows.",
        );
    }
    st.ledger.record(&params.value);
    let now = st.clock.now_epoch();
    let mut vaults = st.key_vaults.vaults.lock();
    let Some(v) = vaults.get_mut(&auth.vault_key) else {
        return not_found_vault(&vault);
    };
    let stored = v.set(&name, params, now);
    let shown = v
        .secrets
        .get(&name.to_ascii_lowercase())
        .map(|s| s.name.clone())
        .unwrap_or(name);
    tracing::info!(vault = %v.name, secret = %shown, "key vault secret set (new version)");
    ok(bundle(
        format!("{}/secrets/{}/{}", auth.vault_base, shown, stored.version),
        &stored,
        true,
    ))
}

fn not_found_vault(vault: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "VaultNotFound",
        &format!("No key vault named '{vault}' exists in this emulator."),
    )
}

async fn get_latest(
    State(st): State<AppState>,
    Path((vault, name)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    get_secret(st, vault, name, None, query, headers)
}

async fn get_version(
    State(st): State<AppState>,
    Path((vault, name, version)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    get_secret(st, vault, name, Some(version), query, headers)
}

fn get_secret(
    st: AppState,
    vault: String,
    name: String,
    version: Option<String>,
    query: Option<String>,
    headers: HeaderMap,
) -> Response {
    let query = parse_query(query);
    let auth = match authorize(&st, &vault, &headers, &query, Some(&name), Permission::Get) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let vaults = st.key_vaults.vaults.lock();
    let Some(v) = vaults.get(&auth.vault_key) else {
        return not_found_vault(&vault);
    };
    let Some(secret) = v.secrets.get(&name.to_ascii_lowercase()) else {
        return secret_not_found(&name);
    };
    let found = match &version {
        None => secret.versions.last(),
        Some(wanted) => secret
            .versions
            .iter()
            .find(|x| x.version.eq_ignore_ascii_case(wanted)),
    };
    let Some(found) = found else {
        return secret_not_found(&format!("{name}/{}", version.unwrap_or_default()));
    };
    if !found.enabled {
        let body = json!({"error": {"code": "Forbidden", "message": "Operation get is not allowed on a disabled secret.", "innererror": {"code": "SecretDisabled"}}});
        return (StatusCode::FORBIDDEN, Json(body)).into_response();
    }
    ok(bundle(
        format!(
            "{}/secrets/{}/{}",
            auth.vault_base, secret.name, found.version
        ),
        found,
        true,
    ))
}

async fn update_latest(
    State(st): State<AppState>,
    Path((vault, name)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    update(st, vault, name, None, query, headers, body)
}

async fn update_version(
    State(st): State<AppState>,
    Path((vault, name, version)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    update(st, vault, name, Some(version), query, headers, body)
}

fn update(
    st: AppState,
    vault: String,
    name: String,
    version: Option<String>,
    query: Option<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query = parse_query(query);
    let auth = match authorize(&st, &vault, &headers, &query, Some(&name), Permission::Set) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let params: UpdateParameters = match serde_json::from_slice(&body) {
        Ok(p) => p,
        Err(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "BadParameter",
                "The request body must be JSON (SecretUpdateParameters: contentType, attributes, tags).",
            );
        }
    };
    let now = st.clock.now_epoch();
    let mut vaults = st.key_vaults.vaults.lock();
    let Some(v) = vaults.get_mut(&auth.vault_key) else {
        return not_found_vault(&vault);
    };
    let Some(secret) = v.secrets.get_mut(&name.to_ascii_lowercase()) else {
        return secret_not_found(&name);
    };
    let display = secret.name.clone();
    let found = match &version {
        None => secret.versions.last_mut(),
        Some(wanted) => secret
            .versions
            .iter_mut()
            .find(|x| x.version.eq_ignore_ascii_case(wanted)),
    };
    let Some(found) = found else {
        return secret_not_found(&format!("{name}/{}", version.unwrap_or_default()));
    };
    if let Some(ct) = params.content_type {
        found.content_type = Some(ct);
    }
    if let Some(tags) = params.tags {
        found.tags = Some(tags);
    }
    if let Some(a) = params.attributes {
        if let Some(enabled) = a.enabled {
            found.enabled = enabled;
        }
        if a.nbf.is_some() {
            found.nbf = a.nbf;
        }
        if a.exp.is_some() {
            found.exp = a.exp;
        }
    }
    found.updated = now;
    // UpdateSecret answers the bundle without the value.
    ok(bundle(
        format!("{}/secrets/{}/{}", auth.vault_base, display, found.version),
        found,
        false,
    ))
}

async fn delete_secret(
    State(st): State<AppState>,
    Path((vault, name)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let query = parse_query(query);
    let auth = match authorize(
        &st,
        &vault,
        &headers,
        &query,
        Some(&name),
        Permission::Delete,
    ) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let now = st.clock.now_epoch();
    let mut vaults = st.key_vaults.vaults.lock();
    let Some(v) = vaults.get_mut(&auth.vault_key) else {
        return not_found_vault(&vault);
    };
    let Some(secret) = v.secrets.remove(&name.to_ascii_lowercase()) else {
        return secret_not_found(&name);
    };
    tracing::info!(vault = %v.name, secret = %secret.name, "key vault secret deleted (purged: no soft delete)");
    let Some(latest) = secret.versions.last() else {
        return secret_not_found(&name);
    };
    // DeletedSecretBundle without recoveryId / scheduledPurgeDate: the emulator behaves like a
    // vault without soft delete, so the secret is gone at once.
    let mut body = bundle(
        format!(
            "{}/secrets/{}/{}",
            auth.vault_base, secret.name, latest.version
        ),
        latest,
        false,
    );
    if let Value::Object(map) = &mut body {
        map.insert("deletedDate".into(), json!(now));
    }
    ok(body)
}

/// Opaque paging cursor: base64url of `{"NextMarker": <position>}`.
fn skip_token(marker: &str) -> String {
    URL_SAFE_NO_PAD.encode(json!({"NextMarker": marker, "TargetLocation": 0}).to_string())
}

fn read_skip_token(token: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v.get("NextMarker")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// `maxresults` (1..25, default 25) and the `$skiptoken` marker.
#[allow(clippy::result_large_err)]
fn paging(query: &[(String, String)]) -> Result<(usize, Option<String>), Response> {
    let max = match query.iter().find(|(k, _)| k == "maxresults") {
        None => MAX_RESULTS,
        Some((_, v)) => match v.parse::<usize>() {
            Ok(n) if (1..=MAX_RESULTS).contains(&n) => n,
            _ => {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    "BadParameter",
                    "The value of the maxresults parameter must be an integer between 1 and 25.",
                ));
            }
        },
    };
    let marker = match query.iter().find(|(k, _)| k == "$skiptoken") {
        None => None,
        Some((_, t)) => match read_skip_token(t) {
            Some(m) => Some(m),
            None => {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    "BadParameter",
                    "The $skiptoken is not valid. Use the nextLink of the previous page unchanged.",
                ));
            }
        },
    };
    Ok((max, marker))
}

fn next_link(base: &str, path: &str, marker: &str, max: usize) -> String {
    format!(
        "{base}/{path}?api-version=7.4&$skiptoken={}&maxresults={max}",
        skip_token(marker)
    )
}

async fn list_secrets(
    State(st): State<AppState>,
    Path(vault): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let query = parse_query(query);
    let auth = match authorize(&st, &vault, &headers, &query, None, Permission::List) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let (max, marker) = match paging(&query) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let vaults = st.key_vaults.vaults.lock();
    let Some(v) = vaults.get(&auth.vault_key) else {
        return not_found_vault(&vault);
    };
    // Sorted by lower-case name; the marker is the last name of the previous page.
    let remaining: Vec<(&String, &StoredSecret)> = v
        .secrets
        .iter()
        .filter(|(key, _)| marker.as_ref().is_none_or(|m| key.as_str() > m.as_str()))
        .collect();
    let page: Vec<Value> = remaining
        .iter()
        .take(max)
        .filter_map(|(_, s)| {
            s.versions.last().map(|latest| {
                bundle(
                    format!("{}/secrets/{}", auth.vault_base, s.name),
                    latest,
                    false,
                )
            })
        })
        .collect();
    let next = (remaining.len() > max)
        .then(|| {
            remaining
                .get(max - 1)
                .map(|(k, _)| next_link(&auth.vault_base, "secrets", k, max))
        })
        .flatten();
    ok(json!({"value": page, "nextLink": next}))
}

async fn list_versions(
    State(st): State<AppState>,
    Path((vault, name)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let query = parse_query(query);
    let auth = match authorize(&st, &vault, &headers, &query, Some(&name), Permission::List) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let (max, marker) = match paging(&query) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let start = match marker.as_deref().map(str::parse::<usize>) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            return error(
                StatusCode::BAD_REQUEST,
                "BadParameter",
                "The $skiptoken is not valid. Use the nextLink of the previous page unchanged.",
            );
        }
    };
    let vaults = st.key_vaults.vaults.lock();
    let Some(v) = vaults.get(&auth.vault_key) else {
        return not_found_vault(&vault);
    };
    let Some(secret) = v.secrets.get(&name.to_ascii_lowercase()) else {
        return secret_not_found(&name);
    };
    let page: Vec<Value> = secret
        .versions
        .iter()
        .skip(start)
        .take(max)
        .map(|x| {
            bundle(
                format!("{}/secrets/{}/{}", auth.vault_base, secret.name, x.version),
                x,
                false,
            )
        })
        .collect();
    let end = start + page.len();
    let next = (end < secret.versions.len()).then(|| {
        next_link(
            &auth.vault_base,
            &format!("secrets/{}/versions", secret.name),
            &end.to_string(),
            max,
        )
    });
    ok(json!({"value": page, "nextLink": next}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["abc", "contoso-csp-sam", "a1-b2"] {
            assert!(is_valid_vault_name(ok), "{ok}");
        }
        for bad in ["ab", "1abc", "abc-", "a--b", "a_b", &"a".repeat(25)] {
            assert!(!is_valid_vault_name(bad), "{bad}");
        }
        assert!(is_valid_secret_name("contoso-refresh-token-1"));
        assert!(is_valid_secret_name(&"a".repeat(127)));
        for bad in ["", "a b", "a_b", "a.b", &"a".repeat(128), "é"] {
            assert!(!is_valid_secret_name(bad), "{bad}");
        }
    }

    #[test]
    fn skip_tokens_round_trip_and_garbage_is_refused() {
        assert_eq!(read_skip_token(&skip_token("abc")).as_deref(), Some("abc"));
        assert_eq!(read_skip_token("!!!"), None);
        assert_eq!(read_skip_token(&URL_SAFE_NO_PAD.encode("[1]")), None);
    }
}
