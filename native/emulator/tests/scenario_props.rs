//! Property tests of the scenario loader: the committed scenarios, mutated at random (values
//! replaced by arbitrary JSON, keys removed or renamed, array items duplicated), must load into
//! a scenario the emulator can be built from, or be refused with an error; never a panic.
//! Arbitrary text is refused the same way.

use std::sync::Arc;

use chrono::Utc;
use partnersecurity_emulator::clock::Clock;
use partnersecurity_emulator::state::Emulator;
use partnersecurity_emulator::{Scenario, SigningKey};
use proptest::prelude::*;
use serde_json::{Map, Number, Value};

const BASE: &str = "https://127.0.0.1:8443";

fn scenario(name: &str) -> Value {
    let path = format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).expect("scenario file")).expect("scenario JSON")
}

/// Every location in the document, as a list of keys/indices from the root.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

fn locations(value: &Value, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    out.push(prefix.clone());
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                prefix.push(Step::Key(k.clone()));
                locations(v, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                prefix.push(Step::Index(i));
                locations(v, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn at<'a>(root: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    path.iter().try_fold(root, |v, step| match step {
        Step::Key(k) => v.get_mut(k.as_str()),
        Step::Index(i) => v.get_mut(*i),
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(Value),
    Remove,
    Rename(String),
    Duplicate,
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        Just(Value::from(-1)),
        Just(Value::from(0)),
        ".{0,40}".prop_map(Value::String),
        prop_oneof![Just("-1d"), Just("+90d"), Just("{base}"), Just(""), Just("00000000-0000-0000-0000-000000000000"), Just("-99999999d"), Just("2024-02-30T00:00:00Z")]
            .prop_map(|s| Value::String(s.to_owned())),
        Just(Value::String("x".repeat(10_000))),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,12}", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => json().prop_map(Mutation::Replace),
        2 => Just(Mutation::Remove),
        1 => "[a-zA-Z]{1,12}".prop_map(Mutation::Rename),
        1 => Just(Mutation::Duplicate),
    ]
}

fn apply(root: &mut Value, path: &[Step], mutation: &Mutation) {
    let Some((last, parent_path)) = path.split_last() else {
        if let Mutation::Replace(v) = mutation {
            *root = v.clone();
        }
        return;
    };
    let Some(parent) = at(root, parent_path) else { return };
    match (parent, last, mutation) {
        (parent, step, Mutation::Replace(v)) => {
            if let Some(slot) = at(parent, std::slice::from_ref(step)) {
                *slot = v.clone();
            }
        }
        (Value::Object(map), Step::Key(k), Mutation::Remove) => {
            map.remove(k);
        }
        (Value::Object(map), Step::Key(k), Mutation::Rename(to)) => {
            if let Some(v) = map.remove(k) {
                map.insert(to.clone(), v);
            }
        }
        (Value::Array(items), Step::Index(i), Mutation::Remove) if *i < items.len() => {
            items.remove(*i);
        }
        (Value::Array(items), Step::Index(i), Mutation::Duplicate) if *i < items.len() => {
            let copy = items[*i].clone();
            items.insert(*i, copy);
        }
        _ => {}
    }
}

/// Loads `text`; when it is accepted, builds the emulator's state from it (which seeds refresh
/// tokens, certificates, sign-ins and vaults) and touches what the handlers read first.
fn load_and_build(text: &str, keys: &Arc<SigningKey>) {
    if let Ok(scenario) = Scenario::load(text, BASE, Utc::now()) {
        let emulator = Emulator::new(BASE.to_owned(), scenario, Clock::new(), keys.clone());
        let _ = emulator.scenario.secret_values();
        let _ = emulator.scenario.graph();
        for tenant in &emulator.scenario.tenants {
            let _ = emulator.scenario.tenant(&tenant.id);
        }
    }
}

fn keys() -> Arc<SigningKey> {
    SigningKey::process_default().expect("signing key")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn mutated_scenarios_load_or_are_refused_never_panic(
        file in prop_oneof![Just("demo.json"), Just("signins.json")],
        edits in prop::collection::vec((any::<prop::sample::Index>(), mutation()), 1..4),
    ) {
        let keys = keys();
        let mut doc = scenario(file);
        for (index, edit) in &edits {
            let mut all = Vec::new();
            locations(&doc, &mut Vec::new(), &mut all);
            let path = index.get(&all).clone();
            apply(&mut doc, &path, edit);
        }
        load_and_build(&doc.to_string(), &keys);
    }

    #[test]
    fn arbitrary_text_is_refused_without_panic(text in ".{0,400}") {
        let looks_like_an_object = text.trim_start().starts_with('{');
        prop_assert!(Scenario::load(&text, BASE, Utc::now()).is_err() || looks_like_an_object, "accepted: {}", text);
    }

    #[test]
    fn truncated_scenarios_are_refused(cut in 0usize..10_000) {
        let text = scenario("demo.json").to_string();
        let cut = cut.min(text.len().saturating_sub(1));
        if let Some(prefix) = text.get(..cut) {
            prop_assert!(Scenario::load(prefix, BASE, Utc::now()).is_err());
        }
    }
}

#[test]
fn the_committed_scenarios_load_and_build() {
    let keys = keys();
    for file in ["demo.json", "signins.json"] {
        let text = scenario(file).to_string();
        assert!(Scenario::load(&text, BASE, Utc::now()).is_ok(), "{file}");
        load_and_build(&text, &keys);
    }
}
