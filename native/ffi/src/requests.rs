//! JSON shapes of the requests the module sends, and their conversion to core requests.
//! Field names are PascalCase to match the C# records that produce them.

use partnersecurity_core::auth::ClientCredential;
use partnersecurity_core::auth::assertion::CertificateCredential;
use partnersecurity_core::signin;
use partnersecurity_core::signins::{ApiVersion, Budget, EventType, ExportFormat, ExportRequest, FetchOptions, Outcome, RecordNames, SignInFilter, SignInQuery};
use partnersecurity_core::secret::Secret;
use partnersecurity_core::session::ConnectRequest;
use partnersecurity_core::{AccessTokenRequest, Error, Result};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroize;

/// Parses a request and wipes the JSON text afterwards: it may hold a token or secret.
pub fn parse<T: DeserializeOwned>(json: interoptopus::ffi::String) -> Result<T> {
    let mut text = json.into_string();
    let parsed = serde_json::from_str::<T>(&text).map_err(|e| Error::Internal(format!("the request could not be read (line {}, column {}: {})", e.line(), e.column(), classify(&e))));
    text.zeroize();
    parsed
}

fn classify(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Data => "missing or mistyped field",
        _ => "malformed JSON",
    }
}

/// How the caller signs in; mirrors the parameter sets of Connect-PartnerCenter and
/// New-PartnerAccessToken that need no browser.
#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
pub enum SignInKind {
    AccessToken,
    RefreshToken,
    ServicePrincipal,
    /// A user in a browser (authorization code + PKCE) or with a device code.
    Interactive,
    /// A user name and password (ROPC), as 1.x-era scripts pass them: refused with an
    /// explanation, since it cannot satisfy MFA.
    UserCredentials,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SignInRequest {
    pub kind: SignInKind,
    #[serde(default)]
    pub environment: String,
    #[serde(default)]
    pub tenant: Option<String>,
    #[serde(default)]
    pub application_id: Option<String>,
    #[serde(default)]
    pub access_token: Option<String>,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub client_secret: Option<String>,
    /// A certificate credential: the DER certificate, base64, with its private key as PEM.
    #[serde(default)]
    pub certificate_base64: Option<String>,
    #[serde(default)]
    pub private_key_pem: Option<String>,
    /// New-PartnerAccessToken and interactive sign-ins.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Interactive sign-ins: a device code instead of the browser.
    #[serde(default)]
    pub use_device_code: bool,
    #[serde(default)]
    pub login_hint: Option<String>,
}

impl Drop for SignInRequest {
    fn drop(&mut self) {
        for secret in [&mut self.access_token, &mut self.refresh_token, &mut self.client_secret, &mut self.private_key_pem].into_iter().flatten() {
            secret.zeroize();
        }
    }
}

fn required(value: &Option<String>, parameter: &str) -> Result<String> {
    match value.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v.to_owned()),
        _ => Err(Error::invalid_input(parameter, "a value is required")),
    }
}

/// An application credential from what the module sends: a certificate (DER base64 with its
/// private key as PEM) when one was given, else a secret, else none.
pub fn application_credential_of(certificate_base64: Option<&str>, private_key_pem: Option<&str>, client_secret: Option<&str>) -> Result<ClientCredential> {
    if let Some(certificate) = certificate_base64.filter(|c| !c.is_empty()) {
        use base64::Engine;
        let der = base64::engine::general_purpose::STANDARD
            .decode(certificate)
            .map_err(|_| Error::invalid_input("CertificateThumbprint", "the certificate could not be read"))?;
        let key = private_key_pem
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| Error::invalid_input("CertificateThumbprint", "the certificate has no private key this user can use"))?;
        return Ok(ClientCredential::Certificate(CertificateCredential { certificate_der: der, private_key_pem: Secret::new(key) }));
    }
    Ok(match client_secret {
        Some(s) if !s.is_empty() => ClientCredential::Secret(Secret::new(s)),
        _ => ClientCredential::None,
    })
}

impl SignInRequest {
    /// The application's credential: a certificate when one was given, else a secret, else none.
    fn credential(&self) -> Result<ClientCredential> {
        application_credential_of(self.certificate_base64.as_deref(), self.private_key_pem.as_deref(), self.client_secret.as_deref())
    }

    /// The credential of an application sign-in, which must have one.
    fn application_credential(&self) -> Result<ClientCredential> {
        match self.credential()? {
            ClientCredential::None => Err(Error::invalid_input("Credential", "an application sign-in needs the application's secret (-Credential) or certificate (-CertificateThumbprint)")),
            credential => Ok(credential),
        }
    }

