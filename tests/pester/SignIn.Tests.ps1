# Interactive and certificate sign-ins through real pwsh, against the emulator over TLS:
#   - the browser sign-in (authorization code + PKCE, loopback redirect on 8400–8999), with
#     tests/fixtures/browser as the browser: it records the URL and follows it with curl, so the
#     emulator's scripted /authorize redirects to the module's listener;
#   - device code sign-in, approved through the emulator's control plane;
#   - New-PartnerAccessToken's consent (-UseAuthorizationCode), device code and -Module flows;
#   - Test-PartnerSecurityRequirement with and without MFA;
#   - certificate credentials from the CurrentUser\My store;
#   - Ctrl+C (PowerShell.Stop) while waiting for the user;
#   - no token or secret in any stream or file.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../TestHelpers.psm1') -Force
    Import-PartnerSecurityModule
    $script:emu = Start-TestEmulator
    Register-TestEnvironment -Emulator $emu | Out-Null
    $script:base = $emu.BaseUrl
    $script:modulePsd1 = Join-Path (Get-Module PartnerSecurity).ModuleBase 'PartnerSecurity.psd1'

    $partner = $emu.Scenario.tenants[0]
    $script:tenantId = $partner.id
    $script:tenantDomain = $partner.domains[0]
    $script:users = @{}
    foreach ($u in $partner.users) { $users[$u.userPrincipalName.Split('@')[0]] = $u }
    $script:admin = $users['adminagent']
    $script:interactiveUserId = $partner.interactiveSignIn.userId
    $sam = $partner.applications | Where-Object { $_.displayName -like '*Secure Application Model*' }
    $script:samAppId = $sam.appId
    $script:samCredential = [pscredential]::new($sam.appId, (ConvertTo-SecureString $sam.secrets[0].value -AsPlainText -Force))
    $script:publicClientId = ($partner.applications | Where-Object publicClient).appId
    $script:azureCliId = '04b07795-8ddb-461a-bbee-02f9e1bf7b46'
    $script:exchangeClientId = 'a0c73c16-a7e3-4564-9a95-2bdf47383716'

    # The stand-in browser, and where it records the URLs it was given.
    $script:savedVariables = @{}
    foreach ($name in 'BROWSER', 'PARTNERSEC_TEST_CA', 'PARTNERSEC_TEST_BROWSER_LOG') { $savedVariables[$name] = [Environment]::GetEnvironmentVariable($name) }
    $script:browser = (Resolve-Path (Join-Path $PSScriptRoot '../fixtures/browser')).ProviderPath
    $script:browserLog = Join-Path $TestDrive 'browser.log'
    $env:BROWSER = $browser
    $env:PARTNERSEC_TEST_CA = $emu.CertificatePath
    $env:PARTNERSEC_TEST_BROWSER_LOG = $browserLog

    # Certificates this file adds to CurrentUser\My; AfterAll removes every one.
    $script:addedThumbprints = [System.Collections.Generic.List[string]]::new()

    function script:Clear-BrowserLog { Remove-Item -LiteralPath $browserLog -ErrorAction SilentlyContinue }

    function script:Get-BrowserUrl {
        # The URL of the last sign-in the browser was asked to open.
        if (-not (Test-Path -LiteralPath $browserLog)) { return $null }
        [uri](Get-Content -LiteralPath $browserLog | Select-Object -Last 1)
    }

    function script:Get-Query([uri] $Url) {
        $values = [System.Web.HttpUtility]::ParseQueryString($Url.Query)
        $table = @{}
        foreach ($key in $values.AllKeys) { $table[$key] = $values[$key] }
        $table
    }

    function script:Get-JwtClaims([string] $Jwt) {
        $payload = $Jwt.Split('.')[1].Replace('-', '+').Replace('_', '/')
        $payload += '=' * ((4 - $payload.Length % 4) % 4)
        [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($payload)) | ConvertFrom-Json
    }

    function script:Set-NextSignIn {
        param($Emulator = $emu, [Parameter(Mandatory)] [string] $UserId, [Nullable[bool]] $Mfa, [switch] $Decline)
        $body = @{ userId = $UserId; decline = $Decline.IsPresent }
        if ($null -ne $Mfa) { $body.mfa = $Mfa }
        Invoke-EmulatorControl -Emulator $Emulator -Path '/_emulator/sign-in/next' -Body $body | Out-Null
    }

    function script:Set-DeviceCodeApproval {
        # The next device code is approved (or declined) after -AfterPolls pending answers.
        param($Emulator = $emu, [string] $UserId = $admin.id, [bool] $Mfa = $true, [int] $AfterPolls = 1, [switch] $Decline)
        Invoke-EmulatorControl -Emulator $Emulator -Path '/_emulator/device-codes/auto-approve' -Body @{ afterPolls = $AfterPolls; userId = $UserId; mfa = $Mfa; decline = $Decline.IsPresent } | Out-Null
    }

    function script:Get-DeviceCodes($Emulator = $emu) { @(Invoke-EmulatorControl -Emulator $Emulator -Path '/_emulator/device-codes') }

    # The device code issued by the command in -Script (exactly one), from the control plane
    # (which shows user codes and state, never the device code itself).
    function script:Get-NewDeviceCode([string[]] $Before, $Emulator = $emu) {
        $new = @(Get-DeviceCodes -Emulator $Emulator | Where-Object { $_.userCode -notin $Before })
        $new.Count | Should -Be 1 -Because 'the command asked for one device code'
        $new[0]
    }

    function script:New-TestScenario {
        # A copy of the demo scenario in $TestDrive, changed by -Change (which gets the parsed JSON).
        param([Parameter(Mandatory)] [string] $Name, [Parameter(Mandatory)] [scriptblock] $Change)
        $scenario = Get-Content -LiteralPath $emu.ScenarioPath -Raw | ConvertFrom-Json
        & $Change $scenario
        $path = Join-Path $TestDrive "$Name.json"
        $scenario | ConvertTo-Json -Depth 32 | Set-Content -LiteralPath $path -Encoding utf8
        $path
    }

    function script:New-TestCertificate {
        # A certificate with its key in CurrentUser\My (TestHelpers), removed by AfterAll.
        param([string] $Subject = "CN=PartnerSecurity test $([guid]::NewGuid().ToString('n'))")
        $certificate = New-TestStoreCertificate -Subject $Subject
        $addedThumbprints.Add($certificate.Thumbprint)
        $certificate
    }

    function script:Register-EmulatorCertificate($Certificate, [string] $AppId = $samAppId) {
        Invoke-EmulatorControl -Emulator $emu -Path "/_emulator/applications/$AppId/certificates" -Body @{ certificatePem = $Certificate.Pem }
    }

    # Starts a cmdlet in another runspace of this process (the module's native state is shared),
    # so the test can stop it or act on the emulator while it waits.
    function script:Start-InRunspace([scriptblock] $Script, [object[]] $Arguments = @()) {
        $ps = [powershell]::Create()
        $null = $ps.AddScript($Script).AddArgument($modulePsd1)
        foreach ($a in $Arguments) { $null = $ps.AddArgument($a) }
        [pscustomobject]@{ PowerShell = $ps; Handle = $ps.BeginInvoke() }
    }
}

