//! The service the C# side instantiates once per PowerShell session.

use crate::guarded;
use crate::reply::Reply;
use crate::requests::{self, ExportSignInsRequest, SignInRequest, SignInsRequest};
use crate::runtime::Runtime;
use crate::sam::{self, SamRequest};
use crate::signins::{BatchReply, CursorOpened, ExportStarted, ProgressReply, SummaryReply};
use interoptopus::pattern::asynk::Async;
use interoptopus::{AsyncRuntime, ffi};
use crate::assessment::{AssessmentRequest, AssessmentStarted, CheckRequest, ReportRequest};
use partnersecurity_core::auth::Claims;
use partnersecurity_core::checks::{self, Assessments, CheckId};
use partnersecurity_core::environment::CustomEnvironment;
use partnersecurity_core::signin::SignInPrompt;
use partnersecurity_core::signins::RecordNames;
use partnersecurity_core::{IssuedToken, PartnerSecurity};
use serde::Serialize;
use std::sync::{Arc, Once};

/// Internal failures of the FFI layer itself (answers carry their own status in `Reply`).
#[ffi]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NativeError {
    Unexpected,
}

#[ffi(service)]
#[derive(AsyncRuntime)]
pub struct PartnerSecurityNative {
    runtime: Runtime,
    core: Arc<PartnerSecurity>,
    assessments: Arc<Assessments>,
}

/// A quiet panic hook: the default one prints the panic payload to the host's stderr. Our
/// boundary reports panics as errors instead.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| std::panic::set_hook(Box::new(|_| {})));
}

#[ffi]
impl PartnerSecurityNative {
    pub fn create() -> ffi::Result<Self, NativeError> {
        install_panic_hook();
        match std::panic::catch_unwind(|| Runtime::new().map(|runtime| Self { runtime, core: Arc::new(PartnerSecurity::new()), assessments: Arc::new(Assessments::default()) })) {
            Ok(Ok(service)) => ffi::Ok(service),
            Ok(Err(_)) | Err(_) => ffi::Err(NativeError::Unexpected),
        }
    }

    /// All environments (built-in and custom), as a JSON array.
    pub fn environments(&self) -> Reply {
        guarded::sync(|| Reply::ok(&self.core.environments().all()))
    }

    /// One environment by name (case-insensitive; legacy names such as `GlobalCloud` work).
    pub fn find_environment(&self, name: ffi::String) -> Reply {
        guarded::sync(|| self.core.environments().get(name.as_str()).map(|env| Reply::ok(&env)).into())
    }

    /// Registers a custom environment from JSON (`CustomEnvironment`).
    pub fn add_environment(&self, request: ffi::String) -> Reply {
        guarded::sync(|| {
            requests::parse::<CustomEnvironment>(request)
                .and_then(|custom| self.core.environments().add(custom))
                .map(|env| Reply::ok(&env))
                .into()
        })
    }

    /// Removes a custom environment; the payload is `true` when one was removed.
    pub fn remove_environment(&self, name: ffi::String) -> Reply {
        guarded::sync(|| self.core.environments().remove(name.as_str()).map(|removed| Reply::ok(&removed)).into())
    }

    /// The current context as JSON, or `null` when not connected.
    pub fn current_context(&self) -> Reply {
        guarded::sync(|| Reply::ok(&self.core.context()))
    }

    /// Forgets the current session; payload `true` when one was connected.
    pub fn disconnect(&self) -> Reply {
        guarded::sync(|| Reply::ok(&self.core.disconnect()))
    }

    /// The claims of a JWT (access or ID token), without verifying its signature.
    pub fn read_token_claims(&self, token: ffi::String) -> Reply {
        guarded::sync(|| Claims::from_jwt(token.as_str(), "token").map(|c| Reply::ok(&c)).into())
    }

    /// Connect-PartnerCenter: signs in (JSON `SignInRequest`) and returns the context.
    pub async fn connect(this: Async<Self>, request: ffi::String) -> ffi::Result<Reply, NativeError> {
        let core = this.core.clone();
        ffi::Ok(
            guarded::async_result(async move {
                let request: SignInRequest = requests::parse(request)?;
                let context = core.connect(&request.environment, request.to_connect()?).await?;
                Ok(Reply::ok(&context))
            })
            .await,
        )
    }

