# The documented Secure Application Model scripts (tests/compat/*.ps1, reference §4) run
# unchanged against the emulator: only their placeholders are filled in, -Environment comes
# from $PSDefaultParameterValues (as a partner would point a script at another cloud), and the
# other modules' cmdlets are the stand-ins of tests/compat/StandIns.ps1, which check that each
# token they get is live and for the right audience and tenant.
#
# The emulator runs the demo scenario with the SAM application also consented to Azure
# Resource Manager, Azure AD Graph and Exchange Online, as the one-time setup script
# (Script C) grants them, and, for Script B, the partner with an active GDAP relationship
# (Exchange Administrator) with the demo customer, whose tenant holds the SAM application's
# service principal (what New-PartnerCustomerApplicationConsent creates). The copy is written
# to TestDrive; demo.json itself is unchanged.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../TestHelpers.psm1') -Force
    Import-PartnerSecurityModule
    $compat = Join-Path $PSScriptRoot '../compat'

    $demo = Get-Content -LiteralPath (Join-Path $PSScriptRoot '../../native/emulator/scenarios/demo.json') -Raw | ConvertFrom-Json -Depth 50
    $samApp = $demo.tenants[0].applications | Where-Object { $_.displayName -like '*Secure Application Model*' }
    $samApp.delegatedPermissions | Add-Member -NotePropertyName 'https://management.azure.com' -NotePropertyValue @('user_impersonation')
    $samApp.delegatedPermissions | Add-Member -NotePropertyName 'https://graph.windows.net' -NotePropertyValue @('Directory.AccessAsUser.All', 'Directory.Read.All')
    $samApp.delegatedPermissions | Add-Member -NotePropertyName 'https://outlook.office365.com' -NotePropertyValue @('Exchange.Manage')
    $customer = $demo.tenants[1]
    $customer | Add-Member -NotePropertyName servicePrincipals -NotePropertyValue @(@{
            appId = $samApp.appId
            delegatedPermissions = @{ 'https://graph.microsoft.com' = @('Directory.Read.All'); 'https://outlook.office365.com' = @('Exchange.Manage') }
        })
    $demo.tenants[0] | Add-Member -NotePropertyName delegatedAdminRelationships -NotePropertyValue @(@{
            id = '7d4c1e2a-0b3f-4c5d-9e6f-1a2b3c4d5e6f-0c9b8a7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d'
            displayName = 'Fabrikam Exchange administration'
            duration = 'P730D'; autoExtendDuration = 'P180D'; status = 'active'
            customer = @{ tenantId = $customer.id; displayName = $customer.displayName }
            # Exchange Administrator.
            accessDetails = @{ unifiedRoles = @(@{ roleDefinitionId = '29232cdf-9323-42fd-ade2-1d097af3e4de' }) }
            createdDateTime = '-30d'; activatedDateTime = '-30d'; lastModifiedDateTime = '-30d'; endDateTime = '+700d'
        })
    $script:customerId = $customer.id
    $scenarioPath = Join-Path $TestDrive 'compat-scenario.json'
    $demo | ConvertTo-Json -Depth 50 | Set-Content -LiteralPath $scenarioPath
    $script:emu = Start-TestEmulator -Scenario $scenarioPath
    Register-TestEnvironment -Emulator $emu | Out-Null

    $partner = $emu.Scenario.tenants[0]
    $script:tenantId = $partner.id
    $script:admin = $partner.users | Where-Object userPrincipalName -Like 'adminagent@*'
    $script:appId = $samApp.appId
    $script:CompatExpectedTenant = $tenantId
    $script:CompatAppCredential = [pscredential]::new($samApp.appId, (ConvertTo-SecureString $samApp.secrets[0].value -AsPlainText -Force))
    . (Join-Path $compat 'StandIns.ps1')

    $script:savedVariables = @{}
    foreach ($name in 'BROWSER', 'PARTNERSEC_TEST_CA', 'PARTNERSECURITY_HOME') { $savedVariables[$name] = [Environment]::GetEnvironmentVariable($name) }
    $env:BROWSER = (Resolve-Path (Join-Path $PSScriptRoot '../fixtures/browser')).ProviderPath
    $env:PARTNERSEC_TEST_CA = $emu.CertificatePath
    # An empty home: no default Secure Application Model profile takes part here.
    $env:PARTNERSECURITY_HOME = Join-Path $TestDrive 'home'

    $script:savedDefaults = $PSDefaultParameterValues.Clone()
    $PSDefaultParameterValues['Connect-PartnerCenter:Environment'] = 'Emulator'
    $PSDefaultParameterValues['New-PartnerAccessToken:Environment'] = 'Emulator'
    # The browser and device-code prompts are warnings; they are not what these tests check.
    $PSDefaultParameterValues['New-PartnerAccessToken:WarningAction'] = 'SilentlyContinue'

    function script:Get-CompatScript([string] $Name, [hashtable] $Values) {
        # The script's text with its placeholders filled in, as a script block (never written to disk).
        $text = Get-Content -LiteralPath (Join-Path $compat $Name) -Raw
        foreach ($placeholder in $Values.Keys) { $text = $text.Replace($placeholder, $Values[$placeholder]) }
        [scriptblock]::Create($text)
    }

    function script:Set-NextSignIn([string] $UserId = $admin.id) {
        Invoke-EmulatorControl -Emulator $emu -Path '/_emulator/sign-in/next' -Body @{ userId = $UserId; mfa = $true; decline = $false } | Out-Null
    }

    function script:Get-Aud([string] $Jwt) {
        $payload = $Jwt.Split('.')[1].Replace('-', '+').Replace('_', '/')
        $payload += '=' * ((4 - $payload.Length % 4) % 4)
        ([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($payload)) | ConvertFrom-Json).aud
    }

    $script:placeholders = @{ 'xxxx-xxxx-xxxx-xxxx' = $appId; 'yyyy-yyyy-yyyy-yyyy' = $tenantId }
}

