//! The binary's contract with its callers: one stdout line, the ready file, the CA file, a
//! clean exit on SIGTERM.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;

use crate::common::*;

#[cfg(unix)]
#[tokio::test]
async fn binary_announces_itself_and_stops_on_sigterm() {
    install_crypto_provider();
    let dir = tempfile::tempdir().expect("tempdir");
    let ready = dir.path().join("ready.json");
    let cert = dir.path().join("ca.pem");
    let mut child = Command::new(env!("CARGO_BIN_EXE_partnersec-emulator"))
        .arg("--scenario")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/demo.json"))
        .arg("--tls")
        .arg("--cert-out")
        .arg(&cert)
        .arg("--ready-file")
        .arg(&ready)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("emulator binary starts");
    let stdout = child.stdout.take().expect("stdout piped");
    let line = tokio::task::spawn_blocking(move || {
        let mut reader = BufReader::new(stdout);
        let mut first = String::new();
        let _ = reader.read_line(&mut first);
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut reader, &mut rest);
        (first, rest)
    });

    // Give the child time to generate its key (debug builds are slow at RSA).
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !ready.exists() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ready_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&ready).expect("ready file written"))
            .expect("ready file is JSON");
    let base = ready_json["baseUrl"].as_str().expect("baseUrl").to_owned();
    assert!(base.starts_with("https://127.0.0.1:"));
    assert_eq!(ready_json["certificatePath"], cert.display().to_string());
    assert_eq!(ready_json["pid"].as_u64(), Some(u64::from(child.id())));

    let pem = std::fs::read(&cert).expect("CA written");
    let client = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([reqwest::Certificate::from_pem(&pem).expect("pem")])
        .build()
        .expect("client");
    let resp = client
        .get(format!("{base}/common/discovery/keys"))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::OK);

    let killed = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");

    let (first, rest) = line.await.expect("reader");
    assert_eq!(first.trim_end(), format!("PARTNERSEC_EMULATOR_URL={base}"));
    assert!(
        rest.is_empty(),
        "exactly one stdout line, got extra: {rest:?}"
    );
}
