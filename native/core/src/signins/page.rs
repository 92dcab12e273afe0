//! One page of Graph's `auditLogs/signIns`: its records, reshaped the way the PartnerCenter
//! module's Graph SDK objects looked (PascalCase property names) or kept with Graph's names for a
//! reader that maps them itself, its `@odata.nextLink` (followed only on the host the request went
//! to), and Graph's error answers turned into errors that say what to do.

use crate::error::{Error, Result};
use crate::http;
use chrono::{DateTime, Utc};
use std::borrow::Cow;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use url::Url;

pub const GRAPH: &str = "Microsoft Graph";

/// The property names a query's records carry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecordNames {
    /// The PartnerCenter module's `Microsoft.Graph.SignIn` (PascalCase: `UserPrincipalName`,
    /// `MfaDetail.AuthMethod`), with an `MfaDetail` that holds nothing as `null`: what files,
    /// checks and scripts see.
    #[default]
    Pascal,
    /// As Graph sent them (`userPrincipalName`), for a reader that maps names onto its own types
    /// (the module's): a page of a thousand v1.0 sign-ins reads in 2.7 ms instead of the 5.1 it
    /// took with every key renamed.
    AsSent,
}

/// A sign-in kept as JSON text with the names of its query's [`RecordNames`] (a page of parsed
/// values takes about four times the memory), with its `CreatedDateTime`, which paging looks at
/// for every record.
///
/// The text is JSON by construction: a page is checked as a whole when it is read, and the
/// renaming of its records' keys keeps them JSON. Checking each record once more, and parsing it
/// again for its time, cost as much as the renaming itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    json: Box<str>,
    created: Option<DateTime<Utc>>,
    names: RecordNames,
}

impl Record {
    /// A record from JSON text that did not come from a page (tests): checked to be one JSON
    /// object.
    pub fn from_json(json: String) -> Result<Self> {
        let checked = RawValue::from_string(json).map_err(|e| Error::Internal(format!("a sign-in is not JSON ({})", e.classify_text())))?;
        if !checked.get().starts_with('{') {
            return Err(Error::Internal("a sign-in is not a JSON object".into()));
        }
        Ok(Self::of_checked(checked.get().to_owned()))
    }

    /// A record from text known to be one JSON object with PascalCase names; its time is read
    /// from the text.
    fn of_checked(json: String) -> Self {
        let created = created_in(&json, RecordNames::Pascal);
        Self { json: json.into_boxed_str(), created, names: RecordNames::Pascal }
    }

    /// A record of a checked page as Graph sent it; its time is read from the text.
    fn as_sent(raw: &RawValue) -> Self {
        let json = raw.get();
        Self { json: json.into(), created: created_in(json, RecordNames::AsSent), names: RecordNames::AsSent }
    }

    /// The record's JSON text (compact with PascalCase names; as sent with Graph's).
    pub fn get(&self) -> &str {
        &self.json
    }

    /// The names its properties carry.
    pub fn names(&self) -> RecordNames {
        self.names
    }

    /// Its `CreatedDateTime`, when it has one that reads as a time.
    pub fn created(&self) -> Option<DateTime<Utc>> {
        self.created
    }
}

/// A record's own time (its top-level `CreatedDateTime`, by the names it carries), as serde
/// reads a `DateTime<Utc>`: what does not read is no time.
fn created_in(json: &str, names: RecordNames) -> Option<DateTime<Utc>> {
    let key = match names {
        RecordNames::Pascal => "CreatedDateTime",
        RecordNames::AsSent => "createdDateTime",
    };
    top_level_string(json, key)?.parse().ok()
}

/// A record's top-level string property `key`, found by passing over the properties before it
/// (a sign-in's id and time come first), or, when an escape is on the way, as a parse reads it.
fn top_level_string<'a>(json: &'a str, key: &str) -> Option<Cow<'a, str>> {
    match top_level_text(json.as_bytes(), key.as_bytes()) {
        Some(text) => text.and_then(|t| std::str::from_utf8(t).ok()).map(Cow::Borrowed),
        None => match serde_json::from_str::<Map<String, Value>>(json).ok()?.remove(key)? {
            Value::String(text) => Some(Cow::Owned(text)),
            _ => None,
        },
    }
}

