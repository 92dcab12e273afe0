//! Directory, policy and report endpoints a partner-security assessment reads (api-contracts §4):
//! users, groups and members, the security-defaults policy, Conditional Access policies,
//! `userRegistrationDetails`, `subscribedSkus`, role assignments and PIM eligibility, domains
//! and their federation settings, and beta per-user MFA state. Data comes from the tenant's
//! users and its `compliance` section ([`crate::compliance`]).

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::GraphCall;
use super::collection::{DIRECTORY, Gate, GraphRead, Licence};
use crate::compliance::{self, ComplianceSpec};
use crate::scenario::{Tenant, User, UserType};
use crate::state::AppState;

const USERS: Gate = Gate {
    delegated: &["User.Read.All", "Directory.Read.All"],
    application: &["User.Read.All", "Directory.Read.All"],
    licence: Licence::Free,
};
const GROUPS: Gate = Gate {
    delegated: &[
        "GroupMember.Read.All",
        "Group.Read.All",
        "Directory.Read.All",
    ],
    application: &[
        "GroupMember.Read.All",
        "Group.Read.All",
        "Directory.Read.All",
    ],
    licence: Licence::Free,
};
const SECURITY_DEFAULTS: Gate = Gate {
    delegated: &["Policy.Read.All"],
    application: &["Policy.Read.All"],
    licence: Licence::Free,
};
const CONDITIONAL_ACCESS: Gate = Gate {
    delegated: &["Policy.Read.All"],
    application: &["Policy.Read.All"],
    licence: Licence::P1,
};
const REGISTRATION: Gate = Gate {
    delegated: &["AuditLog.Read.All"],
    application: &["AuditLog.Read.All"],
    licence: Licence::P1,
};
const SKUS: Gate = Gate {
    delegated: &[
        "Organization.Read.All",
        "Directory.Read.All",
        "LicenseAssignment.Read.All",
    ],
    application: &[
        "Organization.Read.All",
        "Directory.Read.All",
        "LicenseAssignment.Read.All",
    ],
    licence: Licence::Free,
};
const ROLES: Gate = Gate {
    delegated: &["RoleManagement.Read.Directory", "Directory.Read.All"],
    application: &["RoleManagement.Read.Directory", "Directory.Read.All"],
    licence: Licence::Free,
};
const ELIGIBILITY: Gate = Gate {
    delegated: &[
        "RoleEligibilitySchedule.Read.Directory",
        "RoleManagement.Read.Directory",
    ],
    application: &["RoleManagement.Read.Directory", "RoleManagement.Read.All"],
    licence: Licence::P2,
};
const DOMAINS: Gate = Gate {
    delegated: &["Domain.Read.All", "Directory.Read.All"],
    application: &["Domain.Read.All", "Directory.Read.All"],
    licence: Licence::Free,
};
const PER_USER_MFA: Gate = Gate {
    delegated: &["Policy.Read.All"],
    application: &["Policy.Read.All"],
    licence: Licence::Free,
};

/// Properties `/users` returns without `$select` (api-contracts §4.5).
const USER_DEFAULT_PROPERTIES: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "id",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
];

/// Entra ID service plans (api-contracts §4.4).
const PLAN_P1: Plan = ("41781fb2-bc02-4b7c-bd55-b576c07bb09d", "AAD_PREMIUM");
const PLAN_P2: Plan = ("eec0eb4f-6444-4f95-aba0-50c24d67f998", "AAD_PREMIUM_P2");
const PLAN_MFA: Plan = ("8a256a2b-b617-496d-b51b-e76466e88db0", "MFA_PREMIUM");

/// `(servicePlanId, servicePlanName)`.
type Plan = (&'static str, &'static str);

