//! Scenario files: the resource APIs, tenants, users, app registrations and past consents the
//! emulator serves. The schema is documented in `native/emulator/README.md`; the demo lives in
//! `native/emulator/scenarios/demo.json`.
//!
//! Loading does three things beyond deserialising: it replaces the literal `{base}` in every
//! string with the emulator's real base URL (known only after binding), it resolves relative
//! times such as `"-7d"` against the start-up clock, and it validates cross references so a
//! typo in a test scenario fails at start-up instead of as a puzzling AADSTS error later.

use std::collections::{BTreeMap, HashSet};
use std::sync::LazyLock;

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::Value;

/// Microsoft Graph's first-party app id. Entra treats a bare scope such as `User.Read` as a
/// Graph permission, so the STS needs to find Graph without a URI.
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// Midpoint-ish of Entra's randomised 60–90 minute default access-token lifetime.
pub const DEFAULT_ACCESS_TOKEN_LIFETIME_SECONDS: u32 = 3900;

/// The error code Partner Center's MFA enforcement reports in the JSON body of its
/// "401 Unauthorized - MFA required" (api-contracts §5.4; the code is third-party reported).
pub const DEFAULT_PC_MFA_ERROR_CODE: &str = "900421";

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("not a valid scenario document")]
    Json(#[from] serde_json::Error),
    #[error("at {path}")]
    Field {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{0}")]
    Invalid(String),
}

fn invalid(msg: impl Into<String>) -> ScenarioError {
    ScenarioError::Invalid(msg.into())
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Scenario {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub resources: Vec<Resource>,
    pub tenants: Vec<Tenant>,
    #[serde(default = "default_lifetime")]
    pub access_token_lifetime_seconds: u32,
    #[serde(default)]
    pub partner_center: PartnerCenterSettings,
    /// Graph behaviour: sign-in report throttle, page latency (`signins`).
    #[serde(default)]
    pub graph: crate::signins::GraphSettings,
    /// Random fault injection on the data endpoints (`faults`).
    #[serde(default)]
    pub faults: Option<crate::faults::FaultSpec>,
    /// Device-code flow: lifetime of a code and the polling interval clients are told to use.
    #[serde(default = "default_device_code_lifetime")]
    pub device_code_lifetime_seconds: u32,
    #[serde(default = "default_device_code_interval")]
    pub device_code_poll_interval_seconds: u32,
    /// Approves every device code after N pending polls (a one-shot control-plane rule wins).
    #[serde(default)]
    pub device_code_auto_approve: Option<crate::interactive::AutoApprove>,
    /// Azure Key Vault vaults, their access policies and secrets (`key_vault`).
    #[serde(default)]
    pub key_vaults: Vec<crate::key_vault::KeyVaultSpec>,
    /// When the scenario was loaded; relative times (`"-7d"`) are resolved against it.
    #[serde(skip)]
    pub loaded_at: DateTime<Utc>,
}

fn default_lifetime() -> u32 {
    DEFAULT_ACCESS_TOKEN_LIFETIME_SECONDS
}

fn default_device_code_lifetime() -> u32 {
    900
}

fn default_device_code_interval() -> u32 {
    5
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PartnerCenterSettings {
    /// `code` in the JSON body of the MFA-required 401.
    #[serde(default = "default_pc_mfa_code")]
    pub mfa_required_error_code: String,
}

impl Default for PartnerCenterSettings {
    fn default() -> Self {
        Self {
            mfa_required_error_code: default_pc_mfa_code(),
        }
    }
}

fn default_pc_mfa_code() -> String {
    DEFAULT_PC_MFA_ERROR_CODE.to_owned()
}

/// A resource API whose tokens the STS issues (Graph, Partner Center, Key Vault, ...).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Resource {
    pub app_id: String,
    pub display_name: String,
    /// Every string a client may send as v1 `resource` or as the prefix of a v2 scope.
    #[serde(default)]
    pub identifier_uris: Vec<String>,
    #[serde(default)]
    pub delegated_scopes: Vec<String>,
    #[serde(default)]
    pub app_roles: Vec<String>,
}

impl Resource {
    /// Whether `candidate` names this resource (an identifier URI or the app id). Entra accepts
    /// a trailing slash and compares case-insensitively.
    pub fn is_named_by(&self, candidate: &str) -> bool {
        let wanted = candidate.trim_end_matches('/');
        self.app_id.eq_ignore_ascii_case(wanted)
            || self
                .identifier_uris
                .iter()
                .any(|uri| uri.trim_end_matches('/').eq_ignore_ascii_case(wanted))
    }

    pub fn is_graph(&self) -> bool {
        self.app_id.eq_ignore_ascii_case(GRAPH_APP_ID)
    }

    pub fn has_delegated_scope(&self, scope: &str) -> bool {
        self.delegated_scopes
            .iter()
            .any(|s| s.eq_ignore_ascii_case(scope))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Tenant {
    pub id: String,
    pub domains: Vec<String>,
    pub display_name: String,
    #[serde(default = "default_country")]
    pub country_code: String,
    #[serde(default = "default_culture")]
    pub culture: String,
    /// Conditional-Access / security-defaults style: user sign-ins that did not do MFA are
    /// refused (ROPC always; scripted interactive sign-ins without MFA).
    #[serde(default)]
    pub require_mfa: bool,
    /// Conditional Access on refresh: redeeming a refresh token whose sign-in did not do MFA
    /// fails with AADSTS50076 `interaction_required`.
    #[serde(default)]
    pub require_mfa_for_refresh_tokens: bool,
    /// Who signs in at `/authorize` when no `/_emulator/sign-in/next` is pending and no
    /// `login_hint` names a user.
    #[serde(default)]
    pub interactive_sign_in: Option<crate::interactive::ScriptedSignIn>,
    /// Contact e-mail for the Partner Center organization profile; defaults to
    /// `admin@<first domain>`.
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub users: Vec<User>,
    /// App registrations whose home is this tenant.
    #[serde(default)]
    pub applications: Vec<Application>,
    /// Multi-tenant apps registered in another tenant and consented to here. Loading adds each
    /// to `applications` as a view of the home registration (`Application::home_tenant_id`):
    /// the credentials stay the home registration's, the permissions are this tenant's consent.
    #[serde(default)]
    pub service_principals: Vec<ServicePrincipal>,
    #[serde(default)]
    pub consents: Vec<Consent>,
    /// GDAP relationships of a partner tenant with its customers (`gdap`).
    #[serde(default)]
    pub delegated_admin_relationships: Vec<crate::gdap::DelegatedAdminRelationship>,
    /// SKU part numbers (`AAD_PREMIUM`, `SPE_E5`, ...): Entra ID P1/P2 gates the sign-in logs.
    #[serde(default)]
    pub licenses: Vec<String>,
    /// Literal and generated sign-ins (`signins`).
    #[serde(default)]
    pub sign_ins: Option<crate::signins::SignInsSpec>,
    /// Security posture for the compliance endpoints (`compliance`).
    #[serde(default)]
    pub compliance: Option<crate::compliance::ComplianceSpec>,
}

fn default_country() -> String {
    "US".to_owned()
}

fn default_culture() -> String {
    "en-US".to_owned()
}

impl Tenant {
    pub fn default_domain(&self) -> &str {
        self.domains
            .first()
            .map(String::as_str)
            .unwrap_or(self.id.as_str())
    }

    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id.eq_ignore_ascii_case(id))
    }

    pub fn user_by_upn(&self, upn: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.user_principal_name.eq_ignore_ascii_case(upn))
    }

    /// The app registration (or well-known first-party public client) `client_id` names in
    /// this tenant. A listed app wins over the built-in well-known entry, so a scenario can
    /// override, say, the Azure CLI's permissions.
    pub fn application(&self, client_id: &str) -> Option<&Application> {
        self.applications
            .iter()
            .find(|a| a.app_id.eq_ignore_ascii_case(client_id))
            .or_else(|| {
                WELL_KNOWN_PUBLIC_CLIENTS
                    .iter()
                    .find(|a| a.app_id.eq_ignore_ascii_case(client_id))
            })
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub enum UserType {
    Member,
    Guest,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct User {
    pub id: String,
    pub user_principal_name: String,
    pub display_name: String,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub surname: Option<String>,
    #[serde(default)]
    pub mail: Option<String>,
    #[serde(default = "default_user_type")]
    pub user_type: UserType,
    /// For guests: the tenant that authenticates them (becomes `idp` in their tokens).
    #[serde(default)]
    pub home_tenant_id: Option<String>,
    #[serde(default)]
    pub mfa_registered: bool,
    /// Only needed for the password (ROPC) grant.
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default = "yes")]
    pub account_enabled: bool,
    /// Directory role template ids (become `wids`).
    #[serde(default)]
    pub roles: Vec<String>,
}

fn default_user_type() -> UserType {
    UserType::Member
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Application {
    pub app_id: String,
    pub display_name: String,
    #[serde(default)]
    pub public_client: bool,
    #[serde(default = "default_audience")]
    pub sign_in_audience: String,
    #[serde(default)]
    pub secrets: Vec<ClientSecret>,
    #[serde(default)]
    pub certificates: Vec<ClientCertificate>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Application permissions (app roles), keyed by any identifier of the resource.
    #[serde(default)]
    pub application_permissions: BTreeMap<String, Vec<String>>,
    /// Delegated permissions the tenant consented to, keyed by any identifier of the resource.
    #[serde(default)]
    pub delegated_permissions: BTreeMap<String, Vec<String>>,
    /// Built-in first-party clients are pre-authorised for every delegated scope of every
    /// resource, as Microsoft's own tools are. Never set from a file.
    #[serde(skip)]
    pub first_party: bool,
    /// `None`: registered in the tenant that lists it. `Some(home)`: a service principal of an
    /// app registered in `home`, whose credentials are checked against that registration.
    #[serde(skip)]
    pub home_tenant_id: Option<String>,
}

/// A multi-tenant app's presence in a tenant other than its home: what this tenant consented to.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServicePrincipal {
    pub app_id: String,
    /// Admin consent to application permissions, keyed by any identifier of the resource.
    #[serde(default)]
    pub application_permissions: BTreeMap<String, Vec<String>>,
    /// Consented delegated permissions, keyed by any identifier of the resource.
    #[serde(default)]
    pub delegated_permissions: BTreeMap<String, Vec<String>>,
}

fn default_audience() -> String {
    "AzureADMyOrg".to_owned()
}

impl Application {
    pub fn is_multi_tenant(&self) -> bool {
        self.sign_in_audience != "AzureADMyOrg"
    }

    /// Delegated permissions this app holds on `resource`, or `None` when it holds none.
    pub fn delegated_for(&self, scenario: &Scenario, resource: &Resource) -> Option<Vec<String>> {
        if self.first_party && self.delegated_permissions.is_empty() {
            return Some(resource.delegated_scopes.clone());
        }
        permissions_for(&self.delegated_permissions, scenario, resource)
    }

    /// Application permissions (roles) this app holds on `resource`.
    pub fn roles_for(&self, scenario: &Scenario, resource: &Resource) -> Vec<String> {
        permissions_for(&self.application_permissions, scenario, resource).unwrap_or_default()
    }
}

fn permissions_for(
    map: &BTreeMap<String, Vec<String>>,
    scenario: &Scenario,
    resource: &Resource,
) -> Option<Vec<String>> {
    let mut found: Option<Vec<String>> = None;
    for (key, perms) in map {
        let same = scenario
            .resource(key)
            .is_some_and(|r| r.app_id.eq_ignore_ascii_case(&resource.app_id));
        if same {
            let list = found.get_or_insert_with(Vec::new);
            for p in perms {
                if !list.iter().any(|q| q.eq_ignore_ascii_case(p)) {
                    list.push(p.clone());
                }
            }
        }
    }
    found.filter(|l| !l.is_empty())
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientSecret {
    pub id: String,
    pub value: String,
    #[serde(default)]
    pub display_name: Option<String>,
    /// Absent: never expires.
    #[serde(default)]
    pub expires_on: Option<TimeSpec>,
}

/// Certificate credential: client assertions signed with its key authenticate the app
/// (`crate::certificates`). `thumbprint` is the SHA-1 of the certificate in hex.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientCertificate {
    pub thumbprint: String,
    pub certificate_pem: String,
}

/// A user's past consent to an app, with the refresh token that sign-in produced.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Consent {
    pub name: String,
    pub client_id: String,
    pub user_id: String,
    /// Whether that sign-in did MFA; inherited by every token minted from the refresh token.
    #[serde(default)]
    pub mfa: bool,
    pub refresh_token: String,
    #[serde(default = "now_spec")]
    pub issued_at: TimeSpec,
    /// Defaults to `issuedAt`; inactivity (90 days) is measured from here.
    #[serde(default)]
    pub last_used_at: Option<TimeSpec>,
    /// The resource the original sign-in asked for; used when a redemption names none.
    /// Defaults to the first resource the app has delegated permissions on.
    #[serde(default)]
    pub resource: Option<String>,
}

fn now_spec() -> TimeSpec {
    TimeSpec::Relative(Duration::zero())
}

/// A point in time in a scenario: RFC 3339 (`"2026-11-01T00:00:00Z"`), `"now"`, or an offset
/// from start-up such as `"-7d"`, `"+730d"`, `"-89d12h"` (units d, h, m, s). Relative times
/// keep a committed scenario valid whatever day the tests run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimeSpec {
    At(DateTime<Utc>),
    Relative(Duration),
}

