//! Check 4: legacy authentication blocked — by security defaults, or by an enabled Conditional
//! Access policy blocking Exchange ActiveSync and other clients for all users and all apps.

use super::{CheckId, Finding, Severity, Sources, Status};
use crate::directory::{ConditionalAccessPolicy, is_non_premium};

const CHECK: CheckId = CheckId::LegacyAuthentication;

fn blocks_legacy(p: &ConditionalAccessPolicy) -> bool {
    p.is_enforced()
        && p.blocks()
        && p.all_apps()
        && p.covers_legacy_clients()
        && p.conditions
            .users
            .include_users
            .iter()
            .any(|u| u.eq_ignore_ascii_case("All"))
}

pub async fn run(sources: &Sources) -> Vec<Finding> {
    let tenant = sources.tenant();
    let sd = match sources.security_defaults().await {
        Ok(sd) => *sd,
        Err(f) => return vec![Finding::unavailable(CHECK, &f)],
    };
    if sd {
        return vec![Finding::pass(
            CHECK,
            "BlockedBySecurityDefaults",
            &tenant,
            "Security defaults are on: legacy authentication is blocked (sign-in error 530035).",
        )];
    }
    let policies = match sources.policies().await {
        Ok(p) => p,
        Err(f) if is_non_premium(&f.error) => {
            return vec![Finding::new(
                CHECK,
                "NotBlocked",
                Status::Fail,
                Severity::High,
                &tenant,
                "Security defaults are off and the tenant has no Entra ID P1, so no Conditional Access policy can block legacy authentication.",
                "Turn on security defaults, or license Entra ID P1 and create a Conditional Access policy blocking legacy authentication for all users.",
            )];
        }
        Err(f) => return vec![Finding::unavailable(CHECK, &f)],
    };
    match policies.iter().find(|p| blocks_legacy(p)) {
        Some(p) => {
            let u = &p.conditions.users;
            let excluded = u.exclude_users.len() + u.exclude_groups.len() + u.exclude_roles.len();
            if excluded == 0 {
                vec![Finding::pass(
                    CHECK,
                    "BlockedByConditionalAccess",
                    p.name(),
                    format!(
                        "Policy {} blocks Exchange ActiveSync and other legacy clients for all users and all apps.",
                        p.id
                    ),
                )]
            } else {
                vec![Finding::new(
                    CHECK,
                    "BlockedWithExclusions",
                    Status::Warn,
                    Severity::Medium,
                    p.name(),
                    format!(
                        "Policy {} blocks legacy clients for all users but excludes {excluded} user(s)/group(s)/role(s): {}.",
                        p.id,
                        u.exclude_users
                            .iter()
                            .chain(&u.exclude_groups)
                            .chain(&u.exclude_roles)
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    "Remove the exclusions (legacy protocols cannot do MFA, so excluded accounts stay exposed).",
                )]
            }
        }
        None => vec![Finding::new(
            CHECK,
            "NotBlocked",
            Status::Fail,
            Severity::High,
            &tenant,
            format!(
                "Security defaults are off and none of the {} Conditional Access policies blocks legacy clients (exchangeActiveSync and other) for all users and all apps.",
                policies.len()
            ),
            "Create a Conditional Access policy: all users, all cloud apps, client apps Exchange ActiveSync and Other clients, grant Block; enable it after a report-only review.",
        )],
    }
}