    /// Starts an interactive sign-in (JSON `SignInRequest` of kind `Interactive`); the payload
    /// says what the user must do (open a URL, or enter a device code) and names the sign-in.
    pub async fn begin_sign_in(this: Async<Self>, request: ffi::String) -> ffi::Result<Reply, NativeError> {
        let core = this.core.clone();
        ffi::Ok(
            guarded::async_result(async move {
                let request: SignInRequest = requests::parse(request)?;
                let (id, prompt) = core.begin_sign_in(&request.environment, request.to_sign_in()?).await?;
                Ok(Reply::ok(&SignInStarted::new(id, prompt)))
            })
            .await,
        )
    }

    /// Gives up a sign-in that was begun (closes its redirect listener).
    pub fn abandon_sign_in(&self, id: ffi::String) -> Reply {
        guarded::sync(|| Reply::ok(&self.core.abandon_sign_in(id.as_str())))
    }

    /// Waits for the user to finish a begun sign-in and connects with it; payload: the context.
    pub async fn finish_sign_in_and_connect(this: Async<Self>, id: ffi::String) -> ffi::Result<Reply, NativeError> {
        let core = this.core.clone();
        ffi::Ok(guarded::async_(async move { core.finish_sign_in_and_connect(id.as_str()).await.map(|context| Reply::ok(&context)).into() }).await)
    }

    /// Waits for the user to finish a begun sign-in; payload: the tokens (`AuthResult`).
    pub async fn finish_sign_in_for_token(this: Async<Self>, id: ffi::String) -> ffi::Result<Reply, NativeError> {
        let core = this.core.clone();
        ffi::Ok(guarded::async_(async move { core.finish_sign_in_for_token(id.as_str()).await.map(|t| Reply::ok(&AuthResult::from(&t))).into() }).await)
    }

    /// New-PartnerAccessToken: one token request outside the session; the payload carries the
    /// token values because the caller asked for them.
    pub async fn new_access_token(this: Async<Self>, request: ffi::String) -> ffi::Result<Reply, NativeError> {
        let core = this.core.clone();
        ffi::Ok(
            guarded::async_result(async move {
                let request: SignInRequest = requests::parse(request)?;
                let token = core.new_access_token(&request.environment, request.to_access_token()?).await?;
                Ok(Reply::ok(&AuthResult::from(&token)))
            })
            .await,
        )
    }

    // Sign-in activity: a cursor that hands out one page at a time, and background exports.

    /// Get-PartnerUserSignInActivity: starts a query (JSON `SignInsRequest`) in the background;
    /// payload `{"CursorId","Warnings"}`. Bad parameters and a missing session fail here. Its
    /// records keep Graph's property names: the module maps them onto its types.
    pub async fn open_sign_ins(this: Async<Self>, request: ffi::String) -> ffi::Result<Reply, NativeError> {
        let core = this.core.clone();
        ffi::Ok(
            guarded::async_(async move {
                let query = match requests::parse::<SignInsRequest>(request).and_then(|r| r.to_query(RecordNames::AsSent)) {
                    Ok(q) => q,
                    Err(e) => return Reply::error(&e),
                };
                let warnings = query.warnings();
                core.sign_in_context().and_then(|ctx| core.sign_in_logs().open(ctx, query)).map(|cursor_id| Reply::ok(&CursorOpened { cursor_id, warnings })).into()
            })
            .await,
        )
    }

    /// The next page of a cursor: `{"Header":{"Tenant","TenantId","Done","Fetched","Pages",
    /// "TenantsDone","Error"},"Records":[...]}` (`Error`: that tenant failed; the others go on).
    /// Cancelling the call loses nothing: a page is only taken when it is returned.
    pub async fn next_sign_ins(this: Async<Self>, cursor: ffi::String) -> ffi::Result<Reply, NativeError> {
        let core = this.core.clone();
        let reply = |batch: &partnersecurity_core::signins::Batch| match BatchReply::from(batch).to_json() {
            Ok(json) => Reply::ok_json(json),
            Err(e) => Reply::internal(format!("the answer could not be serialised ({e})")),
        };
        ffi::Ok(guarded::async_(async move { core.sign_in_logs().next(cursor.as_str()).await.map(|batch| reply(&batch)).into() }).await)
    }