/// The text of the first top-level property `key` of a JSON object (checked JSON), looking no
/// further than it: `Some(Some(text))` for a string without escapes, `Some(None)` when the
/// property is missing or not a string, `None` when an escape (in a key or the value) needs a
/// real parser.
fn top_level_text<'a>(json: &'a [u8], key: &[u8]) -> Option<Option<&'a [u8]>> {
    let mut i = skip_whitespace(json, 0);
    if json.get(i) != Some(&b'{') {
        return Some(None);
    }
    i += 1;
    loop {
        i = skip_whitespace(json, i);
        if json.get(i) != Some(&b'"') {
            return Some(None);
        }
        let end = string_end(json, i + 1)?;
        let name = &json[i + 1..end];
        if name.contains(&b'\\') {
            return None;
        }
        i = skip_whitespace(json, skip_whitespace(json, end + 1) + 1);
        if name == key {
            if json.get(i) != Some(&b'"') {
                return Some(None);
            }
            let text = &json[i + 1..string_end(json, i + 1)?];
            return if text.contains(&b'\\') { None } else { Some(Some(text)) };
        }
        i = skip_whitespace(json, value_end(json, i)?);
        if json.get(i) != Some(&b',') {
            return Some(None);
        }
        i += 1;
    }
}

/// Just past the JSON value (checked JSON) that starts at `start`.
fn value_end(json: &[u8], start: usize) -> Option<usize> {
    match json.get(start)? {
        b'"' => Some(string_end(json, start + 1)? + 1),
        b'{' | b'[' => container_end(json, start),
        _ => Some(scalar_end(json, start)),
    }
}

/// Just past the number, `true`, `false` or `null` that starts at `start`: the next delimiter.
fn scalar_end(json: &[u8], start: usize) -> usize {
    json[start..].iter().position(|c| matches!(c, b',' | b']' | b'}' | b' ' | b'\n' | b'\r' | b'\t')).map_or(json.len(), |n| start + n)
}

/// A record's properties, with the names it carries, for code that looks inside one (CSV
/// columns, tests).
pub fn fields(record: &Record) -> Map<String, Value> {
    serde_json::from_str(record.get()).unwrap_or_default()
}

/// A record's id (`Id` or `id`, by the names it carries), read without parsing the rest of it.
pub fn id(record: &Record) -> Option<String> {
    let key = match record.names {
        RecordNames::Pascal => "Id",
        RecordNames::AsSent => "id",
    };
    top_level_string(record.get(), key).map(Cow::into_owned)
}

#[derive(Debug)]
pub struct Page {
    pub records: Vec<Record>,
    /// The next page, checked to be on the request's scheme, host and port.
    pub next_link: Option<Url>,
}

#[derive(Deserialize)]
struct RawPage<'a> {
    #[serde(borrow)]
    value: Vec<&'a RawValue>,
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<String>,
}

/// Parses a `200` answer of `request` (PascalCase records).
pub fn parse(body: &[u8], request: &Url) -> Result<Page> {
    let (records, next) = read(body, request, RecordNames::Pascal)?;
    let next_link = next.as_deref().map(|link| follow(link, request)).transpose()?;
    Ok(Page { records, next_link })
}

/// The records of a `200` answer (with `names`) and its `@odata.nextLink` as sent (not yet checked).
pub fn read(body: &[u8], request: &Url, names: RecordNames) -> Result<(Vec<Record>, Option<String>)> {
    // serde reads a struct from a JSON array too (fields by position); a page is an object.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(Error::InvalidResponse { url: http::endpoint_label(request), reason: "the sign-in page is not a JSON object".into() });
    }
    let raw: RawPage = serde_json::from_slice(body).map_err(|e| Error::InvalidResponse {
        url: http::endpoint_label(request),
        reason: format!("the sign-in page is not the expected JSON ({})", e.classify_text()),
    })?;
    let mut records = Vec::with_capacity(raw.value.len());
    let mut scratch = Reshaper::default();
    for value in raw.value {
        if !value.get().starts_with('{') {
            return Err(Error::InvalidResponse { url: http::endpoint_label(request), reason: "a sign-in in the page is not a JSON object".into() });
        }
        records.push(match names {
            RecordNames::Pascal => scratch.reshape_record(value, request)?,
            RecordNames::AsSent => Record::as_sent(value),
        });
    }
    Ok((records, raw.next_link))
}

