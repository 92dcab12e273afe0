#Requires -Version 7.4
<#
.SYNOPSIS
    The demo tools/demo.sh runs: connects the built module to a running emulator with the
    Secure Application Model, shows the resulting context and environment, then what the module
    is for: who signed in without MFA (Get-PartnerUserSignInActivity) and the partner security
    assessment's findings per check (Invoke-PartnerSecurityAssessment).

.DESCRIPTION
    Expects the emulator already started with native/emulator/scenarios/demo.json and --tls;
    -ReadyFile is the file it wrote ({"baseUrl", "certificatePath", "pid"}). Registers the emulator
    as a custom environment, reads the demo SAM app's id and secret and the 'sam-admin' consent's
    refresh token from the scenario, and runs Connect-PartnerCenter. Secrets are never printed.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ReadyFile,
    [string] $Scenario = (Join-Path $PSScriptRoot '../native/emulator/scenarios/demo.json'),
    [string] $ConsentName = 'sam-admin'
)
$ErrorActionPreference = 'Stop'
$root = Split-Path -Parent $PSScriptRoot

Import-Module (Join-Path $root 'artifacts/PartnerSecurity/PartnerSecurity.psd1') -Force

$ready = Get-Content -LiteralPath $ReadyFile -Raw | ConvertFrom-Json
$base = $ready.baseUrl.TrimEnd('/')
Write-Host "Emulator at $base (CA certificate: $($ready.certificatePath))"

Add-PartnerEnvironment -Name Emulator `
    -ActiveDirectoryAuthority $base `
    -GraphEndpoint "$base/graph" `
    -PartnerCenterEndpoint "$base/partnercenter" `
    -TrustedCertificatePath $ready.certificatePath | Out-Null

# The SAM app, its secret and the consented refresh token, as the scenario seeds them.
$data = Get-Content -LiteralPath $Scenario -Raw | ConvertFrom-Json
$tenant = $data.tenants | Where-Object { $_.consents.name -contains $ConsentName } | Select-Object -First 1
if (-not $tenant) { throw "No tenant in $Scenario has a consent named '$ConsentName'." }
$consent = $tenant.consents | Where-Object name -EQ $ConsentName | Select-Object -First 1
$app = $tenant.applications | Where-Object appId -EQ $consent.clientId | Select-Object -First 1
if (-not $app -or -not $app.secrets) { throw "Application $($consent.clientId) has no secret in $Scenario." }

$secret = ConvertTo-SecureString -String $app.secrets[0].value -AsPlainText -Force
$credential = [pscredential]::new($app.appId, $secret)
$refreshToken = $consent.refreshToken
$data = $app = $consent = $null   # drop the plain-text copies we no longer need

Write-Host "Connecting as application $($credential.UserName) to tenant $($tenant.id) ($($tenant.displayName))"
Connect-PartnerCenter -ApplicationId $credential.UserName -Credential $credential -RefreshToken $refreshToken `
    -Tenant $tenant.id -Environment Emulator | Out-Host
$refreshToken = $null

Write-Host "`nGet-PartnerContext | Format-List"
Get-PartnerContext | Format-List | Out-Host
Write-Host 'Get-PartnerEnvironment -Name Emulator | Format-List'
Get-PartnerEnvironment -Name Emulator | Format-List | Out-Host

Write-Host "Successful sign-ins of the last 7 days without MFA (Get-PartnerUserSignInActivity, the newest 5)"
Get-PartnerUserSignInActivity -StartDate (Get-Date).AddDays(-7) -Succeeded |
    Where-Object { $null -eq $_.MfaDetail } | Select-Object -First 5 | Format-Table | Out-Host

Write-Host 'The partner security assessment, findings per check (Invoke-PartnerSecurityAssessment)'
Invoke-PartnerSecurityAssessment | Group-Object Check | ForEach-Object {
    $statuses = $_.Group | Group-Object Status -NoElement
    [pscustomobject]@{ Check = $_.Name; Findings = $_.Count; Statuses = ($statuses | ForEach-Object { "$($_.Count) $($_.Name)" }) -join ', ' }
} | Format-Table -AutoSize | Out-Host
Write-Host "Each finding has Evidence and Remediation; -OutputPath writes an HTML, JSON and CSV report."
