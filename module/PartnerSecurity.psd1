@{
    RootModule           = 'PartnerSecurity.dll'
    ModuleVersion        = '0.1.0'
    CompatiblePSEditions = @('Core')
    GUID                 = 'b6f3c1c8-4a57-4c1e-9a51-2f7f4d0e5a31'
    Author               = 'PartnerSecurity contributors'
    CompanyName          = 'PartnerSecurity'
    Copyright            = '(c) PartnerSecurity contributors. MIT License.'
    Description          = 'Helps Microsoft CSP partners meet the partner security requirements and prove it: Secure Application Model sign-in, sign-in activity review, MFA evidence. Keeps the PartnerCenter module''s authentication commands so existing scripts keep working.'
    # The bindings need .NET 8 (PowerShell 7.4 LTS).
    PowerShellVersion    = '7.4'
    FormatsToProcess     = @('PartnerSecurity.format.ps1xml')
    CmdletsToExport      = @(
        'Add-PartnerEnvironment'
        'Connect-PartnerCenter'
        'Disconnect-PartnerCenter'
        'Export-PartnerSignInActivity'
        'Get-PartnerContext'
        'Get-PartnerEnvironment'
        'Get-PartnerUserSignInActivity'
        'New-PartnerAccessToken'
        'Register-PartnerTokenCache'
        'Remove-PartnerEnvironment'
        'Test-PartnerSecurityRequirement'
        'Invoke-PartnerSecurityAssessment'
        'Get-PartnerMfaCoverage'
        'Get-PartnerLegacyAuthSignIn'
        'Get-PartnerGdapRelationship'
        'Get-PartnerFraudEvent'
        'New-PartnerSecureAppProfile'
        'Get-PartnerSecureAppProfile'
        'Set-PartnerSecureAppProfile'
        'Remove-PartnerSecureAppProfile'
        'Test-PartnerSecureAppProfile'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @('Get-PartnerUserSignActivity')
    PrivateData          = @{
        PSData = @{
            Tags         = @('PartnerCenter', 'CSP', 'MFA', 'SecureApplicationModel', 'Security', 'Entra', 'Graph')
            LicenseUri   = 'https://opensource.org/licenses/MIT'
            ReleaseNotes = 'First release: Secure Application Model sign-in (refresh token, access token, service principal; profiles whose refresh token lives in a secret store and rotates), custom environments, sign-in activity review and resumable export across customer tenants, the MFA evidence check (Test-PartnerSecurityRequirement) and the partner security assessment (MFA coverage, legacy authentication, GDAP, fraud events) with HTML, JSON and CSV reports.'
        }
    }
}
