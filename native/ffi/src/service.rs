//! The service the C# side instantiates once per PowerShell session.

use crate::guarded;
use crate::reply::Reply;
use crate::requests::{self, SignInRequest};
use interoptopus::pattern::asynk::Async;
use interoptopus::rt::Tokio;
use interoptopus::{AsyncRuntime, ffi};
use partnersecurity_core::auth::Claims;
use partnersecurity_core::environment::CustomEnvironment;
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
    runtime: Tokio,
    core: Arc<PartnerSecurity>,
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
        match std::panic::catch_unwind(|| Self { runtime: Tokio::new(), core: Arc::new(PartnerSecurity::new()) }) {
            Ok(service) => ffi::Ok(service),
            Err(_) => ffi::Err(NativeError::Unexpected),
        }
    }

    /// All environments (built-in and custom), as a JSON array.
    pub fn environments(&self) -> Reply {
        guarded::sync(|| Reply::ok(&self.core.environments().all()))
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
    pub fn context(&self) -> Reply {
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
            guarded::async_(async move {
                let request: SignInRequest = match requests::parse(request) {
                    Ok(r) => r,
                    Err(e) => return Reply::error(&e),
                };
                match request.to_connect() {
                    Ok(connect) => core.connect(&request.environment, connect).await.map(|context| Reply::ok(&context)).into(),
                    Err(e) => Reply::error(&e),
                }
            })
            .await,
        )
    }

    /// New-PartnerAccessToken: one token request outside the session; the payload carries the
    /// token values because the caller asked for them.
    pub async fn new_access_token(this: Async<Self>, request: ffi::String) -> ffi::Result<Reply, NativeError> {
        let core = this.core.clone();
        ffi::Ok(
            guarded::async_(async move {
                let request: SignInRequest = match requests::parse(request) {
                    Ok(r) => r,
                    Err(e) => return Reply::error(&e),
                };
                match request.to_access_token() {
                    Ok(token_request) => core.new_access_token(&request.environment, token_request).await.map(|t| Reply::ok(&AuthResult::from(&t))).into(),
                    Err(e) => Reply::error(&e),
                }
            })
            .await,
        )
    }
}

/// The JSON of `New-PartnerAccessToken`'s output (`AuthResult` of the PartnerCenter module).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AuthResult<'a> {
    access_token: &'a str,
    refresh_token: Option<&'a str>,
    id_token: Option<&'a str>,
    expires_on: chrono::DateTime<chrono::Utc>,
    tenant_id: Option<&'a str>,
    unique_id: Option<&'a str>,
    scopes: &'a [String],
    username: Option<&'a str>,
    environment: &'a str,
    correlation_id: &'a str,
    claims: &'a Claims,
}

impl<'a> From<&'a IssuedToken> for AuthResult<'a> {
    fn from(t: &'a IssuedToken) -> Self {
        Self {
            access_token: t.response.access_token.expose(),
            refresh_token: t.response.refresh_token.as_ref().map(|s| s.expose()),
            id_token: t.response.id_token.as_ref().map(|s| s.expose()),
            expires_on: t.response.expires_on,
            tenant_id: t.tenant_id.as_deref(),
            unique_id: t.unique_id.as_deref(),
            scopes: &t.response.scopes,
            username: t.username.as_deref(),
            environment: &t.environment,
            correlation_id: &t.correlation_id,
            claims: &t.response.claims,
        }
    }
}
