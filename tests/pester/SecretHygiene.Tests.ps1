# Secret hygiene: every exported cmdlet runs with -Verbose -Debug in a separate pwsh whose
# HOME (and temp, XDG and PartnerSecurity folders) is an empty folder, with every stream
# captured. Then none of the values the emulator seeded or issued (access, refresh and ID tokens,
# authorization and device codes, client secrets) may appear in any stream, in the process's
# stdout/stderr, or in any file written under that HOME; the exports the script asked for
# are scanned as well. The child also lists the cmdlets it ran, so a cmdlet added to the module
# without being added here fails the test.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../TestHelpers.psm1') -Force
    Import-PartnerSecurityModule
    $script:emu = Start-TestEmulator
    $script:modulePsd1 = Join-Path (Get-Module PartnerSecurity).ModuleBase 'PartnerSecurity.psd1'
    $script:childHome = Join-Path $TestDrive 'home'
    New-Item -ItemType Directory -Path $childHome | Out-Null
    $script:outDir = Join-Path $TestDrive 'child'
    New-Item -ItemType Directory -Path $outDir | Out-Null

    # What the child runs: each cmdlet through Invoke-Loud, which records its name and captures
    # every stream. Failures are part of the test (their messages are scanned too).
    $script:childScript = Join-Path $outDir 'run-every-cmdlet.ps1'
    Set-Content -LiteralPath $childScript -Encoding utf8 -Value @'
param([string] $ModulePsd1, [string] $ScenarioPath, [string] $BaseUrl, [string] $CertificatePath, [string] $RanPath)
$ErrorActionPreference = 'Continue'
$ProgressPreference = 'SilentlyContinue'
Import-Module $ModulePsd1
$scenario = Get-Content -LiteralPath $ScenarioPath -Raw | ConvertFrom-Json
$partner = $scenario.tenants[0]
$tenantId = $partner.id
$sam = $partner.applications[0]
$credential = [pscredential]::new($sam.appId, (ConvertTo-SecureString $sam.secrets[0].value -AsPlainText -Force))
$refreshToken = ($partner.consents | Where-Object name -eq 'sam-admin').refreshToken
$admin = ($partner.consents | Where-Object name -eq 'sam-admin').userId
$ran = [Collections.Generic.List[string]]::new()

function Invoke-Loud([string] $Name, [hashtable] $Splat = @{}) {
    $ran.Add($Name)
    # -Debug on a compiled cmdlet turns warnings into prompts; Continue keeps them in the output.
    try { & $Name @Splat -Verbose -Debug -WarningAction Continue -ErrorAction Stop *>&1 | Out-String -Width 400 }
    catch { "FAILED $Name"; $_ | Out-String -Width 400; $_.Exception.ToString() }
}

function Invoke-Control([string] $Path, [hashtable] $Body) {
    $null = Invoke-RestMethod -Uri "$BaseUrl$Path" -Method Post -Body ($Body | ConvertTo-Json -Compress) -ContentType 'application/json' -SkipCertificateCheck
}

