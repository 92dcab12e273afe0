//! Check 5: Secure Application Model — the session's token carries `mfa` in `amr`, the session
//! renews itself from a refresh token, Partner Center sees no principal calling without MFA, and
//! every application's Partner Center calls are MFA-compliant.

use super::{CheckId, Finding, Severity, Sources, Status};
use crate::auth::claims::amr_has_mfa;
use crate::sam::health::{HealthStatus, INACTIVITY_LIMIT_DAYS, ProfileHealth};
use crate::session::AccountType;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

const CHECK: CheckId = CheckId::SecureApplicationModel;

pub async fn run(sources: &Sources) -> Vec<Finding> {
    let context = sources.context();
    let account = context
        .account
        .user_principal_name
        .clone()
        .or(context.account.application_id.clone())
        .unwrap_or_else(|| sources.tenant());
    let amr = context.authentication_methods.join(", ");
    let mut findings = Vec::new();
    let app_only = matches!(
        context.account.kind,
        AccountType::ServicePrincipal | AccountType::Certificate | AccountType::ManagedService
    );
    findings.push(if app_only {
        Finding::new(
            CHECK,
            "AppOnlySession",
            Status::Warn,
            Severity::Medium,
            &account,
            "The session is an application (app-only) sign-in: Partner Center's App+User APIs (fraud events, MFA reports, most customer operations) need a Secure Application Model token from an MFA sign-in.",
            "Consent the SAM application once with an MFA sign-in (New-PartnerAccessToken -UseAuthorizationCode), keep its refresh token in a secret store, and connect with -RefreshToken.",
        )
    } else if amr_has_mfa(&context.authentication_methods) {
        Finding::pass(CHECK, "TokenHasMfa", &account, format!("The session's token carries amr [{amr}]: Partner Center accepts it."))
    } else {
        Finding::new(
            CHECK,
            "TokenWithoutMfa",
            Status::Fail,
            Severity::High,
            &account,
            format!("The session's token carries amr [{amr}] without 'mfa': Partner Center refuses App+User calls with it (401, MFA required)."),
            "Redo the SAM consent with a sign-in that performs MFA and replace the stored refresh token.",
        )
    });
    let profile = sources.graph.context().session.secure_app();
    if let Some(app) = profile {
        findings.push(profile_health(&account, &app.health(Utc::now()).await));
    } else if !app_only {
        findings.push(if context.has_refresh_token {
            Finding::pass(CHECK, "RefreshToken", &account, "The session renews its tokens from a refresh token (rotated on every exchange).")
        } else {
            Finding::new(
                CHECK,
                "RefreshToken",
                Status::Warn,
                Severity::Low,
                &account,
                "The session was connected with an access token: it cannot renew itself, so unattended automation would stop within the hour.",
                "Connect with -RefreshToken (Secure Application Model) for automation.",
            )
        });
    }
    match sources.non_mfa_principals().await {
        Ok(principals) if principals.is_empty() => findings.push(Finding::pass(
            CHECK,
            "NoNonMfaPrincipals",
            sources.tenant(),
            "Partner Center reports no principal that called it without MFA.",
        )),
        Ok(principals) => {
            for p in principals.iter() {
                let when = p
                    .last_non_mfa_compliant_request_date_time
                    .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                    .unwrap_or_else(|| "an unknown time".into());
                findings.push(Finding::new(
                    CHECK,
                    "NonMfaPrincipal",
                    Status::Fail,
                    Severity::High,
                    &p.upn,
                    format!("Partner Center saw a request without MFA from {} (object id {}), last at {when}.", p.upn, p.object_id),
                    "Require MFA for this account (Conditional Access or security defaults) and move any script using it to the Secure Application Model.",
                ));
            }
        }
        Err(f) => findings.push(Finding::unavailable(CHECK, &f)),
    }
    match sources.app_mfa_adoption().await {
        Ok(days) if days.is_empty() => findings.push(Finding::new(
            CHECK,
            "AppMfaAdoption",
            Status::NotApplicable,
            Severity::Info,
            sources.tenant(),
            "Partner Center recorded no App+User API requests to report on.",
            "",
        )),
        Ok(days) => {
            let mut apps: BTreeMap<String, (String, u64, u64)> = BTreeMap::new();
            for d in days.iter() {
                let e = apps.entry(d.application_id.clone()).or_insert_with(|| {
                    (
                        d.application_name
                            .clone()
                            .filter(|n| !n.is_empty())
                            .unwrap_or_else(|| d.application_id.clone()),
                        0,
                        0,
                    )
                });
                e.1 += d.mfa_compliant_request_count;
                e.2 += d.total_request_count;
            }
            for (id, (name, compliant, total)) in apps {
                if compliant < total {
                    findings.push(Finding::new(
                        CHECK,
                        "AppMfaAdoption",
                        Status::Fail,
                        Severity::High,
                        &name,
                        format!("Application {id}: {compliant} of {total} Partner Center requests carried MFA."),
                        "Find the integration behind this application id and move it to a SAM refresh token from an MFA sign-in; from 2026 Partner Center refuses App+User calls without MFA.",
                    ));
                } else {
                    findings.push(Finding::pass(
                        CHECK,
                        "AppMfaAdoption",
                        &name,
                        format!(
                            "Application {id}: all {total} Partner Center requests carried MFA."
                        ),
                    ));
                }
            }
        }
        Err(f) => findings.push(Finding::unavailable(CHECK, &f)),
    }
    findings
}

/// The session's Secure Application Model profile: its refresh token's health (age since the
/// last exchange against Entra ID's 90-day inactivity limit, MFA of the last token, whether the
/// store still holds it), as `Test-PartnerSecureAppProfile` reports it.
fn profile_health(account: &str, health: &ProfileHealth) -> Finding {
    let date = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
    let mut facts = vec![format!(
        "The session renews through Secure Application Model profile '{}' (refresh token in the {}).",
        health.profile, health.refresh_token_store
    )];
    if let (Some(last), Some(age)) = (health.last_exchange_on, health.age_days) {
        facts.push(format!("Last exchange {} ({age} day(s) ago).", date(last)));
    }
    if let (Some(expires), Some(left)) = (health.expires_on, health.days_left) {
        facts.push(format!(
            "Unused, it expires {} ({left} of Entra ID's {INACTIVITY_LIMIT_DAYS} days left).",
            date(expires)
        ));
    }
    if let Some(on) = health.consented_on {
        let by = health
            .consented_by
            .as_deref()
            .map(|b| format!(" by {b}"))
            .unwrap_or_default();
        facts.push(format!("Consented {}{by}.", date(on)));
    }
    if !health.last_amr.is_empty() {
        facts.push(format!(
            "Last token's amr [{}].",
            health.last_amr.join(", ")
        ));
    }
    facts.push(format!("Health: {:?}. {}", health.status, health.advice));
    let evidence = facts.join(" ");
    let remediation = format!(
        "{} Test-PartnerSecureAppProfile -Name {} shows the profile's health.",
        health.advice, health.profile
    );
    match health.status {
        HealthStatus::Healthy => Finding::pass(CHECK, "RefreshToken", account, evidence),
        HealthStatus::Warning => Finding::new(
            CHECK,
            "RefreshToken",
            Status::Warn,
            Severity::Medium,
            account,
            evidence,
            remediation,
        ),
        HealthStatus::Expired => Finding::new(
            CHECK,
            "RefreshToken",
            Status::Fail,
            Severity::High,
            account,
            evidence,
            remediation,
        ),
    }
}
