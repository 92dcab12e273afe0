//! The one HTTP client: TLS always (plain http only to loopback), timeouts, bounded retries with
//! jittered backoff that honour `Retry-After`, and no secret in any error it produces.

use crate::error::{Error, Result};
use crate::secret::{Secret, redact};
use once_cell::sync::OnceCell;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;
use url::Url;

/// How long one request may take before it counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(100);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Attempts for a request that fails transiently (5xx, 429, connection errors).
pub const MAX_ATTEMPTS: u32 = 4;
/// A `Retry-After` longer than this is not waited for; the caller gets a throttling error.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

/// `true` for `localhost` and loopback IP addresses.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Tokens only travel over TLS; plain http is tolerated for loopback (a local emulator).
pub fn require_secure_endpoint(url: &Url) -> Result<()> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        _ => Err(Error::InsecureEndpoint { url: url.to_string() }),
    }
}

fn install_crypto_provider() {
    static INSTALLED: OnceCell<()> = OnceCell::new();
    INSTALLED.get_or_init(|| {
        // Err means another component installed a provider first; that one serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Builds reqwest clients: one that trusts the operating system's roots, and one per extra
/// certificate a custom environment asked to trust (kept so connections are reused).
#[derive(Default)]
pub struct HttpClients {
    system: OnceCell<reqwest::Client>,
    pinned: Mutex<HashMap<String, reqwest::Client>>,
}

impl HttpClients {
    pub fn new() -> Self {
        Self::default()
    }

    /// The client for endpoints of an environment; `trusted_pem` replaces the system roots.
    pub fn client(&self, trusted_pem: Option<&str>) -> Result<reqwest::Client> {
        install_crypto_provider();
        match trusted_pem {
            None => self.system.get_or_try_init(|| build(None)).cloned(),
            Some(pem) => {
                let mut pinned = self.pinned.lock();
                if let Some(client) = pinned.get(pem) {
                    return Ok(client.clone());
                }
                let client = build(Some(pem))?;
                pinned.insert(pem.to_owned(), client.clone());
                Ok(client)
            }
        }
    }
}

fn build(trusted_pem: Option<&str>) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .user_agent(concat!("PartnerSecurity/", env!("CARGO_PKG_VERSION")))
        // A redirect could carry the Authorization header to another host.
        .redirect(reqwest::redirect::Policy::none());
    if let Some(pem) = trusted_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
            .map_err(|e| Error::invalid_input("TrustedCertificatePath", format!("the certificate could not be read: {e}")))?;
        builder = builder.tls_certs_only(certs);
    }
    builder.build().map_err(|e| Error::Internal(format!("building the HTTP client failed: {e}")))
}

/// A response body read completely, with its status and the headers callers need.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
    pub retry_after: Option<Duration>,
    pub request_id: Option<String>,
    /// `WWW-Authenticate` of a 401 (`Bearer ... error="invalid_token"`).
    pub challenge: Option<String>,
}

impl Answer {
    /// A 401 whose challenge says the access token itself was refused (expired by the server's
    /// clock, revoked, or not yet valid), so a freshly issued one may be accepted.
    pub fn is_invalid_token(&self) -> bool {
        self.status == 401 && self.challenge.as_deref().is_some_and(|c| c.contains("invalid_token"))
    }
}

/// Sends a request built by `make` (called once per attempt), retrying transient failures.
/// `secrets` are redacted from any error text; `url` names the endpoint in messages.
pub async fn send<F>(url: &Url, secrets: &[&Secret], make: F) -> Result<Answer>
where
    F: Fn() -> reqwest::RequestBuilder,
{
    send_checked(url, secrets, make, false).await
}

/// [`send`] for idempotent reads whose successful answer must be whole JSON: a body that breaks
/// off (connection reset, fewer bytes than `Content-Length`) or a 2xx or 4xx body that is not JSON
/// (cut by a proxy) is one more transient failure, retried within the same attempts. After the last
/// attempt the caller gets what came, and its own parse error says what was wrong.
pub async fn get_json<F>(url: &Url, secrets: &[&Secret], make: F) -> Result<Answer>
where
    F: Fn() -> reqwest::RequestBuilder,
{
    send_checked(url, secrets, make, true).await
}

