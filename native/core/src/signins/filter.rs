//! The sign-in query's `$filter`: a typed filter turned into OData text that Graph's
//! `auditLogs/signIns` accepts (api-contracts §3.2).
//!
//! - Dates are converted to UTC and written `yyyy-MM-ddTHH:mm:ssZ` (the PartnerCenter module wrote
//!   a local time with a `Z`, shifting the range by the UTC offset). Bounds are widened to whole
//!   seconds, never narrowed: a record the caller asked for is never left out.
//! - String values become OData literals with every `'` doubled, so no value can end its literal
//!   early and change the filter.
//! - Ids are checked to be GUIDs, dates to be ordered and plausible; errors name the PowerShell
//!   parameter to fix.

use crate::error::{Error, Result};
use chrono::{DateTime, Duration, SubsecRound, TimeZone, Timelike, Utc};
use serde::{Deserialize, Serialize};

/// Graph API version of the sign-in endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum ApiVersion {
    /// `beta`: every event type (when filtered), `authenticationDetails`, `mfaDetail`, … The
    /// PartnerCenter module used beta.
    #[default]
    #[serde(rename = "beta", alias = "Beta", alias = "BETA")]
    Beta,
    #[serde(rename = "v1.0", alias = "V1", alias = "v1")]
    V1,
}

impl ApiVersion {
    pub fn segment(self) -> &'static str {
        match self {
            ApiVersion::Beta => "beta",
            ApiVersion::V1 => "v1.0",
        }
    }
}

/// `signInEventTypes` values (beta only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub enum EventType {
    Interactive,
    NonInteractive,
    ServicePrincipal,
}

impl EventType {
    pub fn graph_value(self) -> &'static str {
        match self {
            EventType::Interactive => "interactiveUser",
            EventType::NonInteractive => "nonInteractiveUser",
            EventType::ServicePrincipal => "servicePrincipal",
        }
    }

    fn parameter(self) -> &'static str {
        match self {
            EventType::Interactive => "Interactive",
            EventType::NonInteractive => "NonInteractive",
            EventType::ServicePrincipal => "ServicePrincipal",
        }
    }
}

/// Which sign-ins by outcome (`status/errorCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Outcome {
    #[default]
    Any,
    /// `status/errorCode eq 0`
    Succeeded,
    /// `status/errorCode ne 0`
    Failed,
}

/// What the caller asks for. Empty lists and `None` mean "no condition".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInFilter {
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    /// User object ids (GUIDs), any of them.
    pub user_ids: Vec<String>,
    pub user_principal_names: Vec<String>,
    /// Client application ids (GUIDs).
    pub app_ids: Vec<String>,
    /// `clientAppUsed` values such as `Browser` or `IMAP4`.
    pub client_apps: Vec<String>,
    /// Beta only; empty: what the API returns by default (interactive user sign-ins).
    pub event_types: Vec<EventType>,
    /// `status/errorCode` values (AADSTS codes; 0 is success), any of them.
    pub error_codes: Vec<i32>,
    pub outcome: Outcome,
}

/// Error codes one query may name: each costs ~30 characters of the request URL.
const MAX_ERROR_CODES: usize = 50;

/// Sign-in logs started long after this; an earlier date is a mistake (e.g. `[datetime]::MinValue`).
fn earliest() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).single().expect("valid constant date")
}

/// Nothing is logged this far ahead; a later date is a mistake (e.g. `[datetime]::MaxValue`).
fn latest() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2100, 1, 1, 0, 0, 0).single().expect("valid constant date")
}

/// The upper end of a time range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Upper {
    /// `createdDateTime lt t`
    Before(DateTime<Utc>),
    /// `createdDateTime le t`
    AtOrBefore(DateTime<Utc>),
}

impl Upper {
    pub fn time(self) -> DateTime<Utc> {
        match self {
            Upper::Before(t) | Upper::AtOrBefore(t) => t,
        }
    }
}

/// A `createdDateTime` range: `from` inclusive, `to` as [`Upper`] says; `None` is unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TimeRange {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<Upper>,
}

