//! The partner security assessment against the in-process emulator (`scenarios/compliance.json`,
//! over TLS): the exact findings of every check for five partner tenants, permission and licence
//! errors as `Error` findings with the fix, the reports written from them, the same findings
//! under a seeded fault mix (issue #4's fault matrix over the assessment) and under Graph's
//! directory throttle, and what the session itself shows (a federated user's token, a SAM
//! profile's refresh-token health), and leftover DAP across Partner Center's customer pages.

mod support;

use partnersecurity_core::PartnerSecurity;
use partnersecurity_core::auth::ClientCredential;
use partnersecurity_core::checks::{self, CheckId, Finding, Options, Status};
use partnersecurity_core::report::Assessment;
use partnersecurity_core::secret::Secret;
use partnersecurity_core::session::ConnectRequest;
use partnersecurity_emulator::config::{EmulatorConfig, ScenarioSource};
use partnersecurity_emulator::server::{RunningEmulator, serve};
use serde_json::Value;

fn tenant_id(t: u8) -> String {
    let c = char::from(b'0' + t);
    format!("{0}{0}{0}{0}{0}{0}{0}{0}-0000-4000-8000-00000000000{0}", c)
}

fn sam_app(t: u8) -> (String, String) {
    (
        format!("5a{t}00000-0000-4000-8000-00000000000{t}"),
        format!("compliance-sam-secret-{t}-NOT-A-REAL-SECRET"),
    )
}

/// The admin's refresh token from tenant `t`'s SAM consent (with MFA).
fn admin_refresh_token(t: u8) -> String {
    format!("1.AcomplianceRefreshToken-{t}-admin-NOT-A-REAL-TOKEN-ffffffffffffffffffffffffffffff")
}

/// One emulator of the compliance scenario (TLS), a core with it as environment "Emulator",
/// and a client for its control plane: what every test here starts from.
struct Fixture {
    emulator: RunningEmulator,
    core: PartnerSecurity,
    control: reqwest::Client,
}

impl Fixture {
    async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// The compliance scenario changed by `edit`.
    async fn start_with(edit: impl FnOnce(&mut Value)) -> Self {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../emulator/scenarios/compliance.json");
        let mut scenario: Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("compliance scenario")).expect("JSON");
        edit(&mut scenario);
        let emulator = serve(EmulatorConfig::new(ScenarioSource::Json(scenario.to_string())).with_tls(true))
            .await
            .expect("emulator starts");
        let pem = emulator.certificate_pem.clone().expect("TLS");
        let core = PartnerSecurity::new();
        core.environments()
            .add(support::environment("Emulator", &emulator.base_url, Some(pem.clone())))
            .expect("environment");
        let control = support::control_client(&pem);
        Self { emulator, core, control }
    }

    /// A fixture connected as tenant `t`'s admin through its SAM app.
    async fn tenant(t: u8) -> Self {
        let f = Self::start().await;
        f.connect(t).await;
        f
    }

    /// Tenant `t`'s SAM app with the admin's refresh token.
    async fn connect(&self, t: u8) {
        self.connect_with(t, &admin_refresh_token(t)).await;
    }

    /// Tenant `t`'s SAM app with `refresh_token`.
    async fn connect_with(&self, t: u8, refresh_token: &str) {
        let (app, secret) = sam_app(t);
        self.core
            .connect(
                "Emulator",
                ConnectRequest::RefreshToken {
                    application_id: app,
                    credential: ClientCredential::Secret(Secret::new(secret)),
                    refresh_token: Secret::new(refresh_token),
                    tenant: Some(tenant_id(t)),
                },
            )
            .await
            .expect("connect");
    }

    /// The chosen checks (all when empty) over the current session.
    async fn assess(&self, checks: Vec<CheckId>) -> Vec<Finding> {
        let ctx = self.core.sign_in_context().expect("connected");
        checks::assess(ctx, Options { checks, ..Default::default() }, |_, _| {})
            .await
            .expect("assessment runs")
    }

    /// `METHOD /_emulator/<path>` with `body`; the answer's JSON.
    async fn control(&self, method: &str, path: &str, body: Value) -> Value {
        support::control(&self.control, &self.emulator.base_url, method, path, body).await
    }

    /// The emulator's request log, which is then cleared.
    async fn take_requests(&self) -> Vec<Value> {
        let log = self.control("GET", "requests", Value::Null).await;
        self.control("DELETE", "requests", Value::Null).await;
        log.as_array().cloned().unwrap_or_default()
    }

    /// (fault kind, requests it hit) from the request log, which is then cleared.
    async fn injected(&self) -> Vec<(String, usize)> {
        let mut kinds: Vec<(String, usize)> = Vec::new();
        for entry in self.take_requests().await {
            let Some(fault) = entry["fault"].as_str() else { continue };
            match kinds.iter_mut().find(|(k, _)| k == fault) {
                Some((_, n)) => *n += 1,
                None => kinds.push((fault.to_owned(), 1)),
            }
        }
        kinds.sort();
        kinds
    }
}