AfterAll {
    Disconnect-PartnerCenter -ErrorAction SilentlyContinue
    foreach ($name in $savedVariables.Keys) { [Environment]::SetEnvironmentVariable($name, $savedVariables[$name]) }
    $PSDefaultParameterValues.Clear()
    foreach ($key in $savedDefaults.Keys) { $PSDefaultParameterValues[$key] = $savedDefaults[$key] }
    Stop-TestEmulator -Emulator $emu
}

Describe 'Script A (multi-factor-auth.md): consent, exchange, and tokens for other modules' {
    BeforeAll {
        Set-NextSignIn
        $script:consent = & (Get-CompatScript 'ScriptA-1-Consent.ps1' $placeholders)
    }

    It 'the consent returns the consenting user''s tokens with a refresh token and MFA' {
        $consent | Should -BeOfType 'PartnerSecurity.Models.AuthResult'
        $consent.Account.Username | Should -Be $admin.userPrincipalName
        $consent.RefreshToken | Should -Not -BeNullOrEmpty
        $consent.HasMfa | Should -BeTrue
        Get-Aud $consent.AccessToken | Should -Be 'https://api.partnercenter.microsoft.com'
    }

    It 'the exchange script runs unchanged: Partner Center, ARM (with the page''s double slash), AAD Graph and Graph tokens reach their modules' {
        $CompatCalls.Clear()
        $values = $placeholders + @{ '<refreshToken>' = $consent.RefreshToken }
        $output = @(& (Get-CompatScript 'ScriptA-2-Exchange.ps1' $values))
        # What the script writes: the exchange's token, then Connect-PartnerCenter's context.
        $output.Count | Should -Be 2
        $output[0] | Should -BeOfType 'PartnerSecurity.Models.AuthResult'
        Get-Aud $output[0].AccessToken | Should -Be 'https://api.partnercenter.microsoft.com'
        $output[1] | Should -BeOfType 'PartnerSecurity.Models.PartnerContext'
        $output[1].Account.ObjectId | Should -Be $admin.id
        $output[1].Account.Type | Should -Be 'User'
        $output[1].AuthenticationMethods | Should -Contain 'mfa'
        @($CompatCalls.Command) | Should -Be @('Connect-AzAccount', 'Connect-AzureAD', 'Connect-MsolService')
        # The page's '//' asks for the resource 'https://management.azure.com/', the audience Entra ID then issues.
        $CompatCalls[0].Audiences.AccessToken.TrimEnd('/') | Should -Be 'https://management.azure.com'
        $CompatCalls[0].Audiences.GraphAccessToken | Should -Be 'https://graph.windows.net'
        $CompatCalls[1].Audiences.MsAccessToken | Should -Be 'https://graph.microsoft.com'
    }

    It 'the Connect-MgGraph snippet (docs#150) runs unchanged' {
        $CompatCalls.Clear()
        & (Get-CompatScript 'ScriptA-3-MgGraph.ps1' ($placeholders + @{ '<refreshToken>' = $consent.RefreshToken }))
        $CompatCalls.Command | Should -Be 'Connect-MgGraph'
    }

    It 'a stand-in refuses a token for the wrong audience (the check can fail)' {
        $pcToken = New-PartnerAccessToken -ApplicationId $appId -Credential $CompatAppCredential -RefreshToken $consent.RefreshToken -Scopes 'https://api.partnercenter.microsoft.com/user_impersonation' -ServicePrincipal -Tenant $tenantId
        { Connect-MgGraph -AccessToken $pcToken.AccessToken } | Should -Throw '*expected https://graph.microsoft.com*'
    }
}

