//! Which cloud to talk to: the endpoint sets of the Azure clouds and custom ones (such as the
//! local emulator).
//!
//! Every URL the library calls comes from an `Environment`; there is no other place where an
//! endpoint is written down, so the same code runs against the real cloud and the emulator.

use crate::error::{Error, Result};
use crate::http::require_secure_endpoint;
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use url::Url;

/// One cloud's endpoints. Field names follow the PartnerCenter module's `PartnerEnvironment`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Environment {
    pub name: String,
    /// Entra ID authority host with a trailing slash, e.g. `https://login.microsoftonline.com/`.
    pub active_directory_authority: String,
    pub azure_ad_graph_endpoint: String,
    pub azure_endpoint: String,
    pub graph_endpoint: String,
    pub partner_center_endpoint: String,
    /// Resource identifier of Azure Key Vault in this cloud (`https://vault.azure.net`).
    pub key_vault_endpoint: String,
    /// `true` for the clouds this library knows; custom environments are `false`.
    pub is_built_in: bool,
    /// PEM of a certificate to trust for this environment's endpoints instead of the operating
    /// system's roots (for a local emulator with a self-signed certificate). Never set for the
    /// built-in clouds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_certificate_pem: Option<String>,
}

/// The built-in clouds, as the PartnerCenter module and Azure PowerShell name them.
pub const AZURE_CLOUD: &str = "AzureCloud";

/// Names used by PartnerCenter 1.5 scripts, mapped to their current names.
const LEGACY_NAMES: &[(&str, &str)] = &[
    ("GlobalCloud", "AzureCloud"),
    ("ChinaCloud", "AzureChinaCloud"),
    ("GermanCloud", "AzureGermanCloud"),
    ("PPE", "AzurePPE"),
    ("USGovernment", "AzureUSGovernment"),
];

fn built_in(name: &str, authority: &str, aad_graph: &str, azure: &str, graph: &str, partner_center: &str, key_vault: &str) -> Environment {
    Environment {
        name: name.to_owned(),
        active_directory_authority: authority.to_owned(),
        azure_ad_graph_endpoint: aad_graph.to_owned(),
        azure_endpoint: azure.to_owned(),
        graph_endpoint: graph.to_owned(),
        partner_center_endpoint: partner_center.to_owned(),
        key_vault_endpoint: key_vault.to_owned(),
        is_built_in: true,
        trusted_certificate_pem: None,
    }
}

/// The endpoint table of shared/reference/partnercenter-module.md §3 (`EnvironmentConstants.cs`).
pub fn built_in_environments() -> Vec<Environment> {
    vec![
        built_in(
            "AzureCloud",
            "https://login.microsoftonline.com/",
            "https://graph.windows.net",
            "https://management.azure.com",
            "https://graph.microsoft.com",
            "https://api.partnercenter.microsoft.com",
            "https://vault.azure.net",
        ),
        built_in(
            "AzureChinaCloud",
            "https://login.chinacloudapi.cn/",
            "https://graph.chinacloudapi.cn",
            "https://management.chinacloudapi.cn",
            "https://microsoftgraph.chinacloudapi.cn",
            "https://partner.partnercenterapi.microsoftonline.cn",
            "https://vault.azure.cn",
        ),
        built_in(
            "AzureGermanCloud",
            "https://login.microsoftonline.de/",
            "https://graph.cloudapi.de",
            "https://management.core.cloudapi.de",
            "https://graph.microsoft.de",
            "https://api.partnercenter.microsoft.com",
            "https://vault.microsoftazure.de",
        ),
        built_in(
            "AzurePPE",
            "https://login.windows-ppe.net/",
            "https://graph.ppe.windows.net",
            "https://api-dogfood.resources.windows-int.net",
            "https://graph.microsoft-ppe.com",
            "https://api.partnercenter.microsoft-ppe.com",
            "https://vault-int.azure-int.net",
        ),
        built_in(
            "AzureUSGovernment",
            "https://login.microsoftonline.us/",
            "https://graph.windows.net",
            "https://management.usgovcloudapi.net",
            "https://graph.microsoft.us",
            "https://api.partnercenter.microsoft.com",
            "https://vault.usgovcloudapi.net",
        ),
    ]
}