/// `(id, status, subject)` of each finding, in order.
fn summary(findings: &[Finding]) -> Vec<(String, Status, String)> {
    findings
        .iter()
        .map(|f| (f.id.clone(), f.status, f.subject.clone()))
        .collect()
}

fn row(id: &str, status: Status, subject: &str) -> (String, Status, String) {
    (id.to_owned(), status, subject.to_owned())
}

use Status::{Error, Fail, NotApplicable as NA, Pass, Warn};

/// Each partner tenant's initial domain, tenant 1 first.
const DOMAINS: [&str; 5] = [
    "northwind-csp.onmicrosoft.com",
    "adatum-csp.onmicrosoft.com",
    "tailspin-csp.onmicrosoft.com",
    "wingtip-csp.onmicrosoft.com",
    "litware-csp.onmicrosoft.com",
];

/// `(id, status, subject)` rows; in a subject `{d}` stands for the tenant's domain and `{t}`
/// for its id.
type Rows = &'static [(&'static str, Status, &'static str)];

/// What every tenant of the scenario must produce, check by check (tenant 1 first).
const EXPECTED: [Rows; 5] = [
    // 1: fully compliant
    &[
        ("MfaCoverage.Covered", Pass, "admin@{d}"),
        ("MfaCoverage.Covered", Pass, "agent@{d}"),
        ("MfaCoverage.Covered", Pass, "auditor_fabrikam.example#EXT#@{d}"),
        ("MfaCoverage.BreakGlassAccount", Pass, "breakglass01@{d}"),
        ("SignInEvidence.NoSingleFactorSignIns", Pass, "{t}"),
        ("MfaConfiguration.Consistent", Pass, "{t}"),
        ("LegacyAuthentication.BlockedByConditionalAccess", Pass, "Block legacy authentication"),
        ("SecureApplicationModel.TokenHasMfa", Pass, "admin@{d}"),
        ("SecureApplicationModel.RefreshToken", Pass, "admin@{d}"),
        ("SecureApplicationModel.NoNonMfaPrincipals", Pass, "{t}"),
        ("SecureApplicationModel.AppMfaAdoption", Pass, "Partner Security Assessment (SAM)"),
        ("AdminAgents.P2Licence", Pass, "{t}"),
        ("AdminAgents.EligiblePrivilegedRole", Pass, "admin@{d} (Global Administrator)"),
        ("AdminAgents.EligiblePrivilegedRole", Pass, "agent@{d} (Helpdesk Administrator)"),
        ("GdapLeastPrivilege.Relationship", Pass, "Contoso helpdesk (Contoso Inc)"),
        ("FraudNotifications.ResolvedInTime", Pass, "2a7064fb-1e33-4007-974e-352cb3f2c801_2edeb5b1-766f-4209-9271-3ddf27755a01 (Contoso Inc)"),
        ("SecurityScore.Unavailable", NA, "{t}"),
        ("MfaReadiness.Ready", Pass, "{t}"),
        ("FederatedMfa.NoFederatedDomains", NA, "{t}"),
    ],
    // 2: security defaults only
    &[
        ("MfaCoverage.DataUnavailable", Error, "Conditional Access policies"),
        ("MfaCoverage.DataUnavailable", Error, "authentication method registration details"),
        ("MfaCoverage.Covered", Pass, "admin@{d}"),
        ("MfaCoverage.Covered", Pass, "sales@{d}"),
        ("MfaCoverage.Covered", Pass, "support@{d}"),
        ("MfaCoverage.DirectorySyncAccount", NA, "Sync_SRV01_4f2a1b3c9d8e@{d}"),
        ("SignInEvidence.DataUnavailable", Error, "sign-in logs"),
        ("MfaConfiguration.PerUserMfaInUse", Warn, "{t}"),
        ("LegacyAuthentication.BlockedBySecurityDefaults", Pass, "{t}"),
        ("SecureApplicationModel.TokenHasMfa", Pass, "admin@{d}"),
        ("SecureApplicationModel.RefreshToken", Pass, "admin@{d}"),
        ("SecureApplicationModel.NoNonMfaPrincipals", Pass, "{t}"),
        ("SecureApplicationModel.AppMfaAdoption", NA, "{t}"),
        ("AdminAgents.NoAdminAgents", NA, "{t}"),
        ("GdapLeastPrivilege.NoRelationships", NA, "{t}"),
        ("FraudNotifications.NoFraudEvents", Pass, "{t}"),
        ("SecurityScore.Unavailable", NA, "{t}"),
        ("MfaReadiness.DataUnavailable", Error, "sign-in logs"),
        ("MfaReadiness.DataUnavailable", Error, "authentication method registration details"),
        ("FederatedMfa.NoFederatedDomains", NA, "{t}"),
    ],
    // 3: Conditional Access with gaps and exclusions
    &[
        ("MfaCoverage.Covered", Pass, "admin@{d}"),
        ("MfaCoverage.Covered", Pass, "staff@{d}"),
        ("MfaCoverage.NotCovered", Fail, "finance@{d}"),
        ("MfaCoverage.NotCovered", Fail, "contractor@{d}"),
        ("MfaCoverage.NotCovered", Fail, "partner.guest_litware.example#EXT#@{d}"),
        ("MfaCoverage.NotRegistered", Warn, "newhire@{d}"),
        ("MfaCoverage.Covered", Pass, "fedworker@tailspin-fed.example"),
        ("SignInEvidence.LegacyProtocolSignIn", Fail, "staff@{d} (IMAP4)"),
        ("SignInEvidence.SingleFactorSignIn", Fail, "contractor@{d} (Microsoft Azure PowerShell)"),
        ("SignInEvidence.CoveredButSingleFactor", Fail, "fedworker@tailspin-fed.example (Azure Portal)"),
        ("SignInEvidence.SingleFactorSignIn", Fail, "finance@{d} (Azure Portal)"),
        ("SignInEvidence.CoveredButSingleFactor", Fail, "staff@{d} (Office 365 Exchange Online)"),
        ("MfaConfiguration.ReportOnlyPolicy", Warn, "MFA for guests (report-only)"),
        ("LegacyAuthentication.NotBlocked", Fail, "{t}"),
        ("SecureApplicationModel.TokenHasMfa", Pass, "admin@{d}"),
        ("SecureApplicationModel.RefreshToken", Pass, "admin@{d}"),
        ("SecureApplicationModel.NoNonMfaPrincipals", Pass, "{t}"),
        ("SecureApplicationModel.AppMfaAdoption", NA, "{t}"),
        ("AdminAgents.P2Licence", Fail, "admin@{d}"),
        ("AdminAgents.PermanentPrivilegedRole", Fail, "admin@{d} (Global Administrator)"),
        ("AdminAgents.DataUnavailable", Error, "PIM role eligibility schedules"),
        ("GdapLeastPrivilege.NoRelationships", NA, "{t}"),
        ("GdapLeastPrivilege.LeftoverDap", Warn, "AdminAgents"),
        ("FraudNotifications.NoFraudEvents", Pass, "{t}"),
        ("SecurityScore.Unavailable", NA, "{t}"),
        ("MfaReadiness.LegacyClient", Warn, "IMAP4"),
        ("MfaReadiness.OldOfficeClient", Warn, "newhire@{d}"),
        ("MfaReadiness.UserCredentialAutomation", Warn, "contractor@{d}"),
        ("MfaReadiness.NoRegisteredMethod", Fail, "contractor@{d}"),
        ("MfaReadiness.NoRegisteredMethod", Fail, "newhire@{d}"),
        ("FederatedMfa.MfaNotVisible", Fail, "tailspin-fed.example"),
    ],
    // 4: no Entra ID P1
    &[
        ("MfaCoverage.DataUnavailable", Error, "Conditional Access policies"),
        ("MfaCoverage.DataUnavailable", Error, "authentication method registration details"),
        ("MfaCoverage.Covered", Pass, "admin@{d}"),
        ("MfaCoverage.NotCovered", Fail, "billing@{d}"),
        ("SignInEvidence.DataUnavailable", Error, "sign-in logs"),
        ("MfaConfiguration.NoTenantWideMfa", Fail, "{t}"),
        ("MfaConfiguration.PerUserMfaInUse", Warn, "{t}"),
        ("LegacyAuthentication.NotBlocked", Fail, "{t}"),
        ("SecureApplicationModel.TokenHasMfa", Pass, "admin@{d}"),
        ("SecureApplicationModel.RefreshToken", Pass, "admin@{d}"),
        ("SecureApplicationModel.NonMfaPrincipal", Fail, "billing@{d}"),
        ("SecureApplicationModel.AppMfaAdoption", Fail, "Billing integration"),
        ("AdminAgents.NoAdminAgents", NA, "{t}"),
        ("GdapLeastPrivilege.NoRelationships", NA, "{t}"),
        ("FraudNotifications.NoFraudEvents", Pass, "{t}"),
        ("SecurityScore.Unavailable", NA, "{t}"),
        ("MfaReadiness.DataUnavailable", Error, "sign-in logs"),
        ("MfaReadiness.DataUnavailable", Error, "authentication method registration details"),
        ("FederatedMfa.NoFederatedDomains", NA, "{t}"),
    ],
    // 5: messy GDAP and fraud events
    &[
        ("MfaCoverage.Covered", Pass, "admin@{d}"),
        ("MfaCoverage.Covered", Pass, "agent1@{d}"),
        ("MfaCoverage.NotCovered", Fail, "agent2@{d}"),
        ("SignInEvidence.SingleFactorSignIn", Fail, "agent2@{d} (Azure Portal)"),
        ("MfaConfiguration.Consistent", Pass, "{t}"),
        ("LegacyAuthentication.BlockedByConditionalAccess", Pass, "Block legacy authentication"),
        ("SecureApplicationModel.TokenHasMfa", Pass, "admin@{d}"),
        ("SecureApplicationModel.RefreshToken", Pass, "admin@{d}"),
        ("SecureApplicationModel.NoNonMfaPrincipals", Pass, "{t}"),
        ("SecureApplicationModel.AppMfaAdoption", NA, "{t}"),
        ("AdminAgents.P2Licence", Fail, "agent2@{d}"),
        ("AdminAgents.PermanentPrivilegedRole", Fail, "agent1@{d} (Exchange Administrator)"),
        ("AdminAgents.EligiblePrivilegedRole", Pass, "agent2@{d} (Helpdesk Administrator)"),
        ("GdapLeastPrivilege.GlobalAdministrator", Fail, "Contoso full admin (Contoso Inc)"),
        ("GdapLeastPrivilege.ExpiringSoon", Warn, "Fabrikam helpdesk (Fabrikam Ltd)"),
        ("GdapLeastPrivilege.GroupMemberWithoutMfa", Fail, "agent2@{d} via GDAP Helpdesk"),
        ("GdapLeastPrivilege.Expired", Warn, "Tailspin legacy (Tailspin Toys)"),
        ("GdapLeastPrivilege.Relationship", Pass, "Woodgrove readers (Woodgrove Bank)"),
        ("GdapLeastPrivilege.DapCustomer", Fail, "Tailspin Toys (tailspintoys.onmicrosoft.com)"),
        ("GdapLeastPrivilege.DapCustomer", Fail, "Adventure Works (adventureworks.onmicrosoft.com)"),
        ("GdapLeastPrivilege.LeftoverDap", Warn, "AdminAgents"),
        ("FraudNotifications.OpenEvent", Fail, "5e000001-1e33-4007-974e-352cb3f2c801_2edeb5b1-766f-4209-9271-3ddf27755a01 (Contoso Inc)"),
        ("FraudNotifications.SlowResponse", Warn, "5e000002-1e33-4007-974e-352cb3f2c802_2edeb5b1-766f-4209-9271-3ddf27755a02 (Fabrikam Ltd)"),
        ("FraudNotifications.ResolvedInTime", Pass, "5e000003-1e33-4007-974e-352cb3f2c803_2edeb5b1-766f-4209-9271-3ddf27755a03 (Woodgrove Bank)"),
        ("FraudNotifications.OpenEvent", Fail, "5e000004-1e33-4007-974e-352cb3f2c804_2edeb5b1-766f-4209-9271-3ddf27755a04 (Tailspin Toys)"),
        ("SecurityScore.Unavailable", NA, "{t}"),
        ("MfaReadiness.Ready", Pass, "{t}"),
        ("FederatedMfa.NoFederatedDomains", NA, "{t}"),
    ],
];