AfterAll {
    Disconnect-PartnerCenter -ErrorAction SilentlyContinue
    foreach ($name in $savedVariables.Keys) { [Environment]::SetEnvironmentVariable($name, $savedVariables[$name]) }
    Remove-TestStoreCertificate -Thumbprint $addedThumbprints
    Stop-TestEmulator -Emulator $emu
}

Describe 'Connect-PartnerCenter in a browser (User set)' {
    BeforeEach { Clear-BrowserLog }

    It 'signs in the scenario''s interactive user, with MFA and a refresh token' {
        Invoke-EmulatorControl -Emulator $emu -Path '/_emulator/requests' -Method Delete | Out-Null
        $context = Connect-PartnerCenter -Environment Emulator -WarningVariable warnings -WarningAction SilentlyContinue
        $context | Should -BeOfType 'PartnerSecurity.Models.PartnerContext'
        $context.Account.ObjectId | Should -Be $interactiveUserId
        $context.Account.ObjectId | Should -Be $admin.id
        $context.Account.UserPrincipalName | Should -Be $admin.userPrincipalName
        $context.Account.Type | Should -Be 'User'
        $context.Account.Tenant | Should -Be $tenantId -Because 'the tenant becomes the one the token was issued in'
        $context.Account.ApplicationId | Should -Be $azureCliId
        $context.AuthenticationMethods | Should -Contain 'mfa'
        $context.HasRefreshToken | Should -BeTrue
        $context.CountryCode | Should -Be 'US' -Because 'Partner Center accepted the MFA token'
        (Get-PartnerContext).Account.ObjectId | Should -Be $admin.id
        ($warnings -join "`n") | Should -BeLike "*launched a browser*Connect-PartnerCenter -UseDeviceAuthentication*"

        # The emulator saw an authorization code flow: /authorize, then the code redeemed.
        $requests = @(Invoke-EmulatorControl -Emulator $emu -Path '/_emulator/requests')
        ($requests | Where-Object { $_.method -eq 'GET' -and $_.path -eq '/organizations/oauth2/v2.0/authorize' }).status | Should -Be 302
        ($requests | Where-Object { $_.grantType -eq 'authorization_code' }).clientId | Should -Be $azureCliId
    }

    It 'sends the browser an authorize URL with PKCE S256, prompt=login and a loopback redirect on 8400-8999' {
        Connect-PartnerCenter -Environment Emulator -WarningAction SilentlyContinue | Out-Null
        $url = Get-BrowserUrl
        $url | Should -Not -BeNullOrEmpty -Because 'the module runs $env:BROWSER with the URL'
        "$($url.Scheme)://$($url.Authority)" | Should -Be $base
        $url.AbsolutePath | Should -Be '/organizations/oauth2/v2.0/authorize'
        $query = Get-Query $url
        $query['response_type'] | Should -BeExactly 'code'
        $query['code_challenge_method'] | Should -BeExactly 'S256'
        $query['code_challenge'] | Should -Match '^[A-Za-z0-9_-]{43,128}$'
        $query['prompt'] | Should -BeExactly 'login'
        $query['client_id'] | Should -Be $azureCliId
        $query['state'] | Should -Not -BeNullOrEmpty
        $query['scope'] -split ' ' | Should -Contain "$base/partnercenter/user_impersonation"
        $query['scope'] -split ' ' | Should -Contain 'offline_access'
        $redirect = [uri]$query['redirect_uri']
        $query['redirect_uri'] | Should -Match '^http://localhost:\d+/$'
        $redirect.Port | Should -BeGreaterOrEqual 8400
        $redirect.Port | Should -BeLessOrEqual 8999
    }

    It 'uses a fresh PKCE challenge and state for every sign-in' {
        Connect-PartnerCenter -Environment Emulator -WarningAction SilentlyContinue | Out-Null
        Connect-PartnerCenter -Environment Emulator -WarningAction SilentlyContinue | Out-Null
        $urls = @(Get-Content -LiteralPath $browserLog | ForEach-Object { Get-Query ([uri]$_) })
        $urls.Count | Should -Be 2
        $urls[0]['code_challenge'] | Should -Not -Be $urls[1]['code_challenge']
        $urls[0]['state'] | Should -Not -Be $urls[1]['state']
    }

    It 'signs in whoever signs in at the browser (the emulator''s next sign-in)' {
        $breakGlass = $users['breakglass']
        Set-NextSignIn -UserId $breakGlass.id -Mfa $true
        $context = Connect-PartnerCenter -Environment Emulator -Tenant $tenantDomain -WarningAction SilentlyContinue
        $context.Account.ObjectId | Should -Be $breakGlass.id
        $context.Account.UserPrincipalName | Should -Be $breakGlass.userPrincipalName
        (Get-Query (Get-BrowserUrl))['client_id'] | Should -Be $azureCliId
        (Get-BrowserUrl).AbsolutePath | Should -Be "/$tenantDomain/oauth2/v2.0/authorize" -Because '-Tenant names the authority tenant'
        # The next sign-in is used once: afterwards the scenario's interactive user is back.
        (Connect-PartnerCenter -Environment Emulator -WarningAction SilentlyContinue).Account.ObjectId | Should -Be $admin.id
    }

    It 'reports a declined consent as AADSTS65004 with a clear message, and keeps the previous session' {
        Connect-PartnerCenter -Environment Emulator -WarningAction SilentlyContinue | Out-Null
        Set-NextSignIn -UserId $admin.id -Decline
        $err = { Connect-PartnerCenter -Environment Emulator -WarningAction SilentlyContinue } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -Be 'AADSTS65004,PartnerSecurity.Commands.ConnectPartnerCenter'
        $err.Exception.Message | Should -BeLike '*declined*consent*'
        $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
        (Get-PartnerContext).Account.ObjectId | Should -Be $admin.id
    }

    It 'reports a sign-in without MFA in a tenant that requires it as AADSTS50076' {
        Set-NextSignIn -UserId $users['salesagent'].id -Mfa $false
        $err = { Connect-PartnerCenter -Environment Emulator -WarningAction SilentlyContinue } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -Be 'AADSTS50076,PartnerSecurity.Commands.ConnectPartnerCenter'
        $err.Exception.Message | Should -BeLike '*ulti-factor authentication is required*'
        # The user was at the browser: the advice is to complete (or register) the second factor.
        $err.Exception.Message | Should -BeLike '*browser or device code sign-in*second factor*aka.ms/mfasetup*'
    }

    It 'reports an unknown user as AADSTS50034' {
        Set-NextSignIn -UserId ([guid]::NewGuid().ToString())
        $err = { Connect-PartnerCenter -Environment Emulator -WarningAction SilentlyContinue } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'AADSTS50034,*'
    }
}

