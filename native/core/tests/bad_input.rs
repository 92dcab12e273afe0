//! The bad-input matrix through the Rust API, in one table: every case is something a caller
//! (or a hostile server, or a damaged file) can hand the core. Each must end in a clear error
//! of the expected kind whose message names the input, or (for filter values that try to
//! break out of their OData literal) in a query that simply matches nothing. No case may
//! panic, and after each one the same `PartnerSecurity` must still work: the session the
//! fixture connected stays current and a real sign-in query against the emulator succeeds.
//!
//! `cargo test -p partnersecurity-core --test bad_input -- --nocapture` prints the table.

mod support;

use partnersecurity_core::auth::assertion::CertificateCredential;
use partnersecurity_core::auth::claims::Claims;
use partnersecurity_core::auth::ClientCredential;
use partnersecurity_core::environment::CustomEnvironment;
use partnersecurity_core::sam::error::SamError;
use partnersecurity_core::sam::file_store::{FileKey, FileStore};
use partnersecurity_core::sam::store::SecretStore;
use partnersecurity_core::secret::Secret;
use partnersecurity_core::session::ConnectRequest;
use partnersecurity_core::signins::export::checkpoint_path;
use partnersecurity_core::signins::{ApiVersion, Budget, EventType, ExportFormat, ExportRequest, FetchOptions, Outcome as SignInOutcome, SignInFilter, SignInQuery};
use partnersecurity_core::{AccessTokenRequest, Error, ErrorKind, PartnerSecurity};
use partnersecurity_emulator::config::{EmulatorConfig, ScenarioSource};
use partnersecurity_emulator::server::{RunningEmulator, serve};
use serde_json::{Value, json};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use support::{ADMIN_UPN, REFRESH_TOKEN, REPORTER, REPORTER_SECRET, TENANT, environment, sam};


/// What a case ended in: records matched, or an error as the caller sees it.
type Outcome = Result<u64, Failure>;

#[derive(Debug)]
struct Failure {
    kind: ErrorKind,
    code: String,
    message: String,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure { kind: e.kind(), code: e.code().unwrap_or_default(), message: e.to_string() }
    }
}

impl From<SamError> for Failure {
    fn from(e: SamError) -> Self {
        Failure { kind: e.kind(), code: e.code(), message: e.to_string() }
    }
}

impl From<Arc<Error>> for Failure {
    fn from(e: Arc<Error>) -> Self {
        Failure { kind: e.kind(), code: e.code().unwrap_or_default(), message: e.to_string() }
    }
}

