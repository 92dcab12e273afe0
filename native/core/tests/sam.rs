//! Secure Application Model: secret stores, profiles, rotation, consent and health, against the
//! in-process emulator (TLS) where a service is involved.

use chrono::{Duration, Utc};
use keyring::credential::{Credential, CredentialApi, CredentialBuilderApi};
use parking_lot::Mutex;
use partnersecurity_core::auth::ClientCredential;
use partnersecurity_core::environment::{CustomEnvironment, Environment, EnvironmentRegistry};
use partnersecurity_core::error::{Error, ErrorKind};
use partnersecurity_core::http::HttpClients;
use partnersecurity_core::sam::file_format::{self, Argon2Params};
use partnersecurity_core::sam::health::{self, HealthStatus};
use partnersecurity_core::sam::open;
use partnersecurity_core::sam::profile::default_profile_directory_from;
use partnersecurity_core::sam::*;
use partnersecurity_core::secret::Secret;
use partnersecurity_core::signin::{PendingSignIns, SignInPrompt, SignInRequest};
use partnersecurity_emulator::config::{EmulatorConfig, ScenarioSource};
use partnersecurity_emulator::server::{RunningEmulator, serve};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const TENANT: &str = "6b3f2c1a-9d4e-4c7b-8a21-5e0f7d9c3b10";
const SAM_APP: &str = "5a9d7c3e-1f2b-4c4d-8e6f-7a8b9c0d1e2f";
const SAM_SECRET: &str = "demo-secret-sam-app-0001-NOT-A-REAL-SECRET";
/// The SAM app's service principal in the partner tenant (the emulator's UUID v5).
const SAM_SP: &str = "544cb2fc-4cef-5d05-a96d-2d67863e4a8e";
const ADMIN: &str = "a1000001-0000-4000-8000-000000000001";
const SALES: &str = "a1000001-0000-4000-8000-000000000002";
const RT_ADMIN: &str = "1.AdemoRefreshToken-sam-admin-mfa-0001-NOT-A-REAL-TOKEN-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const RT_SALES: &str = "1.AdemoRefreshToken-sam-sales-nomfa-0002-NOT-A-REAL-TOKEN-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const VAULT: &str = "contoso-csp-sam";
const PASSPHRASE: &str = "correct horse battery staple";
/// Cheap Argon2 for tests (the recommended setting is exercised once, below).
const FAST: Argon2Params = Argon2Params { memory_kib: 256, iterations: 1, parallelism: 1 };

fn fast_options() -> FileStoreOptions {
    FileStoreOptions { argon2: FAST, ..FileStoreOptions::default() }
}

fn passphrase_store(dir: &Path, passphrase: &str) -> FileStore {
    FileStore::with_options(dir, FileKey::Passphrase(Secret::new(passphrase)), fast_options()).expect("file store")
}

// --- fixture -------------------------------------------------------------------------------

struct Fixture {
    emulator: RunningEmulator,
    environments: EnvironmentRegistry,
    environment: Environment,
    http: Arc<HttpClients>,
    control: reqwest::Client,
    home: tempfile::TempDir,
}

fn demo_scenario() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../emulator/scenarios/demo.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("demo scenario")).expect("scenario JSON")
}

fn custom_environment(base: &str, pem: Option<String>) -> CustomEnvironment {
    CustomEnvironment {
        name: "Emulator".into(),
        active_directory_authority: base.into(),
        graph_endpoint: format!("{base}/graph"),
        partner_center_endpoint: format!("{base}/partnercenter"),
        key_vault_endpoint: Some(format!("{base}/vault")),
        trusted_certificate_pem: pem,
        ..Default::default()
    }
}

impl Fixture {
    async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    async fn start_with(edit: impl FnOnce(&mut Value)) -> Self {
        let mut scenario = demo_scenario();
        edit(&mut scenario);
        let emulator = serve(EmulatorConfig::new(ScenarioSource::Json(scenario.to_string())).with_tls(true)).await.expect("emulator starts");
        let pem = emulator.certificate_pem.clone().expect("TLS certificate");
        let environments = EnvironmentRegistry::new();
        let environment = environments.add(custom_environment(&emulator.base_url, Some(pem.clone()))).expect("environment");
        let control = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(pem.as_bytes()).expect("pem")])
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("control client");
        Fixture { emulator, environments, environment, http: Arc::new(HttpClients::new()), control, home: tempfile::tempdir().expect("temp dir") }
    }

    fn base(&self) -> &str {
        &self.emulator.base_url
    }

    fn scope(&self, path: &str) -> String {
        format!("{}/{path}", self.base())
    }

    fn pc_scopes(&self) -> Vec<String> {
        vec![self.scope("partnercenter/user_impersonation")]
    }

    fn vault_url(&self) -> String {
        format!("{}/vault/{VAULT}", self.base())
    }

    fn repository(&self) -> ProfileRepository {
        ProfileRepository::new(self.home.path().join("profiles"))
    }

    fn secrets_dir(&self) -> PathBuf {
        self.home.path().join("secrets")
    }

    fn file_ref(&self, name: &str) -> StoreRef {
        StoreRef::File { directory: Some(self.secrets_dir()), name: name.into(), key: FileKeyKind::Passphrase }
    }

    fn profile(&self, name: &str, refresh_token_store: StoreRef) -> SecureAppProfile {
        SecureAppProfile::new(
            name,
            SAM_APP,
            TENANT,
            "Emulator",
            ProfileCredential::SecretRef { store: self.file_ref(&SecureAppProfile::default_app_secret_name(name)) },
            refresh_token_store,
        )
        .expect("profile")
    }

    /// The profile 'contoso' as a consent a day ago left it: saved, with its application secret
    /// and the admin's refresh token in the passphrase-encrypted file store.
    async fn consented_file_profile(&self) -> (ProfileRepository, FileStore) {
        let repo = self.repository();
        let mut profile = self.profile("contoso", self.file_ref("contoso-refresh-token"));
        profile.last_exchange_on = Some(Utc::now() - Duration::days(1));
        profile.last_amr = vec!["pwd".into(), "mfa".into()];
        repo.create(&profile).unwrap();
        let store = passphrase_store(&self.secrets_dir(), PASSPHRASE);
        store.write("contoso-app-secret", &Secret::new(SAM_SECRET)).await.unwrap();
        store.write("contoso-refresh-token", &Secret::new(RT_ADMIN)).await.unwrap();
        (repo, store)
    }

    fn app(&self, profile: SecureAppProfile, store: Arc<dyn SecretStore>) -> SecureApp {
        SecureApp::new(profile, self.environment.clone(), self.http.clone(), ClientCredential::Secret(Secret::new(SAM_SECRET)), store)
    }

    fn key_vault_store(&self, auth: KeyVaultAuth) -> KeyVaultStore {
        KeyVaultStore::new(self.http.clone(), self.environment.clone(), &self.vault_url(), auth).expect("key vault store")
    }

    fn app_auth(&self) -> KeyVaultAuth {
        KeyVaultAuth::Application { tenant: TENANT.into(), application_id: SAM_APP.into(), credential: ClientCredential::Secret(Secret::new(SAM_SECRET)) }
    }

    async fn control(&self, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/_emulator/{path}", self.base());
        let request = match body {
            Some(body) => self.control.post(url).json(&body),
            None => self.control.get(url),
        };
        let response = request.send().await.expect("control call");
        assert!(response.status().is_success(), "control {path}: {}", response.status());
        response.json().await.unwrap_or(Value::Null)
    }

    /// Every secret the emulator knows or issued.
    async fn ledger(&self) -> Vec<String> {
        self.control("issued-tokens", None).await.as_array().expect("array").iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()
    }

    /// A user token for Key Vault from a seeded refresh token.
    async fn delegated_vault_token(&self, refresh_token: &str) -> Secret {
        let store = Arc::new(MemoryStore::new());
        store.write("rt", &Secret::new(refresh_token)).await.expect("seed");
        let profile = self.profile("delegated", StoreRef::Keyring { name: "rt".into() });
        let app = self.app(profile, store);
        app.exchange(&[self.scope("vault/.default")]).await.expect("vault token").access_token
    }
}

