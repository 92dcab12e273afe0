//! JSON shapes of the requests the module sends, and their conversion to core requests.
//! Field names are PascalCase to match the C# records that produce them.

use partnersecurity_core::auth::ClientCredential;
use partnersecurity_core::auth::assertion::CertificateCredential;
use partnersecurity_core::signin;
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

impl SignInRequest {
    /// The application's credential: a certificate when one was given, else a secret, else none.
    fn credential(&self) -> Result<ClientCredential> {
        if let Some(certificate) = self.certificate_base64.as_deref().filter(|c| !c.is_empty()) {
            use base64::Engine;
            let der = base64::engine::general_purpose::STANDARD
                .decode(certificate)
                .map_err(|_| Error::invalid_input("CertificateThumbprint", "the certificate could not be read"))?;
            let key = required(&self.private_key_pem, "CertificateThumbprint")
                .map_err(|_| Error::invalid_input("CertificateThumbprint", "the certificate has no private key this user can use"))?;
            return Ok(ClientCredential::Certificate(CertificateCredential { certificate_der: der, private_key_pem: Secret::new(key) }));
        }
        Ok(match self.client_secret.as_deref() {
            Some(s) if !s.is_empty() => ClientCredential::Secret(Secret::new(s)),
            _ => ClientCredential::None,
        })
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
