# Connect-PartnerCenter, Get-PartnerContext, Disconnect-PartnerCenter and New-PartnerAccessToken
# through real pwsh, against the emulator over TLS (its certificate trusted only for the
# environment that names it).

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../TestHelpers.psm1') -Force
    Import-PartnerSecurityModule
    $script:emu = Start-TestEmulator
    Register-TestEnvironment -Emulator $emu | Out-Null

    $partner = $emu.Scenario.tenants[0]
    $script:tenantId = $partner.id
    $script:tenantDomain = $partner.domains[0]
    $app = $partner.applications | Where-Object { $_.displayName -like '*Secure Application Model*' }
    $script:appId = $app.appId
    $script:appCredential = [pscredential]::new($app.appId, (ConvertTo-SecureString $app.secrets[0].value -AsPlainText -Force))
    $consent = @{}
    foreach ($c in $partner.consents) { $consent[$c.name] = $c }
    $script:consents = $consent
    $script:adminId = $consent['sam-admin'].userId

    function script:Connect-Sam {
        [CmdletBinding(SupportsShouldProcess)]
        param([string] $Consent = 'sam-admin', [string] $Tenant = $tenantId)
        Connect-PartnerCenter -ApplicationId $appId -Credential $appCredential -RefreshToken $consents[$Consent].refreshToken -Tenant $Tenant -Environment Emulator
    }
}

AfterAll {
    Disconnect-PartnerCenter -ErrorAction SilentlyContinue
    Stop-TestEmulator -Emulator $emu
}

Describe 'Connect-PartnerCenter -RefreshToken (Secure Application Model)' {
    It 'signs in as the consenting user and shows the partner profile' {
        $context = Connect-Sam
        $context | Should -BeOfType 'PartnerSecurity.Models.PartnerContext'
        $context.Account.Type | Should -Be 'User'
        $context.Account.Tenant | Should -Be $tenantId
        $context.Account.ObjectId | Should -Be $adminId
        $context.Account.Identifier | Should -Be "$adminId.$tenantId"
        $context.Account.UserPrincipalName | Should -Be 'adminagent@contoso-csp.onmicrosoft.com'
        $context.Environment.Name | Should -Be 'Emulator'
        $context.CountryCode | Should -Be 'US'
        $context.Locale | Should -Be 'en-US'
        $context.HasRefreshToken | Should -BeTrue
        $context.AuthenticationMethods | Should -Contain 'mfa'
        $context.ExtendedProperties['ApplicationId'] | Should -Be $appId
        $context.AccessTokenExpiresOn | Should -BeGreaterThan ([DateTimeOffset]::UtcNow.AddMinutes(30))
    }

    It 'is what Get-PartnerContext returns afterwards' {
        Connect-Sam | Out-Null
        $context = Get-PartnerContext
        $context.Account.ObjectId | Should -Be $adminId
        $context.Environment.PartnerCenterEndpoint | Should -Be "$($emu.BaseUrl)/partnercenter"
    }

    It 'takes the tenant as a verified domain, through the Domain and TenantId aliases' {
        (Connect-PartnerCenter -ApplicationId $appId -Credential $appCredential -RefreshToken $consents['sam-admin'].refreshToken -Domain $tenantDomain -Environment Emulator).Account.Tenant | Should -Be $tenantId
        (Connect-PartnerCenter -ApplicationId $appId -Credential $appCredential -RefreshToken $consents['sam-admin'].refreshToken -TenantId $tenantDomain -Environment Emulator).Account.Tenant | Should -Be $tenantId
    }

    It 'holds no token or secret in the context, its JSON, or its default view' {
        $context = Connect-Sam
        $secrets = Get-EmulatorIssuedSecrets -Emulator $emu
        $secrets.Count | Should -BeGreaterThan 3
        $rendered = @(
            $context | ConvertTo-Json -Depth 10
            $context | Format-List * | Out-String
            $context | Format-Table | Out-String
            "$context"
            Get-PartnerContext | ConvertTo-Json -Depth 10
        ) -join "`n"
        foreach ($secret in $secrets) { $rendered.Contains($secret) | Should -BeFalse -Because 'a context must never carry a token or secret' }
    }

    It 'warns, but connects, when the refresh token''s sign-in lacked MFA (Partner Center refuses the profile call)' {
        $context = Connect-Sam -Consent 'sam-sales-nomfa' -WarningVariable warnings -WarningAction SilentlyContinue
        $context.AuthenticationMethods | Should -Not -Contain 'mfa'
        $context.CountryCode | Should -BeNullOrEmpty
        ($warnings -join ' ') | Should -Match 'multi-factor'
    }

    It 'does nothing with -WhatIf' {
        Disconnect-PartnerCenter
        Connect-PartnerCenter -ApplicationId $appId -Credential $appCredential -RefreshToken $consents['sam-admin'].refreshToken -Tenant $tenantId -Environment Emulator -WhatIf | Should -BeNullOrEmpty
        Get-PartnerContext | Should -BeNullOrEmpty
    }
}