fn assert_no_panic_message(text: &str) {
    assert!(!text.contains("panicked"), "{text}");
}

// --- in-memory keyring backend for tests ----------------------------------------------------

/// (service, user) → secret bytes.
type KeyringValues = Arc<Mutex<HashMap<(String, String), Vec<u8>>>>;

#[derive(Default, Clone)]
struct MemoryKeyring {
    values: KeyringValues,
}

struct MemoryCredential {
    key: (String, String),
    values: KeyringValues,
}

impl CredentialApi for MemoryCredential {
    fn set_secret(&self, secret: &[u8]) -> keyring::Result<()> {
        self.values.lock().insert(self.key.clone(), secret.to_vec());
        Ok(())
    }

    fn get_secret(&self) -> keyring::Result<Vec<u8>> {
        self.values.lock().get(&self.key).cloned().ok_or(keyring::Error::NoEntry)
    }

    fn delete_credential(&self) -> keyring::Result<()> {
        self.values.lock().remove(&self.key).map(|_| ()).ok_or(keyring::Error::NoEntry)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl CredentialBuilderApi for MemoryKeyring {
    fn build(&self, _target: Option<&str>, service: &str, user: &str) -> keyring::Result<Box<Credential>> {
        Ok(Box::new(MemoryCredential { key: (service.to_owned(), user.to_owned()), values: self.values.clone() }))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl MemoryKeyring {
    fn store(&self) -> KeyringStore {
        KeyringStore::with_builder("PartnerSecurity", Box::new(self.clone()), "test credential store")
    }
}

// --- encrypted file store ------------------------------------------------------------------

#[tokio::test]
async fn file_store_round_trips_overwrites_and_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let store = passphrase_store(&dir.path().join("nested/secrets"), PASSPHRASE);
    assert!(store.read("contoso-refresh-token").await.unwrap().is_none(), "missing is None, and reading creates nothing");
    assert!(!dir.path().join("nested").exists());
    store.write("contoso-refresh-token", &Secret::new("first-value")).await.unwrap();
    store.write("other", &Secret::new("other-value")).await.unwrap();
    assert_eq!(store.read("contoso-refresh-token").await.unwrap().unwrap().expose(), "first-value");
    store.write("Contoso-Refresh-Token", &Secret::new("second-value")).await.unwrap();
    assert_eq!(store.read("contoso-refresh-token").await.unwrap().unwrap().expose(), "second-value", "names are case-insensitive");
    // Another store instance (another process) with the same passphrase reads it.
    let again = passphrase_store(&dir.path().join("nested/secrets"), PASSPHRASE);
    assert_eq!(again.read("CONTOSO-REFRESH-TOKEN").await.unwrap().unwrap().expose(), "second-value");
    assert!(store.delete("contoso-refresh-token").await.unwrap());
    assert!(!store.delete("contoso-refresh-token").await.unwrap());
    assert!(store.read("contoso-refresh-token").await.unwrap().is_none());
    assert_eq!(store.read("other").await.unwrap().unwrap().expose(), "other-value");
    assert!(store.describe().contains("nested"));
    let err = store.write("../escape", &Secret::new("x")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    // No temporary files are left behind.
    let leftovers: Vec<_> =
        std::fs::read_dir(dir.path().join("nested/secrets")).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| n.contains(".tmp-")).collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test]
async fn file_store_with_the_recommended_argon2_setting() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::new(dir.path(), FileKey::Passphrase(Secret::new(PASSPHRASE))).unwrap();
    store.write("rt", &Secret::new("value")).await.unwrap();
    let bytes = std::fs::read(dir.path().join("rt.pssecret")).unwrap();
    let envelope = file_format::parse(&bytes).unwrap();
    assert_eq!(envelope.header.argon2, Argon2Params::RECOMMENDED, "parameters are recorded");
    assert_eq!(&bytes[..8], b"PSSECRET");
    assert_eq!(bytes[8], 1, "format version");
    let fresh = FileStore::new(dir.path(), FileKey::Passphrase(Secret::new(PASSPHRASE))).unwrap();
    assert_eq!(fresh.read("rt").await.unwrap().unwrap().expose(), "value");
}

#[tokio::test]
async fn wrong_passphrase_changed_and_truncated_files_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let store = passphrase_store(dir.path(), PASSPHRASE);
    store.write("rt", &Secret::new("1.A-refresh-token-value")).await.unwrap();
    let path = dir.path().join("rt.pssecret");
    let original = std::fs::read(&path).unwrap();
    let shown = path.display().to_string();

    let wrong = passphrase_store(dir.path(), "not the passphrase");
    let err = wrong.read("rt").await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains(&shown), "{text}");
    assert!(text.contains("cannot be decrypted: wrong passphrase or the file was changed"), "{text}");
    assert_eq!(err.code(), "SecretFileUndecryptable");

    // One flipped byte anywhere: header fields, salt, nonce, ciphertext, tag.
    for at in [9, 10, 12, 16, 24, 30, 40, 51, 52, 56, original.len() / 2 + 28, original.len() - 1] {
        let mut changed = original.clone();
        changed[at] ^= 0x01;
        std::fs::write(&path, &changed).unwrap();
        let err = store.read("rt").await.expect_err("a changed file never decrypts");
        let text = err.to_string();
        assert!(text.contains(&shown), "byte {at}: {text}");
        assert!(matches!(err, SamError::Undecryptable { .. } | SamError::CorruptFile { .. }), "byte {at}: {err:?}");
        assert_no_panic_message(&text);
    }
    // A changed format version.
    let mut newer = original.clone();
    newer[8] = 2;
    std::fs::write(&path, &newer).unwrap();
    let err = store.read("rt").await.unwrap_err();
    assert!(matches!(err, SamError::UnsupportedFormat { found: 2, supported: 1, .. }), "{err:?}");
    assert!(err.to_string().contains("Update PartnerSecurity"));

    // Truncated at every length, and empty.
    for len in [0, 1, 7, 8, 20, 55, 56, 60, original.len() - 1] {
        std::fs::write(&path, &original[..len]).unwrap();
        let err = store.read("rt").await.expect_err("truncated");
        let text = err.to_string();
        assert!(text.contains(&shown), "{len}: {text}");
        assert!(text.contains("truncated"), "{len}: {text}");
    }
    // Something else entirely.
    std::fs::write(&path, b"{\"refreshToken\": \"plain text\"}").unwrap();
    let err = store.read("rt").await.unwrap_err();
    assert!(err.to_string().contains("not a PartnerSecurity secret file"), "{err}");

    // A file copied to another name does not decrypt (the name is authenticated).
    std::fs::write(&path, &original).unwrap();
    std::fs::copy(&path, dir.path().join("other.pssecret")).unwrap();
    assert!(matches!(store.read("other").await.unwrap_err(), SamError::Undecryptable { .. }));
    assert_eq!(store.read("rt").await.unwrap().unwrap().expose(), "1.A-refresh-token-value", "the original still reads");
}

#[tokio::test]
async fn a_held_rotation_lock_makes_others_wait_and_then_time_out() {
    let dir = tempfile::tempdir().unwrap();
    let holder = passphrase_store(dir.path(), PASSPHRASE);
    let waiting = FileStore::with_options(
        dir.path(),
        FileKey::Passphrase(Secret::new(PASSPHRASE)),
        FileStoreOptions { lock_timeout: std::time::Duration::from_millis(200), ..fast_options() },
    )
    .unwrap();
    let guard = holder.lock("rt").await.unwrap().expect("the file store locks");
    let err = waiting.lock("rt").await.unwrap_err();
    assert!(matches!(err, SamError::LockTimeout { .. }), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Throttled);
    assert!(err.to_string().contains(".rt.rotation.lock"), "{err}");
    // Writes use their own lock, so a rotation in progress can still store its token.
    waiting.write("rt", &Secret::new("v")).await.unwrap();
    drop(guard);
    assert!(waiting.lock("rt").await.unwrap().is_some(), "released when the guard is dropped");
}

