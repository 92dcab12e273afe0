# Secure Application Model profiles through real pwsh, against the emulator over TLS:
#   - New-PartnerSecureAppProfile: the consent (browser, authorization code + PKCE, with
#     tests/fixtures/browser) saved only when the sign-in proved MFA;
#   - each secret store: the encrypted file, Azure Key Vault (the emulator's), the OS credential
#     store (refused on Linux, before any sign-in);
#   - Get/Set/Remove/Test-PartnerSecureAppProfile;
#   - the transparent switch: Connect-PartnerCenter, New-PartnerAccessToken -Scopes and
#     Test-PartnerSecurityRequirement run unchanged on the default profile, one warning per
#     session, and the old refusal of user credentials stays when there is no profile;
#   - rotation: a process killed mid-exchange loses nothing (a refused write: core tests);
#   - no token or secret in any stream, error or file, the encrypted store included.
# Every test works in its own PARTNERSECURITY_HOME under TestDrive; the variables are restored.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../TestHelpers.psm1') -Force
    Import-PartnerSecurityModule
    $script:emu = Start-TestEmulator
    $script:base = $emu.BaseUrl
    # As Register-TestEnvironment, plus the emulator's Key Vault endpoint.
    Add-PartnerEnvironment -Name Emulator -ActiveDirectoryAuthority $base -GraphEndpoint "$base/graph" -PartnerCenterEndpoint "$base/partnercenter" `
        -KeyVaultEndpoint "$base/vault" -TrustedCertificatePath $emu.CertificatePath | Out-Null
    $script:modulePsd1 = Join-Path (Get-Module PartnerSecurity).ModuleBase 'PartnerSecurity.psd1'

    $partner = $emu.Scenario.tenants[0]
    $script:tenantId = $partner.id
    $script:admin = $partner.users | Where-Object userPrincipalName -Like 'adminagent@*'
    $script:sales = $partner.users | Where-Object userPrincipalName -Like 'salesagent@*'
    $sam = $partner.applications | Where-Object { $_.displayName -like '*Secure Application Model*' }
    $script:samAppId = $sam.appId
    $script:samCredential = [pscredential]::new($sam.appId, (ConvertTo-SecureString $sam.secrets[0].value -AsPlainText -Force))
    $script:vaultName = $emu.Scenario.keyVaults[0].name

    $script:savedVariables = @{}
    foreach ($name in 'BROWSER', 'PARTNERSEC_TEST_CA', 'PARTNERSEC_TEST_BROWSER_LOG', 'PARTNERSECURITY_HOME', 'PARTNERSECURITY_PROFILE', 'PARTNERSECURITY_SECRET_PASSPHRASE') {
        $savedVariables[$name] = [Environment]::GetEnvironmentVariable($name)
    }
    $script:browserLog = Join-Path $TestDrive 'browser.log'
    $env:BROWSER = (Resolve-Path (Join-Path $PSScriptRoot '../fixtures/browser')).ProviderPath
    $env:PARTNERSEC_TEST_CA = $emu.CertificatePath
    $env:PARTNERSEC_TEST_BROWSER_LOG = $browserLog
    $env:PARTNERSECURITY_PROFILE = $null
    $env:PARTNERSECURITY_SECRET_PASSPHRASE = 'test passphrase, not a secret of the emulator'

    function script:Use-NewHome {
        # A fresh, empty PartnerSecurity home for one test.
        $home_ = Join-Path $TestDrive ('home-' + [guid]::NewGuid().ToString('n').Substring(0, 8))
        $env:PARTNERSECURITY_HOME = $home_
        $home_
    }

    function script:Set-NextSignIn([string] $UserId = $admin.id, [bool] $Mfa = $true) {
        Invoke-EmulatorControl -Emulator $emu -Path '/_emulator/sign-in/next' -Body @{ userId = $UserId; mfa = $Mfa; decline = $false } | Out-Null
    }

    function script:New-TestProfile {
        param([string] $Name = 'contoso', [string] $Store = 'File', [switch] $Default, [string] $UserId = $admin.id, [bool] $Mfa = $true)
        Set-NextSignIn -UserId $UserId -Mfa $Mfa
        $extra = @{}
        if ($Store -eq 'KeyVault') { $extra.VaultName = $vaultName }
        New-PartnerSecureAppProfile -Name $Name -Credential $samCredential -Tenant $tenantId -Environment Emulator -SecretStore $Store -Default:$Default @extra -WarningAction SilentlyContinue
    }

    function script:Start-VariantEmulator([string] $Name, [scriptblock] $Change) {
        # The demo scenario changed by $Change (which gets the parsed scenario), on its own
        # emulator, registered as environment $Name and trusted by the stand-in browser.
        $scenario = Get-Content -LiteralPath $emu.ScenarioPath -Raw | ConvertFrom-Json -Depth 50
        & $Change $scenario
        $path = Join-Path $TestDrive "$Name.json"
        $scenario | ConvertTo-Json -Depth 50 | Set-Content -LiteralPath $path
        $variant = Start-TestEmulator -Scenario $path
        Add-PartnerEnvironment -Name $Name -ActiveDirectoryAuthority $variant.BaseUrl -GraphEndpoint "$($variant.BaseUrl)/graph" -PartnerCenterEndpoint "$($variant.BaseUrl)/partnercenter" -TrustedCertificatePath $variant.CertificatePath | Out-Null
        $env:PARTNERSEC_TEST_CA = $variant.CertificatePath
        $variant
    }

    function script:Stop-VariantEmulator([string] $Name, $Variant) {
        $env:PARTNERSEC_TEST_CA = $emu.CertificatePath
        Remove-PartnerEnvironment -Name $Name -ErrorAction SilentlyContinue
        Stop-TestEmulator -Emulator $Variant
    }

    function script:Get-JwtClaims([string] $Jwt) {
        $payload = $Jwt.Split('.')[1].Replace('-', '+').Replace('_', '/')
        $payload += '=' * ((4 - $payload.Length % 4) % 4)
        [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($payload)) | ConvertFrom-Json
    }

    function script:Invoke-Child([string] $Script) {
        # A new pwsh process (a new session): the module, the emulator environment, then $Script.
        $prelude = "`$ErrorActionPreference = 'Stop'; Import-Module '$modulePsd1'; " +
            "Add-PartnerEnvironment -Name Emulator -ActiveDirectoryAuthority '$base' -GraphEndpoint '$base/graph' -PartnerCenterEndpoint '$base/partnercenter' -KeyVaultEndpoint '$base/vault' -TrustedCertificatePath '$($emu.CertificatePath)' | Out-Null; "
        pwsh -NoProfile -NonInteractive -Command ($prelude + $Script) 2>&1 | Out-String
    }
}

