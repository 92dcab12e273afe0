//! Check 10: MFA rollout readiness — the questions Microsoft's FAQ asks before MFA is enforced,
//! answered from data: clients that cannot do modern authentication (legacy protocols, Office
//! 2013 and older), automation still signing in with user credentials (each a candidate for the
//! Secure Application Model), users with no registered method, and the directory-sync account
//! used for anything but synchronisation.

use super::coverage::AccountKind;
use super::sign_in_evidence::{app, is_legacy, text};
use super::{CheckId, Finding, Severity, Sources, Status};
use std::collections::{BTreeMap, BTreeSet};

const CHECK: CheckId = CheckId::MfaReadiness;

/// User agents of Office 2013 (15.0) and older, which cannot do modern authentication by default.
const OLD_OFFICE: &[&str] = &[
    "microsoft office/15.",
    "microsoft office/14.",
    "microsoft outlook 15.",
    "microsoft outlook 14.",
    "msoffice 15",
    "msoffice 14",
];
/// User agents of scripts and tools that sign in with a user's password.
const SCRIPTED: &[&str] = &[
    "powershell",
    "python",
    "curl/",
    "azurerm",
    "msonline",
    "az.accounts",
    "okhttp",
    "java/",
    "go-http-client",
];
/// First-party tools scripts use: Azure PowerShell, Microsoft Graph PowerShell, Azure CLI, Azure AD / MSOnline PowerShell.
const SCRIPTING_APPS: &[&str] = &[
    "1950a258-227b-4e31-a9cf-717495945fc2",
    "14d82eec-204b-4c2f-b7e8-296a70dab67e",
    "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
    "1b730954-1685-4b74-9bfd-dac224a7b894",
];
/// Apps the sync account is expected to use.
const SYNC_APPS: &[&str] = &["cb1056e2-e479-49de-ae31-7812af012ed8"];

pub async fn run(sources: &Sources) -> Vec<Finding> {
    let mut findings = Vec::new();
    let coverage = sources.coverage().await;
    let sync_accounts: BTreeSet<String> = coverage
        .as_ref()
        .map(|r| {
            r.users
                .iter()
                .filter(|c| c.kind == AccountKind::DirectorySync)
                .map(|c| c.user_principal_name.to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default();
    match sources.sign_ins().await {
        Ok(sign_ins) => {
            let mut legacy: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            let mut old_office: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            let mut scripted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            let mut sync_misuse: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for s in sign_ins.iter() {
                let upn = text(s, "UserPrincipalName").to_owned();
                let agent = text(s, "UserAgent").to_ascii_lowercase();
                if is_legacy(s) {
                    legacy
                        .entry(text(s, "ClientAppUsed").to_owned())
                        .or_default()
                        .insert(upn.clone());
                }
                if OLD_OFFICE.iter().any(|o| agent.contains(o)) {
                    old_office
                        .entry(upn.clone())
                        .or_default()
                        .insert(text(s, "UserAgent").to_owned());
                }
                if SCRIPTED.iter().any(|p| agent.contains(p))
                    || SCRIPTING_APPS
                        .iter()
                        .any(|a| a.eq_ignore_ascii_case(text(s, "AppId")))
                {
                    scripted
                        .entry(upn.clone())
                        .or_default()
                        .insert(app(s).to_owned());
                }
                if sync_accounts.contains(&upn.to_ascii_lowercase())
                    && !SYNC_APPS
                        .iter()
                        .any(|a| a.eq_ignore_ascii_case(text(s, "AppId")))
                {
                    sync_misuse
                        .entry(upn.clone())
                        .or_default()
                        .insert(app(s).to_owned());
                }
            }
            for (protocol, users) in &legacy {
                findings.push(Finding::new(CHECK, "LegacyClient", Status::Warn, Severity::Medium, protocol, format!("{} user(s) signed in over {protocol}, which cannot do MFA: {}.", users.len(), users.iter().cloned().collect::<Vec<_>>().join(", ")), "Move these mailboxes and devices to modern authentication (Outlook / OAuth) before MFA is enforced; they will stop working otherwise."));
            }
            for (upn, agents) in &old_office {
                findings.push(Finding::new(CHECK, "OldOfficeClient", Status::Warn, Severity::Medium, upn, format!("Signed in with Office 2013 or older: {}.", agents.iter().cloned().collect::<Vec<_>>().join("; ")), "Upgrade to a supported Microsoft 365 Apps version (Office 2013 needs registry keys for modern authentication and is out of support)."));
            }
            for (upn, apps) in &scripted {
                findings.push(Finding::new(CHECK, "UserCredentialAutomation", Status::Warn, Severity::High, upn, format!("Scripted sign-ins with this user's credentials through {}.", apps.iter().cloned().collect::<Vec<_>>().join(", ")), "Move the automation to the Secure Application Model (app + refresh token from an MFA consent) or to an application identity; user passwords cannot pass MFA."));
            }
            for (upn, apps) in &sync_misuse {
                findings.push(Finding::new(CHECK, "SyncAccountMisuse", Status::Fail, Severity::High, upn, format!("The directory-sync account signed in to {}.", apps.iter().cloned().collect::<Vec<_>>().join(", ")), "Use the Entra Connect sync account for synchronisation only: it is excluded from security defaults, so any other use is unprotected."));
            }
        }
        Err(f) => findings.push(Finding::unavailable(CHECK, &f)),
    }
    match &coverage {
        Ok(report) => {
            if report.users.iter().all(|c| c.registered.is_none())
                && let Some(gap) = report.gaps.iter().find(|g| {
                    g.endpoint
                        .is_some_and(|e| e.path == crate::directory::REGISTRATION.path)
                })
            {
                findings.push(Finding::unavailable(CHECK, gap));
            }
            for c in report
                .users
                .iter()
                .filter(|c| c.kind == AccountKind::User && c.registered == Some(false))
            {
                findings.push(Finding::new(CHECK, "NoRegisteredMethod", Status::Fail, Severity::High, &c.user_principal_name, format!("{} has no MFA method registered.", c.display_name), "Have the user register Microsoft Authenticator or a FIDO2 key (a Temporary Access Pass helps) before MFA is enforced."));
            }
        }
        Err(f) => findings.push(Finding::unavailable(CHECK, f)),
    }
    if findings.is_empty() {
        findings.push(Finding::pass(CHECK, "Ready", sources.tenant(), format!("No legacy or old Office clients and no scripted user sign-ins in the last {} days; every user has an MFA method.", sources.options.sign_in_days)));
    }
    findings
}
