//! One page of Graph's `auditLogs/signIns`: its records, reshaped the way the PartnerCenter
//! module's Graph SDK objects looked (PascalCase property names), its `@odata.nextLink` (followed
//! only on the host the request went to), and Graph's error answers turned into errors that say
//! what to do.

use crate::error::{Error, Result};
use crate::http;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use url::Url;

pub const GRAPH: &str = "Microsoft Graph";

/// A sign-in as the PartnerCenter module's `Microsoft.Graph.SignIn` serialised (PascalCase
/// names), kept as compact JSON text: a page of parsed values takes about four times the memory.
pub type Record = Box<RawValue>;

/// A record's properties, for code that looks inside one (CSV columns, tests).
pub fn fields(record: &Record) -> Map<String, Value> {
    serde_json::from_str(record.get()).unwrap_or_default()
}

/// A record's `CreatedDateTime`, read without parsing the rest of it.
pub fn created(record: &Record) -> Option<chrono::DateTime<chrono::Utc>> {
    #[derive(Deserialize)]
    struct Created {
        #[serde(rename = "CreatedDateTime")]
        created: Option<chrono::DateTime<chrono::Utc>>,
    }
    serde_json::from_str::<Created>(record.get()).ok()?.created
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

/// Parses a `200` answer of `request`.
pub fn parse(body: &[u8], request: &Url) -> Result<Page> {
    let (records, next) = read(body, request)?;
    let next_link = next.as_deref().map(|link| follow(link, request)).transpose()?;
    Ok(Page { records, next_link })
}

/// The records of a `200` answer (reshaped) and its `@odata.nextLink` as sent (not yet checked).
pub fn read(body: &[u8], request: &Url) -> Result<(Vec<Record>, Option<String>)> {
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
        records.push(scratch.reshape_record(value, request)?);
    }
    Ok((records, raw.next_link))
}

/// [`reshape`] as the record is read: object keys go to the output in PascalCase as they come,
/// values are copied without building a tree (a tree costs an allocation per key and string,
/// most of the time a page takes). Keys that meet after renaming (`id` and `Id`) and anything
/// unusual fall back to [`reshape`], so the result is the same.
#[derive(Default)]
struct Reshaper {
    out: Vec<u8>,
    /// Hashes of the keys written so far, for each object being written (innermost last).
    keys: Vec<u64>,
}

impl Reshaper {
    fn reshape_record(&mut self, raw: &RawValue, request: &Url) -> Result<Record> {
        self.out.clear();
        self.keys.clear();
        let streamed = serde::de::DeserializeSeed::deserialize(Transcode { out: &mut self.out, keys: &mut self.keys }, &mut serde_json::Deserializer::from_str(raw.get()));
        let text = match streamed {
            Ok(()) => String::from_utf8(std::mem::take(&mut self.out)).map_err(|e| Error::Internal(format!("a sign-in could not be re-serialised ({e})")))?,
            Err(_) => {
                let value: Value = serde_json::from_str(raw.get()).map_err(|e| Error::InvalidResponse {
                    url: http::endpoint_label(request),
                    reason: format!("a sign-in in the page is not the expected JSON ({})", e.classify_text()),
                })?;
                serde_json::to_string(&reshape(value)).map_err(|e| Error::Internal(format!("a sign-in could not be re-serialised ({e})")))?
            }
        };
        RawValue::from_string(text).map_err(|e| Error::Internal(format!("a sign-in could not be re-serialised ({e})")))
    }
}

/// One JSON value, written to `out` reshaped.
struct Transcode<'o> {
    out: &'o mut Vec<u8>,
    keys: &'o mut Vec<u64>,
}

impl<'de> serde::de::DeserializeSeed<'de> for Transcode<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> std::result::Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

fn written<E: serde::de::Error>(result: serde_json::Result<()>) -> std::result::Result<(), E> {
    result.map_err(E::custom)
}

impl<'de> serde::de::Visitor<'de> for Transcode<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> std::result::Result<(), E> {
        self.out.extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<(), E> {
        written(serde_json::to_writer(&mut *self.out, &v))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<(), E> {
        written(serde_json::to_writer(&mut *self.out, &v))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<(), E> {
        // What a tree would hold: a number that is not finite has no JSON form.
        match serde_json::Number::from_f64(v) {
            Some(n) => written(serde_json::to_writer(&mut *self.out, &n)),
            None => Err(E::custom("a number with no JSON form")),
        }
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<(), E> {
        written(serde_json::to_writer(&mut *self.out, v))
    }
    fn visit_unit<E: serde::de::Error>(self) -> std::result::Result<(), E> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        self.out.push(b'[');
        let mut first = true;
        loop {
            let comma = self.out.len();
            if !first {
                self.out.push(b',');
            }
            if seq.next_element_seed(Transcode { out: &mut *self.out, keys: &mut *self.keys })?.is_none() {
                self.out.truncate(comma);
                break;
            }
            first = false;
        }
        self.out.push(b']');
        Ok(())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        self.out.push(b'{');
        let base = self.keys.len();
        let mut first = true;
        loop {
            let comma = self.out.len();
            if !first {
                self.out.push(b',');
            }
            let Some((hash, is_mfa_detail)) = map.next_key_seed(Key { out: &mut *self.out })? else {
                self.out.truncate(comma);
                break;
            };
            first = false;
            if self.keys[base..].contains(&hash) {
                return Err(serde::de::Error::custom("two keys the same after renaming"));
            }
            self.keys.push(hash);
            self.out.push(b':');
            if is_mfa_detail {
                let value: Value = map.next_value()?;
                let value = if is_empty_object(&value) { Value::Null } else { reshape(value) };
                written(serde_json::to_writer(&mut *self.out, &value))?;
            } else {
                map.next_value_seed(Transcode { out: &mut *self.out, keys: &mut *self.keys })?;
            }
        }
        self.keys.truncate(base);
        self.out.push(b'}');
        Ok(())
    }
}

/// An object key, written to `out` as a JSON string in PascalCase; gives its hash and whether
/// it was `mfaDetail`.
struct Key<'o> {
    out: &'o mut Vec<u8>,
}

impl<'de> serde::de::DeserializeSeed<'de> for Key<'_> {
    type Value = (u64, bool);
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> std::result::Result<(u64, bool), D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Key<'_> {
    type Value = (u64, bool);

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a property name")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<(u64, bool), E> {
        let start = self.out.len();
        written(serde_json::to_writer(&mut *self.out, v))?;
        // A lower-case ASCII first letter is written as itself, right after the quote.
        if let Some(first) = self.out.get_mut(start + 1)
            && v.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
        {
            first.make_ascii_uppercase();
        }
        Ok((key_hash(&self.out[start..]), v == "mfaDetail"))
    }
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