AfterAll {
    Disconnect-PartnerCenter -ErrorAction SilentlyContinue
    foreach ($name in $savedVariables.Keys) { [Environment]::SetEnvironmentVariable($name, $savedVariables[$name]) }
    Remove-PartnerEnvironment -Name Emulator -ErrorAction SilentlyContinue
    Stop-TestEmulator -Emulator $emu
}

Describe 'New-PartnerSecureAppProfile (consent)' {
    It 'saves a profile from a consent that proved MFA, with the refresh token in the encrypted file store' {
        $home_ = Use-NewHome
        $profile = New-TestProfile -Default
        $profile | Should -BeOfType 'PartnerSecurity.Models.SecureAppProfile'
        $profile.Name | Should -Be 'contoso'
        $profile.ApplicationId | Should -Be $samAppId
        $profile.Environment | Should -Be 'Emulator'
        $profile.SecretStore | Should -Be 'File'
        $profile.CredentialKind | Should -Be 'Secret'
        $profile.ConsentedBy | Should -Be $admin.userPrincipalName
        $profile.AuthenticationMethods | Should -Contain 'mfa'
        $profile.IsDefault | Should -BeTrue
        $profile.LastExchangeOn | Should -Not -BeNullOrEmpty
        # The browser was sent to the SAM application's consent with PKCE.
        (Get-Content -LiteralPath $browserLog | Select-Object -Last 1) | Should -Match "client_id=$samAppId"
        Test-Path (Join-Path $home_ 'profiles/contoso.json') | Should -BeTrue
        @(Get-ChildItem (Join-Path $home_ 'secrets') -File | Where-Object Name -NotLike '*.lock').Count | Should -Be 2 -Because 'the refresh token and the application secret'
        if (-not $IsWindows) {
            foreach ($file in Get-ChildItem (Join-Path $home_ 'secrets') -File) {
                ($file.UnixFileMode -band [IO.UnixFileMode]'GroupRead, GroupWrite, OtherRead, OtherWrite') | Should -Be 0 -Because "$($file.Name) is readable by its owner only"
            }
        }
    }

    It 'stores nothing when the sign-in cannot prove MFA (Entra ID refuses it: AADSTS50076)' {
        $home_ = Use-NewHome
        $err = { New-TestProfile -UserId $sales.id -Mfa $false } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'AADSTS50076,*'
        Get-PartnerSecureAppProfile | Should -BeNullOrEmpty
        @(Get-ChildItem $home_ -Recurse -File -ErrorAction SilentlyContinue | Where-Object Name -NotLike '*.lock').Count | Should -Be 0
    }

    It 'refuses a consent whose tokens lack MFA (MfaRequired) in a tenant that does not enforce it, and stores nothing' {
        # The same scenario, with the partner tenant's MFA policy off: the sign-in succeeds
        # without a second factor, and the profile must refuse it on its own.
        $lax = Start-VariantEmulator EmulatorLax { param($scenario) $scenario.tenants[0].requireMfa = $false }
        try {
            $home_ = Use-NewHome
            Invoke-EmulatorControl -Emulator $lax -Path '/_emulator/sign-in/next' -Body @{ userId = $sales.id; mfa = $false; decline = $false } | Out-Null
            $err = { New-PartnerSecureAppProfile -Name contoso -Credential $samCredential -Tenant $tenantId -Environment EmulatorLax -WarningAction SilentlyContinue } | Should -Throw -PassThru
            $err.FullyQualifiedErrorId | Should -BeLike 'MfaRequired,*'
            $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
            $err.Exception.Message | Should -Match 'amr: pwd'
            Get-PartnerSecureAppProfile | Should -BeNullOrEmpty
            @(Get-ChildItem $home_ -Recurse -File -ErrorAction SilentlyContinue | Where-Object Name -NotLike '*.lock').Count | Should -Be 0
        }
        finally { Stop-VariantEmulator EmulatorLax $lax }
    }

    It 'imports an old script''s refresh token only when it proves MFA (sam-admin yes, sam-sales-nomfa no)' {
        $home_ = Use-NewHome
        $consents = $emu.Scenario.tenants[0].consents
        $err = { New-PartnerSecureAppProfile -Name nomfa -Credential $samCredential -RefreshToken ($consents | Where-Object name -EQ 'sam-sales-nomfa').refreshToken -Tenant $tenantId -Environment Emulator } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'MfaRequired,*'
        Get-PartnerSecureAppProfile | Should -BeNullOrEmpty
        @(Get-ChildItem $home_ -Recurse -File -ErrorAction SilentlyContinue | Where-Object Name -NotLike '*.lock').Count | Should -Be 0

        $profile = New-PartnerSecureAppProfile -Name imported -Credential $samCredential -RefreshToken ($consents | Where-Object name -EQ 'sam-admin').refreshToken -Tenant $tenantId -Environment Emulator -Default
        $profile.AuthenticationMethods | Should -Contain 'mfa'
        $profile.ConsentedBy | Should -Be $admin.userPrincipalName
        (New-PartnerAccessToken -Scopes "$base/graph/.default" -WarningAction SilentlyContinue).Account.Username | Should -Be $admin.userPrincipalName
    }

    It 'refuses the OS credential store on Linux before anyone is asked to sign in' -Skip:(-not $IsLinux) {
        Use-NewHome | Out-Null
        Remove-Item -LiteralPath $browserLog -ErrorAction SilentlyContinue
        $err = { New-TestProfile -Store CredentialManager } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'CredentialStoreUnavailable,*'
        $err.Exception.Message | Should -Match 'encrypted file store'
        Test-Path $browserLog | Should -BeFalse -Because 'the store is checked before the consent'
    }

    It 'refuses a second profile of the same name, and a Key Vault store without -VaultName' {
        Use-NewHome | Out-Null
        New-TestProfile | Out-Null
        { New-TestProfile } | Should -Throw -ErrorId 'ProfileExists,*'
        { New-PartnerSecureAppProfile -Name other -Credential $samCredential -Tenant $tenantId -Environment Emulator -SecretStore KeyVault } | Should -Throw -ErrorId 'VaultNameRequired,*'
    }

    It '-WhatIf starts no sign-in and saves nothing' {
        Use-NewHome | Out-Null
        New-PartnerSecureAppProfile -Name contoso -Credential $samCredential -Tenant $tenantId -Environment Emulator -WhatIf
        Get-PartnerSecureAppProfile | Should -BeNullOrEmpty
    }
}

