# Script A, step 1 (reference §4.2): the consent, verbatim from the PartnerCenter 3.0 page
# multi-factor-auth.md. Placeholders 'xxxx-xxxx-xxxx-xxxx' (application id) and
# 'yyyy-yyyy-yyyy-yyyy' (partner tenant id) are filled in by the test, nothing else.

# Consent
$credential = Get-Credential
New-PartnerAccessToken -ApplicationId 'xxxx-xxxx-xxxx-xxxx' -Scopes 'https://api.partnercenter.microsoft.com/user_impersonation' -ServicePrincipal -Credential $credential -Tenant 'yyyy-yyyy-yyyy-yyyy' -UseAuthorizationCode
