//! JSON shapes of the assessment requests and answers (conversions only; the work is in the
//! core's `checks`).

use partnersecurity_core::checks::data::DataKind;
use partnersecurity_core::checks::{CheckId, Options};
use partnersecurity_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// What `Invoke-PartnerSecurityAssessment` and the building-block cmdlets send.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub struct AssessmentRequest {
    /// Check names; empty: all.
    pub checks: Vec<String>,
    pub sign_in_days: Option<u32>,
    pub break_glass_accounts: Vec<String>,
    pub expiring_within_days: Option<u32>,
    /// For data reads: which data.
    pub kind: Option<DataKind>,
}

impl AssessmentRequest {
    pub fn options(&self) -> Result<Options> {
        let defaults = Options::default();
        let checks = self
            .checks
            .iter()
            .map(|c| CheckId::parse(c).ok_or_else(|| Error::invalid_input("Check", format!("'{c}' is not a check; use one of: {}", CheckId::ALL.map(|c| c.name()).join(", ")))))
            .collect::<Result<Vec<_>>>()?;
        Ok(Options {
            checks,
            sign_in_days: self.sign_in_days.unwrap_or(defaults.sign_in_days),
            break_glass_accounts: self.break_glass_accounts.clone(),
            expiring_within_days: self.expiring_within_days.unwrap_or(defaults.expiring_within_days),
        })
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AssessmentStarted {
    pub assessment_id: String,
    pub checks: Vec<&'static str>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CheckRequest {
    pub assessment_id: String,
    pub check: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReportRequest {
    pub assessment_id: String,
    pub directory: String,
    pub base_name: String,
}
