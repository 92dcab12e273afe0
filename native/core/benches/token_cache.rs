//! Token cache figures: what a cached token costs against a token request, and how many token
//! requests the cache saves when 8 callers ask at once. Prints a table; asserts no timing.
//!
//!     cargo bench -p partnersecurity-core --bench token_cache
//!
//! Runs against the in-process emulator over TLS (loopback), so "token request" includes a real
//! HTTPS round trip, JWT signing on the emulator side and response parsing on ours.

use partnersecurity_core::auth::ClientCredential;
use partnersecurity_core::auth::token::{self, Grant, TokenRequest, TokenTarget};
use partnersecurity_core::environment::CustomEnvironment;
use partnersecurity_core::secret::Secret;
use partnersecurity_core::session::ConnectRequest;
use partnersecurity_core::PartnerSecurity;
use partnersecurity_emulator::config::{EmulatorConfig, ScenarioSource};
use partnersecurity_emulator::server::serve;
use std::sync::Arc;
use std::time::{Duration, Instant};

const TENANT: &str = "6b3f2c1a-9d4e-4c7b-8a21-5e0f7d9c3b10";
const SAM_APP: &str = "5a9d7c3e-1f2b-4c4d-8e6f-7a8b9c0d1e2f";
const SAM_SECRET: &str = "demo-secret-sam-app-0001-NOT-A-REAL-SECRET";
const REQUESTS: usize = 200;
const LOOKUPS: usize = 200_000;
const CALLERS: usize = 8;
const ROUNDS: usize = 50;

fn per_op(total: Duration, count: usize) -> Duration {
    total / count as u32
}

#[tokio::main]
async fn main() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../emulator/scenarios/demo.json");
    let emulator = serve(EmulatorConfig::new(ScenarioSource::File(path.into())).with_tls(true)).await.expect("emulator");
    let base = emulator.base_url.clone();
    let core = Arc::new(PartnerSecurity::new());
    let environment = core
        .environments()
        .add(CustomEnvironment {
            name: "Emulator".into(),
            active_directory_authority: base.clone(),
            graph_endpoint: format!("{base}/graph"),
            partner_center_endpoint: format!("{base}/partnercenter"),
            trusted_certificate_pem: emulator.certificate_pem.clone(),
            ..Default::default()
        })
        .expect("environment");
    let credential = ClientCredential::Secret(Secret::new(SAM_SECRET));
    let scopes = vec![format!("{base}/graph/.default")];

    // Baseline: what every call would cost without a cache (one client-credentials request each).
    let request = TokenRequest { tenant: TENANT.into(), client_id: SAM_APP.into(), credential: credential.clone(), grant: Grant::ClientCredentials, target: TokenTarget::Scopes(scopes.clone()) };
    token::request_token(core.http(), &environment, &request).await.expect("warm-up");
    let started = Instant::now();
    for _ in 0..REQUESTS {
        token::request_token(core.http(), &environment, &request).await.expect("token request");
    }
    let request_cost = per_op(started.elapsed(), REQUESTS);

    // Cached lookups through a connected session.
    core.connect("Emulator", ConnectRequest::ServicePrincipal { application_id: SAM_APP.into(), credential, tenant: TENANT.into() }).await.expect("connect");
    let session = core.session().expect("session");
    session.access_token(core.http(), &scopes).await.expect("first token");
    let started = Instant::now();
    for _ in 0..LOOKUPS {
        session.access_token(core.http(), &scopes).await.expect("cached token");
    }
    let lookup_cost = per_op(started.elapsed(), LOOKUPS);

    // 8 concurrent callers ask a fresh session for the same token, ROUNDS times. Without
    // single-flight each caller would send its own request.
    let mut sent = 0usize;
    let mut concurrent_elapsed = Duration::ZERO;
    for _ in 0..ROUNDS {
        let connect = ConnectRequest::ServicePrincipal { application_id: SAM_APP.into(), credential: ClientCredential::Secret(Secret::new(SAM_SECRET)), tenant: TENANT.into() };
        core.connect("Emulator", connect).await.expect("connect");
        let session = core.session().expect("session");
        let before = session.cache_stats();
        let started = Instant::now();
        let mut tasks = Vec::with_capacity(CALLERS);
        for _ in 0..CALLERS {
            let session = session.clone();
            let core = core.clone();
            let scopes = scopes.clone();
            tasks.push(tokio::spawn(async move { session.access_token(core.http(), &scopes).await.map(|_| ()) }));
        }
        for task in tasks {
            task.await.expect("join").expect("token");
        }
        concurrent_elapsed += started.elapsed();
        sent += (session.cache_stats().misses - before.misses) as usize;
    }
    let asked = CALLERS * ROUNDS;

    println!("token cache (emulator over TLS on loopback, {} cores)", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    println!("{:<46} {:>14}", "measure", "value");
    println!("{:<46} {:>12.1} us", "token request, no cache (baseline)", request_cost.as_secs_f64() * 1e6);
    println!("{:<46} {:>12.3} us", "cached token lookup", lookup_cost.as_secs_f64() * 1e6);
    println!("{:<46} {:>12.0} x", "cached lookup speed-up over a request", request_cost.as_secs_f64() / lookup_cost.as_secs_f64());
    println!("{:<46} {:>14}", format!("{CALLERS} concurrent callers x {ROUNDS} rounds: asked"), asked);
    println!("{:<46} {:>14}", "  token requests sent", sent);
    println!("{:<46} {:>12.1} %", "  token requests avoided", 100.0 * (asked - sent) as f64 / asked as f64);
    println!("{:<46} {:>12.1} ms", "  wall time per round", concurrent_elapsed.as_secs_f64() * 1e3 / ROUNDS as f64);
    emulator.shutdown().await.ok();
}
