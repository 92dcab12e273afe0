//! STS error responses, exactly as api-contracts §1.10 describes them: `error`,
//! `error_description` (`"AADSTS<code>: <message>\r\nTrace ID: ...\r\nCorrelation ID: ...\r\n
//! Timestamp: ..."`), `error_codes`, `timestamp`, `trace_id`, `correlation_id`, `error_uri`, and
//! optionally `suberror` and `claims`. HTTP 401 for `invalid_client`, 400 otherwise.
//!
//! One constructor per AADSTS code keeps the message texts in one place; they are Microsoft's
//! documented texts (reference-error-codes.md) with runtime values substituted.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

/// Content type of every STS JSON response.
pub const JSON_UTF8: &str = "application/json; charset=utf-8";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StsError {
    pub code: u32,
    /// OAuth2 `error` value.
    pub error: &'static str,
    pub message: String,
    pub suberror: Option<&'static str>,
}

/// Per-request values every STS response needs.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    /// Echo of the `client-request-id` header, or a fresh GUID.
    pub correlation_id: String,
    pub now: DateTime<Utc>,
    pub base_url: String,
}

/// .NET round-trip format with 7 fractional digits, as Entra writes dates inside messages.
pub fn dotnet_round_trip(t: DateTime<Utc>) -> String {
    format!(
        "{}.{:07}Z",
        t.format("%Y-%m-%dT%H:%M:%S"),
        t.timestamp_subsec_nanos() / 100
    )
}