Describe 'Secret stores round-trip' {
    It 'the encrypted file store: exchanges rotate the stored token and keep working' {
        Use-NewHome | Out-Null
        New-TestProfile -Default | Out-Null
        $first = New-PartnerAccessToken -Scopes "$base/graph/.default" -WarningAction SilentlyContinue
        $second = New-PartnerAccessToken -Scopes "$base/graph/.default" -WarningAction SilentlyContinue
        $first.AccessToken | Should -Not -Be $second.AccessToken
        (Get-JwtClaims $second.AccessToken).oid | Should -Be $admin.id
        $second.RefreshToken | Should -BeNullOrEmpty -Because 'the rotated refresh token stays in the store'
        (Get-PartnerSecureAppProfile -Name contoso).LastExchangeOn | Should -BeGreaterThan $first.ExpiresOn.AddHours(-2)
    }

    It 'the wrong passphrase is refused and the file is untouched' {
        Use-NewHome | Out-Null
        New-TestProfile | Out-Null
        $env:PARTNERSECURITY_SECRET_PASSPHRASE = 'wrong'
        try {
            Set-PartnerSecureAppProfile -Name contoso -Default
            $err = { New-PartnerAccessToken -Scopes "$base/graph/.default" } | Should -Throw -PassThru
            $err.FullyQualifiedErrorId | Should -BeLike 'SecretFileUndecryptable,*'
        }
        finally { $env:PARTNERSECURITY_SECRET_PASSPHRASE = 'test passphrase, not a secret of the emulator' }
        (New-PartnerAccessToken -Scopes "$base/graph/.default" -WarningAction SilentlyContinue).AccessToken | Should -Not -BeNullOrEmpty
    }

    It 'a corrupted secret-store entry is refused naming its file; the profile works again once consent is repeated' {
        $home_ = Use-NewHome
        New-TestProfile -Default | Out-Null
        $file = Get-ChildItem -LiteralPath (Join-Path $home_ 'secrets') -Filter '*.pssecret' | Select-Object -First 1
        $file | Should -Not -BeNullOrEmpty
        # Half the file survives (a disk error, a bad copy): the rest is zeros.
        $bytes = [IO.File]::ReadAllBytes($file.FullName)
        [Array]::Clear($bytes, [int]($bytes.Length / 2), $bytes.Length - [int]($bytes.Length / 2))
        [IO.File]::WriteAllBytes($file.FullName, $bytes)
        foreach ($attempt in 1..2) {
            $err = { New-PartnerAccessToken -Scopes "$base/graph/.default" -WarningAction SilentlyContinue } | Should -Throw -PassThru
            $err.FullyQualifiedErrorId | Should -BeLike 'SecretFile*,*'
            $err.Exception.Message | Should -BeLike "*$($file.Name)*"
            $err.Exception.Message.Length | Should -BeLessThan 2000
        }
        (Test-PartnerSecureAppProfile -Name contoso -WarningAction SilentlyContinue).Healthy | Should -BeFalse
        # Consent again under the same name: a new entry, and the session works.
        Remove-PartnerSecureAppProfile -Name contoso -Confirm:$false
        New-TestProfile -Default | Out-Null
        (New-PartnerAccessToken -Scopes "$base/graph/.default" -WarningAction SilentlyContinue).AccessToken | Should -Not -BeNullOrEmpty
    }

    It 'Azure Key Vault: the refresh token lives in the vault, and moves to the file store and back' {
        $home_ = Use-NewHome
        $profile = New-TestProfile -Name contoso-kv -Store KeyVault -Default
        $profile.SecretStore | Should -Be 'KeyVault'
        $profile.VaultUrl | Should -Be "$base/vault/$vaultName"
        @(Get-ChildItem (Join-Path $home_ 'secrets') -File | Where-Object Name -NotLike '*.lock').Count | Should -Be 1 -Because 'only the application secret is in the file store'
        (New-PartnerAccessToken -Scopes "$base/graph/.default" -WarningAction SilentlyContinue).AccessToken | Should -Not -BeNullOrEmpty

        $moved = Set-PartnerSecureAppProfile -Name contoso-kv -SecretStore File -PassThru
        $moved.SecretStore | Should -Be 'File'
        @(Get-ChildItem (Join-Path $home_ 'secrets') -File | Where-Object Name -NotLike '*.lock').Count | Should -Be 2
        (New-PartnerAccessToken -Scopes "$base/graph/.default" -WarningAction SilentlyContinue).AccessToken | Should -Not -BeNullOrEmpty

        (Set-PartnerSecureAppProfile -Name contoso-kv -SecretStore KeyVault -VaultName $vaultName -PassThru).SecretStore | Should -Be 'KeyVault'
        (New-PartnerAccessToken -Scopes "$base/graph/.default" -WarningAction SilentlyContinue).AccessToken | Should -Not -BeNullOrEmpty
        Remove-PartnerSecureAppProfile -Name contoso-kv -Confirm:$false
        Get-PartnerSecureAppProfile | Should -BeNullOrEmpty
        @(Get-ChildItem (Join-Path $home_ 'secrets') -File | Where-Object Name -NotLike '*.lock').Count | Should -Be 0
    }

    It 'moving to the OS credential store on Linux is refused and changes nothing' -Skip:(-not $IsLinux) {
        Use-NewHome | Out-Null
        New-TestProfile | Out-Null
        { Set-PartnerSecureAppProfile -Name contoso -SecretStore CredentialManager } | Should -Throw -ErrorId 'CredentialStoreUnavailable,*'
        (Get-PartnerSecureAppProfile contoso).SecretStore | Should -Be 'File'
    }
}