/// [`reshape`] done on the record's text: object keys are written in PascalCase, everything else
/// is copied as sent (a tree costs an allocation per key and string, and decoding and encoding
/// every string again cost most of what a page took). Keys that meet after renaming (`id` and
/// `Id`) and a key that starts with an escape fall back to [`reshape`]; the result means the
/// same either way.
#[derive(Default)]
struct Reshaper {
    out: Vec<u8>,
    /// Hashes of the keys written so far, for each object being written (innermost last).
    keys: Vec<u64>,
    /// For each container being written: where its keys start in `keys`, or `None` for an array.
    open: Vec<Option<usize>>,
    /// The record's `CreatedDateTime`, read as its key went by.
    created: Option<DateTime<Utc>>,
}

impl Reshaper {
    fn reshape_record(&mut self, raw: &RawValue, request: &Url) -> Result<Record> {
        match self.rename_keys(raw.get().as_bytes()) {
            Some(()) => {
                // Copied out at its length: the scratch buffer keeps its capacity for the next
                // record (taking it made every record grow a buffer from nothing, then shrink it).
                let json = std::str::from_utf8(&self.out).map_err(|e| Error::Internal(format!("a sign-in could not be re-serialised ({e})")))?;
                Ok(Record { json: json.into(), created: self.created, names: RecordNames::Pascal })
            }
            None => {
                let value: Value = serde_json::from_str(raw.get()).map_err(|e| Error::InvalidResponse {
                    url: http::endpoint_label(request),
                    reason: format!("a sign-in in the page is not the expected JSON ({})", e.classify_text()),
                })?;
                let json = serde_json::to_string(&reshape(value)).map_err(|e| Error::Internal(format!("a sign-in could not be re-serialised ({e})")))?;
                Ok(Record::of_checked(json))
            }
        }
    }

    /// Writes `json` (one value, already checked to be JSON) to `out` with its keys renamed,
    /// without whitespace. `None`: the record needs the tree path.
    fn rename_keys(&mut self, json: &[u8]) -> Option<()> {
        self.out.clear();
        self.keys.clear();
        self.open.clear();
        self.created = None;
        let mut key_next = false;
        let mut i = 0;
        while let Some(&b) = json.get(i) {
            match b {
                b'"' => {
                    let end = string_end(json, i + 1)?;
                    if key_next {
                        key_next = false;
                        let name = &json[i + 1..end];
                        if name.first() == Some(&b'\\') {
                            return None;
                        }
                        let start = self.out.len();
                        self.out.extend_from_slice(&json[i..=end]);
                        if name.first().is_some_and(u8::is_ascii_lowercase) {
                            self.out[start + 1].make_ascii_uppercase();
                        }
                        let hash = key_hash(&self.out[start..]);
                        let base = self.open.last().copied().flatten()?;
                        if self.keys[base..].contains(&hash) {
                            return None;
                        }
                        self.keys.push(hash);
                        let is_created = self.open.len() == 1 && self.out[start..] == *br#""CreatedDateTime""#;
                        i = skip_whitespace(json, end + 1);
                        if json.get(i) != Some(&b':') {
                            return None;
                        }
                        self.out.push(b':');
                        i = skip_whitespace(json, i + 1);
                        if is_created && json.get(i) == Some(&b'"') {
                            let text = &json[i + 1..string_end(json, i + 1)?];
                            if text.contains(&b'\\') {
                                // Escaped: the tree path reads it as serde does.
                                return None;
                            }
                            // As serde reads a `DateTime<Utc>`: what does not read is no time.
                            self.created = std::str::from_utf8(text).ok().and_then(|t| t.parse().ok());
                        }
                        if name == b"mfaDetail" && json.get(i) == Some(&b'{') {
                            // One with nothing in it is `null`, as for a sign-in without MFA.
                            let end = container_end(json, i)?;
                            if is_empty_object(&serde_json::from_slice(&json[i..end]).ok()?) {
                                self.out.extend_from_slice(b"null");
                                i = end;
                            }
                        }
                        continue;
                    }
                    self.out.extend_from_slice(&json[i..=end]);
                    i = end + 1;
                    continue;
                }
                // Deeper than a parsed tree may go: the tree path refuses it.
                b'{' | b'[' if self.open.len() >= MAX_DEPTH => return None,
                b'{' => {
                    self.open.push(Some(self.keys.len()));
                    key_next = true;
                }
                b'[' => self.open.push(None),
                b'}' | b']' => {
                    if let Some(base) = self.open.pop()? {
                        self.keys.truncate(base);
                    }
                    key_next = false;
                }
                b',' => key_next = matches!(self.open.last(), Some(Some(_))),
                b' ' | b'\n' | b'\r' | b'\t' => {
                    i += 1;
                    continue;
                }
                _ => {
                    // A number, true, false or null: up to the next delimiter.
                    let end = scalar_end(json, i);
                    let token = &json[i..end];
                    // A number no double holds (1e400) is refused, as a parsed tree would refuse it.
                    if matches!(b, b'-' | b'0'..=b'9') && token.iter().any(|c| matches!(c, b'.' | b'e' | b'E')) && !std::str::from_utf8(token).ok()?.parse::<f64>().ok()?.is_finite() {
                        return None;
                    }
                    self.out.extend_from_slice(token);
                    i = end;
                    continue;
                }
            }
            self.out.push(b);
            i += 1;
        }
        self.open.is_empty().then_some(())
    }
}