Describe 'Connect-PartnerCenter -AccessToken and -ServicePrincipal' {
    It 'connects with an access token from New-PartnerAccessToken' {
        $token = New-PartnerAccessToken -ApplicationId $appId -Credential $appCredential -RefreshToken $consents['sam-admin'].refreshToken -Scopes "$($emu.BaseUrl)/partnercenter/user_impersonation" -ServicePrincipal -Tenant $tenantId -Environment Emulator
        $token | Should -BeOfType 'PartnerSecurity.Models.AuthResult'
        $token.RefreshToken | Should -Not -BeNullOrEmpty
        $token.RefreshToken | Should -Not -Be $consents['sam-admin'].refreshToken -Because 'every exchange rotates the refresh token'
        $token.TenantId | Should -Be $tenantId
        $token.AuthenticationMethods | Should -Contain 'mfa'
        $token.Account.Username | Should -Be 'adminagent@contoso-csp.onmicrosoft.com'
        "$token" | Should -Not -BeLike "*$($token.AccessToken)*"
        ($token | Format-List | Out-String) | Should -Not -BeLike "*$($token.AccessToken)*"

        $context = Connect-PartnerCenter -AccessToken $token.AccessToken -Environment Emulator
        $context.Account.Type | Should -Be 'AccessToken'
        $context.Account.ObjectId | Should -Be $adminId
        $context.HasRefreshToken | Should -BeFalse
        $context.CountryCode | Should -Be 'US'
    }

    It 'connects as the application with -ServicePrincipal -Credential' {
        $context = Connect-PartnerCenter -Credential $appCredential -ServicePrincipal -Tenant $tenantId -Environment Emulator
        $context.Account.Type | Should -Be 'ServicePrincipal'
        $context.Account.Tenant | Should -Be $tenantId
        $context.Account.ApplicationId | Should -Be $appId
        $context.HasRefreshToken | Should -BeFalse
    }

    It 'the refreshed token from New-PartnerAccessToken works for the next exchange (rotation)' {
        $first = New-PartnerAccessToken -ApplicationId $appId -Credential $appCredential -RefreshToken $consents['sam-admin'].refreshToken -Scopes "$($emu.BaseUrl)/graph/.default" -Tenant $tenantId -Environment Emulator
        $second = New-PartnerAccessToken -ApplicationId $appId -Credential $appCredential -RefreshToken $first.RefreshToken -Scopes "$($emu.BaseUrl)/graph/.default" -Tenant $tenantId -Environment Emulator
        $second.RefreshToken | Should -Not -Be $first.RefreshToken
        $second.ExpiresOn | Should -BeGreaterThan ([DateTimeOffset]::UtcNow)
    }
}

