# TestHelpers.psm1 — shared helpers for the Pester tests in tests/pester/: start and stop the
# emulator (artifacts/bin/partnersec-emulator, built by tools/build.sh), import the built module,
# register the emulator as a partner environment, and call the emulator's test-only control plane.
#
#   BeforeAll {
#       Import-Module (Join-Path $PSScriptRoot '../TestHelpers.psm1') -Force
#       Import-PartnerSecurityModule
#       $emu = Start-TestEmulator
#       Register-TestEnvironment -Emulator $emu
#   }
#   AfterAll { Stop-TestEmulator -Emulator $emu }

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$script:RepoRoot = Split-Path -Parent $PSScriptRoot
$script:DemoScenario = Join-Path $script:RepoRoot 'native/emulator/scenarios/demo.json'

function Import-PartnerSecurityModule {
    <# Imports the module built into artifacts/ (-Global: visible to the test, not only to this module). #>
    [CmdletBinding()]
    param()
    $psd1 = Join-Path $script:RepoRoot 'artifacts/PartnerSecurity/PartnerSecurity.psd1'
    if (-not (Test-Path -LiteralPath $psd1)) { throw "$psd1 not found: run tools/build.sh first." }
    Import-Module $psd1 -Force -Global
}

function Start-TestEmulator {
    <#
    .SYNOPSIS
        Starts the emulator on a free loopback port and waits until it is ready.
    .OUTPUTS
        An object with BaseUrl, CertificatePath (null with -NoTls), Process, Scenario (the parsed
        scenario JSON), ScenarioPath, Directory (its temp folder) and LogPath (its stderr).
    #>
    [CmdletBinding()]
    param(
        [string] $Scenario = $script:DemoScenario,
        [switch] $NoTls,
        [ValidateRange(1, 300)] [int] $TimeoutSeconds = 30
    )
    $exe = Join-Path $script:RepoRoot 'artifacts/bin/partnersec-emulator'
    if ($IsWindows) { $exe += '.exe' }
    if (-not (Test-Path -LiteralPath $exe)) { throw "$exe not found: run tools/build.sh first." }
    $scenarioPath = (Resolve-Path -LiteralPath $Scenario).ProviderPath

    $dir = Join-Path ([IO.Path]::GetTempPath()) ("partnersec-emu-" + [guid]::NewGuid().ToString('n').Substring(0, 12))
    New-Item -ItemType Directory -Path $dir | Out-Null
    $readyFile = Join-Path $dir 'ready.json'
    $logPath = Join-Path $dir 'emulator.log'

    $arguments = @('--scenario', $scenarioPath, '--port', '0', '--ready-file', $readyFile)
    if (-not $NoTls) { $arguments += '--tls' }
    # Output goes to files, not pipes: nobody reads a pipe here, and a full one would block the emulator.
    $process = Start-Process -FilePath $exe -ArgumentList ($arguments | ForEach-Object { '"' + $_ + '"' }) `
        -RedirectStandardOutput (Join-Path $dir 'stdout.txt') -RedirectStandardError $logPath `
        -NoNewWindow -PassThru

    # The emulator writes the ready file atomically, so a file that exists is complete.
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    while (-not (Test-Path -LiteralPath $readyFile)) {
        if ($process.HasExited -or [DateTime]::UtcNow -gt $deadline) {
            $why = if ($process.HasExited) { "exited with code $($process.ExitCode)" } else { "was not ready within $TimeoutSeconds s" }
            if (-not $process.HasExited) { $process.Kill() }
            $log = if (Test-Path -LiteralPath $logPath) { Get-Content -LiteralPath $logPath -TotalCount 40 | Out-String } else { '' }
            throw "The emulator ($exe) $why. Its log:`n$log"
        }
        Start-Sleep -Milliseconds 100
    }
    $ready = Get-Content -LiteralPath $readyFile -Raw | ConvertFrom-Json

    [pscustomobject]@{
        PSTypeName      = 'PartnerSecurity.TestEmulator'
        BaseUrl         = $ready.baseUrl.TrimEnd('/')
        CertificatePath = $ready.certificatePath
        Process         = $process
        Scenario        = Get-Content -LiteralPath $scenarioPath -Raw | ConvertFrom-Json
        ScenarioPath    = $scenarioPath
        Directory       = $dir
        LogPath         = $logPath
    }
}