    /// Stops a query and frees what it holds; payload `true` when it was open.
    pub fn close_sign_ins(&self, cursor: ffi::String) -> Reply {
        guarded::sync(|| Reply::ok(&self.core.sign_in_logs().close(cursor.as_str())))
    }

    /// Export-PartnerSignInActivity: checks the files and starts the export (JSON
    /// `ExportSignInsRequest`); payload `{"ExportId","Warnings"}`.
    pub async fn start_export(this: Async<Self>, request: ffi::String) -> ffi::Result<Reply, NativeError> {
        let core = this.core.clone();
        ffi::Ok(
            guarded::async_(async move {
                let export = match requests::parse::<ExportSignInsRequest>(request).and_then(|r| r.to_export()) {
                    Ok(e) => e,
                    Err(e) => return Reply::error(&e),
                };
                let warnings = export.query.warnings();
                core.sign_in_context().and_then(|ctx| core.sign_in_logs().start_export(ctx, export)).map(|export_id| Reply::ok(&ExportStarted { export_id, warnings })).into()
            })
            .await,
        )
    }

    /// Counters of a running export: `{"Records","Pages","TenantsDone","TenantsFailed","Done","Error"}`.
    pub fn export_progress(&self, id: ffi::String) -> Reply {
        guarded::sync(|| self.core.sign_in_logs().export_progress(id.as_str()).map(|p| Reply::ok(&ProgressReply::from(&p))).into())
    }

    /// Waits for an export to end; payload: the summary. Cancelling the wait does not stop the
    /// export (`cancel_export` does).
    pub async fn wait_export(this: Async<Self>, id: ffi::String) -> ffi::Result<Reply, NativeError> {
        let core = this.core.clone();
        ffi::Ok(
            guarded::async_(async move {
                match core.sign_in_logs().wait_export(id.as_str()).await {
                    Ok(Ok(summary)) => Reply::ok(&SummaryReply::from(&summary)),
                    Ok(Err(e)) => Reply::error(&e),
                    Err(e) => Reply::error(&e),
                }
            })
            .await,
        )
    }

    /// Asks an export to stop after the page it is writing (its checkpoint stays resumable);
    /// payload `true` when it was known.
    pub fn cancel_export(&self, id: ffi::String) -> Reply {
        guarded::sync(|| Reply::ok(&self.core.sign_in_logs().cancel_export(id.as_str())))
    }

    /// Starts a partner security assessment of the connected tenant (`AssessmentRequest`);
    /// payload `{"AssessmentId","Checks"}` with the checks in the order to run them.
    pub fn start_assessment(&self, request: ffi::String) -> Reply {
        guarded::sync_result(|| {
            let options = requests::parse::<AssessmentRequest>(request)?.options()?;
            let (assessment_id, checks) = self.assessments.start(self.core.sign_in_context()?, options)?;
            Ok(Reply::ok(&AssessmentStarted { assessment_id, checks: checks.iter().map(|c| c.name()).collect() }))
        })
    }

    /// Runs one check of an assessment (`{"AssessmentId","Check"}`); payload: its findings.
    pub async fn run_assessment_check(this: Async<Self>, request: ffi::String) -> ffi::Result<Reply, NativeError> {
        let assessments = this.assessments.clone();
        ffi::Ok(
            guarded::async_result(async move {
                let request = requests::parse::<CheckRequest>(request)?;
                let check = CheckId::parse(&request.check).ok_or_else(|| partnersecurity_core::Error::invalid_input("Check", format!("'{}' is not a check", request.check)))?;
                Ok(Reply::ok(&assessments.run_check(&request.assessment_id, check).await?))
            })
            .await,
        )
    }

    /// Writes `<BaseName>.html`, `.json` and `.csv` of an assessment into `Directory`; payload:
    /// the paths written.
    pub fn write_assessment_report(&self, request: ffi::String) -> Reply {
        guarded::sync_result(|| {
            let request = requests::parse::<ReportRequest>(request)?;
            let assessment = self.assessments.assessment(&request.assessment_id)?;
            Ok(Reply::ok(&assessment.write(std::path::Path::new(&request.directory), &request.base_name)?))
        })
    }

