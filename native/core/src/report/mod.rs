//! Assessment reports: JSON (versioned schema, see `docs/assessment-schema.md`), CSV and a
//! self-contained HTML page (no external assets).

mod html;

pub use html::html;

use crate::checks::{CheckId, Finding, Status};
use crate::error::{Error, Result};
use crate::spreadsheet;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Version of the JSON document; bumped when a field changes meaning or disappears.
pub const SCHEMA_VERSION: u32 = 1;
pub const SCHEMA_ID: &str = "https://partnersecurity.dev/schemas/assessment/v1";

/// One run's findings and what they were about.
#[derive(Debug, Clone)]
pub struct Assessment {
    pub tenant: String,
    pub generated_at: DateTime<Utc>,
    pub checks: Vec<CheckId>,
    pub findings: Vec<Finding>,
}

/// Counts per status.
pub type Counts = BTreeMap<Status, usize>;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RequirementSummary<'a> {
    check: CheckId,
    requirement: &'a str,
    status: Status,
    counts: BTreeMap<&'static str, usize>,
}

impl Assessment {
    pub fn counts(&self) -> Counts {
        count(self.findings.iter())
    }

    /// Per check: its worst status (Error > Fail > Warn > Pass > NotApplicable) and its counts.
    pub fn by_requirement(&self) -> Vec<(CheckId, Status, Counts)> {
        self.checks
            .iter()
            .map(|c| {
                let counts = count(self.findings.iter().filter(|f| f.check == *c));
                (*c, worst(&counts), counts)
            })
            .collect()
    }

    pub fn to_json(&self) -> Result<String> {
        let named = |c: &Counts| -> BTreeMap<&'static str, usize> {
            c.iter().map(|(s, n)| (s.name(), *n)).collect()
        };
        let requirements: Vec<RequirementSummary> = self
            .by_requirement()
            .iter()
            .map(|(c, s, counts)| RequirementSummary {
                check: *c,
                requirement: c.requirement(),
                status: *s,
                counts: named(counts),
            })
            .collect();
        let doc = serde_json::json!({
            "$schema": SCHEMA_ID,
            "schemaVersion": SCHEMA_VERSION,
            "tool": concat!("PartnerSecurity ", env!("CARGO_PKG_VERSION")),
            "tenant": self.tenant,
            "generatedAt": self.generated_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            "summary": named(&self.counts()),
            "requirements": requirements,
            "findings": self.findings,
        });
        serde_json::to_string_pretty(&doc)
            .map_err(|e| Error::Internal(format!("serialising the assessment failed: {e}")))
    }

    pub fn to_csv(&self) -> Result<String> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let fail = |e: csv::Error| Error::Internal(format!("writing CSV failed: {e}"));
        w.write_record([
            "Id",
            "Check",
            "Requirement",
            "Status",
            "Severity",
            "Subject",
            "Evidence",
            "Remediation",
        ])
        .map_err(fail)?;
        for f in &self.findings {
            w.write_record([
                f.id.as_str(),
                f.check.name(),
                &f.requirement,
                f.status.name(),
                f.severity.name(),
                &spreadsheet::text_cell(&f.subject),
                &spreadsheet::text_cell(&f.evidence),
                &spreadsheet::text_cell(&f.remediation),
            ])
            .map_err(fail)?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| Error::Internal(format!("writing CSV failed: {e}")))?;
        let text = String::from_utf8(bytes).map_err(|e| Error::Internal(format!("CSV is not UTF-8: {e}")))?;
        Ok(format!("{}{text}", spreadsheet::UTF8_BOM))
    }

    /// Writes `<base>.html`, `<base>.json` and `<base>.csv` into `directory`; returns the paths.
    pub fn write(&self, directory: &Path, base: &str) -> Result<Vec<PathBuf>> {
        std::fs::create_dir_all(directory).map_err(|e| {
            Error::invalid_input(
                "OutputPath",
                format!(
                    "the folder '{}' could not be created ({e})",
                    directory.display()
                ),
            )
        })?;
        let mut written = Vec::new();
        for (ext, text) in [
            ("html", html(self)),
            ("json", self.to_json()?),
            ("csv", self.to_csv()?),
        ] {
            let path = directory.join(format!("{base}.{ext}"));
            std::fs::write(&path, text).map_err(|e| {
                Error::invalid_input(
                    "OutputPath",
                    format!("'{}' could not be written ({e})", path.display()),
                )
            })?;
            written.push(path);
        }
        Ok(written)
    }
}

fn count<'f>(findings: impl Iterator<Item = &'f Finding>) -> Counts {
    let mut counts = Counts::new();
    for f in findings {
        *counts.entry(f.status).or_default() += 1;
    }
    counts
}

/// The status a requirement shows: the worst of its findings.
pub fn worst(counts: &Counts) -> Status {
    [Status::Error, Status::Fail, Status::Warn, Status::Pass]
        .into_iter()
        .find(|s| counts.get(s).is_some_and(|n| *n > 0))
        .unwrap_or(Status::NotApplicable)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::{Finding, Severity};

    fn sample() -> Assessment {
        Assessment {
            tenant: "contoso".into(),
            generated_at: DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
                .unwrap()
                .with_timezone(&Utc),
            checks: vec![CheckId::MfaCoverage, CheckId::FraudNotifications],
            findings: vec![
                Finding::new(
                    CheckId::MfaCoverage,
                    "NotCovered",
                    Status::Fail,
                    Severity::High,
                    "=cmd|' /C calc'!A0",
                    "no policy <script>alert(1)</script>",
                    "fix it",
                ),
                Finding::pass(CheckId::MfaCoverage, "Covered", "a@contoso.com", "ok"),
                Finding::pass(
                    CheckId::FraudNotifications,
                    "NoFraudEvents",
                    "contoso",
                    "none",
                ),
            ],
        }
    }

    #[test]
    fn json_has_the_schema_summary_and_requirements() {
        let doc: serde_json::Value = serde_json::from_str(&sample().to_json().unwrap()).unwrap();
        assert_eq!(doc["schemaVersion"], 1);
        assert_eq!(doc["summary"]["Fail"], 1);
        assert_eq!(doc["summary"]["Pass"], 2);
        assert_eq!(doc["requirements"][0]["status"], "Fail");
        assert_eq!(doc["requirements"][1]["status"], "Pass");
        assert_eq!(doc["findings"][0]["id"], "MfaCoverage.NotCovered");
    }

    #[test]
    fn csv_neutralises_formulas() {
        let csv = sample().to_csv().unwrap();
        assert!(
            csv.starts_with("\u{feff}Id,Check,Requirement,Status,Severity,Subject,Evidence,Remediation"),
            "{csv}"
        );
        assert!(csv.contains("'=cmd"), "{csv}");
    }

    #[test]
    fn html_escapes_tenant_data_and_shows_counts() {
        let page = html(&sample());
        assert!(
            !page.contains("<script>alert(1)"),
            "tenant data must be escaped"
        );
        assert!(page.contains("&lt;script&gt;"));
        assert!(page.contains(r#"id="count-Fail">1<"#), "{page}");
        assert!(page.contains(r#"id="count-Pass">2<"#));
        assert!(
            !page.contains("http://") && !page.contains("src="),
            "no external assets"
        );
    }
}