/// Tenant `t`'s expected rows with its domain and id filled in.
fn expected(t: u8) -> Vec<(String, Status, String)> {
    let (domain, tid) = (DOMAINS[usize::from(t) - 1], tenant_id(t));
    EXPECTED[usize::from(t) - 1]
        .iter()
        .map(|(id, status, subject)| {
            row(id, *status, &subject.replace("{d}", domain).replace("{t}", &tid))
        })
        .collect()
}

#[tokio::test]
async fn every_check_produces_the_exact_findings_for_five_partner_tenants() {
    let fx = Fixture::start().await;
    for t in 1..=5u8 {
        fx.connect(t).await;
        let findings = fx.assess(Vec::new()).await;
        assert_eq!(summary(&findings), expected(t), "tenant {t}");
        for finding in findings.iter().filter(|f| f.status != Pass) {
            let id = &finding.id;
            if finding.status != NA {
                assert!(!finding.remediation.is_empty(), "tenant {t}: {id} has no remediation");
            }
            assert!(!finding.evidence.is_empty(), "tenant {t}: {id} has no evidence");
        }
    }
}

#[tokio::test]
async fn a_federated_session_whose_token_shows_fed_without_mfa_fails_check_11_with_the_token_as_evidence() {
    let fx = Fixture::start().await;
    // Tenant 3's federated user consented after MFA at its IdP, which sends no MFA claim.
    fx.connect_with(3, "1.AcomplianceRefreshToken-3-fedworker-NOT-A-REAL-TOKEN-ffffffffffffffffffffffff").await;
    let findings = fx.assess(vec![CheckId::SecureApplicationModel, CheckId::FederatedMfa]).await;
    let user = "fedworker@tailspin-fed.example";
    let rows = summary(&findings);
    assert!(rows.contains(&row("SecureApplicationModel.TokenWithoutMfa", Fail, user)), "{rows:#?}");
    let federated: Vec<_> = rows.iter().filter(|r| r.0.starts_with("FederatedMfa.")).cloned().collect();
    assert_eq!(
        federated,
        vec![
            row("FederatedMfa.TokenWithoutMfa", Fail, user),
            row("FederatedMfa.MfaNotVisible", Fail, "tailspin-fed.example"),
        ]
    );
    let token = &findings.iter().find(|f| f.id == "FederatedMfa.TokenWithoutMfa").unwrap();
    assert!(token.evidence.contains("amr [fed]") && token.remediation.contains("multipleauthn"), "{token:#?}");
    let domain = &findings.iter().find(|f| f.id == "FederatedMfa.MfaNotVisible").unwrap();
    assert!(
        domain.evidence.contains(&format!("{user} (1)"))
            && domain.evidence.contains("Token issuer of those sign-ins: ADFederationServices (1)"),
        "{domain:#?}"
    );
    // A managed-domain session (tenant 3's admin): the token says nothing about federation.
    fx.connect(3).await;
    let findings = fx.assess(vec![CheckId::FederatedMfa]).await;
    assert_eq!(summary(&findings), vec![row("FederatedMfa.MfaNotVisible", Fail, "tailspin-fed.example")]);
}