impl TimeSpec {
    pub fn resolve(&self, loaded_at: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            TimeSpec::At(t) => *t,
            TimeSpec::Relative(d) => loaded_at + *d,
        }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("now") {
            return Ok(now_spec());
        }
        let (sign, rest) = match text.as_bytes().first() {
            Some(b'+') => (1, &text[1..]),
            Some(b'-') => (-1, &text[1..]),
            _ => {
                return DateTime::parse_from_rfc3339(text)
                    .map(|t| TimeSpec::At(t.with_timezone(&Utc)))
                    .map_err(|e| {
                        format!("'{text}' is neither RFC 3339 nor an offset like -7d: {e}")
                    });
            }
        };
        let mut total = Duration::zero();
        let mut digits = String::new();
        for ch in rest.chars() {
            if ch.is_ascii_digit() {
                digits.push(ch);
                continue;
            }
            let n: i64 = digits.parse().map_err(|_| format!("bad offset '{text}'"))?;
            let part = match ch {
                'd' => Duration::days(n),
                'h' => Duration::hours(n),
                'm' => Duration::minutes(n),
                's' => Duration::seconds(n),
                _ => {
                    return Err(format!(
                        "bad unit '{ch}' in offset '{text}' (use d, h, m, s)"
                    ));
                }
            };
            total += part;
            digits.clear();
        }
        if !digits.is_empty() || rest.is_empty() {
            return Err(format!(
                "bad offset '{text}' (expected e.g. -7d or +12h30m)"
            ));
        }
        Ok(TimeSpec::Relative(total * sign))
    }
}