& {
    Invoke-Loud Add-PartnerEnvironment @{ Name = 'Emulator'; ActiveDirectoryAuthority = $BaseUrl; GraphEndpoint = "$BaseUrl/graph"; PartnerCenterEndpoint = "$BaseUrl/partnercenter"; TrustedCertificatePath = $CertificatePath }
    Invoke-Loud Get-PartnerEnvironment @{ Name = 'Emulator' }
    Invoke-Loud Register-PartnerTokenCache @{ InMemory = $true }
    Invoke-Loud Register-PartnerTokenCache @{ Persistent = $true }
    Invoke-Loud Connect-PartnerCenter @{ ApplicationId = $sam.appId; Credential = $credential; RefreshToken = $refreshToken; Tenant = $tenantId; Environment = 'Emulator' }
    Invoke-Loud Get-PartnerContext
    $token = New-PartnerAccessToken -ApplicationId $sam.appId -Credential $credential -RefreshToken $refreshToken -Scopes "$BaseUrl/partnercenter/user_impersonation" -Tenant $tenantId -Environment Emulator
    Invoke-Loud New-PartnerAccessToken @{ ApplicationId = $sam.appId; Credential = $credential; RefreshToken = $refreshToken; Scopes = "$BaseUrl/graph/.default"; Tenant = $tenantId; Environment = 'Emulator' }
    Invoke-Loud New-PartnerAccessToken @{ ApplicationId = $sam.appId; Credential = $credential; ServicePrincipal = $true; Scopes = "$BaseUrl/graph/.default"; Tenant = $tenantId; Environment = 'Emulator' }
    Invoke-Loud New-PartnerAccessToken @{ AccessToken = $token.AccessToken; ApplicationId = $sam.appId; Scopes = "$BaseUrl/partnercenter/user_impersonation"; Environment = 'Emulator' }
    Invoke-Loud Connect-PartnerCenter @{ AccessToken = $token.AccessToken; Environment = 'Emulator' }
    Invoke-Loud Connect-PartnerCenter @{ Credential = $credential; ServicePrincipal = $true; Tenant = $tenantId; Environment = 'Emulator' }
    Invoke-Loud Connect-PartnerCenter @{ ApplicationId = $sam.appId; Credential = $credential; RefreshToken = 'not-a-refresh-token'; Tenant = $tenantId; Environment = 'Emulator' }
    Invoke-Control '/_emulator/sign-in/next' @{ userId = $admin; mfa = $true }
    Invoke-Loud Connect-PartnerCenter @{ Environment = 'Emulator' }
    Invoke-Control '/_emulator/device-codes/auto-approve' @{ afterPolls = 1; userId = $admin; mfa = $true }
    Invoke-Loud Test-PartnerSecurityRequirement @{ Environment = 'Emulator'; UseDeviceAuthentication = $true; Detailed = $true }
    Invoke-Loud Connect-PartnerCenter @{ ApplicationId = $sam.appId; Credential = $credential; RefreshToken = $refreshToken; Tenant = $tenantId; Environment = 'Emulator' }
    Invoke-Loud Invoke-PartnerSecurityAssessment @{ OutputPath = (Join-Path $HOME 'assessment') }
    Invoke-Loud Get-PartnerMfaCoverage
    Invoke-Loud Get-PartnerLegacyAuthSignIn @{ Days = 2 }
    Invoke-Loud Get-PartnerGdapRelationship
    Invoke-Loud Get-PartnerFraudEvent
    Invoke-Loud Get-PartnerUserSignInActivity @{ StartDate = (Get-Date).AddDays(-2) }
    Invoke-Loud Get-PartnerUserSignActivity @{ StartDate = (Get-Date).AddDays(-1); UserPrincipalName = "x' or 1 eq 1" }
    Invoke-Loud Export-PartnerSignInActivity @{ Path = (Join-Path $HOME 'signins.jsonl'); StartDate = (Get-Date).AddDays(-2) }
    Invoke-Loud Export-PartnerSignInActivity @{ Path = (Join-Path $HOME 'signins.csv'); Format = 'Csv'; StartDate = (Get-Date).AddDays(-2) }
    # A SAM profile in the encrypted file store, then the transparent switch through it.
    Invoke-Control '/_emulator/sign-in/next' @{ userId = $admin; mfa = $true }
    Invoke-Loud New-PartnerSecureAppProfile @{ Name = 'hygiene'; Credential = $credential; Tenant = $tenantId; Environment = 'Emulator'; SecretStore = 'File' }
    Invoke-Loud Set-PartnerSecureAppProfile @{ Name = 'hygiene'; Default = $true }
    Invoke-Loud Get-PartnerSecureAppProfile
    Invoke-Loud Test-PartnerSecureAppProfile @{ Name = 'hygiene' }
    Invoke-Loud Connect-PartnerCenter
    Invoke-Loud New-PartnerAccessToken @{ Scopes = "$BaseUrl/graph/.default" }
    Invoke-Loud Remove-PartnerSecureAppProfile @{ Name = 'hygiene'; Confirm = $false }
    Invoke-Loud Disconnect-PartnerCenter
    Invoke-Loud Remove-PartnerEnvironment @{ Name = 'Emulator'; Confirm = $false }
} *>&1 | Out-String -Width 400

$ran | Sort-Object -Unique | Set-Content -LiteralPath $RanPath
'@
}

AfterAll {
    Stop-TestEmulator -Emulator $emu
}