#[tokio::test]
async fn on_a_sam_profile_check_5_reports_the_profile_refresh_token_health() {
    use partnersecurity_core::sam::{
        FileKeyKind, MemoryStore, ProfileCredential, SecretStore, SecureApp, SecureAppProfile,
        StoreRef,
    };
    use std::sync::Arc;
    let fx = Fixture::start().await;
    let environment = fx.core.environments().get("Emulator").expect("environment");
    let (app_id, secret) = sam_app(5);
    let file = |name: &str| StoreRef::File {
        directory: None,
        name: name.into(),
        key: FileKeyKind::Passphrase,
    };
    let profile = SecureAppProfile::new(
        "litware",
        &app_id,
        &tenant_id(5),
        "Emulator",
        ProfileCredential::SecretRef { store: file("litware-app-secret") },
        file("litware-refresh-token"),
    )
    .expect("profile");
    let store = Arc::new(MemoryStore::new());
    store.write("litware-refresh-token", &Secret::new(admin_refresh_token(5))).await.unwrap();
    let http = Arc::new(partnersecurity_core::http::HttpClients::new());
    let app = Arc::new(SecureApp::new(
        profile,
        environment.clone(),
        http,
        ClientCredential::Secret(Secret::new(secret)),
        store.clone(),
    ));
    let scope = partnersecurity_core::session::partner_center_scope(&environment, false);
    let first = app.exchange(std::slice::from_ref(&scope)).await.expect("exchange");
    fx.core
        .connect("Emulator", ConnectRequest::Profile { app, response: first, tenant: tenant_id(5), scope })
        .await
        .expect("connect through the profile");

    // The same findings as over a plain refresh token; the RefreshToken one is the profile's.
    let findings = fx.assess(Vec::new()).await;
    assert_eq!(summary(&findings), expected(5));
    let health = findings.iter().find(|f| f.id == "SecureApplicationModel.RefreshToken").unwrap();
    for part in [
        "profile 'litware'",
        "Last exchange ",
        "(0 day(s) ago)",
        "of Entra ID's 90 days left",
        "Last token's amr [pwd, mfa]",
        "Health: Healthy",
    ] {
        assert!(health.evidence.contains(part), "{part}: {health:#?}");
    }

    // The stored token is gone (someone removed it): the session still has its access tokens,
    // but the next renewal would fail, and the check says so.
    store.delete("litware-refresh-token").await.unwrap();
    let findings = fx.assess(vec![CheckId::SecureApplicationModel]).await;
    let health = findings.iter().find(|f| f.id == "SecureApplicationModel.RefreshToken").unwrap();
    assert_eq!(health.status, Fail, "{health:#?}");
    assert!(
        health.evidence.contains("Health: Expired. No refresh token is stored")
            && health.remediation.contains("Test-PartnerSecureAppProfile -Name litware"),
        "{health:#?}"
    );
}