Describe 'Get, Set, Remove and Test-PartnerSecureAppProfile' {
    It 'lists, filters by wildcard, and names the default (PARTNERSECURITY_PROFILE wins)' {
        Use-NewHome | Out-Null
        New-TestProfile -Name contoso-a -Default | Out-Null
        New-TestProfile -Name contoso-b | Out-Null
        @(Get-PartnerSecureAppProfile).Name | Should -Be @('contoso-a', 'contoso-b')
        @(Get-PartnerSecureAppProfile -Name '*-b').Name | Should -Be 'contoso-b'
        (Get-PartnerSecureAppProfile -Default).Name | Should -Be 'contoso-a'
        $env:PARTNERSECURITY_PROFILE = 'contoso-b'
        try { (Get-PartnerSecureAppProfile -Default).Name | Should -Be 'contoso-b' }
        finally { $env:PARTNERSECURITY_PROFILE = $null }
        Get-PartnerSecureAppProfile -Name nothing -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -BeLike 'ProfileNotFound,*'
        (Get-PartnerSecureAppProfile | Format-Table | Out-String) | Should -Match 'contoso-a\s+True'
    }

    It 'completes profile names on Tab, the default first, for every profile cmdlet' {
        Use-NewHome | Out-Null
        New-TestProfile -Name fabrikam | Out-Null
        New-TestProfile -Name contoso-b | Out-Null
        New-TestProfile -Name contoso-a | Out-Null
        Set-PartnerSecureAppProfile -Name contoso-b -Default
        foreach ($line in 'Get-PartnerSecureAppProfile con', 'Set-PartnerSecureAppProfile -Name con', 'Remove-PartnerSecureAppProfile Con', 'Test-PartnerSecureAppProfile -Name con') {
            $matches_ = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches
            $matches_.CompletionText | Should -Be @('contoso-b', 'contoso-a') -Because "$line completes the default first"
        }
        $line = 'Get-PartnerSecureAppProfile -Name '
        $all = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches
        $all.CompletionText | Should -Be @('contoso-b', 'contoso-a', 'fabrikam')
        $all[0].ToolTip | Should -Match "^contoso-b \(default\): application $samAppId, tenant $tenantId, Emulator$"
        Use-NewHome | Out-Null
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Not -Contain 'fabrikam' -Because 'another home has no profiles'
    }

    It 'Set -Default:$false clears the default; Remove asks first and takes pipeline input' {
        Use-NewHome | Out-Null
        New-TestProfile -Default | Out-Null
        Set-PartnerSecureAppProfile -Name contoso -Default:$false
        Get-PartnerSecureAppProfile -Default -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Get-PartnerSecureAppProfile | Remove-PartnerSecureAppProfile -WhatIf
        Get-PartnerSecureAppProfile | Should -Not -BeNullOrEmpty
        Get-PartnerSecureAppProfile | Remove-PartnerSecureAppProfile -Confirm:$false
        Get-PartnerSecureAppProfile | Should -BeNullOrEmpty
    }

    It 'Test reports a healthy profile: token stored, MFA, consented scopes, 90 days ahead' {
        Use-NewHome | Out-Null
        New-TestProfile -Default | Out-Null
        $health = Test-PartnerSecureAppProfile
        $health | Should -BeOfType 'PartnerSecurity.Models.SecureAppProfileHealth'
        $health.Status | Should -Be 'Healthy'
        $health.RefreshTokenStored | Should -BeTrue -Because ($health | Format-List * | Out-String)
        $health.Mfa | Should -BeTrue
        $health.DaysLeft | Should -BeIn 89, 90
        $health.ConsentedScopes -join ' ' | Should -Match 'user_impersonation'
        $health.ConsentedBy | Should -Be $admin.userPrincipalName
        $health.Advice | Should -Match 'renews itself'
        # Graph's view of the application: the demo secret expires in 730 days.
        $health.ApplicationCredentialsProblem | Should -BeNullOrEmpty
        $secret = $health.ApplicationCredentials | Where-Object Kind -EQ 'Secret'
        $secret.DisplayName | Should -Be 'demo secret'
        $secret.DaysLeft | Should -BeIn 729, 730
    }

    It 'Test warns when the application''s secret is about to expire (Graph says so)' {
        # The demo scenario with the SAM application's secret ending in 10 days.
        $expiring = Start-VariantEmulator EmulatorExpiring { param($scenario) ($scenario.tenants[0].applications | Where-Object appId -EQ $samAppId).secrets[0].expiresOn = '+10d' }
        try {
            Use-NewHome | Out-Null
            Invoke-EmulatorControl -Emulator $expiring -Path '/_emulator/sign-in/next' -Body @{ userId = $admin.id; mfa = $true; decline = $false } | Out-Null
            New-PartnerSecureAppProfile -Name contoso -Credential $samCredential -Tenant $tenantId -Environment EmulatorExpiring -WarningAction SilentlyContinue | Out-Null
            $health = Test-PartnerSecureAppProfile -Name contoso -WarningVariable warnings -WarningAction SilentlyContinue
            $health.Status | Should -Be 'Warning'
            $health.Advice | Should -Match 'secret expires on .* \((9|10) days left\).*Set-PartnerSecureAppProfile -Credential'
            ($warnings -join ' ') | Should -Match 'secret expires'
        }
        finally { Stop-VariantEmulator EmulatorExpiring $expiring }
    }

    It 'Test says what to do when the store holds no token' {
        $home_ = Use-NewHome
        New-TestProfile | Out-Null
        Get-ChildItem (Join-Path $home_ 'secrets') -Filter 'contoso-refresh-token*' | Remove-Item
        $health = Test-PartnerSecureAppProfile -Name contoso -WarningVariable warnings -WarningAction SilentlyContinue
        $health.Status | Should -Be 'Expired'
        $health.RefreshTokenStored | Should -BeFalse
        $health.Advice | Should -Match 'Consent once'
        $warnings | Should -Not -BeNullOrEmpty
    }
}

