//! Property tests of the OData page parser (`signins::page`): whatever a server answers, the
//! parser returns a page or an `InvalidResponse` error, never a panic; a `nextLink` is only ever
//! accepted on the request's scheme, host and port; valid pages round-trip (every record, its
//! id, and the link as sent); records kept as sent are the text sent, with the time a parse finds.

use partnersecurity_core::ErrorKind;
use partnersecurity_core::signins::page::{self, RecordNames, fields};
use proptest::prelude::*;
use serde_json::{Map, Number, Value, json};
use url::Url;

const REQUEST: &str = "https://graph.microsoft.com/beta/auditLogs/signIns?$top=100";

fn request() -> Url {
    Url::parse(REQUEST).expect("request URL")
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        ".{0,30}".prop_map(Value::String),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z@._]{1,12}", inner, 0..5).prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Any object, with keys that clash once PascalCased (`id`/`Id`) and `mfaDetail` likely.
fn object() -> impl Strategy<Value = Value> {
    let key = prop_oneof![Just("mfaDetail".to_owned()), Just("id".to_owned()), Just("Id".to_owned()), "[a-zA-Z@._\\\\\"é]{1,12}"];
    let value = prop_oneof![json(), Just(json!({})), Just(json!({"authMethod": null, "authDetail": ""})), Just(json!({"authMethod": "PhoneAppOTP"}))];
    prop::collection::vec((key, value), 0..8).prop_map(|pairs| {
        let mut map = Map::new();
        for (k, v) in pairs {
            map.insert(k, v);
        }
        Value::Object(map)
    })
}

/// Any object with keys that need no escape (a record read as sent is passed over key by key).
fn plain_object() -> impl Strategy<Value = Value> {
    prop::collection::btree_map("[a-zA-Z@._é]{1,12}", json(), 0..8).prop_map(|map| Value::Object(map.into_iter().collect()))
}

/// A sign-in as Graph sends it: an id, a time, and some camelCase properties (nested too).
fn record() -> impl Strategy<Value = Value> {
    ("[0-9a-f-]{1,36}", prop::collection::btree_map("[a-z][a-zA-Z]{0,10}", leaf(), 0..4), prop::option::of("[a-z][a-zA-Z]{0,10}")).prop_map(|(id, extra, nested)| {
        let mut map: Map<String, Value> = extra.into_iter().collect();
        map.insert("id".into(), json!(id));
        map.insert("createdDateTime".into(), json!("2024-05-01T00:00:00Z"));
        if let Some(n) = nested {
            map.insert("status".into(), json!({ n: 1, "errorCode": 0 }));
        }
        Value::Object(map)
    })
}

/// A `nextLink` that stays on the request's host (absolute or relative).
fn same_host_link() -> impl Strategy<Value = String> {
    ("[a-zA-Z0-9]{1,40}", any::<bool>()).prop_map(|(token, absolute)| {
        if absolute { format!("https://graph.microsoft.com/beta/auditLogs/signIns?$top=100&$skiptoken={token}") } else { format!("/beta/auditLogs/signIns?$skiptoken={token}") }
    })
}

fn all_keys_start_upper(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.iter().all(|(k, v)| (k.starts_with('@') || !k.starts_with(|c: char| c.is_ascii_lowercase())) && all_keys_start_upper(v)),
        Value::Array(items) => items.iter().all(all_keys_start_upper),
        _ => true,
    }
}