#[cfg(unix)]
#[tokio::test]
async fn secret_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let secrets = dir.path().join("a/b");
    let store = passphrase_store(&secrets, PASSPHRASE);
    store.write("rt", &Secret::new("v")).await.unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&secrets.join("rt.pssecret")), 0o600);
    assert_eq!(mode(&secrets), 0o700);
    assert_eq!(mode(&dir.path().join("a")), 0o700);
    store.write("rt", &Secret::new("v2")).await.unwrap();
    assert_eq!(mode(&secrets.join("rt.pssecret")), 0o600, "still private after a rewrite");
    assert_eq!(mode(&secrets.join(".rt.lock")), 0o600);
}

#[tokio::test]
async fn file_store_with_a_key_in_the_credential_store() {
    let dir = tempfile::tempdir().unwrap();
    let keyring = MemoryKeyring::default();
    let store = FileStore::new(dir.path(), FileKey::CredentialStore(keyring.store())).unwrap();
    store.write("rt", &Secret::new("kept-by-a-random-key")).await.unwrap();
    assert_eq!(keyring.values.lock().len(), 1, "one key per directory");
    let second = FileStore::new(dir.path(), FileKey::CredentialStore(keyring.store())).unwrap();
    assert_eq!(second.read("rt").await.unwrap().unwrap().expose(), "kept-by-a-random-key");
    let envelope_bytes = std::fs::read(dir.path().join("rt.pssecret")).unwrap();
    assert_eq!(file_format::parse(&envelope_bytes).unwrap().header.key_kind, file_format::KeyKind::CredentialStore);

    // A passphrase store cannot read it, and says why.
    let err = passphrase_store(dir.path(), PASSPHRASE).read("rt").await.unwrap_err();
    assert!(matches!(err, SamError::KeyKindMismatch { .. }), "{err:?}");
    assert!(err.to_string().contains("OS credential store"), "{err}");

    // The key is gone (another machine, a wiped keyring).
    let empty = MemoryKeyring::default();
    let err = FileStore::new(dir.path(), FileKey::CredentialStore(empty.store())).unwrap().read("rt").await.unwrap_err();
    assert!(matches!(err, SamError::FileKeyMissing { .. }), "{err:?}");
    // Another key in its place.
    let other = MemoryKeyring::default();
    let other_store = FileStore::new(dir.path().join("elsewhere"), FileKey::CredentialStore(other.store())).unwrap();
    other_store.write("x", &Secret::new("y")).await.unwrap();
    let foreign_key = other.values.lock().values().next().unwrap().clone();
    for value in keyring.values.lock().values_mut() {
        *value = foreign_key.clone();
    }
    let err = store.read("rt").await.unwrap_err();
    assert!(matches!(err, SamError::Undecryptable { .. }), "{err:?}");
}

// --- OS credential store ----------------------------------------------------------------------

#[tokio::test]
async fn keyring_store_round_trips_through_its_backend() {
    let keyring = MemoryKeyring::default();
    let store = keyring.store();
    assert!(store.read("contoso-refresh-token").await.unwrap().is_none());
    store.write("Contoso-Refresh-Token", &Secret::new("v1")).await.unwrap();
    assert_eq!(store.read("contoso-refresh-token").await.unwrap().unwrap().expose(), "v1");
    store.write("contoso-refresh-token", &Secret::new("v2")).await.unwrap();
    assert_eq!(store.read("contoso-refresh-token").await.unwrap().unwrap().expose(), "v2");
    assert!(keyring.values.lock().contains_key(&("PartnerSecurity".to_owned(), "contoso-refresh-token".to_owned())));
    assert!(store.delete("contoso-refresh-token").await.unwrap());
    assert!(!store.delete("contoso-refresh-token").await.unwrap());
    assert!(store.write("bad name", &Secret::new("x")).await.is_err());
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn on_linux_the_os_keyring_is_refused_with_advice_and_the_kernel_keyring_fails_clearly() {
    let err = KeyringStore::os().unwrap_err();
    let text = err.to_string();
    for expected in ["not a durable", "reboot", "encrypted file store", "Key Vault"] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
    assert_eq!(err.code(), "CredentialStoreUnavailable");
    // Opted into explicitly: works inside a login session, and otherwise says why it cannot.
    let volatile = KeyringStore::linux_kernel_keyring();
    let name = format!("ps-test-{}", uuid::Uuid::new_v4().simple());
    match volatile.write(&name, &Secret::new("short-lived")).await {
        Ok(()) => {
            assert_eq!(volatile.read(&name).await.unwrap().unwrap().expose(), "short-lived");
            assert!(volatile.delete(&name).await.unwrap());
        }
        Err(e) => {
            let text = e.to_string();
            assert!(text.contains("encrypted file store") || text.contains("credential store"), "{text}");
            assert!(!text.contains("short-lived"));
        }
    }
}

// --- Key Vault store ------------------------------------------------------------------------

#[tokio::test]
async fn key_vault_store_round_trips_against_the_emulator_vault() {
    let f = Fixture::start().await;
    let store = f.key_vault_store(f.app_auth());
    assert_eq!(store.describe(), format!("Key Vault {}", f.vault_url()));
    assert!(store.read("contoso-refresh-token").await.unwrap().is_none());
    store.write("contoso-refresh-token", &Secret::new("1.A-first-rt-in-the-vault")).await.unwrap();
    store.write("contoso-refresh-token", &Secret::new("1.A-second-rt-in-the-vault")).await.unwrap();
    assert_eq!(store.read("Contoso-Refresh-Token").await.unwrap().unwrap().expose(), "1.A-second-rt-in-the-vault");
    assert!(f.ledger().await.iter().any(|v| v == "1.A-second-rt-in-the-vault"), "the emulator's leak list covers vault values");
    assert!(store.delete("contoso-refresh-token").await.unwrap());
    assert!(store.read("contoso-refresh-token").await.unwrap().is_none());
    assert!(!store.delete("contoso-refresh-token").await.unwrap());
    // Bad names never reach the vault.
    let before = f.control("requests", None).await.as_array().map(Vec::len).unwrap_or_default();
    for bad in ["a_b", "", "x/../y"] {
        let err = store.write(bad, &Secret::new("v")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}");
    }
    assert_eq!(f.control("requests", None).await.as_array().map(Vec::len).unwrap_or_default(), before);

    // The admin agent's own (delegated) token, supplied by the caller, works as well.
    let token = f.delegated_vault_token(RT_ADMIN).await;
    let delegated = f.key_vault_store(KeyVaultAuth::Token(token));
    delegated.write("by-admin", &Secret::new("admin-value")).await.unwrap();
    assert_eq!(store.read("by-admin").await.unwrap().unwrap().expose(), "admin-value");
}

#[tokio::test]
async fn key_vault_403_names_the_identity_the_permission_and_the_vault() {
    let f = Fixture::start_with(|s| s["keyVaults"][0]["accessPolicies"] = json!([{"objectId": SAM_SP, "permissions": ["get", "list"]}])).await;
    let store = f.key_vault_store(f.app_auth());
    assert!(store.read("anything").await.unwrap().is_none(), "get is allowed");
    let err = store.write("contoso-refresh-token", &Secret::new("1.A-never-stored-value")).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, SamError::KeyVaultForbidden { .. }), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    assert_eq!(err.code(), "KeyVaultForbidden");
    assert!(text.contains(&format!("application {SAM_APP}")), "{text}");
    assert!(text.contains(SAM_SP), "{text}");
    assert!(text.contains("lacks 'set' secret permission"), "{text}");
    assert!(text.contains(&f.vault_url()), "{text}");
    assert!(!text.contains("1.A-never-stored-value"));
    let err = store.delete("x").await.unwrap_err();
    assert!(err.to_string().contains("lacks 'delete' secret permission"), "{err}");

    // A user without any access policy.
    let token = f.delegated_vault_token(RT_SALES).await;
    let err = f.key_vault_store(KeyVaultAuth::Token(token)).read("x").await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("salesagent@contoso-csp.onmicrosoft.com"), "{text}");
    assert!(text.contains(SALES), "{text}");
    assert!(text.contains("lacks 'get' secret permission"), "{text}");
}