/// serde_json's nesting limit for a parsed value.
const MAX_DEPTH: usize = 128;

/// The index of the quote that closes the string whose text starts at `from`.
fn string_end(json: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let at = from + memchr::memchr2(b'"', b'\\', json.get(from..)?)?;
        if json[at] == b'"' {
            return Some(at);
        }
        // An escape: the character after the backslash is part of it (`\"`, `\\`).
        from = at + 2;
    }
}

/// Just past the object or array that starts at `start`.
fn container_end(json: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = start;
    while let Some(&b) = json.get(i) {
        match b {
            b'"' => i = string_end(json, i + 1)?,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn skip_whitespace(json: &[u8], mut i: usize) -> usize {
    while json.get(i).is_some_and(|b| matches!(b, b' ' | b'\n' | b'\r' | b'\t')) {
        i += 1;
    }
    i
}

/// FNV-1a of a written key. Two keys of one object with the same hash only send the record down
/// the tree path (same output, slower), so a hash this cheap does.
fn key_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

trait ClassifyText {
    fn classify_text(&self) -> String;
}

impl ClassifyText for serde_json::Error {
    fn classify_text(&self) -> String {
        match self.classify() {
            serde_json::error::Category::Eof => format!("it ends early, at line {} column {}", self.line(), self.column()),
            serde_json::error::Category::Data => "a field is missing or has the wrong type".into(),
            _ => format!("malformed at line {} column {}", self.line(), self.column()),
        }
    }
}

/// The next page's URL, when it stays with the scheme, host and port the request went to. A
/// server that points elsewhere would have us send the access token to that host.
pub fn follow(link: &str, request: &Url) -> Result<Url> {
    let refuse = |why: String| Error::InvalidResponse { url: http::endpoint_label(request), reason: format!("its @odata.nextLink {why}; the access token is only sent to the host the request went to, so paging stopped") };
    let next = request.join(link).map_err(|_| refuse("is not a URL".into()))?;
    if next.scheme() != request.scheme() || next.host_str() != request.host_str() || next.port_or_known_default() != request.port_or_known_default() {
        return Err(refuse(format!("points at {}://{}{}", next.scheme(), next.host_str().unwrap_or("?"), next.port().map(|p| format!(":{p}")).unwrap_or_default())));
    }
    Ok(next)
}

/// Graph's property names with an upper-case first letter, recursively (`mfaDetail.authMethod`
/// → `MfaDetail.AuthMethod`); OData annotations (`@odata.type`) are kept as they are. An
/// `mfaDetail` with nothing in it becomes `null`, as for a sign-in without MFA.
pub fn reshape(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (key, value) in map {
                let value = if key == "mfaDetail" && is_empty_object(&value) { Value::Null } else { reshape(value) };
                out.insert(pascal(&key), value);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(reshape).collect()),
        other => other,
    }
}

fn is_empty_object(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.values().all(|v| match v {
            Value::Null => true,
            Value::String(s) => s.is_empty(),
            _ => false,
        }),
        _ => false,
    }
}

pub fn pascal(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) if first.is_ascii_lowercase() => {
            let mut out = String::with_capacity(name.len());
            out.push(first.to_ascii_uppercase());
            out.push_str(chars.as_str());
            out
        }
        _ => name.to_owned(),
    }
}

