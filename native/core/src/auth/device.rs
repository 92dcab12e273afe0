//! Device code flow (RFC 8628): the user approves on another device while we poll.

use crate::environment::Environment;
use crate::error::{Error, Result};
use crate::http::{self, HttpClients};
use crate::secret::Secret;
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;
use url::Url;

/// Polling never goes faster than this, whatever the server says.
const MIN_INTERVAL: Duration = Duration::from_secs(1);
/// RFC 8628 §3.5: on `slow_down` the interval grows by 5 seconds.
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

/// What the user needs to see, and what the poller needs to keep.
#[derive(Debug, Clone)]
pub struct DeviceCode {
    pub device_code: Secret,
    pub user_code: String,
    pub verification_uri: String,
    pub message: String,
    pub expires_in: Duration,
    pub interval: Duration,
}

#[derive(Deserialize)]
struct RawDeviceCode {
    device_code: String,
    user_code: String,
    #[serde(alias = "verification_url")]
    verification_uri: String,
    #[serde(default)]
    message: Option<String>,
    expires_in: Value,
    #[serde(default)]
    interval: Option<Value>,
}

fn seconds(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Asks the devicecode endpoint for a code.
pub async fn request_device_code(clients: &HttpClients, environment: &Environment, tenant: &str, client_id: &str, scopes: &[String]) -> Result<DeviceCode> {
    crate::auth::token::validate_tenant(tenant)?;
    let url = Url::parse(&format!("{}{}/oauth2/v2.0/devicecode", environment.active_directory_authority, tenant.trim()))
        .map_err(|e| Error::invalid_input("Environment", format!("the authority does not form a URL ({e})")))?;
    let mut all: Vec<String> = scopes.iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
    for extra in ["openid", "profile", "offline_access"] {
        if !all.iter().any(|s| s.eq_ignore_ascii_case(extra)) {
            all.push(extra.to_owned());
        }
    }
    let form = [("client_id", client_id.trim().to_owned()), ("scope", all.join(" "))];
    let client = clients.client(environment.trusted_certificate_pem.as_deref())?;
    let answer = http::send(&url, &[], || client.post(url.clone()).form(&form)).await?;
    if !(200..300).contains(&answer.status) {
        // Same error shape as the token endpoint.
        return Err(crate::auth::token::parse_answer(&url, answer.status, &answer.body).err().unwrap_or_else(|| Error::InvalidResponse {
            url: http::endpoint_label(&url),
            reason: format!("HTTP {} without an error description", answer.status),
        }));
    }
    let raw: RawDeviceCode = serde_json::from_slice(&answer.body).map_err(|e| Error::InvalidResponse { url: http::endpoint_label(&url), reason: format!("the device code answer is not the expected JSON ({e})") })?;
    let expires_in = seconds(&raw.expires_in).ok_or_else(|| Error::InvalidResponse { url: http::endpoint_label(&url), reason: "expires_in is missing".into() })?;
    let interval = raw.interval.as_ref().and_then(seconds).unwrap_or(5);
    let message = raw.message.unwrap_or_else(|| format!("To sign in, use a web browser to open the page {} and enter the code {} to authenticate.", raw.verification_uri, raw.user_code));
    Ok(DeviceCode {
        device_code: Secret::new(raw.device_code),
        user_code: raw.user_code,
        verification_uri: raw.verification_uri,
        message,
        expires_in: Duration::from_secs(expires_in),
        interval: Duration::from_secs(interval).max(MIN_INTERVAL),
    })
}

/// What one poll said.
pub enum PollOutcome<T> {
    Done(T),
    Pending,
    SlowDown,
}

/// Polls `poll` at the code's interval until it is done, fails, or the code expires.
/// `authorization_pending` waits; `slow_down` adds 5 s to the interval; anything else ends it.
pub async fn poll_until_done<T, F, Fut>(code: &DeviceCode, mut poll: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<PollOutcome<T>>>,
{
    let deadline = tokio::time::Instant::now() + code.expires_in;
    let mut interval = code.interval;
    loop {
        tokio::time::sleep(interval).await;
        if tokio::time::Instant::now() >= deadline {
            return Err(Error::from(crate::error::StsError {
                error: "expired_token".into(),
                codes: vec![70019],
                description: "The device code expired before the sign-in was completed. Run the command again and complete the sign-in within the time shown.".into(),
                suberror: None,
                correlation_id: None,
                trace_id: None,
                status: 400,
            }));
        }
        match poll().await? {
            PollOutcome::Done(value) => return Ok(value),
            PollOutcome::Pending => {}
            PollOutcome::SlowDown => interval += SLOW_DOWN_STEP,
        }
    }
}

/// Classifies a token-endpoint error while polling.
pub fn classify_poll_error<T>(error: Error) -> Result<PollOutcome<T>> {
    match &error {
        Error::Sts(sts) if sts.error == "authorization_pending" => Ok(PollOutcome::Pending),
        Error::Sts(sts) if sts.error == "slow_down" => Ok(PollOutcome::SlowDown),
        _ => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn code(expires: u64) -> DeviceCode {
        DeviceCode {
            device_code: Secret::new("dc"),
            user_code: "ABCD".into(),
            verification_uri: "https://microsoft.com/devicelogin".into(),
            message: "m".into(),
            expires_in: Duration::from_secs(expires),
            interval: Duration::from_secs(1),
        }
    }

    fn sts(error: &str) -> Error {
        Error::from(crate::error::StsError { error: error.into(), codes: vec![], description: String::new(), suberror: None, correlation_id: None, trace_id: None, status: 400 })
    }

    #[tokio::test(start_paused = true)]
    async fn pending_then_slow_down_then_done() {
        let polls = AtomicU32::new(0);
        let started = tokio::time::Instant::now();
        let result = poll_until_done(&code(900), || async {
            match polls.fetch_add(1, Ordering::SeqCst) {
                0 => classify_poll_error(sts("authorization_pending")),
                1 => classify_poll_error(sts("slow_down")),
                _ => Ok(PollOutcome::Done(42)),
            }
        })
        .await
        .unwrap();
        assert_eq!(result, 42);
        // 1 s, 1 s, then 6 s after slow_down.
        assert_eq!(started.elapsed(), Duration::from_secs(8));
    }

    #[tokio::test(start_paused = true)]
    async fn expiry_and_other_errors_end_the_flow() {
        let err = poll_until_done::<(), _, _>(&code(3), || async { classify_poll_error(sts("authorization_pending")) }).await.unwrap_err();
        assert_eq!(err.code().as_deref(), Some("AADSTS70019"));
        let err = poll_until_done::<(), _, _>(&code(900), || async { classify_poll_error(sts("authorization_declined")) }).await.unwrap_err();
        assert!(matches!(err, Error::Sts(ref s) if s.error == "authorization_declined"));
    }
}