#[tokio::test]
async fn key_vault_store_refuses_foreign_vaults_and_tokens() {
    let f = Fixture::start().await;
    let other_port = f.vault_url().replace(&format!(":{}", f.emulator.local_addr.port()), ":1");
    for bad in [other_port.as_str(), "https://contoso.vault.azure.net", &format!("{}/graph/x", f.base())] {
        let err = KeyVaultStore::new(f.http.clone(), f.environment.clone(), bad, f.app_auth()).unwrap_err();
        assert!(err.to_string().contains("is not a vault of the environment"), "{bad}: {err}");
    }
    // A Graph token is not sent to the vault.
    let store = Arc::new(MemoryStore::new());
    store.write("rt", &Secret::new(RT_ADMIN)).await.unwrap();
    let graph = f.app(f.profile("g", StoreRef::Keyring { name: "rt".into() }), store).exchange(&[f.scope("graph/.default")]).await.unwrap();
    let before = f.control("requests", None).await.as_array().map(Vec::len).unwrap_or_default();
    let err = f.key_vault_store(KeyVaultAuth::Token(graph.access_token)).read("x").await.unwrap_err();
    assert!(err.to_string().contains("refusing to send the access token"), "{err}");
    assert_eq!(f.control("requests", None).await.as_array().map(Vec::len).unwrap_or_default(), before, "nothing was sent");
    // An environment without a Key Vault endpoint says so.
    let bare = Environment { key_vault_endpoint: String::new(), ..f.environment.clone() };
    let err = KeyVaultStore::new(f.http.clone(), bare, &f.vault_url(), f.app_auth()).unwrap_err();
    assert!(err.to_string().contains("no Key Vault endpoint"), "{err}");
}

#[tokio::test]
async fn key_vault_401_is_explained() {
    // A vault of the customer tenant, asked with a token of the partner tenant.
    let f = Fixture::start_with(|s| {
        s["keyVaults"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "fabrikam-vault", "tenantId": "2d7e9f10-4b6a-4c3d-9e8f-0a1b2c3d4e5f", "accessPolicies": [{"objectId": SAM_SP, "permissions": ["get"]}]}));
    })
    .await;
    let store = KeyVaultStore::new(f.http.clone(), f.environment.clone(), &format!("{}/vault/fabrikam-vault", f.base()), f.app_auth()).unwrap();
    let err = store.read("x").await.unwrap_err();
    let text = err.to_string();
    assert_eq!(err.kind(), ErrorKind::Authentication, "{text}");
    assert!(text.contains("Key Vault answered HTTP 401 (Unauthorized)"), "{text}");
    assert!(text.contains("AKV10032"), "{text}");
    assert!(text.contains(&format!("must be for {}/vault from the vault's tenant", f.base())), "{text}");
}

// --- rotation -------------------------------------------------------------------------------

#[tokio::test]
async fn an_exchange_stores_the_new_refresh_token_before_returning() {
    let f = Fixture::start().await;
    let repo = f.repository();
    let profile = f.profile("contoso", f.file_ref("contoso-refresh-token"));
    repo.create(&profile).unwrap();
    let store = Arc::new(passphrase_store(&f.secrets_dir(), PASSPHRASE));
    store.write("contoso-refresh-token", &Secret::new(RT_ADMIN)).await.unwrap();
    let app = f.app(profile, store.clone()).with_repository(repo.clone());

    let first = exchange(&app, &f.pc_scopes()).await.expect("exchange");
    let stored = store.read("contoso-refresh-token").await.unwrap().unwrap();
    let returned = first.refresh_token.clone().expect("a rotated refresh token");
    assert_ne!(stored.expose(), RT_ADMIN, "the rotated token replaced the consent's");
    assert_eq!(stored.expose(), returned.expose(), "the store holds exactly what the exchange returned");
    assert!(first.claims.has_mfa());
    let on_disk = repo.get("contoso").unwrap();
    assert!(on_disk.last_exchange_on.is_some_and(|t| Utc::now() - t < Duration::minutes(1)));
    assert!(on_disk.last_amr.iter().any(|m| m == "mfa"));

    let second = app.exchange(&[f.scope("graph/.default")]).await.expect("the stored token works");
    // A v1 `resource` exchange (the Partner Center samples' form) rotates the same way.
    let before_v1 = store.read("contoso-refresh-token").await.unwrap().unwrap().expose().to_owned();
    let v1 = app.exchange_for(partnersecurity_core::auth::TokenTarget::Resource(f.scope("partnercenter"))).await.expect("v1 exchange");
    assert_eq!(v1.resource.as_deref(), Some(f.scope("partnercenter").as_str()));
    assert_ne!(store.read("contoso-refresh-token").await.unwrap().unwrap().expose(), before_v1);
    assert_ne!(store.read("contoso-refresh-token").await.unwrap().unwrap().expose(), returned.expose());
    assert_eq!(second.claims.audience.as_deref(), Some(f.scope("graph").as_str()));
    assert_eq!(app.health(Utc::now()).await.status, HealthStatus::Healthy);

    let err = app.exchange(&[]).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    store.delete("contoso-refresh-token").await.unwrap();
    let err = app.exchange(&f.pc_scopes()).await.unwrap_err();
    assert!(matches!(err, SamError::NoRefreshToken { .. }), "{err:?}");
    assert!(err.to_string().contains("Consent once"), "{err}");
}

#[tokio::test]
async fn a_session_connected_through_a_profile_renews_through_its_store() {
    use partnersecurity_core::session::{ConnectRequest, Session};
    let f = Fixture::start().await;
    let store = Arc::new(passphrase_store(&f.secrets_dir(), PASSPHRASE));
    store.write("contoso-refresh-token", &Secret::new(RT_ADMIN)).await.unwrap();
    let app = Arc::new(f.app(f.profile("contoso", f.file_ref("contoso-refresh-token")), store.clone()));
    let scope = f.pc_scopes().remove(0);
    let first = app.exchange(std::slice::from_ref(&scope)).await.expect("exchange");
    let request = ConnectRequest::Profile { app: app.clone(), response: first, tenant: TENANT.into(), scope };
    let session = Session::connect(&f.http, f.environment.clone(), request).await.expect("connect");
    assert!(session.context().has_refresh_token);
    assert_eq!(session.context().account.application_id.as_deref(), Some(SAM_APP));

    // A token for another resource is a renewal: the store holds the token it returned.
    let before = store.read("contoso-refresh-token").await.unwrap().unwrap().expose().to_owned();
    let graph = session.access_token(&f.http, &[f.scope("graph/.default")]).await.expect("graph token");
    let stored = store.read("contoso-refresh-token").await.unwrap().unwrap();
    assert_ne!(stored.expose(), before, "the session's renewal rotated the stored token");
    assert_eq!(Some(stored.expose()), graph.refresh_token.as_ref().map(Secret::expose));

    // A store that refuses the write: the renewal fails with the profile's error (the old
    // token stays in the store) instead of a token whose rotation only lives in memory.
    let failing = Arc::new(f.app(f.profile("contoso", f.file_ref("contoso-refresh-token")), Arc::new(FailingWrites(store.clone()))));
    let scope = f.pc_scopes().remove(0);
    let first = app.exchange(std::slice::from_ref(&scope)).await.expect("exchange");
    let session = Session::connect(&f.http, f.environment.clone(), ConnectRequest::Profile { app: failing, response: first, tenant: TENANT.into(), scope }).await.expect("connect");
    let kept = store.read("contoso-refresh-token").await.unwrap().unwrap().expose().to_owned();
    let err = session.access_token(&f.http, &[f.scope("graph/.default")]).await.unwrap_err();
    assert_eq!(err.code().as_deref(), Some("RotationNotSaved"), "{err}");
    assert_eq!(err.kind(), ErrorKind::Storage, "a full disk is the machine's problem, not a bug");
    assert!(err.to_string().contains("Nothing is lost"), "{err}");
    assert_eq!(store.read("contoso-refresh-token").await.unwrap().unwrap().expose(), kept);
}

/// A store whose writes fail: the moment between a successful exchange and saving its token.
struct FailingWrites(Arc<dyn SecretStore>);

