//! Claims of the tokens the STS mints, and the opaque values (refresh tokens, `aio`, `uti`,
//! `rh`) that go with them.
//!
//! Access tokens are v1-format for every resource (`ver` "1.0", `iss`
//! `https://sts.windows.net/{tid}/`) because Graph, Partner Center and Key Vault all accept
//! only that format (api-contracts §0, §2.2, §2.4). ID tokens are v2-shaped.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use crate::scenario::{Application, Tenant, User, UserType};

/// Namespace for deriving stable service-principal object ids from (tenant, app).
const SERVICE_PRINCIPAL_NAMESPACE: Uuid =
    Uuid::from_u128(0x6f1c_27a4_5d0e_4c55_9a31_7b2e_0c8d_4e11);

fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    rand::fill(bytes.as_mut_slice());
    bytes
}

pub fn random_b64(n_bytes: usize) -> String {
    URL_SAFE_NO_PAD.encode(random_bytes(n_bytes))
}

/// An opaque refresh token. Real ones are long base64url strings starting `0.A`/`1.A`.
pub fn new_refresh_token_value() -> String {
    format!("1.A{}", random_b64(180))
}

/// The object id of an app's service principal in a tenant: stable for a scenario, so tests
/// can predict `oid` in app-only tokens.
pub fn service_principal_id(tenant_id: &str, app_id: &str) -> String {
    let name = format!(
        "{}/{}",
        tenant_id.to_ascii_lowercase(),
        app_id.to_ascii_lowercase()
    );
    Uuid::new_v5(&SERVICE_PRINCIPAL_NAMESPACE, name.as_bytes()).to_string()
}

/// Entra's `sub` is pairwise: the same user has a different subject in each app.
pub fn pairwise_subject(user_id: &str, client_id: &str) -> String {
    let digest = Sha256::digest(format!(
        "{}|{}",
        user_id.to_ascii_lowercase(),
        client_id.to_ascii_lowercase()
    ));
    URL_SAFE_NO_PAD.encode(digest)
}

pub fn v1_issuer(tenant_id: &str) -> String {
    format!("https://sts.windows.net/{tenant_id}/")
}

pub fn v2_issuer(base_url: &str, tenant_id: &str) -> String {
    format!("{base_url}/{tenant_id}/v2.0")
}

/// The time window a token is valid for, in epoch seconds.
#[derive(Debug, Clone, Copy)]
pub struct Validity {
    pub iat: i64,
    pub exp: i64,
}

/// `appidacr` / `azpacr`: how the client proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuthMethod {
    /// Public client: no credential.
    None,
    Secret,
    Certificate,
}

impl ClientAuthMethod {
    pub fn appidacr(self) -> &'static str {
        match self {
            ClientAuthMethod::None => "0",
            ClientAuthMethod::Secret => "1",
            ClientAuthMethod::Certificate => "2",
        }
    }
}

pub struct UserTokenSubject<'a> {
    /// The tenant the token is for (`tid`).
    pub tenant: &'a Tenant,
    pub user: &'a User,
    pub app: &'a Application,
    pub client_auth: ClientAuthMethod,
    pub mfa: bool,
    /// Set when a partner user acts in a customer tenant through GDAP.
    pub foreign: Option<ForeignPrincipal<'a>>,
}

/// A partner user in a customer tenant: no user object there, so the token names the partner
/// tenant as identity provider and carries the roles the GDAP relationships grant.
pub struct ForeignPrincipal<'a> {
    pub home: &'a Tenant,
    pub roles: Vec<String>,
}

impl UserTokenSubject<'_> {
    /// The tenant the user's account (and so the refresh token) belongs to.
    pub fn home_tenant(&self) -> &Tenant {
        self.foreign.as_ref().map_or(self.tenant, |f| f.home)
    }

    fn roles(&self) -> &[String] {
        self.foreign
            .as_ref()
            .map_or(self.user.roles.as_slice(), |f| f.roles.as_slice())
    }

    /// `pwd` (+ `mfa`), or for a user of a federated domain of their home tenant `fed` with
    /// `mfa` only when Entra ID can see the MFA ([`crate::compliance::FederatedDomain::amr`]).
    pub fn amr(&self) -> Value {
        let home = self.home_tenant();
        match crate::compliance::federation_of(home, &self.user.user_principal_name) {
            Some(federation) => json!(federation.amr(self.mfa)),
            None if self.mfa => json!(["pwd", "mfa"]),
            None => json!(["pwd"]),
        }
    }

    fn idp(&self) -> String {
        match (
            &self.foreign,
            &self.user.user_type,
            &self.user.home_tenant_id,
        ) {
            (Some(foreign), _, _) => v1_issuer(&foreign.home.id),
            (None, UserType::Guest, Some(home)) => v1_issuer(home),
            _ => v1_issuer(&self.tenant.id),
        }
    }
}

