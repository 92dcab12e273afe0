//! What a tenant's security posture looks like to the compliance endpoints (`tenants[].compliance`
//! in a scenario): security defaults, Conditional Access policies, groups, per-user MFA state and
//! registered methods, PIM eligibility, federated domains, GDAP relationships (partner side) and
//! Partner Center's fraud events and MFA reports. The Graph handlers are in
//! `graph::directory` / `graph::gdap`, the Partner Center ones in `partner_center::compliance`.
//!
//! Policies, relationships and Partner Center records are stored in the vendors' own JSON shape
//! (api-contracts §4.2, §4.7, §5.5, §5.6), so a scenario reads like the documentation; their
//! date-time fields may be scenario times (`"-3d"`, `"+20d"`), resolved when served.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::scenario::{Tenant, TimeSpec};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ComplianceSpec {
    /// `identitySecurityDefaultsEnforcementPolicy.isEnabled`.
    #[serde(default)]
    pub security_defaults: bool,
    /// `conditionalAccessPolicy` objects as Graph returns them.
    #[serde(default)]
    pub conditional_access_policies: Vec<Value>,
    #[serde(default)]
    pub groups: Vec<GroupSpec>,
    /// Per user id: what the user resource alone does not say.
    #[serde(default)]
    pub user_details: BTreeMap<String, UserDetail>,
    /// PIM-eligible directory roles (`roleEligibilitySchedules`).
    #[serde(default)]
    pub role_eligibilities: Vec<RoleEligibility>,
    #[serde(default)]
    pub federated_domains: Vec<FederatedDomain>,
    /// `delegatedAdminRelationship` objects; each may carry `accessAssignments` (served by the
    /// sub-resource, not in the list).
    #[serde(default)]
    pub gdap_relationships: Vec<Value>,
    /// Partner Center `fraudEvents` items.
    #[serde(default)]
    pub fraud_events: Vec<Value>,
    /// Partner Center `nonMfaCompliantPartnerPrincipals` items.
    #[serde(default)]
    pub non_mfa_compliant_principals: Vec<Value>,
    /// Partner Center `applicationmfaadoptionstatus` items.
    #[serde(default)]
    pub application_mfa_adoption: Vec<Value>,
    /// `prepaidUnits.enabled` per SKU part number of `licenses` (default 25).
    #[serde(default)]
    pub license_units: BTreeMap<String, u32>,
    /// Partner Center customers (`GET /v1/customers`) beyond those of the GDAP relationships,
    /// or those customers with more detail (e.g. DAP still allowed).
    #[serde(default)]
    pub customers: Vec<CustomerSpec>,
}

/// A customer of the partner as Partner Center lists it (api-contracts §5.7).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomerSpec {
    pub tenant_id: String,
    pub company_name: String,
    /// Default: the customer tenant's first domain when the scenario has it, else
    /// `<company name, letters and digits only>.onmicrosoft.com`.
    #[serde(default)]
    pub domain: Option<String>,
    /// DAP: the partner still has delegated admin privileges in the customer (§5.8).
    #[serde(default)]
    pub allow_delegated_access: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupSpec {
    pub id: String,
    pub display_name: String,
    /// User ids (direct members).
    #[serde(default)]
    pub members: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserDetail {
    /// `disabled` | `enabled` | `enforced` (beta `authentication/requirements`).
    #[serde(default)]
    pub per_user_mfa_state: Option<String>,
    /// Overrides the methods derived from the user's `mfaRegistered`.
    #[serde(default)]
    pub methods_registered: Option<Vec<String>>,
    /// `true` for accounts synchronised from on-premises AD.
    #[serde(default)]
    pub on_premises_sync_enabled: Option<bool>,
    /// SKU part numbers assigned to the user (`assignedLicenses`, by the SKU's id).
    #[serde(default)]
    pub assigned_licenses: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleEligibility {
    pub principal_id: String,
    pub role_definition_id: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FederatedDomain {
    pub name: String,
    /// `acceptIfMfaDoneByFederatedIdp` | `enforceMfaByFederatedIdp` | `rejectMfaByFederatedIdp`.
    pub federated_idp_mfa_behavior: String,
    /// Whether the identity provider tells Entra ID that it did MFA (AD FS: the `multipleauthn`
    /// authnmethodsreferences claim). Without it, MFA done at the IdP is invisible: tokens of the
    /// domain's users carry `fed` without `mfa` (unless Entra ID does MFA itself,
    /// `rejectMfaByFederatedIdp`). Default `true`.
    #[serde(default = "yes")]
    pub idp_mfa_claim: bool,
}

fn yes() -> bool {
    true
}

impl FederatedDomain {
    /// The `amr` of a sign-in of one of the domain's users (api-contracts §2.3: `fed`, plus
    /// `mfa` only when Entra ID sees MFA). `mfa`: the sign-in did MFA where policy put it.
    pub fn amr(&self, mfa: bool) -> Vec<&'static str> {
        let visible = self.idp_mfa_claim
            || self
                .federated_idp_mfa_behavior
                .eq_ignore_ascii_case("rejectMfaByFederatedIdp");
        if mfa && visible {
            vec!["fed", "mfa"]
        } else {
            vec!["fed"]
        }
    }

    /// Issuer of the IdP's tokens, as `federationConfiguration` reports it.
    pub fn issuer_uri(&self) -> String {
        format!("http://{}/adfs/services/trust", self.name)
    }
}

/// The federated domain of `tenant` that `user_principal_name` belongs to, if any.
pub fn federation_of<'t>(
    tenant: &'t Tenant,
    user_principal_name: &str,
) -> Option<&'t FederatedDomain> {
    let domain = user_principal_name.rsplit_once('@')?.1;
    tenant
        .compliance
        .as_ref()?
        .federated_domains
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case(domain))
}