#[tokio::test]
async fn leftover_dap_comes_from_every_page_of_partner_center_customers() {
    // 1,200 more customers (three pages of 500): DAP still on for one on each page.
    let fx = Fixture::start_with(|v| {
        let customers = v["tenants"][4]["compliance"]["customers"].as_array_mut().unwrap();
        for i in 0..1200u32 {
            customers.push(serde_json::json!({
                "tenantId": format!("c0000000-0000-4000-8000-{i:012}"),
                "companyName": format!("Customer {i:04}"),
                "allowDelegatedAccess": i == 10 || i == 700 || i == 1150,
            }));
        }
    })
    .await;
    fx.connect(5).await;
    let findings = fx.assess(vec![CheckId::GdapLeastPrivilege]).await;
    let dap: Vec<String> = findings
        .iter()
        .filter(|f| f.id == "GdapLeastPrivilege.DapCustomer")
        .map(|f| f.subject.clone())
        .collect();
    assert_eq!(
        dap,
        [
            "Tailspin Toys (tailspintoys.onmicrosoft.com)",
            "Adventure Works (adventureworks.onmicrosoft.com)",
            "Customer 0010 (customer0010.onmicrosoft.com)",
            "Customer 0700 (customer0700.onmicrosoft.com)",
            "Customer 1150 (customer1150.onmicrosoft.com)",
        ]
    );
    let leftover = findings.iter().find(|f| f.id == "GdapLeastPrivilege.LeftoverDap").unwrap();
    assert!(leftover.evidence.contains("(Partner Center lists 5)"), "{leftover:#?}");
    let customer = findings.iter().find(|f| f.id == "GdapLeastPrivilege.DapCustomer").unwrap();
    assert!(
        customer.evidence.contains("allowDelegatedAccess true")
            && customer.remediation.contains("AllowDelegatedAccess\": false"),
        "{customer:#?}"
    );
}