/// What a caller supplies to register a custom environment.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomEnvironment {
    pub name: String,
    pub active_directory_authority: String,
    pub graph_endpoint: String,
    pub partner_center_endpoint: String,
    #[serde(default)]
    pub azure_ad_graph_endpoint: Option<String>,
    #[serde(default)]
    pub azure_endpoint: Option<String>,
    #[serde(default)]
    pub key_vault_endpoint: Option<String>,
    #[serde(default)]
    pub trusted_certificate_pem: Option<String>,
}

impl CustomEnvironment {
    /// Checks every endpoint and builds the environment. Endpoints of optional services that are
    /// not given stay empty (an operation that needs one says so) rather than silently pointing
    /// at the public cloud.
    pub fn validate(self) -> Result<Environment> {
        let name = self.name.trim().to_owned();
        if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.') {
            return Err(Error::invalid_input("Name", "use 1 to 64 letters, digits, '-', '_' or '.'"));
        }
        if find_built_in(&name).is_some() {
            return Err(Error::invalid_input("Name", format!("'{name}' is a built-in environment and cannot be replaced; choose another name")));
        }
        let authority = endpoint("ActiveDirectoryAuthority", &self.active_directory_authority)?;
        let authority = if authority.ends_with('/') { authority } else { format!("{authority}/") };
        let graph = endpoint("GraphEndpoint", &self.graph_endpoint)?;
        let partner_center = endpoint("PartnerCenterEndpoint", &self.partner_center_endpoint)?;
        let optional = |param: &str, value: Option<String>, fallback: &str| -> Result<String> {
            match value.filter(|v| !v.trim().is_empty()) {
                Some(v) => endpoint(param, &v),
                None => Ok(fallback.to_owned()),
            }
        };
        let azure_ad_graph = optional("AzureAdGraphEndpoint", self.azure_ad_graph_endpoint, "")?;
        let azure = optional("AzureEndpoint", self.azure_endpoint, "")?;
        let key_vault = optional("KeyVaultEndpoint", self.key_vault_endpoint, "")?;
        if let Some(pem) = &self.trusted_certificate_pem {
            if !pem.contains("-----BEGIN CERTIFICATE-----") {
                return Err(Error::invalid_input("TrustedCertificatePath", "the file is not a PEM certificate (no 'BEGIN CERTIFICATE' block)"));
            }
            // Read it now, so a damaged file is reported here rather than at the first sign-in.
            match reqwest::Certificate::from_pem_bundle(pem.as_bytes()) {
                Ok(certificates) if !certificates.is_empty() => {}
                Ok(_) => return Err(Error::invalid_input("TrustedCertificatePath", "the file holds no certificate")),
                Err(e) => return Err(Error::invalid_input("TrustedCertificatePath", format!("the PEM certificate could not be read ({e})"))),
            }
        }
        Ok(Environment {
            name,
            active_directory_authority: authority,
            azure_ad_graph_endpoint: azure_ad_graph,
            azure_endpoint: azure,
            graph_endpoint: graph,
            partner_center_endpoint: partner_center,
            key_vault_endpoint: key_vault,
            is_built_in: false,
            trusted_certificate_pem: self.trusted_certificate_pem,
        })
    }
}

/// Parses an endpoint, requires https (or loopback http) and drops a trailing slash.
fn endpoint(parameter: &str, value: &str) -> Result<String> {
    let value = value.trim();
    let url = Url::parse(value).map_err(|e| Error::invalid_input(parameter, format!("'{value}' is not an absolute URL ({e})")))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid_input(parameter, format!("'{value}' must not have a query or fragment")));
    }
    require_secure_endpoint(&url).map_err(|_| {
        Error::invalid_input(parameter, format!("'{value}' uses plain http; use https (plain http is accepted for loopback addresses only)"))
    })?;
    Ok(value.trim_end_matches('/').to_owned())
}

fn find_built_in(name: &str) -> Option<Environment> {
    let canonical = LEGACY_NAMES.iter().find(|(legacy, _)| legacy.eq_ignore_ascii_case(name)).map(|(_, current)| *current).unwrap_or(name);
    built_in_environments().into_iter().find(|e| e.name.eq_ignore_ascii_case(canonical))
}

