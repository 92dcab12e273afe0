//! Check 3: security defaults vs Conditional Access vs per-user MFA — conflicting or half-done
//! states, and which path fits the licence tier (Free → security defaults; P1/P2 → Conditional
//! Access; per-user MFA retired either way).

use super::{CheckId, Finding, Severity, Sources, Status};
use crate::directory::{ConditionalAccessPolicy, is_non_premium};

const CHECK: CheckId = CheckId::MfaConfiguration;

/// An enforced policy requiring MFA of all users for all apps on modern clients.
pub fn is_tenant_wide_mfa(p: &ConditionalAccessPolicy) -> bool {
    p.is_enforced()
        && p.requires_mfa()
        && p.all_apps()
        && p.covers_modern_clients()
        && p.conditions
            .users
            .include_users
            .iter()
            .any(|u| u.eq_ignore_ascii_case("All"))
}

pub async fn run(sources: &Sources) -> Vec<Finding> {
    let tenant = sources.tenant();
    let (sd, tier) = match (sources.security_defaults().await, sources.licences().await) {
        (Ok(sd), Ok(tier)) => (*sd, *tier),
        (Err(a), Err(b)) => {
            return vec![
                Finding::unavailable(CHECK, &a),
                Finding::unavailable(CHECK, &b),
            ];
        }
        (Err(f), _) | (_, Err(f)) => return vec![Finding::unavailable(CHECK, &f)],
    };
    let mut findings = Vec::new();
    let policies: Vec<ConditionalAccessPolicy> = match sources.policies().await {
        Ok(p) => p.to_vec(),
        Err(f) if is_non_premium(&f.error) && !tier.p1 => Vec::new(),
        Err(f) => return vec![Finding::unavailable(CHECK, &f)],
    };
    let enforced: Vec<&ConditionalAccessPolicy> =
        policies.iter().filter(|p| p.is_enforced()).collect();
    let tenant_wide: Vec<&ConditionalAccessPolicy> = enforced
        .iter()
        .copied()
        .filter(|p| is_tenant_wide_mfa(p))
        .collect();
    if sd && !enforced.is_empty() {
        findings.push(Finding::new(
            CHECK,
            "Conflict",
            Status::Fail,
            Severity::High,
            &tenant,
            format!("Security defaults are on while {} Conditional Access policies are enabled ({}).", enforced.len(), enforced.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ")),
            "Choose one: with Entra ID P1, turn security defaults off once a Conditional Access policy requires MFA for all users; otherwise disable the Conditional Access policies.",
        ));
    }
    if !sd && tenant_wide.is_empty() {
        let remediation = if tier.p1 {
            "Create (or enable) a Conditional Access policy requiring MFA for all users and all cloud apps, excluding only emergency-access accounts."
        } else {
            "Turn on security defaults (Entra admin center > Properties > Manage security defaults): the MFA path for tenants without Entra ID P1."
        };
        findings.push(Finding::new(
            CHECK,
            "NoTenantWideMfa",
            Status::Fail,
            Severity::High,
            &tenant,
            format!("Security defaults are off and no enabled Conditional Access policy requires MFA for all users and all apps ({}; {} policies, {} enabled).", tier.name(), policies.len(), enforced.len()),
            remediation,
        ));
    }
    if sd && tier.p1 && enforced.is_empty() {
        findings.push(Finding::new(
            CHECK,
            "SecurityDefaultsWithPremium",
            Status::Warn,
            Severity::Low,
            &tenant,
            format!("Security defaults are on, and the tenant has {}: Conditional Access allows MFA for everyone with documented exclusions and legacy-protocol blocking.", tier.name()),
            "Plan the move to Conditional Access: create the MFA-for-all-users and block-legacy-authentication policies in report-only mode, check their impact, then enable them and turn security defaults off.",
        ));
    }
    for p in policies
        .iter()
        .filter(|p| p.is_report_only() && p.requires_mfa())
    {
        findings.push(Finding::new(
            CHECK,
            "ReportOnlyPolicy",
            Status::Warn,
            Severity::Medium,
            p.name(),
            format!("Policy {} requires MFA but is report-only (enabledForReportingButNotEnforced): it enforces nothing.", p.id),
            "Review the policy's report-only results, then switch it to On.",
        ));
    }
    match sources.per_user_mfa().await {
        Ok(states) => {
            let mut users: Vec<String> = Vec::new();
            if let Ok(all) = sources.users().await {
                for u in all.iter() {
                    if let Some(state) = states
                        .get(&u.id.to_ascii_lowercase())
                        .filter(|s| *s != "disabled")
                    {
                        users.push(format!("{} ({state})", u.user_principal_name));
                    }
                }
            }
            if !users.is_empty() {
                findings.push(Finding::new(
                    CHECK,
                    "PerUserMfaInUse",
                    Status::Warn,
                    Severity::Medium,
                    &tenant,
                    format!("Per-user MFA is still set for {} user(s): {}. 'enabled' without 'enforced' is a half-done rollout, and per-user MFA overrides Conditional Access conditions.", users.len(), users.join(", ")),
                    "Cover these users with security defaults or Conditional Access, then set their per-user MFA state to disabled.",
                ));
            }
        }
        Err(f) => findings.push(Finding::unavailable(CHECK, &f)),
    }
    if findings.is_empty() {
        let path = if sd {
            "security defaults".to_owned()
        } else {
            format!(
                "Conditional Access ({})",
                tenant_wide
                    .iter()
                    .map(|p| p.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        findings.push(Finding::pass(CHECK, "Consistent", &tenant, format!("MFA is required by {path}, which fits the tenant's licence ({}); no per-user MFA left.", tier.name())));
    }
    findings
}