#[tokio::test]
async fn licence_errors_are_error_findings_that_name_the_licence() {
    let fx = Fixture::tenant(4).await;
    let findings = fx.assess(vec![CheckId::MfaCoverage, CheckId::SignInEvidence]).await;
    let errors: Vec<&Finding> = findings.iter().filter(|f| f.status == Error).collect();
    assert_eq!(errors.len(), 3, "{errors:#?}");
    for e in errors {
        assert!(e.remediation.contains("Entra ID P1"), "{e:#?}");
        assert!(
            e.evidence
                .contains("Authentication_RequestFromNonPremiumTenantOrB2CTenant"),
            "{e:#?}"
        );
    }
    fx.connect(3).await;
    let findings = fx.assess(vec![CheckId::AdminAgents]).await;
    let pim = findings
        .iter()
        .find(|f| f.status == Error)
        .expect("PIM error finding");
    assert!(
        pim.remediation.contains("Entra ID P2")
            && pim.evidence.contains("AadPremiumLicenseRequired"),
        "{pim:#?}"
    );
}

#[tokio::test]
async fn missing_permissions_are_error_findings_that_say_what_to_grant_never_passes() {
    let fx = Fixture::start().await;
    // An app that may only read users, signed in as itself (app-only).
    fx.core.connect(
        "Emulator",
        ConnectRequest::ServicePrincipal {
            application_id: "5c100000-0000-4000-8000-000000000001".into(),
            credential: ClientCredential::Secret(Secret::new(
                "compliance-limited-secret-1-NOT-A-REAL-SECRET",
            )),
            tenant: tenant_id(1),
        },
    )
    .await
    .expect("service principal");
    let findings = fx.assess(Vec::new()).await;
    let grant = |check: CheckId, permission: &str| {
        let f = findings
            .iter()
            .find(|f| f.check == check && f.status == Error)
            .unwrap_or_else(|| panic!("{check:?}: no Error finding in {findings:#?}"));
        assert!(
            f.remediation.contains(permission)
                && f.evidence.contains("HTTP 403")
                && f.evidence.contains(permission),
            "{check:?}: {f:#?}"
        );
    };
    grant(CheckId::MfaCoverage, "Policy.Read.All");
    let ca = findings
        .iter()
        .find(|f| f.check == CheckId::MfaCoverage && f.status == Error)
        .expect("coverage error");
    assert!(
        ca.evidence
            .contains("Authentication_MSGraphPermissionMissing"),
        "Graph's own code is kept: {ca:#?}"
    );
    grant(CheckId::SignInEvidence, "AuditLog.Read.All");
    grant(CheckId::MfaConfiguration, "Policy.Read.All");
    grant(CheckId::LegacyAuthentication, "Policy.Read.All");
    grant(CheckId::AdminAgents, "GroupMember.Read.All");
    grant(
        CheckId::GdapLeastPrivilege,
        "DelegatedAdminRelationship.Read.All",
    );
    grant(CheckId::FederatedMfa, "Domain.Read.All");
    // Partner Center's App+User-only reports refuse an app-only session, with the way out.
    for check in [CheckId::FraudNotifications, CheckId::SecureApplicationModel] {
        let f = findings
            .iter()
            .find(|f| f.check == check && f.status == Error)
            .unwrap_or_else(|| panic!("{check:?}"));
        assert!(f.remediation.contains("-RefreshToken"), "{f:#?}");
    }
    // Without the data nothing passes except what needs none (the session itself).
    let passes: Vec<&str> = findings
        .iter()
        .filter(|f| f.status == Pass)
        .map(|f| f.id.as_str())
        .collect();
    assert!(passes.is_empty(), "{passes:?}");
}