    /// Forgets an assessment; payload `true` when it was open.
    pub fn close_assessment(&self, id: ffi::String) -> Reply {
        guarded::sync(|| Reply::ok(&self.assessments.close(id.as_str())))
    }

    /// One building block of the assessment as data (`AssessmentRequest` with `Kind`): MFA
    /// coverage, legacy-protocol sign-ins, GDAP relationships or fraud events, as a JSON array.
    pub async fn read_security_data(this: Async<Self>, request: ffi::String) -> ffi::Result<Reply, NativeError> {
        let core = this.core.clone();
        ffi::Ok(
            guarded::async_result(async move {
                let request = requests::parse::<AssessmentRequest>(request)?;
                let kind = request.kind.ok_or_else(|| partnersecurity_core::Error::invalid_input("Kind", "the request names no data kind"))?;
                let value = checks::data::read(core.sign_in_context()?, kind, request.options()?).await?;
                Ok(Reply::ok(&value))
            })
            .await,
        )
    }

    // Secure Application Model profiles: *-PartnerSecureAppProfile, and the switch of
    // Connect-PartnerCenter, New-PartnerAccessToken and Test-PartnerSecurityRequirement to the
    // default profile. Requests are JSON `SamRequest`; failures carry SamError's code.

    /// Checks a new profile and begins its consent's sign-in; payload as `begin_sign_in`.
    pub async fn sam_begin_consent(this: Async<Self>, request: ffi::String) -> ffi::Result<Reply, NativeError> {
        let core = this.core.clone();
        ffi::Ok(guarded::async_(async move { sam_call(request, |r| sam::begin_consent(&core, r)).await }).await)
    }

    /// Waits for the consent (`SignInId`) and saves the profile; refused without MFA.
    pub async fn sam_finish_consent(this: Async<Self>, request: ffi::String) -> ffi::Result<Reply, NativeError> {
        let core = this.core.clone();
        ffi::Ok(guarded::async_(async move { sam_call(request, |r| sam::finish_consent(&core, r)).await }).await)
    }

    /// Every profile, the default's name and unreadable files.
    pub fn sam_list(&self, request: ffi::String) -> Reply {
        guarded::sync(|| sam_call_now(request, |r| sam::list(&self.core, r)))
    }

    /// One profile by `Name`, or the default (`null` when none).
    pub fn sam_get(&self, request: ffi::String) -> Reply {
        guarded::sync(|| sam_call_now(request, |r| sam::get(&self.core, r)))
    }

    /// Changes a profile's store, credential or default flag.
    pub async fn sam_set(this: Async<Self>, request: ffi::String) -> ffi::Result<Reply, NativeError> {
        let core = this.core.clone();
        ffi::Ok(guarded::async_(async move { sam_call(request, |r| sam::set(&core, r)).await }).await)
    }

    /// Removes a profile and its secrets.
    pub async fn sam_remove(this: Async<Self>, request: ffi::String) -> ffi::Result<Reply, NativeError> {
        let core = this.core.clone();
        ffi::Ok(guarded::async_(async move { sam_call(request, |r| sam::remove(&core, r)).await }).await)
    }

    /// A profile's health.
    pub async fn sam_health(this: Async<Self>, request: ffi::String) -> ffi::Result<Reply, NativeError> {
        let core = this.core.clone();
        ffi::Ok(guarded::async_(async move { sam_call(request, |r| sam::health(&core, r)).await }).await)
    }

    /// A token through a profile (rotation stored first); the payload holds no refresh token.
    pub async fn sam_exchange(this: Async<Self>, request: ffi::String) -> ffi::Result<Reply, NativeError> {
        let core = this.core.clone();
        ffi::Ok(guarded::async_(async move { sam_call(request, |r| sam::exchange(&core, r)).await }).await)
    }

    /// Connects the session through a profile; payload `{"Profile","Context"}`.
    pub async fn sam_connect(this: Async<Self>, request: ffi::String) -> ffi::Result<Reply, NativeError> {
        let core = this.core.clone();
        ffi::Ok(guarded::async_(async move { sam_call(request, |r| sam::connect(&core, r)).await }).await)
    }

