# StandIns.ps1 — small stand-ins for the other modules' cmdlets that the documented Secure
# Application Model scripts call (Az.Accounts, AzureAD, MSOnline, Microsoft.Graph,
# ExchangeOnlineManagement), plus Get-Credential, and the two pieces of the PartnerCenter
# module that PartnerSecurity does not provide (New-PartnerCustomerApplicationConsent and its
# ApplicationGrant type). Each one only checks that the token it is
# given is a live JWT for the right audience and tenant — what the real cmdlet would need — and
# records the call in $CompatCalls; it fails otherwise. Dot-sourced by tests/pester/Compat.Tests.ps1,
# which sets $CompatExpectedTenant and $CompatAppCredential first.

$script:CompatCalls = [System.Collections.Generic.List[object]]::new()

function Assert-CompatToken {
    # Decodes a JWT (without verifying its signature, as a client cannot) and checks aud, tid, exp.
    param([string] $Token, [string[]] $Audience, [string] $Command, [string] $Parameter, [string] $Tenant = $CompatExpectedTenant)
    if ([string]::IsNullOrWhiteSpace($Token)) { throw "${Command}: -$Parameter is empty" }
    $parts = $Token.Split('.')
    if ($parts.Count -ne 3) { throw "${Command}: -$Parameter is not a JSON Web Token" }
    $payload = $parts[1].Replace('-', '+').Replace('_', '/')
    $payload += '=' * ((4 - $payload.Length % 4) % 4)
    $claims = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($payload)) | ConvertFrom-Json
    $aud = "$($claims.aud)".TrimEnd('/')
    if ($aud -notin ($Audience | ForEach-Object { $_.TrimEnd('/') })) {
        throw "${Command}: -$Parameter is a token for '$aud', expected $($Audience -join ' or ')"
    }
    if ($claims.tid -ne $Tenant) { throw "${Command}: -$Parameter was issued in tenant $($claims.tid), expected $Tenant" }
    if ([DateTimeOffset]::FromUnixTimeSeconds([long]$claims.exp) -le [DateTimeOffset]::UtcNow) { throw "${Command}: -$Parameter has expired" }
    $claims
}

function Register-CompatCall([string] $Command, [hashtable] $Audiences) {
    $script:CompatCalls.Add([pscustomobject]@{ Command = $Command; Audiences = $Audiences })
}

function Get-Credential {
    # The documented scripts prompt for the application's id and secret; the test answers.
    [CmdletBinding()] param([string] $Message)
    $CompatAppCredential
}

function Connect-AzAccount {
    [CmdletBinding()]
    param([string] $AccessToken, [string] $AccountId, [string] $GraphAccessToken, [string] $TenantId)
    $arm = Assert-CompatToken $AccessToken 'https://management.azure.com', 'https://management.core.windows.net' Connect-AzAccount AccessToken
    $graph = Assert-CompatToken $GraphAccessToken 'https://graph.windows.net', 'https://graph.microsoft.com' Connect-AzAccount GraphAccessToken
    Register-CompatCall Connect-AzAccount @{ AccessToken = $arm.aud; GraphAccessToken = $graph.aud }
}

function Connect-AzureAD {
    [CmdletBinding()]
    param([string] $AadAccessToken, [string] $AccountId, [string] $MsAccessToken, [string] $TenantId)
    $aad = Assert-CompatToken $AadAccessToken 'https://graph.windows.net' Connect-AzureAD AadAccessToken
    $ms = Assert-CompatToken $MsAccessToken 'https://graph.microsoft.com' Connect-AzureAD MsAccessToken
    Register-CompatCall Connect-AzureAD @{ AadAccessToken = $aad.aud; MsAccessToken = $ms.aud }
}

function Connect-MsolService {
    [CmdletBinding()]
    param([string] $AdGraphAccessToken, [string] $MsGraphAccessToken)
    $aad = Assert-CompatToken $AdGraphAccessToken 'https://graph.windows.net' Connect-MsolService AdGraphAccessToken
    $ms = Assert-CompatToken $MsGraphAccessToken 'https://graph.microsoft.com' Connect-MsolService MsGraphAccessToken
    Register-CompatCall Connect-MsolService @{ AdGraphAccessToken = $aad.aud; MsGraphAccessToken = $ms.aud }
}

function Connect-MgGraph {
    [CmdletBinding()]
    param([Parameter(Mandatory)] $AccessToken)
    # Microsoft.Graph 2.x takes a SecureString; 1.x took a string.
    $plain = if ($AccessToken -is [securestring]) { [pscredential]::new('t', $AccessToken).GetNetworkCredential().Password } else { "$AccessToken" }
    $ms = Assert-CompatToken $plain 'https://graph.microsoft.com' Connect-MgGraph AccessToken
    Register-CompatCall Connect-MgGraph @{ AccessToken = $ms.aud }
}

function Connect-ExchangeOnline {
    [CmdletBinding()]
    param([string] $AccessToken, [string] $DelegatedOrganization, [string] $Organization, [string] $UserPrincipalName)
    # With -DelegatedOrganization, Exchange Online manages that (customer) tenant: the token must be issued there.
    $tenant = if ($DelegatedOrganization) { $DelegatedOrganization } else { $CompatExpectedTenant }
    $exo = Assert-CompatToken $AccessToken 'https://outlook.office365.com' Connect-ExchangeOnline AccessToken -Tenant $tenant
    Register-CompatCall Connect-ExchangeOnline @{ AccessToken = $exo.aud; Tenant = $exo.tid; Identity = $exo.idp }
}

# The PartnerCenter SDK's grant (Microsoft.Store.PartnerCenter.Models.ApplicationConsents).
if (-not ('Microsoft.Store.PartnerCenter.Models.ApplicationConsents.ApplicationGrant' -as [type])) {
    Add-Type -TypeDefinition @'
namespace Microsoft.Store.PartnerCenter.Models.ApplicationConsents
{
    public class ApplicationGrant
    {
        public string EnterpriseApplicationId { get; set; }
        public string Scope { get; set; }
    }
}
'@
}

function New-PartnerCustomerApplicationConsent {
    # The consent lands in the customer tenant as the app's service principal, which the test's
    # scenario already holds; this checks what Partner Center would: a connected partner session
    # and well-formed grants.
    [CmdletBinding()]
    param([object[]] $ApplicationGrants, [string] $CustomerId, [string] $ApplicationId, [string] $DisplayName)
    $context = Get-PartnerContext
    if (-not $context) { throw 'New-PartnerCustomerApplicationConsent: run Connect-PartnerCenter first' }
    foreach ($grant in $ApplicationGrants) {
        if (-not ($grant.EnterpriseApplicationId -as [guid]) -or [string]::IsNullOrWhiteSpace($grant.Scope)) { throw "New-PartnerCustomerApplicationConsent: a grant lacks EnterpriseApplicationId or Scope" }
    }
    Register-CompatCall New-PartnerCustomerApplicationConsent @{ CustomerId = $CustomerId; Grants = @($ApplicationGrants | ForEach-Object { "$($_.EnterpriseApplicationId) $($_.Scope)" }); Partner = $context.Account.Tenant }
}