#[tokio::test]
async fn reports_are_written_and_agree_with_the_findings() {
    let fx = Fixture::tenant(5).await;
    let findings = fx.assess(Vec::new()).await;
    let assessment = Assessment {
        tenant: tenant_id(5),
        generated_at: chrono::Utc::now(),
        checks: CheckId::ALL.to_vec(),
        findings: findings.clone(),
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let written = assessment
        .write(dir.path(), "assessment")
        .expect("reports written");
    assert_eq!(written.len(), 3);
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("assessment.json")).unwrap())
            .unwrap();
    assert_eq!(
        json["findings"].as_array().map(Vec::len),
        Some(findings.len())
    );
    let fails = findings.iter().filter(|f| f.status == Fail).count();
    assert_eq!(json["summary"]["Fail"].as_u64(), Some(fails as u64));
    let csv = std::fs::read_to_string(dir.path().join("assessment.csv")).unwrap();
    assert_eq!(csv.lines().count(), findings.len() + 1);
    let html = std::fs::read_to_string(dir.path().join("assessment.html")).unwrap();
    assert!(
        html.contains(&format!(r#"id="count-Fail">{fails}<"#)),
        "the HTML summary shows {fails} failures"
    );
}

/// Every fault a compliance read may meet; the 429s with and without `Retry-After`.
const FAULT_MIX: [&str; 9] = [
    "http429",
    "http429RetryAfter",
    "http500",
    "http502",
    "http503",
    "http504",
    "reset",
    "truncated",
    "malformedJson",
];


#[tokio::test]
async fn transient_faults_change_no_finding_and_endless_ones_are_errors_never_passes() {
    let fx = Fixture::tenant(5).await;
    let clean = fx.assess(Vec::new()).await;
    assert_eq!(summary(&clean), expected(5));
    fx.injected().await;

    // Transient: the retries absorb them; the findings are the fault-free run's, whole.
    let spec = serde_json::json!({"seed": 7, "rate": 0.15, "kinds": FAULT_MIX});
    fx.control("POST", "faults", spec).await;
    let faulted = fx.assess(Vec::new()).await;
    fx.control("POST", "faults", Value::Null).await;
    let hits = fx.injected().await;
    assert_eq!(faulted, clean, "faults changed the findings ({hits:?})");
    let total: usize = hits.iter().map(|(_, n)| n).sum();
    assert!(hits.len() >= 5 && total >= 8, "too few faults to prove anything: {hits:?}");
    println!("assessment under a fault mix: {total} faults survived ({hits:?}); {} findings, none lost, changed or repeated", clean.len());

    // Endless: every read's attempts run out. Each check says why; none passes.
    let spec = serde_json::json!({"seed": 8, "rate": 1.0, "kinds": ["http503", "http429", "reset", "malformedJson"]});
    fx.control("POST", "faults", spec).await;
    let failing = fx.assess(Vec::new()).await;
    fx.control("POST", "faults", Value::Null).await;
    // Only what judges the session's own token (never faulted) may still pass.
    let session = ["SecureApplicationModel.TokenHasMfa", "SecureApplicationModel.RefreshToken"];
    let passes: Vec<&str> = failing.iter().filter(|f| f.status == Pass && !session.contains(&f.id.as_str())).map(|f| f.id.as_str()).collect();
    assert!(passes.is_empty(), "a pass without data: {passes:?}");
    for check in CheckId::ALL {
        let errors: Vec<&Finding> = failing.iter().filter(|f| f.check == check && f.status == Error).collect();
        assert!(!errors.is_empty(), "{check:?} has no Error finding: {failing:#?}");
        for e in errors {
            assert!(!e.evidence.is_empty() && e.evidence.len() < 2000, "{e:#?}");
            assert!(e.remediation.contains("run the assessment again later"), "{e:#?}");
        }
    }
    println!("assessment with faults that never stop: {} Error findings, no pass but the session's own token checks", failing.iter().filter(|f| f.status == Error).count());
}


/// A log entry's arrival time on the emulator clock.
fn arrival(entry: &Value) -> chrono::DateTime<chrono::Utc> {
    entry["time"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_else(|| panic!("no time in {entry}"))
}

#[tokio::test]
async fn throttled_directory_reads_wait_as_graph_asks_and_change_no_finding() {
    let fx = Fixture::start().await;
    // Three directory reads per second per (tenant, app): every assessment runs into it.
    let budget = serde_json::json!({"directoryThrottle": {"requests": 3, "windowSeconds": 1}});
    fx.control("POST", "graph/settings", budget).await;
    for t in [3u8, 5] {
        fx.connect(t).await;
        fx.take_requests().await;
        let findings = fx.assess(Vec::new()).await;
        assert_eq!(summary(&findings), expected(t), "tenant {t} under throttling");

        let log = fx.take_requests().await;
        let throttled: Vec<&Value> = log.iter().filter(|e| e["status"] == 429).collect();
        assert!(throttled.len() >= 4, "tenant {t}: too few 429s to prove anything ({})", throttled.len());
        for e in &throttled {
            let wait = e["retryAfter"].as_i64().unwrap_or_else(|| panic!("429 without Retry-After: {e}"));
            // The same read again (every resource is read once per assessment): not before
            // Graph said, and then admitted or throttled again, never given up.
            let again = log
                .iter()
                .find(|n| n["seq"].as_u64() > e["seq"].as_u64() && n["path"] == e["path"])
                .unwrap_or_else(|| panic!("tenant {t}: {} was not retried", e["path"]));
            let waited = arrival(again) - arrival(e);
            assert!(
                waited >= chrono::Duration::seconds(wait),
                "tenant {t}: {} retried after {waited} though Graph asked for {wait} s",
                e["path"]
            );
        }
        println!("tenant {t}: {} directory reads throttled (429 + Retry-After), each retried after the wait; findings exact", throttled.len());
    }
}

#[tokio::test]
async fn a_throttle_longer_than_the_client_waits_is_an_error_finding_saying_to_run_again() {
    let fx = Fixture::tenant(5).await;
    // One read an hour: the first read gets through, every later one is told to wait ~3600 s.
    let budget = serde_json::json!({"directoryThrottle": {"requests": 1, "windowSeconds": 3600}});
    fx.control("POST", "graph/settings", budget).await;
    let findings = fx.assess(Vec::new()).await;
    let graph_checks = [
        CheckId::MfaCoverage,
        CheckId::MfaConfiguration,
        CheckId::LegacyAuthentication,
        CheckId::AdminAgents,
        CheckId::GdapLeastPrivilege,
        CheckId::MfaReadiness,
        CheckId::FederatedMfa,
    ];
    for check in graph_checks {
        let mine: Vec<&Finding> = findings.iter().filter(|f| f.check == check).collect();
        assert!(mine.iter().all(|f| f.status != Pass), "{check:?} passed without data: {mine:#?}");
        let error = mine
            .iter()
            .find(|f| f.status == Error)
            .unwrap_or_else(|| panic!("{check:?} has no Error finding: {mine:#?}"));
        assert!(
            error.evidence.contains("HTTP 429")
                && error.evidence.contains("throttling")
                && error.evidence.contains("asked to wait"),
            "{error:#?}"
        );
        assert!(error.remediation.contains("run the assessment again later"), "{error:#?}");
    }
}