Describe 'The legacy forms switch to the default profile' {
    It 'Connect-PartnerCenter with no parameters, and with a user''s -Credential, connect through the profile without a browser' {
        Use-NewHome | Out-Null
        New-TestProfile -Default | Out-Null
        Remove-Item -LiteralPath $browserLog -ErrorAction SilentlyContinue
        $context = Connect-PartnerCenter -WarningAction SilentlyContinue
        $context | Should -BeOfType 'PartnerSecurity.Models.PartnerContext'
        $context.Account.Type | Should -Be 'User'
        $context.Account.ObjectId | Should -Be $admin.id
        $context.Account.Tenant | Should -Be $tenantId
        $context.AuthenticationMethods | Should -Contain 'mfa'
        $context.HasRefreshToken | Should -BeTrue
        $context.CountryCode | Should -Be 'US'

        $userCredential = [pscredential]::new($admin.userPrincipalName, (ConvertTo-SecureString 'a user password' -AsPlainText -Force))
        $legacy = Connect-PartnerCenter -Credential $userCredential -TenantId $tenantId -Environment Emulator -WarningAction SilentlyContinue
        $legacy.Account.ObjectId | Should -Be $admin.id
        Test-Path $browserLog | Should -BeFalse -Because 'nobody was asked to sign in'
        # The same objects as the documented refresh-token connection.
        $direct = Connect-PartnerCenter -ApplicationId $samAppId -Credential $samCredential -RefreshToken ($emu.Scenario.tenants[0].consents | Where-Object name -EQ 'sam-admin').refreshToken -Tenant $tenantId -Environment Emulator
        foreach ($property in 'Type', 'ObjectId', 'Tenant', 'Identifier', 'UserPrincipalName', 'ApplicationId') {
            $legacy.Account.$property | Should -Be $direct.Account.$property
        }
        $legacy.GetType() | Should -Be $direct.GetType()
    }

    It 'New-PartnerAccessToken -Scopes and Test-PartnerSecurityRequirement run on the profile' {
        Use-NewHome | Out-Null
        New-TestProfile -Default | Out-Null
        $token = New-PartnerAccessToken -Scopes "$base/graph/.default" -WarningAction SilentlyContinue
        $token | Should -BeOfType 'PartnerSecurity.Models.AuthResult'
        (Get-JwtClaims $token.AccessToken).appid | Should -Be $samAppId
        $token.HasMfa | Should -BeTrue
        # The User set of the profile's own application switches too.
        (New-PartnerAccessToken -ApplicationId $samAppId -Scopes "$base/graph/.default" -Environment Emulator -WarningAction SilentlyContinue).Account.Username | Should -Be $admin.userPrincipalName
        Test-PartnerSecurityRequirement -WarningAction SilentlyContinue | Should -Be 'pass'
        (Test-PartnerSecurityRequirement -Detailed -WarningAction SilentlyContinue).ApplicationId | Should -Be $samAppId
    }

    It 'warns once per session, naming the profile and what to do' {
        Use-NewHome | Out-Null
        New-TestProfile -Default | Out-Null
        $output = Invoke-Child "`$env:PARTNERSECURITY_HOME = '$env:PARTNERSECURITY_HOME'; Connect-PartnerCenter | Out-Null; Connect-PartnerCenter | Out-Null; New-PartnerAccessToken -Scopes '$base/graph/.default' | Out-Null; Test-PartnerSecurityRequirement"
        $warnings = @($output -split "`n" | Where-Object { $_ -match "SAM profile 'contoso'" })
        $warnings.Count | Should -Be 1 -Because "one warning per session: $output"
        $warnings[0] | Should -Match 'Set-PartnerSecureAppProfile -Name contoso -Default:\$false'
        $output | Should -Match 'pass'
    }

    It 'without a default profile, user credentials are still refused with advice, and -Scopes alone says what is missing' {
        Use-NewHome | Out-Null
        $userCredential = [pscredential]::new($admin.userPrincipalName, (ConvertTo-SecureString 'a user password' -AsPlainText -Force))
        { Connect-PartnerCenter -Credential $userCredential -Environment Emulator } | Should -Throw -ErrorId 'UserCredentialsNotSupported,*'
        $err = { New-PartnerAccessToken -Scopes "$base/graph/.default" -Environment Emulator } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'NoDefaultProfile,*'
        $err.Exception.Message | Should -Match 'New-PartnerSecureAppProfile'
    }

    It 'a default profile of another environment is not used, and PARTNERSECURITY_PROFILE naming a missing profile fails clearly' {
        Use-NewHome | Out-Null
        New-TestProfile -Default | Out-Null
        $userCredential = [pscredential]::new($admin.userPrincipalName, (ConvertTo-SecureString 'a user password' -AsPlainText -Force))
        { Connect-PartnerCenter -Credential $userCredential -Environment AzureCloud } | Should -Throw -ErrorId 'UserCredentialsNotSupported,*'
        $env:PARTNERSECURITY_PROFILE = 'missing'
        try { { Connect-PartnerCenter -Credential $userCredential -Environment Emulator } | Should -Throw -ErrorId 'ProfileNotFound,*' }
        finally { $env:PARTNERSECURITY_PROFILE = $null }
    }
    It 'a 1.5-era environment name (GlobalCloud) selects a default profile of AzureCloud; another cloud keeps the refusal' {
        # A profile holds no secret, so one for the real cloud can be written by hand: with no
        # application secret stored, using it stops at the store (proving the switch was taken)
        # before any request leaves the machine.
        $home_ = Use-NewHome
        $profiles = New-Item -ItemType Directory -Path (Join-Path $home_ 'profiles')
        $store = @{ kind = 'file'; directory = (Join-Path $home_ 'secrets'); key = 'passphrase' }
        @{
            schemaVersion = 1; name = 'cloud'; applicationId = $samAppId; tenant = $tenantId; environment = 'AzureCloud'
            credential = @{ kind = 'secretRef'; store = $store + @{ name = 'cloud-app-secret' } }
            refreshTokenStore = $store + @{ name = 'cloud-refresh-token' }
            createdOn = [DateTime]::UtcNow.ToString('o')
        } | ConvertTo-Json -Depth 5 | Set-Content -LiteralPath (Join-Path $profiles 'cloud.json')
        Set-PartnerSecureAppProfile -Name cloud -Default
        $userCredential = [pscredential]::new($admin.userPrincipalName, (ConvertTo-SecureString 'a user password' -AsPlainText -Force))
        $err = { Connect-PartnerCenter -Credential $userCredential -Environment GlobalCloud } | Should -Throw -PassThru
        $err.Exception.Message | Should -Match 'no application secret is stored'
        { Connect-PartnerCenter -Credential $userCredential -Environment AzureChinaCloud } | Should -Throw -ErrorId 'UserCredentialsNotSupported,*'
    }
}