#[async_trait::async_trait]
impl SecretStore for FailingWrites {
    async fn read(&self, name: &str) -> SamResult<Option<Secret>> {
        self.0.read(name).await
    }
    async fn write(&self, name: &str, _value: &Secret) -> SamResult<()> {
        Err(SamError::Io { action: "write", path: PathBuf::from(name), reason: "No space left on device (simulated)".into(), io_kind: std::io::ErrorKind::StorageFull })
    }
    async fn delete(&self, name: &str) -> SamResult<bool> {
        self.0.delete(name).await
    }
    fn describe(&self) -> String {
        format!("failing wrapper over {}", self.0.describe())
    }
    async fn lock(&self, name: &str) -> SamResult<Option<StoreLock>> {
        self.0.lock(name).await
    }
}

/// Records a fingerprint of every value read: with the rotation lock, each exchange reads the
/// token the previous one wrote, so no value is ever read twice.
struct Recording {
    inner: Arc<dyn SecretStore>,
    reads: Mutex<Vec<String>>,
}

impl Recording {
    fn new(inner: Arc<dyn SecretStore>) -> Self {
        Self { inner, reads: Mutex::new(Vec::new()) }
    }
}

fn fingerprint(value: &str) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(value.as_bytes())[..12])
}

#[async_trait::async_trait]
impl SecretStore for Recording {
    async fn read(&self, name: &str) -> SamResult<Option<Secret>> {
        let value = self.inner.read(name).await?;
        if let Some(v) = &value {
            self.reads.lock().push(fingerprint(v.expose()));
        }
        Ok(value)
    }
    async fn write(&self, name: &str, value: &Secret) -> SamResult<()> {
        self.inner.write(name, value).await
    }
    async fn delete(&self, name: &str) -> SamResult<bool> {
        self.inner.delete(name).await
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
    async fn lock(&self, name: &str) -> SamResult<Option<StoreLock>> {
        self.inner.lock(name).await
    }
}

#[tokio::test]
async fn a_failed_write_after_the_exchange_keeps_the_old_token_which_still_works() {
    let f = Fixture::start().await;
    let store: Arc<dyn SecretStore> = Arc::new(passphrase_store(&f.secrets_dir(), PASSPHRASE));
    store.write("contoso-refresh-token", &Secret::new(RT_ADMIN)).await.unwrap();
    let profile = f.profile("contoso", f.file_ref("contoso-refresh-token"));

    let crashing = f.app(profile.clone(), Arc::new(FailingWrites(store.clone())));
    let err = crashing.exchange(&f.pc_scopes()).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, SamError::RotationNotSaved { .. }), "{err:?}");
    assert!(text.contains("could not be saved"), "{text}");
    assert!(text.contains("previous refresh token is still in the store and still valid"), "{text}");
    assert!(text.contains("simulated"), "{text}");
    assert_eq!(store.read("contoso-refresh-token").await.unwrap().unwrap().expose(), RT_ADMIN, "the old token is still stored");
    let ledger = f.ledger().await;
    assert!(ledger.iter().all(|secret| secret.len() < 12 || !text.contains(secret.as_str())), "no secret in the message");

    // The old token still works; the next (healthy) exchange rotates from it.
    let healthy = f.app(profile, store.clone());
    healthy.exchange(&f.pc_scopes()).await.expect("the old token still works");
    assert_ne!(store.read("contoso-refresh-token").await.unwrap().unwrap().expose(), RT_ADMIN);
}

#[tokio::test]
async fn concurrent_rotations_in_one_process_never_lose_the_newest_token() {
    let f = Fixture::start().await;
    let profile = f.profile("contoso", f.file_ref("contoso-refresh-token"));
    passphrase_store(&f.secrets_dir(), PASSPHRASE).write("contoso-refresh-token", &Secret::new(RT_ADMIN)).await.unwrap();
    // Two independent apps over two store instances: as two sessions of the module would be.
    let stores: Vec<Arc<Recording>> = (0..2).map(|_| Arc::new(Recording::new(Arc::new(passphrase_store(&f.secrets_dir(), PASSPHRASE))))).collect();
    let apps: Vec<Arc<SecureApp>> = stores.iter().map(|s| Arc::new(f.app(profile.clone(), s.clone()))).collect();
    let mut tasks = Vec::new();
    for i in 0..10 {
        let app = apps[i % 2].clone();
        let scopes = if i % 3 == 0 { vec![f.scope("graph/.default")] } else { f.pc_scopes() };
        tasks.push(tokio::spawn(async move { app.exchange(&scopes).await.map(|t| t.refresh_token.map(|r| r.expose().to_owned())) }));
    }
    let mut returned = Vec::new();
    for t in tasks {
        returned.push(t.await.unwrap().expect("every exchange succeeds").expect("rotated"));
    }
    let stored = passphrase_store(&f.secrets_dir(), PASSPHRASE).read("contoso-refresh-token").await.unwrap().unwrap();
    assert!(returned.contains(&stored.expose().to_owned()), "the store holds a token an exchange returned");
    assert_eq!(returned.iter().collect::<std::collections::HashSet<_>>().len(), 10, "each exchange got its own new token");
    // Each exchange started from the newest token: no token was read (and redeemed) twice.
    let reads: Vec<String> = stores.iter().flat_map(|s| s.reads.lock().clone()).collect();
    assert_eq!(reads.len(), 10);
    assert_eq!(reads.iter().collect::<std::collections::HashSet<_>>().len(), 10, "a token was redeemed twice: {reads:?}");
    assert!(reads.contains(&fingerprint(RT_ADMIN)));
    apps[0].exchange(&f.pc_scopes()).await.expect("the stored token still works");
}

#[tokio::test]
async fn concurrent_rotations_through_key_vault_keep_a_working_token() {
    let f = Fixture::start().await;
    let name = "contoso-refresh-token";
    f.key_vault_store(f.app_auth()).write(name, &Secret::new(RT_ADMIN)).await.unwrap();
    let profile = f.profile("contoso", StoreRef::KeyVault { vault_url: f.vault_url(), secret_name: name.into() });
    let apps: Vec<Arc<SecureApp>> = (0..3).map(|_| Arc::new(f.app(profile.clone(), Arc::new(f.key_vault_store(f.app_auth()))))).collect();
    let mut tasks = Vec::new();
    for i in 0..9 {
        let app = apps[i % 3].clone();
        let scopes = f.pc_scopes();
        tasks.push(tokio::spawn(async move { app.exchange(&scopes).await.map(|_| ()) }));
    }
    for t in tasks {
        t.await.unwrap().expect("every exchange succeeds (no lock: last writer wins, and every rotated token is valid)");
    }
    assert_ne!(f.key_vault_store(f.app_auth()).read(name).await.unwrap().unwrap().expose(), RT_ADMIN);
    apps[0].exchange(&f.pc_scopes()).await.expect("the stored token works");
}

/// The profile `contoso` opened as `open_profile` would, with its refresh-token store recorded.
async fn open_recording(repo: &ProfileRepository, environments: &EnvironmentRegistry, http: Arc<HttpClients>, options: OpenOptions) -> (SecureApp, Arc<Recording>) {
    let profile = repo.get("contoso").expect("profile");
    let environment = environments.get(&profile.environment).expect("environment");
    let credential = open::app_credential(&profile, &environment, http.clone(), &options).await.expect("app secret");
    let store = open_store(&profile.refresh_token_store, &environment, http.clone(), &options, None).expect("store");
    let recording = Arc::new(Recording::new(store));
    let app = SecureApp::new(profile, environment, http, credential, recording.clone()).with_repository(repo.clone());
    (app, recording)
}