impl StsError {
    fn new(code: u32, error: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            error,
            message: message.into(),
            suberror: None,
        }
    }

    fn with_suberror(mut self, suberror: &'static str) -> Self {
        self.suberror = Some(suberror);
        self
    }

    pub fn status(&self) -> StatusCode {
        match self.error {
            "invalid_client" => StatusCode::UNAUTHORIZED,
            "server_error" => StatusCode::INTERNAL_SERVER_ERROR,
            "temporarily_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    pub fn body(&self, meta: &RequestMeta) -> Value {
        let trace_id = uuid::Uuid::new_v4().to_string();
        let timestamp = meta.now.format("%Y-%m-%d %H:%M:%SZ").to_string();
        let description = format!(
            "AADSTS{}: {}\r\nTrace ID: {}\r\nCorrelation ID: {}\r\nTimestamp: {}",
            self.code, self.message, trace_id, meta.correlation_id, timestamp
        );
        let mut body = Map::new();
        body.insert("error".into(), json!(self.error));
        body.insert("error_description".into(), json!(description));
        body.insert("error_codes".into(), json!([self.code]));
        body.insert("timestamp".into(), json!(timestamp));
        body.insert("trace_id".into(), json!(trace_id));
        body.insert("correlation_id".into(), json!(meta.correlation_id));
        body.insert(
            "error_uri".into(),
            json!(format!("{}/error?code={}", meta.base_url, self.code)),
        );
        if let Some(sub) = self.suberror {
            body.insert("suberror".into(), json!(sub));
        }
        Value::Object(body)
    }

    pub fn render(&self, meta: &RequestMeta) -> Response {
        let mut response = (self.status(), Json(self.body(meta))).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store, no-cache"),
        );
        response
    }

    // --- request shape -------------------------------------------------------------------

    pub fn missing_parameter(name: &str) -> Self {
        Self::new(
            900144,
            "invalid_request",
            format!("The request body must contain the following parameter: '{name}'."),
        )
    }

    pub fn resource_parameter_not_supported() -> Self {
        Self::new(
            901002,
            "invalid_request",
            "The 'resource' request parameter is not supported.",
        )
    }

    pub fn unsupported_grant_type(grant_type: &str) -> Self {
        Self::new(
            70003,
            "unsupported_grant_type",
            format!("The app requested an unsupported grant type '{grant_type}'."),
        )
    }

    // --- tenants ---------------------------------------------------------------------------

    pub fn tenant_not_found(segment: &str) -> Self {
        Self::new(
            90002,
            "invalid_request",
            format!(
                "Tenant '{segment}' not found. Check to make sure you have the correct tenant ID and are signing into the \
                 correct cloud. Check with your subscription administrator, this may happen if there are no active \
                 subscriptions for the tenant."
            ),
        )
    }

    pub fn no_tenant_identifying_information() -> Self {
        Self::new(
            50059,
            "invalid_request",
            "No tenant-identifying information found in either the request or implied by any provided credentials.",
        )
    }

    pub fn single_tenant_app_on_common(app_id: &str, app_name: &str) -> Self {
        Self::new(
            50194,
            "invalid_request",
            format!(
                "Application '{app_id}'({app_name}) is not configured as a multi-tenant application. Usage of the /common \
                 endpoint is not supported for such applications created after '10/15/2018'. Use a tenant-specific \
                 endpoint or configure the application to be multi-tenant."
            ),
        )
    }

    pub fn grant_not_supported_on_common() -> Self {
        Self::new(
            9001023,
            "invalid_request",
            "The grant type is not supported over the /common or /consumers endpoints. Please use the /organizations or \
             tenant-specific endpoint.",
        )
    }

    pub fn app_not_authorized_in_tenant(app_id: &str, app_name: &str, tenant: &str) -> Self {
        Self::new(
            90099,
            "invalid_grant",
            format!(
                "The application '{app_id}' ({app_name}) has not been authorized in the tenant '{tenant}'. Applications \
                 must be authorized to access the customer tenant before partner delegated administrators can use them."
            ),
        )
    }

    // --- clients ---------------------------------------------------------------------------

    pub fn unknown_client(client_id: &str, tenant: &str) -> Self {
        Self::new(
            700016,
            "unauthorized_client",
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if \
                 the application has not been installed by the administrator of the tenant or consented to by any user \
                 in the tenant. You may have sent your authentication request to the wrong tenant."
            ),
        )
    }

    pub fn client_secret_expected() -> Self {
        Self::new(
            7000218,
            "invalid_client",
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )
    }

    pub fn invalid_client_secret(app_id: &str) -> Self {
        Self::new(
            7000215,
            "invalid_client",
            format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, \
                 not the client secret ID, for a secret added to app '{app_id}'."
            ),
        )
    }

    pub fn client_secret_expired(app_id: &str) -> Self {
        Self::new(
            7000222,
            "invalid_client",
            format!(
                "The provided client secret keys for app '{app_id}' are expired. Visit the Azure portal to create new \
                 keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added \
                 security: https://aka.ms/certCreds."
            ),
        )
    }

    pub fn public_client_sent_credential() -> Self {
        Self::new(
            700025,
            "invalid_client",
            "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
        )
    }

    pub fn credentials_conflict() -> Self {
        Self::new(
            70002,
            "invalid_client",
            "Error validating credentials. Present either 'client_assertion' or 'client_secret', not both.",
        )
    }

    pub fn unsupported_assertion_type(assertion_type: &str) -> Self {
        Self::new(
            70002,
            "invalid_client",
            format!(
                "Error validating credentials. The client_assertion_type '{assertion_type}' is not supported; use \
                 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'."
            ),
        )
    }

    // --- client assertions (certificate credentials, api-contracts §1.3) -------------------

    pub fn assertion_malformed(reason: &str) -> Self {
        Self::new(
            50027,
            "invalid_client",
            format!("JWT token is invalid or malformed. {reason}"),
        )
    }

    pub fn assertion_key_not_found(thumbprint: &str, app_id: &str) -> Self {
        Self::new(
            700027,
            "invalid_client",
            format!(
                "Client assertion failed signature validation. [Reason - The key was not found., Thumbprint of key used \
                 by client: '{thumbprint}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to \
                 see configured keys for app Id '{app_id}'.]"
            ),
        )
    }

    pub fn assertion_bad_signature(thumbprint: &str) -> Self {
        Self::new(
            700027,
            "invalid_client",
            format!(
                "Client assertion failed signature validation. [Reason - The provided signature value did not match \
                 the expected signature value., Thumbprint of key used by client: '{thumbprint}']"
            ),
        )
    }

    pub fn assertion_unsupported_algorithm(alg: &str) -> Self {
        Self::new(
            700027,
            "invalid_client",
            format!(
                "Client assertion failed signature validation. [Reason - The signing algorithm '{alg}' is not \
                 supported; use RS256 or PS256.]"
            ),
        )
    }

    pub fn assertion_key_expired(
        thumbprint: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Self {
        Self::new(
            700027,
            "invalid_client",
            format!(
                "Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint of key \
                 used by client: '{thumbprint}', Found key 'Start={}, End={}']",
                start.format("%m/%d/%Y %H:%M:%S"),
                end.format("%m/%d/%Y %H:%M:%S")
            ),
        )
    }

    pub fn assertion_subject_mismatch() -> Self {
        Self::new(
            50048,
            "invalid_client",
            "Subject mismatches Issuer claim in the client assertion.",
        )
    }

    pub fn assertion_wrong_client() -> Self {
        Self::new(
            700021,
            "invalid_client",
            "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at \
             https://aka.ms/certCreds.",
        )
    }

    pub fn assertion_audience(expected: &str) -> Self {
        Self::new(
            50012,
            "invalid_client",
            format!(
                "Client assertion audience claim does not match Realm issuer. The audience must be the token endpoint \
                 the assertion is sent to, e.g. '{expected}'. Review the documentation at https://aka.ms/certCreds."
            ),
        )
    }

    pub fn assertion_time_range(
        now: DateTime<Utc>,
        nbf: Option<DateTime<Utc>>,
        exp: DateTime<Utc>,
    ) -> Self {
        let from = nbf.map_or_else(|| "(no nbf)".to_owned(), dotnet_round_trip);
        Self::new(
            700024,
            "invalid_client",
            format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {from}, \
                 expiry time of assertion {}. Review the documentation at https://aka.ms/certCreds.",
                dotnet_round_trip(now),
                dotnet_round_trip(exp)
            ),
        )
    }

    /// Replay of an accepted assertion. Entra's exact code is undocumented; the emulator uses
    /// the umbrella "Error validating credentials" code.
    pub fn assertion_replayed() -> Self {
        Self::new(
            70002,
            "invalid_client",
            "Error validating credentials. The client assertion was already used: its 'jti' was presented before \
             (replay). Sign a new assertion with a fresh 'jti' for every request.",
        )
    }

    // --- grants ----------------------------------------------------------------------------

    pub fn malformed_grant() -> Self {
        Self::new(
            9002313,
            "invalid_grant",
            "Invalid request. Request is malformed or invalid.",
        )
    }

    pub fn refresh_token_for_other_client() -> Self {
        Self::new(
            70000,
            "invalid_grant",
            "Provided grant is invalid or malformed. The refresh token was issued to a different client.",
        )
    }

    pub fn refresh_token_revoked(auth_time: DateTime<Utc>, valid_from: DateTime<Utc>) -> Self {
        Self::new(
            50173,
            "invalid_grant",
            format!(
                "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might \
                 have changed or reset their password. The grant was issued on '{}' and the TokensValidFrom date (before \
                 which tokens are not valid) for this user is '{}'.",
                dotnet_round_trip(auth_time),
                dotnet_round_trip(valid_from)
            ),
        )
    }

    pub fn refresh_token_inactive(issued_at: DateTime<Utc>) -> Self {
        Self::new(
            700082,
            "invalid_grant",
            format!(
                "The refresh token has expired due to inactivity. The token was issued on {} and was inactive for \
                 90.00:00:00.",
                dotnet_round_trip(issued_at)
            ),
        )
    }

    pub fn consent_required(app_id: &str, app_name: &str) -> Self {
        Self::new(
            65001,
            "invalid_grant",
            format!(
                "The user or administrator has not consented to use the application with ID '{app_id}' named \
                 '{app_name}'. Send an interactive authorization request for this user and resource."
            ),
        )
        .with_suberror("consent_required")
    }

    // --- authorization code (api-contracts §1.4) ------------------------------------------

    pub fn authorization_code_invalid() -> Self {
        Self::new(
            70000,
            "invalid_grant",
            "The provided value for the 'code' parameter is not valid.",
        )
    }

    pub fn authorization_code_other_client() -> Self {
        Self::new(
            70000,
            "invalid_grant",
            "The provided value for the 'code' parameter is not valid. The code was issued to a different client.",
        )
    }

    pub fn authorization_code_other_tenant() -> Self {
        Self::new(
            700005,
            "invalid_grant",
            "Provided Authorization Code is intended to use against other tenant, thus rejected.",
        )
    }

    pub fn authorization_code_redeemed() -> Self {
        Self::new(
            54005,
            "invalid_grant",
            "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing \
             refresh token.",
        )
    }

    pub fn authorization_code_expired() -> Self {
        Self::new(
            70008,
            "invalid_grant",
            "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive \
             authorization request for this user and resource.",
        )
    }

    pub fn reply_address_mismatch(sent: &str, original: &str) -> Self {
        Self::new(
            500112,
            "invalid_grant",
            format!(
                "The reply address '{sent}' does not match the reply address '{original}' provided when requesting \
                 Authorization code."
            ),
        )
    }

    pub fn code_verifier_mismatch() -> Self {
        Self::new(
            501481,
            "invalid_grant",
            "The Code_Verifier doesn't match the code_challenge supplied in the authorization request.",
        )
    }

    // --- the authorize endpoint --------------------------------------------------------------

    pub fn redirect_uri_mismatch(redirect_uri: &str, app_id: &str) -> Self {
        Self::new(
            50011,
            "invalid_request",
            format!(
                "The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured \
                 for the application '{app_id}'. Make sure the redirect URI sent in the request matches one added to \
                 your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more \
                 about how to fix this."
            ),
        )
    }

    pub fn unsupported_response_type(response_type: &str) -> Self {
        Self::new(
            70005,
            "unsupported_response_type",
            format!(
                "The app returned an unsupported response type due to the following reasons: response_type \
                 '{response_type}' is not enabled for the application."
            ),
        )
    }

    pub fn unsupported_response_mode(mode: &str) -> Self {
        Self::new(
            70007,
            "invalid_request",
            format!(
                "The app returned an unsupported value of response_mode '{mode}' when requesting a token. Use query, \
                 fragment or form_post."
            ),
        )
    }

    pub fn code_challenge_missing() -> Self {
        Self::new(
            50147,
            "invalid_request",
            "The code_challenge parameter is missing or its size is not valid (code_challenge_method was sent).",
        )
    }

    pub fn code_challenge_invalid(detail: &str) -> Self {
        Self::new(
            501491,
            "invalid_request",
            format!("Invalid size of Code_Challenge parameter. {detail}"),
        )
    }

    pub fn login_required() -> Self {
        Self::new(
            50058,
            "login_required",
            "Session information is not sufficient for single-sign-on. No user is signed in: script one with \
             POST /_emulator/sign-in/next, a login_hint, or the tenant's interactiveSignIn.",
        )
    }

    pub fn user_declined_consent() -> Self {
        Self::new(
            65004,
            "access_denied",
            "User declined to consent to access the app.",
        )
    }

    // --- device code (api-contracts §1.6) ----------------------------------------------------

    pub fn authorization_pending() -> Self {
        Self::new(
            70016,
            "authorization_pending",
            "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
        )
    }

    /// RFC 8628 `slow_down`. Entra does not document it; the emulator sends it with the
    /// pending code.
    pub fn slow_down(interval: u32) -> Self {
        Self::new(
            70016,
            "slow_down",
            format!(
                "OAuth 2.0 device flow error. Authorization is pending and the client is polling too often. Wait at \
                 least {interval} seconds between requests (RFC 8628: add 5 seconds to the interval)."
            ),
        )
    }

    pub fn device_authorization_declined() -> Self {
        Self::new(
            70017,
            "authorization_declined",
            "OAuth 2.0 device flow error. The end user denied the authorization request.",
        )
    }

    pub fn bad_verification_code() -> Self {
        Self::new(
            70018,
            "bad_verification_code",
            "OAuth 2.0 device flow error. Invalid verification code: the device code is unknown or was issued to \
             another client.",
        )
    }

    pub fn device_code_expired() -> Self {
        Self::new(
            70019,
            "expired_token",
            "OAuth 2.0 device flow error. Verification code expired. Have the user retry the sign-in.",
        )
    }

    pub fn device_code_redeemed() -> Self {
        Self::new(
            70000,
            "invalid_grant",
            "The provided value for the 'device_code' parameter is not valid: it was already redeemed.",
        )
    }

    // --- scopes and resources --------------------------------------------------------------

    pub fn invalid_scope(scope: &str) -> Self {
        Self::new(
            70011,
            "invalid_scope",
            format!(
                "The provided value for the input parameter 'scope' isn't valid. The scope {scope} isn't valid."
            ),
        )
    }

    pub fn more_than_one_resource(scope: &str) -> Self {
        Self::new(
            28000,
            "invalid_scope",
            format!(
                "Provided value for the input parameter scope is not valid because it contains more than one resource. \
                 Scope {scope} is not valid."
            ),
        )
    }

    pub fn client_credentials_scope(scope: &str) -> Self {
        Self::new(
            1002012,
            "invalid_scope",
            format!(
                "The provided value for scope {scope} is not valid. Client credential flows must have a scope value \
                 with /.default suffixed to the resource identifier (application ID URI)."
            ),
        )
    }

    pub fn resource_not_found(resource: &str, tenant: &str) -> Self {
        Self::new(
            500011,
            "invalid_resource",
            format!(
                "The resource principal named {resource} was not found in the tenant named {tenant}. This can happen if \
                 the application has not been installed by the administrator of the tenant or consented to by any user \
                 in the tenant. You might have sent your authentication request to the wrong tenant."
            ),
        )
    }

    // --- users -----------------------------------------------------------------------------

    pub fn user_not_found(upn: &str, tenant: &str) -> Self {
        Self::new(
            50034,
            "invalid_grant",
            format!(
                "The user account {upn} does not exist in the {tenant} directory. To sign into this application, the \
                 account must be added to the directory."
            ),
        )
    }

    pub fn user_disabled() -> Self {
        Self::new(50057, "invalid_grant", "The user account is disabled.")
    }

    pub fn invalid_username_or_password() -> Self {
        Self::new(
            50126,
            "invalid_grant",
            "Error validating credentials due to invalid username or password.",
        )
    }

    /// MFA required but the flow cannot prompt (ROPC). For the refresh-token grant Entra uses
    /// `interaction_required` instead (api-contracts §1.10); pass that as `error`.
    pub fn mfa_required(error: &'static str, resource_app_id: &str) -> Self {
        Self::new(
            50076,
            error,
            format!(
                "Due to a configuration change made by your administrator, or because you moved to a new location, you \
                 must use multi-factor authentication to access '{resource_app_id}'."
            ),
        )
        .with_suberror("basic_action")
    }

    // --- the emulator itself ---------------------------------------------------------------

    pub fn internal(what: &str) -> Self {
        Self::new(
            90033,
            "server_error",
            format!("A transient error has occurred. Please try again. ({what})"),
        )
    }

    /// What a token endpoint answers during an outage (the fault injector's `tokenOutage`).
    pub fn temporarily_unavailable() -> Self {
        Self::new(90033, "temporarily_unavailable", "A transient error has occurred. Please try again.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn description_has_crlf_trailer_and_timestamp_format() {
        let meta = RequestMeta {
            correlation_id: "c0ffee00-0000-0000-0000-000000000000".into(),
            now: DateTime::parse_from_rfc3339("2026-01-09T02:02:12Z")
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_default(),
            base_url: "https://127.0.0.1:1".into(),
        };
        let body = StsError::invalid_scope("x").body(&meta);
        let desc = body["error_description"].as_str().unwrap_or_default();
        assert!(desc.starts_with("AADSTS70011: "));
        assert!(desc.contains("\r\nTrace ID: "));
        assert!(desc.ends_with("\r\nCorrelation ID: c0ffee00-0000-0000-0000-000000000000\r\nTimestamp: 2026-01-09 02:02:12Z"));
        assert_eq!(body["timestamp"], "2026-01-09 02:02:12Z");
        assert_eq!(body["error_codes"], json!([70011]));
    }

    #[test]
    fn round_trip_format_has_seven_digits() {
        let t = DateTime::parse_from_rfc3339("2021-01-05T08:38:20.643Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        assert_eq!(dotnet_round_trip(t), "2021-01-05T08:38:20.6430000Z");
    }
}