Describe 'No emulator-issued token or secret in any stream or file' {
    It 'runs every exported cmdlet with -Verbose -Debug in a fresh HOME and finds none' {
        $ranPath = Join-Path $outDir 'ran.txt'
        $stdout = Join-Path $outDir 'stdout.txt'
        $stderr = Join-Path $outDir 'stderr.txt'
        $pwsh = (Get-Command pwsh -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1).Source
        if (-not $pwsh) { $pwsh = Join-Path $PSHOME 'pwsh' }
        $arguments = @('-NoProfile', '-NonInteractive', '-File', $childScript, '-ModulePsd1', $modulePsd1, '-ScenarioPath', $emu.ScenarioPath,
            '-BaseUrl', $emu.BaseUrl, '-CertificatePath', $emu.CertificatePath, '-RanPath', $ranPath)
        $saved = @{}
        $variables = @{
            HOME = $childHome; USERPROFILE = $childHome; TMPDIR = (Join-Path $childHome 'tmp'); XDG_CONFIG_HOME = (Join-Path $childHome '.config')
            XDG_DATA_HOME = (Join-Path $childHome '.local/share'); XDG_CACHE_HOME = (Join-Path $childHome '.cache'); PARTNERSECURITY_HOME = (Join-Path $childHome 'partnersecurity')
            BROWSER = (Resolve-Path (Join-Path $PSScriptRoot '../fixtures/browser')).ProviderPath; PARTNERSEC_TEST_CA = $emu.CertificatePath
            PARTNERSECURITY_SECRET_PASSPHRASE = 'hygiene test passphrase, not an emulator secret'
        }
        New-Item -ItemType Directory -Path $variables.TMPDIR | Out-Null
        foreach ($name in $variables.Keys) {
            $saved[$name] = [Environment]::GetEnvironmentVariable($name)
            [Environment]::SetEnvironmentVariable($name, $variables[$name])
        }
        try {
            $child = Start-Process -FilePath $pwsh -ArgumentList ($arguments | ForEach-Object { '"' + $_ + '"' }) -RedirectStandardOutput $stdout -RedirectStandardError $stderr -NoNewWindow -PassThru
            $child.WaitForExit(300000) | Should -BeTrue -Because 'the child finishes'
        } finally {
            foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) }
        }

        # Every exported cmdlet ran (a new cmdlet has to be added to the child script).
        $exported = @(Get-Command -Module PartnerSecurity -CommandType Cmdlet | ForEach-Object Name) + 'Get-PartnerUserSignActivity'
        $ran = @(Get-Content -LiteralPath $ranPath)
        foreach ($name in $exported) { $ran | Should -Contain $name -Because "$name must be covered by the scan" }

        # The streams reached stdout: verbose, debug, warnings, errors and the exports' summaries.
        $output = Get-Content -LiteralPath $stdout -Raw
        $output | Should -Match 'Signing in' -Because 'verbose output was captured'
        $output | Should -Match 'Checking if the access token contains the MFA claim' -Because 'debug output was captured'
        $output | Should -Match 'AADSTS9002313' -Because 'the failure was captured'
        $output | Should -Match 'devicelogin' -Because 'the device-code warning was captured'
        $output | Should -Not -Match 'FAILED (?!Connect-PartnerCenter)' -Because "only the deliberately failing call fails:`n$output"
        Test-Path -LiteralPath (Join-Path $childHome 'signins.jsonl') | Should -BeTrue
        (Get-Content -LiteralPath (Join-Path $childHome 'signins.jsonl') | Measure-Object).Count | Should -BeGreaterThan 0

        $secrets = Get-EmulatorIssuedSecrets -Emulator $emu
        $secrets.Count | Should -BeGreaterThan 20 -Because 'the run issued tokens, codes and a rotation per exchange'
        # One expression for all the values; Latin-1 reads any file byte for byte.
        $pattern = [regex]::new((($secrets | Sort-Object Length -Descending | ForEach-Object { [regex]::Escape($_) }) -join '|'), 'CultureInvariant')
        $files = @(Get-ChildItem -LiteralPath $childHome, $outDir -Recurse -File -Force)
        $files.Count | Should -BeGreaterThan 3
        $leaks = @(foreach ($file in $files) {
            $text = [Text.Encoding]::Latin1.GetString([IO.File]::ReadAllBytes($file.FullName))
            if ($pattern.IsMatch($text)) { $file.FullName }
        })
        $leaks | Should -BeNullOrEmpty -Because "no stream or file may carry an issued token or secret (scanned $($files.Count) files)"
        Write-Host "secret scan: $($exported.Count) cmdlets, $($secrets.Count) issued values, $($files.Count) files, 0 found"
    }
}