/// Worker for [`two_processes_rotating_one_file_store_never_lose_the_newest_token`]: started as
/// a separate process (this test binary, filtered to this test) with its settings in
/// `PS_SAM_WORKER`. Does nothing when run normally.
#[test]
#[ignore = "runs as a child process of two_processes_rotating_one_file_store_never_lose_the_newest_token"]
fn rotation_worker_process() {
    let Ok(config) = std::env::var("PS_SAM_WORKER") else {
        return;
    };
    let config: Value = serde_json::from_str(&config).expect("worker config");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async move {
        let base = config["base"].as_str().unwrap();
        let pem = std::fs::read_to_string(config["pem"].as_str().unwrap()).unwrap();
        let environments = EnvironmentRegistry::new();
        environments.add(custom_environment(base, Some(pem))).unwrap();
        let repo = ProfileRepository::new(config["profiles"].as_str().unwrap());
        let options = OpenOptions { passphrase: Some(Secret::new(PASSPHRASE)), file_store: fast_options(), ..Default::default() };
        let (app, reads) = open_recording(&repo, &environments, Arc::new(HttpClients::new()), options).await;
        let scopes = vec![format!("{base}/partnercenter/user_impersonation")];
        for _ in 0..config["iterations"].as_u64().unwrap() {
            app.exchange(&scopes).await.expect("exchange in the worker process");
        }
        for read in reads.reads.lock().iter() {
            println!("READ {read}");
        }
    });
}

#[tokio::test]
async fn two_processes_rotating_one_file_store_never_lose_the_newest_token() {
    let f = Fixture::start().await;
    let (repo, store) = f.consented_file_profile().await;
    let pem = f.home.path().join("emulator.pem");
    std::fs::write(&pem, f.emulator.certificate_pem.as_deref().unwrap()).unwrap();
    let config = json!({"base": f.base(), "pem": pem, "profiles": repo.directory(), "iterations": 4}).to_string();
    let spawn = || {
        std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "rotation_worker_process", "--ignored", "--test-threads=1", "--nocapture"])
            .env("PS_SAM_WORKER", &config)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("worker process starts")
    };
    let children = [spawn(), spawn()];
    // This process rotates at the same time.
    let options = OpenOptions { passphrase: Some(Secret::new(PASSPHRASE)), file_store: fast_options(), ..Default::default() };
    let (app, recording) = open_recording(&repo, &f.environments, f.http.clone(), options).await;
    for _ in 0..4 {
        app.exchange(&f.pc_scopes()).await.expect("exchange in the parent process");
    }
    let mut reads = recording.reads.lock().clone();
    for child in children {
        let output = tokio::task::spawn_blocking(move || child.wait_with_output()).await.unwrap().unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "worker failed: {text}\n{}", String::from_utf8_lossy(&output.stderr));
        assert!(text.contains("1 passed"), "the worker ran: {text}");
        // libtest prints "test rotation_worker_process ... " without a newline before the output.
        reads.extend(text.split("READ ").skip(1).map(|rest| rest.chars().take_while(char::is_ascii_hexdigit).collect::<String>()));
    }
    // Every exchange of every process started from the newest token: none was read twice.
    assert_eq!(reads.len(), 12, "{reads:?}");
    assert_eq!(reads.iter().collect::<std::collections::HashSet<_>>().len(), 12, "a token was redeemed twice: {reads:?}");
    assert!(reads.contains(&fingerprint(RT_ADMIN)));
    let stored = store.read("contoso-refresh-token").await.unwrap().unwrap();
    assert_ne!(stored.expose(), RT_ADMIN);
    app.exchange(&f.pc_scopes()).await.expect("after 12 rotations by 3 processes the stored token works");
    let token_requests = f.control("requests", None).await.as_array().unwrap().iter().filter(|e| e["grantType"] == "refresh_token" && e["status"] == 200).count();
    assert_eq!(token_requests, 13, "every exchange of every process succeeded");
}

// --- consent ---------------------------------------------------------------------------------

async fn browser_sign_in(f: &Fixture) -> partnersecurity_core::signin::SignedIn {
    let pending = Arc::new(PendingSignIns::new());
    let request = SignInRequest {
        tenant: Some(TENANT.into()),
        application_id: Some(SAM_APP.into()),
        credential: ClientCredential::Secret(Secret::new(SAM_SECRET)),
        scopes: f.pc_scopes(),
        use_device_code: false,
        login_hint: None,
    };
    let (id, prompt) = pending.begin(&f.http, f.environment.clone(), request).await.expect("begin");
    let SignInPrompt::Browser { url, .. } = prompt else { panic!("expected a browser prompt") };
    let answer = f.control.get(&url).send().await.expect("authorize");
    assert!(answer.status().is_redirection(), "{}", answer.status());
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    let (p, http) = (pending.clone(), f.http.clone());
    let finish = tokio::spawn(async move { p.finish(&http, &id).await });
    reqwest::get(&location).await.expect("loopback redirect").text().await.unwrap();
    finish.await.unwrap().expect("redeemed").1
}

#[tokio::test]
async fn consent_without_mfa_is_refused_and_consent_with_mfa_is_saved() {
    // The tenant does not enforce MFA, so a sign-in without it succeeds at Entra ID.
    let f = Fixture::start_with(|s| s["tenants"][0]["requireMfa"] = json!(false)).await;
    let repo = f.repository();
    let profile = f.profile("contoso", f.file_ref("contoso-refresh-token"));
    repo.create(&profile).unwrap();
    let store = Arc::new(passphrase_store(&f.secrets_dir(), PASSPHRASE));
    let app = f.app(profile, store.clone()).with_repository(repo.clone());

    f.control("sign-in/next", Some(json!({"userId": SALES, "mfa": false}))).await;
    let no_mfa = browser_sign_in(&f).await;
    assert!(!no_mfa.response.claims.has_mfa());
    let err = consent_and_save(&app, no_mfa).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, SamError::MfaRequired { .. }), "{err:?}");
    assert_eq!(err.code(), "MfaRequired");
    assert!(text.contains("amr: pwd"), "{text}");
    assert!(text.contains("multi-factor authentication") && text.contains("consent again"), "{text}");
    assert!(store.read("contoso-refresh-token").await.unwrap().is_none(), "nothing was stored");
    assert!(repo.get("contoso").unwrap().consented_on.is_none());

    // Importing an old script's non-MFA refresh token is refused the same way.
    let err = app.import_refresh_token(Secret::new(RT_SALES), &f.pc_scopes()).await.unwrap_err();
    assert!(matches!(err, SamError::MfaRequired { .. }), "{err:?}");
    assert!(store.read("contoso-refresh-token").await.unwrap().is_none());

    f.control("sign-in/next", Some(json!({"userId": ADMIN, "mfa": true}))).await;
    let with_mfa = browser_sign_in(&f).await;
    let saved = consent_and_save(&app, with_mfa).await.expect("consent with MFA is saved");
    assert_eq!(saved.consented_by.as_deref(), Some("adminagent@contoso-csp.onmicrosoft.com"));
    assert!(saved.last_amr.iter().any(|m| m == "mfa"));
    assert!(!saved.consented_scopes.is_empty());
    assert_eq!(repo.get("contoso").unwrap(), saved, "recorded in the repository");
    assert!(store.read("contoso-refresh-token").await.unwrap().is_some());
    app.exchange(&f.pc_scopes()).await.expect("the consented token works");
    assert_eq!(app.health(Utc::now()).await.status, HealthStatus::Healthy);
}

#[tokio::test]
async fn consent_for_another_app_or_tenant_is_refused() {
    let f = Fixture::start().await;
    let signed_in = browser_sign_in(&f).await;
    let store = Arc::new(MemoryStore::new());
    let mut other_app = f.profile("other", StoreRef::Keyring { name: "rt".into() });
    other_app.application_id = "3c5e7a9b-4d6f-4b8a-9c1e-2f3a4b5c6d7e".into();
    let err = consent_and_save(&f.app(other_app, store.clone()), signed_in.clone()).await.unwrap_err();
    assert!(err.to_string().contains("'ApplicationId'"), "{err}");
    let mut other_tenant = f.profile("other", StoreRef::Keyring { name: "rt".into() });
    other_tenant.tenant = "2d7e9f10-4b6a-4c3d-9e8f-0a1b2c3d4e5f".into();
    let err = consent_and_save(&f.app(other_tenant, store.clone()), signed_in).await.unwrap_err();
    assert!(err.to_string().contains("'Tenant'"), "{err}");
    assert!(store.read("rt").await.unwrap().is_none());
}

// --- health ------------------------------------------------------------------------------------

