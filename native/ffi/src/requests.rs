//! JSON shapes of the requests the module sends, and their conversion to core requests.
//! Field names are PascalCase to match the C# records that produce them.

use partnersecurity_core::auth::ClientCredential;
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
    /// New-PartnerAccessToken only.
    #[serde(default)]
    pub scopes: Vec<String>,
}

impl Drop for SignInRequest {
    fn drop(&mut self) {
        for secret in [&mut self.access_token, &mut self.refresh_token, &mut self.client_secret].into_iter().flatten() {
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

impl SignInRequest {
    fn credential(&self) -> ClientCredential {
        match self.client_secret.as_deref() {
            Some(s) if !s.is_empty() => ClientCredential::Secret(Secret::new(s)),
            _ => ClientCredential::None,
        }
    }

    pub fn to_connect(&self) -> Result<ConnectRequest> {
        Ok(match self.kind {
            SignInKind::AccessToken => ConnectRequest::AccessToken { access_token: Secret::new(required(&self.access_token, "AccessToken")?), tenant: self.tenant.clone() },
            SignInKind::RefreshToken => ConnectRequest::RefreshToken {
                application_id: required(&self.application_id, "ApplicationId")?,
                credential: self.credential(),
                refresh_token: Secret::new(required(&self.refresh_token, "RefreshToken")?),
                tenant: self.tenant.clone(),
            },
            SignInKind::ServicePrincipal => ConnectRequest::ServicePrincipal {
                application_id: required(&self.application_id, "ApplicationId")?,
                secret: Secret::new(required(&self.client_secret, "Credential")?),
                tenant: required(&self.tenant, "Tenant")?,
            },
        })
    }

    pub fn to_access_token(&self) -> Result<AccessTokenRequest> {
        Ok(match self.kind {
            SignInKind::AccessToken => AccessTokenRequest::AccessToken { access_token: Secret::new(required(&self.access_token, "AccessToken")?) },
            SignInKind::RefreshToken => AccessTokenRequest::RefreshToken {
                application_id: self.application_id.clone(),
                credential: self.credential(),
                refresh_token: Secret::new(required(&self.refresh_token, "RefreshToken")?),
                scopes: self.scopes.clone(),
                tenant: self.tenant.clone(),
            },
            SignInKind::ServicePrincipal => AccessTokenRequest::ServicePrincipal {
                application_id: required(&self.application_id, "ApplicationId")?,
                secret: Secret::new(required(&self.client_secret, "Credential")?),
                scopes: self.scopes.clone(),
                tenant: required(&self.tenant, "Tenant")?,
            },
        })
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
    fn unreadable_requests_do_not_echo_their_content() {
        let Err(err) = request(r#"{"Kind":"Password","RefreshToken":"very-secret-refresh-token"}"#) else { panic!() };
        assert!(!err.to_string().contains("very-secret"), "{err}");
        assert!(request("not json").is_err());
    }
}