Describe 'Connect-PartnerCenter with a device code' {
    It 'signs in with -<Switch>, showing the code and address as a warning' -ForEach @(
        @{ Switch = 'UseDeviceAuthentication' }
        @{ Switch = 'Device' }
        @{ Switch = 'DeviceAuth' }
        @{ Switch = 'DeviceCode' }
    ) {
        Set-DeviceCodeApproval -UserId $admin.id -Mfa $true -AfterPolls 1
        $before = @(Get-DeviceCodes).userCode
        $parameters = @{ Environment = 'Emulator'; $Switch = $true }
        $context = Connect-PartnerCenter @parameters -WarningVariable warnings -WarningAction SilentlyContinue
        $context.Account.ObjectId | Should -Be $admin.id
        $context.Account.Type | Should -Be 'User'
        $context.Account.ApplicationId | Should -Be $azureCliId
        $context.AuthenticationMethods | Should -Contain 'mfa'
        $context.HasRefreshToken | Should -BeTrue

        $code = Get-NewDeviceCode $before
        $code.clientId | Should -Be $azureCliId
        $code.status | Should -Be 'redeemed'
        $code.pendingPolls | Should -BeGreaterOrEqual 1 -Because 'the module kept polling while the code was pending'
        $message = $warnings -join "`n"
        $message | Should -BeLike "*$base/devicelogin*"
        $message | Should -BeLike "*$($code.userCode)*"
        $message | Should -Not -BeLike '*launched a browser*'
    }

    It 'reports a device code approved without MFA, in a tenant that requires it, as AADSTS50076' {
        Set-DeviceCodeApproval -UserId $users['salesagent'].id -Mfa $false -AfterPolls 0
        $err = { Connect-PartnerCenter -Environment Emulator -UseDeviceAuthentication -WarningAction SilentlyContinue } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -Be 'AADSTS50076,PartnerSecurity.Commands.ConnectPartnerCenter'
        $err.Exception.Message | Should -BeLike '*device code sign-in*second factor*'
    }

    It 'reports a declined device code as AADSTS70017' {
        Set-DeviceCodeApproval -UserId $admin.id -Decline -AfterPolls 0
        $err = { Connect-PartnerCenter -Environment Emulator -UseDeviceAuthentication -WarningAction SilentlyContinue } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'AADSTS70017,*'
    }
}

Describe 'Device code expiry' {
    BeforeAll {
        # Own emulators: moving one's clock would expire the main emulator's tokens and assertions.
        $script:clockEmu = Start-TestEmulator
        Register-TestEnvironment -Emulator $clockEmu -Name EmulatorClock | Out-Null
        $short = New-TestScenario -Name 'short-device-codes' -Change { param($s) $s | Add-Member -NotePropertyName deviceCodeLifetimeSeconds -NotePropertyValue 2 -Force }
        $script:shortEmu = Start-TestEmulator -Scenario $short
        Register-TestEnvironment -Emulator $shortEmu -Name EmulatorShortCodes | Out-Null
    }
    AfterAll {
        Remove-PartnerEnvironment -Name EmulatorClock -Confirm:$false -ErrorAction SilentlyContinue
        Remove-PartnerEnvironment -Name EmulatorShortCodes -Confirm:$false -ErrorAction SilentlyContinue
        Stop-TestEmulator -Emulator $clockEmu
        Stop-TestEmulator -Emulator $shortEmu
    }

    It 'fails with AADSTS70019 when the emulator''s clock passes the code''s lifetime while the module polls' {
        $job = Start-InRunspace -Script {
            param($ModulePath)
            Import-Module $ModulePath
            try { Connect-PartnerCenter -Environment EmulatorClock -UseDeviceAuthentication -WarningAction SilentlyContinue | Out-Null; 'connected' }
            catch { $_.FullyQualifiedErrorId; $_.Exception.Message }
        }
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(20)
            do { Start-Sleep -Milliseconds 200; $pending = @(Get-DeviceCodes -Emulator $clockEmu | Where-Object { $_.status -eq 'pending' -and $_.polls -ge 1 }) }
            until ($pending.Count -or [DateTime]::UtcNow -gt $deadline)
            $pending.Count | Should -Be 1 -Because 'the module asked for a code and polls it'
            Invoke-EmulatorControl -Emulator $clockEmu -Path '/_emulator/clock/advance' -Body @{ seconds = 1000 } | Out-Null
            $job.Handle.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds(20)) | Should -BeTrue -Because 'the next poll ends the sign-in'
            $result = @($job.PowerShell.EndInvoke($job.Handle))
            $result[0] | Should -Be 'AADSTS70019,PartnerSecurity.Commands.ConnectPartnerCenter'
            $result[1] | Should -BeLike '*expired*'
        } finally {
            $job.PowerShell.Stop()
            $job.PowerShell.Dispose()
        }
    }

    It 'fails with AADSTS70019 when nobody approves within a short lifetime' {
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $err = { Connect-PartnerCenter -Environment EmulatorShortCodes -UseDeviceAuthentication -WarningAction SilentlyContinue } | Should -Throw -PassThru
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 30
        $err.FullyQualifiedErrorId | Should -Be 'AADSTS70019,PartnerSecurity.Commands.ConnectPartnerCenter'
        $err.Exception.Message | Should -BeLike '*expired*'
    }
}

