//! Check 11: non-Microsoft (federated) MFA — for federated domains, whether Entra ID accepts the
//! identity provider's MFA (`federatedIdpMfaBehavior`) and whether recent sign-ins of users in
//! those domains show MFA: when the IdP does MFA but does not say so, Partner Center sees none.

use super::sign_in_evidence::{is_single_factor, text};
use super::{CheckId, Finding, Severity, Sources, Status};
use std::collections::BTreeMap;

const CHECK: CheckId = CheckId::FederatedMfa;

pub async fn run(sources: &Sources) -> Vec<Finding> {
    let domains = match sources.federated_domains().await {
        Ok(d) => d,
        Err(f) => return vec![Finding::unavailable(CHECK, &f)],
    };
    if domains.is_empty() {
        return vec![Finding::new(
            CHECK,
            "NoFederatedDomains",
            Status::NotApplicable,
            Severity::Info,
            sources.tenant(),
            "Every domain is managed by Entra ID: MFA happens in Entra ID and shows in tokens.",
            "",
        )];
    }
    let sign_ins = sources.sign_ins().await;
    let mut findings = Vec::new();
    for d in domains.iter() {
        let behaviour = d
            .configuration
            .as_ref()
            .and_then(|c| c.federated_idp_mfa_behavior.clone())
            .unwrap_or_else(|| "acceptIfMfaDoneByFederatedIdp".into());
        let suffix = format!("@{}", d.domain.id.to_ascii_lowercase());
        let mut single: BTreeMap<String, u32> = BTreeMap::new();
        if let Ok(all) = &sign_ins {
            for s in all.iter().filter(|s| {
                text(s, "UserPrincipalName")
                    .to_ascii_lowercase()
                    .ends_with(&suffix)
                    && is_single_factor(s)
            }) {
                *single
                    .entry(text(s, "UserPrincipalName").to_owned())
                    .or_default() += 1;
            }
        }
        match behaviour.as_str() {
            "rejectMfaByFederatedIdp" => findings.push(Finding::pass(CHECK, "MfaInEntra", &d.domain.id, "federatedIdpMfaBehavior is rejectMfaByFederatedIdp: Entra ID performs MFA itself, so tokens carry 'mfa'.")),
            _ if !single.is_empty() => {
                let users = single.iter().map(|(u, n)| format!("{u} ({n})")).collect::<Vec<_>>().join(", ");
                findings.push(Finding::new(
                    CHECK,
                    "MfaNotVisible",
                    Status::Fail,
                    Severity::High,
                    &d.domain.id,
                    format!("federatedIdpMfaBehavior is {behaviour}, but successful sign-ins of federated users were single-factor (the IdP did not assert MFA, tokens carry 'fed' without 'mfa'): {users}."),
                    "Make the identity provider send the MFA claim (AD FS: the multipleauthn authnmethodsreferences claim; other IdPs: their MFA assertion), or set federatedIdpMfaBehavior to enforceMfaByFederatedIdp / rejectMfaByFederatedIdp so MFA is visible to Entra ID and Partner Center.",
                ));
            }
            _ => findings.push(Finding::pass(CHECK, "MfaAccepted", &d.domain.id, format!("federatedIdpMfaBehavior is {behaviour} and no single-factor sign-in of its users was seen."))),
        }
    }
    if let Err(f) = &sign_ins {
        findings.push(Finding::unavailable(CHECK, f));
    }
    findings
}