Describe 'Failures give clear, specific errors' {
    It '<Case>' -ForEach @(
        @{ Case = 'a wrong client secret'; Code = 'AADSTS7000215'; Message = '*secret*'
           Run = { Connect-PartnerCenter -ApplicationId $appId -Credential ([pscredential]::new($appId, (ConvertTo-SecureString 'wrong-secret-value' -AsPlainText -Force))) -RefreshToken $consents['sam-admin'].refreshToken -Tenant $tenantId -Environment Emulator } }
        @{ Case = 'an unknown application'; Code = 'AADSTS700016'; Message = '*-ApplicationId*'
           Run = { Connect-PartnerCenter -ApplicationId ([guid]::NewGuid()) -RefreshToken $consents['sam-admin'].refreshToken -Tenant $tenantId -Environment Emulator } }
        @{ Case = 'a tenant that does not exist'; Code = 'AADSTS90002'; Message = '*-Tenant*'
           Run = { Connect-PartnerCenter -ApplicationId $appId -Credential $appCredential -RefreshToken $consents['sam-admin'].refreshToken -Tenant 'nosuchtenant.onmicrosoft.com' -Environment Emulator } }
        @{ Case = 'a refresh token unused for more than 90 days'; Code = 'AADSTS700082'; Message = '*90 days*'
           Run = { Connect-PartnerCenter -ApplicationId $appId -Credential $appCredential -RefreshToken $consents['sam-admin-stale'].refreshToken -Tenant $tenantId -Environment Emulator } }
        @{ Case = 'a refresh token that is not one'; Code = 'AADSTS9002313'; Message = '*Consent again*'
           Run = { Connect-PartnerCenter -ApplicationId $appId -Credential $appCredential -RefreshToken 'not-a-refresh-token' -Tenant $tenantId -Environment Emulator } }
        @{ Case = 'a confidential app without its secret'; Code = 'AADSTS7000218'; Message = '*-Credential*'
           Run = { Connect-PartnerCenter -ApplicationId $appId -RefreshToken $consents['sam-admin'].refreshToken -Tenant $tenantId -Environment Emulator } }
        @{ Case = 'an expired client secret'; Code = 'AADSTS7000222'; Message = '*expired*'
           Run = {
                $legacy = $emu.Scenario.tenants[0].applications | Where-Object { $_.displayName -like 'Legacy*' }
                Connect-PartnerCenter -Credential ([pscredential]::new($legacy.appId, (ConvertTo-SecureString $legacy.secrets[0].value -AsPlainText -Force))) -ServicePrincipal -Tenant $tenantId -Environment Emulator } }
        @{ Case = 'a malformed access token'; Code = 'InvalidInput'; Message = "*'AccessToken'*JSON Web Token*"
           Run = { Connect-PartnerCenter -AccessToken 'abc.def' -Environment Emulator } }
        @{ Case = 'an unknown environment'; Code = 'UnknownEnvironment'; Message = '*Add-PartnerEnvironment*'
           Run = { Connect-PartnerCenter -AccessToken 'a.b.c' -Environment NoSuchCloud } }
        @{ Case = 'a tenant that could rewrite the URL'; Code = 'InvalidInput'; Message = "*'Tenant'*"
           Run = { Connect-PartnerCenter -Credential $appCredential -ServicePrincipal -Tenant '../common' -Environment Emulator } }
    ) {
        $err = { & $Run } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike "$Code,PartnerSecurity.Commands.*"
        $err.Exception.Message | Should -BeLike $Message
    }

    It 'rejects an expired access token with the module''s expiry message' {
        $payload = [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes('{"exp":1000,"tid":"' + $tenantId + '"}')).TrimEnd('=').Replace('+', '-').Replace('/', '_')
        $err = { Connect-PartnerCenter -AccessToken "eyJhbGciOiJSUzI1NiJ9.$payload.sig" -Environment Emulator } | Should -Throw -PassThru
        $err.Exception.Message | Should -BeLike 'The access token expired at 1970-01-01*Generate a new one and try again*'
        $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
    }

    It 'rejects a revoked refresh token (password reset / revoke sessions)' {
        # Its own emulator: revoking the admin's sessions would break the other tests.
        $own = Start-TestEmulator
        try {
            Register-TestEnvironment -Emulator $own -Name Revoking | Out-Null
            $token = New-PartnerAccessToken -ApplicationId $appId -Credential $appCredential -RefreshToken $consents['sam-admin'].refreshToken -Scopes "$($own.BaseUrl)/partnercenter/user_impersonation" -Tenant $tenantId -Environment Revoking
            Invoke-EmulatorControl -Emulator $own -Path '/_emulator/refresh-tokens/revoke' -Body @{ userId = $adminId } | Out-Null
            $err = { Connect-PartnerCenter -ApplicationId $appId -Credential $appCredential -RefreshToken $token.RefreshToken -Tenant $tenantId -Environment Revoking } | Should -Throw -PassThru
            $err.FullyQualifiedErrorId | Should -BeLike 'AADSTS50173,*'
            $err.Exception.Message | Should -BeLike '*Consent again*'
        } finally {
            Remove-PartnerEnvironment -Name Revoking -Confirm:$false
            Stop-TestEmulator -Emulator $own
        }
    }

    It 'validates -ApplicationId as a GUID before anything is sent' {
        { Connect-PartnerCenter -ApplicationId 'not-a-guid' -RefreshToken 'x' -Environment Emulator } | Should -Throw -ErrorId 'ParameterArgumentValidationError,PartnerSecurity.Commands.ConnectPartnerCenter'
    }

    It 'refuses the emulator''s certificate when the environment does not trust it' {
        Add-PartnerEnvironment -Name Untrusted -ActiveDirectoryAuthority $emu.BaseUrl -GraphEndpoint "$($emu.BaseUrl)/graph" -PartnerCenterEndpoint "$($emu.BaseUrl)/partnercenter" | Out-Null
        try {
            $err = { Connect-PartnerCenter -Credential $appCredential -ServicePrincipal -Tenant $tenantId -Environment Untrusted } | Should -Throw -PassThru
            $err.CategoryInfo.Category | Should -Be 'ConnectionError'
            $err.Exception.Message | Should -Match 'certificate|UnknownIssuer'
        } finally {
            Remove-PartnerEnvironment -Name Untrusted -Confirm:$false
        }
    }

    It 'keeps the previous session when a new sign-in fails' {
        Connect-Sam | Out-Null
        { Connect-PartnerCenter -ApplicationId $appId -Credential $appCredential -RefreshToken 'not-a-refresh-token' -Tenant $tenantId -Environment Emulator } | Should -Throw
        (Get-PartnerContext).Account.ObjectId | Should -Be $adminId
    }

    It 'refuses a user name and password (ROPC) and points to the Secure Application Model' {
        $user = [pscredential]::new('adminagent@contoso-csp.onmicrosoft.com', (ConvertTo-SecureString 'demo-password-adminagent-1!' -AsPlainText -Force))
        $err = { Connect-PartnerCenter -Credential $user -Environment Emulator } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'UserCredentialsNotSupported,*'
        $err.Exception.Message | Should -BeLike '*multi-factor*Secure Application Model*-RefreshToken*'
        $err.Exception.Message | Should -Not -BeLike '*demo-password*'
    }
}

