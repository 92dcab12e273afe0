//! Authorization code flow with PKCE and a loopback redirect listener (RFC 8252), the way the
//! PartnerCenter module signs users in: the first free port in 8400–8999, `http://localhost:<port>/`.
//!
//! The flow is split in two so the caller can show the URL (or open a browser) in between:
//! [`AuthorizationFlow::start`] binds the listener and builds the URL; [`AuthorizationFlow::wait`]
//! accepts the browser's redirect and returns the code.

use crate::auth::pkce::{Pkce, random_token};
use crate::environment::Environment;
use crate::error::{Error, Result};
use crate::secret::Secret;
use std::ops::RangeInclusive;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

/// Ports the PartnerCenter module (and app registrations made for it) use for the redirect.
pub const REDIRECT_PORTS: RangeInclusive<u16> = 8400..=8999;
/// The largest request the listener reads; a redirect is far smaller.
const MAX_REQUEST_BYTES: usize = 16 * 1024;

/// What the browser page says after the redirect arrived.
const DONE_PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>PartnerSecurity</title></head><body><h1>Sign-in complete</h1><p>You can close this window and return to PowerShell.</p></body></html>";
const FAILED_PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>PartnerSecurity</title></head><body><h1>Sign-in failed</h1><p>Return to PowerShell for details.</p></body></html>";

#[derive(Debug)]
pub struct AuthorizationFlow {
    listener: TcpListener,
    pub authorize_url: Url,
    pub redirect_uri: String,
    state: String,
    pub pkce: Pkce,
}

/// The code the browser brought back, with what is needed to redeem it.
#[derive(Debug, Clone)]
pub struct AuthorizationCode {
    pub code: Secret,
    pub redirect_uri: String,
    pub code_verifier: Secret,
}

impl AuthorizationFlow {
    /// Binds the loopback listener and builds the authorize URL (`prompt=login`, as the
    /// PartnerCenter module forces a fresh sign-in).
    pub async fn start(environment: &Environment, tenant: &str, client_id: &str, scopes: &[String], login_hint: Option<&str>) -> Result<Self> {
        crate::auth::token::validate_tenant(tenant)?;
        let (listener, port) = bind_first_free(REDIRECT_PORTS).await?;
        let redirect_uri = format!("http://localhost:{port}/");
        let state = random_token(24);
        let pkce = Pkce::new();
        let mut url = Url::parse(&format!("{}{}/oauth2/v2.0/authorize", environment.active_directory_authority, tenant.trim()))
            .map_err(|e| Error::invalid_input("Environment", format!("the authority does not form a URL ({e})")))?;
        let mut all_scopes: Vec<String> = scopes.iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
        for extra in ["openid", "profile", "offline_access"] {
            if !all_scopes.iter().any(|s| s.eq_ignore_ascii_case(extra)) {
                all_scopes.push(extra.to_owned());
            }
        }
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("client_id", client_id.trim())
                .append_pair("response_type", "code")
                .append_pair("redirect_uri", &redirect_uri)
                .append_pair("response_mode", "query")
                .append_pair("scope", &all_scopes.join(" "))
                .append_pair("state", &state)
                .append_pair("code_challenge", &pkce.challenge)
                .append_pair("code_challenge_method", "S256")
                .append_pair("prompt", "login");
            if let Some(hint) = login_hint {
                query.append_pair("login_hint", hint);
            }
        }
        Ok(Self { listener, authorize_url: url, redirect_uri, state, pkce })
    }

    /// Waits for the browser's redirect. Other requests (a favicon, a probe) get a 404 and the
    /// wait goes on; a redirect with a wrong `state` is refused (it did not come from our URL).
    pub async fn wait(self) -> Result<AuthorizationCode> {
        loop {
            let (stream, _) = self.listener.accept().await.map_err(|e| Error::Network { url: self.redirect_uri.clone(), reason: format!("the redirect listener failed ({e})") })?;
            match handle(stream, &self.state).await {
                Ok(Some(code)) => {
                    return Ok(AuthorizationCode { code, redirect_uri: self.redirect_uri.clone(), code_verifier: self.pkce.verifier.clone() });
                }
                Ok(None) => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

async fn bind_first_free(ports: RangeInclusive<u16>) -> Result<(TcpListener, u16)> {
    for port in ports.clone() {
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)).await {
            return Ok((listener, port));
        }
    }
    Err(Error::Network {
        url: format!("http://localhost:{}-{}/", ports.start(), ports.end()),
        reason: "no free port for the sign-in redirect; close other sign-ins in progress or use -UseDeviceAuthentication".into(),
    })
}

/// Serves one request. `Ok(Some(code))` for the redirect, `Ok(None)` for anything else.
async fn handle(mut stream: TcpStream, expected_state: &str) -> Result<Option<Secret>> {
    let mut buffer = Vec::with_capacity(2048);
    let mut chunk = [0u8; 2048];
    while !buffer.windows(4).any(|w| w == b"\r\n\r\n") {
        let read = match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return Ok(None),
            Ok(n) => n,
        };
        buffer.extend_from_slice(&chunk[..read]);
        if buffer.len() > MAX_REQUEST_BYTES {
            let _ = respond(&mut stream, "413 Payload Too Large", "").await;
            return Ok(None);
        }
    }
    let head = String::from_utf8_lossy(&buffer);
    let target = head.lines().next().and_then(|line| {
        let mut parts = line.split_whitespace();
        match (parts.next(), parts.next()) {
            (Some("GET"), Some(target)) => Some(target.to_owned()),
            _ => None,
        }
    });
    let Some(target) = target else {
        let _ = respond(&mut stream, "405 Method Not Allowed", "").await;
        return Ok(None);
    };
    let Ok(url) = Url::parse(&format!("http://localhost{target}")) else {
        let _ = respond(&mut stream, "400 Bad Request", "").await;
        return Ok(None);
    };
    if url.path() != "/" {
        let _ = respond(&mut stream, "404 Not Found", "").await;
        return Ok(None);
    }
    let get = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    if get("state").as_deref() != Some(expected_state) {
        let _ = respond(&mut stream, "400 Bad Request", FAILED_PAGE).await;
        return Ok(None);
    }
    if let Some(error) = get("error") {
        let _ = respond(&mut stream, "200 OK", FAILED_PAGE).await;
        let description = get("error_description").unwrap_or_default();
        return Err(Error::from(crate::error::StsError {
            codes: crate::auth::token::aadsts_codes(&description),
            error,
            description: description.lines().next().unwrap_or("the sign-in was not completed").to_owned(),
            suberror: None,
            correlation_id: None,
            trace_id: None,
            status: 400,
        }));
    }
    match get("code") {
        Some(code) if !code.is_empty() => {
            let _ = respond(&mut stream, "200 OK", DONE_PAGE).await;
            Ok(Some(Secret::new(code)))
        }
        _ => {
            let _ = respond(&mut stream, "400 Bad Request", FAILED_PAGE).await;
            Ok(None)
        }
    }
}

