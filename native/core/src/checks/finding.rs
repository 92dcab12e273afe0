//! A finding: one subject's result against one requirement, with its evidence and the fix.

use super::CheckId;
use super::sources::Failure;
use crate::directory::Endpoint;
use crate::error::Error;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Status {
    Pass,
    Warn,
    Fail,
    /// The check could not read what it needs (permission, licence, network).
    Error,
    NotApplicable,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Pass => "Pass",
            Status::Warn => "Warn",
            Status::Fail => "Fail",
            Status::Error => "Error",
            Status::NotApplicable => "NotApplicable",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "Info",
            Severity::Low => "Low",
            Severity::Medium => "Medium",
            Severity::High => "High",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// `<Check>.<Rule>`, stable across versions (e.g. `MfaCoverage.NotCovered`).
    pub id: String,
    pub check: CheckId,
    pub requirement: String,
    pub status: Status,
    pub severity: Severity,
    /// What the finding is about: a user, policy, relationship, event or the tenant.
    pub subject: String,
    /// What was seen, in words (policy ids, exclusions, counts, dates).
    pub evidence: String,
    /// What to do; empty for a pass.
    pub remediation: String,
}

impl Finding {
    pub fn new(
        check: CheckId,
        rule: &str,
        status: Status,
        severity: Severity,
        subject: impl Into<String>,
        evidence: impl Into<String>,
        remediation: impl Into<String>,
    ) -> Self {
        Self {
            id: format!("{}.{rule}", check.name()),
            check,
            requirement: check.requirement().to_owned(),
            status,
            severity,
            subject: subject.into(),
            evidence: evidence.into(),
            remediation: remediation.into(),
        }
    }

    pub fn pass(
        check: CheckId,
        rule: &str,
        subject: impl Into<String>,
        evidence: impl Into<String>,
    ) -> Self {
        Self::new(
            check,
            rule,
            Status::Pass,
            Severity::Info,
            subject,
            evidence,
            "",
        )
    }

    /// The data a check needs could not be read: an `Error` finding with the fix.
    pub fn unavailable(check: CheckId, failure: &Failure) -> Self {
        Self::new(
            check,
            "DataUnavailable",
            Status::Error,
            Severity::High,
            failure.what,
            failure.error.to_string(),
            fix(failure.endpoint.as_ref(), &failure.error),
        )
    }
}

/// What to grant, license or do so that a read succeeds.
pub fn fix(endpoint: Option<&Endpoint>, error: &Error) -> String {
    let code = match error {
        Error::Service { code, .. } => code.as_deref(),
        _ => None,
    };
    let status = match error {
        Error::Service { status, .. } => Some(*status),
        _ => None,
    };
    match (code, status) {
        (Some(crate::directory::NON_PREMIUM), _) => "License Microsoft Entra ID P1 for the tenant (alone or in Microsoft 365 Business Premium, E3 or E5), then run the check again.".into(),
        (Some(crate::directory::P2_REQUIRED), _) => "License Microsoft Entra ID P2 (alone or in Microsoft 365 E5 / EMS E5) for the administrators, then run the check again.".into(),
        (Some("AppUserRequired"), _) => "Connect with the Secure Application Model (App+User): Connect-PartnerCenter -ApplicationId <app> -Credential <app secret> -RefreshToken <refresh token from an MFA sign-in>.".into(),
        (_, Some(403)) => match endpoint {
            Some(e) => format!("Grant the application the Microsoft Graph permission {} (application permission for a service principal, delegated for a user session) and have an administrator consent, then run the check again.", e.permission),
            None => "Grant the application the missing permission named in the evidence and have an administrator consent, then run the check again.".into(),
        },
        (_, Some(429 | 500 | 502 | 503 | 504)) | (_, None) if matches!(error, Error::Service { .. } | Error::Network { .. } | Error::InvalidResponse { .. }) => "The service kept failing after every retry (throttling, server errors or broken answers); run the assessment again later.".into(),
        (_, Some(401)) => "Reconnect with Connect-PartnerCenter (the token was refused; for Partner Center the sign-in must have used MFA), then run the check again.".into(),
        _ => "Resolve the error in the evidence, then run the check again.".into(),
    }
}
