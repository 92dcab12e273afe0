//! The Graph resources the checks read, their endpoints and the reads themselves.

use super::{Endpoint, Graph};
use crate::error::Result;
use serde::{Deserialize, Serialize};

pub const USERS: Endpoint = Endpoint {
    path: "users",
    version: "v1.0",
    permission: "User.Read.All",
    what: "users",
};
pub const GROUPS: Endpoint = Endpoint {
    path: "groups",
    version: "v1.0",
    permission: "GroupMember.Read.All",
    what: "groups",
};
pub const GROUP_MEMBERS: Endpoint = Endpoint {
    path: "groups/{id}/transitiveMembers",
    version: "v1.0",
    permission: "GroupMember.Read.All",
    what: "group members",
};
pub const SECURITY_DEFAULTS: Endpoint = Endpoint {
    path: "policies/identitySecurityDefaultsEnforcementPolicy",
    version: "v1.0",
    permission: "Policy.Read.All",
    what: "security defaults policy",
};
pub const CONDITIONAL_ACCESS: Endpoint = Endpoint {
    path: "identity/conditionalAccess/policies",
    version: "v1.0",
    permission: "Policy.Read.All",
    what: "Conditional Access policies",
};
pub const REGISTRATION: Endpoint = Endpoint {
    path: "reports/authenticationMethods/userRegistrationDetails",
    version: "v1.0",
    permission: "AuditLog.Read.All",
    what: "authentication method registration details",
};
pub const SKUS: Endpoint = Endpoint {
    path: "subscribedSkus",
    version: "v1.0",
    permission: "Organization.Read.All",
    what: "subscribed licences",
};
pub const ROLE_ASSIGNMENTS: Endpoint = Endpoint {
    path: "roleManagement/directory/roleAssignments",
    version: "v1.0",
    permission: "RoleManagement.Read.Directory",
    what: "directory role assignments",
};
pub const ROLE_ELIGIBILITY: Endpoint = Endpoint {
    path: "roleManagement/directory/roleEligibilitySchedules",
    version: "v1.0",
    permission: "RoleManagement.Read.Directory",
    what: "PIM role eligibility schedules",
};
pub const DOMAINS: Endpoint = Endpoint {
    path: "domains",
    version: "v1.0",
    permission: "Domain.Read.All",
    what: "domains",
};
pub const FEDERATION: Endpoint = Endpoint {
    path: "domains/{id}/federationConfiguration",
    version: "v1.0",
    permission: "Domain.Read.All",
    what: "domain federation settings",
};
pub const PER_USER_MFA: Endpoint = Endpoint {
    path: "users/{id}/authentication/requirements",
    version: "beta",
    permission: "Policy.Read.All",
    what: "per-user MFA states",
};
pub const SIGN_INS: Endpoint = Endpoint {
    path: "auditLogs/signIns",
    version: "beta",
    permission: "AuditLog.Read.All",
    what: "sign-in logs",
};
pub const SECURITY_SCORE: Endpoint = Endpoint {
    path: "security/partner/securityScore",
    version: "beta",
    permission: "PartnerSecurity.Read.All",
    what: "partner security score",
};
pub const GDAP: Endpoint = Endpoint {
    path: "tenantRelationships/delegatedAdminRelationships",
    version: "v1.0",
    permission: "DelegatedAdminRelationship.Read.All",
    what: "GDAP relationships",
};
pub const GDAP_ASSIGNMENTS: Endpoint = Endpoint {
    path: "tenantRelationships/delegatedAdminRelationships/{id}/accessAssignments",
    version: "v1.0",
    permission: "DelegatedAdminRelationship.Read.All",
    what: "GDAP access assignments",
};

/// Entra ID service plans (api-contracts §4.4): P1 is in many suites, so plans are scanned.
pub const PLAN_ENTRA_P1: &str = "41781fb2-bc02-4b7c-bd55-b576c07bb09d";
pub const PLAN_ENTRA_P2: &str = "eec0eb4f-6444-4f95-aba0-50c24d67f998";

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub user_principal_name: String,
    #[serde(default)]
    pub account_enabled: Option<bool>,
    #[serde(default)]
    pub user_type: Option<String>,
    #[serde(default)]
    pub on_premises_sync_enabled: Option<bool>,
    #[serde(default)]
    pub assigned_licenses: Vec<AssignedLicense>,
}

/// A licence assigned to a user: the SKU, minus the service plans switched off for them.
#[derive(Debug, Clone, Deserialize, Serialize, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AssignedLicense {
    #[serde(default)]
    pub sku_id: String,
    #[serde(default)]
    pub disabled_plans: Vec<String>,
}

impl User {
    /// `true` when one of the user's licences, as the tenant subscribes it, carries `plan`
    /// (enabled, provisioned, and not disabled for this user).
    pub fn has_plan(&self, skus: &[SubscribedSku], plan: &str) -> bool {
        self.assigned_licenses.iter().any(|l| {
            !l.disabled_plans.iter().any(|d| d.eq_ignore_ascii_case(plan))
                && skus.iter().any(|s| s.sku_id.eq_ignore_ascii_case(&l.sku_id) && s.grants(plan))
        })
    }