Describe 'Script C (community one-time setup): consent for Partner Center and ARM, device code for Exchange Online' {
    It 'runs unchanged and yields three refresh tokens whose exchanges reach Exchange Online and Azure' {
        $app = [pscustomobject]@{ AppId = $appId }
        $spn = [pscustomobject]@{ AppOwnerTenantID = $tenantId }
        $credential = Get-Credential
        Invoke-EmulatorControl -Emulator $emu -Path '/_emulator/device-codes/auto-approve' -Body @{ afterPolls = 1; userId = $admin.id; mfa = $true; decline = $false } | Out-Null
        Set-NextSignIn
        # The script runs in this scope (dot-sourced), as it does in the partner's console.
        . (Get-CompatScript 'ScriptC-OneTimeSetup.ps1' @{})
        foreach ($t in $RefreshToken, $ExchangeRefreshToken, $AzureRefreshToken) { $t | Should -Not -BeNullOrEmpty }
        Get-Aud $Exchangetoken.AccessToken | Should -Be 'https://outlook.office365.com'

        # What the tools built on this script then do with the saved tokens.
        $CompatCalls.Clear()
        $exo = New-PartnerAccessToken -ApplicationId 'a0c73c16-a7e3-4564-9a95-2bdf47383716' -RefreshToken $ExchangeRefreshToken -Scopes 'https://outlook.office365.com/.default' -Tenant $tenantId
        Connect-ExchangeOnline -AccessToken $exo.AccessToken -DelegatedOrganization $tenantId
        $arm = New-PartnerAccessToken -ApplicationId $appId -Credential $credential -RefreshToken $AzureRefreshToken -Scopes 'https://management.azure.com/user_impersonation' -ServicePrincipal -Tenant $tenantId
        $graph = New-PartnerAccessToken -ApplicationId $appId -Credential $credential -RefreshToken $RefreshToken -Scopes 'https://graph.windows.net/.default' -ServicePrincipal -Tenant $tenantId
        Connect-AzAccount -AccessToken $arm.AccessToken -GraphAccessToken $graph.AccessToken -TenantId $tenantId -AccountId $admin.userPrincipalName
        @($CompatCalls.Command) | Should -Be @('Connect-ExchangeOnline', 'Connect-AzAccount')
    }
}

Describe 'Script B (exchange-online-gdap-app.md): Exchange Online in a customer tenant through GDAP' {
    It 'runs unchanged: the partner''s refresh token, redeemed at the customer''s authority, reaches Exchange Online for that customer' {
        $AppId = $appId
        $AppSecret = $CompatAppCredential.GetNetworkCredential().Password
        $PartnerTenantid = $tenantId
        $CustomerTenantId = $customerId
        $appdisplayname = 'Contoso CSP Secure Application Model (demo)'
        $CompatCalls.Clear()
        Set-NextSignIn
        # Dot-sourced: the script runs in this scope, as in the partner's console.
        . (Get-CompatScript 'ScriptB-ExchangeOnlineGdap.ps1' @{})
        $PartnerCenter.Account.ObjectId | Should -Be $admin.id
        @($CompatCalls.Command) | Should -Be @('New-PartnerCustomerApplicationConsent', 'Connect-ExchangeOnline')
        $CompatCalls[0].Audiences.Partner | Should -Be $tenantId
        $exo = $CompatCalls[1].Audiences
        $exo.AccessToken | Should -Be 'https://outlook.office365.com'
        $exo.Tenant | Should -Be $customerId
        $exo.Identity | Should -Match $tenantId -Because 'the partner user acts in the customer tenant as a foreign principal'
        $script:scriptBConsent = $PartnerAccessToken
    }

    It 'the stand-in refuses a token of the partner''s own tenant for the customer (the check can fail)' {
        $own = New-PartnerAccessToken -ApplicationId $appId -Scopes 'https://outlook.office365.com/.default' -ServicePrincipal -Credential $CompatAppCredential -Tenant $tenantId -RefreshToken $scriptBConsent.RefreshToken
        { Connect-ExchangeOnline -DelegatedOrganization $customerId -AccessToken $own.AccessToken } | Should -Throw "*issued in tenant $tenantId, expected $customerId*"
    }
}

Describe 'The compatibility scripts leak nothing' {
    It 'no issued token or secret appears in the scripts'' files or in the session''s error records' {
        $secrets = Get-EmulatorIssuedSecrets -Emulator $emu
        $secrets.Count | Should -BeGreaterThan 5
        $errorsText = ($Error | ForEach-Object { $_ | Out-String; $_.Exception.ToString() }) -join "`n"
        # (TestDrive holds the emulator's scenario, which seeds secrets on purpose: not scanned.)
        $files = Get-ChildItem -LiteralPath (Join-Path $PSScriptRoot '../compat') -Recurse -File
        foreach ($secret in $secrets) {
            $errorsText.Contains($secret) | Should -BeFalse
            foreach ($file in $files) { (Get-Content -LiteralPath $file.FullName -Raw).Contains($secret) | Should -BeFalse -Because "$($file.Name) must not hold a token" }
        }
    }
}