#[test]
fn health_thresholds() {
    let now = Utc::now();
    let mut p = SecureAppProfile::new(
        "contoso",
        SAM_APP,
        TENANT,
        "AzureCloud",
        ProfileCredential::CertificateThumbprint { thumbprint: "a".repeat(40) },
        StoreRef::KeyVault { vault_url: "https://contoso.vault.azure.net".into(), secret_name: "rt".into() },
    )
    .unwrap();
    let at = |p: &SecureAppProfile| health::assess(p, now, Some(true), None);
    let never = at(&p);
    assert_eq!(never.status, HealthStatus::Expired);
    assert!(never.advice.contains("never been consented"), "{}", never.advice);

    p.last_amr = vec!["pwd".into(), "mfa".into()];
    let cases = [
        (Duration::zero(), HealthStatus::Healthy, Some(90)),
        (Duration::days(60), HealthStatus::Healthy, Some(30)),
        (Duration::days(76), HealthStatus::Healthy, Some(14)),
        (Duration::days(76) + Duration::seconds(1), HealthStatus::Warning, Some(13)),
        (Duration::days(89), HealthStatus::Warning, Some(1)),
        (Duration::days(90) - Duration::seconds(1), HealthStatus::Warning, Some(0)),
        (Duration::days(90), HealthStatus::Expired, Some(0)),
        (Duration::days(200), HealthStatus::Expired, Some(-110)),
    ];
    for (age, status, days_left) in cases {
        p.last_exchange_on = Some(now - age);
        let h = at(&p);
        assert_eq!(h.status, status, "age {age}: {}", h.advice);
        assert_eq!(h.days_left, days_left, "age {age}");
        assert_eq!(h.age_days, Some(age.num_days()));
        assert_eq!(h.expires_on, Some(now - age + Duration::days(90)));
        assert!(h.mfa);
        match status {
            HealthStatus::Healthy => assert!(h.advice.contains("renews itself"), "{}", h.advice),
            HealthStatus::Warning => assert!(h.advice.contains("days left") && h.advice.contains("Run an exchange"), "{}", h.advice),
            HealthStatus::Expired => assert!(h.advice.contains("AADSTS700082") && h.advice.contains("Consent again"), "{}", h.advice),
        }
    }
    p.last_exchange_on = Some(now - Duration::days(1));
    p.last_amr = vec!["pwd".into()];
    let h = at(&p);
    assert_eq!(h.status, HealthStatus::Warning);
    assert!(!h.mfa);
    assert!(h.advice.contains("did not prove multi-factor"), "{}", h.advice);
    p.last_amr = vec!["ngcmfa".into()];
    assert_eq!(at(&p).status, HealthStatus::Healthy);
    let missing = health::assess(&p, now, Some(false), None);
    assert_eq!(missing.status, HealthStatus::Expired);
    assert!(missing.advice.contains("No refresh token is stored"));
    let unreadable = health::assess(&p, now, None, Some("wrong passphrase".into()));
    assert_eq!(unreadable.status, HealthStatus::Warning);
    assert!(unreadable.advice.contains("wrong passphrase"));
    let json = serde_json::to_value(&h).unwrap();
    assert_eq!(json["Status"], "Warning");
    assert!(json.get("DaysLeft").is_some());
}

#[tokio::test]
async fn health_follows_the_emulator_clock_to_expiry() {
    let f = Fixture::start().await;
    let store = Arc::new(MemoryStore::new());
    store.write("contoso-refresh-token", &Secret::new(RT_ADMIN)).await.unwrap();
    let app = f.app(f.profile("contoso", StoreRef::Keyring { name: "contoso-refresh-token".into() }), store.clone());
    app.exchange(&f.pc_scopes()).await.unwrap();
    let stored = store.read("contoso-refresh-token").await.unwrap().unwrap().expose().to_owned();

    let clock = f.control("clock/advance", Some(json!({"seconds": 80 * 86_400}))).await;
    let emulator_now = chrono::DateTime::parse_from_rfc3339(clock["now"].as_str().unwrap()).unwrap().with_timezone(&Utc);
    let h = app.health(emulator_now).await;
    assert_eq!(h.status, HealthStatus::Warning, "{}", h.advice);
    assert_eq!(h.days_left, Some(9));

    let clock = f.control("clock/advance", Some(json!({"seconds": 11 * 86_400}))).await;
    let emulator_now = chrono::DateTime::parse_from_rfc3339(clock["now"].as_str().unwrap()).unwrap().with_timezone(&Utc);
    assert_eq!(app.health(emulator_now).await.status, HealthStatus::Expired);
    let err = app.exchange(&f.pc_scopes()).await.unwrap_err();
    match &err {
        SamError::Core(Error::Sts(sts)) => assert_eq!(sts.primary_code(), Some(700082)),
        other => panic!("expected AADSTS700082, got {other:?}"),
    }
    assert_eq!(store.read("contoso-refresh-token").await.unwrap().unwrap().expose(), stored, "a refused exchange changes nothing");
}

// --- profiles ----------------------------------------------------------------------------------

#[test]
fn profile_repository_create_get_list_update_remove_and_default() {
    let home = tempfile::tempdir().unwrap();
    let repo = ProfileRepository::new(home.path().join("profiles"));
    assert!(repo.list().unwrap().profiles.is_empty(), "a missing directory lists nothing");
    let make = |name: &str| {
        SecureAppProfile::new(
            name,
            SAM_APP,
            TENANT,
            "AzureCloud",
            ProfileCredential::SecretRef { store: StoreRef::Keyring { name: SecureAppProfile::default_app_secret_name(name) } },
            StoreRef::File { directory: None, name: SecureAppProfile::default_refresh_token_name(name), key: FileKeyKind::Passphrase },
        )
        .unwrap()
    };
    repo.create(&make("Contoso")).unwrap();
    repo.create(&make("fabrikam")).unwrap();
    let err = repo.create(&make("contoso")).unwrap_err();
    assert!(matches!(err, SamError::ProfileExists { .. }), "{err:?}");
    assert_eq!(repo.get("CONTOSO").unwrap().name, "Contoso");
    assert!(matches!(repo.get("nobody").unwrap_err(), SamError::ProfileNotFound { .. }));
    assert!(repo.get("../etc").is_err());

    std::fs::write(repo.directory().join("broken.json"), "{not json").unwrap();
    let list = repo.list().unwrap();
    assert_eq!(list.profiles.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["Contoso", "fabrikam"]);
    assert_eq!(list.unreadable.len(), 1);
    assert!(matches!(repo.get("broken").unwrap_err(), SamError::ProfileCorrupt { .. }));

    let mut changed = repo.get("fabrikam").unwrap();
    changed.consented_scopes = vec!["x".into()];
    repo.update(&changed).unwrap();
    assert_eq!(repo.get("fabrikam").unwrap().consented_scopes, ["x"]);
    assert!(matches!(repo.update(&make("ghost")).unwrap_err(), SamError::ProfileNotFound { .. }));
    let modified = repo.modify("fabrikam", |p| p.last_amr = vec!["mfa".into()]).unwrap();
    assert_eq!(modified.last_amr, ["mfa"]);

    assert_eq!(repo.default_name_with(None).unwrap(), None);
    assert!(matches!(repo.resolve_with(None, None).unwrap_err(), SamError::NoDefaultProfile));
    repo.set_default(Some("contoso")).unwrap();
    assert_eq!(repo.default_name_with(None).unwrap().as_deref(), Some("Contoso"));
    assert_eq!(repo.resolve_with(None, None).unwrap().name, "Contoso");
    // PARTNERSECURITY_PROFILE wins for unattended runs.
    assert_eq!(repo.resolve_with(None, Some("fabrikam".into())).unwrap().name, "fabrikam");
    assert!(repo.default_name_with(Some("bad name".into())).is_err());
    assert!(matches!(repo.set_default(Some("ghost")).unwrap_err(), SamError::ProfileNotFound { .. }));
    assert!(repo.remove("contoso").unwrap());
    assert!(!repo.remove("contoso").unwrap());
    assert_eq!(repo.default_name_with(None).unwrap(), None, "removing the default clears it");

    assert_eq!(default_profile_directory_from(Some(home.path().into())).unwrap(), home.path().join("profiles"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(repo.directory().join("fabrikam.json")).unwrap().permissions().mode() & 0o777, 0o600);
    }
}

