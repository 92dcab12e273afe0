//! Check 6: admin agents — members of AdminAgents and of the groups GDAP access assignments map
//! to are covered by Entra ID P2 seats, and their privileged roles are PIM-eligible rather than
//! permanent.

use super::{CheckId, Finding, Severity, Sources, Status, roles};
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
    match sources.licences().await {
        Ok(tier) if tier.p2_seats as usize >= agents.len() => findings.push(Finding::pass(CHECK, "P2Licence", &tenant, format!("{} Entra ID P2 seat(s) for {} admin agent(s).", tier.p2_seats, agents.len()))),
        Ok(tier) => findings.push(Finding::new(
            CHECK,
            "P2Licence",
            Status::Fail,
            Severity::High,
            &tenant,
            format!("{} Entra ID P2 seat(s) for {} admin agent(s) ({}).", tier.p2_seats, agents.len(), agents.keys().map(|id| upn(id)).collect::<Vec<_>>().join(", ")),
            "License Entra ID P2 (or Microsoft 365 E5 / EMS E5) for every admin agent: Privileged Identity Management and risk-based Conditional Access need it.",
        )),
        Err(f) => findings.push(Finding::unavailable(CHECK, &f)),
    }
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