/// `(skuPartNumber, skuId, Entra plans)`; other part numbers get no Entra plan.
const SKUS_KNOWN: &[(&str, &str, &[Plan])] = &[
    (
        "AAD_PREMIUM",
        "078d2b04-f1bd-4111-bbd4-b4b1b354cef4",
        &[PLAN_P1, PLAN_MFA],
    ),
    (
        "AAD_PREMIUM_P2",
        "84a661c4-e949-4bd2-a560-ed7766fcaf2b",
        &[PLAN_P1, PLAN_P2, PLAN_MFA],
    ),
    (
        "SPE_E5",
        "06ebc4ee-1bb5-47dd-8120-11324bc54e06",
        &[PLAN_P1, PLAN_P2, PLAN_MFA],
    ),
    (
        "EMSPREMIUM",
        "b05e124f-c7cc-45a0-a6aa-8cf78c946968",
        &[PLAN_P1, PLAN_P2, PLAN_MFA],
    ),
    (
        "SPE_E3",
        "05e9a617-0261-4cee-bb44-138d3ef5d965",
        &[PLAN_P1, PLAN_MFA],
    ),
    (
        "SPB",
        "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46",
        &[PLAN_P1, PLAN_MFA],
    ),
    (
        "EMS",
        "efccb6f7-5641-4e0e-bd10-b4976e1bf68e",
        &[PLAN_P1, PLAN_MFA],
    ),
    (
        "ENTERPRISEPACK",
        "6fd2c87f-b296-42f0-b197-1e91e994b900",
        &[],
    ),
];

fn spec(tenant: &Tenant) -> ComplianceSpec {
    tenant.compliance.clone().unwrap_or_default()
}

fn user_type(u: &User) -> &'static str {
    match u.user_type {
        UserType::Member => "Member",
        UserType::Guest => "Guest",
    }
}

/// A SKU's id: the real one for known part numbers, a stable made-up one for the rest.
fn sku_id(part: &str) -> String {
    SKUS_KNOWN
        .iter()
        .find(|(p, _, _)| p.eq_ignore_ascii_case(part))
        .map_or_else(
            || uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, part.as_bytes()).to_string(),
            |k| k.1.to_owned(),
        )
}

fn user_json(tenant: &Tenant, u: &User) -> Value {
    let detail = compliance::detail(tenant, &u.id);
    let sync = detail.and_then(|d| d.on_premises_sync_enabled);
    let licences: Vec<Value> = detail
        .map(|d| d.assigned_licenses.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|part| json!({"skuId": sku_id(part), "disabledPlans": []}))
        .collect();
    json!({
        "@odata.type": "#microsoft.graph.user",
        "id": u.id,
        "businessPhones": [],
        "displayName": u.display_name,
        "givenName": u.given_name,
        "jobTitle": null,
        "mail": u.mail,
        "mobilePhone": null,
        "officeLocation": null,
        "preferredLanguage": null,
        "surname": u.surname,
        "userPrincipalName": u.user_principal_name,
        "accountEnabled": u.account_enabled,
        "userType": user_type(u),
        "onPremisesSyncEnabled": sync,
        "assignedLicenses": licences,
    })
}

pub async fn users(read: GraphRead) -> Response {
    let full = read.has_select();
    read.list(&USERS, DIRECTORY, "users", |tenant, _| {
        Ok(tenant
            .users
            .iter()
            .map(|u| {
                let mut item = user_json(tenant, u);
                if !full && let Some(map) = item.as_object_mut() {
                    map.retain(|k, _| USER_DEFAULT_PROPERTIES.contains(&k.as_str()));
                }
                item
            })
            .collect())
    })
}

pub async fn groups(read: GraphRead) -> Response {
    read.list(&GROUPS, DIRECTORY, "groups", |tenant, _| {
        Ok(spec(tenant)
            .groups
            .iter()
            .map(|g| json!({"id": g.id, "displayName": g.display_name, "securityEnabled": true, "mailEnabled": false, "groupTypes": []}))
            .collect())
    })
}

/// `groups/{id}/members` and `transitiveMembers` (groups in the scenario have no nested groups).
pub async fn group_members(read: GraphRead) -> Response {
    let path = format!("groups/{}/members", read.id);
    read.list(&GROUPS, DIRECTORY, &path, |tenant, call| {
        let spec = spec(tenant);
        let Some(group) = spec
            .groups
            .iter()
            .find(|g| g.id.eq_ignore_ascii_case(&read.id))
        else {
            return Err(Box::new(not_found(&read.st, call, &read.id)));
        };
        Ok(group
            .members
            .iter()
            .filter_map(|m| tenant.user(m))
            .map(|u| user_json(tenant, u))
            .collect())
    })
}