Describe 'New-PartnerAccessToken: consent and interactive flows' {
    BeforeEach { Clear-BrowserLog }

    It 'the documented consent script (-ServicePrincipal -Credential -UseAuthorizationCode) returns tokens for the consenting user' {
        # Verbatim from the Partner Center "Enable the Secure Application Model" page, plus
        # -Environment. The scenario maps https://api.partnercenter.microsoft.com and
        # {base}/partnercenter to the same resource, so the documented scope works as written.
        $appId = $samAppId; $credential = $samCredential; $tenant = $tenantId
        $token = New-PartnerAccessToken -ApplicationId $appId -Scopes 'https://api.partnercenter.microsoft.com/user_impersonation' -ServicePrincipal -Credential $credential -Tenant $tenant -UseAuthorizationCode -Environment Emulator -WarningAction SilentlyContinue
        $token | Should -BeOfType 'PartnerSecurity.Models.AuthResult'
        $token.AccessToken | Should -Not -BeNullOrEmpty
        $token.RefreshToken | Should -Not -BeNullOrEmpty -Because 'the refresh token comes from the token response'
        $token.IdToken | Should -Not -BeNullOrEmpty
        $token.ExpiresOn | Should -BeGreaterThan ([DateTimeOffset]::UtcNow.AddMinutes(30))
        $token.TenantId | Should -Be $tenantId
        $token.Account.Username | Should -Be $admin.userPrincipalName
        $token.HasMfa | Should -BeTrue
        $token.AuthenticationMethods | Should -Contain 'mfa'

        $claims = Get-JwtClaims $token.AccessToken
        $claims.aud | Should -Be 'https://api.partnercenter.microsoft.com'
        $claims.appid | Should -Be $samAppId
        $claims.appidacr | Should -Be '1' -Because 'the confidential app authenticated with its secret'
        $claims.scp | Should -Be 'user_impersonation'
        (Get-JwtClaims $token.IdToken).aud | Should -Be $samAppId

        $query = Get-Query (Get-BrowserUrl)
        $query['client_id'] | Should -Be $samAppId
        $query['code_challenge_method'] | Should -BeExactly 'S256'
        ([uri]$query['redirect_uri']).Port | Should -BeIn (8400..8999)

        # The token is for api.partnercenter.microsoft.com (its aud), so it is never sent to the
        # emulator's Partner Center endpoint: the profile read is refused, with a warning.
        $context = Connect-PartnerCenter -AccessToken $token.AccessToken -Environment Emulator -WarningVariable confined -WarningAction SilentlyContinue
        $context.CountryCode | Should -BeNullOrEmpty
        ($confined -join ' ') | Should -Match 'Refusing to send an access token.*api\.partnercenter\.microsoft\.com'

        # The refresh token works for the exchange step, and rotates.
        $next = New-PartnerAccessToken -ApplicationId $appId -Credential $credential -RefreshToken $token.RefreshToken -Scopes "$base/partnercenter/user_impersonation" -ServicePrincipal -Tenant $tenant -Environment Emulator
        $next.Account.Username | Should -Be $admin.userPrincipalName
        $next.HasMfa | Should -BeTrue
        $next.RefreshToken | Should -Not -BeNullOrEmpty
        $next.RefreshToken | Should -Not -Be $token.RefreshToken
        (Connect-PartnerCenter -ApplicationId $appId -Credential $credential -RefreshToken $next.RefreshToken -Tenant $tenant -Environment Emulator).Account.ObjectId | Should -Be $admin.id
    }

    It 'signs a user in through the browser for a public client (User set)' {
        $token = New-PartnerAccessToken -ApplicationId $publicClientId -Scopes "$base/graph/User.Read" -Tenant $tenantId -Environment Emulator -WarningVariable warnings -WarningAction SilentlyContinue
        $token.Account.Username | Should -Be $admin.userPrincipalName
        $token.RefreshToken | Should -Not -BeNullOrEmpty
        (Get-JwtClaims $token.AccessToken).appidacr | Should -Be '0' -Because 'a public client sends no credential'
        ($warnings -join "`n") | Should -BeLike '*New-PartnerAccessToken -UseDeviceAuthentication*'
        (Get-Query (Get-BrowserUrl))['client_id'] | Should -Be $publicClientId
    }

    It 'signs a user in with -UseDeviceAuthentication for the public demo client (User set)' {
        Set-DeviceCodeApproval -UserId $admin.id -Mfa $true -AfterPolls 1
        $before = @(Get-DeviceCodes).userCode
        $token = New-PartnerAccessToken -ApplicationId $publicClientId -Scopes 'https://api.partnercenter.microsoft.com/user_impersonation' -Tenant $tenantId -UseDeviceAuthentication -Environment Emulator -WarningVariable warnings -WarningAction SilentlyContinue
        $token.Account.Username | Should -Be $admin.userPrincipalName
        $token.HasMfa | Should -BeTrue
        $token.RefreshToken | Should -Not -BeNullOrEmpty
        $token.TenantId | Should -Be $tenantId
        $claims = Get-JwtClaims $token.AccessToken
        $claims.appid | Should -Be $publicClientId
        $claims.aud | Should -Be 'https://api.partnercenter.microsoft.com'
        $code = Get-NewDeviceCode $before
        $code.clientId | Should -Be $publicClientId
        ($warnings -join "`n") | Should -BeLike "*$($code.userCode)*"
        Get-BrowserUrl | Should -BeNullOrEmpty -Because 'a device code sign-in opens no browser'

        $next = New-PartnerAccessToken -ApplicationId $publicClientId -RefreshToken $token.RefreshToken -Scopes "$base/graph/.default" -Tenant $tenantId -Environment Emulator
        $next.Account.Username | Should -Be $admin.userPrincipalName
    }

    It 'surfaces AADSTS7000218 for a device code with a confidential (web) application (the PartnerCenter module''s issue #169)' {
        # The User set has no -Credential, so the web application polls as a public client and
        # Entra ID refuses it on the first poll.
        $err = { New-PartnerAccessToken -ApplicationId $samAppId -Scopes "$base/graph/User.Read" -Tenant $tenantId -UseDeviceAuthentication -Environment Emulator -WarningAction SilentlyContinue } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'AADSTS7000218,*'
        $err.Exception.Message | Should -BeLike '*-Credential*'
    }

    It '-Module ExchangeOnline signs in with a device code for the Exchange Online client and scope' {
        Set-DeviceCodeApproval -UserId $admin.id -Mfa $true -AfterPolls 1
        $before = @(Get-DeviceCodes).userCode
        $token = New-PartnerAccessToken -Module ExchangeOnline -Tenant $tenantId -Environment Emulator -WarningVariable warnings -WarningAction SilentlyContinue
        $token.Account.Username | Should -Be $admin.userPrincipalName
        $token.RefreshToken | Should -Not -BeNullOrEmpty
        $claims = Get-JwtClaims $token.AccessToken
        $claims.appid | Should -Be $exchangeClientId
        $claims.aud | Should -Be 'https://outlook.office365.com'
        $code = Get-NewDeviceCode $before
        $code.clientId | Should -Be $exchangeClientId
        ($warnings -join "`n") | Should -BeLike "*$($code.userCode)*"

        # ByModule with -RefreshToken (alias -ModuleName): the exchange, no device code.
        $codesBefore = @(Get-DeviceCodes).Count
        $again = New-PartnerAccessToken -ModuleName ExchangeOnline -RefreshToken $token.RefreshToken -Tenant $tenantId -Environment Emulator
        (Get-JwtClaims $again.AccessToken).appid | Should -Be $exchangeClientId
        @(Get-DeviceCodes).Count | Should -Be $codesBefore
    }

    It '-Module ExchangeOnline ignores -UseAuthorizationCode and still uses a device code' {
        Set-DeviceCodeApproval -UserId $admin.id -Mfa $true -AfterPolls 0
        $token = New-PartnerAccessToken -Module ExchangeOnline -UseAuthorizationCode -Tenant $tenantId -Environment Emulator -WarningAction SilentlyContinue
        (Get-JwtClaims $token.AccessToken).appid | Should -Be $exchangeClientId
        Get-BrowserUrl | Should -BeNullOrEmpty
    }
}