enum Expect {
    /// An error of this kind and code whose message contains every fragment (the input's name).
    Error(ErrorKind, &'static str, &'static [&'static str]),
    /// The query ran and matched nothing (a hostile value stayed inside its literal).
    NothingMatched,
}

struct Fx {
    emulator: RunningEmulator,
    core: PartnerSecurity,
    control: reqwest::Client,
    dir: tempfile::TempDir,
}

impl Fx {
    async fn start() -> Arc<Fx> {
        let emulator = serve(EmulatorConfig::new(ScenarioSource::Json(support::signins_scenario().to_string())).with_tls(true)).await.expect("emulator starts");
        let pem = emulator.certificate_pem.clone().expect("TLS certificate");
        let core = PartnerSecurity::new();
        core.environments().add(environment("Emulator", &emulator.base_url, Some(pem.clone()))).expect("environment");
        // The same endpoints, trusting another CA: the emulator's certificate does not match.
        let stranger = partnersecurity_emulator::tls::generate().expect("another CA").ca_pem;
        core.environments().add(environment("WrongCa", &emulator.base_url, Some(stranger))).expect("environment");
        let control = support::control_client(&pem);
        core.connect("Emulator", sam()).await.expect("connect");
        Arc::new(Fx { emulator, core, control, dir: tempfile::tempdir().expect("temp dir") })
    }

    fn scope(&self, path: &str) -> String {
        format!("{}/{path}", self.emulator.base_url)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    async fn settings(&self, body: Value) {
        support::control(&self.control, &self.emulator.base_url, "POST", "graph/settings", body).await;
    }

    async fn new_token(&self, request: AccessTokenRequest) -> Outcome {
        self.core.new_access_token("Emulator", request).await?;
        Ok(0)
    }

    async fn connect(&self, environment: &str, request: ConnectRequest) -> Outcome {
        self.core.connect(environment, request).await?;
        Ok(0)
    }

    /// Runs a query to the end; the first tenant failure is the outcome.
    async fn query(&self, query: SignInQuery) -> Outcome {
        let logs = self.core.sign_in_logs();
        let id = logs.open(self.core.sign_in_context()?, query)?;
        let mut records = 0;
        loop {
            let batch = logs.next(&id).await?;
            records += batch.records.len() as u64;
            if let Some(e) = batch.failure {
                logs.close(&id);
                return Err(e.into());
            }
            if batch.done {
                return Ok(records);
            }
        }
    }

    async fn export(&self, request: ExportRequest) -> Outcome {
        let logs = self.core.sign_in_logs();
        let id = logs.start_export(self.core.sign_in_context()?, request)?;
        let summary = logs.wait_export(&id).await?.map_err(Failure::from)?;
        match summary.failures.into_iter().next() {
            Some(f) => Err(f.error.into()),
            None => Ok(summary.records),
        }
    }

    /// An export stopped after its first page, leaving its checkpoint: what a killed run leaves.
    async fn interrupted_export(&self, name: &str) -> ExportRequest {
        self.settings(json!({"pageLatencyMs": 150})).await;
        let request = export_request(self.path(name), false);
        let logs = self.core.sign_in_logs();
        let id = logs.start_export(self.core.sign_in_context().expect("context"), request.clone()).expect("export starts");
        while logs.export_progress(&id).expect("progress").pages < 1 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        logs.cancel_export(&id);
        let _ = logs.wait_export(&id).await;
        self.settings(json!({"pageLatencyMs": 0})).await;
        assert!(checkpoint_path(&request.path).exists(), "the interrupted export keeps its checkpoint");
        ExportRequest { resume: true, ..request }
    }

    /// Still usable: the fixture's session is current and a real query returns sign-ins.
    async fn assert_usable(&self, case: &str) {
        let context = self.core.context().unwrap_or_else(|| panic!("{case}: the session is gone"));
        assert_eq!(context.account.tenant, TENANT, "{case}: another session became current");
        let records = self.query(upn(ADMIN_UPN)).await.unwrap_or_else(|e| panic!("{case}: the follow-up query failed: {e:?}"));
        assert!(records > 0, "{case}: the follow-up query found no sign-ins");
    }
}

fn fast() -> FetchOptions {
    FetchOptions { budget: Budget { requests: 1000, window: Duration::from_secs(1) }, windows: 1, ..Default::default() }
}

fn query(filter: SignInFilter) -> SignInQuery {
    SignInQuery { filter, options: fast(), ..Default::default() }
}

fn upn(value: &str) -> SignInQuery {
    query(SignInFilter { user_principal_names: vec![value.into()], ..Default::default() })
}

fn export_request(path: PathBuf, resume: bool) -> ExportRequest {
    let query = SignInQuery { options: FetchOptions { page_size: 100, ..fast() }, ..Default::default() };
    ExportRequest { query, path, format: ExportFormat::Jsonl, resume, force: false }
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A JWT-shaped text with `payload` (unsigned: the core reads claims, the service checks signatures).
fn jwt(payload: &str) -> String {
    format!("{}.{}.c2ln", b64(br#"{"alg":"RS256","typ":"JWT"}"#), b64(payload.as_bytes()))
}

fn access_token(token: String) -> AccessTokenRequest {
    AccessTokenRequest::AccessToken { access_token: Secret::new(token) }
}

fn refresh(application_id: &str, secret: &str, refresh_token: &str, scopes: Vec<String>, tenant: &str) -> AccessTokenRequest {
    AccessTokenRequest::RefreshToken {
        application_id: Some(application_id.into()),
        credential: if secret.is_empty() { ClientCredential::None } else { ClientCredential::Secret(Secret::new(secret)) },
        refresh_token: Secret::new(refresh_token),
        scopes,
        tenant: Some(tenant.into()),
    }
}

fn app_only(application_id: &str, credential: ClientCredential, scopes: Vec<String>, tenant: &str) -> AccessTokenRequest {
    AccessTokenRequest::ServicePrincipal { application_id: application_id.into(), credential, scopes, tenant: tenant.into() }
}

fn secret(value: &str) -> ClientCredential {
    ClientCredential::Secret(Secret::new(value))
}

type Run = Box<dyn Fn(Arc<Fx>) -> Pin<Box<dyn Future<Output = Outcome> + Send>> + Send + Sync>;

struct Case {
    name: &'static str,
    expect: Expect,
    run: Run,
}

fn case<F, Fut>(name: &'static str, expect: Expect, run: F) -> Case
where
    F: Fn(Arc<Fx>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Outcome> + Send + 'static,
{
    Case { name, expect, run: Box::new(move |fx| Box::pin(run(fx))) }
}

fn error(kind: ErrorKind, code: &'static str, names: &'static [&'static str]) -> Expect {
    Expect::Error(kind, code, names)
}

fn invalid(names: &'static [&'static str]) -> Expect {
    Expect::Error(ErrorKind::InvalidInput, "InvalidInput", names)
}

fn filter_case(name: &'static str, expect: Expect, filter: impl Fn() -> SignInFilter + Send + Sync + 'static) -> Case {
    case(name, expect, move |fx| {
        let q = query(filter());
        async move { fx.query(q).await }
    })
}

fn options_case(name: &'static str, expect: Expect, edit: impl Fn(&mut SignInQuery) + Send + Sync + 'static) -> Case {
    case(name, expect, move |fx| {
        let mut q = query(SignInFilter::default());
        edit(&mut q);
        async move { fx.query(q).await }
    })
}

fn environment_case(name: &'static str, expect: Expect, edit: impl Fn(&mut CustomEnvironment) + Send + Sync + 'static) -> Case {
    case(name, expect, move |fx| {
        let mut env = environment("Matrix", "https://login.example.com", None);
        edit(&mut env);
        async move {
            fx.core.environments().add(env)?;
            Ok(0)
        }
    })
}

fn date(y: i32, m: u32, d: u32) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    chrono::Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).single().expect("date")
}

fn cases() -> Vec<Case> {
    let now = chrono::Utc::now();
    let mut cases = vec![
        // --- access tokens (JWTs) handed in by the caller ---
        case("JWT with two parts", invalid(&["'AccessToken'", "JSON Web Token"]), |fx| async move { fx.new_token(access_token("abc.def".into())).await }),
        case("JWT whose payload is not base64", invalid(&["'AccessToken'"]), |fx| async move { fx.new_token(access_token("eyJhbGciOiJub25lIn0.%%%.sig".into())).await }),
        case("JWT whose payload is not JSON", invalid(&["'AccessToken'"]), |fx| async move { fx.new_token(access_token(jwt("not json"))).await }),
        case("JWT whose payload is a JSON array", invalid(&["'AccessToken'"]), |fx| async move { fx.new_token(access_token(jwt("[1,2,3]"))).await }),
        case("JWT with claims of the wrong type", invalid(&["'AccessToken'"]), |fx| async move { fx.new_token(access_token(jwt(r#"{"exp":"tomorrow","tid":42}"#))).await }),
        case("empty access token", invalid(&["'AccessToken'"]), |fx| async move { fx.new_token(access_token(String::new())).await }),
        case("1 MB access token", invalid(&["'AccessToken'"]), |fx| async move { fx.new_token(access_token("A".repeat(1 << 20))).await }),
        case("expired JWT", error(ErrorKind::Authentication, "TokenExpired", &["expired at 1970-01-01"]), |fx| async move {
            fx.new_token(access_token(jwt(&format!(r#"{{"exp":1000,"tid":"{TENANT}"}}"#)))).await
        }),
        case("JWT without an expiry", invalid(&["'AccessToken'", "exp"]), |fx| async move { fx.new_token(access_token(jwt(&format!(r#"{{"tid":"{TENANT}"}}"#)))).await }),
        case("JWT with an absurd expiry", invalid(&["'AccessToken'"]), |fx| async move { fx.new_token(access_token(jwt(r#"{"exp":99999999999999999}"#))).await }),
        case("connect with an expired JWT", error(ErrorKind::Authentication, "TokenExpired", &["expired"]), |fx| async move {
            fx.connect("Emulator", ConnectRequest::AccessToken { access_token: Secret::new(jwt(r#"{"exp":1000}"#)), tenant: None }).await
        }),
        case("connect with a malformed JWT", invalid(&["'AccessToken'"]), |fx| async move {
            fx.connect("Emulator", ConnectRequest::AccessToken { access_token: Secret::new("a.b.c"), tenant: None }).await
        }),
        case("JWT read directly: garbage", error(ErrorKind::InvalidInput, "MalformedToken", &["access token", "JSON Web Token"]), |_| async move {
            Claims::from_jwt("\u{0}\u{1}..", "access token")?;
            Ok(0)
        }),
        // --- application ids, tenants, refresh tokens, secrets, scopes ---
        case("non-GUID application id", invalid(&["'ApplicationId'", "GUID"]), |fx| {
            let s = fx.scope("graph/.default");
            async move { fx.new_token(refresh("not-a-guid", REPORTER_SECRET, REFRESH_TOKEN, vec![s], TENANT)).await }
        }),
        case("empty application id", invalid(&["'ApplicationId'"]), |fx| {
            let s = fx.scope("graph/.default");
            async move { fx.new_token(app_only(" ", secret(REPORTER_SECRET), vec![s], TENANT)).await }
        }),
        case("unknown application (a GUID nobody registered)", error(ErrorKind::Authentication, "AADSTS700016", &["-ApplicationId"]), |fx| {
            let s = fx.scope("graph/.default");
            async move { fx.new_token(app_only("00000000-0000-4000-8000-0000000000aa", secret(REPORTER_SECRET), vec![s], TENANT)).await }
        }),
        case("tenant that climbs out of the URL path", invalid(&["'Tenant'"]), |fx| {
            let s = fx.scope("graph/.default");
            async move { fx.new_token(app_only(REPORTER, secret(REPORTER_SECRET), vec![s], "../common")).await }
        }),
        case("tenant with query characters", invalid(&["'Tenant'"]), |fx| {
            let s = fx.scope("graph/.default");
            async move { fx.new_token(app_only(REPORTER, secret(REPORTER_SECRET), vec![s], "contoso.com?x=1#y")).await }
        }),
        case("tenant of 10,000 characters", invalid(&["'Tenant'"]), |fx| {
            let s = fx.scope("graph/.default");
            async move { fx.new_token(app_only(REPORTER, secret(REPORTER_SECRET), vec![s], &"a".repeat(10_000))).await }
        }),
        case("empty tenant for an application sign-in", invalid(&["'Tenant'"]), |fx| {
            let s = fx.scope("graph/.default");
            async move { fx.new_token(app_only(REPORTER, secret(REPORTER_SECRET), vec![s], "")).await }
        }),
        case("application sign-in to 'organizations'", invalid(&["'Tenant'", "specific tenant"]), |fx| {
            let s = fx.scope("graph/.default");
            async move { fx.new_token(app_only(REPORTER, secret(REPORTER_SECRET), vec![s], "organizations")).await }
        }),
        case("tenant that does not exist", error(ErrorKind::InvalidInput, "AADSTS90002", &["-Tenant"]), |fx| {
            let s = fx.scope("graph/.default");
            async move { fx.new_token(app_only(REPORTER, secret(REPORTER_SECRET), vec![s], "nosuchtenant.onmicrosoft.com")).await }
        }),
        case("empty refresh token", invalid(&["'RefreshToken'"]), |fx| {
            let s = fx.scope("graph/.default");
            async move { fx.new_token(refresh(REPORTER, REPORTER_SECRET, "  ", vec![s], TENANT)).await }
        }),
        case("refresh token that is not one", error(ErrorKind::Authentication, "AADSTS9002313", &["Consent again"]), |fx| {
            let s = fx.scope("graph/.default");
            async move { fx.new_token(refresh(REPORTER, REPORTER_SECRET, "not-a-refresh-token", vec![s], TENANT)).await }
        }),
        case("refresh token of 100 KB", error(ErrorKind::Authentication, "AADSTS9002313", &["Consent again"]), |fx| {
            let s = fx.scope("graph/.default");
            async move { fx.new_token(refresh(REPORTER, REPORTER_SECRET, &"R".repeat(100_000), vec![s], TENANT)).await }
        }),
        case("wrong client secret", error(ErrorKind::Authentication, "AADSTS7000215", &["secret"]), |fx| {
            let s = fx.scope("graph/.default");
            async move { fx.new_token(app_only(REPORTER, secret("wrong-secret-value-0000"), vec![s], TENANT)).await }
        }),
        case("application sign-in without a credential", invalid(&["'Credential'"]), |fx| {
            let s = fx.scope("graph/.default");
            async move { fx.new_token(app_only(REPORTER, ClientCredential::None, vec![s], TENANT)).await }
        }),
        case("certificate whose key is not a key", invalid(&["'CertificateThumbprint'"]), |fx| {
            let s = fx.scope("graph/.default");
            let credential = ClientCredential::Certificate(CertificateCredential { certificate_der: vec![0x30, 0x03, 0x02, 0x01, 0x01], private_key_pem: Secret::new("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n") });
            async move { fx.new_token(app_only(REPORTER, credential, vec![s], TENANT)).await }
        }),
        case("no scopes", invalid(&["'Scopes'"]), |_fx| async move { _fx.new_token(refresh(REPORTER, REPORTER_SECRET, REFRESH_TOKEN, vec![], TENANT)).await }),
        case("scope with white space", invalid(&["'Scopes'", "white space"]), |fx| {
            let s = format!("{} openid", fx.scope("graph/.default"));
            async move { fx.new_token(refresh(REPORTER, REPORTER_SECRET, REFRESH_TOKEN, vec![s], TENANT)).await }
        }),
        case("application sign-in with a delegated scope", invalid(&["'Scopes'", "/.default"]), |fx| {
            let s = fx.scope("graph/User.Read");
            async move { fx.new_token(app_only(REPORTER, secret(REPORTER_SECRET), vec![s], TENANT)).await }
        }),
        case("scope of 100 KB", error(ErrorKind::InvalidInput, "AADSTS70011", &["scope"]), |fx| {
            let s = format!("{}/{}", fx.scope("graph"), "x".repeat(100_000));
            async move { fx.new_token(refresh(REPORTER, REPORTER_SECRET, REFRESH_TOKEN, vec![s], TENANT)).await }
        }),
        // --- environments and endpoints ---
        case("unknown environment", error(ErrorKind::InvalidInput, "UnknownEnvironment", &["'NoSuchCloud'", "Add-PartnerEnvironment"]), |_| async move {
            let core = PartnerSecurity::new();
            core.connect("NoSuchCloud", sam()).await?;
            Ok(0)
        }),
        case("connect to an unknown environment keeps the session", error(ErrorKind::InvalidInput, "UnknownEnvironment", &["'NoSuchCloud'"]), |fx| async move { fx.connect("NoSuchCloud", sam()).await }),
        environment_case("environment without a name", invalid(&["'Name'"]), |e| e.name = String::new()),
        environment_case("environment name with a path separator", invalid(&["'Name'"]), |e| e.name = "../etc".into()),
        environment_case("environment named like a built-in cloud", invalid(&["'Name'", "built-in"]), |e| e.name = "AzureCloud".into()),
        environment_case("plain http endpoint that is not loopback", invalid(&["'ActiveDirectoryAuthority'", "plain http"]), |e| e.active_directory_authority = "http://login.example.com".into()),
        environment_case("plain http Graph endpoint on a private address", invalid(&["'GraphEndpoint'", "plain http"]), |e| e.graph_endpoint = "http://10.0.0.1/graph".into()),
        environment_case("ftp endpoint", invalid(&["'PartnerCenterEndpoint'"]), |e| e.partner_center_endpoint = "ftp://127.0.0.1/pc".into()),
        environment_case("endpoint that is not a URL", invalid(&["'GraphEndpoint'", "not an absolute URL"]), |e| e.graph_endpoint = "graph.microsoft.com".into()),
        environment_case("endpoint with a query string", invalid(&["'PartnerCenterEndpoint'", "query"]), |e| e.partner_center_endpoint = "https://api.partnercenter.microsoft.com/?token=x".into()),
        environment_case("trusted certificate that is not PEM", invalid(&["'TrustedCertificatePath'"]), |e| e.trusted_certificate_pem = Some("hello".into())),
        environment_case("trusted certificate PEM with garbage inside", invalid(&["'TrustedCertificatePath'"]), |e| {
            e.trusted_certificate_pem = Some("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n".into())
        }),
        case("server certificate that does not match the trusted CA", error(ErrorKind::Network, "NetworkError", &["certificate"]), |fx| async move { fx.connect("WrongCa", sam()).await }),
        // --- sign-in filter values ---
        filter_case("quote that would end the UPN literal", Expect::NothingMatched, || SignInFilter { user_principal_names: vec![format!("{ADMIN_UPN}' or userPrincipalName ne '")], ..Default::default() }),
        filter_case("OData operators in a UPN", Expect::NothingMatched, || SignInFilter { user_principal_names: vec!["x') or (1 eq 1".into()], ..Default::default() }),
        filter_case("a lone quote as UPN", Expect::NothingMatched, || SignInFilter { user_principal_names: vec!["'".into()], ..Default::default() }),
        filter_case("query-string characters in a UPN", Expect::NothingMatched, || SignInFilter { user_principal_names: vec!["a%27b&$top=1#".into()], ..Default::default() }),
        filter_case("OData function call in a client app", Expect::NothingMatched, || SignInFilter { client_apps: vec!["Browser') or startswith(userPrincipalName,'a".into()], ..Default::default() }),
        filter_case("empty UPN", invalid(&["'UserPrincipalName'", "empty"]), || SignInFilter { user_principal_names: vec![" ".into()], ..Default::default() }),
        filter_case("UPN with a control character", invalid(&["'UserPrincipalName'", "control"]), || SignInFilter { user_principal_names: vec!["admin\u{0}@x".into()], ..Default::default() }),
        filter_case("UPN of 2,000 characters", invalid(&["'UserPrincipalName'", "1024"]), || SignInFilter { user_principal_names: vec!["u".repeat(2000)], ..Default::default() }),
        filter_case("user id that is not a GUID", invalid(&["'UserId'", "GUID"]), || SignInFilter { user_ids: vec!["admin".into()], ..Default::default() }),
        filter_case("user id with an OData operator", invalid(&["'UserId'"]), || SignInFilter { user_ids: vec!["00000000-0000-0000-0000-000000000000' or 1 eq 1".into()], ..Default::default() }),
        filter_case("application id that is not a GUID", invalid(&["'ApplicationId'", "GUID"]), || SignInFilter { app_ids: vec!["Outlook".into()], ..Default::default() }),
        filter_case("end date before the start date", invalid(&["'EndDate'", "Swap"]), move || SignInFilter { start: Some(now), end: Some(now - chrono::Duration::days(3)), ..Default::default() }),
        filter_case("start date in year 1", invalid(&["'StartDate'", "plausible"]), || SignInFilter { start: Some(date(1, 1, 1)), ..Default::default() }),
        filter_case("end date in year 9999", invalid(&["'EndDate'", "plausible"]), || SignInFilter { end: Some(date(9999, 12, 31)), ..Default::default() }),
        filter_case("success error code with failed-only", invalid(&["'ErrorCode'"]), || SignInFilter { error_codes: vec![0], outcome: SignInOutcome::Failed, ..Default::default() }),
        options_case("event types on v1.0", invalid(&["'NonInteractive'", "beta"]), |q| {
            q.version = ApiVersion::V1;
            q.filter.event_types = vec![EventType::NonInteractive];
        }),
        options_case("page size 0", invalid(&["'PageSize'"]), |q| q.options.page_size = 0),
        options_case("page size 1,001", invalid(&["'PageSize'"]), |q| q.options.page_size = 1001),
        options_case("zero windows", invalid(&["'ThrottleLimit'"]), |q| q.options.windows = 0),
        options_case("throttle budget of 0 requests", invalid(&["'ThrottleBudget'"]), |q| q.options.budget.requests = 0),
        options_case("property list in one value", invalid(&["'Property'"]), |q| q.select = vec!["userId,id".into()]),
        options_case("property with an OData operator", invalid(&["'Property'"]), |q| q.select = vec!["id eq '1'".into()]),
        options_case("empty property", invalid(&["'Property'"]), |q| q.select = vec![String::new()]),
        options_case("tenant in a query that climbs out of the path", invalid(&["'Tenant'"]), |q| q.tenants = vec!["../../common".into()]),
        // --- cursors and exports ---
        case("next page of an unknown cursor", invalid(&["'Id'"]), |fx| async move {
            fx.core.sign_in_logs().next("no-such-cursor").await?;
            Ok(0)
        }),
        case("export into a missing folder", invalid(&["'Path'", "does not exist"]), |fx| {
            let request = export_request(fx.path("missing/out.jsonl"), false);
            async move { fx.export(request).await }
        }),
        case("export path that is a folder", invalid(&["'Path'", "folder"]), |fx| {
            let request = export_request(fx.dir.path().to_owned(), false);
            async move { fx.export(request).await }
        }),
        case("empty export path", invalid(&["'Path'", "empty"]), |fx| async move { fx.export(export_request(PathBuf::new(), false)).await }),
        case("export over a file without -Force", invalid(&["'Path'", "-Force"]), |fx| {
            let path = fx.path("existing.jsonl");
            async move {
                std::fs::write(&path, b"{}\n").expect("write");
                fx.export(export_request(path, false)).await
            }
        }),
        case("resume without a checkpoint", invalid(&["'Path'", "no checkpoint"]), |fx| {
            let path = fx.path("never-started.jsonl");
            async move {
                std::fs::write(&path, b"").expect("write");
                fx.export(export_request(path, true)).await
            }
        }),
        case("resume from a corrupt checkpoint", invalid(&["'Resume'", "cannot be read"]), |fx| async move {
            let request = fx.interrupted_export("corrupt.jsonl").await;
            std::fs::write(checkpoint_path(&request.path), b"{\"version\":1,\"fingerprint\":").expect("write");
            fx.export(request).await
        }),
        case("resume from a checkpoint whose nextLink points at another host", error(ErrorKind::InvalidResponse, "InvalidResponse", &["nextLink", "evil.example"]), |fx| async move {
            let request = fx.interrupted_export("tampered.jsonl").await;
            let cp = checkpoint_path(&request.path);
            let mut checkpoint: Value = serde_json::from_slice(&std::fs::read(&cp).expect("read")).expect("checkpoint JSON");
            let window = &mut checkpoint["tenants"][0]["windows"][0]["window"];
            assert_eq!(window["position"]["state"], "after", "the first window stopped after a page");
            window["position"]["next"] = json!("https://evil.example/graph/beta/auditLogs/signIns?$skiptoken=stolen");
            std::fs::write(&cp, serde_json::to_vec(&checkpoint).expect("JSON")).expect("write");
            fx.export(request).await
        }),
        // --- secret store entries ---
        case("corrupted secret-store entry", error(ErrorKind::InvalidInput, "SecretFileCorrupt", &["corrupt-entry"]), |fx| {
            let dir = fx.path("store-corrupt");
            async move {
                let store = FileStore::new(&dir, FileKey::Passphrase(Secret::new("a passphrase for the matrix")))?;
                store.write("corrupt-entry", &Secret::new("value-0123456789")).await?;
                let file = store.path_of("corrupt-entry")?;
                let mut bytes = std::fs::read(&file).expect("read");
                bytes.truncate(bytes.len() / 3);
                std::fs::write(&file, bytes).expect("write");
                store.read("corrupt-entry").await?;
                Ok(0)
            }
        }),
        case("secret-store entry opened with the wrong passphrase", error(ErrorKind::Authentication, "SecretFileUndecryptable", &["passphrase"]), |fx| {
            let dir = fx.path("store-passphrase");
            async move {
                FileStore::new(&dir, FileKey::Passphrase(Secret::new("the right passphrase")))?.write("entry", &Secret::new("value-0123456789")).await?;
                FileStore::new(&dir, FileKey::Passphrase(Secret::new("a wrong passphrase")))?.read("entry").await?;
                Ok(0)
            }
        }),
        case("secret-store entry name that climbs out of the folder", invalid(&["'SecretName'"]), |fx| {
            let dir = fx.path("store-name");
            async move {
                FileStore::new(&dir, FileKey::Passphrase(Secret::new("a passphrase for the matrix")))?.read("../../etc/passwd").await?;
                Ok(0)
            }
        }),
        case("empty secret-store passphrase", invalid(&["'Passphrase'"]), |fx| {
            let dir = fx.path("store-empty");
            async move {
                FileStore::new(&dir, FileKey::Passphrase(Secret::new("")))?;
                Ok(0)
            }
        }),
    ];
    // A disk that is full: /dev/full answers every write with ENOSPC. (A disk that fills part-way
    // through an export, and the resume after it: tests/export_disk_full.rs.)
    #[cfg(target_os = "linux")]
    cases.push(case("export onto a full disk (a link to /dev/full)", error(ErrorKind::Storage, "StorageError", &["full.csv'", "No space left on device", "free space"]), |fx| {
        let path = fx.path("full.csv");
        async move {
            std::os::unix::fs::symlink("/dev/full", &path).expect("link");
            let outcome = fx.export(ExportRequest { format: ExportFormat::Csv, force: true, ..export_request(path.clone(), false) }).await;
            assert!(std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()), "a file the export did not create stays");
            assert!(!checkpoint_path(&path).exists(), "no checkpoint for an export that never started");
            outcome
        }
    }));
    cases
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_gets_a_clear_error_and_the_session_stays_usable() {
    let fx = Fx::start().await;
    let cases = cases();
    assert!(cases.len() >= 50, "the matrix has {} cases", cases.len());
    let mut problems = Vec::new();
    for case in &cases {
        // Each case runs as its own task, so a panic is caught here and reported by name.
        let outcome = match tokio::spawn((case.run)(fx.clone())).await {
            Ok(outcome) => outcome,
            Err(e) => {
                problems.push(format!("{}: panicked ({e})", case.name));
                continue;
            }
        };
        let verdict = match (&case.expect, &outcome) {
            (Expect::NothingMatched, Ok(0)) => Ok(()),
            (Expect::NothingMatched, other) => Err(format!("expected no match, got {other:?}")),
            (Expect::Error(..), Ok(n)) => Err(format!("expected an error, got success ({n} records)")),
            (Expect::Error(kind, code, names), Err(f)) => {
                let missing: Vec<&&str> = names.iter().filter(|n| !f.message.contains(**n)).collect();
                if f.message.len() > 2000 {
                    Err(format!("the message repeats the input instead of naming it ({} bytes)", f.message.len()))
                } else if f.kind != *kind || f.code != *code || !missing.is_empty() {
                    Err(format!("expected {kind:?}/{code} naming {names:?}, got {:?}/{}: {}", f.kind, f.code, f.message))
                } else {
                    Ok(())
                }
            }
        };
        match verdict {
            Ok(()) => println!("ok   {:<70} {}", case.name, outcome.as_ref().err().map(|f| f.code.as_str()).unwrap_or("no match")),
            Err(why) => problems.push(format!("{}: {why}", case.name)),
        }
        fx.assert_usable(case.name).await;
    }
    println!("{} bad-input cases, {} problems", cases.len(), problems.len());
    assert!(problems.is_empty(), "{} of {} cases:\n{}", problems.len(), cases.len(), problems.join("\n"));
}
