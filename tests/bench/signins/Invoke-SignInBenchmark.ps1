<#
.SYNOPSIS
    Sign-in activity benchmark: PartnerSecurity against (a) a pure-PowerShell Invoke-RestMethod
    @odata.nextLink loop and (b) MSAL.NET + the Microsoft.Graph SDK's PageIterator, all against
    the same emulator in one run. Prints one table of ratios. Not part of the test run.

.DESCRIPTION
    Three scenarios (issue #5):
      1. throttled, one tenant: Graph's 5 requests / 10 s and 1-5 s per page, 60,000 x Scale
         sign-ins (60 pages); records/s as a fraction of the throttle-bound limit (5 pages of
         1,000 per 10 s = 500 records/s). At 15 pages the last request alone (it cannot go before
         30 s, and its 1-5 s) moved the figure by 3-15% between runs of the same code, so it
         measured the run's edges more than its throughput;
      2. client-bound: no throttle, 100 ms per page, 200,000 x Scale sign-ins (Scale 5 = the
         issue's 1,000,000): wall time of each contender, our peak RSS at a quarter and at all of
         the records (flat = streaming), and the per-record cost of Rust -> C# -> PSObject
         (Get-PartnerUserSignInActivity against Export-PartnerSignInActivity, which stays in Rust);
      3. many tenants: 50 customer tenants, each its own throttle budget; our speed-up over the
         sequential baselines. Runs on a 5x faster clock (5 requests / 2 s, 0.2-1 s per page) so
         the sequential baselines finish; ratios do not depend on the clock's speed.
    Every contender runs in its own process (the PowerShell ones through Invoke-Contender.ps1),
    timed inside it and measured by /usr/bin/time -v for peak RSS. Customer tenants are reached
    through GDAP by our cmdlets (the partner user's refresh token exchanged at each customer's
    authority) and with client credentials in each customer by the baselines.

    Needs a release build: bash tools/build.sh (the script builds the C# baseline itself).

.PARAMETER Scale
    Multiplies every record count. 1 (the default) runs in about 20 minutes on 2 cores.

.PARAMETER Scenario
    Which scenarios to run (1, 2, 3).

.PARAMETER Tenants
    Customer tenants in scenario 3.

.PARAMETER Contenders
    Which contenders to run (all four by default); ratios need both of their contenders.
    With -Verbose, scenario 1 also prints when each sign-in request was answered.

.PARAMETER PageSeconds
    Scenario 1's page time, the shortest and the longest in seconds (1 and 5 by default, as Graph's
    usually are). Pages slower than two of the budget's request intervals and a fifth (5 s) are
    where an export's two ends hand the middle of the range to windows (when more than two fit it).

.PARAMETER Seed
    Seeds the emulator's page times in scenarios 1 and 3: every contender meets the same sequence
    of page times (in the order its requests arrive), and a run with the same seed meets it again.
    0 draws each page time at random.

.PARAMETER RssRuns
    Runs of each contender whose peak RSS is held against a target (scenario 2: pwsh alone, the
    module idle, the export of a quarter and of all the records); the median is reported, with
    the range. The export of all the records runs -RssRuns or -TimeRuns times, whichever is more.

.PARAMETER TimeRuns
    Runs of our contenders in scenarios 2 and 3 (a few seconds each, where the machine's moment
    moves a run by a tenth or more); each time held against a target is the median run's, with
    the range. The baselines run once: their runs take 45-150 s, which the same noise hardly moves.

.PARAMETER ResultPath
    Also writes the table, the raw figures and the machine to this Markdown file.

.EXAMPLE
    pwsh tests/bench/signins/Invoke-SignInBenchmark.ps1 -ResultPath tests/bench/results/signins.md
#>
[CmdletBinding()]
param(
    [ValidateRange(0.01, 10)] [double] $Scale = 1,
    [ValidateSet(1, 2, 3)] [int[]] $Scenario = @(1, 2, 3),
    [ValidateRange(2, 500)] [int] $Tenants = 50,
    [ValidateSet('ours-get', 'ours-export', 'sdk', 'irm')] [string[]] $Contenders = @('ours-get', 'ours-export', 'sdk', 'irm'),
    [ValidateCount(2, 2)] [ValidateRange(0.1, 60)] [double[]] $PageSeconds = @(1, 5),
    [ValidateRange(0, [int]::MaxValue)] [int] $Seed = 1,
    [ValidateRange(1, 15)] [int] $RssRuns = 3,
    [ValidateRange(1, 15)] [int] $TimeRuns = 3,
    [string] $ResultPath
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
if ($PageSeconds[0] -gt $PageSeconds[1]) { throw "-PageSeconds: the shortest page time comes first, then the longest (got $($PageSeconds -join ', '))." }
# The export of all the records gives both a time and a peak RSS: it runs for whichever asks more.
$exportRuns = [Math]::Max($RssRuns, $TimeRuns)
$repo = (Resolve-Path (Join-Path $PSScriptRoot '../../..')).ProviderPath

# ---- the run -------------------------------------------------------------------------------
Import-Module (Join-Path $repo 'tests/TestHelpers.psm1') -Force
foreach ($needed in 'artifacts/PartnerSecurity/PartnerSecurity.psd1', 'artifacts/bin/partnersec-emulator') {
    if (-not (Test-Path (Join-Path $repo $needed))) { throw "$needed is missing: run bash tools/build.sh first." }
}
$timeTool = '/usr/bin/time'
$contenderScript = Join-Path $PSScriptRoot 'Invoke-Contender.ps1'
if (-not (Test-Path $timeTool)) { throw "$timeTool (GNU time, for peak RSS) is missing: apt-get install time" }

$work = Join-Path ([IO.Path]::GetTempPath()) ('signin-bench-' + [guid]::NewGuid().ToString('n').Substring(0, 8))
New-Item -ItemType Directory -Path $work | Out-Null
$baselineDir = Join-Path $repo 'artifacts/bench/baseline-graphsdk'
Write-Host 'Building the Graph SDK baseline (Release)...'
& dotnet build -c Release (Join-Path $repo 'tests/bench/baseline-graphsdk') -o $baselineDir -nologo -v quiet | Out-Null
if ($LASTEXITCODE) { throw 'the baseline did not build' }
$baselineDll = Join-Path $baselineDir 'BaselineGraphSdk.dll'

# ---- scenario file: a partner with GDAP relationships to every customer ---------------------
$partnerId = '5b000000-0000-4000-8000-000000000000'
$appId = '5b0000a0-0000-4000-8000-000000000001'
$env:BENCH_CLIENT_SECRET = 'bench-secret-NOT-A-REAL-SECRET-' + [guid]::NewGuid().ToString('n')
$env:BENCH_REFRESH_TOKEN = '1.Abench-refresh-token-NOT-A-REAL-TOKEN-' + [guid]::NewGuid().ToString('n')
$graphPermissions = @{ 'https://graph.microsoft.com' = @('AuditLog.Read.All', 'Directory.Read.All') }
# Sign-ins read per scenario (60 throttled pages: see scenario 1 above). Graph's v1.0 API (the SDK's) returns interactive user sign-ins
# only, about half of what the generator makes, so each tenant is generated with twice as many.
$counts = @{
    one = [int](60000 * $Scale)
    big = [int](200000 * $Scale)
    each = [int](4000 * $Scale)
}
function New-Customer([int] $n, [string] $name, [int] $count) {
    $id = '5c{0:x6}-0000-4000-8000-000000000000' -f $n
    [ordered]@{
        id = $id; domains = @("$name.bench.example"); displayName = $name; licenses = @('AAD_PREMIUM_P2')
        servicePrincipals = @(@{ appId = $appId; applicationPermissions = $graphPermissions; delegatedPermissions = $graphPermissions })
        signIns = @{ generate = @{ seed = $n; count = [Math]::Max(1, 2 * $count); days = 28; users = 200 } }
    }
}
$customers = @(
    New-Customer 1 'one' $counts.one
    New-Customer 2 'big' $counts.big
    # A quarter of 'big' over the same 28 days: the same windows in flight, a quarter of the records.
    New-Customer 3 'quarter' ([int]($counts.big / 4))
    foreach ($i in 1..$Tenants) { New-Customer (100 + $i) ('c{0:d3}' -f $i) $counts.each }
)
$scenarioDoc = [ordered]@{
    description = 'Sign-in benchmark (generated by tests/bench/signins/Invoke-SignInBenchmark.ps1). All secrets are fake.'
    graph = @{ signInsThrottle = @{ requests = 5; windowSeconds = 10 }; pageLatencyMs = 0 }
    resources = @(
        @{
            appId = '00000003-0000-0000-c000-000000000000'; displayName = 'Microsoft Graph'
            identifierUris = @('https://graph.microsoft.com', '{base}/graph')
            delegatedScopes = @('User.Read', 'AuditLog.Read.All', 'Directory.Read.All'); appRoles = @('AuditLog.Read.All', 'Directory.Read.All')
        }
        # Connect-PartnerCenter signs in to Partner Center first.
        @{
            appId = 'fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd'; displayName = 'Partner Center API'
            identifierUris = @('https://api.partnercenter.microsoft.com', '{base}/partnercenter'); delegatedScopes = @('user_impersonation'); appRoles = @()
        }
    )
    tenants = @(
        [ordered]@{
            id = $partnerId; domains = @('partner.bench.example'); displayName = 'Bench partner'; licenses = @('AAD_PREMIUM_P2')
            users = @(@{ id = '5b0000b0-0000-4000-8000-000000000001'; userPrincipalName = 'admin@partner.bench.example'; displayName = 'Admin agent'; mfaRegistered = $true })
            applications = @(@{
                appId = $appId; displayName = 'Bench reporter'; signInAudience = 'AzureADMultipleOrgs'
                secrets = @(@{ id = '5b0000c0-0000-4000-8000-000000000001'; value = $env:BENCH_CLIENT_SECRET })
                applicationPermissions = $graphPermissions
                delegatedPermissions = $graphPermissions + @{ 'https://api.partnercenter.microsoft.com' = @('user_impersonation') }
            })
            consents = @(@{ name = 'bench'; clientId = $appId; userId = '5b0000b0-0000-4000-8000-000000000001'; mfa = $true; refreshToken = $env:BENCH_REFRESH_TOKEN; resource = 'https://graph.microsoft.com' })
            delegatedAdminRelationships = @(foreach ($c in $customers) {
                @{
                    id = "$($c.id)-$partnerId"; displayName = "bench $($c.displayName)"; status = 'active'; endDateTime = '+365d'
                    customer = @{ tenantId = $c.id; displayName = $c.displayName }
                    accessDetails = @{ unifiedRoles = @(@{ roleDefinitionId = 'f2ef992c-3afb-46b9-b7cf-a126ee74c451' }) }
                }
            })
        }
    ) + $customers
}
$scenarioPath = Join-Path $work 'bench.json'
$scenarioDoc | ConvertTo-Json -Depth 32 | Set-Content -LiteralPath $scenarioPath -Encoding utf8

$loadBefore = ((Get-Content /proc/loadavg) -split ' ')[0..2] -join ', '
$emu = Start-TestEmulator -Scenario $scenarioPath -TimeoutSeconds 120
$results = [System.Collections.Generic.List[object]]::new()
try {
    $common = @{ Base = $emu.BaseUrl; Ca = $emu.CertificatePath; ClientId = $appId; Partner = $partnerId }

    function Set-Graph($Throttle, $Latency) {
        Invoke-EmulatorControl -Emulator $emu -Path '/_emulator/graph/settings' -Body @{ signInsThrottle = $Throttle; pageLatencyMs = $Latency } | Out-Null
    }

    # Page times from -Seed's sequence, started again by every Set-Graph (one per contender).
    function New-PageLatency([int] $MinMs, [int] $MaxMs) {
        $latency = @{ min = $MinMs; max = $MaxMs }
        if ($Seed) { $latency.seed = $Seed }
        $latency
    }

    # CPU seconds the emulator has used (user + system), to tell client-bound from server-bound.
    function Get-EmulatorCpuSeconds {
        $fields = (Get-Content "/proc/$($emu.Process.Id)/stat" -Raw) -replace '^.*\) ', '' -split ' '
        ([long]$fields[11] + [long]$fields[12]) / 100
    }

    function Get-SignInRequestCount {
        $log = @(Get-EmulatorSignInRequests -Emulator $emu)
        if ($log.Count -and $VerbosePreference -ne 'SilentlyContinue') {
            # When the requests came: how many arrived in each tenth of a second after the first.
            $t0 = ([datetime]$log[0].time).ToUniversalTime()
            $tenths = @($log | Group-Object { [int][Math]::Floor((([datetime]$_.time).ToUniversalTime() - $t0).TotalSeconds * 10) } | Sort-Object { [int]$_.Name })
            Write-Verbose ('sign-in requests per 0.1 s: ' + (($tenths | ForEach-Object { "$($_.Name):$($_.Count)" }) -join ' '))
        }
        $log.Count
    }

    function Invoke-Contender([string] $Name, [string[]] $TenantIds, [hashtable] $Extra = @{}) {
        # The request log counts this contender's sign-in requests only (it holds the last 10,000).
        Invoke-EmulatorControl -Emulator $emu -Path '/_emulator/requests' -Method Delete | Out-Null
        $emulatorCpu = Get-EmulatorCpuSeconds
        $log = Join-Path $work "$Name-$([guid]::NewGuid().ToString('n').Substring(0, 6)).time"
        if ($Name -eq 'sdk') {
            $sdkArgs = @('--authority', $emu.BaseUrl, '--graph', "$($emu.BaseUrl)/graph/v1.0", '--ca', $emu.CertificatePath,
                '--client-id', $appId, '--secret-env', 'BENCH_CLIENT_SECRET', '--tenants', ($TenantIds -join ','), '--top', '1000')
            if ($Extra['StartDate']) { $sdkArgs += @('--filter', "createdDateTime ge $(([datetime]$Extra['StartDate']).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ'))") }
            $out = & $timeTool -v -o $log dotnet $baselineDll @sdkArgs 2>&1
        } else {
            $contenderArgs = @('-Contender', $Name, '-Base', $common.Base, '-Ca', $common.Ca, '-ClientId', $common.ClientId, '-Partner', $common.Partner,
                '-Tenant', ($TenantIds -join ','))
            if ($Extra['StartDate']) { $contenderArgs += @('-StartDate', ([datetime]$Extra['StartDate']).ToUniversalTime().ToString('o')) }
            if ($Extra['Budget']) { $contenderArgs += @('-BudgetRequests', $Extra.Budget.Requests, '-BudgetWindowSeconds', $Extra.Budget.WindowSeconds) }
            $out = & $timeTool -v -o $log pwsh -NoProfile -NonInteractive -File $contenderScript @contenderArgs 2>&1
        }
        $json = @($out | ForEach-Object { "$_" } | Where-Object { $_.StartsWith('{') })
        if ($json.Count -eq 0) { throw "$Name printed no result:`n$($out | Out-String)" }
        $last = $json[-1]
        $figures = $last | ConvertFrom-Json
        $timeLog = Get-Content $log
        $rssKb = [long](($timeLog -match 'Maximum resident set size' -replace '\D', '') | Select-Object -First 1)
        $clientCpu = (($timeLog -match '(User|System) time \(seconds\)') -replace '^.*:\s*', '' | Measure-Object -Sum).Sum
        [pscustomobject]@{ Contender = $Name; Records = [long]$figures.records; Seconds = [double]$figures.seconds
            RecordsPerSecond = [double]$figures.records / [Math]::Max(0.001, [double]$figures.seconds); PeakRssMB = [Math]::Round($rssKb / 1024, 1)
            FailedTenants = [int]$figures.failedTenants
            ClientCpuSeconds = [Math]::Round($clientCpu, 1); EmulatorCpuSeconds = [Math]::Round((Get-EmulatorCpuSeconds) - $emulatorCpu, 1)
            Requests = Get-SignInRequestCount }
    }

    # A peak RSS moves by up to 10 MB between runs of the same process (pwsh's own malloc arenas),
    # and a run of a few seconds by a tenth or more with the machine's moment: the figures held
    # against a target are medians of -RssRuns or -TimeRuns runs, with their range. The row is the
    # run of median time, with the median peak RSS; $Before runs ahead of each (a fresh budget).
    function Invoke-ContenderRuns([int] $Runs, [string] $Name, [string[]] $TenantIds, [hashtable] $Extra = @{}, [scriptblock] $Before = {}) {
        $all = @(foreach ($i in 1..$Runs) { & $Before; Invoke-Contender $Name $TenantIds $Extra })
        # The middle run; of an even number, the slower (larger) of the two in the middle.
        $median = [int][Math]::Floor($all.Count / 2)
        $rss = @($all.PeakRssMB | Sort-Object)
        $seconds = @($all.Seconds | Sort-Object)
        $r = @($all | Sort-Object Seconds)[$median]
        $r.PeakRssMB = $rss[$median]
        $r | Add-Member PeakRssRange $(if ($rss.Count -gt 1) { "$($rss[0])-$($rss[-1])" } else { "$($rss[0])" })
        $r | Add-Member Runs $all.Count
        $r | Add-Member SecondsMin $seconds[0]
        $r | Add-Member SecondsMax $seconds[-1]
        $r
    }

    # How many runs a row stands for, with the range of their times when they took any:
    # '3 (2.40-2.70 s)', '3' (runs that read nothing), '1'.
    function Format-Runs($Row) {
        $runs = $Row.PSObject.Properties['Runs']
        if (-not $runs) { return '1' }
        # An idle row read nothing: its runs are RSS samples, their times (a few ms) say nothing.
        if ($runs.Value -lt 2 -or $Row.Records -eq 0) { return "$($runs.Value)" }
        '{0} ({1:n2}-{2:n2} s)' -f $runs.Value, $Row.SecondsMin, $Row.SecondsMax
    }

    # How many times faster than $Baseline $Ours ran, by its median run, and over the range of its runs.
    function Format-Speedup($Baseline, $Ours) {
        $text = '{0:n1}x' -f ($Baseline.Seconds / $Ours.Seconds)
        $runs = $Ours.PSObject.Properties['Runs']
        if ($runs -and $runs.Value -gt 1) {
            $text += ' ({0:n1}-{1:n1}x over {2} runs)' -f ($Baseline.Seconds / $Ours.SecondsMax), ($Baseline.Seconds / $Ours.SecondsMin), $runs.Value
        }
        $text
    }

    $rows = [System.Collections.Generic.List[object]]::new()
    $one = $customers[0].id; $big = $customers[1].id
    $many = @($customers | Select-Object -Skip 3 | ForEach-Object id)
    $quarterTenant = $customers[2].id

    if (1 -in $Scenario) {
        Write-Host "Scenario 1: throttled (5 / 10 s), $($PageSeconds[0])-$($PageSeconds[1]) s per page, one tenant, $($counts.one) sign-ins"
        $pageLatency = New-PageLatency ([int]($PageSeconds[0] * 1000)) ([int]($PageSeconds[1] * 1000))
        Set-Graph @{ requests = 5; windowSeconds = 10 } $pageLatency
        $limit = 5 * 1000 / 10
        # The cmdlet writes newest first (later windows read ahead a few pages, then wait); the
        # export writes pages as they arrive.
        foreach ($name in @('ours-get', 'ours-export', 'sdk', 'irm' | Where-Object { $_ -in $Contenders })) {
            Set-Graph @{ requests = 5; windowSeconds = 10 } $pageLatency   # a fresh budget
            $r = Invoke-Contender $name @($one)
            $requests = $r.Requests
            if ($VerbosePreference -ne 'SilentlyContinue') {
                $log = @(Get-EmulatorSignInRequests -Emulator $emu)
                $t0 = ([datetime]$log[0].time).ToUniversalTime()
                # An answer without a page (a 429, a fault) was given no page time: '-'.
                $pageMs = { if ($_.PSObject.Properties['latencyMs']) { $_.latencyMs } else { '-' } }
                Write-Verbose ("$name requests (s since the first + page ms / status): " + (($log | ForEach-Object { '{0:n1}+{1}/{2}' -f (([datetime]$_.time).ToUniversalTime() - $t0).TotalSeconds, (& $pageMs), $_.status }) -join ' '))
            }
            $r | Add-Member Scenario 1
            $r | Add-Member FractionOfLimit ([Math]::Round($r.RecordsPerSecond / $limit, 3))
            $r | Add-Member RequestFractionOfBudget ([Math]::Round(($requests / $r.Seconds) / 0.5, 3))
            $rows.Add($r)
            Write-Host ("  {0,-12} {1,8} records {2,7:n1} s  {3,5:p0} of the throttle-bound limit ({4} requests)" -f $name, $r.Records, $r.Seconds, $r.FractionOfLimit, $requests)
        }
    }

    if (2 -in $Scenario) {
        Write-Host "Scenario 2: client-bound (no throttle, 100 ms per page), $($counts.big) sign-ins"
        Set-Graph $null 100
        $unthrottled = @{ Budget = @{ Requests = 10000; WindowSeconds = 10 } }
        $r = Invoke-ContenderRuns $RssRuns 'pwsh-idle' @($big); $r | Add-Member Scenario '2 (idle)'; $rows.Add($r)
        Write-Host ("  {0,-12} pwsh running a script, nothing loaded: peak RSS {1} MB ({2})" -f 'pwsh-idle', $r.PeakRssMB, $r.PeakRssRange)
        $r = Invoke-ContenderRuns $RssRuns 'ours-idle' @($big) $unthrottled; $r | Add-Member Scenario '2 (idle)'; $rows.Add($r)
        Write-Host ("  {0,-12} pwsh with the module loaded and connected: peak RSS {1} MB ({2})" -f 'ours-idle', $r.PeakRssMB, $r.PeakRssRange)
        # A tenant with a quarter of the records, for the RSS-is-flat check.
        $r = Invoke-ContenderRuns $RssRuns 'ours-export' @($quarterTenant) $unthrottled; $r | Add-Member Scenario '2 (quarter)'; $rows.Add($r)
        Write-Host ("  {0,-12} {1,8} records {2,7:n1} s  peak RSS {3} MB ({4})" -f 'ours-export', $r.Records, $r.Seconds, $r.PeakRssMB, $r.PeakRssRange)
        foreach ($name in @('ours-export', 'ours-get', 'sdk', 'irm' | Where-Object { $_ -in $Contenders })) {
            $extra = $(if ($name -like 'ours-*') { $unthrottled } else { @{} })
            $r = switch ($name) {
                'ours-export' { Invoke-ContenderRuns $exportRuns $name @($big) $extra }
                'ours-get' { Invoke-ContenderRuns $TimeRuns $name @($big) $extra }
                default { Invoke-Contender $name @($big) $extra }
            }
            $r | Add-Member Scenario 2
            $rows.Add($r)
            Write-Host ("  {0,-12} {1,8} records {2,7:n1} s  runs {3}  peak RSS {4} MB ({5} requests)" -f $name, $r.Records, $r.Seconds, (Format-Runs $r), $r.PeakRssMB, $r.Requests)
        }
    }

    if (3 -in $Scenario) {
        Write-Host "Scenario 3: $Tenants tenants, each 5 requests / 2 s, 0.2-1 s per page, $($counts.each) sign-ins each"
        $compressed = @{ Budget = @{ Requests = 5; WindowSeconds = 2 } }
        $freshBudget = { Set-Graph @{ requests = 5; windowSeconds = 2 } (New-PageLatency 200 1000) }
        foreach ($name in @('ours-export', 'ours-get', 'sdk', 'irm' | Where-Object { $_ -in $Contenders })) {
            $r = if ($name -like 'ours-*') { Invoke-ContenderRuns $TimeRuns $name $many $compressed $freshBudget } else { & $freshBudget; Invoke-Contender $name $many }
            $r | Add-Member Scenario 3
            $rows.Add($r)
            Write-Host ("  {0,-12} {1,8} records {2,7:n1} s  runs {3}  ({4} tenants failed, {5} requests)" -f $name, $r.Records, $r.Seconds, (Format-Runs $r), $r.FailedTenants, $r.Requests)
        }
    }

    # ---- the table of ratios -----------------------------------------------------------------
    function Get-Row($s, $n) { $rows | Where-Object { "$($_.Scenario)" -eq "$s" -and $_.Contender -eq $n } | Select-Object -First 1 }
    $table = [System.Collections.Generic.List[object]]::new()
    function Add-Ratio([string] $What, [scriptblock] $Value, [string] $Target) {
        # A ratio whose contenders did not run (-Contenders) is left out.
        try { $v = & $Value } catch { return }
        $table.Add([pscustomobject]@{ Measure = $What; Value = $v; Target = $Target })
    }
    if (1 -in $Scenario) {
        foreach ($n in 'ours-get', 'ours-export', 'sdk', 'irm') {
            $r = Get-Row 1 $n
            Add-Ratio "1 throttled: $n records/s / limit" { '{0:p1}' -f $r.FractionOfLimit } $(if ($n -like 'ours*') { '>= 95%' } else { '' })
        }
        foreach ($n in 'ours-get', 'ours-export') {
            Add-Ratio "1 throttled: $n requests/s / budget" { '{0:p1}' -f (Get-Row 1 $n).RequestFractionOfBudget } ''
        }
    }
    if (2 -in $Scenario) {
        $export = Get-Row 2 'ours-export'; $get = Get-Row 2 'ours-get'; $sdk = Get-Row 2 'sdk'; $irm = Get-Row 2 'irm'; $q = Get-Row '2 (quarter)' 'ours-export'
        $idle = Get-Row '2 (idle)' 'ours-idle'; $floor = Get-Row '2 (idle)' 'pwsh-idle'
        Add-Ratio '2 client-bound: sdk time / ours-export time' { Format-Speedup $sdk $export } '>= 10x'
        Add-Ratio '2 client-bound: sdk time / ours-get time' { Format-Speedup $sdk $get } '>= 10x'
        Add-Ratio '2 client-bound: irm time / ours-export time' { Format-Speedup $irm $export } '>= 20x'
        Add-Ratio '2 client-bound: irm time / ours-get time' { Format-Speedup $irm $get } '>= 20x'
        Add-Ratio "2 peak RSS ours-export, all / quarter of the records (MB, median of $exportRuns / $RssRuns runs; range)" { "$($export.PeakRssMB) / $($q.PeakRssMB) ($($export.PeakRssRange); $($q.PeakRssRange))" } '<= 150, flat'
        Add-Ratio '2 peak RSS ours-export above idle pwsh + module (MB)' { '{0:n1} (idle {1})' -f ($export.PeakRssMB - $idle.PeakRssMB), $idle.PeakRssMB } ''
        Add-Ratio "2 peak RSS pwsh running a script / + the module, connected (MB, median of $RssRuns runs; range)" { "$($floor.PeakRssMB) / $($idle.PeakRssMB) ($($floor.PeakRssRange); $($idle.PeakRssRange))" } ''
        Add-Ratio '2 peak RSS ours-get / sdk / irm (MB)' { "$($get.PeakRssMB) / $($sdk.PeakRssMB) / $($irm.PeakRssMB)" } ''
        Add-Ratio '2 ours-get minus ours-export per record (us): PSObjects, and newest-first order against arrival' { '{0:n1}' -f ((($get.Seconds - $export.Seconds) / [Math]::Max(1, $get.Records)) * 1e6) } ''
        Add-Ratio '2 ours-get per record, all in (us)' { '{0:n1}' -f (($get.Seconds / [Math]::Max(1, $get.Records)) * 1e6) } ''
    }
    if (3 -in $Scenario) {
        $o = Get-Row 3 'ours-export'; $g = Get-Row 3 'ours-get'
        foreach ($n in 'sdk', 'irm') {
            $b = Get-Row 3 $n
            Add-Ratio "3 $Tenants tenants: $n time / ours-export time" { Format-Speedup $b $o } ">= $(0.8 * $Tenants)x"
            Add-Ratio "3 $Tenants tenants: $n time / ours-get time" { Format-Speedup $b $g } ">= $(0.8 * $Tenants)x"
        }
    }
    Write-Host ''
    $table | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
    $raw = $rows | Select-Object Scenario, Contender, Records, Seconds, @{ n = 'Runs'; e = { Format-Runs $_ } }, RecordsPerSecond, PeakRssMB, FailedTenants, Requests, ClientCpuSeconds, EmulatorCpuSeconds
    $raw | Format-Table -AutoSize | Out-String -Width 200 | Write-Host

    if ($ResultPath) {
        $cpu = ((Get-Content /proc/cpuinfo) -match '^model name' | Select-Object -First 1) -replace '^model name\s*:\s*', ''
        $memKb = [long](((Get-Content /proc/meminfo) -match '^MemTotal' | Select-Object -First 1) -replace '\D', '')
        $memGb = [Math]::Round($memKb / 1MB, 1)
        $lines = @(
            '# Sign-in activity benchmark'
            ''
            "Run $((Get-Date).ToUniversalTime().ToString('yyyy-MM-dd HH:mm')) UTC by tests/bench/signins/Invoke-SignInBenchmark.ps1 -Scale $Scale -Tenants $Tenants -Seed $Seed."
            "Machine: $([Environment]::ProcessorCount) cores ($cpu), $memGb GB RAM, $([Runtime.InteropServices.RuntimeInformation]::OSDescription); pwsh $($PSVersionTable.PSVersion); emulator and contenders on the same machine."
            "Load average (1, 5, 15 min) at the start: $loadBefore; at the end: $(((Get-Content /proc/loadavg) -split ' ')[0..2] -join ', ') (above about 1, other work shared the cores)."
            ''
            '## Ratios'
            ''
            '| measure | value | target |'
            '|---|---|---|'
            ($table | ForEach-Object { "| $($_.Measure) | $($_.Value) | $($_.Target) |" })
            ''
            '## Raw figures'
            ''
            '| scenario | contender | records | seconds (median run) | runs (range) | records/s | peak RSS MB | failed tenants | sign-in requests | contender CPU s | emulator CPU s |'
            '|---|---|---|---|---|---|---|---|---|---|---|'
            ($raw | ForEach-Object { '| {0} | {1} | {2} | {3:n2} | {4} | {5:n0} | {6} | {7} | {8} | {9} | {10} |' -f $_.Scenario, $_.Contender, $_.Records, $_.Seconds, $_.Runs, $_.RecordsPerSecond, $_.PeakRssMB, $_.FailedTenants, $_.Requests, $_.ClientCpuSeconds, $_.EmulatorCpuSeconds })
        )
        $lines | Set-Content -LiteralPath $ResultPath -Encoding utf8
        Write-Host "Results written to $ResultPath"
    }
} finally {
    Stop-TestEmulator -Emulator $emu
    Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
    Remove-Item Env:BENCH_CLIENT_SECRET, Env:BENCH_REFRESH_TOKEN -ErrorAction SilentlyContinue
}