    pub fn is_guest(&self) -> bool {
        self.user_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("guest"))
    }

    pub fn is_enabled(&self) -> bool {
        self.account_enabled != Some(false)
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub id: String,
    #[serde(rename = "@odata.type", default)]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SecurityDefaults {
    #[serde(default)]
    pub is_enabled: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ConditionalAccessPolicy {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub conditions: Conditions,
    #[serde(default)]
    pub grant_controls: Option<GrantControls>,
}

impl ConditionalAccessPolicy {
    pub fn name(&self) -> &str {
        self.display_name.as_deref().unwrap_or(&self.id)
    }

    pub fn is_enforced(&self) -> bool {
        self.state == "enabled"
    }

    pub fn is_report_only(&self) -> bool {
        self.state == "enabledForReportingButNotEnforced"
    }

    fn controls(&self) -> impl Iterator<Item = &str> {
        self.grant_controls
            .iter()
            .flat_map(|g| g.built_in_controls.iter().map(String::as_str))
    }

    /// Grants only with MFA: `mfa` required (the only control, or with `AND`), or an
    /// authentication strength that satisfies MFA (api-contracts §4.2).
    pub fn requires_mfa(&self) -> bool {
        let Some(g) = &self.grant_controls else {
            return false;
        };
        let strength = g
            .authentication_strength
            .as_ref()
            .is_some_and(|s| s.requirements_satisfied.as_deref() == Some("mfa"));
        let mfa = self.controls().any(|c| c.eq_ignore_ascii_case("mfa"));
        let others = self
            .controls()
            .filter(|c| !c.eq_ignore_ascii_case("mfa"))
            .count();
        strength || (mfa && (others == 0 || g.operator.eq_ignore_ascii_case("AND")))
    }

    pub fn blocks(&self) -> bool {
        self.controls().any(|c| c.eq_ignore_ascii_case("block"))
    }

    /// Applies to every cloud app.
    pub fn all_apps(&self) -> bool {
        self.conditions
            .applications
            .include_applications
            .iter()
            .any(|a| a.eq_ignore_ascii_case("All"))
    }

    fn client_types(&self) -> &[String] {
        &self.conditions.client_app_types
    }

    /// Covers browser and modern desktop/mobile clients (where MFA can be prompted).
    pub fn covers_modern_clients(&self) -> bool {
        let t = self.client_types();
        t.is_empty()
            || t.iter().any(|c| c == "all")
            || (t.iter().any(|c| c == "browser")
                && t.iter().any(|c| c == "mobileAppsAndDesktopClients"))
    }

    /// Covers legacy clients (Exchange ActiveSync and other clients).
    pub fn covers_legacy_clients(&self) -> bool {
        let t = self.client_types();
        t.iter().any(|c| c == "all")
            || (t.iter().any(|c| c == "exchangeActiveSync") && t.iter().any(|c| c == "other"))
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Conditions {
    #[serde(default)]
    pub client_app_types: Vec<String>,
    #[serde(default)]
    pub applications: Applications,
    #[serde(default)]
    pub users: UserConditions,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Applications {
    #[serde(default)]
    pub include_applications: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct UserConditions {
    #[serde(default)]
    pub include_users: Vec<String>,
    #[serde(default)]
    pub exclude_users: Vec<String>,
    #[serde(default)]
    pub include_groups: Vec<String>,
    #[serde(default)]
    pub exclude_groups: Vec<String>,
    #[serde(default)]
    pub include_roles: Vec<String>,
    #[serde(default)]
    pub exclude_roles: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct GrantControls {
    #[serde(default)]
    pub operator: String,
    #[serde(default)]
    pub built_in_controls: Vec<String>,
    #[serde(default)]
    pub authentication_strength: Option<AuthenticationStrength>,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationStrength {
    #[serde(default)]
    pub requirements_satisfied: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationDetail {
    pub id: String,
    #[serde(default)]
    pub user_principal_name: String,
    #[serde(default)]
    pub is_mfa_registered: bool,
    #[serde(default)]
    pub is_mfa_capable: bool,
    #[serde(default)]
    pub methods_registered: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SubscribedSku {
    #[serde(default)]
    pub sku_id: String,
    #[serde(default)]
    pub sku_part_number: String,
    #[serde(default)]
    pub capability_status: String,
    #[serde(default)]
    pub prepaid_units: PrepaidUnits,
    #[serde(default)]
    pub service_plans: Vec<ServicePlan>,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct PrepaidUnits {
    #[serde(default)]
    pub enabled: u32,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ServicePlan {
    #[serde(default)]
    pub service_plan_id: String,
    #[serde(default)]
    pub provisioning_status: String,
}

/// The tenant's Entra ID edition and how many P2 seats it has, from its subscriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct LicenceTier {
    pub p1: bool,
    pub p2: bool,
    pub p2_seats: u32,
}

impl SubscribedSku {
    /// `true` when the subscription is enabled and carries `plan`, provisioned.
    pub fn grants(&self, plan: &str) -> bool {
        self.capability_status == "Enabled"
            && self.service_plans.iter().any(|p| {
                p.service_plan_id.eq_ignore_ascii_case(plan) && p.provisioning_status == "Success"
            })
    }
}

impl LicenceTier {
    pub fn of(skus: &[SubscribedSku]) -> Self {
        let mut tier = LicenceTier::default();
        for sku in skus.iter() {
            let has = |plan: &str| sku.grants(plan);
            if has(PLAN_ENTRA_P1) {
                tier.p1 = true;
            }
            if has(PLAN_ENTRA_P2) {
                tier.p1 = true;
                tier.p2 = true;
                tier.p2_seats += sku.prepaid_units.enabled;
            }
        }
        tier
    }

    pub fn name(&self) -> &'static str {
        match (self.p1, self.p2) {
            (_, true) => "Entra ID P2",
            (true, false) => "Entra ID P1",
            _ => "Entra ID Free",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignment {
    pub principal_id: String,
    pub role_definition_id: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Domain {
    pub id: String,
    #[serde(default)]
    pub authentication_type: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct FederationConfiguration {
    #[serde(default)]
    pub federated_idp_mfa_behavior: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PerUserMfa {
    #[serde(default)]
    pub per_user_mfa_state: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct GdapRelationship {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub customer: Option<GdapCustomer>,
    #[serde(default)]
    pub access_details: AccessDetails,
    #[serde(default)]
    pub auto_extend_duration: Option<String>,
    #[serde(default)]
    pub end_date_time: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default)]
    pub duration: Option<String>,
}

impl GdapRelationship {
    pub fn name(&self) -> &str {
        self.display_name.as_deref().unwrap_or(&self.id)
    }

    pub fn customer_name(&self) -> &str {
        self.customer
            .as_ref()
            .and_then(|c| c.display_name.as_deref())
            .unwrap_or("(unknown customer)")
    }

    pub fn auto_extends(&self) -> bool {
        self.auto_extend_duration
            .as_deref()
            .is_some_and(|d| !matches!(d, "PT0S" | "P0D" | ""))
    }

    pub fn role_ids(&self) -> impl Iterator<Item = &str> {
        self.access_details
            .unified_roles
            .iter()
            .map(|r| r.role_definition_id.as_str())
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct GdapCustomer {
    #[serde(default)]
    pub tenant_id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AccessDetails {
    #[serde(default)]
    pub unified_roles: Vec<UnifiedRole>,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct UnifiedRole {
    pub role_definition_id: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AccessAssignment {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub access_container: AccessContainer,
    #[serde(default)]
    pub access_details: AccessDetails,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct AccessContainer {
    #[serde(default)]
    pub access_container_id: String,
}

impl Graph {
    pub async fn users(&self) -> Result<Vec<User>> {
        self.collection(&USERS, "?$select=id,displayName,userPrincipalName,accountEnabled,userType,onPremisesSyncEnabled,assignedLicenses&$top=999").await
    }

    pub async fn groups(&self) -> Result<Vec<Group>> {
        self.collection(&GROUPS, "?$select=id,displayName&$top=999")
            .await
    }

    pub async fn group_members(&self, group_id: &str) -> Result<Vec<Member>> {
        self.child_collection(&GROUP_MEMBERS, group_id, "?$select=id&$top=999")
            .await
    }

    pub async fn security_defaults(&self) -> Result<SecurityDefaults> {
        self.object(&SECURITY_DEFAULTS, "").await
    }

    pub async fn conditional_access_policies(&self) -> Result<Vec<ConditionalAccessPolicy>> {
        self.collection(&CONDITIONAL_ACCESS, "").await
    }

    pub async fn registration_details(&self) -> Result<Vec<RegistrationDetail>> {
        self.collection(&REGISTRATION, "").await
    }

    pub async fn subscribed_skus(&self) -> Result<Vec<SubscribedSku>> {
        self.collection(&SKUS, "").await
    }

    pub async fn role_assignments(&self) -> Result<Vec<RoleAssignment>> {
        self.collection(&ROLE_ASSIGNMENTS, "").await
    }

    pub async fn role_eligibilities(&self) -> Result<Vec<RoleAssignment>> {
        self.collection(&ROLE_ELIGIBILITY, "").await
    }

    pub async fn domains(&self) -> Result<Vec<Domain>> {
        self.collection(&DOMAINS, "").await
    }

    pub async fn federation(&self, domain: &str) -> Result<Vec<FederationConfiguration>> {
        self.child_collection(&FEDERATION, domain, "").await
    }

    pub async fn per_user_mfa(&self, user_id: &str) -> Result<PerUserMfa> {
        self.child_object(&PER_USER_MFA, user_id).await
    }

    pub async fn gdap_relationships(&self) -> Result<Vec<GdapRelationship>> {
        self.collection(&GDAP, "?$top=300").await
    }

    pub async fn gdap_access_assignments(
        &self,
        relationship_id: &str,
    ) -> Result<Vec<AccessAssignment>> {
        self.child_collection(&GDAP_ASSIGNMENTS, relationship_id, "")
            .await
    }
}