pub async fn security_defaults(read: GraphRead) -> Response {
    let (st, version) = (&read.st, &read.version);
    read.answer(&SECURITY_DEFAULTS, |tenant, call| {
        call.ok(json!({
            "@odata.context": format!("{}/graph/{version}/$metadata#policies/identitySecurityDefaultsEnforcementPolicy/$entity", st.base_url),
            "description": "Security defaults is a set of basic identity security mechanisms recommended by Microsoft. When enabled, these recommendations will be automatically enforced in your organization. Administrators and users will be better protected from common identity related attacks.",
            "displayName": "Security Defaults",
            "id": "00000000-0000-0000-0000-000000000005",
            "isEnabled": spec(tenant).security_defaults
        }))
    })
}

pub async fn conditional_access_policies(read: GraphRead) -> Response {
    let path = "identity/conditionalAccess/policies";
    read.list(&CONDITIONAL_ACCESS, DIRECTORY, path, |tenant, _| {
        Ok(spec(tenant).conditional_access_policies)
    })
}

pub async fn registration_details(read: GraphRead) -> Response {
    let path = "reports/authenticationMethods/userRegistrationDetails";
    let updated = read
        .st
        .scenario
        .loaded_at
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    read.list(&REGISTRATION, DIRECTORY, path, |tenant, _| {
        Ok(tenant
            .users
            .iter()
            .map(|u| {
                let methods = compliance::methods_of(tenant, &u.id);
                let mfa = methods.iter().any(|m| m != "email" && m != "securityQuestion");
                json!({
                    "id": u.id,
                    "userPrincipalName": u.user_principal_name,
                    "userDisplayName": u.display_name,
                    "userType": user_type(u).to_ascii_lowercase(),
                    "isAdmin": !u.roles.is_empty(),
                    "isSsprRegistered": mfa,
                    "isSsprEnabled": false,
                    "isSsprCapable": false,
                    "isMfaRegistered": mfa,
                    "isMfaCapable": mfa,
                    "isPasswordlessCapable": methods.iter().any(|m| m == "fido2" || m == "windowsHelloForBusiness" || m == "microsoftAuthenticatorPasswordless"),
                    "lastUpdatedDateTime": updated,
                    "methodsRegistered": methods,
                    "isSystemPreferredAuthenticationMethodEnabled": true,
                    "systemPreferredAuthenticationMethods": if mfa { json!(["push"]) } else { json!([]) },
                    "userPreferredMethodForSecondaryAuthentication": if mfa { "push" } else { "" },
                })
            })
            .collect())
    })
}

pub async fn subscribed_skus(read: GraphRead) -> Response {
    let (st, version) = (&read.st, &read.version);
    read.answer(&SKUS, |tenant, call| {
        let units = spec(tenant).license_units;
        let value: Vec<Value> = tenant
            .licenses
            .iter()
            .map(|part| {
                let known = SKUS_KNOWN.iter().find(|(p, _, _)| p.eq_ignore_ascii_case(part));
                let sku_id = sku_id(part);
                let plans: Vec<Value> = known
                    .map(|k| k.2)
                    .unwrap_or_default()
                    .iter()
                    .map(|(id, name)| json!({"servicePlanId": id, "servicePlanName": name, "provisioningStatus": "Success", "appliesTo": "User"}))
                    .collect();
                let enabled = units.get(part).copied().unwrap_or(25);
                json!({
                    "accountName": tenant.display_name,
                    "accountId": tenant.id,
                    "appliesTo": "User",
                    "capabilityStatus": "Enabled",
                    "consumedUnits": tenant.users.len().min(enabled as usize),
                    "id": format!("{}_{sku_id}", tenant.id),
                    "prepaidUnits": {"enabled": enabled, "lockedOut": 0, "suspended": 0, "warning": 0},
                    "servicePlans": plans,
                    "skuId": sku_id,
                    "skuPartNumber": part,
                    "subscriptionIds": [uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, format!("{}{part}", tenant.id).as_bytes()).to_string()]
                })
            })
            .collect();
        call.ok(json!({
            "@odata.context": format!("{}/graph/{version}/$metadata#subscribedSkus", st.base_url),
            "value": value
        }))
    })
}

