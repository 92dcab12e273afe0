//! What to do about each AADSTS code Entra ID answers with.
//!
//! The codes and meanings follow Microsoft's error-code reference
//! (shared/reference/api-contracts.md §1.10–1.11). The advice names the PowerShell parameter or
//! step that fixes the problem, because the person reading it is at a console.

/// Advice for an AADSTS code, falling back on the OAuth2 `error` value.
pub fn advice(code: Option<u32>, error: &str) -> &'static str {
    match code {
        Some(50076) | Some(50074) | Some(50078) | Some(50158) => {
            "Multi-factor authentication is required. In a browser or device code sign-in, the user must complete the second factor (and may first have to register one at https://aka.ms/mfasetup). A refresh token or password cannot satisfy it without the user: sign in interactively once (New-PartnerAccessToken -UseAuthorizationCode or -UseDeviceAuthentication) and use the refresh token it returns."
        }
        Some(50079) | Some(50072) => {
            "The user must register for multi-factor authentication before signing in. Have the user register at https://aka.ms/mfasetup, then consent again."
        }
        Some(65001) | Some(90094) | Some(90008) => {
            "The application has not been granted consent for the requested permission. Grant consent for the scope (or admin consent for the tenant), or request only scopes the app was consented for (-Scopes)."
        }
        Some(65004) => "The user declined the consent prompt. Sign in again and accept the requested permissions.",
        Some(53003) | Some(530032) => {
            "A Conditional Access policy blocked this sign-in. Check the sign-in log for the policy and make sure the account and app satisfy it."
        }
        Some(530035) => {
            "Security defaults blocked this sign-in (legacy or unsafe authentication). Use modern authentication with MFA."
        }
        Some(700082) => {
            "The refresh token expired after 90 days without use. Consent again (New-PartnerAccessToken -UseAuthorizationCode) to get a new one, and use it at least every 90 days; each exchange returns a new refresh token that must replace the stored one."
        }
        Some(50173) | Some(70008) | Some(70000) | Some(9002313) | Some(54005) => {
            "The refresh token or authorization code is no longer valid (expired, revoked by a password reset or session revocation, or not issued to this app). Consent again (New-PartnerAccessToken -UseAuthorizationCode) to get a new refresh token."
        }
        Some(70043) => {
            "A sign-in frequency policy requires the user to sign in again. Consent again interactively to get a new refresh token."
        }
        Some(7000215) => {
            "The client secret is wrong. Pass the secret's value (not its ID) as the password of -Credential, with the application id as the user name."
        }
        Some(7000222) => {
            "The client secret has expired. Create a new secret for the application and use it in -Credential."
        }
        Some(7000218) => {
            "This application is a confidential (web) app and must authenticate. Pass its secret with -Credential or its certificate with -CertificateThumbprint (and -ServicePrincipal)."
        }
        Some(700027) | Some(700024) | Some(700023) | Some(50027) | Some(50012) => {
            "The certificate credential was rejected. Check that -CertificateThumbprint names the certificate registered on the application, that its private key is available, and that the clock is correct."
        }
        Some(700016) => {
            "The application was not found in the tenant. Check -ApplicationId and -Tenant, and that the app has been consented in that tenant."
        }
        Some(90002) => {
            "The tenant was not found. Check -Tenant (a tenant id or verified domain) and -Environment."
        }
        Some(70011) | Some(1002012) | Some(28000) => {
            "The requested scope is not valid. Check -Scopes: one resource per request; client-credential requests need '<resource>/.default'."
        }
        Some(50194) | Some(9001023) => {
            "This request needs a specific tenant. Pass -Tenant with the tenant id or a verified domain instead of 'common' or 'organizations'."
        }
        Some(50126) => "The user name or password is wrong.",
        Some(50057) => "The user account is disabled.",
        Some(50053) => "The account is locked. Wait, or have an administrator unlock it.",
        Some(50055) => "The user's password has expired. The user must change it.",
        Some(90099) => {
            "The partner application is not authorized in the customer tenant. Check the GDAP relationship and that the app was consented in that customer tenant."
        }
        Some(901002) => "The token endpoint rejected the 'resource' parameter (v2 endpoints take scopes). This is a bug; please report it.",
        Some(900144) => "The token request missed a required parameter. This is a bug; please report it.",
        _ => match error {
            "interaction_required" => "The sign-in needs the user (MFA, consent or a policy). Sign in interactively once and use the refresh token it returns.",
            "consent_required" => "The application needs consent for this permission. Grant consent and try again.",
            "invalid_client" => "The application's credentials were rejected. Check -ApplicationId and the secret or certificate.",
            "invalid_grant" => "The refresh token or code was rejected. Consent again to get a new refresh token.",
            "unauthorized_client" => "The application is not allowed to use this sign-in method in this tenant. Check -ApplicationId and -Tenant.",
            "invalid_scope" => "The requested scope is not valid. Check -Scopes.",
            "temporarily_unavailable" => "Entra ID is temporarily unavailable. Try again in a few minutes.",
            _ => "Entra ID refused the token request.",
        },
    }
}