Describe 'Test-PartnerSecurityRequirement' {
    BeforeAll {
        # A partner tenant that does not require MFA, so a password-only sign-in gets through
        # and the check has something to fail.
        $scenario = New-TestScenario -Name 'no-required-mfa' -Change { param($s) $s.tenants[0].requireMfa = $false }
        $script:noMfaEmu = Start-TestEmulator -Scenario $scenario
        Register-TestEnvironment -Emulator $noMfaEmu -Name EmulatorNoMfa | Out-Null
        $script:failWarning = 'Unable to determine if the account authenticated using MFA. See https://aka.ms/partnercenterps-psr-warning for more information.'
    }
    AfterAll {
        $env:PARTNERSEC_TEST_CA = $emu.CertificatePath
        Remove-PartnerEnvironment -Name EmulatorNoMfa -Confirm:$false -ErrorAction SilentlyContinue
        Stop-TestEmulator -Emulator $noMfaEmu
    }
    BeforeEach { Clear-BrowserLog }

    It 'writes the string ''pass'' for an MFA sign-in' {
        $result = @(Test-PartnerSecurityRequirement -Environment Emulator -WarningVariable warnings -WarningAction SilentlyContinue)
        $result.Count | Should -Be 1
        $result[0] | Should -BeOfType [string]
        $result[0] | Should -BeExactly 'pass'
        ($warnings -join "`n") | Should -Not -BeLike '*Unable to*'
        $query = Get-Query (Get-BrowserUrl)
        $query['client_id'] | Should -Be $azureCliId
        $query['prompt'] | Should -BeExactly 'login'
        $query['scope'] -split ' ' | Should -Contain "$base/partnercenter/user_impersonation"
    }

    It 'writes ''fail'' and the PartnerCenter module''s warning for a sign-in without MFA' {
        $env:PARTNERSEC_TEST_CA = $noMfaEmu.CertificatePath
        try {
            Set-NextSignIn -Emulator $noMfaEmu -UserId $users['salesagent'].id -Mfa $false
            $result = @(Test-PartnerSecurityRequirement -Environment EmulatorNoMfa -WarningVariable warnings -WarningAction SilentlyContinue)
        } finally { $env:PARTNERSEC_TEST_CA = $emu.CertificatePath }
        $result.Count | Should -Be 1
        $result[0] | Should -BeOfType [string]
        $result[0] | Should -BeExactly 'fail'
        $warnings.Message | Should -Contain $failWarning
    }

    It '-Detailed returns the result with its reasons (<Case>)' -ForEach @(
        @{ Case = 'MFA'; Mfa = $true; Result = 'pass' }
        @{ Case = 'password only'; Mfa = $false; Result = 'fail' }
    ) {
        $env:PARTNERSEC_TEST_CA = $noMfaEmu.CertificatePath
        try {
            Set-NextSignIn -Emulator $noMfaEmu -UserId $users['salesagent'].id -Mfa $Mfa
            $detail = Test-PartnerSecurityRequirement -Environment EmulatorNoMfa -Detailed -WarningAction SilentlyContinue
        } finally { $env:PARTNERSEC_TEST_CA = $emu.CertificatePath }
        $detail | Should -BeOfType 'PartnerSecurity.Models.SecurityRequirementResult'
        $detail.Result | Should -BeExactly $Result
        $detail.Passed | Should -Be ($Result -eq 'pass')
        $detail.Account | Should -Be $users['salesagent'].userPrincipalName
        $detail.TenantId | Should -Be $tenantId
        $detail.AuthenticationMethods | Should -Contain 'pwd'
        if ($Mfa) {
            $detail.AuthenticationMethods | Should -Contain 'mfa'
            $detail.Reason | Should -BeLike '*multi-factor*'
        } else {
            $detail.AuthenticationMethods | Should -Not -Contain 'mfa'
            $detail.Reason | Should -Be $failWarning
        }
        "$detail" | Should -BeExactly $Result
    }

    It 'takes -EnvironmentName and -Device (a device code)' {
        Set-DeviceCodeApproval -UserId $admin.id -Mfa $true -AfterPolls 0
        $before = @(Get-DeviceCodes).userCode
        $result = Test-PartnerSecurityRequirement -EnvironmentName Emulator -Device -WarningVariable warnings -WarningAction SilentlyContinue
        $result | Should -BeExactly 'pass'
        $code = Get-NewDeviceCode $before
        $code.clientId | Should -Be $azureCliId
        $code.status | Should -Be 'redeemed'
        ($warnings -join "`n") | Should -BeLike "*$($code.userCode)*"
        Get-BrowserUrl | Should -BeNullOrEmpty
    }

    It 'neither needs nor changes the Connect-PartnerCenter session' {
        Disconnect-PartnerCenter
        Test-PartnerSecurityRequirement -Environment Emulator -WarningAction SilentlyContinue | Should -Be 'pass'
        Get-PartnerContext | Should -BeNullOrEmpty
        Connect-PartnerCenter -Environment Emulator -WarningAction SilentlyContinue | Out-Null
        Set-NextSignIn -UserId $users['breakglass'].id -Mfa $true
        Test-PartnerSecurityRequirement -Environment Emulator -WarningAction SilentlyContinue | Should -Be 'pass'
        (Get-PartnerContext).Account.ObjectId | Should -Be $admin.id
    }
}

