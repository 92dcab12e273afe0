//! The partner security assessment against the in-process emulator (`scenarios/compliance.json`,
//! over TLS): the exact findings of every check for five partner tenants, permission and licence
//! errors as `Error` findings with the fix, the reports written from them, and the same
//! findings under a seeded fault mix (issue #4's fault matrix over the assessment).

mod support;

use partnersecurity_core::PartnerSecurity;
use partnersecurity_core::auth::ClientCredential;
use partnersecurity_core::checks::{self, CheckId, Finding, Options, Status};
use partnersecurity_core::environment::CustomEnvironment;
use partnersecurity_core::report::Assessment;
use partnersecurity_core::secret::Secret;
use partnersecurity_core::session::ConnectRequest;
use partnersecurity_emulator::config::{EmulatorConfig, ScenarioSource};
use partnersecurity_emulator::server::{RunningEmulator, serve};

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

async fn emulator() -> (RunningEmulator, PartnerSecurity) {
    emulator_with(|_| {}).await
}

/// The compliance scenario changed by `edit`.
async fn emulator_with(edit: impl FnOnce(&mut serde_json::Value)) -> (RunningEmulator, PartnerSecurity) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../emulator/scenarios/compliance.json"
    );
    let mut scenario: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("compliance scenario")).expect("JSON");
    edit(&mut scenario);
    let emulator = serve(EmulatorConfig::new(ScenarioSource::Json(scenario.to_string())).with_tls(true))
        .await
        .expect("emulator starts");
    let core = PartnerSecurity::new();
    let base = emulator.base_url.clone();
    core.environments()
        .add(CustomEnvironment {
            name: "Emulator".into(),
            active_directory_authority: base.clone(),
            graph_endpoint: format!("{base}/graph"),
            partner_center_endpoint: format!("{base}/partnercenter"),
            trusted_certificate_pem: emulator.certificate_pem.clone(),
            ..Default::default()
        })
        .expect("environment");
    (emulator, core)
}

async fn connect_sam(core: &PartnerSecurity, t: u8) {
    let (app, secret) = sam_app(t);
    let refresh = format!(
        "1.AcomplianceRefreshToken-{t}-admin-NOT-A-REAL-TOKEN-ffffffffffffffffffffffffffffff"
    );
    core.connect(
        "Emulator",
        ConnectRequest::RefreshToken {
            application_id: app,
            credential: ClientCredential::Secret(Secret::new(secret)),
            refresh_token: Secret::new(refresh),
            tenant: Some(tenant_id(t)),
        },
    )
    .await
    .expect("connect");
}

