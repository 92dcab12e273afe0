//! Check 7: GDAP least privilege — relationships granting Global Administrator, expired or
//! ending soon without auto-extend, access assignments whose groups hold users without MFA, and
//! leftover DAP: customers Partner Center lists with delegated admin access still allowed
//! (`allowDelegatedAccess`, api-contracts §5.8), and a DAP-era AdminAgents group still in use.

use super::admin_agents::ADMIN_AGENTS;
use super::coverage::AccountKind;
use super::{CheckId, Finding, Severity, Sources, Status, roles};
use chrono::Utc;
use std::collections::HashMap;

const CHECK: CheckId = CheckId::GdapLeastPrivilege;

/// Statuses of relationships that no longer grant anything.
const ENDED: &[&str] = &["terminated", "terminating", "terminationRequested"];

pub async fn run(sources: &Sources) -> Vec<Finding> {
    let relationships = match sources.gdap().await {
        Ok(r) => r,
        Err(f) => return vec![Finding::unavailable(CHECK, &f)],
    };
    let mut findings = Vec::new();
    // Users failing check 1, by id.
    let failing: Option<HashMap<String, String>> = match sources.coverage().await {
        Ok(report) => Some(
            report
                .users
                .iter()
                .filter(|c| c.kind == AccountKind::User && !c.is_covered())
                .map(|c| {
                    (
                        c.user_id.to_ascii_lowercase(),
                        c.user_principal_name.clone(),
                    )
                })
                .collect(),
        ),
        Err(f) => {
            findings.push(Finding::unavailable(CHECK, &f));
            None
        }
    };
    let groups = sources.groups().await.ok();
    let group_name = |id: &str| {
        groups
            .as_ref()
            .and_then(|g| {
                g.iter()
                    .find(|g| g.id.eq_ignore_ascii_case(id))
                    .and_then(|g| g.display_name.clone())
            })
            .unwrap_or_else(|| id.to_owned())
    };
    let soon = Utc::now() + chrono::Duration::days(i64::from(sources.options.expiring_within_days));
    if relationships
        .iter()
        .all(|r| ENDED.contains(&r.relationship.status.as_str()))
    {
        findings.push(Finding::new(
            CHECK,
            "NoRelationships",
            Status::NotApplicable,
            Severity::Info,
            sources.tenant(),
            "No current GDAP relationships.",
            "",
        ));
    }
    for entry in relationships
        .iter()
        .filter(|r| !ENDED.contains(&r.relationship.status.as_str()))
    {
        let r = &entry.relationship;
        let subject = format!("{} ({})", r.name(), r.customer_name());
        let before = findings.len();
        if r.role_ids()
            .any(|id| id.eq_ignore_ascii_case(roles::GLOBAL_ADMINISTRATOR))
        {
            findings.push(Finding::new(
                CHECK,
                "GlobalAdministrator",
                Status::Fail,
                Severity::High,
                &subject,
                format!("Relationship {} (status {}) grants Global Administrator; roles: {}.", r.id, r.status, r.role_ids().map(roles::name).collect::<Vec<_>>().join(", ")),
                "Replace it with a relationship granting only the roles the work needs (e.g. Helpdesk, User, Exchange Administrator), then terminate this one.",
            ));
        }
        if r.status == "expired" {
            findings.push(Finding::new(CHECK, "Expired", Status::Warn, Severity::Low, &subject, format!("Relationship {} expired{}.", r.id, r.end_date_time.map(|t| format!(" on {}", t.format("%Y-%m-%d"))).unwrap_or_default()), "Request a new least-privilege relationship if the customer still needs you, and remove its access assignments."));
        } else if r.status == "active"
            && !r.auto_extends()
            && r.end_date_time.is_some_and(|end| end <= soon)
        {
            let end = r
                .end_date_time
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_default();
            findings.push(Finding::new(
                CHECK,
                "ExpiringSoon",
                Status::Warn,
                Severity::Medium,
                &subject,
                format!("Relationship {} ends on {end} (within {} days) and does not auto-extend (autoExtendDuration {}).", r.id, sources.options.expiring_within_days, r.auto_extend_duration.as_deref().unwrap_or("PT0S")),
                "Ask the customer to approve a new relationship before it ends, or enable auto-extend (P180D) if it grants no Global Administrator.",
            ));
        }
        match (&entry.assignments, &failing) {
            (Err(f), _) => findings.push(Finding::unavailable(CHECK, f)),
            (Ok(assignments), Some(failing)) => {
                for a in assignments.iter().filter(|a| a.status == "active") {
                    let group = &a.access_container.access_container_id;
                    match sources.members(group).await {
                        Ok(members) => {
                            let mut bad: Vec<&String> =
                                members.iter().filter_map(|m| failing.get(m)).collect();
                            bad.sort();
                            for upn in bad {
                                findings.push(Finding::new(
                                    CHECK,
                                    "GroupMemberWithoutMfa",
                                    Status::Fail,
                                    Severity::High,
                                    format!("{upn} via {}", group_name(group)),
                                    format!("{upn} is in group {} which relationship {} ({}) maps to {}, but no policy requires MFA for them.", group_name(group), r.name(), r.customer_name(), a.access_details.unified_roles.iter().map(|u| roles::name(&u.role_definition_id)).collect::<Vec<_>>().join(", ")),
                                    "Require MFA for the user (see the MfaCoverage finding) or remove them from the group.",
                                ));
                            }
                        }
                        Err(f) => findings.push(Finding::unavailable(CHECK, &f)),
                    }
                }
            }
            (Ok(_), None) => {}
        }
        if findings.len() == before && r.status == "active" {
            findings.push(Finding::pass(
                CHECK,
                "Relationship",
                &subject,
                format!(
                    "Relationship {}: roles {}; ends {}; auto-extend {}.",
                    r.id,
                    r.role_ids().map(roles::name).collect::<Vec<_>>().join(", "),
                    r.end_date_time
                        .map(|t| t.format("%Y-%m-%d").to_string())
                        .unwrap_or_else(|| "-".into()),
                    r.auto_extend_duration.as_deref().unwrap_or("PT0S")
                ),
            ));
        }
    }
    // Leftover DAP, customer by customer.
    let dap_customers = match sources.customers().await {
        Ok(customers) => {
            let dap: Vec<_> = customers
                .iter()
                .filter(|c| c.allow_delegated_access == Some(true))
                .collect();
            for c in &dap {
                findings.push(Finding::new(
                    CHECK,
                    "DapCustomer",
                    Status::Fail,
                    Severity::High,
                    c.label(),
                    format!("Partner Center lists customer {} (tenant {}) with allowDelegatedAccess true: DAP still gives the partner's AdminAgents Global Administrator there, beside any GDAP relationship.", c.label(), c.company_profile.tenant_id.as_deref().unwrap_or(&c.id)),
                    "Make sure a least-privilege GDAP relationship covers the work for this customer, then remove DAP (Partner Center: PATCH /v1/customers/{customer tenant id} with {\"AllowDelegatedAccess\": false}).",
                ));
            }
            Some(dap.len())
        }
        Err(f) => {
            findings.push(Finding::unavailable(CHECK, &f));
            None
        }
    };
    if let Some(groups) = &groups
        && let Some(g) = groups.iter().find(|g| {
            g.display_name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(ADMIN_AGENTS))
        })
        && let Ok(members) = sources.members(&g.id).await
        && !members.is_empty()
    {
        findings.push(Finding::new(
            CHECK,
            "LeftoverDap",
            Status::Warn,
            Severity::Medium,
            ADMIN_AGENTS,
            format!(
                "The DAP-era AdminAgents group still has {} member(s); under DAP it holds Global Administrator in every customer that kept delegated admin privileges{}.",
                members.len(),
                match dap_customers {
                    Some(0) => " (Partner Center lists none now)".to_owned(),
                    Some(n) => format!(" (Partner Center lists {n})"),
                    None => String::new(),
                }
            ),
            "Move every customer to GDAP, remove DAP (allowDelegatedAccess false), then empty the AdminAgents group.",
        ));
    }
    findings
}