Describe 'Certificate credentials (CurrentUser\My)' {
    BeforeAll {
        $script:known = New-TestCertificate
        $registered = Register-EmulatorCertificate $known
        $registered.thumbprint | Should -Be $known.Thumbprint
        # In the store with its key, but never registered on the application.
        $script:stranger = New-TestCertificate
    }
    BeforeEach { Clear-BrowserLog }

    It 'Connect-PartnerCenter -CertificateThumbprint -ServicePrincipal signs in as the application (Type Certificate)' {
        $context = Connect-PartnerCenter -ApplicationId $samAppId -CertificateThumbprint $known.Thumbprint -ServicePrincipal -Tenant $tenantId -Environment Emulator -WarningAction SilentlyContinue
        $context.Account.Type | Should -Be 'Certificate'
        $context.Account.ApplicationId | Should -Be $samAppId
        $context.Account.Tenant | Should -Be $tenantId
        $context.Account.UserPrincipalName | Should -BeNullOrEmpty
        $context.HasRefreshToken | Should -BeFalse
        (Get-PartnerContext).Account.Type | Should -Be 'Certificate'
    }

    It 'works without -ServicePrincipal (optional in the ServicePrincipalCertificate set), by domain, with a lower-case spaced thumbprint' {
        $spaced = ($known.Thumbprint.ToLowerInvariant() -split '(..)' | Where-Object { $_ }) -join ' '
        $context = Connect-PartnerCenter -ApplicationId $samAppId -CertificateThumbprint $spaced -Tenant $tenantDomain -Environment Emulator -WarningAction SilentlyContinue
        $context.Account.Type | Should -Be 'Certificate'
        $context.Account.Tenant | Should -Be $tenantId
    }

    It 'New-PartnerAccessToken -CertificateThumbprint -ServicePrincipal gets an App-only Graph token' {
        $token = New-PartnerAccessToken -ApplicationId $samAppId -CertificateThumbprint $known.Thumbprint -Scopes "$base/graph/.default" -ServicePrincipal -Tenant $tenantId -Environment Emulator
        $token.RefreshToken | Should -BeNullOrEmpty
        $token.TenantId | Should -Be $tenantId
        $claims = Get-JwtClaims $token.AccessToken
        $claims.appid | Should -Be $samAppId
        $claims.appidacr | Should -Be '2' -Because 'the token was issued for a certificate credential'
        $claims.aud | Should -Be "$base/graph"
        $claims.idtyp | Should -Be 'app'
        $claims.roles | Should -Contain 'Directory.Read.All'
    }

    It 'exchanges a refresh token with -CertificateThumbprint (New-PartnerAccessToken and Connect-PartnerCenter)' {
        $consent = $emu.Scenario.tenants[0].consents | Where-Object name -EQ 'sam-admin'
        $token = New-PartnerAccessToken -ApplicationId $samAppId -CertificateThumbprint $known.Thumbprint -RefreshToken $consent.refreshToken -Scopes "$base/graph/.default" -Tenant $tenantId -Environment Emulator
        $token.Account.Username | Should -Be $admin.userPrincipalName
        $token.RefreshToken | Should -Not -BeNullOrEmpty
        (Get-JwtClaims $token.AccessToken).appidacr | Should -Be '2'

        $context = Connect-PartnerCenter -ApplicationId $samAppId -CertificateThumbprint $known.Thumbprint -RefreshToken $token.RefreshToken -Tenant $tenantId -Environment Emulator
        $context.Account.Type | Should -Be 'User'
        $context.Account.ObjectId | Should -Be $admin.id
        $context.HasRefreshToken | Should -BeTrue
        $context.CountryCode | Should -Be 'US'
    }

    It 'runs the consent step with a certificate (-CertificateThumbprint -UseAuthorizationCode)' {
        $token = New-PartnerAccessToken -ApplicationId $samAppId -CertificateThumbprint $known.Thumbprint -Scopes 'https://api.partnercenter.microsoft.com/user_impersonation' -ServicePrincipal -Tenant $tenantId -UseAuthorizationCode -Environment Emulator -WarningAction SilentlyContinue
        $token.Account.Username | Should -Be $admin.userPrincipalName
        $token.RefreshToken | Should -Not -BeNullOrEmpty
        (Get-JwtClaims $token.AccessToken).appidacr | Should -Be '2'
        (Get-Query (Get-BrowserUrl))['client_id'] | Should -Be $samAppId
    }

    It 'reports a thumbprint that is not in the store as CertificateNotFound, naming the parameter (<Cmdlet>)' -ForEach @(
        @{ Cmdlet = 'Connect-PartnerCenter'; Run = { param($t) Connect-PartnerCenter -ApplicationId $samAppId -CertificateThumbprint $t -ServicePrincipal -Tenant $tenantId -Environment Emulator } }
        @{ Cmdlet = 'New-PartnerAccessToken'; Run = { param($t) New-PartnerAccessToken -ApplicationId $samAppId -CertificateThumbprint $t -Scopes "$base/graph/.default" -ServicePrincipal -Tenant $tenantId -Environment Emulator } }
    ) {
        $missing = -join ((1..40) | ForEach-Object { '0123456789ABCDEF'[(Get-Random -Maximum 16)] })
        $err = { & $Run $missing } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'CertificateNotFound,*'
        $err.Exception.Message | Should -BeLike "*'CertificateThumbprint'*$missing*CurrentUser*LocalMachine*"
        $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'reports a malformed thumbprint as InvalidCertificateThumbprint (<Value>)' -ForEach @(
        @{ Value = 'not-a-thumbprint' }
        @{ Value = 'ABCDEF' }
        @{ Value = ('AB' * 20) + 'CD' }
    ) {
        $err = { Connect-PartnerCenter -ApplicationId $samAppId -CertificateThumbprint $Value -ServicePrincipal -Tenant $tenantId -Environment Emulator } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'InvalidCertificateThumbprint,*'
        $err.Exception.Message | Should -BeLike "*'CertificateThumbprint'*"
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err = { New-PartnerAccessToken -ApplicationId $samAppId -CertificateThumbprint $Value -Scopes "$base/graph/.default" -ServicePrincipal -Tenant $tenantId -Environment Emulator } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'InvalidCertificateThumbprint,*'
    }

    It 'reports a certificate the application does not know as AADSTS700027' {
        $err = { Connect-PartnerCenter -ApplicationId $samAppId -CertificateThumbprint $stranger.Thumbprint -ServicePrincipal -Tenant $tenantId -Environment Emulator } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -Be 'AADSTS700027,PartnerSecurity.Commands.ConnectPartnerCenter'
        $err.Exception.Message | Should -BeLike '*-CertificateThumbprint*'
        $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
    }
}

Describe 'Ctrl+C while waiting for the user' {
    BeforeAll {
        # A browser that opens nothing; it only records the URL, so the test knows the port.
        $script:stillLog = Join-Path $TestDrive 'still-browser.log'
        $script:stillBrowser = Join-Path $TestDrive 'still-browser'
        Set-Content -LiteralPath $stillBrowser -Value "#!/bin/sh`nprintf '%s\n' `"`$1`" >> '$stillLog'`n"
        if (-not $IsWindows) { chmod +x $stillBrowser }

        function script:Test-PortFree([int] $Port) {
            $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, $Port)
            try { $listener.Start(); $true } catch { $false } finally { $listener.Stop() }
        }
    }
    AfterEach { $env:BROWSER = $browser }

    It 'stops a browser sign-in within seconds, releases its loopback listener, and the next sign-in works' {
        Remove-Item -LiteralPath $stillLog -ErrorAction SilentlyContinue
        $env:BROWSER = $stillBrowser
        $job = Start-InRunspace -Script {
            param($ModulePath)
            Import-Module $ModulePath
            Connect-PartnerCenter -Environment Emulator -WarningAction SilentlyContinue
        }
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(15)
            while (-not (Test-Path -LiteralPath $stillLog) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
            Start-Sleep -Seconds 1
            $job.PowerShell.InvocationStateInfo.State | Should -Be 'Running' -Because 'it waits for the browser'
            $port = ([uri](Get-Query ([uri](Get-Content -LiteralPath $stillLog -TotalCount 1)))['redirect_uri']).Port
            Test-PortFree $port | Should -BeFalse -Because 'the module listens for the redirect'

            $watch = [Diagnostics.Stopwatch]::StartNew()
            $job.PowerShell.Stop()
            $job.Handle.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds(5)) | Should -BeTrue
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 5
            $job.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
            $job.PowerShell.InvocationStateInfo.Reason | Should -BeOfType ([System.Management.Automation.PipelineStoppedException])
            $stopped = try { $job.PowerShell.EndInvoke($job.Handle); $null } catch { $_.Exception.GetBaseException() }
            $stopped | Should -BeOfType ([System.Management.Automation.PipelineStoppedException])
        } finally {
            $job.PowerShell.Dispose()
        }

        $deadline = [DateTime]::UtcNow.AddSeconds(5)
        while (-not (Test-PortFree $port) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
        Test-PortFree $port | Should -BeTrue -Because "the listener on $port was closed"

        $env:BROWSER = $browser
        (Connect-PartnerCenter -Environment Emulator -WarningAction SilentlyContinue).Account.ObjectId | Should -Be $admin.id
    }

    It 'shows the address when no browser opens (the launcher fails), and signing in there completes' {
        # As xdg-open on a machine without a browser: an error at once.
        $failingBrowser = Join-Path $TestDrive 'failing-browser'
        Set-Content -LiteralPath $failingBrowser -Value "#!/bin/sh`necho 'no method available for opening the address' >&2`nexit 3`n"
        if (-not $IsWindows) { chmod +x $failingBrowser }
        $env:BROWSER = $failingBrowser
        $job = Start-InRunspace -Script {
            param($ModulePath)
            Import-Module $ModulePath
            Connect-PartnerCenter -Environment Emulator
        }
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(15)
            while ($job.PowerShell.Streams.Warning.Count -eq 0 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
            $warning = "$($job.PowerShell.Streams.Warning[0])"
            $warning | Should -BeLike 'No browser could be opened. Open this address in a browser on this computer*'
            $warning | Should -Not -BeLike '*We have launched a browser*'
            $warning | Should -BeLike "*run 'Connect-PartnerCenter -UseDeviceAuthentication'*"
            $address = [regex]::Match($warning, 'https://\S+').Value
            $address | Should -BeLike "$($emu.BaseUrl)/*authorize*"
            # The user opens it: the stand-in browser follows it to the module's listener.
            & $browser $address
            $job.Handle.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds(30)) | Should -BeTrue
            $context = $job.PowerShell.EndInvoke($job.Handle)
            $context.Account.ObjectId | Should -Be $admin.id
        } finally {
            $job.PowerShell.Dispose()
        }
    }

    It 'stops a device code sign-in within seconds, and the next one works' {
        $job = Start-InRunspace -Script {
            param($ModulePath)
            Import-Module $ModulePath
            Connect-PartnerCenter -Environment Emulator -UseDeviceAuthentication -WarningAction SilentlyContinue
        }
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(15)
            do { Start-Sleep -Milliseconds 200; $polled = @(Get-DeviceCodes | Where-Object { $_.status -eq 'pending' -and $_.polls -ge 1 }) }
            until ($polled.Count -or [DateTime]::UtcNow -gt $deadline)
            $polled.Count | Should -BeGreaterThan 0
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $job.PowerShell.Stop()
            $job.Handle.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds(5)) | Should -BeTrue
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 5
            $job.PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
            $job.PowerShell.InvocationStateInfo.Reason | Should -BeOfType ([System.Management.Automation.PipelineStoppedException])
        } finally {
            $job.PowerShell.Dispose()
        }
        # Polling stopped with the pipeline (the demo's interval is 1 s).
        $userCode = $polled[-1].userCode
        $before = (Get-DeviceCodes | Where-Object userCode -EQ $userCode).polls
        Start-Sleep -Seconds 2.5
        (Get-DeviceCodes | Where-Object userCode -EQ $userCode).polls | Should -Be $before

        Set-DeviceCodeApproval -UserId $admin.id -Mfa $true -AfterPolls 0
        (Connect-PartnerCenter -Environment Emulator -UseDeviceAuthentication -WarningAction SilentlyContinue).Account.ObjectId | Should -Be $admin.id
    }
}

