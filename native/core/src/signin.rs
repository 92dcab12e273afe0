//! Interactive sign-in in two steps, so the caller can show the user what to do in between:
//! `begin` (bind the redirect listener or get a device code) and `finish` (wait for the
//! browser's redirect or poll until the user approved, then redeem).

use crate::auth::device::{self, DeviceCode, PollOutcome};
use crate::auth::interactive::AuthorizationFlow;
use crate::auth::token::{self, ClientCredential, Grant, TokenRequest, TokenResponse, TokenTarget};
use crate::environment::Environment;
use crate::error::{Error, Result};
use crate::http::HttpClients;
use crate::session::{DEFAULT_PUBLIC_CLIENT_ID, DEFAULT_TENANT, partner_center_scope};
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::time::Duration;

/// Sign-ins begun but not finished that are kept at most; the oldest is dropped (closing its
/// listener) when a new one would exceed this.
const MAX_PENDING: usize = 8;

#[derive(Debug, Clone)]
pub struct SignInRequest {
    pub tenant: Option<String>,
    pub application_id: Option<String>,
    pub credential: ClientCredential,
    pub scopes: Vec<String>,
    pub use_device_code: bool,
    pub login_hint: Option<String>,
}

/// What the user has to do.
#[derive(Debug, Clone)]
pub enum SignInPrompt {
    /// Open this URL in a browser; the redirect comes back to `redirect_uri`.
    Browser { url: String, redirect_uri: String },
    /// Enter `user_code` at `verification_uri` (`message` says so in Entra ID's words).
    DeviceCode { message: String, user_code: String, verification_uri: String, expires_in: Duration },
}

enum Flow {
    Browser(AuthorizationFlow),
    Device(DeviceCode),
}

struct Pending {
    id: String,
    environment: Environment,
    tenant: String,
    client_id: String,
    credential: ClientCredential,
    scopes: Vec<String>,
    flow: Flow,
}

/// A completed interactive sign-in.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub tenant: String,
    pub client_id: String,
    pub credential: ClientCredential,
    /// The first scope asked for (the one the session's first token is for).
    pub scope: String,
    pub response: TokenResponse,
}

#[derive(Default)]
pub struct PendingSignIns {
    pending: Mutex<VecDeque<Pending>>,
}

impl PendingSignIns {
    pub fn new() -> Self {
        Self::default()
    }

    pub async fn begin(&self, http: &HttpClients, environment: Environment, request: SignInRequest) -> Result<(String, SignInPrompt)> {
        let tenant = request.tenant.filter(|t| !t.trim().is_empty()).unwrap_or_else(|| DEFAULT_TENANT.to_owned());
        let client_id = request.application_id.filter(|a| !a.trim().is_empty()).unwrap_or_else(|| DEFAULT_PUBLIC_CLIENT_ID.to_owned());
        let mut scopes: Vec<String> = request.scopes.into_iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
        if scopes.is_empty() {
            scopes.push(partner_center_scope(&environment, false));
        }
        token::validate_tenant(&tenant)?;
        if request.use_device_code && !matches!(request.credential, ClientCredential::None) {
            // Entra ID answers AADSTS7000218 for confidential clients here; say it up front.
            return Err(Error::invalid_input("UseDeviceAuthentication", "device code sign-in works with public (native) applications only; use -UseAuthorizationCode for a web application with a secret or certificate"));
        }
        let (flow, prompt) = if request.use_device_code {
            let code = device::request_device_code(http, &environment, &tenant, &client_id, &scopes).await?;
            let prompt = SignInPrompt::DeviceCode { message: code.message.clone(), user_code: code.user_code.clone(), verification_uri: code.verification_uri.clone(), expires_in: code.expires_in };
            (Flow::Device(code), prompt)
        } else {
            let flow = AuthorizationFlow::start(&environment, &tenant, &client_id, &scopes, request.login_hint.as_deref()).await?;
            let prompt = SignInPrompt::Browser { url: flow.authorize_url.to_string(), redirect_uri: flow.redirect_uri.clone() };
            (Flow::Browser(flow), prompt)
        };
        let id = uuid::Uuid::new_v4().to_string();
        let mut pending = self.pending.lock();
        while pending.len() >= MAX_PENDING {
            pending.pop_front();
        }
        pending.push_back(Pending { id: id.clone(), environment, tenant, client_id, credential: request.credential, scopes, flow });
        Ok((id, prompt))
    }

    /// Drops a sign-in that will not be finished (its listener closes).
    pub fn abandon(&self, id: &str) -> bool {
        let mut pending = self.pending.lock();
        let before = pending.len();
        pending.retain(|p| p.id != id);
        before != pending.len()
    }

    /// Waits for the user and redeems. Cancelling the returned future abandons the sign-in.
    pub async fn finish(&self, http: &HttpClients, id: &str) -> Result<(Environment, SignedIn)> {
        let taken = {
            let mut pending = self.pending.lock();
            let position = pending.iter().position(|p| p.id == id);
            position.and_then(|i| pending.remove(i))
        };
        let Some(p) = taken else {
            return Err(Error::invalid_input("SignIn", "this sign-in is unknown or was already finished or abandoned; start it again"));
        };
        let request = |grant: Grant| TokenRequest {
            tenant: p.tenant.clone(),
            client_id: p.client_id.clone(),
            credential: p.credential.clone(),
            grant,
            target: TokenTarget::Scopes(p.scopes.clone()),
        };
        let response = match p.flow {
            Flow::Browser(flow) => {
                let code = flow.wait().await?;
                let grant = Grant::AuthorizationCode { code: code.code, redirect_uri: code.redirect_uri, code_verifier: code.code_verifier };
                token::request_token(http, &p.environment, &request(grant)).await?
            }
            Flow::Device(code) => {
                let grant_request = request(Grant::DeviceCode(code.device_code.clone()));
                device::poll_until_done(&code, || async {
                    match token::request_token(http, &p.environment, &grant_request).await {
                        Ok(response) => Ok(PollOutcome::Done(response)),
                        Err(e) => device::classify_poll_error(e),
                    }
                })
                .await?
            }
        };
        let tenant = response.claims.tenant_id.clone().unwrap_or(p.tenant);
        let scope = p.scopes.first().cloned().unwrap_or_default();
        Ok((p.environment, SignedIn { tenant, client_id: p.client_id, credential: p.credential, scope, response }))
    }
}
