<#
.SYNOPSIS
    One contender of Invoke-SignInBenchmark.ps1, in a process of its own: reads the sign-ins of
    -Tenant and prints one line of JSON (records, seconds, failed tenants). Not for direct use.

.DESCRIPTION
    Kept apart from the benchmark script and kept small, because the process's peak RSS is a
    figure: a contender that re-ran the 400-line benchmark script, read its arguments with
    ConvertFrom-Json and wrote its figures with ConvertTo-Json (both load Newtonsoft.Json) and
    through the formatter started 10-17 MB above pwsh running a one-line script. Arguments come as
    parameters; the secrets in the environment (BENCH_CLIENT_SECRET, BENCH_REFRESH_TOKEN), never on
    a command line.

    Contenders: pwsh-idle (pwsh, nothing loaded: the floor), ours-idle (the module loaded and
    connected, nothing read), ours-get (Get-PartnerUserSignInActivity), ours-export
    (Export-PartnerSignInActivity), irm (an Invoke-RestMethod nextLink loop).
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [ValidateSet('pwsh-idle', 'ours-idle', 'ours-get', 'ours-export', 'irm')] [string] $Contender,
    [Parameter(Mandatory)] [string] $Base,
    [Parameter(Mandatory)] [string] $Ca,
    [Parameter(Mandatory)] [string] $ClientId,
    [Parameter(Mandatory)] [string] $Partner,
    [Parameter(Mandatory)] [string[]] $Tenant,
    [string] $StartDate,
    [int] $BudgetRequests,
    [double] $BudgetWindowSeconds
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
# pwsh -File passes "a,b" as one string.
$Tenant = @($Tenant -split ',' | Where-Object { $_ })

function Write-Figures([long] $Records, [double] $Seconds, [int] $FailedTenants) {
    # Written by hand, straight to stdout: ConvertTo-Json and the formatter would load what the
    # contender itself never needed, after its work but inside its peak.
    $line = '{{"records":{0},"seconds":{1},"failedTenants":{2}}}' -f $Records, $Seconds.ToString([cultureinfo]::InvariantCulture), $FailedTenants
    [Console]::Out.WriteLine($line)
}

if ($Contender -eq 'pwsh-idle') {
    Write-Figures 0 0 0
    return
}

if ($Contender -eq 'irm') {
    # What partner scripts do today: a token per tenant, then follow @odata.nextLink, waiting out
    # a 429's Retry-After. -SkipCertificateCheck: pwsh cannot trust one CA per call.
    $records = 0; $failed = 0
    $clock = [Diagnostics.Stopwatch]::StartNew()
    foreach ($t in $Tenant) {
        try {
            $token = Invoke-RestMethod -Method Post -Uri "$Base/$t/oauth2/v2.0/token" -SkipCertificateCheck -Body @{
                grant_type = 'client_credentials'; client_id = $ClientId; client_secret = $env:BENCH_CLIENT_SECRET
                scope = 'https://graph.microsoft.com/.default'
            }
            $headers = @{ Authorization = "Bearer $($token.access_token)" }
            $uri = "$Base/graph/v1.0/auditLogs/signIns?`$top=1000"
            if ($StartDate) { $uri += '&$filter=' + [uri]::EscapeDataString("createdDateTime ge $(([datetime]$StartDate).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ'))") }
            while ($uri) {
                try {
                    $page = Invoke-RestMethod -Uri $uri -Headers $headers -SkipCertificateCheck
                } catch {
                    $response = $_.Exception.Response
                    if ($response -and [int]$response.StatusCode -eq 429) {
                        Start-Sleep -Seconds ([int]($response.Headers.RetryAfter.Delta.TotalSeconds) + 1)
                        continue
                    }
                    throw
                }
                $records += $page.value.Count
                $uri = $page.PSObject.Properties['@odata.nextLink']?.Value
            }
        } catch {
            $failed++
            Write-Warning "tenant ${t}: $($_.Exception.Message)"
        }
    }
    $clock.Stop()
    Write-Figures $records $clock.Elapsed.TotalSeconds $failed
    return
}

$repo = (Resolve-Path (Join-Path $PSScriptRoot '../../..')).ProviderPath
Import-Module (Join-Path $repo 'artifacts/PartnerSecurity/PartnerSecurity.psd1')
Add-PartnerEnvironment -Name Bench -ActiveDirectoryAuthority $Base -GraphEndpoint "$Base/graph" `
    -PartnerCenterEndpoint "$Base/partnercenter" -TrustedCertificatePath $Ca | Out-Null
$credential = [pscredential]::new($ClientId, (ConvertTo-SecureString $env:BENCH_CLIENT_SECRET -AsPlainText -Force))
Connect-PartnerCenter -ApplicationId $ClientId -Credential $credential -RefreshToken $env:BENCH_REFRESH_TOKEN -Tenant $Partner -Environment Bench | Out-Null
$query = @{ Tenant = $Tenant; ApiVersion = 'v1.0'; ThrottleLimit = [Math]::Min(256, $Tenant.Count) }
if ($BudgetRequests) { $query.ThrottleBudget = $BudgetRequests; $query.ThrottleWindow = [timespan]::FromSeconds($BudgetWindowSeconds) }
if ($StartDate) { $query.StartDate = [datetime]$StartDate }
$failures = $null
$clock = [Diagnostics.Stopwatch]::StartNew()
switch ($Contender) {
    'ours-idle' {
        # Loaded and connected, nothing read: the module's own footprint.
        $records = 0
    }
    'ours-get' {
        # Every record becomes a PSObject and goes down the pipeline (Measure-Object: no script
        # block per record, so the figure is the cmdlet's own cost).
        $records = (Get-PartnerUserSignInActivity @query -ErrorVariable failures -ErrorAction SilentlyContinue | Measure-Object).Count
    }
    'ours-export' {
        $path = Join-Path ([IO.Path]::GetTempPath()) "bench-$PID.jsonl"
        $summary = Export-PartnerSignInActivity @query -Path $path -Force -ErrorVariable failures -ErrorAction SilentlyContinue
        $records = $summary.Records
        Remove-Item -LiteralPath $path, "$path.checkpoint" -ErrorAction SilentlyContinue
    }
}
$clock.Stop()
Write-Figures $records $clock.Elapsed.TotalSeconds $(if ($failures) { $failures.Count } else { 0 })