pub fn format_date(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// An OData string literal: quoted, with every quote doubled.
pub fn literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if c == '\'' {
            out.push('\'');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

pub fn is_guid(value: &str) -> bool {
    let v = value.trim();
    let v = v.strip_prefix('{').and_then(|v| v.strip_suffix('}')).unwrap_or(v);
    uuid::Uuid::try_parse(v).is_ok() && v.len() == 36
}

/// A GUID without braces, lower-case, as Graph writes ids.
fn normalise_guid(value: &str) -> String {
    let v = value.trim();
    v.strip_prefix('{').and_then(|v| v.strip_suffix('}')).unwrap_or(v).to_ascii_lowercase()
}

fn shorten(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() <= MAX { text.to_owned() } else { format!("{}…", text.chars().take(MAX).collect::<String>()) }
}

impl SignInFilter {
    /// Checks every value and returns the filter with ids normalised. Errors name the parameter.
    pub fn validated(mut self) -> Result<Self> {
        for (parameter, date) in [("StartDate", self.start), ("EndDate", self.end)] {
            if let Some(d) = date
                && (d < earliest() || d >= latest())
            {
                return Err(Error::invalid_input(
                    parameter,
                    format!("{} is not a plausible sign-in date; give a date after 2000-01-01 (Microsoft Graph keeps sign-ins for 30 days with Entra ID P1/P2)", d.format("%Y-%m-%d %H:%M:%S UTC")),
                ));
            }
        }
        if let (Some(start), Some(end)) = (self.start, self.end)
            && start > end
        {
            return Err(Error::invalid_input(
                "EndDate",
                format!("it ({}) is before -StartDate ({}); the range would be empty. Swap the two dates", end.format("%Y-%m-%d %H:%M:%S UTC"), start.format("%Y-%m-%d %H:%M:%S UTC")),
            ));
        }
        for (parameter, ids) in [("UserId", &mut self.user_ids), ("ApplicationId", &mut self.app_ids)] {
            for id in ids.iter_mut() {
                if !is_guid(id) {
                    return Err(Error::invalid_input(parameter, format!("'{}' is not an object id (a GUID such as 3dd89389-b34c-4f5a-975d-516df5694d7e)", shorten(id))));
                }
                *id = normalise_guid(id);
            }
            ids.sort();
            ids.dedup();
        }
        for (parameter, values) in [("UserPrincipalName", &mut self.user_principal_names), ("ClientApp", &mut self.client_apps)] {
            for v in values.iter_mut() {
                if v.trim().is_empty() {
                    return Err(Error::invalid_input(parameter, "it contains an empty value"));
                }
                if v.chars().any(char::is_control) {
                    return Err(Error::invalid_input(parameter, format!("'{}' contains control characters", shorten(&v.escape_debug().to_string()))));
                }
                if v.len() > 1024 {
                    return Err(Error::invalid_input(parameter, "a value is longer than 1024 characters"));
                }
                *v = v.trim().to_owned();
            }
            values.dedup();
        }
        self.event_types.sort();
        self.event_types.dedup();
        if let Some(negative) = self.error_codes.iter().find(|c| **c < 0) {
            return Err(Error::invalid_input("ErrorCode", format!("{negative} is not a sign-in error code (they are 0 for success or a positive AADSTS number such as 50126)")));
        }
        self.error_codes.sort_unstable();
        self.error_codes.dedup();
        if self.error_codes.len() > MAX_ERROR_CODES {
            return Err(Error::invalid_input("ErrorCode", format!("at most {MAX_ERROR_CODES} error codes can be asked for at once")));
        }
        if self.error_codes.contains(&0) && self.outcome == Outcome::Failed {
            return Err(Error::invalid_input("ErrorCode", "error code 0 means success, which contradicts asking for failed sign-ins only"));
        }
        if self.error_codes.iter().any(|c| *c != 0) && self.outcome == Outcome::Succeeded {
            return Err(Error::invalid_input("ErrorCode", "a non-zero error code means failure, which contradicts asking for successful sign-ins only"));
        }
        Ok(self)
    }

    /// The caller's own range, widened to whole seconds: start rounded down, end up (`le` when
    /// the end is a whole second, else `lt` the next second).
    pub fn range(&self) -> TimeRange {
        TimeRange {
            from: self.start.map(|s| s.trunc_subsecs(0)),
            to: self.end.map(|e| if e.nanosecond() == 0 { Upper::AtOrBefore(e) } else { Upper::Before(e.trunc_subsecs(0) + Duration::seconds(1)) }),
        }
    }

    /// The OData `$filter` for `range` (a window of [`SignInFilter::range`]) with every other
    /// condition; `None` when there is no condition at all.
    pub fn odata(&self, version: ApiVersion, range: &TimeRange) -> Result<Option<String>> {
        let mut clauses: Vec<String> = Vec::new();
        if let Some(from) = range.from {
            clauses.push(format!("createdDateTime ge {}", format_date(from)));
        }
        match range.to {
            Some(Upper::Before(t)) => clauses.push(format!("createdDateTime lt {}", format_date(t))),
            Some(Upper::AtOrBefore(t)) => clauses.push(format!("createdDateTime le {}", format_date(t))),
            None => {}
        }
        let either = |parts: Vec<String>| -> Option<String> {
            match parts.len() {
                0 => None,
                1 => parts.into_iter().next(),
                _ => Some(format!("({})", parts.join(" or "))),
            }
        };
        let any_of = |property: &str, values: &[String]| either(values.iter().map(|v| format!("{property} eq {}", literal(v))).collect());
        clauses.extend(any_of("userId", &self.user_ids));
        clauses.extend(any_of("userPrincipalName", &self.user_principal_names));
        clauses.extend(any_of("appId", &self.app_ids));
        clauses.extend(any_of("clientAppUsed", &self.client_apps));
        if !self.event_types.is_empty() {
            if version == ApiVersion::V1 {
                let switch = self.event_types[0].parameter();
                return Err(Error::invalid_input(switch, "sign-in event types can only be filtered with the beta API; use -ApiVersion beta (the default)"));
            }
            let parts: Vec<String> = self.event_types.iter().map(|t| format!("signInEventTypes/any(t: t eq {})", literal(t.graph_value()))).collect();
            clauses.push(if parts.len() == 1 { parts.into_iter().next().unwrap_or_default() } else { format!("({})", parts.join(" or ")) });
        }
        // Numbers, not literals: nothing from the caller but digits reaches the filter.
        clauses.extend(either(self.error_codes.iter().map(|c| format!("status/errorCode eq {c}")).collect()));
        match self.outcome {
            Outcome::Any => {}
            Outcome::Succeeded if self.error_codes.is_empty() => clauses.push("status/errorCode eq 0".into()),
            Outcome::Failed => clauses.push("status/errorCode ne 0".into()),
            Outcome::Succeeded => {}
        }
        Ok(if clauses.is_empty() { None } else { Some(clauses.join(" and ")) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn filter_text(f: &SignInFilter) -> String {
        f.odata(ApiVersion::Beta, &f.range()).unwrap().unwrap_or_default()
    }

    #[test]
    fn the_original_query_shape_with_utc_dates() {
        // 2020-01-01 00:00 at UTC+02:00 is 2019-12-31 22:00 UTC (the old cmdlet sent 00:00Z).
        let f = SignInFilter {
            start: Some(utc("2020-01-01T00:00:00+02:00")),
            end: Some(utc("2020-01-08T00:00:00+02:00")),
            user_ids: vec!["3DD89389-B34C-4F5A-975D-516DF5694D7E".into()],
            ..Default::default()
        }
        .validated()
        .unwrap();
        assert_eq!(filter_text(&f), "createdDateTime ge 2019-12-31T22:00:00Z and createdDateTime le 2020-01-07T22:00:00Z and userId eq '3dd89389-b34c-4f5a-975d-516df5694d7e'");
    }

    #[test]
    fn fractional_bounds_widen_to_whole_seconds() {
        let f = SignInFilter { start: Some(utc("2024-05-01T10:00:00.700Z")), end: Some(utc("2024-05-02T10:00:00.200Z")), ..Default::default() };
        assert_eq!(filter_text(&f), "createdDateTime ge 2024-05-01T10:00:00Z and createdDateTime lt 2024-05-02T10:00:01Z");
    }

    #[test]
    fn every_condition() {
        let f = SignInFilter {
            user_principal_names: vec!["o'brien@contoso.com".into(), "a@b.c".into()],
            app_ids: vec!["{C44B4083-3BB0-49C1-B47D-974E53CBDF3C}".into()],
            client_apps: vec!["IMAP4".into()],
            event_types: vec![EventType::NonInteractive, EventType::Interactive],
            error_codes: vec![50126],
            outcome: Outcome::Failed,
            ..Default::default()
        }
        .validated()
        .unwrap();
        assert_eq!(
            filter_text(&f),
            "(userPrincipalName eq 'o''brien@contoso.com' or userPrincipalName eq 'a@b.c') and appId eq 'c44b4083-3bb0-49c1-b47d-974e53cbdf3c' and clientAppUsed eq 'IMAP4' and (signInEventTypes/any(t: t eq 'interactiveUser') or signInEventTypes/any(t: t eq 'nonInteractiveUser')) and status/errorCode eq 50126 and status/errorCode ne 0"
        );
        let e = f.odata(ApiVersion::V1, &f.range()).unwrap_err();
        assert!(e.to_string().contains("'Interactive'") && e.to_string().contains("beta"), "{e}");
        let ok = SignInFilter { outcome: Outcome::Succeeded, ..Default::default() };
        assert_eq!(filter_text(&ok), "status/errorCode eq 0");
        // Several codes: any of them, sorted and once each.
        let codes = SignInFilter { error_codes: vec![50126, 50053, 50126], outcome: Outcome::Failed, ..Default::default() }.validated().unwrap();
        assert_eq!(filter_text(&codes), "(status/errorCode eq 50053 or status/errorCode eq 50126) and status/errorCode ne 0");
        let zero = SignInFilter { error_codes: vec![0], outcome: Outcome::Succeeded, ..Default::default() }.validated().unwrap();
        assert_eq!(filter_text(&zero), "status/errorCode eq 0");
        assert_eq!(SignInFilter::default().odata(ApiVersion::V1, &TimeRange::default()).unwrap(), None);
    }

    #[test]
    fn bad_values_name_their_parameter() {
        let err = |f: SignInFilter| f.validated().unwrap_err().to_string();
        let e = err(SignInFilter { user_ids: vec!["admin@contoso.com".into()], ..Default::default() });
        assert!(e.contains("'UserId'") && e.contains("GUID"), "{e}");
        let e = err(SignInFilter { user_ids: vec!["3dd89389-b34c-4f5a-975d-516df5694d7e' or 1 eq 1 or userId eq '".into()], ..Default::default() });
        assert!(e.contains("'UserId'"), "{e}");
        let e = err(SignInFilter { app_ids: vec!["x".into()], ..Default::default() });
        assert!(e.contains("'ApplicationId'"), "{e}");
        let e = err(SignInFilter { start: Some(utc("2024-05-02T00:00:00Z")), end: Some(utc("2024-05-01T00:00:00Z")), ..Default::default() });
        assert!(e.contains("'EndDate'") && e.contains("before -StartDate"), "{e}");
        let e = err(SignInFilter { start: Some(utc("0001-01-01T00:00:00Z")), ..Default::default() });
        assert!(e.contains("'StartDate'") && e.contains("plausible"), "{e}");
        let e = err(SignInFilter { end: Some(utc("9999-12-31T23:59:59Z")), ..Default::default() });
        assert!(e.contains("'EndDate'"), "{e}");
        let e = err(SignInFilter { user_principal_names: vec![" ".into()], ..Default::default() });
        assert!(e.contains("'UserPrincipalName'"), "{e}");
        let e = err(SignInFilter { client_apps: vec!["a\u{0}b".into()], ..Default::default() });
        assert!(e.contains("'ClientApp'"), "{e}");
        let e = err(SignInFilter { error_codes: vec![50126, 0], outcome: Outcome::Failed, ..Default::default() });
        assert!(e.contains("'ErrorCode'") && e.contains("contradicts"), "{e}");
        let e = err(SignInFilter { error_codes: vec![50126], outcome: Outcome::Succeeded, ..Default::default() });
        assert!(e.contains("'ErrorCode'") && e.contains("contradicts"), "{e}");
        let e = err(SignInFilter { error_codes: vec![-1], ..Default::default() });
        assert!(e.contains("'ErrorCode'") && e.contains("-1"), "{e}");
        let e = err(SignInFilter { error_codes: (1..=51).collect(), ..Default::default() });
        assert!(e.contains("'ErrorCode'") && e.contains("at most 50"), "{e}");
        // equal dates are a valid (one-instant) range
        SignInFilter { start: Some(utc("2024-05-01T00:00:00Z")), end: Some(utc("2024-05-01T00:00:00Z")), ..Default::default() }.validated().unwrap();
    }

    /// OData literals in `text`, decoded, in order; `Err` when a literal never ends.
    fn literals(text: &str) -> std::result::Result<(Vec<String>, String), String> {
        let mut found = Vec::new();
        let mut skeleton = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '\'' {
                skeleton.push(c);
                continue;
            }
            skeleton.push('?');
            let mut value = String::new();
            loop {
                match chars.next() {
                    None => return Err("unterminated literal".into()),
                    Some('\'') if chars.peek() == Some(&'\'') => {
                        chars.next();
                        value.push('\'');
                    }
                    Some('\'') => break,
                    Some(other) => value.push(other),
                }
            }
            found.push(value);
        }
        Ok((found, skeleton))
    }

    proptest! {
        #[test]
        fn any_value_is_exactly_one_literal(value in "\\PC{1,40}", other in "[a-z'@. ]{1,20}") {
            prop_assume!(!value.trim().is_empty() && !other.trim().is_empty());
            let f = SignInFilter { user_principal_names: vec![value.clone()], client_apps: vec![other.clone()], ..Default::default() }.validated().unwrap();
            let text = filter_text(&f);
            let (found, skeleton) = literals(&text).map_err(TestCaseError::fail)?;
            prop_assert_eq!(found, vec![value.trim().to_owned(), other.trim().to_owned()]);
            // Whatever the values hold, the structure around them is the same.
            prop_assert_eq!(skeleton, "userPrincipalName eq ? and clientAppUsed eq ?");
        }

        #[test]
        fn no_quote_from_the_input_is_left_unescaped(value in "[a-z']{0,10}'[a-z' ]{0,10}") {
            prop_assume!(!value.trim().is_empty());
            let f = SignInFilter { user_principal_names: vec![value.clone()], ..Default::default() }.validated().unwrap();
            let text = filter_text(&f);
            let inner = &text["userPrincipalName eq '".len()..text.len() - 1];
            // Inside the literal every quote comes in a pair.
            prop_assert!(inner.split("''").all(|piece| !piece.contains('\'')), "{}", text);
            prop_assert_eq!(inner.matches('\'').count(), 2 * value.trim().matches('\'').count());
        }

        #[test]
        fn dates_are_utc_whatever_the_offset(secs in 946_684_800i64..4_000_000_000i64, offset_min in -720i32..=840) {
            let t = Utc.timestamp_opt(secs, 0).unwrap();
            let local = t.with_timezone(&chrono::FixedOffset::east_opt(offset_min * 60).unwrap());
            let f = SignInFilter { start: Some(local.with_timezone(&Utc)), ..Default::default() };
            prop_assert_eq!(filter_text(&f), format!("createdDateTime ge {}", t.format("%Y-%m-%dT%H:%M:%SZ")));
        }
    }
}