pub async fn role_assignments(read: GraphRead) -> Response {
    let path = "roleManagement/directory/roleAssignments";
    read.list(&ROLES, DIRECTORY, path, |tenant, _| {
        Ok(tenant
            .users
            .iter()
            .flat_map(|u| {
                u.roles.iter().map(move |role| {
                    json!({
                        "id": format!("{role}-{}-1", u.id),
                        "principalId": u.id,
                        "resourceScope": "/",
                        "directoryScopeId": "/",
                        "roleDefinitionId": role,
                    })
                })
            })
            .collect())
    })
}

pub async fn role_eligibility_schedules(read: GraphRead) -> Response {
    let path = "roleManagement/directory/roleEligibilitySchedules";
    let created = read
        .st
        .scenario
        .loaded_at
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    read.list(&ELIGIBILITY, DIRECTORY, path, |tenant, _| {
        Ok(spec(tenant)
            .role_eligibilities
            .iter()
            .map(|e| {
                json!({
                    "id": format!("{}-{}", e.role_definition_id, e.principal_id),
                    "principalId": e.principal_id,
                    "roleDefinitionId": e.role_definition_id,
                    "directoryScopeId": "/",
                    "memberType": "Direct",
                    "status": "Provisioned",
                    "createdDateTime": created,
                    "scheduleInfo": {"startDateTime": created, "expiration": {"type": "noExpiration", "endDateTime": null, "duration": null}}
                })
            })
            .collect())
    })
}

pub async fn domains(read: GraphRead) -> Response {
    read.list(&DOMAINS, DIRECTORY, "domains", |tenant, _| {
        let federated = spec(tenant).federated_domains;
        let managed = tenant.domains.iter().map(|d| (d.as_str(), "Managed"));
        Ok(managed
            .chain(federated.iter().map(|f| (f.name.as_str(), "Federated")))
            .enumerate()
            .map(|(i, (name, kind))| {
                json!({
                    "id": name,
                    "authenticationType": kind,
                    "isDefault": i == 0,
                    "isInitial": name.to_ascii_lowercase().ends_with(".onmicrosoft.com"),
                    "isVerified": true,
                    "supportedServices": ["Email", "OfficeCommunicationsOnline"]
                })
            })
            .collect())
    })
}

pub async fn federation_configuration(read: GraphRead) -> Response {
    let (st, version, domain) = (&read.st, &read.version, &read.id);
    read.answer(&DOMAINS, |tenant, call| {
        let spec = spec(tenant);
        let federated = spec
            .federated_domains
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(domain));
        let value = match federated {
            Some(f) => vec![json!({
                "@odata.type": "#microsoft.graph.internalDomainFederation",
                "id": uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_DNS, f.name.as_bytes()).to_string(),
                "displayName": format!("{} federation", f.name),
                "issuerUri": f.issuer_uri(),
                "preferredAuthenticationProtocol": "wsFed",
                "federatedIdpMfaBehavior": f.federated_idp_mfa_behavior,
            })],
            None if tenant
                .domains
                .iter()
                .any(|d| d.eq_ignore_ascii_case(domain)) =>
            {
                Vec::new()
            }
            None => return not_found(st, call, domain),
        };
        call.ok(json!({
            "@odata.context": format!("{}/graph/{version}/$metadata#domains('{domain}')/federationConfiguration", st.base_url),
            "value": value
        }))
    })
}

/// Beta `GET /users/{id}/authentication/requirements` → `{perUserMfaState}`.
pub async fn per_user_mfa(read: GraphRead) -> Response {
    let (st, user_id) = (&read.st, &read.id);
    if read.version != "beta" {
        return GraphCall::new(&read.headers).error(
            st,
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Resource not found for the segment 'requirements'.",
        );
    }
    read.answer(&PER_USER_MFA, |tenant, call| {
        let Some(user) = tenant
            .user(user_id)
            .or_else(|| tenant.user_by_upn(user_id))
        else {
            return not_found(st, call, user_id);
        };
        let state = compliance::detail(tenant, &user.id)
            .and_then(|d| d.per_user_mfa_state.clone())
            .unwrap_or_else(|| "disabled".to_owned());
        call.ok(json!({
            "@odata.context": format!("{}/graph/beta/$metadata#users('{}')/authentication/requirements/$entity", st.base_url, user.id),
            "perUserMfaState": state
        }))
    })
}

fn not_found(st: &AppState, call: &GraphCall, id: &str) -> Response {
    call.error(
        st,
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        &format!("Resource '{id}' does not exist or one of its queried reference-property objects are not present."),
    )
}
