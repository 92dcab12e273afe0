//! The partner security assessment: one check per partner security requirement, each producing
//! [`Finding`]s with evidence a person can act on.
//!
//! Checks read the connected partner tenant through [`Sources`], which fetches each Graph or
//! Partner Center resource once and shares it. A resource that cannot be read (a missing
//! permission, a missing licence, an App+User-only API on an app-only session) becomes an
//! `Error` finding that says what to grant or license; it never becomes a pass.

mod admin_agents;
mod coverage;
pub mod data;
mod federated_mfa;
mod finding;
mod fraud;
mod gdap;
mod legacy_auth;
mod mfa_configuration;
mod mfa_coverage;
mod readiness;
mod roles;
mod runs;
mod sam;
mod security_score;
mod sign_in_evidence;
mod sources;

pub use coverage::{AccountKind, Coverage, CoverageReport};
pub use finding::{Finding, Severity, Status};
pub use runs::Assessments;
pub use sources::Sources;

use crate::signins::Context;
use serde::{Deserialize, Serialize};

/// The checks, in the order they run and appear in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CheckId {
    MfaCoverage,
    SignInEvidence,
    MfaConfiguration,
    LegacyAuthentication,
    SecureApplicationModel,
    AdminAgents,
    GdapLeastPrivilege,
    FraudNotifications,
    SecurityScore,
    MfaReadiness,
    FederatedMfa,
}

impl CheckId {
    pub const ALL: [CheckId; 11] = [
        CheckId::MfaCoverage,
        CheckId::SignInEvidence,
        CheckId::MfaConfiguration,
        CheckId::LegacyAuthentication,
        CheckId::SecureApplicationModel,
        CheckId::AdminAgents,
        CheckId::GdapLeastPrivilege,
        CheckId::FraudNotifications,
        CheckId::SecurityScore,
        CheckId::MfaReadiness,
        CheckId::FederatedMfa,
    ];

    pub fn name(self) -> &'static str {
        match self {
            CheckId::MfaCoverage => "MfaCoverage",
            CheckId::SignInEvidence => "SignInEvidence",
            CheckId::MfaConfiguration => "MfaConfiguration",
            CheckId::LegacyAuthentication => "LegacyAuthentication",
            CheckId::SecureApplicationModel => "SecureApplicationModel",
            CheckId::AdminAgents => "AdminAgents",
            CheckId::GdapLeastPrivilege => "GdapLeastPrivilege",
            CheckId::FraudNotifications => "FraudNotifications",
            CheckId::SecurityScore => "SecurityScore",
            CheckId::MfaReadiness => "MfaReadiness",
            CheckId::FederatedMfa => "FederatedMfa",
        }
    }

    /// The partner security requirement the check verifies, as reports show it.
    pub fn requirement(self) -> &'static str {
        match self {
            CheckId::MfaCoverage => "MFA for every partner user, guests included",
            CheckId::SignInEvidence => {
                "Sign-ins show MFA: no single-factor or legacy-protocol sign-ins"
            }
            CheckId::MfaConfiguration => "One consistent way to require MFA for the licence tier",
            CheckId::LegacyAuthentication => "Legacy authentication blocked",
            CheckId::SecureApplicationModel => {
                "Secure Application Model with MFA for Partner Center API calls"
            }
            CheckId::AdminAgents => {
                "Admin agents licensed for Entra ID P2, privileged roles eligible (PIM) not permanent"
            }
            CheckId::GdapLeastPrivilege => "GDAP least privilege",
            CheckId::FraudNotifications => "Azure fraud notifications answered within 24 hours",
            CheckId::SecurityScore => "Partner security score requirements",
            CheckId::MfaReadiness => {
                "Ready for MFA enforcement: no legacy clients, no user-credential automation, every user registered"
            }
            CheckId::FederatedMfa => "Federated (non-Microsoft) MFA visible to Microsoft",
        }
    }

    pub fn parse(text: &str) -> Option<CheckId> {
        CheckId::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(text.trim()))
    }
}

/// What the assessment considers; the defaults suit a first run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Options {
    /// Checks to run; empty: all.
    pub checks: Vec<CheckId>,
    /// Days of sign-ins read for the sign-in evidence, readiness and federation checks.
    pub sign_in_days: u32,
    /// User principal names of emergency-access (break-glass) accounts, besides those named so.
    pub break_glass_accounts: Vec<String>,
    /// A GDAP relationship ending within this many days without auto-extend is flagged.
    pub expiring_within_days: u32,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            checks: Vec::new(),
            sign_in_days: 7,
            break_glass_accounts: Vec::new(),
            expiring_within_days: 30,
        }
    }
}

impl Options {
    pub fn validated(mut self) -> crate::Result<Self> {
        if !(1..=30).contains(&self.sign_in_days) {
            return Err(crate::Error::invalid_input(
                "SignInDays",
                "it must be between 1 and 30 (Graph keeps sign-ins 30 days at most)",
            ));
        }
        if self.expiring_within_days > 730 {
            return Err(crate::Error::invalid_input(
                "ExpiringWithinDays",
                "it must be between 0 and 730 (the longest GDAP relationship)",
            ));
        }
        if self.checks.is_empty() {
            self.checks = CheckId::ALL.to_vec();
        }
        self.checks.sort();
        self.checks.dedup();
        Ok(self)
    }
}

/// Runs one check.
pub async fn run_check(check: CheckId, sources: &Sources) -> Vec<Finding> {
    match check {
        CheckId::MfaCoverage => mfa_coverage::run(sources).await,
        CheckId::SignInEvidence => sign_in_evidence::run(sources).await,
        CheckId::MfaConfiguration => mfa_configuration::run(sources).await,
        CheckId::LegacyAuthentication => legacy_auth::run(sources).await,
        CheckId::SecureApplicationModel => sam::run(sources).await,
        CheckId::AdminAgents => admin_agents::run(sources).await,
        CheckId::GdapLeastPrivilege => gdap::run(sources).await,
        CheckId::FraudNotifications => fraud::run(sources).await,
        CheckId::SecurityScore => security_score::run(sources).await,
        CheckId::MfaReadiness => readiness::run(sources).await,
        CheckId::FederatedMfa => federated_mfa::run(sources).await,
    }
}

/// Runs the chosen checks in order; `progress` is told before each one starts.
pub async fn assess(
    ctx: Context,
    options: Options,
    mut progress: impl FnMut(usize, CheckId),
) -> crate::Result<Vec<Finding>> {
    let options = options.validated()?;
    let sources = Sources::new(ctx, options.clone());
    let mut findings = Vec::new();
    for (i, check) in options.checks.iter().enumerate() {
        progress(i, *check);
        findings.extend(run_check(*check, &sources).await);
    }
    Ok(findings)
}

#[cfg(test)]
mod send_tests {
    use super::*;
    fn assert_send<T: Send>(_: T) {}
    #[allow(dead_code)]
    fn futures_are_send(s: &'static Sources) {
        assert_send(mfa_coverage::run(s));
        assert_send(sign_in_evidence::run(s));
        assert_send(mfa_configuration::run(s));
        assert_send(legacy_auth::run(s));
        assert_send(sam::run(s));
        assert_send(admin_agents::run(s));
        assert_send(gdap::run(s));
        assert_send(fraud::run(s));
        assert_send(security_score::run(s));
        assert_send(readiness::run(s));
        assert_send(federated_mfa::run(s));
    }
}
