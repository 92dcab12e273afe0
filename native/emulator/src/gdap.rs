//! Granular delegated admin privileges (GDAP): the partner tenant's relationships with its
//! customers, in Graph's `delegatedAdminRelationship` shape (api-contracts §4.7).
//!
//! The scenario lists them on the partner tenant under `delegatedAdminRelationships`, with
//! Graph's property names, so the STS (a partner user's refresh token redeemed at a customer's
//! authority) and Graph's `tenantRelationships` endpoints read the same data.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::scenario::{Tenant, TimeSpec};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DelegatedAdminRelationship {
    /// Graph's ids are two GUIDs joined by `-`; any non-empty unique string is accepted.
    pub id: String,
    pub display_name: String,
    pub customer: DelegatedAdminCustomer,
    pub status: RelationshipStatus,
    /// ISO-8601 duration such as `P730D`, as Graph returns it.
    #[serde(default)]
    pub duration: Option<String>,
    /// `PT0S` (off) or `P180D`.
    #[serde(default)]
    pub auto_extend_duration: Option<String>,
    #[serde(default)]
    pub created_date_time: Option<TimeSpec>,
    #[serde(default)]
    pub activated_date_time: Option<TimeSpec>,
    #[serde(default)]
    pub last_modified_date_time: Option<TimeSpec>,
    /// Absent (null) while the relationship is not yet approved.
    #[serde(default)]
    pub end_date_time: Option<TimeSpec>,
    pub access_details: AccessDetails,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DelegatedAdminCustomer {
    pub tenant_id: String,
    pub display_name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessDetails {
    pub unified_roles: Vec<UnifiedRole>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UnifiedRole {
    /// A directory role template id (api-contracts §4.6).
    pub role_definition_id: String,
}

/// Graph's `delegatedAdminRelationshipStatus` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RelationshipStatus {
    Activating,
    Active,
    ApprovalPending,
    Approved,
    Created,
    Expired,
    Expiring,
    Terminated,
    Terminating,
    TerminationRequested,
}

impl RelationshipStatus {
    /// Whether partner users can act in the customer tenant. `expiring` is an active
    /// relationship close to its end; every other status is before approval or after the end.
    fn grants_access(self) -> bool {
        matches!(
            self,
            RelationshipStatus::Active | RelationshipStatus::Expiring
        )
    }
}

impl DelegatedAdminRelationship {
    /// The relationship as Graph's `tenantRelationships/delegatedAdminRelationships` lists it,
    /// its scenario times resolved.
    pub fn to_graph(&self, loaded_at: DateTime<Utc>) -> Value {
        let time = |t: &Option<TimeSpec>| {
            t.as_ref().map(|t| {
                t.resolve(loaded_at)
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            })
        };
        let roles: Vec<Value> = self
            .access_details
            .unified_roles
            .iter()
            .map(|r| json!({ "roleDefinitionId": r.role_definition_id }))
            .collect();
        json!({
            "id": self.id,
            "displayName": self.display_name,
            "duration": self.duration,
            "status": self.status,
            "autoExtendDuration": self.auto_extend_duration,
            "createdDateTime": time(&self.created_date_time),
            "lastModifiedDateTime": time(&self.last_modified_date_time),
            "activatedDateTime": time(&self.activated_date_time),
            "endDateTime": time(&self.end_date_time),
            "customer": { "tenantId": self.customer.tenant_id, "displayName": self.customer.display_name },
            "accessDetails": { "unifiedRoles": roles },
        })
    }

    /// Active at `now`: an access-granting status and an end date still ahead.
    pub fn is_active(&self, loaded_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        self.status.grants_access()
            && self
                .end_date_time
                .is_some_and(|end| end.resolve(loaded_at) > now)
    }
}

/// What a partner user may do in one customer tenant: the union of the roles of every active
/// relationship with it (they become the token's `wids`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegatedAccess {
    pub roles: Vec<String>,
}

