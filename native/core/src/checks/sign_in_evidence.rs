//! Check 2: sign-in evidence — successful single-factor and legacy-protocol sign-ins over the
//! window, grouped by user, app and protocol; a user whom policy covers but who still signs in
//! single-factor is called out.

use super::sources::SignIn;
use super::{CheckId, Finding, Severity, Sources, Status};
use std::collections::{BTreeMap, BTreeSet, HashSet};

const CHECK: CheckId = CheckId::SignInEvidence;

/// `clientAppUsed` values of modern authentication (api-contracts §3.7); anything else named is legacy.
const MODERN: &[&str] = &["Browser", "Mobile Apps and Desktop clients", "Unknown", ""];

pub fn text<'s>(s: &'s SignIn, key: &str) -> &'s str {
    s.get(key).and_then(|v| v.as_str()).unwrap_or_default()
}

pub fn is_legacy(s: &SignIn) -> bool {
    !MODERN
        .iter()
        .any(|m| m.eq_ignore_ascii_case(text(s, "ClientAppUsed")))
}

pub fn is_single_factor(s: &SignIn) -> bool {
    text(s, "AuthenticationRequirement").eq_ignore_ascii_case("singleFactorAuthentication")
}

pub fn app(s: &SignIn) -> &str {
    let name = text(s, "AppDisplayName");
    if name.is_empty() {
        text(s, "AppId")
    } else {
        name
    }
}

pub async fn run(sources: &Sources) -> Vec<Finding> {
    let sign_ins = match sources.sign_ins().await {
        Ok(s) => s,
        Err(f) => return vec![Finding::unavailable(CHECK, &f)],
    };
    let covered: Option<HashSet<String>> = sources.coverage().await.ok().map(|r| {
        r.users
            .iter()
            .filter(|c| c.is_covered())
            .map(|c| c.user_principal_name.to_ascii_lowercase())
            .collect()
    });
    let days = sources.options.sign_in_days;
    let mut legacy: BTreeMap<(String, String), (u32, BTreeSet<String>)> = BTreeMap::new();
    let mut single: BTreeMap<(String, String), u32> = BTreeMap::new();
    for s in sign_ins.iter() {
        let upn = text(s, "UserPrincipalName").to_owned();
        if is_legacy(s) {
            let entry = legacy
                .entry((upn, text(s, "ClientAppUsed").to_owned()))
                .or_default();
            entry.0 += 1;
            entry.1.insert(app(s).to_owned());
        } else if is_single_factor(s) {
            *single.entry((upn, app(s).to_owned())).or_default() += 1;
        }
    }
    let mut findings = Vec::new();
    for ((upn, protocol), (count, apps)) in &legacy {
        findings.push(Finding::new(
            CHECK,
            "LegacyProtocolSignIn",
            Status::Fail,
            Severity::High,
            format!("{upn} ({protocol})"),
            format!("{count} successful sign-in(s) over {protocol} in the last {days} days to {}; legacy protocols cannot do MFA.", apps.iter().cloned().collect::<Vec<_>>().join(", ")),
            "Move the client to modern authentication (Outlook, or OAuth for IMAP/POP/SMTP), then block legacy authentication with security defaults or a Conditional Access policy.",
        ));
    }
    for ((upn, app), count) in &single {
        let policy_covers = covered
            .as_ref()
            .map(|c| c.contains(&upn.to_ascii_lowercase()));
        let (rule, status, severity, note) = match policy_covers {
            Some(true) => (
                "CoveredButSingleFactor",
                Status::Fail,
                Severity::High,
                "configured for MFA but signing in single-factor",
            ),
            Some(false) => (
                "SingleFactorSignIn",
                Status::Fail,
                Severity::High,
                "no policy requires MFA for this user",
            ),
            None => (
                "SingleFactorSignIn",
                Status::Warn,
                Severity::Medium,
                "MFA coverage could not be read",
            ),
        };
        findings.push(Finding::new(
            CHECK,
            rule,
            status,
            severity,
            format!("{upn} ({app})"),
            format!("{count} successful single-factor sign-in(s) to {app} in the last {days} days: {note}."),
            "Find what lets the sign-in through without MFA (an exclusion, a trusted location, a per-app policy gap, a persistent session from before MFA) and close it; the user's sign-ins should show multiFactorAuthentication.",
        ));
    }
    if findings.is_empty() {
        findings.push(Finding::pass(CHECK, "NoSingleFactorSignIns", sources.tenant(), format!("{} successful user sign-in(s) in the last {days} days, all multi-factor over modern clients.", sign_ins.len())));
    }
    findings
}