/// Delegated (App+User) access token claims, shaped like the Partner Center sample in
/// api-contracts §2.4.
pub fn user_access_token(
    s: &UserTokenSubject<'_>,
    audience: &str,
    scopes: &[String],
    v: Validity,
) -> Value {
    let user = s.user;
    let mut c = Map::new();
    c.insert("aud".into(), json!(audience));
    c.insert("iss".into(), json!(v1_issuer(&s.tenant.id)));
    c.insert("iat".into(), json!(v.iat));
    c.insert("nbf".into(), json!(v.iat));
    c.insert("exp".into(), json!(v.exp));
    c.insert("acr".into(), json!("1"));
    c.insert("aio".into(), json!(random_b64(48)));
    c.insert("amr".into(), s.amr());
    c.insert("appid".into(), json!(s.app.app_id));
    c.insert("appidacr".into(), json!(s.client_auth.appidacr()));
    if let Some(surname) = &user.surname {
        c.insert("family_name".into(), json!(surname));
    }
    if let Some(given) = &user.given_name {
        c.insert("given_name".into(), json!(given));
    }
    c.insert("idp".into(), json!(s.idp()));
    c.insert("ipaddr".into(), json!("127.0.0.1"));
    c.insert("name".into(), json!(user.display_name));
    c.insert("oid".into(), json!(user.id));
    c.insert("rh".into(), json!(format!("1.A{}.", random_b64(24))));
    c.insert("scp".into(), json!(scopes.join(" ")));
    c.insert(
        "sub".into(),
        json!(pairwise_subject(&user.id, &s.app.app_id)),
    );
    c.insert("tenant_region_scope".into(), json!("NA"));
    c.insert("tid".into(), json!(s.tenant.id));
    c.insert("unique_name".into(), json!(user.user_principal_name));
    c.insert("upn".into(), json!(user.user_principal_name));
    c.insert("uti".into(), json!(random_b64(16)));
    c.insert("ver".into(), json!("1.0"));
    if !s.roles().is_empty() {
        c.insert("wids".into(), json!(s.roles()));
    }
    Value::Object(c)
}

/// App-only access token claims (client credentials), api-contracts §2.4.
pub fn app_access_token(
    tenant: &Tenant,
    app: &Application,
    client_auth: ClientAuthMethod,
    audience: &str,
    roles: &[String],
    v: Validity,
) -> Value {
    let sp = service_principal_id(&tenant.id, &app.app_id);
    let mut c = Map::new();
    c.insert("aud".into(), json!(audience));
    c.insert("iss".into(), json!(v1_issuer(&tenant.id)));
    c.insert("iat".into(), json!(v.iat));
    c.insert("nbf".into(), json!(v.iat));
    c.insert("exp".into(), json!(v.exp));
    c.insert("aio".into(), json!(random_b64(48)));
    c.insert("app_displayname".into(), json!(app.display_name));
    c.insert("appid".into(), json!(app.app_id));
    c.insert("appidacr".into(), json!(client_auth.appidacr()));
    c.insert("idp".into(), json!(v1_issuer(&tenant.id)));
    c.insert("idtyp".into(), json!("app"));
    c.insert("oid".into(), json!(sp));
    c.insert("rh".into(), json!(format!("1.A{}.", random_b64(24))));
    if !roles.is_empty() {
        c.insert("roles".into(), json!(roles));
    }
    c.insert("sub".into(), json!(sp));
    c.insert("tenant_region_scope".into(), json!("NA"));
    c.insert("tid".into(), json!(tenant.id));
    c.insert("uti".into(), json!(random_b64(16)));
    c.insert("ver".into(), json!("1.0"));
    Value::Object(c)
}

/// v2 ID token: audience is the client, issuer the emulator's v2 issuer.
pub fn id_token(s: &UserTokenSubject<'_>, base_url: &str, v: Validity) -> Value {
    json!({
        "aud": s.app.app_id,
        "iss": v2_issuer(base_url, &s.tenant.id),
        "iat": v.iat,
        "nbf": v.iat,
        "exp": v.exp,
        "amr": s.amr(),
        "name": s.user.display_name,
        "oid": s.user.id,
        "preferred_username": s.user.user_principal_name,
        "rh": format!("1.A{}.", random_b64(24)),
        "sub": pairwise_subject(&s.user.id, &s.app.app_id),
        "tid": s.tenant.id,
        "uti": random_b64(16),
        "ver": "2.0",
    })
}

/// MSAL's `client_info`: base64url of `{"uid": oid, "utid": tid}` (api-contracts §1.2).
pub fn client_info(user_id: &str, tenant_id: &str) -> String {
    let json = json!({"uid": user_id, "utid": tenant_id});
    URL_SAFE_NO_PAD.encode(json.to_string())
}