async fn send_checked<F>(url: &Url, secrets: &[&Secret], make: F, whole_json: bool) -> Result<Answer>
where
    F: Fn() -> reqwest::RequestBuilder,
{
    require_secure_endpoint(url)?;
    let endpoint = endpoint_label(url);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let outcome = make().send().await;
        let transient_wait = match outcome {
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = parse_retry_after(response.headers());
                let request_id = header(response.headers(), "request-id").or_else(|| header(response.headers(), "x-ms-request-id"));
                let challenge = header(response.headers(), "www-authenticate");
                let transient = status == 429 || status == 503 || status == 502 || status == 504 || status == 500;
                if transient && attempt < MAX_ATTEMPTS && retry_after.is_none_or(|d| d <= MAX_RETRY_AFTER) {
                    retry_after.unwrap_or_else(|| backoff(attempt))
                } else {
                    let retry = whole_json && attempt < MAX_ATTEMPTS;
                    match response.bytes().await {
                        // A body cut short or garbled on the way is read again: a success's, and a
                        // client error's too (Graph and Partner Center explain those in JSON; garbled,
                        // a 400 would pass for "not available here").
                        Ok(body) if retry && ((200..300).contains(&status) || ((400..500).contains(&status) && !body.is_empty())) && serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_err() => backoff(attempt),
                        Ok(body) => return Ok(Answer { status, body: body.into(), retry_after, request_id, challenge }),
                        Err(_) if retry => backoff(attempt),
                        Err(e) => {
                            return Err(Error::Network {
                                url: endpoint.clone(),
                                reason: redact(&format!("reading the answer failed after {attempt} attempt(s) ({e})"), secrets),
                            });
                        }
                    }
                }
            }
            Err(e) => {
                if attempt >= MAX_ATTEMPTS || e.is_builder() {
                    let reason = format!("{} (after {attempt} attempt(s))", describe(&e));
                    return Err(Error::Network { url: endpoint, reason: redact(&reason, secrets) });
                }
                backoff(attempt)
            }
        };
        tracing::debug!(endpoint = %endpoint, attempt, wait_ms = transient_wait.as_millis() as u64, "retrying after a transient failure");
        tokio::time::sleep(transient_wait).await;
    }
}

/// One attempt, without retries: for callers that pace every attempt themselves (the sign-in
/// reports spend a throttle budget on each request, so a hidden retry would overspend it).
/// A body that breaks off (connection reset, fewer bytes than announced) is a `Network` error,
/// like a failed connection; the status and `Retry-After` of a complete answer are the caller's
/// to judge (see [`is_transient`]).
pub async fn send_once<F>(url: &Url, secrets: &[&Secret], make: F) -> Result<Answer>
where
    F: FnOnce() -> reqwest::RequestBuilder,
{
    require_secure_endpoint(url)?;
    let endpoint = endpoint_label(url);
    let response = make().send().await.map_err(|e| Error::Network { url: endpoint.clone(), reason: redact(&describe(&e), secrets) })?;
    let status = response.status().as_u16();
    let retry_after = parse_retry_after(response.headers());
    let request_id = header(response.headers(), "request-id").or_else(|| header(response.headers(), "x-ms-request-id"));
    let challenge = header(response.headers(), "www-authenticate");
    let body = response.bytes().await.map_err(|e| Error::Network { url: endpoint, reason: redact(&format!("reading the answer failed ({})", describe(&e)), secrets) })?;
    Ok(Answer { status, body: body.into(), retry_after, request_id, challenge })
}

