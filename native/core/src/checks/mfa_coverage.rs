//! Check 1: MFA for every partner user, guests included — each enabled user with the reason
//! they are covered or not. Break-glass and directory-sync accounts are reported on their own.

use super::coverage::AccountKind;
use super::{CheckId, Finding, Severity, Sources, Status};

const CHECK: CheckId = CheckId::MfaCoverage;

pub async fn run(sources: &Sources) -> Vec<Finding> {
    let report = match sources.coverage().await {
        Ok(r) => r,
        Err(f) => return vec![Finding::unavailable(CHECK, &f)],
    };
    let mut findings: Vec<Finding> = report
        .gaps
        .iter()
        .map(|f| Finding::unavailable(CHECK, f))
        .collect();
    for c in &report.users {
        let who = if c.guest { "guest" } else { "member" };
        let evidence = format!("{} ({who}): {}", c.display_name, c.reason());
        let finding = match c.kind {
            AccountKind::DirectorySync => Finding::new(
                CHECK,
                "DirectorySyncAccount",
                Status::NotApplicable,
                Severity::Info,
                &c.user_principal_name,
                format!(
                    "Entra Connect directory-sync account, excluded from MFA by design. {evidence}"
                ),
                "Use this account for directory synchronisation only; protect the Entra Connect server as a tier-0 asset.",
            ),
            AccountKind::BreakGlass if c.registered == Some(true) => Finding::pass(
                CHECK,
                "BreakGlassAccount",
                &c.user_principal_name,
                format!("Emergency-access account. {evidence}"),
            ),
            AccountKind::BreakGlass => Finding::new(
                CHECK,
                "BreakGlassAccount",
                Status::Warn,
                Severity::Medium,
                &c.user_principal_name,
                format!("Emergency-access account without a registered MFA method. {evidence}"),
                "Register a phishing-resistant method (FIDO2 security key) for the emergency-access account; Microsoft requires MFA for every admin portal sign-in.",
            ),
            AccountKind::User if !c.is_covered() => Finding::new(
                CHECK,
                "NotCovered",
                Status::Fail,
                Severity::High,
                &c.user_principal_name,
                evidence,
                if c.excluded_by.is_empty() {
                    "Require MFA for this user: turn on security defaults, or (with Entra ID P1) a Conditional Access policy requiring MFA for all users and all cloud apps.".to_owned()
                } else {
                    "Remove the user from the policy's exclusions (keep only documented emergency-access accounts excluded).".to_owned()
                },
            ),
            AccountKind::User if c.registered == Some(false) => Finding::new(
                CHECK,
                "NotRegistered",
                Status::Warn,
                Severity::Medium,
                &c.user_principal_name,
                evidence,
                "Have the user register an MFA method (Microsoft Authenticator or a FIDO2 key) now; until then the first sign-in will ask them to register, which an attacker with the password could do first.",
            ),
            AccountKind::User => Finding::pass(CHECK, "Covered", &c.user_principal_name, evidence),
        };
        findings.push(finding);
    }
    findings
}