/// Equal, numbers within the last digit (serde_json reads a double to within one unit in the
/// last place, so text written from a parsed value may read back one unit off).
fn same_meaning(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) if x.is_finite() && y.is_finite() => x == y || (x - y).abs() <= f64::EPSILON * 4.0 * x.abs().max(y.abs()),
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_meaning(x, y)),
        (Value::Object(x), Value::Object(y)) => x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_meaning(v, w))),
        _ => a == b,
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        if let Err(e) = page::parse(&bytes, &request()) {
            prop_assert_eq!(e.kind(), ErrorKind::InvalidResponse);
        }
    }

    #[test]
    fn arbitrary_json_is_a_page_or_an_invalid_response(value in json()) {
        let body = value.to_string();
        match page::parse(body.as_bytes(), &request()) {
            Ok(p) => prop_assert_eq!(p.records.len(), value["value"].as_array().map_or(0, Vec::len)),
            Err(e) => prop_assert_eq!(e.kind(), ErrorKind::InvalidResponse),
        }
    }

    #[test]
    fn pages_with_odd_members_never_panic(value in json(), link in json(), records in prop::collection::vec(json(), 0..4)) {
        let body = json!({"value": records, "@odata.nextLink": link, "@odata.context": value});
        if let Err(e) = page::parse(body.to_string().as_bytes(), &request()) {
            prop_assert_eq!(e.kind(), ErrorKind::InvalidResponse);
        }
    }

    #[test]
    fn a_next_link_is_only_accepted_on_the_request_host(link in ".{0,120}") {
        let body = json!({"value": [], "@odata.nextLink": link});
        match page::parse(body.to_string().as_bytes(), &request()) {
            Ok(p) => {
                let next = p.next_link.expect("a link");
                prop_assert_eq!(next.scheme(), "https");
                prop_assert_eq!(next.host_str(), Some("graph.microsoft.com"));
                prop_assert_eq!(next.port_or_known_default(), Some(443));
            }
            Err(e) => {
                prop_assert_eq!(e.kind(), ErrorKind::InvalidResponse);
                prop_assert!(e.to_string().contains("nextLink"), "{}", e);
            }
        }
    }

    #[test]
    fn links_to_other_hosts_are_refused(host in "[a-z]{1,12}\\.[a-z]{2,6}", port in prop::option::of(1u16..), scheme in prop_oneof![Just("https"), Just("http")]) {
        prop_assume!(host != "graph.microsoft.com" || port.is_some_and(|p| p != 443) || scheme != "https");
        let link = format!("{scheme}://{host}{}/beta/auditLogs/signIns?$skiptoken=x", port.map(|p| format!(":{p}")).unwrap_or_default());
        let e = page::parse(json!({"value": [], "@odata.nextLink": link}).to_string().as_bytes(), &request()).unwrap_err();
        prop_assert_eq!(e.kind(), ErrorKind::InvalidResponse);
    }

    /// The page reader renames keys on the record's text; the result must mean what reshaping a
    /// parsed tree gives, whatever the record holds (keys that meet after renaming, `mfaDetail`
    /// empty or not, escapes, numbers of every kind, nesting), and be compact.
    #[test]
    fn records_are_written_as_reshaping_the_parsed_record_would(records in prop::collection::vec(object(), 1..6), pretty in any::<bool>()) {
        let body = json!({"value": records});
        let text = if pretty { serde_json::to_string_pretty(&body).unwrap() } else { body.to_string() };
        let (read, _) = page::read(text.as_bytes(), &request(), RecordNames::Pascal).expect("a page of objects");
        prop_assert_eq!(read.len(), records.len());
        // Compared with the records as read from the same text (serde_json's float parsing may
        // differ from the generated value in the last digit, for both).
        let parsed: Value = serde_json::from_str(&text).unwrap();
        for (record, original) in read.iter().zip(parsed["value"].as_array().unwrap()) {
            let written: Value = serde_json::from_str(record.get()).expect("a record is JSON");
            let expected = page::reshape(original.clone());
            prop_assert!(same_meaning(&written, &expected), "{} is not {}", written, expected);
            prop_assert!(!record.get().contains(['\n', ' ']) || original.to_string().contains(' '), "{}", record.get());
        }
    }

    /// Kept as sent (the cmdlet's records), a record is its text as the page held it, and its
    /// time is the one a parse of that text finds, after whatever comes before it.
    #[test]
    fn records_kept_as_sent_are_the_text_sent_with_the_time_a_parse_finds(records in prop::collection::vec((prop_oneof![object(), plain_object()], prop::option::of(prop_oneof![
        Just(json!("2024-05-01T10:00:00.5Z")), Just(json!("2024-05-01T12:00:00+02:00")), Just(json!("2024-05-01T10:00:00Z\n")), Just(json!("not a time")), Just(json!(null)), Just(json!(7))])), 1..6), pretty in any::<bool>()) {
        // The time last, after every other kind of value.
        let texts: Vec<String> = records.into_iter().map(|(mut record, created)| {
            let map = record.as_object_mut().expect("an object");
            map.remove("createdDateTime");
            let text = if pretty { serde_json::to_string_pretty(map).unwrap() } else { serde_json::to_string(map).unwrap() };
            match created {
                Some(created) => format!("{}{} \"createdDateTime\" : {created}}}", &text[..text.len() - 1], if map.is_empty() { "" } else { "," }),
                None => text,
            }
        }).collect();
        let body = format!("{{\"value\":[{}]}}", texts.join(","));
        let (read, _) = page::read(body.as_bytes(), &request(), RecordNames::AsSent).expect("a page of objects");
        prop_assert_eq!(read.len(), texts.len());
        #[derive(serde::Deserialize)]
        struct Created {
            #[serde(rename = "createdDateTime")]
            created: Option<chrono::DateTime<chrono::Utc>>,
        }
        for (record, sent) in read.iter().zip(&texts) {
            prop_assert_eq!(record.get(), sent.as_str());
            let parsed = serde_json::from_str::<Created>(sent).ok().and_then(|c| c.created);
            prop_assert_eq!(record.created(), parsed, "{}", sent);
            prop_assert_eq!(record.names(), RecordNames::AsSent);
        }
    }

    #[test]
    fn valid_pages_round_trip(records in prop::collection::vec(record(), 0..20), next in prop::option::of(same_host_link())) {
        let mut body = json!({"@odata.context": "https://graph.microsoft.com/beta/$metadata#auditLogs/signIns", "value": records});
        if let Some(n) = &next {
            body["@odata.nextLink"] = json!(n);
        }
        let p = page::parse(body.to_string().as_bytes(), &request()).expect("a valid page");
        prop_assert_eq!(p.records.len(), records.len());
        for (shaped, original) in p.records.iter().zip(&records) {
            let shaped = fields(shaped);
            prop_assert_eq!(&shaped["Id"], &original["id"]);
            prop_assert_eq!(&shaped["CreatedDateTime"], &original["createdDateTime"]);
            prop_assert_eq!(shaped.len(), original.as_object().map_or(0, Map::len));
            prop_assert!(all_keys_start_upper(&Value::Object(shaped.clone())), "{:?}", shaped);
        }
        let (_, raw_next) = page::read(body.to_string().as_bytes(), &request(), RecordNames::Pascal).expect("a valid page");
        prop_assert_eq!(raw_next.as_ref(), next.as_ref(), "the link is kept as sent");
        prop_assert_eq!(p.next_link.map(|u| u.to_string()), next.map(|n| request().join(&n).expect("joins").to_string()));
    }
}