/// Graph's property name for a PascalCase one (`UserPrincipalName` → `userPrincipalName`).
pub fn camel(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) if first.is_ascii_uppercase() => {
            let mut out = String::with_capacity(name.len());
            out.push(first.to_ascii_lowercase());
            out.push_str(chars.as_str());
            out
        }
        _ => name.to_owned(),
    }
}

#[derive(Deserialize, Default)]
struct Envelope {
    #[serde(default)]
    error: Option<GraphError>,
}

#[derive(Deserialize, Default)]
struct GraphError {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default, rename = "innerError", alias = "innererror")]
    inner: Option<Inner>,
}

#[derive(Deserialize, Default)]
struct Inner {
    #[serde(default, rename = "request-id")]
    request_id: Option<String>,
}

/// Codes Graph uses when the caller lacks the permission to read audit logs.
const PERMISSION_CODES: &[&str] = &["Authorization_RequestDenied", "Authentication_MSGraphPermissionMissing", "Authentication_ApplicationHasNoReadAuditLogDataAccess"];
pub const NON_PREMIUM: &str = "Authentication_RequestFromNonPremiumTenantOrB2CTenant";

/// An error answer of the sign-in endpoint as an error that says what to do. `tenant` names
/// the tenant asked about, `filter` the `$filter` sent.
pub fn error(status: u16, body: &[u8], request_id: Option<&str>, tenant: &str, filter: Option<&str>) -> Error {
    let graph = serde_json::from_slice::<Envelope>(body).ok().and_then(|e| e.error).unwrap_or_default();
    let said = graph.message.clone().filter(|m| !m.trim().is_empty()).unwrap_or_else(|| format!("no error description (HTTP {status})"));
    let request_id = graph.inner.and_then(|i| i.request_id).or_else(|| request_id.map(str::to_owned));
    let reference = request_id.map(|id| format!(" (request-id {id})")).unwrap_or_default();
    let code = graph.code.clone();
    let message = match (status, code.as_deref()) {
        (403, Some(NON_PREMIUM)) => format!(
            "Tenant '{tenant}' has no Microsoft Entra ID P1 or P2 licence, and Microsoft Graph serves sign-in logs (auditLogs/signIns) only to tenants that have one. \
             Either license the tenant for Entra ID P1 (alone or in a suite such as Microsoft 365 Business Premium, E3 or E5; sign-ins are then kept 30 days), \
             or review its sign-ins in the Microsoft Entra admin center (Monitoring & health > Sign-in logs), where a free tenant keeps them for 7 days. Graph said: {said}{reference}"
        ),
        (403, Some(c)) if PERMISSION_CODES.contains(&c) => format!(
            "The application may not read sign-in logs in tenant '{tenant}': it needs the Microsoft Graph permission AuditLog.Read.All (Graph also asks for Directory.Read.All), \
             consented by an administrator of that tenant: as a delegated permission when a user signs in (the user also needs a role such as Reports Reader, Security Reader or Global Reader), \
             or as an application permission for a service principal. Graph said: {said}{reference}"
        ),
        (403, _) => format!("Access to the sign-in logs of tenant '{tenant}' was denied. Check the application's Graph permissions (AuditLog.Read.All) and the signed-in user's role. Graph said: {said}{reference}"),
        (400, _) => format!(
            "Microsoft Graph rejected the sign-in query: {said}{reference}. The filter sent was: {}",
            filter.unwrap_or("(none)")
        ),
        (401, _) => format!("Microsoft Graph did not accept the access token for tenant '{tenant}', not even a newly issued one. Reconnect with Connect-PartnerCenter (consent again if the user's sessions were revoked) and check that this computer's clock is right. Graph said: {said}{reference}"),
        (429, _) => format!("Microsoft Graph kept throttling the sign-in requests for tenant '{tenant}' (its limit is 5 requests per 10 seconds per application and tenant) and the retries ran out. Try again later or narrow the date range. Graph said: {said}{reference}"),
        _ => format!("{said}{reference}"),
    };
    Error::Service { service: GRAPH.into(), status, code, message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use serde_json::json;

    fn url(u: &str) -> Url {
        Url::parse(u).unwrap()
    }

    #[test]
    fn records_get_the_sdk_property_names() {
        let record = json!({"id": "1", "mfaDetail": {"authMethod": "PhoneAppNotification", "authDetail": null}, "status": {"errorCode": 0},
            "authenticationDetails": [{"succeeded": true, "@odata.type": "x"}], "riskEventTypes_v2": []});
        let shaped = reshape(record);
        assert_eq!(shaped, json!({"Id": "1", "MfaDetail": {"AuthMethod": "PhoneAppNotification", "AuthDetail": null}, "Status": {"ErrorCode": 0},
            "AuthenticationDetails": [{"Succeeded": true, "@odata.type": "x"}], "RiskEventTypes_v2": []}));
        assert_eq!(reshape(json!({"mfaDetail": {"authMethod": null, "authDetail": null}})), json!({"MfaDetail": null}));
        assert_eq!(reshape(json!({"mfaDetail": null})), json!({"MfaDetail": null}));
    }

    #[test]
    fn a_usual_record_is_renamed_on_its_text() {
        let record = r#"{"id":"a\"b","isInteractive":true,"riskDetail":null,"status":{"errorCode":50126,"failureReason":"Invalid \u00e9"},"location":{"geoCoordinates":{"latitude":47.6,"longitude":-1.2e2}},"mfaDetail":{"authMethod":null,"authDetail":""},"appliedConditionalAccessPolicies":[],"authenticationDetails":[{"succeeded":false,"@odata.type":"x"}]}"#;
        let mut reshaper = Reshaper::default();
        assert_eq!(reshaper.rename_keys(record.as_bytes()), Some(()), "no tree needed");
        let expected = r#"{"Id":"a\"b","IsInteractive":true,"RiskDetail":null,"Status":{"ErrorCode":50126,"FailureReason":"Invalid \u00e9"},"Location":{"GeoCoordinates":{"Latitude":47.6,"Longitude":-1.2e2}},"MfaDetail":null,"AppliedConditionalAccessPolicies":[],"AuthenticationDetails":[{"Succeeded":false,"@odata.type":"x"}]}"#;
        assert_eq!(String::from_utf8(reshaper.out).unwrap(), expected, "strings and numbers as sent, keys renamed");
        let mut reshaper = Reshaper::default();
        assert_eq!(reshaper.rename_keys(b"{ \"a\" :\n [ 1 , true ,{ \"mfaDetail\" : {\"authMethod\": \"x\"} } ] }"), Some(()));
        assert_eq!(String::from_utf8(reshaper.out).unwrap(), r#"{"A":[1,true,{"MfaDetail":{"AuthMethod":"x"}}]}"#, "without whitespace");
        // The tree path: keys that meet after renaming, a key that starts with an escape, deeper
        // than a tree may go, a number no double holds.
        let deep = format!("{{\"d\":{}{}}}", "[".repeat(200), "]".repeat(200));
        for odd in [r#"{"id":1,"Id":2}"#, r#"{"\u0061b":1}"#, deep.as_str(), r#"{"n":1e400}"#] {
            assert_eq!(Reshaper::default().rename_keys(odd.as_bytes()), None, "{odd}");
        }
    }

    /// The time a record carries is the one a parse of its text finds, whichever path renamed it.
    #[test]
    fn a_record_s_time_is_read_as_its_key_goes_by() {
        let request = url("https://graph.microsoft.com/beta/auditLogs/signIns");
        let at = |t: &str| t.parse::<DateTime<Utc>>().ok();
        for (record, expected) in [
            (r#"{"id":"a","createdDateTime":"2024-05-01T10:00:00.5Z"}"#, at("2024-05-01T10:00:00.5Z")),
            // An offset is read as the same instant in UTC.
            (r#"{"createdDateTime" : "2024-05-01T12:00:00+02:00","id":"a"}"#, at("2024-05-01T10:00:00Z")),
            // Only the record's own: a nested one is not its time.
            (r#"{"status":{"createdDateTime":"2020-01-01T00:00:00Z"},"id":"a"}"#, None),
            (r#"{"details":[{"createdDateTime":"2020-01-01T00:00:00Z"}],"createdDateTime":"2024-05-01T10:00:00Z"}"#, at("2024-05-01T10:00:00Z")),
            (r#"{"createdDateTime":null}"#, None),
            (r#"{"createdDateTime":"yesterday"}"#, None),
            (r#"{"createdDateTime":17}"#, None),
            // Escaped: read by the tree path, as serde reads it.
            (r#"{"createdDateTime":"2024-05-01T10:00:00\u005A"}"#, at("2024-05-01T10:00:00Z")),
            // Keys that meet after renaming: the tree path.
            (r#"{"id":"a","Id":"b","createdDateTime":"2024-05-01T10:00:00Z"}"#, at("2024-05-01T10:00:00Z")),
            // What comes before it is passed over whole, however it is written.
            (r#"{ "s" : "}\"{,", "a":[{"b":"]","c":[1,{"createdDateTime":"2020-01-01T00:00:00Z"}]}], "n":-1.5e3,"t":true,"z":null , "createdDateTime" : "2024-05-01T10:00:00Z"}"#, at("2024-05-01T10:00:00Z")),
            (r#"{"\u0069d":"a","createdDateTime":"2024-05-01T10:00:00Z"}"#, at("2024-05-01T10:00:00Z")),
            (r#"{"id":"a"}"#, None),
            (r#"{}"#, None),
        ] {
            let body = format!(r#"{{"value":[{record}]}}"#);
            let page = parse(body.as_bytes(), &request).unwrap();
            let read = &page.records[0];
            assert_eq!(read.created(), expected, "{record}");
            assert_eq!(read.created(), parsed_time(read.get(), RecordNames::Pascal), "the same as parsing the text: {record}");
            assert_eq!(Record::from_json(read.get().to_owned()).unwrap(), *read, "{record}");
            // Kept as sent: the same time, found without renaming the keys.
            let (kept, _) = read_page(body.as_bytes(), &request, RecordNames::AsSent);
            assert_eq!((kept[0].get(), kept[0].names()), (record, RecordNames::AsSent), "as sent: {record}");
            assert_eq!(kept[0].created(), expected, "as sent: {record}");
            assert_eq!(kept[0].created(), parsed_time(record, RecordNames::AsSent), "as sent, the same as parsing the text: {record}");
        }
        for not_an_object in ["[1]", "\"x\"", "{\"a\":", ""] {
            assert!(Record::from_json(not_an_object.to_owned()).is_err(), "{not_an_object}");
        }
    }

    /// The time a parse of the whole text finds: what reading the record must agree with.
    fn parsed_time(json: &str, names: RecordNames) -> Option<DateTime<Utc>> {
        #[derive(Deserialize)]
        struct Pascal {
            #[serde(rename = "CreatedDateTime")]
            created: Option<DateTime<Utc>>,
        }
        #[derive(Deserialize)]
        struct AsSent {
            #[serde(rename = "createdDateTime")]
            created: Option<DateTime<Utc>>,
        }
        match names {
            RecordNames::Pascal => serde_json::from_str::<Pascal>(json).ok()?.created,
            RecordNames::AsSent => serde_json::from_str::<AsSent>(json).ok()?.created,
        }
    }

    fn read_page(body: &[u8], request: &Url, names: RecordNames) -> (Vec<Record>, Option<String>) {
        read(body, request, names).unwrap()
    }

    /// Paging tells records apart by id when they share a time: each shape's own.
    #[test]
    fn a_record_s_id_is_read_with_its_names() {
        let request = url("https://graph.microsoft.com/v1.0/auditLogs/signIns");
        let body = br#"{"value":[{"id":"a","createdDateTime":"2024-05-01T10:00:00Z"},{"createdDateTime":"2024-05-01T10:00:00Z"}]}"#;
        let (pascal, _) = read_page(body, &request, RecordNames::Pascal);
        let (as_sent, _) = read_page(body, &request, RecordNames::AsSent);
        assert_eq!((id(&pascal[0]), id(&as_sent[0])), (Some("a".to_owned()), Some("a".to_owned())));
        assert_eq!((id(&pascal[1]), id(&as_sent[1])), (None, None));
        assert_eq!(as_sent[0].get(), r#"{"id":"a","createdDateTime":"2024-05-01T10:00:00Z"}"#);
        // A record that has both spellings: each shape reads its own.
        let both = Record::as_sent(&RawValue::from_string(r#"{"Id":"pascal","id":"graph"}"#.to_owned()).unwrap());
        assert_eq!(id(&both).as_deref(), Some("graph"));
    }

    #[test]
    fn a_page_and_its_next_link() {
        let request = url("https://graph.microsoft.com/beta/auditLogs/signIns?$top=2");
        let body = br#"{"@odata.context":"x","@odata.nextLink":"https://graph.microsoft.com/beta/auditLogs/signIns?$top=2&$skiptoken=abc","value":[{"id":"a"},{"id":"b"}]}"#;
        let page = parse(body, &request).unwrap();
        assert_eq!(page.records.len(), 2);
        assert_eq!(page.records[0].get(), r#"{"Id":"a"}"#);
        assert_eq!(fields(&page.records[1])["Id"], "b");
        assert_eq!(page.next_link.unwrap().as_str(), "https://graph.microsoft.com/beta/auditLogs/signIns?$top=2&$skiptoken=abc");
        let last = parse(br#"{"value":[]}"#, &request).unwrap();
        assert!(last.next_link.is_none() && last.records.is_empty());
    }

    #[test]
    fn next_links_to_another_host_port_or_scheme_are_refused() {
        let request = url("https://127.0.0.1:8443/graph/beta/auditLogs/signIns");
        for bad in ["https://evil.example/graph/beta/auditLogs/signIns?$skiptoken=1", "https://127.0.0.1:9443/graph/beta/x", "http://127.0.0.1:8443/graph/beta/x", "https://localhost:8443/graph"] {
            let e = follow(bad, &request).unwrap_err().to_string();
            assert!(e.contains("nextLink") && e.contains("only sent to the host"), "{bad}: {e}");
        }
        assert!(follow("https://127.0.0.1:8443/graph/beta/auditLogs/signIns?$skiptoken=1", &request).is_ok());
        let e = parse(br#"{"@odata.nextLink":"https://evil.example/x","value":[]}"#, &request).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidResponse);
    }

    #[test]
    fn cut_json_is_an_invalid_response() {
        let e = parse(br#"{"value":[{"id":"a"},{"id"#, &url("https://graph.microsoft.com/beta/auditLogs/signIns")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidResponse);
        assert!(e.to_string().contains("ends early"), "{e}");
    }

    #[test]
    fn graph_errors_say_what_to_do() {
        let body = br#"{"error":{"code":"Authentication_RequestFromNonPremiumTenantOrB2CTenant","message":"Neither tenant is B2C or tenant doesn't have premium license","innerError":{"request-id":"r-1"}}}"#;
        let e = error(403, body, None, "fabrikam.onmicrosoft.com", None);
        let text = e.to_string();
        assert!(text.contains("P1 or P2") && text.contains("7 days") && text.contains("fabrikam.onmicrosoft.com") && text.contains("r-1"), "{text}");
        assert_eq!(e.code().as_deref(), Some(NON_PREMIUM));
        assert_eq!(e.kind(), ErrorKind::PermissionDenied);

        let e = error(403, br#"{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation."}}"#, None, "t", None);
        assert!(e.to_string().contains("AuditLog.Read.All"), "{e}");
        assert_eq!(e.kind(), ErrorKind::PermissionDenied);

        let e = error(400, br#"{"error":{"code":"BadRequest","message":"Invalid filter clause: x"}}"#, None, "t", Some("userId eq 'x'"));
        assert!(e.to_string().contains("Invalid filter clause") && e.to_string().contains("userId eq 'x'"), "{e}");
        assert_eq!(e.kind(), ErrorKind::InvalidInput);

        let e = error(502, b"<html>bad gateway</html>", Some("r-2"), "t", None);
        assert!(e.to_string().contains("HTTP 502") && e.to_string().contains("r-2"), "{e}");
    }
}