/// Methods a user has registered: listed, or one authenticator method when `mfaRegistered`.
pub fn methods_of(tenant: &Tenant, user_id: &str) -> Vec<String> {
    let detail = tenant
        .compliance
        .as_ref()
        .and_then(|c| c.user_details.get(user_id));
    if let Some(listed) = detail.and_then(|d| d.methods_registered.clone()) {
        return listed;
    }
    match tenant.user(user_id) {
        Some(u) if u.mfa_registered => vec!["microsoftAuthenticatorPush".to_owned()],
        _ => Vec::new(),
    }
}

pub fn detail<'t>(tenant: &'t Tenant, user_id: &str) -> Option<&'t UserDetail> {
    tenant
        .compliance
        .as_ref()
        .and_then(|c| c.user_details.get(user_id))
}

/// Replaces scenario times (`"now"`, `"-3d"`) in the top-level `fields` of `item` with
/// date-times; `utc_suffix` chooses Graph's `...Z` form or Partner Center's offset-less one.
pub fn resolve_times(
    item: &Value,
    fields: &[&str],
    loaded_at: DateTime<Utc>,
    utc_suffix: bool,
) -> Value {
    let mut out = item.clone();
    if let Some(map) = out.as_object_mut() {
        for field in fields {
            let Some(text) = map.get(*field).and_then(Value::as_str) else {
                continue;
            };
            let relative =
                text.eq_ignore_ascii_case("now") || text.starts_with('-') || text.starts_with('+');
            if !relative {
                continue;
            }
            if let Ok(spec) = TimeSpec::parse(text) {
                let at = spec.resolve(loaded_at);
                let shown = if utc_suffix {
                    at.to_rfc3339_opts(SecondsFormat::Millis, true)
                } else {
                    at.format("%Y-%m-%dT%H:%M:%S%.3f").to_string()
                };
                map.insert((*field).to_owned(), Value::String(shown));
            }
        }
    }
    out
}

/// Start-up checks: cross references a typo would break.
pub fn validate(tenant: &Tenant) -> Result<(), String> {
    let Some(spec) = &tenant.compliance else {
        return Ok(());
    };
    let known = |id: &str| {
        tenant.user(id).is_some() || spec.groups.iter().any(|g| g.id.eq_ignore_ascii_case(id))
    };
    for g in &spec.groups {
        if let Some(m) = g.members.iter().find(|m| tenant.user(m).is_none()) {
            return Err(format!(
                "compliance group '{}': unknown member {m}",
                g.display_name
            ));
        }
    }
    if let Some(id) = spec
        .user_details
        .keys()
        .find(|id| tenant.user(id).is_none())
    {
        return Err(format!("compliance userDetails: unknown user {id}"));
    }
    if let Some(e) = spec
        .role_eligibilities
        .iter()
        .find(|e| !known(&e.principal_id))
    {
        return Err(format!(
            "compliance roleEligibilities: unknown principal {}",
            e.principal_id
        ));
    }
    for (i, p) in spec.conditional_access_policies.iter().enumerate() {
        if p.get("id").and_then(Value::as_str).is_none() {
            return Err(format!(
                "compliance conditionalAccessPolicies[{i}] has no 'id'"
            ));
        }
    }
    for (i, r) in spec.gdap_relationships.iter().enumerate() {
        if r.get("id").and_then(Value::as_str).is_none() {
            return Err(format!("compliance gdapRelationships[{i}] has no 'id'"));
        }
    }
    Ok(())
}

/// The partner `tenant`'s customers in Partner Center: its `compliance.customers`, then the
/// customers of its GDAP relationships (`compliance.gdapRelationships` and
/// `delegatedAdminRelationships`) not listed there, without DAP. Each once, by tenant id.
pub fn customers(scenario: &crate::scenario::Scenario, tenant: &Tenant) -> Vec<CustomerSpec> {
    let mut out: Vec<CustomerSpec> = tenant
        .compliance
        .as_ref()
        .map(|c| c.customers.clone())
        .unwrap_or_default();
    let from_compliance = tenant
        .compliance
        .iter()
        .flat_map(|c| c.gdap_relationships.iter())
        .filter_map(|r| {
            let customer = r.get("customer")?;
            Some((
                customer.get("tenantId")?.as_str()?.to_owned(),
                customer.get("displayName")?.as_str()?.to_owned(),
            ))
        });
    let from_gdap = tenant.delegated_admin_relationships.iter().map(|r| {
        (
            r.customer.tenant_id.clone(),
            r.customer.display_name.clone(),
        )
    });
    for (tenant_id, company_name) in from_compliance.chain(from_gdap) {
        if !out
            .iter()
            .any(|c| c.tenant_id.eq_ignore_ascii_case(&tenant_id))
        {
            out.push(CustomerSpec {
                tenant_id,
                company_name,
                domain: None,
                allow_delegated_access: false,
            });
        }
    }
    for c in &mut out {
        if c.domain.is_none() {
            let slug: String = c
                .company_name
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_ascii_lowercase();
            c.domain = Some(
                scenario
                    .tenant(&c.tenant_id)
                    .map(|t| t.default_domain().to_owned())
                    .unwrap_or_else(|| format!("{slug}.onmicrosoft.com")),
            );
        }
    }
    out
}
