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

function Get-TestConsent {
    <#
    .SYNOPSIS
        A SAM consent of the emulator's scenario by name (demo.json: 'sam-admin', 'sam-sales-nomfa',
        ...; compliance.json: 'sam-admin-3', 'sam-fedworker-3', ...): what Connect-PartnerCenter
        -RefreshToken needs, read from the scenario so that no test spells a seeded value again.
    .OUTPUTS
        An object with TenantId, ApplicationId, Credential (the app id and its first secret),
        RefreshToken and UserId (the consenting user).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] $Emulator,
        [Parameter(Mandatory)] [string] $Name
    )
    foreach ($tenant in $Emulator.Scenario.tenants) {
        $consent = @($tenant.consents | Where-Object name -EQ $Name) | Select-Object -First 1
        if (-not $consent) { continue }
        $app = @($tenant.applications | Where-Object appId -EQ $consent.clientId) | Select-Object -First 1
        if (-not $app) { throw "The consent '$Name' names the app $($consent.clientId), which tenant $($tenant.id) of $($Emulator.ScenarioPath) lacks." }
        return [pscustomobject]@{
            TenantId      = $tenant.id
            ApplicationId = $app.appId
            Credential    = [pscredential]::new($app.appId, (ConvertTo-SecureString $app.secrets[0].value -AsPlainText -Force))
            RefreshToken  = $consent.refreshToken
            UserId        = $consent.userId
        }
    }
    throw "No consent named '$Name' in $($Emulator.ScenarioPath)."
}

function Connect-TestConsent {
    <# Connect-PartnerCenter with a consent of the scenario (see Get-TestConsent), as a SAM script signs in; returns the context. #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] $Emulator,
        [Parameter(Mandatory)] [string] $Name,
        [string] $Environment = 'Emulator'
    )
    $consent = Get-TestConsent -Emulator $Emulator -Name $Name
    Connect-PartnerCenter -ApplicationId $consent.ApplicationId -Credential $consent.Credential -RefreshToken $consent.RefreshToken `
        -Tenant $consent.TenantId -Environment $Environment
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

function Get-EmulatorSignInRequests {
    <#
    .SYNOPSIS
        The emulator's logged sign-in log requests (Graph auditLogs/signIns) since the log was last
        cleared, oldest first. Wrap the call in @() to count: a function returns no entries as nothing.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] $Emulator)
    Invoke-EmulatorControl -Emulator $Emulator -Path '/_emulator/requests' | Where-Object { $_.path -like '*/auditLogs/signIns*' }
}

function Get-EmulatorIssuedSecrets {
    <# Every secret value the emulator has seeded or issued (tokens, refresh tokens, client secrets), as strings, to prove none leaks into output, logs or files. #>
    [CmdletBinding()]
    [OutputType([string[]])]
    param([Parameter(Mandatory)] $Emulator)
    , [string[]] @(Invoke-EmulatorControl -Emulator $Emulator -Path '/_emulator/issued-tokens')
}

function New-TestStoreCertificate {
    <#
    .SYNOPSIS
        A self-signed RSA 2048 certificate, added WITH its private key to CurrentUser\My, valid
        from ten minutes ago for -ValidDays. The PFX round trip with Exportable makes the key
        persist in the store (and lets the module export it for signing). Returns Thumbprint,
        Pem (the public certificate, for /_emulator/applications/{id}/certificates) and NotAfter.
        Remove it with Remove-TestStoreCertificate.
    #>
    [CmdletBinding()]
    param([string] $Subject = "CN=PartnerSecurity test $([guid]::NewGuid().ToString('n'))", [double] $ValidDays = 2)
    $rsa = [System.Security.Cryptography.RSA]::Create(2048)
    try {
        $request = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new($Subject, $rsa,
            [System.Security.Cryptography.HashAlgorithmName]::SHA256, [System.Security.Cryptography.RSASignaturePadding]::Pkcs1)
        $ephemeral = $request.CreateSelfSigned([DateTimeOffset]::UtcNow.AddMinutes(-10), [DateTimeOffset]::UtcNow.AddDays($ValidDays))
        $password = [guid]::NewGuid().ToString()
        $pfx = $ephemeral.Export([System.Security.Cryptography.X509Certificates.X509ContentType]::Pfx, $password)
        $flags = [System.Security.Cryptography.X509Certificates.X509KeyStorageFlags]'Exportable, PersistKeySet, UserKeySet'
        $certificate = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pfx, $password, $flags)
        $store = [System.Security.Cryptography.X509Certificates.X509Store]::new('My', 'CurrentUser')
        $store.Open('ReadWrite')
        try { $store.Add($certificate) } finally { $store.Close() }
        [pscustomobject]@{ Thumbprint = $certificate.Thumbprint; Pem = $certificate.ExportCertificatePem(); NotAfter = $certificate.NotAfter.ToUniversalTime() }
    } finally {
        $rsa.Dispose()
    }
}

function Remove-TestStoreCertificate {
    <# Removes certificates New-TestStoreCertificate added to CurrentUser\My. #>
    [CmdletBinding()]
    param([string[]] $Thumbprint)
    if (-not $Thumbprint) { return }
    $store = [System.Security.Cryptography.X509Certificates.X509Store]::new('My', 'CurrentUser')
    $store.Open('ReadWrite')
    try {
        foreach ($t in $Thumbprint) {
            foreach ($c in $store.Certificates.Find('FindByThumbprint', $t, $false)) { $store.Remove($c) }
        }
    } finally { $store.Close() }
}

Export-ModuleMember -Function Import-PartnerSecurityModule, Start-TestEmulator, Stop-TestEmulator, Get-EmulatorSignInRequests,
    Register-TestEnvironment, Get-TestConsent, Connect-TestConsent, Invoke-EmulatorControl, Get-EmulatorIssuedSecrets,
    New-TestStoreCertificate, Remove-TestStoreCertificate