Describe 'No token or secret leaks' {
    BeforeAll {
        $script:leakCertificate = New-TestCertificate
        Register-EmulatorCertificate $leakCertificate | Out-Null
    }

    It 'browser, device code and certificate sign-ins with -Verbose -Debug put no token or secret in any stream or file' {
        Clear-BrowserLog
        # -Debug on a compiled cmdlet turns warnings into prompts ('Inquire'), which a
        # non-interactive host refuses; -WarningAction Continue keeps them in the output instead.
        $loud = @{ Verbose = $true; Debug = $true; WarningAction = 'Continue' }
        $output = & {
            Connect-PartnerCenter -Environment Emulator @loud
            Get-PartnerContext @loud | Format-List * | Out-String
            Set-DeviceCodeApproval -UserId $admin.id -Mfa $true -AfterPolls 1
            Connect-PartnerCenter -Environment Emulator -UseDeviceAuthentication @loud
            Connect-PartnerCenter -ApplicationId $samAppId -CertificateThumbprint $leakCertificate.Thumbprint -ServicePrincipal -Tenant $tenantId -Environment Emulator @loud
            New-PartnerAccessToken -ApplicationId $samAppId -CertificateThumbprint $leakCertificate.Thumbprint -Scopes "$base/graph/.default" -ServicePrincipal -Tenant $tenantId -Environment Emulator @loud | Out-String
            New-PartnerAccessToken -ApplicationId $samAppId -Scopes 'https://api.partnercenter.microsoft.com/user_impersonation' -ServicePrincipal -Credential $samCredential -Tenant $tenantId -UseAuthorizationCode -Environment Emulator @loud | Out-String
            Test-PartnerSecurityRequirement -Environment Emulator -Detailed @loud | Format-List * | Out-String
            Set-NextSignIn -UserId $admin.id -Decline
            try { Connect-PartnerCenter -Environment Emulator @loud } catch { $_ | Out-String; $_.Exception.ToString() }
            Disconnect-PartnerCenter @loud
        } *>&1 | Out-String

        $output | Should -Match 'Signing in' -Because 'verbose output was captured'
        $output | Should -Match 'devicelogin' -Because 'the device-code warning was captured'
        $output | Should -Match 'AADSTS65004' -Because 'the failure was captured'
        $output | Should -Match 'Checking if the access token contains the MFA claim' -Because 'debug output was captured'
        $secrets = Get-EmulatorIssuedSecrets -Emulator $emu
        $secrets.Count | Should -BeGreaterThan 20
        foreach ($secret in $secrets) {
            $output.Contains($secret) | Should -BeFalse -Because 'no stream may carry a token, code or secret'
        }

        # Files: what the tests wrote (the browser's URL log, ...) and the module's own folder.
        # One regular expression for all the values keeps the 50 MB native library quick to scan.
        $pattern = [regex]::new((($secrets | Sort-Object Length -Descending | ForEach-Object { [regex]::Escape($_) }) -join '|'), 'CultureInvariant')
        $files = @(Get-ChildItem -LiteralPath $TestDrive, (Get-Module PartnerSecurity).ModuleBase -Recurse -File -Force)
        $files.FullName | Should -Contain $browserLog -Because 'the scan covers the browser log'
        foreach ($file in $files) {
            $text = [Text.Encoding]::Latin1.GetString([IO.File]::ReadAllBytes($file.FullName))
            $pattern.IsMatch($text) | Should -BeFalse -Because "$($file.FullName) must not contain a token or secret"
        }
    }
}