    pub fn to_sign_in(&self) -> Result<signin::SignInRequest> {
        Ok(signin::SignInRequest {
            tenant: self.tenant.clone(),
            application_id: self.application_id.clone(),
            credential: self.credential()?,
            scopes: self.scopes.clone(),
            use_device_code: self.use_device_code,
            login_hint: self.login_hint.clone(),
        })
    }

    pub fn to_connect(&self) -> Result<ConnectRequest> {
        Ok(match self.kind {
            SignInKind::AccessToken => ConnectRequest::AccessToken { access_token: Secret::new(required(&self.access_token, "AccessToken")?), tenant: self.tenant.clone() },
            SignInKind::RefreshToken => ConnectRequest::RefreshToken {
                application_id: required(&self.application_id, "ApplicationId")?,
                credential: self.credential()?,
                refresh_token: Secret::new(required(&self.refresh_token, "RefreshToken")?),
                tenant: self.tenant.clone(),
            },
            SignInKind::ServicePrincipal => ConnectRequest::ServicePrincipal {
                application_id: required(&self.application_id, "ApplicationId")?,
                credential: self.application_credential()?,
                tenant: required(&self.tenant, "Tenant")?,
            },
            SignInKind::Interactive => return Err(Error::Internal("an interactive sign-in is begun with begin_sign_in".into())),
            SignInKind::UserCredentials => return Err(Error::UserCredentialsNotSupported),
        })
    }

    pub fn to_access_token(&self) -> Result<AccessTokenRequest> {
        Ok(match self.kind {
            SignInKind::AccessToken => AccessTokenRequest::AccessToken { access_token: Secret::new(required(&self.access_token, "AccessToken")?) },
            SignInKind::RefreshToken => AccessTokenRequest::RefreshToken {
                application_id: self.application_id.clone(),
                credential: self.credential()?,
                refresh_token: Secret::new(required(&self.refresh_token, "RefreshToken")?),
                scopes: self.scopes.clone(),
                tenant: self.tenant.clone(),
            },
            SignInKind::ServicePrincipal => AccessTokenRequest::ServicePrincipal {
                application_id: required(&self.application_id, "ApplicationId")?,
                credential: self.application_credential()?,
                scopes: self.scopes.clone(),
                tenant: required(&self.tenant, "Tenant")?,
            },
            SignInKind::Interactive => return Err(Error::Internal("an interactive sign-in is begun with begin_sign_in".into())),
            SignInKind::UserCredentials => return Err(Error::UserCredentialsNotSupported),
        })
    }
}

/// Get-PartnerUserSignInActivity and Export-PartnerSignInActivity: what to read.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct SignInsRequest {
    /// ISO 8601 with an offset (the module sends UTC).
    #[serde(default)]
    pub start_date: Option<String>,
    #[serde(default)]
    pub end_date: Option<String>,
    #[serde(default)]
    pub user_id: Vec<String>,
    #[serde(default)]
    pub user_principal_name: Vec<String>,
    #[serde(default)]
    pub application_id: Vec<String>,
    #[serde(default)]
    pub client_app: Vec<String>,
    #[serde(default)]
    pub event_types: Vec<EventType>,
    /// Any of these `status/errorCode` values.
    #[serde(default)]
    pub error_code: Vec<i32>,
    #[serde(default)]
    pub outcome: Option<Outcome>,
    /// `$select`.
    #[serde(default)]
    pub property: Vec<String>,
    /// Empty: the session's tenant.
    #[serde(default)]
    pub tenant: Vec<String>,
    /// `beta` (default) or `v1.0`.
    #[serde(default)]
    pub api_version: Option<ApiVersion>,
    #[serde(default)]
    pub page_size: Option<u32>,
    #[serde(default)]
    pub windows: Option<u32>,
    #[serde(default)]
    pub concurrency: Option<u32>,
    #[serde(default)]
    pub tenant_concurrency: Option<u32>,
    /// Requests per window per (tenant, application); default Graph's 5 per 10 s.
    #[serde(default)]
    pub throttle_requests: Option<u32>,
    #[serde(default)]
    pub throttle_window_seconds: Option<f64>,
}

fn date(value: &Option<String>, parameter: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
    match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => chrono::DateTime::parse_from_rfc3339(v)
            .map(|d| Some(d.with_timezone(&chrono::Utc)))
            .map_err(|_| Error::invalid_input(parameter, format!("'{}' is not a date and time with an offset (ISO 8601)", v.chars().take(40).collect::<String>()))),
    }
}