impl<'de> Deserialize<'de> for TimeSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        TimeSpec::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Microsoft's own public clients: known in every tenant without an app registration.
static WELL_KNOWN_PUBLIC_CLIENTS: LazyLock<Vec<Application>> = LazyLock::new(|| {
    [
        (
            "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
            "Microsoft Azure CLI",
        ),
        (
            "1950a258-227b-4e31-a9cf-717495945fc2",
            "Microsoft Azure PowerShell",
        ),
        (
            "a0c73c16-a7e3-4564-9a95-2bdf47383716",
            "Microsoft Exchange REST API Based Powershell",
        ),
    ]
    .into_iter()
    .map(|(app_id, name)| Application {
        app_id: app_id.to_owned(),
        display_name: name.to_owned(),
        public_client: true,
        sign_in_audience: "AzureADMultipleOrgs".to_owned(),
        secrets: Vec::new(),
        certificates: Vec::new(),
        redirect_uris: vec!["http://localhost".to_owned()],
        application_permissions: BTreeMap::new(),
        delegated_permissions: BTreeMap::new(),
        first_party: true,
        home_tenant_id: None,
    })
    .collect()
});

/// What a `{tenant}` path segment names.
#[derive(Debug, Clone, Copy)]
pub enum TenantSegment<'a> {
    Tenant(&'a Tenant),
    Common,
    Organizations,
    Consumers,
}