async fn assess(core: &PartnerSecurity, checks: Vec<CheckId>) -> Vec<Finding> {
    let ctx = core.sign_in_context().expect("connected");
    checks::assess(
        ctx,
        Options {
            checks,
            ..Default::default()
        },
        |_, _| {},
    )
    .await
    .expect("assessment runs")
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

/// What every tenant of the scenario must produce, check by check.
fn expected(t: u8) -> Vec<(String, Status, String)> {
    let tid = tenant_id(t);
    let tid = tid.as_str();
    match t {
        1 => {
            let d = "northwind-csp.onmicrosoft.com";
            vec![
                row("MfaCoverage.Covered", Pass, &format!("admin@{d}")),
                row("MfaCoverage.Covered", Pass, &format!("agent@{d}")),
                row(
                    "MfaCoverage.Covered",
                    Pass,
                    &format!("auditor_fabrikam.example#EXT#@{d}"),
                ),
                row(
                    "MfaCoverage.BreakGlassAccount",
                    Pass,
                    &format!("breakglass01@{d}"),
                ),
                row("SignInEvidence.NoSingleFactorSignIns", Pass, tid),
                row("MfaConfiguration.Consistent", Pass, tid),
                row(
                    "LegacyAuthentication.BlockedByConditionalAccess",
                    Pass,
                    "Block legacy authentication",
                ),
                row(
                    "SecureApplicationModel.TokenHasMfa",
                    Pass,
                    &format!("admin@{d}"),
                ),
                row(
                    "SecureApplicationModel.RefreshToken",
                    Pass,
                    &format!("admin@{d}"),
                ),
                row("SecureApplicationModel.NoNonMfaPrincipals", Pass, tid),
                row(
                    "SecureApplicationModel.AppMfaAdoption",
                    Pass,
                    "Partner Security Assessment (SAM)",
                ),
                row("AdminAgents.P2Licence", Pass, tid),
                row(
                    "AdminAgents.EligiblePrivilegedRole",
                    Pass,
                    &format!("admin@{d} (Global Administrator)"),
                ),
                row(
                    "AdminAgents.EligiblePrivilegedRole",
                    Pass,
                    &format!("agent@{d} (Helpdesk Administrator)"),
                ),
                row(
                    "GdapLeastPrivilege.Relationship",
                    Pass,
                    "Contoso helpdesk (Contoso Inc)",
                ),
                row(
                    "FraudNotifications.ResolvedInTime",
                    Pass,
                    "2a7064fb-1e33-4007-974e-352cb3f2c801_2edeb5b1-766f-4209-9271-3ddf27755a01 (Contoso Inc)",
                ),
                row("SecurityScore.Unavailable", NA, tid),
                row("MfaReadiness.Ready", Pass, tid),
                row("FederatedMfa.NoFederatedDomains", NA, tid),
            ]
        }
        2 => {
            let d = "adatum-csp.onmicrosoft.com";
            vec![
                row(
                    "MfaCoverage.DataUnavailable",
                    Error,
                    "Conditional Access policies",
                ),
                row(
                    "MfaCoverage.DataUnavailable",
                    Error,
                    "authentication method registration details",
                ),
                row("MfaCoverage.Covered", Pass, &format!("admin@{d}")),
                row("MfaCoverage.Covered", Pass, &format!("sales@{d}")),
                row("MfaCoverage.Covered", Pass, &format!("support@{d}")),
                row(
                    "MfaCoverage.DirectorySyncAccount",
                    NA,
                    &format!("Sync_SRV01_4f2a1b3c9d8e@{d}"),
                ),
                row("SignInEvidence.DataUnavailable", Error, "sign-in logs"),
                row("MfaConfiguration.PerUserMfaInUse", Warn, tid),
                row("LegacyAuthentication.BlockedBySecurityDefaults", Pass, tid),
                row(
                    "SecureApplicationModel.TokenHasMfa",
                    Pass,
                    &format!("admin@{d}"),
                ),
                row(
                    "SecureApplicationModel.RefreshToken",
                    Pass,
                    &format!("admin@{d}"),
                ),
                row("SecureApplicationModel.NoNonMfaPrincipals", Pass, tid),
                row("SecureApplicationModel.AppMfaAdoption", NA, tid),
                row("AdminAgents.NoAdminAgents", NA, tid),
                row("GdapLeastPrivilege.NoRelationships", NA, tid),
                row("FraudNotifications.NoFraudEvents", Pass, tid),
                row("SecurityScore.Unavailable", NA, tid),
                row("MfaReadiness.DataUnavailable", Error, "sign-in logs"),
                row(
                    "MfaReadiness.DataUnavailable",
                    Error,
                    "authentication method registration details",
                ),
                row("FederatedMfa.NoFederatedDomains", NA, tid),
            ]
        }
        3 => {
            let d = "tailspin-csp.onmicrosoft.com";
            vec![
                row("MfaCoverage.Covered", Pass, &format!("admin@{d}")),
                row("MfaCoverage.Covered", Pass, &format!("staff@{d}")),
                row("MfaCoverage.NotCovered", Fail, &format!("finance@{d}")),
                row("MfaCoverage.NotCovered", Fail, &format!("contractor@{d}")),
                row(
                    "MfaCoverage.NotCovered",
                    Fail,
                    &format!("partner.guest_litware.example#EXT#@{d}"),
                ),
                row("MfaCoverage.NotRegistered", Warn, &format!("newhire@{d}")),
                row(
                    "MfaCoverage.Covered",
                    Pass,
                    "fedworker@tailspin-fed.example",
                ),
                row(
                    "SignInEvidence.LegacyProtocolSignIn",
                    Fail,
                    &format!("staff@{d} (IMAP4)"),
                ),
                row(
                    "SignInEvidence.SingleFactorSignIn",
                    Fail,
                    &format!("contractor@{d} (Microsoft Azure PowerShell)"),
                ),
                row(
                    "SignInEvidence.CoveredButSingleFactor",
                    Fail,
                    "fedworker@tailspin-fed.example (Azure Portal)",
                ),
                row(
                    "SignInEvidence.SingleFactorSignIn",
                    Fail,
                    &format!("finance@{d} (Azure Portal)"),
                ),
                row(
                    "SignInEvidence.CoveredButSingleFactor",
                    Fail,
                    &format!("staff@{d} (Office 365 Exchange Online)"),
                ),
                row(
                    "MfaConfiguration.ReportOnlyPolicy",
                    Warn,
                    "MFA for guests (report-only)",
                ),
                row("LegacyAuthentication.NotBlocked", Fail, tid),
                row(
                    "SecureApplicationModel.TokenHasMfa",
                    Pass,
                    &format!("admin@{d}"),
                ),
                row(
                    "SecureApplicationModel.RefreshToken",
                    Pass,
                    &format!("admin@{d}"),
                ),
                row("SecureApplicationModel.NoNonMfaPrincipals", Pass, tid),
                row("SecureApplicationModel.AppMfaAdoption", NA, tid),
                row("AdminAgents.P2Licence", Fail, &format!("admin@{d}")),
                row(
                    "AdminAgents.PermanentPrivilegedRole",
                    Fail,
                    &format!("admin@{d} (Global Administrator)"),
                ),
                row(
                    "AdminAgents.DataUnavailable",
                    Error,
                    "PIM role eligibility schedules",
                ),
                row("GdapLeastPrivilege.NoRelationships", NA, tid),
                row("GdapLeastPrivilege.LeftoverDap", Warn, "AdminAgents"),
                row("FraudNotifications.NoFraudEvents", Pass, tid),
                row("SecurityScore.Unavailable", NA, tid),
                row("MfaReadiness.LegacyClient", Warn, "IMAP4"),
                row(
                    "MfaReadiness.OldOfficeClient",
                    Warn,
                    &format!("newhire@{d}"),
                ),
                row(
                    "MfaReadiness.UserCredentialAutomation",
                    Warn,
                    &format!("contractor@{d}"),
                ),
                row(
                    "MfaReadiness.NoRegisteredMethod",
                    Fail,
                    &format!("contractor@{d}"),
                ),
                row(
                    "MfaReadiness.NoRegisteredMethod",
                    Fail,
                    &format!("newhire@{d}"),
                ),
                row("FederatedMfa.MfaNotVisible", Fail, "tailspin-fed.example"),
            ]
        }
        4 => {
            let d = "wingtip-csp.onmicrosoft.com";
            vec![
                row(
                    "MfaCoverage.DataUnavailable",
                    Error,
                    "Conditional Access policies",
                ),
                row(
                    "MfaCoverage.DataUnavailable",
                    Error,
                    "authentication method registration details",
                ),
                row("MfaCoverage.Covered", Pass, &format!("admin@{d}")),
                row("MfaCoverage.NotCovered", Fail, &format!("billing@{d}")),
                row("SignInEvidence.DataUnavailable", Error, "sign-in logs"),
                row("MfaConfiguration.NoTenantWideMfa", Fail, tid),
                row("MfaConfiguration.PerUserMfaInUse", Warn, tid),
                row("LegacyAuthentication.NotBlocked", Fail, tid),
                row(
                    "SecureApplicationModel.TokenHasMfa",
                    Pass,
                    &format!("admin@{d}"),
                ),
                row(
                    "SecureApplicationModel.RefreshToken",
                    Pass,
                    &format!("admin@{d}"),
                ),
                row(
                    "SecureApplicationModel.NonMfaPrincipal",
                    Fail,
                    &format!("billing@{d}"),
                ),
                row(
                    "SecureApplicationModel.AppMfaAdoption",
                    Fail,
                    "Billing integration",
                ),
                row("AdminAgents.NoAdminAgents", NA, tid),
                row("GdapLeastPrivilege.NoRelationships", NA, tid),
                row("FraudNotifications.NoFraudEvents", Pass, tid),
                row("SecurityScore.Unavailable", NA, tid),
                row("MfaReadiness.DataUnavailable", Error, "sign-in logs"),
                row(
                    "MfaReadiness.DataUnavailable",
                    Error,
                    "authentication method registration details",
                ),
                row("FederatedMfa.NoFederatedDomains", NA, tid),
            ]
        }
        _ => {
            let d = "litware-csp.onmicrosoft.com";
            vec![
                row("MfaCoverage.Covered", Pass, &format!("admin@{d}")),
                row("MfaCoverage.Covered", Pass, &format!("agent1@{d}")),
                row("MfaCoverage.NotCovered", Fail, &format!("agent2@{d}")),
                row(
                    "SignInEvidence.SingleFactorSignIn",
                    Fail,
                    &format!("agent2@{d} (Azure Portal)"),
                ),
                row("MfaConfiguration.Consistent", Pass, tid),
                row(
                    "LegacyAuthentication.BlockedByConditionalAccess",
                    Pass,
                    "Block legacy authentication",
                ),
                row(
                    "SecureApplicationModel.TokenHasMfa",
                    Pass,
                    &format!("admin@{d}"),
                ),
                row(
                    "SecureApplicationModel.RefreshToken",
                    Pass,
                    &format!("admin@{d}"),
                ),
                row("SecureApplicationModel.NoNonMfaPrincipals", Pass, tid),
                row("SecureApplicationModel.AppMfaAdoption", NA, tid),
                row("AdminAgents.P2Licence", Fail, &format!("agent2@{d}")),
                row(
                    "AdminAgents.PermanentPrivilegedRole",
                    Fail,
                    &format!("agent1@{d} (Exchange Administrator)"),
                ),
                row(
                    "AdminAgents.EligiblePrivilegedRole",
                    Pass,
                    &format!("agent2@{d} (Helpdesk Administrator)"),
                ),
                row(
                    "GdapLeastPrivilege.GlobalAdministrator",
                    Fail,
                    "Contoso full admin (Contoso Inc)",
                ),
                row(
                    "GdapLeastPrivilege.ExpiringSoon",
                    Warn,
                    "Fabrikam helpdesk (Fabrikam Ltd)",
                ),
                row(
                    "GdapLeastPrivilege.GroupMemberWithoutMfa",
                    Fail,
                    &format!("agent2@{d} via GDAP Helpdesk"),
                ),
                row(
                    "GdapLeastPrivilege.Expired",
                    Warn,
                    "Tailspin legacy (Tailspin Toys)",
                ),
                row(
                    "GdapLeastPrivilege.Relationship",
                    Pass,
                    "Woodgrove readers (Woodgrove Bank)",
                ),
                row(
                    "GdapLeastPrivilege.DapCustomer",
                    Fail,
                    "Tailspin Toys (tailspintoys.onmicrosoft.com)",
                ),
                row(
                    "GdapLeastPrivilege.DapCustomer",
                    Fail,
                    "Adventure Works (adventureworks.onmicrosoft.com)",
                ),
                row("GdapLeastPrivilege.LeftoverDap", Warn, "AdminAgents"),
                row(
                    "FraudNotifications.OpenEvent",
                    Fail,
                    "5e000001-1e33-4007-974e-352cb3f2c801_2edeb5b1-766f-4209-9271-3ddf27755a01 (Contoso Inc)",
                ),
                row(
                    "FraudNotifications.SlowResponse",
                    Warn,
                    "5e000002-1e33-4007-974e-352cb3f2c802_2edeb5b1-766f-4209-9271-3ddf27755a02 (Fabrikam Ltd)",
                ),
                row(
                    "FraudNotifications.ResolvedInTime",
                    Pass,
                    "5e000003-1e33-4007-974e-352cb3f2c803_2edeb5b1-766f-4209-9271-3ddf27755a03 (Woodgrove Bank)",
                ),
                row(
                    "FraudNotifications.OpenEvent",
                    Fail,
                    "5e000004-1e33-4007-974e-352cb3f2c804_2edeb5b1-766f-4209-9271-3ddf27755a04 (Tailspin Toys)",
                ),
                row("SecurityScore.Unavailable", NA, tid),
                row("MfaReadiness.Ready", Pass, tid),
                row("FederatedMfa.NoFederatedDomains", NA, tid),
            ]
        }
    }
}

#[tokio::test]
async fn every_check_produces_the_exact_findings_for_five_partner_tenants() {
    let (_emulator, core) = emulator().await;
    for t in 1..=5u8 {
        connect_sam(&core, t).await;
        let findings = assess(&core, Vec::new()).await;
        assert_eq!(summary(&findings), expected(t), "tenant {t}");
        for f in findings.iter().filter(|f| f.status != Pass) {
            if f.status != NA {
                assert!(
                    !f.remediation.is_empty(),
                    "tenant {t}: {} has no remediation",
                    f.id
                );
            }
            assert!(
                !f.evidence.is_empty(),
                "tenant {t}: {} has no evidence",
                f.id
            );
        }
    }
}

#[tokio::test]
async fn a_federated_session_whose_token_shows_fed_without_mfa_fails_check_11_with_the_token_as_evidence() {
    let (_emulator, core) = emulator().await;
    // Tenant 3's federated user consented after MFA at its IdP, which sends no MFA claim.
    let (app, secret) = sam_app(3);
    core.connect(
        "Emulator",
        ConnectRequest::RefreshToken {
            application_id: app,
            credential: ClientCredential::Secret(Secret::new(secret)),
            refresh_token: Secret::new(
                "1.AcomplianceRefreshToken-3-fedworker-NOT-A-REAL-TOKEN-ffffffffffffffffffffffff",
            ),
            tenant: Some(tenant_id(3)),
        },
    )
    .await
    .expect("connect");
    let findings = assess(&core, vec![CheckId::SecureApplicationModel, CheckId::FederatedMfa]).await;
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
    connect_sam(&core, 3).await;
    let findings = assess(&core, vec![CheckId::FederatedMfa]).await;
    assert_eq!(summary(&findings), vec![row("FederatedMfa.MfaNotVisible", Fail, "tailspin-fed.example")]);
}

#[tokio::test]
async fn on_a_sam_profile_check_5_reports_the_profile_refresh_token_health() {
    use partnersecurity_core::sam::{
        FileKeyKind, MemoryStore, ProfileCredential, SecretStore, SecureApp, SecureAppProfile,
        StoreRef,
    };
    use std::sync::Arc;
    let (_emulator, core) = emulator().await;
    let environment = core.environments().get("Emulator").expect("environment");
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
    let refresh = "1.AcomplianceRefreshToken-5-admin-NOT-A-REAL-TOKEN-ffffffffffffffffffffffffffffff";
    store.write("litware-refresh-token", &Secret::new(refresh)).await.unwrap();
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
    core.connect(
        "Emulator",
        ConnectRequest::Profile { app, response: first, tenant: tenant_id(5), scope },
    )
    .await
    .expect("connect through the profile");

    // The same findings as over a plain refresh token; the RefreshToken one is the profile's.
    let findings = assess(&core, Vec::new()).await;
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
    let findings = assess(&core, vec![CheckId::SecureApplicationModel]).await;
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
    let (_emulator, core) = emulator_with(|v| {
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
    connect_sam(&core, 5).await;
    let findings = assess(&core, vec![CheckId::GdapLeastPrivilege]).await;
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
    let (_emulator, core) = emulator().await;
    connect_sam(&core, 4).await;
    let findings = assess(&core, vec![CheckId::MfaCoverage, CheckId::SignInEvidence]).await;
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
    connect_sam(&core, 3).await;
    let findings = assess(&core, vec![CheckId::AdminAgents]).await;
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
    let (_emulator, core) = emulator().await;
    // An app that may only read users, signed in as itself (app-only).
    core.connect(
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
    let findings = assess(&core, Vec::new()).await;
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
    let (_emulator, core) = emulator().await;
    connect_sam(&core, 5).await;
    let findings = assess(&core, Vec::new()).await;
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
    let json: serde_json::Value =
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

/// (fault kind, requests it hit) from the emulator's request log, which is then cleared.
async fn injected(control: &reqwest::Client, base: &str) -> Vec<(String, usize)> {
    let log = support::control(control, base, "GET", "requests", serde_json::Value::Null).await;
    support::control(control, base, "DELETE", "requests", serde_json::Value::Null).await;
    let mut kinds: Vec<(String, usize)> = Vec::new();
    for fault in log.as_array().into_iter().flatten().filter_map(|e| e["fault"].as_str()) {
        match kinds.iter_mut().find(|(k, _)| k == fault) {
            Some((_, n)) => *n += 1,
            None => kinds.push((fault.to_owned(), 1)),
        }
    }
    kinds.sort();
    kinds
}

#[tokio::test]
async fn transient_faults_change_no_finding_and_endless_ones_are_errors_never_passes() {
    let (emulator, core) = emulator().await;
    let base = emulator.base_url.clone();
    let control = support::control_client(emulator.certificate_pem.as_deref().expect("TLS"));
    connect_sam(&core, 5).await;
    let clean = assess(&core, Vec::new()).await;
    assert_eq!(summary(&clean), expected(5));
    injected(&control, &base).await;

    // Transient: the retries absorb them; the findings are the fault-free run's, whole.
    let spec = serde_json::json!({"seed": 7, "rate": 0.15, "kinds": FAULT_MIX});
    support::control(&control, &base, "POST", "faults", spec).await;
    let faulted = assess(&core, Vec::new()).await;
    support::control(&control, &base, "POST", "faults", serde_json::Value::Null).await;
    let hits = injected(&control, &base).await;
    assert_eq!(faulted, clean, "faults changed the findings ({hits:?})");
    let total: usize = hits.iter().map(|(_, n)| n).sum();
    assert!(hits.len() >= 5 && total >= 8, "too few faults to prove anything: {hits:?}");
    println!("assessment under a fault mix: {total} faults survived ({hits:?}); {} findings, none lost, changed or repeated", clean.len());

    // Endless: every read's attempts run out. Each check says why; none passes.
    let spec = serde_json::json!({"seed": 8, "rate": 1.0, "kinds": ["http503", "http429", "reset", "malformedJson"]});
    support::control(&control, &base, "POST", "faults", spec).await;
    let failing = assess(&core, Vec::new()).await;
    support::control(&control, &base, "POST", "faults", serde_json::Value::Null).await;
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
fn arrival(entry: &serde_json::Value) -> chrono::DateTime<chrono::Utc> {
    entry["time"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_else(|| panic!("no time in {entry}"))
}

#[tokio::test]
async fn throttled_directory_reads_wait_as_graph_asks_and_change_no_finding() {
    let (emulator, core) = emulator().await;
    let base = emulator.base_url.clone();
    let control = support::control_client(emulator.certificate_pem.as_deref().expect("TLS"));
    // Three directory reads per second per (tenant, app): every assessment runs into it.
    let budget = serde_json::json!({"directoryThrottle": {"requests": 3, "windowSeconds": 1}});
    support::control(&control, &base, "POST", "graph/settings", budget).await;
    for t in [3u8, 5] {
        connect_sam(&core, t).await;
        injected(&control, &base).await;
        let findings = assess(&core, Vec::new()).await;
        assert_eq!(summary(&findings), expected(t), "tenant {t} under throttling");

        let log = support::control(&control, &base, "GET", "requests", serde_json::Value::Null).await;
        let log = log.as_array().expect("request log");
        let throttled: Vec<&serde_json::Value> = log.iter().filter(|e| e["status"] == 429).collect();
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
    let (emulator, core) = emulator().await;
    let base = emulator.base_url.clone();
    let control = support::control_client(emulator.certificate_pem.as_deref().expect("TLS"));
    // One read an hour: the first read gets through, every later one is told to wait ~3600 s.
    let budget = serde_json::json!({"directoryThrottle": {"requests": 1, "windowSeconds": 3600}});
    support::control(&control, &base, "POST", "graph/settings", budget).await;
    connect_sam(&core, 5).await;
    let findings = assess(&core, Vec::new()).await;
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
