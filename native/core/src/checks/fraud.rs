//! Check 8: Azure fraud notifications — open fraud events (Partner Center `fraudEvents`) and
//! how long resolved ones took against the 24-hour response requirement.

use super::{CheckId, Finding, Severity, Sources, Status};
use chrono::{Duration, Utc};

const CHECK: CheckId = CheckId::FraudNotifications;

/// Microsoft expects a response to a fraud notification within 24 hours.
const RESPONSE_HOURS: i64 = 24;

pub async fn run(sources: &Sources) -> Vec<Finding> {
    let events = match sources.fraud_events().await {
        Ok(e) => e,
        Err(f) => return vec![Finding::unavailable(CHECK, &f)],
    };
    if events.is_empty() {
        return vec![Finding::pass(
            CHECK,
            "NoFraudEvents",
            sources.tenant(),
            "Partner Center reports no Azure fraud events.",
        )];
    }
    let now = Utc::now();
    let mut findings = Vec::new();
    for e in events.iter() {
        let customer = e
            .customer_friendly_name
            .clone()
            .or(e.customer_tenant_id.clone())
            .unwrap_or_else(|| "(unknown customer)".into());
        let kind = e.event_type.clone().unwrap_or_else(|| "fraud event".into());
        let subject = format!("{} ({customer})", e.event_id);
        let hours = |d: Duration| d.num_minutes() as f64 / 60.0;
        match (e.is_open(), e.started()) {
            (true, started) => {
                let age = started
                    .map(|s| format!(", open for {:.1} h", hours(now - s)))
                    .unwrap_or_default();
                let late = started.is_some_and(|s| now - s > Duration::hours(RESPONSE_HOURS));
                findings.push(Finding::new(
                    CHECK,
                    "OpenEvent",
                    Status::Fail,
                    Severity::High,
                    subject,
                    format!("{kind} on subscription {} ({}) is {}{age}{}.", e.subscription_id.as_deref().unwrap_or("-"), e.resource_name.as_deref().unwrap_or("-"), e.event_status, if late { ", past the 24-hour response time" } else { "" }),
                    "Investigate with the customer now (stop unexpected resources, rotate credentials), then set the event to Resolved with reason Fraud or Ignore in Partner Center.",
                ));
            }
            (false, Some(started))
                if e.resolved_on
                    .is_some_and(|r| r - started > Duration::hours(RESPONSE_HOURS)) =>
            {
                let took = e
                    .resolved_on
                    .map(|r| hours(r - started))
                    .unwrap_or_default();
                findings.push(Finding::new(
                    CHECK,
                    "SlowResponse",
                    Status::Warn,
                    Severity::Medium,
                    subject,
                    format!("{kind} was resolved ({}) after {took:.1} h, more than the {RESPONSE_HOURS} h expected.", e.resolved_reason.as_deref().unwrap_or("no reason")),
                    "Route Partner Center fraud notifications to a monitored mailbox or ticket queue with a 24-hour response target.",
                ));
            }
            (false, _) => findings.push(Finding::pass(
                CHECK,
                "ResolvedInTime",
                subject,
                format!(
                    "{kind} resolved ({}) within {RESPONSE_HOURS} h.",
                    e.resolved_reason.as_deref().unwrap_or("no reason")
                ),
            )),
        }
    }
    findings
}
