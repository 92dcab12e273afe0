//! Check 9: the partner security score (Graph beta `security/partner/securityScore`), where the
//! API is available; where it is not, the check says so instead of guessing.

use super::{CheckId, Finding, Severity, Sources, Status};
use crate::directory::SECURITY_SCORE;
use crate::error::Error;
use serde::Deserialize;

const CHECK: CheckId = CheckId::SecurityScore;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Score {
    #[serde(default)]
    current_score: Option<f64>,
    #[serde(default)]
    max_score: Option<f64>,
}

pub async fn run(sources: &Sources) -> Vec<Finding> {
    let tenant = sources.tenant();
    match sources.graph.object::<Score>(&SECURITY_SCORE, "").await {
        Ok(Score {
            current_score: Some(current),
            max_score: Some(max),
        }) if current >= max => vec![Finding::pass(
            CHECK,
            "Score",
            &tenant,
            format!("Partner security score {current} of {max}."),
        )],
        Ok(Score {
            current_score: Some(current),
            max_score: Some(max),
        }) => vec![Finding::new(
            CHECK,
            "Score",
            Status::Warn,
            Severity::Medium,
            &tenant,
            format!("Partner security score {current} of {max}."),
            "Open Partner Center > Security requirements and work through the requirements not met; the other checks of this assessment cover most of them.",
        )],
        Ok(_) => vec![Finding::new(
            CHECK,
            "Unavailable",
            Status::NotApplicable,
            Severity::Info,
            &tenant,
            "The security score answer had no score.",
            "",
        )],
        // Graph's own "no such resource" answer (an error code in a readable body); a 400 whose
        // body could not be read says nothing about the API and stays an Error below.
        Err(Error::Service {
            status: 400 | 404,
            code: Some(_),
            message,
            ..
        }) => vec![Finding::new(
            CHECK,
            "Unavailable",
            Status::NotApplicable,
            Severity::Info,
            &tenant,
            format!(
                "The partner security score API (Graph beta security/partner/securityScore) is not available here: {message}"
            ),
            "",
        )],
        Err(e) => vec![Finding::new(
            CHECK,
            "DataUnavailable",
            Status::Error,
            Severity::Medium,
            "partner security score",
            e.to_string(),
            super::finding::fix(Some(&SECURITY_SCORE), &e),
        )],
    }
}