#[tokio::test]
async fn an_opened_profile_reads_its_app_secret_and_keeps_its_token_in_key_vault_and_nothing_leaks_to_disk() {
    let f = Fixture::start().await;
    let repo = f.repository();
    let profile = f.profile("contoso", StoreRef::KeyVault { vault_url: f.vault_url(), secret_name: "contoso-refresh-token".into() });
    repo.create(&profile).unwrap();
    repo.set_default(Some("contoso")).unwrap();
    let options = OpenOptions { passphrase: Some(Secret::new(PASSPHRASE)), file_store: fast_options(), ..Default::default() };

    // Without the application secret stored, opening says what is missing.
    let err = open_profile(&repo, None, &f.environments, f.http.clone(), options.clone()).await.unwrap_err();
    assert!(err.to_string().contains("no application secret is stored"), "{err}");
    let ProfileCredential::SecretRef { store } = &profile.credential else { unreachable!() };
    open_store(store, &f.environment, f.http.clone(), &options, None).unwrap().write(store.secret_name(), &Secret::new(SAM_SECRET)).await.unwrap();
    // Without the passphrase it cannot be read.
    let no_pass = OpenOptions { passphrase: Some(Secret::new("wrong")), ..options.clone() };
    let err = open_profile(&repo, None, &f.environments, f.http.clone(), no_pass).await.unwrap_err();
    assert!(err.to_string().contains("cannot be decrypted"), "{err}");

    let app = open_profile(&repo, None, &f.environments, f.http.clone(), options.clone()).await.expect("opens");
    assert_eq!(app.health(Utc::now()).await.status, HealthStatus::Expired, "not consented yet");
    // Migrate an old script's refresh token: redeemed once, the rotated one goes to the vault.
    app.import_refresh_token(Secret::new(RT_ADMIN), &f.pc_scopes()).await.expect("import");
    let in_vault = f.key_vault_store(f.app_auth()).read("contoso-refresh-token").await.unwrap().unwrap();
    assert_ne!(in_vault.expose(), RT_ADMIN);
    for _ in 0..3 {
        app.exchange(&f.pc_scopes()).await.expect("exchange");
    }
    let h = app.health(Utc::now()).await;
    assert_eq!(h.status, HealthStatus::Healthy, "{}", h.advice);
    assert_eq!(h.refresh_token_stored, Some(true));
    assert_eq!(repo.get("contoso").unwrap().consented_by.as_deref(), Some("adminagent@contoso-csp.onmicrosoft.com"));

    // A certificate profile needs the certificate from the caller.
    let mut cert = f.profile("cert", StoreRef::Keyring { name: "x".into() });
    cert.credential = ProfileCredential::CertificateThumbprint { thumbprint: "b".repeat(40) };
    repo.create(&cert).unwrap();
    let err = open_profile(&repo, Some("cert"), &f.environments, f.http.clone(), options.clone()).await.unwrap_err();
    assert!(err.to_string().contains("load that certificate"), "{err}");

    // No secret the emulator knows (client secret, every refresh and access token issued, every
    // vault value) appears in any file under the PartnerSecurity home.
    let ledger = f.ledger().await;
    assert!(ledger.iter().any(|v| v == SAM_SECRET));
    let mut files = Vec::new();
    collect_files(f.home.path(), &mut files);
    assert!(files.len() >= 3, "{files:?}");
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for secret in &ledger {
            assert!(!text.contains(secret.as_str()), "a secret leaked into {}", file.display());
        }
        assert!(!text.contains(PASSPHRASE));
    }
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

// --- file format properties --------------------------------------------------------------------

static SAMPLE: std::sync::LazyLock<(Vec<u8>, file_format::Key)> = std::sync::LazyLock::new(|| {
    let salt = [9u8; file_format::SALT_LEN];
    let params = Argon2Params { memory_kib: 64, iterations: 1, parallelism: 1 };
    let key = file_format::derive_key(b"pass", &salt, params).unwrap();
    let file = file_format::seal(&key, file_format::KeyKind::Passphrase, file_format::Aead::Aes256Gcm, params, salt, "rt", b"1.A-some-refresh-token").unwrap();
    (file, key)
});

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic_the_parser(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = file_format::parse(&bytes);
    }

    #[test]
    fn random_bytes_after_a_valid_magic_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut bytes = b"PSSECRET\x01".to_vec();
        bytes.extend_from_slice(&tail);
        if let Ok(envelope) = file_format::parse(&bytes) {
            let key = zeroize::Zeroizing::new([0u8; 32]);
            prop_assert!(file_format::open(&envelope, &key, "rt").is_none());
        }
    }

    #[test]
    fn a_changed_file_never_opens(edits in proptest::collection::vec((any::<usize>(), 1u8..=255), 1..4), cut in proptest::option::of(any::<usize>())) {
        let (original, key) = &*SAMPLE;
        let mut bytes = original.clone();
        for (at, xor) in edits {
            let i = at % bytes.len();
            bytes[i] ^= xor;
        }
        if let Some(c) = cut {
            bytes.truncate(c % (bytes.len() + 1));
        }
        prop_assume!(&bytes != original);
        if let Ok(envelope) = file_format::parse(&bytes) {
            prop_assert!(file_format::open(&envelope, key, "rt").is_none());
        }
    }
}

#[tokio::test]
async fn a_damaged_profile_entry_names_the_profile_and_the_command_that_repairs_it() {
    let f = Fixture::start().await;
    let (repo, _store) = f.consented_file_profile().await;
    let options = OpenOptions { passphrase: Some(Secret::new(PASSPHRASE)), file_store: fast_options(), ..Default::default() };
    let truncate = |name: &str| {
        let path = f.secrets_dir().join(format!("{name}.pssecret"));
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 3]).unwrap();
        path.display().to_string()
    };

    // The refresh token's file, cut short: the exchange and the health check say which profile
    // it belongs to and how to consent again.
    let file = truncate("contoso-refresh-token");
    let app = open_profile(&repo, Some("contoso"), &f.environments, f.http.clone(), options.clone()).await.expect("the application secret is intact");
    let err = app.exchange(&f.pc_scopes()).await.unwrap_err();
    assert_eq!(err.code(), "SecretFileCorrupt", "{err}");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let text = err.to_string();
    for fragment in [file.as_str(), "truncated", "refresh token of the profile 'contoso'", "'Remove-PartnerSecureAppProfile -Name contoso'", "'New-PartnerSecureAppProfile -Name contoso'"] {
        assert!(text.contains(fragment), "{fragment:?} missing: {text}");
    }
    assert_no_panic_message(&text);
    let health = app.health(Utc::now()).await;
    assert_ne!(health.status, HealthStatus::Healthy);
    assert!(health.advice.contains(&file) && health.advice.contains("'New-PartnerSecureAppProfile -Name contoso'"), "{}", health.advice);
    // The session-side view of the same failure (a renewal through the profile) keeps code and text.
    let core_error = Error::from(err);
    assert_eq!(core_error.code().as_deref(), Some("SecretFileCorrupt"));
    assert!(core_error.to_string().contains("profile 'contoso'"), "{core_error}");

    // The application secret's file: opening the profile says to save the secret again.
    let file = truncate("contoso-app-secret");
    let err = open_profile(&repo, Some("contoso"), &f.environments, f.http.clone(), options.clone()).await.expect_err("the application secret is damaged");
    assert_eq!(err.code(), "SecretFileCorrupt", "{err}");
    let text = err.to_string();
    for fragment in [file.as_str(), "application secret of the profile 'contoso'", "'Set-PartnerSecureAppProfile -Name contoso -Credential'"] {
        assert!(text.contains(fragment), "{fragment:?} missing: {text}");
    }
    // Errors that are not about a damaged entry pass unchanged.
    let other = SamError::NoDefaultProfile.in_profile("contoso", ProfileEntry::RefreshToken);
    assert!(matches!(other, SamError::NoDefaultProfile), "{other:?}");
}