async fn respond(stream: &mut TcpStream, status: &str, body: &str) -> std::io::Result<()> {
    let response = format!("HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n{body}", body.len());
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environment::built_in_environments;

    async fn get(url: &str) -> String {
        let url = Url::parse(url).unwrap();
        let mut stream = TcpStream::connect(("127.0.0.1", url.port().unwrap())).await.unwrap();
        let path = match url.query() {
            Some(q) => format!("{}?{}", url.path(), q),
            None => url.path().to_owned(),
        };
        stream.write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        answer
    }

    fn query(url: &Url, name: &str) -> String {
        url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).unwrap()
    }

    #[tokio::test]
    async fn the_redirect_brings_back_the_code_and_other_requests_are_ignored() {
        let env = &built_in_environments()[0];
        let flow = AuthorizationFlow::start(env, "organizations", "app", &["https://pc/user_impersonation".into()], None).await.unwrap();
        let url = flow.authorize_url.clone();
        assert!(url.as_str().starts_with("https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize?"));
        assert_eq!(query(&url, "code_challenge_method"), "S256");
        assert_eq!(query(&url, "prompt"), "login");
        assert!(query(&url, "scope").contains("offline_access"));
        let redirect = query(&url, "redirect_uri");
        let port: u16 = Url::parse(&redirect).unwrap().port().unwrap();
        assert!(REDIRECT_PORTS.contains(&port));
        let state = query(&url, "state");
        let waiter = tokio::spawn(flow.wait());
        assert!(get(&format!("{redirect}favicon.ico")).await.starts_with("HTTP/1.1 404"));
        assert!(get(&format!("{redirect}?code=forged&state=wrong")).await.starts_with("HTTP/1.1 400"));
        let page = get(&format!("{redirect}?code=the-code&state={state}")).await;
        assert!(page.contains("Sign-in complete"));
        let code = waiter.await.unwrap().unwrap();
        assert_eq!(code.code.expose(), "the-code");
        assert_eq!(code.redirect_uri, redirect);
    }

    #[tokio::test]
    async fn an_error_redirect_becomes_an_sts_error() {
        let env = &built_in_environments()[0];
        let flow = AuthorizationFlow::start(env, "organizations", "app", &[], None).await.unwrap();
        let redirect = query(&flow.authorize_url, "redirect_uri");
        let state = query(&flow.authorize_url, "state");
        let waiter = tokio::spawn(flow.wait());
        get(&format!("{redirect}?error=access_denied&error_description=AADSTS65004%3A+User+declined+to+consent&state={state}")).await;
        let err = waiter.await.unwrap().unwrap_err();
        assert_eq!(err.code().as_deref(), Some("AADSTS65004"));
    }

    #[tokio::test]
    async fn two_flows_get_different_ports() {
        let env = &built_in_environments()[0];
        let a = AuthorizationFlow::start(env, "common", "app", &[], None).await.unwrap();
        let b = AuthorizationFlow::start(env, "common", "app", &[], None).await.unwrap();
        assert_ne!(a.redirect_uri, b.redirect_uri);
    }
}