function Stop-TestEmulator {
    <# Stops an emulator from Start-TestEmulator and removes its temp folder. Safe to call twice or with $null. #>
    [CmdletBinding()]
    param([Parameter(ValueFromPipeline)] $Emulator)
    process {
        if (-not $Emulator) { return }
        $process = $Emulator.Process
        if ($process -and -not $process.HasExited) {
            $process.Kill()
            $null = $process.WaitForExit(10000)
        }
        if ($Emulator.Directory -and (Test-Path -LiteralPath $Emulator.Directory)) {
            Remove-Item -LiteralPath $Emulator.Directory -Recurse -Force -ErrorAction SilentlyContinue
        }
    }
}

function Register-TestEnvironment {
    <# Registers the emulator as a custom partner environment, exactly as a user would. #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] $Emulator,
        [string] $Name = 'Emulator'
    )
    $base = $Emulator.BaseUrl
    $parameters = @{
        Name                     = $Name
        ActiveDirectoryAuthority = $base
        GraphEndpoint            = "$base/graph"
        PartnerCenterEndpoint    = "$base/partnercenter"
    }
    if ($Emulator.CertificatePath) { $parameters.TrustedCertificatePath = $Emulator.CertificatePath }
    Add-PartnerEnvironment @parameters
}

function Invoke-EmulatorControl {
    <#
    .SYNOPSIS
        Calls the emulator's test-only control plane, e.g.
        Invoke-EmulatorControl -Emulator $emu -Path /_emulator/clock/advance -Body @{ seconds = 3600 }
        POST when -Body is given, else GET (or -Method). Returns the parsed JSON answer.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] $Emulator,
        [Parameter(Mandatory)] [ValidatePattern('^/_emulator/')] [string] $Path,
        [hashtable] $Body,
        [ValidateSet('Get', 'Post', 'Delete')] [string] $Method
    )
    if (-not $Method) { $Method = if ($PSBoundParameters.ContainsKey('Body')) { 'Post' } else { 'Get' } }
    $uri = [uri]($Emulator.BaseUrl + $Path)
    if (-not $uri.IsLoopback) { throw "Refusing to call a control endpoint off loopback: $uri" }
    $request = @{ Uri = $uri; Method = $Method }
    if ($PSBoundParameters.ContainsKey('Body')) {
        $request.Body = $Body | ConvertTo-Json -Compress -Depth 10
        $request.ContentType = 'application/json'
    }
    # -SkipCertificateCheck, only here: this is test plumbing to a loopback endpoint of our own
    # emulator, whose certificate the module under test trusts through -TrustedCertificatePath
    # (that trust path is what the tests check). pwsh has no per-call "trust this CA" option, and
    # pinning by hand would mean compiling a validation callback for a test-only side channel.
    if ($uri.Scheme -eq 'https') { $request.SkipCertificateCheck = $true }
    # Invoke-RestMethod emits a JSON array as one object; unroll it like any other command output.
    Invoke-RestMethod @request | ForEach-Object { $_ }
}

function Get-EmulatorIssuedSecrets {
    <# Every secret value the emulator has seeded or issued (tokens, refresh tokens, client secrets), as strings, to prove none leaks into output, logs or files. #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param([Parameter(Mandatory)] $Emulator)
    , [string[]] @(Invoke-EmulatorControl -Emulator $Emulator -Path '/_emulator/issued-tokens')
}

Export-ModuleMember -Function Import-PartnerSecurityModule, Start-TestEmulator, Stop-TestEmulator,
    Register-TestEnvironment, Invoke-EmulatorControl, Get-EmulatorIssuedSecrets