/// Statuses worth another attempt: throttling and the server-side failures that pass.
pub fn is_transient(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

/// The wait before attempt `attempt + 1` when the server named none (jittered, exponential).
pub fn retry_delay(attempt: u32) -> Duration {
    backoff(attempt)
}

/// A bearer token may only travel to the service it was issued for. `audience` is the token's
/// `aud`; when it is a URL (as for Partner Center, Graph and Key Vault v1 tokens) the request must
/// go to that scheme and host. `endpoint` is the environment's endpoint the caller meant to call;
/// the request must stay under it (a `nextLink` or redirect cannot move a token elsewhere).
pub fn confine(url: &Url, endpoint: &str, audience: Option<&str>) -> Result<()> {
    require_secure_endpoint(url)?;
    let refuse = |reason: String| Err(Error::TokenConfinement { url: endpoint_label(url), reason });
    let base = Url::parse(endpoint).map_err(|e| Error::invalid_input("Environment", format!("the endpoint '{endpoint}' is not a URL ({e})")))?;
    if url.scheme() != base.scheme() || url.host_str() != base.host_str() || url.port_or_known_default() != base.port_or_known_default() {
        return refuse(format!("it is not on the endpoint {endpoint}"));
    }
    if let Some(aud) = audience.and_then(|a| Url::parse(a).ok()).filter(|a| a.host_str().is_some())
        && aud.host_str() != url.host_str()
    {
        return refuse(format!("the token was issued for {} (aud), not for {}", aud.host_str().unwrap_or_default(), url.host_str().unwrap_or_default()));
    }
    Ok(())
}

/// The endpoint without query string (which could hold a secret).
pub fn endpoint_label(url: &Url) -> String {
    let mut clean = url.clone();
    clean.set_query(None);
    clean.set_fragment(None);
    clean.to_string()
}

fn header(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

fn parse_retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    value.parse::<u64>().ok().map(Duration::from_secs)
}

/// Exponential backoff with full jitter: 0.5 s, 1 s, 2 s … scaled by a random factor.
fn backoff(attempt: u32) -> Duration {
    let base = 500u64.saturating_mul(1 << attempt.saturating_sub(1).min(6));
    let jitter = rand_fraction();
    Duration::from_millis(base / 2 + (base as f64 * jitter / 2.0) as u64)
}

fn rand_fraction() -> f64 {
    // uuid v4 draws from the OS RNG; enough randomness for jitter without another dependency.
    let bits = uuid::Uuid::new_v4().as_u128() as u64;
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "the request timed out".to_owned()
    } else if e.is_connect() {
        "the connection could not be made".to_owned()
    } else {
        "the request failed".to_owned()
    };
    // The innermost cause says the useful part (certificate unknown, connection refused, …).
    let mut source = std::error::Error::source(e);
    let mut last = None;
    while let Some(s) = source {
        last = Some(s.to_string());
        source = s.source();
    }
    if let Some(cause) = last {
        text.push_str(&format!(" ({cause})"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_detection() {
        for ok in ["http://127.0.0.1:1/", "http://localhost/", "http://[::1]:8080/x", "https://example.com"] {
            assert!(require_secure_endpoint(&Url::parse(ok).unwrap()).is_ok(), "{ok}");
        }
        for bad in ["http://example.com", "http://10.0.0.1", "ftp://127.0.0.1", "http://localhost.evil.com"] {
            assert!(require_secure_endpoint(&Url::parse(bad).unwrap()).is_err(), "{bad}");
        }
    }

    #[test]
    fn backoff_grows_and_stays_bounded() {
        for attempt in 1..10 {
            let d = backoff(attempt);
            assert!(d <= Duration::from_millis(500 * 64), "{d:?}");
        }
        assert!(backoff(1) <= Duration::from_millis(500));
    }

    #[test]
    fn tokens_stay_with_their_audience_and_endpoint() {
        let url = |u: &str| Url::parse(u).unwrap();
        let pc = "https://api.partnercenter.microsoft.com";
        assert!(confine(&url("https://api.partnercenter.microsoft.com/v1/customers"), pc, Some(pc)).is_ok());
        assert!(confine(&url("https://evil.example/v1/customers"), pc, Some(pc)).is_err());
        assert!(confine(&url("https://api.partnercenter.microsoft.com/v1/x"), pc, Some("https://graph.microsoft.com")).is_err());
        assert!(confine(&url("https://api.partnercenter.microsoft.com:8443/v1/x"), pc, None).is_err());
        assert!(confine(&url("http://api.partnercenter.microsoft.com/v1/x"), "http://api.partnercenter.microsoft.com", None).is_err(), "plain http off loopback");
        // A GUID audience (Graph requested by app id) is checked against the endpoint only.
        assert!(confine(&url("https://graph.microsoft.com/beta/auditLogs/signIns"), "https://graph.microsoft.com", Some("00000003-0000-0000-c000-000000000000")).is_ok());
        let emulator = "https://127.0.0.1:8443/graph";
        assert!(confine(&url("https://127.0.0.1:8443/graph/v1.0/me"), emulator, Some(emulator)).is_ok());
        assert!(confine(&url("https://127.0.0.1:9443/graph/v1.0/me"), emulator, Some(emulator)).is_err());
    }

    #[test]
    fn endpoint_label_drops_the_query() {
        let url = Url::parse("https://h/p?secret=1#f").unwrap();
        assert_eq!(endpoint_label(&url), "https://h/p");
    }
}
