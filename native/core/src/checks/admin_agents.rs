//! Check 6: admin agents — members of AdminAgents and of the groups GDAP access assignments map
//! to each have the Entra ID P2 service plan assigned, and their privileged roles are
//! PIM-eligible rather than permanent.

use super::{CheckId, Finding, Severity, Sources, Status, roles};
use crate::directory::{PLAN_ENTRA_P2, User};
use std::collections::{BTreeMap, BTreeSet};

const CHECK: CheckId = CheckId::AdminAgents;

/// The partner tenant's DAP-era group whose members administer customers.
pub const ADMIN_AGENTS: &str = "AdminAgents";

/// Admin agents: user ids (lower case) → the groups that make them one.
pub async fn admin_agents(
    sources: &Sources,
) -> Result<BTreeMap<String, BTreeSet<String>>, Vec<Finding>> {
    let groups = sources
        .groups()
        .await
        .map_err(|f| vec![Finding::unavailable(CHECK, &f)])?;
    let mut containers: BTreeMap<String, String> = groups
        .iter()
        .filter(|g| {
            g.display_name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(ADMIN_AGENTS))
        })
        .map(|g| (g.id.to_ascii_lowercase(), ADMIN_AGENTS.to_owned()))
        .collect();
    let relationships = sources
        .gdap()
        .await
        .map_err(|f| vec![Finding::unavailable(CHECK, &f)])?;
    for r in relationships.iter() {
        let assignments = r
            .assignments
            .as_ref()
            .map_err(|f| vec![Finding::unavailable(CHECK, f)])?;
        for a in assignments.iter().filter(|a| a.status != "deleted") {
            let id = a.access_container.access_container_id.to_ascii_lowercase();
            let name = groups
                .iter()
                .find(|g| g.id.eq_ignore_ascii_case(&id))
                .and_then(|g| g.display_name.clone())
                .unwrap_or_else(|| id.clone());
            containers.entry(id).or_insert(name);
        }
    }
    let mut agents: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (id, name) in &containers {
        let members = sources
            .members(id)
            .await
            .map_err(|f| vec![Finding::unavailable(CHECK, &f)])?;
        for m in members.iter() {
            agents.entry(m.clone()).or_default().insert(name.clone());
        }
    }
    Ok(agents)
}

pub async fn run(sources: &Sources) -> Vec<Finding> {
    let tenant = sources.tenant();
    let agents = match admin_agents(sources).await {
        Ok(a) => a,
        Err(findings) => return findings,
    };
    if agents.is_empty() {
        return vec![Finding::new(
            CHECK,
            "NoAdminAgents",
            Status::NotApplicable,
            Severity::Info,
            &tenant,
            "No AdminAgents members and no GDAP-mapped group members.",
            "",
        )];
    }
    let users = match sources.users().await {
        Ok(u) => u,
        Err(f) => return vec![Finding::unavailable(CHECK, &f)],
    };
    let upn = |id: &str| {
        users
            .iter()
            .find(|u| u.id.eq_ignore_ascii_case(id))
            .map(|u| u.user_principal_name.clone())
            .unwrap_or_else(|| id.to_owned())
    };
    let mut findings = Vec::new();
    findings.extend(p2_licences(sources, &agents, &users, &tenant).await);
    let active = match sources.role_assignments().await {
        Ok(a) => a,
        Err(f) => {
            findings.push(Finding::unavailable(CHECK, &f));
            return findings;
        }
    };
    let mut permanent = 0;
    for a in active.iter().filter(|a| {
        roles::is_privileged(&a.role_definition_id)
            && agents.contains_key(&a.principal_id.to_ascii_lowercase())
    }) {
        permanent += 1;
        findings.push(Finding::new(
            CHECK,
            "PermanentPrivilegedRole",
            Status::Fail,
            Severity::High,
            format!("{} ({})", upn(&a.principal_id), roles::name(&a.role_definition_id)),
            format!("Admin agent {} holds {} permanently (active assignment).", upn(&a.principal_id), roles::name(&a.role_definition_id)),
            "Convert the assignment to PIM-eligible with approval or MFA on activation, and remove the permanent assignment.",
        ));
    }
    match sources.role_eligibilities().await {
        Ok(eligible) => {
            for e in eligible.iter().filter(|e| {
                roles::is_privileged(&e.role_definition_id)
                    && agents.contains_key(&e.principal_id.to_ascii_lowercase())
            }) {
                findings.push(Finding::pass(
                    CHECK,
                    "EligiblePrivilegedRole",
                    format!(
                        "{} ({})",
                        upn(&e.principal_id),
                        roles::name(&e.role_definition_id)
                    ),
                    "Eligible through PIM: active only when activated.",
                ));
            }
        }
        Err(f) => findings.push(Finding::unavailable(CHECK, &f)),
    }
    if permanent == 0
        && !findings.iter().any(|f| f.status == Status::Error)
        && !findings
            .iter()
            .any(|f| f.id.ends_with("EligiblePrivilegedRole"))
    {
        findings.push(Finding::pass(
            CHECK,
            "NoPermanentPrivilegedRoles",
            &tenant,
            format!(
                "None of the {} admin agent(s) holds a privileged directory role permanently.",
                agents.len()
            ),
        ));
    }
    findings
}

/// Each admin agent needs the Entra ID P2 service plan on a licence of their own: seats bought
/// but assigned to others do not cover them.
async fn p2_licences(
    sources: &Sources,
    agents: &BTreeMap<String, BTreeSet<String>>,
    users: &[User],
    tenant: &str,
) -> Vec<Finding> {
    let skus = match sources.skus().await {
        Ok(s) => s,
        Err(f) => return vec![Finding::unavailable(CHECK, &f)],
    };
    let mut findings = Vec::new();
    for (id, groups) in agents {
        let user = users.iter().find(|u| u.id.eq_ignore_ascii_case(id));
        if user.is_some_and(|u| u.has_plan(&skus, PLAN_ENTRA_P2)) {
            continue;
        }
        let upn = user.map_or(id.as_str(), |u| u.user_principal_name.as_str());
        let via = groups.iter().map(String::as_str).collect::<Vec<_>>().join(", ");
        findings.push(Finding::new(
            CHECK,
            "P2Licence",
            Status::Fail,
            Severity::High,
            upn,
            format!("Admin agent {upn} (member of {via}) has no licence with the Entra ID P2 service plan assigned."),
            "Assign Entra ID P2 (or Microsoft 365 E5 / EMS E5, with the AAD_PREMIUM_P2 plan enabled) to the user: Privileged Identity Management and risk-based Conditional Access need it for every admin agent.",
        ));
    }
    if findings.is_empty() {
        findings.push(Finding::pass(
            CHECK,
            "P2Licence",
            tenant,
            format!("Each of the {} admin agent(s) has the Entra ID P2 service plan assigned.", agents.len()),
        ));
    }
    findings
}