impl SignInsRequest {
    /// The query, its records carrying `names` (the caller's: a cursor's reader maps Graph's own).
    pub fn to_query(&self, names: RecordNames) -> Result<SignInQuery> {
        let graph = FetchOptions::default().budget;
        let budget = Budget {
            requests: self.throttle_requests.unwrap_or(graph.requests),
            window: match self.throttle_window_seconds {
                Some(s) if s.is_finite() && s > 0.0 && s <= 3600.0 => std::time::Duration::from_secs_f64(s),
                Some(_) => return Err(Error::invalid_input("ThrottleWindow", "it must be more than 0 and at most an hour")),
                None => graph.window,
            },
        };
        let defaults = FetchOptions::for_budget(budget);
        Ok(SignInQuery {
            filter: SignInFilter {
                start: date(&self.start_date, "StartDate")?,
                end: date(&self.end_date, "EndDate")?,
                user_ids: self.user_id.clone(),
                user_principal_names: self.user_principal_name.clone(),
                app_ids: self.application_id.clone(),
                client_apps: self.client_app.clone(),
                event_types: self.event_types.clone(),
                error_codes: self.error_code.clone(),
                outcome: self.outcome.unwrap_or_default(),
            },
            version: self.api_version.unwrap_or_default(),
            select: self.property.clone(),
            tenants: self.tenant.clone(),
            options: FetchOptions {
                page_size: self.page_size.unwrap_or(defaults.page_size),
                windows: self.windows.unwrap_or(defaults.windows),
                concurrency: self.concurrency.unwrap_or(defaults.concurrency),
                tenant_concurrency: self.tenant_concurrency.unwrap_or(defaults.tenant_concurrency),
                budget,
                buffer_pages: defaults.buffer_pages,
            },
            names,
        })
    }
}

/// Export-PartnerSignInActivity.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ExportSignInsRequest {
    pub query: SignInsRequest,
    pub path: String,
    pub format: ExportFormat,
    #[serde(default)]
    pub resume: bool,
    #[serde(default)]
    pub force: bool,
}

impl ExportSignInsRequest {
    pub fn to_export(&self) -> Result<ExportRequest> {
        Ok(ExportRequest { query: self.query.to_query(RecordNames::Pascal)?, path: std::path::PathBuf::from(&self.path), format: self.format, resume: self.resume, force: self.force })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(json: &str) -> Result<SignInRequest> {
        parse(interoptopus::ffi::String::from(json.to_owned()))
    }

    #[test]
    fn missing_values_name_the_powershell_parameter() {
        let r = request(r#"{"Kind":"RefreshToken","Environment":"AzureCloud","ApplicationId":"app"}"#).unwrap();
        let Err(err) = r.to_connect() else { panic!("expected an error") };
        assert!(err.to_string().contains("'RefreshToken'"), "{err}");
        let r = request(r#"{"Kind":"ServicePrincipal","ApplicationId":"app","ClientSecret":"s"}"#).unwrap();
        let Err(err) = r.to_connect() else { panic!("expected an error") };
        assert!(err.to_string().contains("'Tenant'"), "{err}");
    }

    #[test]
    fn sign_in_requests_convert_dates_to_utc() {
        let r: SignInsRequest = parse(interoptopus::ffi::String::from(
            r#"{"StartDate":"2024-05-01T00:00:00+02:00","UserId":["3dd89389-b34c-4f5a-975d-516df5694d7e"],"EventTypes":["NonInteractive"],"ApiVersion":"v1.0","Tenant":["contoso.onmicrosoft.com"]}"#.to_owned(),
        ))
        .unwrap();
        let q = r.to_query(RecordNames::Pascal).unwrap();
        assert_eq!(q.filter.start.unwrap().to_rfc3339(), "2024-04-30T22:00:00+00:00");
        assert_eq!(q.version, ApiVersion::V1);
        assert_eq!(q.filter.event_types, vec![EventType::NonInteractive]);
        let bad: SignInsRequest = parse(interoptopus::ffi::String::from(r#"{"EndDate":"yesterday"}"#.to_owned())).unwrap();
        assert!(bad.to_query(RecordNames::Pascal).unwrap_err().to_string().contains("'EndDate'"));
        let export: ExportSignInsRequest = parse(interoptopus::ffi::String::from(r#"{"Query":{},"Path":"/tmp/x.csv","Format":"Csv","Resume":true}"#.to_owned())).unwrap();
        let e = export.to_export().unwrap();
        assert_eq!(e.format, ExportFormat::Csv);
        assert!(e.resume && !e.force);
    }

    #[test]
    fn unreadable_requests_do_not_echo_their_content() {
        let Err(err) = request(r#"{"Kind":"Password","RefreshToken":"very-secret-refresh-token"}"#) else { panic!() };
        assert!(!err.to_string().contains("very-secret"), "{err}");
        assert!(request("not json").is_err());
    }
}