impl TenantSegment<'_> {
    pub fn as_tenant(&self) -> Option<&Tenant> {
        match self {
            TenantSegment::Tenant(t) => Some(t),
            _ => None,
        }
    }
}

impl Scenario {
    /// Parses scenario JSON, replacing `{base}` in every string with `base_url`.
    pub fn load(
        text: &str,
        base_url: &str,
        loaded_at: DateTime<Utc>,
    ) -> Result<Self, ScenarioError> {
        let mut value: Value = serde_json::from_str(text)?;
        substitute_base(&mut value, base_url);
        // Report where a typo is ("tenants[0].users[1]"), not just what it is.
        let mut scenario: Scenario =
            serde_path_to_error::deserialize(value).map_err(|e| ScenarioError::Field {
                path: e.path().to_string(),
                source: e.into_inner(),
            })?;
        scenario.loaded_at = loaded_at;
        scenario.add_service_principals()?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// An app id names one registration in the whole cloud: a multi-tenant app is registered
    /// once, in its home tenant, and other tenants hold a service principal for it. Each service
    /// principal becomes an `Application` view (no credentials of its own) in its tenant.
    fn add_service_principals(&mut self) -> Result<(), ScenarioError> {
        let mut homes: BTreeMap<String, (String, Application)> = BTreeMap::new();
        for t in &self.tenants {
            for a in &t.applications {
                let key = a.app_id.to_ascii_lowercase();
                if let Some((other, _)) = homes.get(&key) {
                    return Err(invalid(format!(
                        "app {} is registered in tenants {other} and {}: register it once, in its home tenant, \
                         and list it under servicePrincipals in the others",
                        a.app_id, t.id
                    )));
                }
                homes.insert(key, (t.id.clone(), a.clone()));
            }
        }
        for t in &mut self.tenants {
            for sp in &t.service_principals {
                let (home, registration) =
                    homes.get(&sp.app_id.to_ascii_lowercase()).ok_or_else(|| {
                        invalid(format!(
                            "tenant {}: servicePrincipal {} names no app registered in any tenant",
                            t.id, sp.app_id
                        ))
                    })?;
                if home.eq_ignore_ascii_case(&t.id) {
                    return Err(invalid(format!(
                        "tenant {}: servicePrincipal {} is registered here already",
                        t.id, sp.app_id
                    )));
                }
                if !registration.is_multi_tenant() {
                    return Err(invalid(format!(
                        "tenant {}: servicePrincipal {} is a single-tenant app (signInAudience AzureADMyOrg) of tenant {home}",
                        t.id, sp.app_id
                    )));
                }
                if t.applications
                    .iter()
                    .any(|a| a.app_id.eq_ignore_ascii_case(&sp.app_id))
                {
                    return Err(invalid(format!(
                        "tenant {}: servicePrincipal {} is listed twice",
                        t.id, sp.app_id
                    )));
                }
                t.applications.push(Application {
                    secrets: Vec::new(),
                    certificates: Vec::new(),
                    application_permissions: sp.application_permissions.clone(),
                    delegated_permissions: sp.delegated_permissions.clone(),
                    home_tenant_id: Some(home.clone()),
                    ..registration.clone()
                });
            }
        }
        Ok(())
    }

    /// The registration that holds `app`'s credentials: itself, or for a service principal the
    /// app in its home tenant.
    pub fn registration<'s>(&'s self, app: &'s Application) -> &'s Application {
        app.home_tenant_id
            .as_deref()
            .and_then(|home| self.tenant(home))
            .and_then(|home| {
                home.applications
                    .iter()
                    .find(|a| a.app_id.eq_ignore_ascii_case(&app.app_id))
            })
            .unwrap_or(app)
    }

    pub fn tenant_segment(&self, segment: &str) -> Option<TenantSegment<'_>> {
        match segment.to_ascii_lowercase().as_str() {
            "common" => Some(TenantSegment::Common),
            "organizations" => Some(TenantSegment::Organizations),
            "consumers" => Some(TenantSegment::Consumers),
            _ => self.tenant(segment).map(TenantSegment::Tenant),
        }
    }

