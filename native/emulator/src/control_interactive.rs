//! Control-plane hooks for interactive sign-in and certificate credentials (merged into
//! `control::router`, so they share its loopback-only guard). TEST-ONLY.
//!
//! | hook | effect |
//! |---|---|
//! | `POST /sign-in/next` `{"userId", "mfa"?, "decline"?}` | the next `/authorize` signs this user in (used once) |
//! | `DELETE /sign-in/next` | forgets it |
//! | `POST /device-codes/approve` `{"userCode", "userId", "mfa"?, "decline"?}` | the user approves (or declines) a device code |
//! | `POST /device-codes/auto-approve` `{"afterPolls", "userId", "mfa"?, "decline"?}` | the next device code is approved after N pending polls |
//! | `DELETE /device-codes/auto-approve` | forgets it |
//! | `GET /device-codes` | user codes with status and poll / slow_down counts |
//! | `POST /applications/{appId}/certificates` `{"certificatePem", "thumbprint"?}` | registers a certificate credential |

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::certificates::parse_certificate;
use crate::interactive::{
    Approval, AutoApprove, DeviceCodeState, ScriptedSignIn, approve_device_code,
};
use crate::state::AppState;

type JsonBody<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/sign-in/next",
            post(set_next_sign_in).delete(clear_next_sign_in),
        )
        .route("/device-codes", get(list_device_codes))
        .route("/device-codes/approve", post(approve))
        .route(
            "/device-codes/auto-approve",
            post(set_auto_approve).delete(clear_auto_approve),
        )
        .route(
            "/applications/{app_id}/certificates",
            post(register_certificate),
        )
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into()}))).into_response()
}

/// Effective MFA of a scripted sign-in (`mfa` absent: whether the user registered MFA).
fn effective_mfa(st: &AppState, script: &ScriptedSignIn) -> Option<bool> {
    let user = st
        .scenario
        .tenants
        .iter()
        .find_map(|t| t.user(&script.user_id))?;
    Some(script.mfa.unwrap_or(user.mfa_registered))
}

async fn set_next_sign_in(State(st): State<AppState>, body: JsonBody<ScriptedSignIn>) -> Response {
    let Ok(Json(script)) = body else {
        return error(
            StatusCode::BAD_REQUEST,
            "expected {\"userId\": \"...\", \"mfa\": true|false (optional), \"decline\": false (optional)}",
        );
    };
    // Unknown users are accepted on purpose: the sign-in then fails with AADSTS50034.
    let mfa = effective_mfa(&st, &script);
    tracing::info!(user_id = %script.user_id, "next interactive sign-in scripted");
    let reply = json!({"userId": script.user_id, "userKnown": mfa.is_some(), "mfa": mfa, "decline": script.decline});
    st.interactive.set_next_sign_in(Some(script));
    Json(reply).into_response()
}

async fn clear_next_sign_in(State(st): State<AppState>) -> StatusCode {
    st.interactive.set_next_sign_in(None);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Approve {
    user_code: String,
    user_id: String,
    #[serde(default)]
    mfa: Option<bool>,
    #[serde(default)]
    decline: bool,
}

async fn approve(State(st): State<AppState>, body: JsonBody<Approve>) -> Response {
    let Ok(Json(req)) = body else {
        return error(
            StatusCode::BAD_REQUEST,
            "expected {\"userCode\": \"...\", \"userId\": \"...\", \"mfa\": true|false (optional), \"decline\": false (optional)}",
        );
    };
    let script = ScriptedSignIn {
        user_id: req.user_id,
        mfa: req.mfa,
        decline: req.decline,
    };
    let now = st.clock.now();
    st.interactive.with_user_code(&req.user_code, |code| {
        let Some(code) = code else {
            return error(
                StatusCode::NOT_FOUND,
                format!("no device code with user code {}", req.user_code),
            );
        };
        if now >= code.expires_at {
            return error(StatusCode::CONFLICT, "the device code has expired");
        }
        if !matches!(code.state, DeviceCodeState::Pending) {
            return error(
                StatusCode::CONFLICT,
                "the device code is no longer pending (already approved, declined or redeemed)",
            );
        }
        code.auto_approve = None;
        let reply = match approve_device_code(&st.scenario, code, &script, now) {
            Approval::Approved => json!({"userCode": code.user_code, "status": "approved"}),
            Approval::Failed(e) => json!({
                "userCode": code.user_code,
                "status": if e.error == "authorization_declined" { "declined" } else { "failed" },
                "errorCode": e.code,
                "error": e.error,
            }),
        };
        tracing::info!(user_id = %script.user_id, "device code approval scripted");
        Json(reply).into_response()
    })
}

async fn set_auto_approve(State(st): State<AppState>, body: JsonBody<AutoApprove>) -> Response {
    let Ok(Json(rule)) = body else {
        return error(
            StatusCode::BAD_REQUEST,
            "expected {\"afterPolls\": N, \"userId\": \"...\", \"mfa\": true|false (optional), \"decline\": false (optional)}",
        );
    };
    let reply = json!({
        "afterPolls": rule.after_polls,
        "userId": rule.user_id,
        "userKnown": effective_mfa(&st, &rule.sign_in()).is_some(),
        "mfa": effective_mfa(&st, &rule.sign_in()),
        "decline": rule.decline,
    });
    st.interactive.set_next_auto_approve(Some(rule));
    Json(reply).into_response()
}

async fn clear_auto_approve(State(st): State<AppState>) -> StatusCode {
    st.interactive.set_next_auto_approve(None);
    StatusCode::NO_CONTENT
}

async fn list_device_codes(State(st): State<AppState>) -> Response {
    Json(st.interactive.device_code_summaries()).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RegisterCertificate {
    certificate_pem: String,
    #[serde(default)]
    thumbprint: Option<String>,
}

async fn register_certificate(
    State(st): State<AppState>,
    Path(app_id): Path<String>,
    body: JsonBody<RegisterCertificate>,
) -> Response {
    let Ok(Json(req)) = body else {
        return error(
            StatusCode::BAD_REQUEST,
            "expected {\"certificatePem\": \"-----BEGIN CERTIFICATE-----...\", \"thumbprint\": \"<hex sha1>\" (optional)}",
        );
    };
    let known = st.scenario.tenants.iter().any(|t| {
        t.applications
            .iter()
            .any(|a| a.app_id.eq_ignore_ascii_case(&app_id))
    });
    if !known {
        return error(
            StatusCode::NOT_FOUND,
            format!("no application with appId {app_id} in the scenario"),
        );
    }
    let key = match parse_certificate(&req.certificate_pem) {
        Ok(k) => k,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    if let Some(t) = &req.thumbprint
        && !key.has_thumbprint(t)
    {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "thumbprint {t} does not match the certificate ({})",
                key.thumbprint
            ),
        );
    }
    let key = st.certificates.register(&app_id, key);
    tracing::info!(%app_id, thumbprint = %key.thumbprint, "certificate credential registered");
    (
        StatusCode::CREATED,
        Json(json!({
            "appId": app_id,
            "thumbprint": key.thumbprint,
            "x5t": key.x5t,
            "x5t#S256": key.x5t_s256,
            "notBefore": key.not_before.to_rfc3339(),
            "notAfter": key.not_after.to_rfc3339(),
        })),
    )
        .into_response()
}