/// The built-in clouds plus the custom environments registered in this process.
#[derive(Debug, Default)]
pub struct EnvironmentRegistry {
    custom: RwLock<BTreeMap<String, Environment>>,
}

impl EnvironmentRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Looks an environment up by name, case-insensitively; legacy names (`GlobalCloud`, …) map
    /// to their current names.
    pub fn get(&self, name: &str) -> Result<Environment> {
        let name = name.trim();
        let name = if name.is_empty() { AZURE_CLOUD } else { name };
        if let Some(env) = find_built_in(name) {
            return Ok(env);
        }
        self.custom.read().get(&name.to_ascii_lowercase()).cloned().ok_or_else(|| Error::UnknownEnvironment {
            name: name.to_owned(),
            known: self.all().iter().map(|e| e.name.as_str()).collect::<Vec<_>>().join(", "),
        })
    }

    pub fn all(&self) -> Vec<Environment> {
        let mut all = built_in_environments();
        all.extend(self.custom.read().values().cloned());
        all
    }

    /// Adds or replaces a custom environment and returns it.
    pub fn add(&self, custom: CustomEnvironment) -> Result<Environment> {
        let env = custom.validate()?;
        self.custom.write().insert(env.name.to_ascii_lowercase(), env.clone());
        Ok(env)
    }

    /// Removes a custom environment; `false` when there was none of that name.
    pub fn remove(&self, name: &str) -> Result<bool> {
        if find_built_in(name).is_some() {
            return Err(Error::invalid_input("Name", format!("'{name}' is a built-in environment and cannot be removed")));
        }
        Ok(self.custom.write().remove(&name.trim().to_ascii_lowercase()).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emulator(authority: &str) -> CustomEnvironment {
        CustomEnvironment {
            name: "Emulator".into(),
            active_directory_authority: authority.into(),
            graph_endpoint: "https://127.0.0.1:8443/graph".into(),
            partner_center_endpoint: "https://127.0.0.1:8443/partnercenter/".into(),
            ..Default::default()
        }
    }

    #[test]
    fn built_ins_and_legacy_names_resolve() {
        let reg = EnvironmentRegistry::new();
        assert_eq!(reg.get("azurecloud").unwrap().graph_endpoint, "https://graph.microsoft.com");
        assert_eq!(reg.get("GlobalCloud").unwrap().name, "AzureCloud");
        assert_eq!(reg.get("ChinaCloud").unwrap().partner_center_endpoint, "https://partner.partnercenterapi.microsoftonline.cn");
        assert_eq!(reg.get("").unwrap().name, "AzureCloud");
        assert_eq!(reg.all().len(), 5);
    }

    #[test]
    fn custom_environments_are_validated_and_normalised() {
        let reg = EnvironmentRegistry::new();
        let env = reg.add(emulator("https://127.0.0.1:8443")).unwrap();
        assert_eq!(env.active_directory_authority, "https://127.0.0.1:8443/");
        assert_eq!(env.partner_center_endpoint, "https://127.0.0.1:8443/partnercenter");
        assert_eq!(reg.get("EMULATOR").unwrap(), env);
        assert!(reg.remove("emulator").unwrap());
        assert!(matches!(reg.get("Emulator"), Err(Error::UnknownEnvironment { .. })));
    }

    #[test]
    fn plain_http_is_refused_except_on_loopback() {
        let err = emulator("http://login.example.com").validate().unwrap_err();
        assert!(err.to_string().contains("ActiveDirectoryAuthority"), "{err}");
        assert!(emulator("http://127.0.0.1:8080").validate().is_ok());
        assert!(emulator("http://localhost:8080").validate().is_ok());
        assert!(emulator("not a url").validate().is_err());
    }

    #[test]
    fn built_in_names_cannot_be_replaced() {
        let mut custom = emulator("https://127.0.0.1:1");
        custom.name = "GlobalCloud".into();
        assert!(custom.validate().is_err());
        assert!(EnvironmentRegistry::new().remove("AzureCloud").is_err());
    }
}