Describe 'Disconnect-PartnerCenter' {
    It 'ends the session; -WhatIf keeps it' {
        Connect-Sam | Out-Null
        Disconnect-PartnerCenter -WhatIf
        Get-PartnerContext | Should -Not -BeNullOrEmpty
        Disconnect-PartnerCenter | Should -BeNullOrEmpty
        Get-PartnerContext | Should -BeNullOrEmpty
        Disconnect-PartnerCenter -Verbose 4>&1 | Out-String | Should -Match 'no session'
    }
}

Describe 'Nothing secret reaches any stream' {
    It 'with -Verbose and -Debug, no issued token or secret appears in any output stream' {
        $output = & {
            Connect-Sam -Verbose -Debug
            Get-PartnerContext -Verbose -Debug
            New-PartnerAccessToken -ApplicationId $appId -Credential $appCredential -RefreshToken $consents['sam-admin'].refreshToken -Scopes "$($emu.BaseUrl)/graph/.default" -Tenant $tenantId -Environment Emulator -Verbose -Debug | Out-String
            try { Connect-PartnerCenter -ApplicationId $appId -Credential $appCredential -RefreshToken $consents['sam-admin-stale'].refreshToken -Tenant $tenantId -Environment Emulator -Verbose -Debug } catch { $_ | Out-String; $_.Exception.ToString() }
            Disconnect-PartnerCenter -Verbose -Debug
        } *>&1 | Out-String
        $secrets = Get-EmulatorIssuedSecrets -Emulator $emu
        foreach ($secret in $secrets) { $output.Contains($secret) | Should -BeFalse -Because 'no stream may carry a token or secret' }
        $output | Should -Match 'Signing in'
    }
}

Describe 'Register-PartnerTokenCache' {
    It 'keeps PartnerCenter-era scripts running and never writes a token cache file' {
        # The PartnerCenter module kept its control file and cache here.
        $cacheDir = Join-Path ([Environment]::GetFolderPath('UserProfile')) '.PartnerCenter'
        $existedBefore = Test-Path -LiteralPath $cacheDir
        Register-PartnerTokenCache -InMemory -Verbose 4>&1 | Out-String | Should -Match 'in memory'
        Register-PartnerTokenCache -Persistent -WarningVariable warnings -WarningAction SilentlyContinue | Should -BeNullOrEmpty
        ($warnings -join ' ') | Should -Match 'secret store'
        (Get-Command Register-PartnerTokenCache).DefaultParameterSet | Should -Be 'ByPersistent'
        Test-Path -LiteralPath $cacheDir | Should -Be $existedBefore
    }
}