    /// A tenant by id or by any of its domains.
    pub fn tenant(&self, id_or_domain: &str) -> Option<&Tenant> {
        self.tenants.iter().find(|t| {
            t.id.eq_ignore_ascii_case(id_or_domain)
                || t.domains
                    .iter()
                    .any(|d| d.eq_ignore_ascii_case(id_or_domain))
        })
    }

    /// A resource by identifier URI or app id.
    pub fn resource(&self, identifier: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.is_named_by(identifier))
    }

    pub fn resource_by_app_id(&self, app_id: &str) -> Option<&Resource> {
        self.resources
            .iter()
            .find(|r| r.app_id.eq_ignore_ascii_case(app_id))
    }

    pub fn graph(&self) -> Option<&Resource> {
        self.resource_by_app_id(GRAPH_APP_ID)
    }

    /// Every secret value the scenario contains (client secrets, passwords, seeded refresh
    /// tokens), for the leak-detection hook.
    pub fn secret_values(&self) -> Vec<String> {
        let mut out = Vec::new();
        for t in &self.tenants {
            for a in &t.applications {
                out.extend(a.secrets.iter().map(|s| s.value.clone()));
            }
            out.extend(t.users.iter().filter_map(|u| u.password.clone()));
            out.extend(t.consents.iter().map(|c| c.refresh_token.clone()));
        }
        out
    }

    fn validate(&self) -> Result<(), ScenarioError> {
        if !(60..=86_400).contains(&self.access_token_lifetime_seconds) {
            return Err(invalid(
                "accessTokenLifetimeSeconds must be between 60 and 86400",
            ));
        }
        let mut resource_names = HashSet::new();
        for r in &self.resources {
            require_guid(&r.app_id, "resource appId")?;
            for name in std::iter::once(&r.app_id).chain(&r.identifier_uris) {
                if !resource_names.insert(name.trim_end_matches('/').to_ascii_lowercase()) {
                    return Err(invalid(format!(
                        "resource identifier '{name}' is used twice"
                    )));
                }
            }
        }
        let mut tenant_names = HashSet::new();
        let mut refresh_tokens = HashSet::new();
        for t in &self.tenants {
            require_guid(&t.id, "tenant id")?;
            for name in std::iter::once(&t.id).chain(&t.domains) {
                let lower = name.to_ascii_lowercase();
                if matches!(lower.as_str(), "common" | "organizations" | "consumers") {
                    return Err(invalid(format!(
                        "'{name}' is reserved and cannot name a tenant"
                    )));
                }
                if !tenant_names.insert(lower) {
                    return Err(invalid(format!(
                        "tenant id or domain '{name}' is used twice"
                    )));
                }
            }
            self.validate_tenant(t, &mut refresh_tokens)?;
            crate::gdap::validate(t).map_err(invalid)?;
        }
        self.validate_interactive()?;
        if let Some(f) = &self.faults {
            f.validate().map_err(invalid)?;
        }
        crate::signins::validate(self).map_err(invalid)?;
        crate::key_vault::validate(self).map_err(invalid)?;
        Ok(())
    }

    /// Device-code settings, scripted sign-ins and certificate credentials.
    fn validate_interactive(&self) -> Result<(), ScenarioError> {
        if !(1..=86_400).contains(&self.device_code_lifetime_seconds) {
            return Err(invalid(
                "deviceCodeLifetimeSeconds must be between 1 and 86400",
            ));
        }
        if !(1..=60).contains(&self.device_code_poll_interval_seconds) {
            return Err(invalid(
                "deviceCodePollIntervalSeconds must be between 1 and 60",
            ));
        }
        if let Some(rule) = &self.device_code_auto_approve
            && !self.tenants.iter().any(|t| t.user(&rule.user_id).is_some())
        {
            return Err(invalid(format!(
                "deviceCodeAutoApprove: unknown userId {}",
                rule.user_id
            )));
        }
        for t in &self.tenants {
            if let Some(default) = &t.interactive_sign_in
                && t.user(&default.user_id).is_none()
            {
                return Err(invalid(format!(
                    "tenant {}: interactiveSignIn names unknown userId {}",
                    t.id, default.user_id
                )));
            }
            for a in &t.applications {
                for c in &a.certificates {
                    let key = crate::certificates::parse_certificate(&c.certificate_pem).map_err(
                        |e| {
                            invalid(format!(
                                "tenant {}: app {}: certificate: {e}",
                                t.id, a.app_id
                            ))
                        },
                    )?;
                    if !key.has_thumbprint(&c.thumbprint) {
                        return Err(invalid(format!(
                            "tenant {}: app {}: certificate thumbprint {} does not match the certificate ({})",
                            t.id, a.app_id, c.thumbprint, key.thumbprint
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    fn validate_tenant(
        &self,
        t: &Tenant,
        refresh_tokens: &mut HashSet<String>,
    ) -> Result<(), ScenarioError> {
        let ctx = |what: &str| format!("tenant {}: {what}", t.id);
        crate::compliance::validate(t).map_err(|e| invalid(ctx(&e)))?;
        let mut seen = HashSet::new();
        for u in &t.users {
            require_guid(&u.id, "user id")?;
            if !seen.insert(u.id.to_ascii_lowercase())
                || !seen.insert(u.user_principal_name.to_ascii_lowercase())
            {
                return Err(invalid(ctx(&format!(
                    "user '{}' is listed twice",
                    u.user_principal_name
                ))));
            }
        }
        for a in &t.applications {
            require_guid(&a.app_id, "application appId")?;
            for (key, perms) in &a.delegated_permissions {
                let r = self.resource(key).ok_or_else(|| {
                    invalid(ctx(&format!(
                        "app {}: delegatedPermissions names unknown resource '{key}'",
                        a.app_id
                    )))
                })?;
                if let Some(p) = perms.iter().find(|p| !r.has_delegated_scope(p)) {
                    return Err(invalid(ctx(&format!(
                        "app {}: '{p}' is not a delegated scope of {}",
                        a.app_id, r.display_name
                    ))));
                }
            }
            for (key, perms) in &a.application_permissions {
                let r = self.resource(key).ok_or_else(|| {
                    invalid(ctx(&format!(
                        "app {}: applicationPermissions names unknown resource '{key}'",
                        a.app_id
                    )))
                })?;
                if let Some(p) = perms
                    .iter()
                    .find(|p| !r.app_roles.iter().any(|x| x.eq_ignore_ascii_case(p)))
                {
                    return Err(invalid(ctx(&format!(
                        "app {}: '{p}' is not an app role of {}",
                        a.app_id, r.display_name
                    ))));
                }
            }
        }
        for c in &t.consents {
            let app = t.application(&c.client_id).ok_or_else(|| {
                invalid(ctx(&format!(
                    "consent '{}': unknown clientId {}",
                    c.name, c.client_id
                )))
            })?;
            if t.user(&c.user_id).is_none() {
                return Err(invalid(ctx(&format!(
                    "consent '{}': unknown userId {}",
                    c.name, c.user_id
                ))));
            }
            if c.refresh_token.is_empty() || !refresh_tokens.insert(c.refresh_token.clone()) {
                return Err(invalid(ctx(&format!(
                    "consent '{}': refreshToken empty or used twice",
                    c.name
                ))));
            }
            if self.consent_resource(app, c).is_none() {
                return Err(invalid(ctx(&format!(
                    "consent '{}': no resource (set 'resource' or give the app delegated permissions)",
                    c.name
                ))));
            }
        }
        Ok(())
    }

    /// The resource (and the identifier the sign-in used for it) a consent's refresh token was
    /// originally issued for.
    pub fn consent_resource<'s>(
        &'s self,
        app: &Application,
        consent: &'s Consent,
    ) -> Option<(&'s Resource, String)> {
        if let Some(name) = &consent.resource {
            return self.resource(name).map(|r| (r, name.clone()));
        }
        if app.first_party && app.delegated_permissions.is_empty() {
            return self.graph().map(|r| (r, identifier_or_app_id(r)));
        }
        app.delegated_permissions
            .keys()
            .find_map(|k| self.resource(k).map(|r| (r, k.clone())))
    }
}

fn identifier_or_app_id(r: &Resource) -> String {
    r.identifier_uris
        .first()
        .cloned()
        .unwrap_or_else(|| r.app_id.clone())
}

fn require_guid(value: &str, what: &str) -> Result<(), ScenarioError> {
    uuid::Uuid::parse_str(value)
        .map(|_| ())
        .map_err(|_| invalid(format!("{what} '{value}' is not a GUID")))
}

fn substitute_base(value: &mut Value, base_url: &str) {
    match value {
        Value::String(s) if s.contains("{base}") => *s = s.replace("{base}", base_url),
        Value::Array(items) => items.iter_mut().for_each(|v| substitute_base(v, base_url)),
        Value::Object(map) => {
            // Keys can hold identifier URIs too (the permission maps), so rebuild the map.
            let entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
            for (k, mut v) in entries {
                substitute_base(&mut v, base_url);
                map.insert(k.replace("{base}", base_url), v);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_specs() {
        assert_eq!(
            TimeSpec::parse("now").ok(),
            Some(TimeSpec::Relative(Duration::zero()))
        );
        assert_eq!(
            TimeSpec::parse("-7d").ok(),
            Some(TimeSpec::Relative(Duration::days(-7)))
        );
        assert_eq!(
            TimeSpec::parse("+1d12h").ok(),
            Some(TimeSpec::Relative(Duration::days(1) + Duration::hours(12)))
        );
        assert!(matches!(
            TimeSpec::parse("2026-11-01T00:00:00Z"),
            Ok(TimeSpec::At(_))
        ));
        assert!(TimeSpec::parse("-7").is_err());
        assert!(TimeSpec::parse("-7w").is_err());
        assert!(TimeSpec::parse("yesterday").is_err());
    }

    #[test]
    fn base_is_substituted_in_keys_and_values() {
        let mut v = serde_json::json!({"a": "{base}/graph", "{base}/x": ["{base}"]});
        substitute_base(&mut v, "https://127.0.0.1:1");
        assert_eq!(
            v,
            serde_json::json!({"a": "https://127.0.0.1:1/graph", "https://127.0.0.1:1/x": ["https://127.0.0.1:1"]})
        );
    }

    #[test]
    fn demo_scenario_loads() {
        let text = include_str!("../scenarios/demo.json");
        let s = Scenario::load(text, "https://127.0.0.1:9", Utc::now());
        assert!(s.is_ok(), "{:?}", s.err());
    }

    #[test]
    fn typo_in_permissions_is_rejected() {
        let text = r#"{"resources":[{"appId":"00000003-0000-0000-c000-000000000000","displayName":"Graph","identifierUris":["https://graph.microsoft.com"],"delegatedScopes":["User.Read"]}],
          "tenants":[{"id":"11111111-1111-1111-1111-111111111111","domains":["a.onmicrosoft.com"],"displayName":"A",
            "applications":[{"appId":"22222222-2222-2222-2222-222222222222","displayName":"x","delegatedPermissions":{"https://graph.microsoft.com":["User.Raed"]}}]}]}"#;
        let err = Scenario::load(text, "http://x", Utc::now())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("User.Raed"), "{err}");
    }
}
