//! What the reliability tests (bad_input, reauthentication, fault_matrix) share: the sign-in
//! scenario's partner tenant and reporter app, an environment for an emulator, a connected core,
//! and a client for the emulator's control plane.
#![allow(dead_code)] // each test crate uses its own subset

use partnersecurity_core::PartnerSecurity;
use partnersecurity_core::auth::ClientCredential;
use partnersecurity_core::environment::CustomEnvironment;
use partnersecurity_core::secret::Secret;
use partnersecurity_core::session::ConnectRequest;
use serde_json::Value;

/// The partner tenant of `scenarios/signins.json`, its reporter app and the app's consent.
pub const TENANT: &str = "7c4e1b2a-5d3f-4a6b-9c8d-1e2f3a4b5c6d";
pub const REPORTER: &str = "9f1e2d3c-4b5a-4c6d-8e7f-1a2b3c4d5e6f";
pub const REPORTER_SECRET: &str = "signins-secret-reporter-0001-NOT-A-REAL-SECRET";
pub const REFRESH_TOKEN: &str =
    "1.AsigninsRefreshToken-reporter-admin-0001-NOT-A-REAL-TOKEN-ffffffffffffffffffffffffffff";
pub const ADMIN_UPN: &str = "admin@contoso-signins.onmicrosoft.com";

/// `scenarios/signins.json` with the reports throttle off (tests that want it set it).
pub fn signins_scenario() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../emulator/scenarios/signins.json"
    );
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("signins scenario"))
            .expect("JSON");
    v["graph"]["signInsThrottle"] = Value::Null;
    v
}

/// The emulator at `base` as a custom environment, trusting `pem`.
pub fn environment(name: &str, base: &str, pem: Option<String>) -> CustomEnvironment {
    CustomEnvironment {
        name: name.into(),
        active_directory_authority: base.into(),
        graph_endpoint: format!("{base}/graph"),
        partner_center_endpoint: format!("{base}/partnercenter"),
        trusted_certificate_pem: pem,
        ..Default::default()
    }
}

/// The reporter's Secure Application Model sign-in.
pub fn sam() -> ConnectRequest {
    ConnectRequest::RefreshToken {
        application_id: REPORTER.into(),
        credential: ClientCredential::Secret(Secret::new(REPORTER_SECRET)),
        refresh_token: Secret::new(REFRESH_TOKEN),
        tenant: Some(TENANT.into()),
    }
}

/// A core with the emulator registered as "Emulator" and the reporter connected.
pub async fn connected(base: &str, pem: &str) -> PartnerSecurity {
    let core = PartnerSecurity::new();
    core.environments()
        .add(environment("Emulator", base, Some(pem.to_owned())))
        .expect("environment");
    core.connect("Emulator", sam()).await.expect("connect");
    core
}

/// A client for `/_emulator/...` that trusts the emulator's certificate only.
pub fn control_client(pem: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(pem.as_bytes()).expect("pem")])
        .build()
        .expect("control client")
}

/// `METHOD /_emulator/<path>` (GET, POST with `body`, DELETE); the answer's JSON.
pub async fn control(
    client: &reqwest::Client,
    base: &str,
    method: &str,
    path: &str,
    body: Value,
) -> Value {
    let url = format!("{base}/_emulator/{path}");
    let request = match method {
        "POST" => client.post(url).json(&body),
        "DELETE" => client.delete(url),
        _ => client.get(url),
    };
    let response = request.send().await.expect("control call");
    assert!(
        response.status().is_success(),
        "control {path}: {}",
        response.status()
    );
    response.json().await.unwrap_or(Value::Null)
}
