//! The building blocks of the assessment on their own, for partners who want the data rather
//! than findings: MFA coverage per user, legacy-protocol sign-ins, GDAP relationships with their
//! access assignments, Azure fraud events.

use super::sign_in_evidence::is_legacy;
use super::{Options, Sources};
use crate::error::{Error, Result};
use crate::signins::Context;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DataKind {
    MfaCoverage,
    LegacyAuthSignIns,
    GdapRelationships,
    FraudEvents,
}

/// The error of a failed read, for the caller (reads are cached, so the error is rebuilt).
fn failed(f: std::sync::Arc<super::sources::Failure>) -> Error {
    match &f.error {
        Error::Service { service, status, code, message } => Error::Service { service: service.clone(), status: *status, code: code.clone(), message: message.clone() },
        Error::Network { url, reason } => Error::Network { url: url.clone(), reason: reason.clone() },
        Error::InvalidInput { parameter, reason } => Error::InvalidInput { parameter: parameter.clone(), reason: reason.clone() },
        Error::NotConnected => Error::NotConnected,
        Error::Cancelled => Error::Cancelled,
        other => Error::Service { service: "PartnerSecurity".into(), status: 0, code: other.code(), message: other.to_string() },
    }
}

fn to_json<T: Serialize>(value: &T) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| Error::Internal(format!("serialising failed: {e}")))
}

/// Reads one kind of data as a JSON array.
pub async fn read(ctx: Context, kind: DataKind, options: Options) -> Result<Value> {
    let sources = Sources::new(ctx, options.validated()?);
    match kind {
        DataKind::MfaCoverage => {
            let report = sources.coverage().await.map_err(failed)?;
            to_json(&report.users)
        }
        DataKind::LegacyAuthSignIns => {
            let sign_ins = sources.sign_ins().await.map_err(failed)?;
            Ok(Value::Array(sign_ins.iter().filter(|s| is_legacy(s)).map(|s| Value::Object(s.clone())).collect()))
        }
        DataKind::GdapRelationships => {
            let relationships = sources.gdap().await.map_err(failed)?;
            let mut out = Vec::new();
            for r in relationships.iter() {
                let assignments = match &r.assignments {
                    Ok(a) => to_json(a)?,
                    Err(f) => return Err(failed(f.clone())),
                };
                let mut item = to_json(&r.relationship)?;
                if let Some(map) = item.as_object_mut() {
                    map.insert("accessAssignments".into(), assignments);
                }
                out.push(item);
            }
            Ok(Value::Array(out))
        }
        DataKind::FraudEvents => {
            let events = sources.fraud_events().await.map_err(failed)?;
            to_json(&*events)
        }
    }
    .map(|v| if v.is_null() { json!([]) } else { v })
}