#[test]
fn huge_and_deep_answers_are_errors_or_pages_not_panics() {
    let huge_string = json!({"value": [{"id": "1", "userAgent": "x".repeat(8 << 20)}]}).to_string();
    assert_eq!(page::parse(huge_string.as_bytes(), &request()).expect("a big page").records.len(), 1);
    let numbers = br#"{"value":[{"id":"1","n":1e308,"m":-1e308,"big":18446744073709551615,"neg":-9223372036854775808,"z":-0.0}]}"#;
    assert_eq!(page::parse(numbers, &request()).expect("numbers").records.len(), 1);
    let too_big = br#"{"value":[{"id":"1","n":1e400}]}"#;
    assert_eq!(page::parse(too_big, &request()).unwrap_err().kind(), ErrorKind::InvalidResponse);
    let deep = format!("{{\"value\":[{{\"id\":\"1\",\"d\":{}{}}}]}}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(page::parse(deep.as_bytes(), &request()).unwrap_err().kind(), ErrorKind::InvalidResponse);
    let many = json!({"value": (0..100_000).map(|i| json!({"id": i.to_string()})).collect::<Vec<_>>()}).to_string();
    assert_eq!(page::parse(many.as_bytes(), &request()).expect("many").records.len(), 100_000);
    assert_eq!(page::parse(b"", &request()).unwrap_err().kind(), ErrorKind::InvalidResponse);
    assert_eq!(page::parse(b"{\"value\":null}", &request()).unwrap_err().kind(), ErrorKind::InvalidResponse);
    assert_eq!(page::parse(b"{\"value\":[1]}", &request()).unwrap_err().kind(), ErrorKind::InvalidResponse);
    assert_eq!(page::parse(b"{\"value\":[],\"@odata.nextLink\":42}", &request()).unwrap_err().kind(), ErrorKind::InvalidResponse);
}