Describe 'Connect-PartnerCenter and New-PartnerAccessToken -SecureAppProfile' {
    BeforeAll {
        # A second MFA-capable user, so that the named profile is told apart from the default one.
        $script:auditor = $emu.Scenario.tenants[0].users | Where-Object userPrincipalName -Like 'guest.auditor*'
    }

    It 'connects through the named profile, not the default one, without a browser or a warning' {
        Use-NewHome | Out-Null
        New-TestProfile -Name contoso -Default | Out-Null
        New-TestProfile -Name auditor -UserId $auditor.id | Out-Null
        Remove-Item -LiteralPath $browserLog -ErrorAction SilentlyContinue
        $context = Connect-PartnerCenter -SecureAppProfile auditor -WarningVariable warnings
        $context | Should -BeOfType 'PartnerSecurity.Models.PartnerContext'
        $context.Account.ObjectId | Should -Be $auditor.id -Because 'the named profile signs in, not the default (contoso, the admin agent)'
        $context.Account.Tenant | Should -Be $tenantId
        $context.Environment | Should -Be 'Emulator'
        $context.AuthenticationMethods | Should -Contain 'mfa'
        $context.HasRefreshToken | Should -BeTrue
        $warnings | Should -BeNullOrEmpty -Because 'the profile was asked for; nothing stood in for a user sign-in'
        Test-Path $browserLog | Should -BeFalse -Because 'nobody was asked to sign in'
        (Get-PartnerContext).Account.ObjectId | Should -Be $auditor.id
        # -Environment may name the profile's own environment, in any case.
        (Connect-PartnerCenter -SecureAppProfile contoso -Environment emulator).Account.ObjectId | Should -Be $admin.id
    }

    It 'names a missing profile and an -Environment the profile is not for; -WhatIf connects nothing' {
        Use-NewHome | Out-Null
        New-TestProfile -Name contoso | Out-Null
        $err = { Connect-PartnerCenter -SecureAppProfile missing } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'ProfileNotFound,*'
        $err.Exception.Message | Should -Match 'missing'
        $err = { Connect-PartnerCenter -SecureAppProfile contoso -Environment AzureCloud } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'ProfileEnvironmentMismatch,*'
        $err.Exception.Message | Should -Match "signs in to environment 'Emulator', not 'AzureCloud'"
        $err.Exception.Message | Should -Match 'New-PartnerSecureAppProfile -Environment AzureCloud'
        Disconnect-PartnerCenter
        Connect-PartnerCenter -SecureAppProfile contoso -WhatIf
        Get-PartnerContext | Should -BeNullOrEmpty
        (Get-Command Connect-PartnerCenter).Parameters['SecureAppProfile'].ParameterSets.Keys | Should -Be 'SecureAppProfile'
    }

    It 'New-PartnerAccessToken -SecureAppProfile gets the token through the named profile, without a warning' {
        Use-NewHome | Out-Null
        New-TestProfile -Name contoso -Default | Out-Null
        New-TestProfile -Name auditor -UserId $auditor.id | Out-Null
        $token = New-PartnerAccessToken -SecureAppProfile auditor -Scopes "$base/graph/.default" -WarningVariable warnings
        $token | Should -BeOfType 'PartnerSecurity.Models.AuthResult'
        $token.Account.Username | Should -Be $auditor.userPrincipalName
        (Get-JwtClaims $token.AccessToken).appid | Should -Be $samAppId
        $token.RefreshToken | Should -BeNullOrEmpty -Because 'the rotated refresh token went to the profile''s store'
        $warnings | Should -BeNullOrEmpty
        { New-PartnerAccessToken -SecureAppProfile auditor -Scopes "$base/graph/.default" -Environment AzureCloud } | Should -Throw -ErrorId 'ProfileEnvironmentMismatch,*'
        { New-PartnerAccessToken -SecureAppProfile nobody -Scopes "$base/graph/.default" } | Should -Throw -ErrorId 'ProfileNotFound,*'
    }

    It 'completes profile names on Tab for both' {
        Use-NewHome | Out-Null
        New-TestProfile -Name contoso | Out-Null
        foreach ($line in 'Connect-PartnerCenter -SecureAppProfile con', 'New-PartnerAccessToken -Scopes x -SecureAppProfile con') {
            $completion = TabExpansion2 -inputScript $line -cursorColumn $line.Length
            $completion.CompletionMatches.CompletionText | Should -Contain 'contoso' -Because $line
        }
    }
}

