//! Check 11: non-Microsoft (federated) MFA — for federated domains, whether Entra ID accepts the
//! identity provider's MFA (`federatedIdpMfaBehavior`) and whether recent tokens and sign-ins
//! show it: the session's own token when its user is federated (`fed` in `amr` must come with
//! `mfa`, api-contracts §2.3), and the sign-ins of users in those domains (single-factor ones,
//! with the token issuer Graph names). When the IdP does MFA but does not say so, Partner Center
//! sees none.

use super::sign_in_evidence::{is_single_factor, text};
use super::{CheckId, Finding, Severity, Sources, Status};
use crate::auth::claims::amr_has_mfa;
use std::collections::BTreeMap;

const CHECK: CheckId = CheckId::FederatedMfa;

const MAKE_VISIBLE: &str = "Make the identity provider send the MFA claim (AD FS: the multipleauthn authnmethodsreferences claim; other IdPs: their MFA assertion), or set federatedIdpMfaBehavior to enforceMfaByFederatedIdp / rejectMfaByFederatedIdp so MFA is visible to Entra ID and Partner Center.";

/// The session's own token, when a federated IdP signed its user in (`fed` in `amr`).
fn session_token(sources: &Sources) -> Option<Finding> {
    let context = sources.context();
    let amr = &context.authentication_methods;
    if !amr.iter().any(|m| m == "fed") {
        return None;
    }
    let account = context
        .account
        .user_principal_name
        .clone()
        .unwrap_or_else(|| sources.tenant());
    let methods = amr.join(", ");
    Some(if amr_has_mfa(amr) {
        Finding::pass(
            CHECK,
            "TokenShowsMfa",
            account,
            format!(
                "The session's own token carries amr [{methods}]: the federated identity provider's sign-in reached Entra ID with MFA, so Partner Center sees it."
            ),
        )
    } else {
        Finding::new(
            CHECK,
            "TokenWithoutMfa",
            Status::Fail,
            Severity::High,
            account,
            format!(
                "The session's own token carries amr [{methods}]: a federated identity provider signed the user in, but the token does not say MFA happened, so Partner Center refuses its App+User calls (401, MFA required) even when the IdP did MFA."
            ),
            MAKE_VISIBLE,
        )
    })
}

pub async fn run(sources: &Sources) -> Vec<Finding> {
    let mut findings: Vec<Finding> = session_token(sources).into_iter().collect();
    let domains = match sources.federated_domains().await {
        Ok(d) => d,
        Err(f) => {
            findings.push(Finding::unavailable(CHECK, &f));
            return findings;
        }
    };
    if domains.is_empty() {
        findings.push(Finding::new(
            CHECK,
            "NoFederatedDomains",
            Status::NotApplicable,
            Severity::Info,
            sources.tenant(),
            "Every domain is managed by Entra ID: MFA happens in Entra ID and shows in tokens.",
            "",
        ));
        return findings;
    }
    let sign_ins = sources.sign_ins().await;
    for d in domains.iter() {
        let behaviour = d
            .configuration
            .as_ref()
            .and_then(|c| c.federated_idp_mfa_behavior.clone())
            .unwrap_or_else(|| "acceptIfMfaDoneByFederatedIdp".into());
        let suffix = format!("@{}", d.domain.id.to_ascii_lowercase());
        let mut single: BTreeMap<String, u32> = BTreeMap::new();
        // Who issued the tokens of those sign-ins (Graph's tokenIssuerType, e.g.
        // ADFederationServices): evidence that the IdP, not Entra ID, signed them in.
        let mut issuers: BTreeMap<String, u32> = BTreeMap::new();
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
                let issuer = text(s, "TokenIssuerType");
                if !issuer.is_empty() {
                    *issuers.entry(issuer.to_owned()).or_default() += 1;
                }
            }
        }
        match behaviour.as_str() {
            "rejectMfaByFederatedIdp" => findings.push(Finding::pass(CHECK, "MfaInEntra", &d.domain.id, "federatedIdpMfaBehavior is rejectMfaByFederatedIdp: Entra ID performs MFA itself, so tokens carry 'mfa'.")),
            _ if !single.is_empty() => {
                let users = single.iter().map(|(u, n)| format!("{u} ({n})")).collect::<Vec<_>>().join(", ");
                let issued = if issuers.is_empty() {
                    String::new()
                } else {
                    let by = issuers.iter().map(|(i, n)| format!("{i} ({n})")).collect::<Vec<_>>().join(", ");
                    format!(" Token issuer of those sign-ins: {by}.")
                };
                findings.push(Finding::new(
                    CHECK,
                    "MfaNotVisible",
                    Status::Fail,
                    Severity::High,
                    &d.domain.id,
                    format!("federatedIdpMfaBehavior is {behaviour}, but successful sign-ins of federated users were single-factor (the IdP did not assert MFA, tokens carry 'fed' without 'mfa'): {users}.{issued}"),
                    MAKE_VISIBLE,
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