    /// Saves a profile from a refresh token obtained elsewhere (`RefreshToken`); refused
    /// unless its tokens prove MFA. Payload: the profile.
    pub async fn sam_import(this: Async<Self>, request: ffi::String) -> ffi::Result<Reply, NativeError> {
        let core = this.core.clone();
        ffi::Ok(guarded::async_(async move { sam_call(request, |r| sam::import(&core, r)).await }).await)
    }
}

/// Parses a SAM request and runs `call` with it; every failure becomes its reply.
async fn sam_call<F, Fut>(request: ffi::String, call: F) -> Reply
where
    F: FnOnce(SamRequest) -> Fut,
    Fut: std::future::Future<Output = Result<Reply, partnersecurity_core::sam::SamError>>,
{
    match requests::parse::<SamRequest>(request) {
        Ok(r) => call(r).await.into(),
        Err(e) => Reply::error(&e),
    }
}

/// [`sam_call`] for the calls that only read profile files (no network, no store).
fn sam_call_now(request: ffi::String, call: impl FnOnce(SamRequest) -> Result<Reply, partnersecurity_core::sam::SamError>) -> Reply {
    match requests::parse::<SamRequest>(request) {
        Ok(r) => call(r).into(),
        Err(e) => Reply::error(&e),
    }
}

/// What the user must do to finish an interactive sign-in.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SignInStarted {
    id: String,
    /// `Browser` or `DeviceCode`.
    kind: &'static str,
    url: Option<String>,
    redirect_uri: Option<String>,
    message: Option<String>,
    user_code: Option<String>,
    expires_in_seconds: Option<u64>,
}

impl SignInStarted {
    pub(crate) fn new(id: String, prompt: SignInPrompt) -> Self {
        match prompt {
            SignInPrompt::Browser { url, redirect_uri } => Self { id, kind: "Browser", url: Some(url), redirect_uri: Some(redirect_uri), message: None, user_code: None, expires_in_seconds: None },
            SignInPrompt::DeviceCode { message, user_code, verification_uri, expires_in } => Self {
                id,
                kind: "DeviceCode",
                url: Some(verification_uri),
                redirect_uri: None,
                message: Some(message),
                user_code: Some(user_code),
                expires_in_seconds: Some(expires_in.as_secs()),
            },
        }
    }
}

/// The JSON of `New-PartnerAccessToken`'s output, shaped like the PartnerCenter module's
/// `AuthResult` (MSAL `AuthenticationResult` plus `RefreshToken`).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AuthResult<'a> {
    access_token: &'a str,
    refresh_token: Option<&'a str>,
    id_token: Option<&'a str>,
    expires_on: chrono::DateTime<chrono::Utc>,
    extended_expires_on: chrono::DateTime<chrono::Utc>,
    is_extended_life_time_token: bool,
    tenant_id: Option<&'a str>,
    unique_id: Option<&'a str>,
    scopes: &'a [String],
    account: AuthAccount<'a>,
    correlation_id: &'a str,
    authentication_methods: &'a [String],
    /// `amr` proves a second factor (the check Partner Center applies to App+User calls).
    has_mfa: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AuthAccount<'a> {
    username: Option<&'a str>,
    environment: &'a str,
    home_account_id: Option<String>,
}

impl<'a> From<&'a IssuedToken> for AuthResult<'a> {
    fn from(t: &'a IssuedToken) -> Self {
        let claims = &t.response.claims;
        Self {
            access_token: t.response.access_token.expose(),
            refresh_token: t.response.refresh_token.as_ref().map(|s| s.expose()),
            id_token: t.response.id_token.as_ref().map(|s| s.expose()),
            expires_on: t.response.expires_on,
            extended_expires_on: t.response.expires_on,
            is_extended_life_time_token: false,
            tenant_id: t.tenant_id.as_deref(),
            unique_id: t.unique_id.as_deref(),
            scopes: &t.response.scopes,
            account: AuthAccount {
                username: t.username.as_deref(),
                environment: &t.environment,
                home_account_id: match (&claims.object_id, &claims.tenant_id) {
                    (Some(oid), Some(tid)) if !claims.is_app_only() => Some(format!("{oid}.{tid}")),
                    _ => None,
                },
            },
            correlation_id: &t.correlation_id,
            authentication_methods: &claims.authentication_methods,
            has_mfa: claims.has_mfa(),
        }
    }
}