Describe 'A certificate-credential profile' {
    BeforeAll {
        # Valid for 20 days: inside the 30 days in which Test-PartnerSecureAppProfile warns.
        $script:certificate = New-TestStoreCertificate -ValidDays 20
        (Invoke-EmulatorControl -Emulator $emu -Path "/_emulator/applications/$samAppId/certificates" -Body @{ certificatePem = $certificate.Pem }).thumbprint | Should -Be $certificate.Thumbprint
    }
    AfterAll { Remove-TestStoreCertificate -Thumbprint $certificate.Thumbprint }

    It 'consents, exchanges with a client assertion, and Test-PartnerSecureAppProfile shows the certificate''s expiry' {
        Use-NewHome | Out-Null
        Set-NextSignIn
        $created = New-PartnerSecureAppProfile -Name cert -ApplicationId $samAppId -CertificateThumbprint $certificate.Thumbprint -Tenant $tenantId -Environment Emulator -Default -WarningAction SilentlyContinue
        $created.CredentialKind | Should -Be 'Certificate'
        $created.CertificateThumbprint | Should -Be $certificate.Thumbprint
        $created.ApplicationSecretLocation | Should -BeNullOrEmpty -Because 'a certificate profile stores no application secret'

        $token = New-PartnerAccessToken -Scopes "$base/graph/.default" -WarningAction SilentlyContinue
        $claims = Get-JwtClaims $token.AccessToken
        $claims.oid | Should -Be $admin.id
        $claims.appidacr | Should -Be '2' -Because 'the exchange authenticated the application with its certificate'
        (Connect-PartnerCenter -WarningAction SilentlyContinue).Account.ObjectId | Should -Be $admin.id

        $health = Test-PartnerSecureAppProfile -Name cert -WarningVariable warnings -WarningAction SilentlyContinue
        $health.RefreshTokenStored | Should -BeTrue -Because ($health | Format-List * | Out-String)
        $health.ApplicationCredentialsProblem | Should -BeNullOrEmpty
        $inUse = $health.ApplicationCredentials | Where-Object { $_.Kind -eq 'Certificate' -and $_.ExpiresOn -and [Math]::Abs(($_.ExpiresOn.UtcDateTime - $certificate.NotAfter).TotalSeconds) -lt 1 }
        $inUse | Should -Not -BeNullOrEmpty -Because "Graph reports the certificate's end date: $($health.ApplicationCredentials | Out-String)"
        $inUse.DaysLeft | Should -BeIn 19, 20
        $health.Status | Should -Be 'Warning'
        $health.Advice | Should -Match 'certificate expires on .* \((19|20) days left\).*-CertificateThumbprint'
        ($warnings -join ' ') | Should -Match 'certificate expires'
    }
}

Describe 'A session connected through a profile stores every rotation' {
    It 'keeps the 90-day window sliding: after 120 days of use the store''s token still works in a new process' {
        # Its own emulator: the clock moves 120 days, which would age the other tests' tokens.
        $variant = Start-VariantEmulator -Name EmulatorClock -Change {}
        try {
            Use-NewHome | Out-Null
            Invoke-EmulatorControl -Emulator $variant -Path '/_emulator/sign-in/next' -Body @{ userId = $admin.id; mfa = $true; decline = $false } | Out-Null
            New-PartnerSecureAppProfile -Name clock -Credential $samCredential -Tenant $tenantId -Environment EmulatorClock -Default -WarningAction SilentlyContinue | Out-Null
            Connect-PartnerCenter -WarningAction SilentlyContinue | Should -Not -BeNullOrEmpty
            function Read-SignIns {
                # A Graph call of the session; once the emulator clock has passed the cached
                # token's expiry, Graph refuses it (401 invalid_token) and the session renews it.
                $now = [DateTime]::Parse((Invoke-EmulatorControl -Emulator $variant -Path '/_emulator/clock').now).ToUniversalTime()
                @(Get-PartnerUserSignInActivity -StartDate $now.AddHours(-1) -EndDate $now -ErrorAction Stop)
            }
            Read-SignIns | Out-Null
            $before = (Get-PartnerSecureAppProfile -Name clock).LastExchangeOn
            foreach ($step in 1, 2) {
                Invoke-EmulatorControl -Emulator $variant -Path '/_emulator/clock/advance' -Body @{ seconds = 60 * 86400 } | Out-Null
                Read-SignIns | Out-Null
            }
            (Get-PartnerSecureAppProfile -Name clock).LastExchangeOn | Should -BeGreaterThan $before -Because 'the session''s renewals are recorded in the profile'

            # 120 emulator days after the connection: a token the session rotated only in memory
            # would leave the store with one unused for 120 days (AADSTS700082, > 90 days idle).
            $prelude = "`$ErrorActionPreference = 'Stop'; `$env:PARTNERSECURITY_HOME = '$env:PARTNERSECURITY_HOME'; Import-Module '$modulePsd1'; " +
                "Add-PartnerEnvironment -Name EmulatorClock -ActiveDirectoryAuthority '$($variant.BaseUrl)' -GraphEndpoint '$($variant.BaseUrl)/graph' -PartnerCenterEndpoint '$($variant.BaseUrl)/partnercenter' -TrustedCertificatePath '$($variant.CertificatePath)' | Out-Null; "
            $output = pwsh -NoProfile -NonInteractive -Command ($prelude + "(Connect-PartnerCenter -WarningAction SilentlyContinue).Account.ObjectId") 2>&1 | Out-String
            $output.Trim() | Should -Be $admin.id -Because "a new process connects with the newest stored token: $output"

            $secrets = Get-EmulatorIssuedSecrets -Emulator $variant
            $files = @(Get-ChildItem -LiteralPath $env:PARTNERSECURITY_HOME -Recurse -File -Force)
            foreach ($secret in $secrets) {
                $output.Contains($secret) | Should -BeFalse
                foreach ($file in $files) { [IO.File]::ReadAllText($file.FullName).Contains($secret) | Should -BeFalse -Because "$($file.FullName) must not hold a token in clear" }
            }
        }
        finally {
            Disconnect-PartnerCenter -ErrorAction SilentlyContinue
            Stop-VariantEmulator -Name EmulatorClock -Variant $variant
        }
    }
}