/// The partner's delegated access to `customer_id` at `now`, or `None` when no relationship
/// with that customer is active.
pub fn delegated_access(
    partner: &Tenant,
    customer_id: &str,
    loaded_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<DelegatedAccess> {
    let mut roles: Vec<String> = Vec::new();
    let mut any = false;
    for r in partner.delegated_admin_relationships.iter().filter(|r| {
        r.customer.tenant_id.eq_ignore_ascii_case(customer_id) && r.is_active(loaded_at, now)
    }) {
        any = true;
        for role in &r.access_details.unified_roles {
            if !roles
                .iter()
                .any(|x| x.eq_ignore_ascii_case(&role.role_definition_id))
            {
                roles.push(role.role_definition_id.clone());
            }
        }
    }
    any.then_some(DelegatedAccess { roles })
}

/// Checks one tenant's relationships: GUIDs where Graph has GUIDs, unique ids, no relationship
/// with the partner itself.
pub fn validate(tenant: &Tenant) -> Result<(), String> {
    let mut ids = std::collections::HashSet::new();
    for r in &tenant.delegated_admin_relationships {
        let at = format!(
            "tenant {}: delegatedAdminRelationship '{}'",
            tenant.id, r.id
        );
        if r.id.trim().is_empty() || !ids.insert(r.id.to_ascii_lowercase()) {
            return Err(format!("{at}: id empty or used twice"));
        }
        if uuid::Uuid::parse_str(&r.customer.tenant_id).is_err() {
            return Err(format!("{at}: customer.tenantId is not a GUID"));
        }
        if r.customer.tenant_id.eq_ignore_ascii_case(&tenant.id) {
            return Err(format!("{at}: a partner has no relationship with itself"));
        }
        if let Some(role) = r
            .access_details
            .unified_roles
            .iter()
            .find(|u| uuid::Uuid::parse_str(&u.role_definition_id).is_err())
        {
            return Err(format!(
                "{at}: roleDefinitionId '{}' is not a GUID",
                role.role_definition_id
            ));
        }
        if r.status.grants_access() && r.end_date_time.is_none() {
            return Err(format!(
                "{at}: an {:?} relationship needs endDateTime",
                r.status
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    const PARTNER: &str = "11111111-1111-1111-1111-111111111111";
    const CUSTOMER: &str = "22222222-2222-2222-2222-222222222222";
    const USER_ADMIN: &str = "fe930be7-5e62-47db-91af-98c3a49a38b1";
    const GLOBAL_READER: &str = "f2ef992c-3afb-46b9-b7cf-a126ee74c451";

    fn scenario(relationships: &str) -> Result<Scenario, String> {
        let text = format!(
            r#"{{"tenants":[{{"id":"{PARTNER}","domains":["p.onmicrosoft.com"],"displayName":"P",
                "delegatedAdminRelationships":[{relationships}]}}]}}"#
        );
        Scenario::load(&text, "http://x", Utc::now()).map_err(|e| format!("{e:#}"))
    }

    fn relationship(id: &str, status: &str, end: &str, role: &str) -> String {
        format!(
            r#"{{"id":"{id}","displayName":"r","customer":{{"tenantId":"{CUSTOMER}","displayName":"C"}},
                "status":"{status}","endDateTime":"{end}",
                "accessDetails":{{"unifiedRoles":[{{"roleDefinitionId":"{role}"}}]}}}}"#
        )
    }

    fn access(s: &Scenario, now: DateTime<Utc>) -> Option<DelegatedAccess> {
        let partner = s.tenant(PARTNER)?;
        delegated_access(partner, CUSTOMER, s.loaded_at, now)
    }

    #[test]
    fn active_relationships_grant_the_union_of_their_roles() {
        let two = [
            relationship("a", "active", "+10d", USER_ADMIN),
            relationship("b", "expiring", "+1d", GLOBAL_READER),
            relationship(
                "c",
                "terminated",
                "+10d",
                "62e90394-69f5-4237-9190-012177145e10",
            ),
        ]
        .join(",");
        let s = match scenario(&two) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(
            access(&s, s.loaded_at),
            Some(DelegatedAccess {
                roles: vec![USER_ADMIN.to_owned(), GLOBAL_READER.to_owned()]
            })
        );
        // Two days on, only the first one is still running.
        let later = s.loaded_at + chrono::Duration::days(2);
        assert_eq!(
            access(&s, later).map(|a| a.roles),
            Some(vec![USER_ADMIN.to_owned()])
        );
        assert_eq!(access(&s, s.loaded_at + chrono::Duration::days(11)), None);
    }

    #[test]
    fn ended_or_unapproved_relationships_grant_nothing() {
        let s = scenario(&relationship("a", "active", "-1d", USER_ADMIN));
        assert!(s.as_ref().is_ok_and(|s| access(s, s.loaded_at).is_none()));
        let s = scenario(&relationship("a", "approvalPending", "+1d", USER_ADMIN));
        assert!(s.as_ref().is_ok_and(|s| access(s, s.loaded_at).is_none()));
    }

    #[test]
    fn bad_relationships_are_rejected_at_load() {
        let bad_role = scenario(&relationship("a", "active", "+1d", "not-a-guid"));
        assert!(bad_role.is_err_and(|e| e.contains("roleDefinitionId")));
        let twice = [
            relationship("a", "active", "+1d", USER_ADMIN),
            relationship("a", "active", "+1d", USER_ADMIN),
        ]
        .join(",");
        assert!(scenario(&twice).is_err_and(|e| e.contains("used twice")));
        let unknown_status = scenario(&relationship("a", "enabled", "+1d", USER_ADMIN));
        assert!(unknown_status.is_err());
    }
}