Describe 'Rotation loses nothing' {
    It 'a process killed in the middle of exchanges leaves a working refresh token' {
        Use-NewHome | Out-Null
        New-TestProfile -Default | Out-Null
        $prelude = "`$env:PARTNERSECURITY_HOME = '$env:PARTNERSECURITY_HOME'; Import-Module '$modulePsd1'; " +
            "Add-PartnerEnvironment -Name Emulator -ActiveDirectoryAuthority '$base' -GraphEndpoint '$base/graph' -PartnerCenterEndpoint '$base/partnercenter' -KeyVaultEndpoint '$base/vault' -TrustedCertificatePath '$($emu.CertificatePath)' | Out-Null; "
        $loop = "while (`$true) { New-PartnerAccessToken -Scopes '$base/graph/.default' -WarningAction SilentlyContinue | Out-Null; Write-Output 'exchanged' }"
        $out = Join-Path $TestDrive 'loop.txt'
        $child = Start-Process pwsh -ArgumentList '-NoProfile', '-NonInteractive', '-Command', ($prelude + $loop) -RedirectStandardOutput $out -RedirectStandardError (Join-Path $TestDrive 'loop-errors.txt') -PassThru
        try {
            # Kill it after some exchanges went through (it is mid-cycle whenever it is killed).
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while (((Get-Content $out -ErrorAction SilentlyContinue) -match 'exchanged').Count -lt 3 -and [DateTime]::UtcNow -lt $deadline -and -not $child.HasExited) { Start-Sleep -Milliseconds 50 }
            $child.HasExited | Should -BeFalse -Because (Get-Content $out -Raw)
            # The whole tree: 'pwsh' may be a launcher (a dotnet tool) with the real process below it.
            $child.Kill($true)
            $child.WaitForExit()
        }
        finally { if (-not $child.HasExited) { $child.Kill($true) } }
        ((Get-Content $out) -match 'exchanged').Count | Should -BeGreaterOrEqual 3
        $health = Test-PartnerSecureAppProfile
        $health.RefreshTokenStored | Should -BeTrue -Because ($health | Format-List * | Out-String)
        (New-PartnerAccessToken -Scopes "$base/graph/.default" -WarningAction SilentlyContinue).AccessToken | Should -Not -BeNullOrEmpty
    }
}

Describe 'No token or secret leaks from profiles' {
    It 'no issued token, refresh token or secret appears in any stream, error, view or file, the store files included' {
        $home_ = Use-NewHome
        $loud = @{ Verbose = $true; Debug = $true; WarningAction = 'Continue' }
        $output = & {
            Set-NextSignIn
            New-PartnerSecureAppProfile -Name contoso -Credential $samCredential -Tenant $tenantId -Environment Emulator -Default @loud | Format-List * | Out-String
            Set-NextSignIn
            New-PartnerSecureAppProfile -Name contoso-kv -Credential $samCredential -Tenant $tenantId -Environment Emulator -SecretStore KeyVault -VaultName $vaultName @loud | Format-List * | Out-String
            Get-PartnerSecureAppProfile @loud | ConvertTo-Json -Depth 5
            Get-PartnerSecureAppProfile @loud | Format-Table | Out-String
            Test-PartnerSecureAppProfile @loud | Format-List * | Out-String
            Connect-PartnerCenter @loud | Format-List * | Out-String
            New-PartnerAccessToken -Scopes "$base/graph/.default" @loud | Select-Object -Property * -ExcludeProperty AccessToken, IdToken | Out-String
            Test-PartnerSecurityRequirement -Detailed @loud | Format-List * | Out-String
            Set-PartnerSecureAppProfile -Name contoso-kv -SecretStore File -PassThru @loud | Out-String
            Set-NextSignIn -UserId $sales.id -Mfa $false
            try { New-PartnerSecureAppProfile -Name nomfa -Credential $samCredential -Tenant $tenantId -Environment Emulator @loud } catch { $_ | Out-String; $_.Exception.ToString() }
            $env:PARTNERSECURITY_SECRET_PASSPHRASE = 'wrong'
            try { New-PartnerAccessToken -Scopes "$base/graph/.default" @loud } catch { $_ | Out-String; $_.Exception.ToString() }
            $env:PARTNERSECURITY_SECRET_PASSPHRASE = 'test passphrase, not a secret of the emulator'
            Remove-PartnerSecureAppProfile -Name contoso-kv -Confirm:$false @loud
        } *>&1 | Out-String

        $output | Should -Match "Connecting with the Secure Application Model profile 'contoso'" -Because 'the verbose stream was captured'
        $output | Should -Match 'We have launched a browser' -Because 'the warning stream was captured'
        $output | Should -Match 'MfaRequired|multi-factor' -Because 'the refusal was captured'
        $secrets = Get-EmulatorIssuedSecrets -Emulator $emu
        $secrets.Count | Should -BeGreaterThan 10
        foreach ($secret in $secrets) {
            $output.Contains($secret) | Should -BeFalse -Because 'no stream may carry a token or secret'
        }
        $pattern = [regex]::new((($secrets | Sort-Object Length -Descending | ForEach-Object { [regex]::Escape($_) }) -join '|'), 'CultureInvariant')
        $files = @(Get-ChildItem -LiteralPath $home_, $TestDrive -Recurse -File -Force)
        $files.FullName | Should -Contain (Join-Path $home_ 'profiles/contoso.json')
        @($files | Where-Object FullName -Like '*secrets*').Count | Should -BeGreaterThan 1 -Because 'the encrypted store files are scanned too'
        foreach ($file in $files) {
            $text = [Text.Encoding]::Latin1.GetString([IO.File]::ReadAllBytes($file.FullName))
            $pattern.IsMatch($text) | Should -BeFalse -Because "$($file.FullName) must not contain a token or secret in clear"
        }
    }
}
