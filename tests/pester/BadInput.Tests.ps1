# The bad-input matrix through real pwsh, in one table: each row is a cmdlet, the parameters a
# careless or hostile caller passes, and what must come back: the ErrorId, the ErrorCategory,
# the parameter the message names and a fragment of what it says (or, for filter values that
# try to break out of their OData literal, nothing at all). After every row the session that
# was connected before is still current and still works: a token request and a sign-in query
# through the same native library succeed. The same matrix through the Rust API is
# native/core/tests/bad_input.rs.

BeforeDiscovery {
    # Rows: Case, Command, Parameters (a script block returning the splat, run in the test's
    # scope), then either ErrorId + Category + Parameter + Message, or Empty = $true, or Answer
    # (a script block given the output of a cmdlet that reports the problem instead of failing).
    # Prepare (optional) runs first and Cleanup (optional) after, whatever happened. Every
    # command runs with -ErrorAction Stop.
    $script:matrix = @(
        # --- Connect-PartnerCenter ---
        @{ Case = 'access token with two parts'; Command = 'Connect-PartnerCenter'; Parameters = { @{ AccessToken = 'abc.def'; Environment = 'Emulator' } }
           ErrorId = 'InvalidInput'; Category = 'InvalidArgument'; Parameter = 'AccessToken'; Message = '*not a valid JSON Web Token*' }
        @{ Case = 'access token whose payload is not JSON'; Command = 'Connect-PartnerCenter'; Parameters = { @{ AccessToken = (New-Jwt 'not json'); Environment = 'Emulator' } }
           ErrorId = 'InvalidInput'; Category = 'InvalidArgument'; Parameter = 'AccessToken'; Message = '*JSON Web Token*' }
        @{ Case = 'access token of 1 MB'; Command = 'Connect-PartnerCenter'; Parameters = { @{ AccessToken = (("A" * 1MB) + ".x.y"); Environment = 'Emulator' } }
           ErrorId = 'RequestTooLarge'; Category = 'InvalidArgument'; Parameter = "'AccessToken'"; Message = '*far longer than any valid token*' }
        @{ Case = 'expired access token'; Command = 'Connect-PartnerCenter'; Parameters = { @{ AccessToken = (New-Jwt ('{"exp":1000,"tid":"' + $tenantId + '"}')); Environment = 'Emulator' } }
           ErrorId = 'TokenExpired'; Category = 'AuthenticationError'; Parameter = 'access token'; Message = '*expired at 1970-01-01*' }
        @{ Case = 'empty access token'; Command = 'Connect-PartnerCenter'; Parameters = { @{ AccessToken = ''; Environment = 'Emulator' } }
           ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Parameter = 'AccessToken'; Message = '*null or empty*' }
        @{ Case = 'application id that is not a GUID'; Command = 'Connect-PartnerCenter'; Parameters = { @{ ApplicationId = 'not-a-guid'; RefreshToken = $refreshToken; Credential = $credential; Tenant = $tenantId; Environment = 'Emulator' } }
           ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Parameter = 'ApplicationId'; Message = "*'not-a-guid' is not an id: give a GUID*" }
        @{ Case = 'tenant that climbs out of the URL path'; Command = 'Connect-PartnerCenter'; Parameters = { @{ Credential = $credential; ServicePrincipal = $true; Tenant = '../common'; Environment = 'Emulator' } }
           ErrorId = 'InvalidInput'; Category = 'InvalidArgument'; Parameter = 'Tenant'; Message = '*neither a tenant id*' }
        @{ Case = 'tenant of 10,000 characters'; Command = 'Connect-PartnerCenter'; Parameters = { @{ Credential = $credential; ServicePrincipal = $true; Tenant = ('a' * 10000); Environment = 'Emulator' } }
           ErrorId = 'InvalidInput'; Category = 'InvalidArgument'; Parameter = 'Tenant'; Message = '*neither a tenant id*' }
        @{ Case = 'tenant that does not exist'; Command = 'Connect-PartnerCenter'; Parameters = { @{ ApplicationId = $reporter; Credential = $credential; RefreshToken = $refreshToken; Tenant = 'nosuchtenant.onmicrosoft.com'; Environment = 'Emulator' } }
           ErrorId = 'AADSTS90002'; Category = 'InvalidArgument'; Parameter = '-Tenant'; Message = '*not found*' }
        @{ Case = 'refresh token that is not one'; Command = 'Connect-PartnerCenter'; Parameters = { @{ ApplicationId = $reporter; Credential = $credential; RefreshToken = 'not-a-refresh-token'; Tenant = $tenantId; Environment = 'Emulator' } }
           ErrorId = 'AADSTS9002313'; Category = 'AuthenticationError'; Parameter = 'refresh token'; Message = '*Consent again*' }
        @{ Case = 'refresh token of 100 KB'; Command = 'Connect-PartnerCenter'; Parameters = { @{ ApplicationId = $reporter; Credential = $credential; RefreshToken = ('R' * 100KB); Tenant = $tenantId; Environment = 'Emulator' } }
           ErrorId = 'AADSTS9002313'; Category = 'AuthenticationError'; Parameter = 'refresh token'; Message = '*Consent again*' }
        @{ Case = 'wrong client secret'; Command = 'Connect-PartnerCenter'; Parameters = { @{ ApplicationId = $reporter; Credential = (New-Credential $reporter 'wrong-secret-value-0000'); RefreshToken = $refreshToken; Tenant = $tenantId; Environment = 'Emulator' } }
           ErrorId = 'AADSTS7000215'; Category = 'AuthenticationError'; Parameter = 'secret'; Message = '*Entra ID said*' }
        @{ Case = 'unknown environment'; Command = 'Connect-PartnerCenter'; Parameters = { @{ Credential = $credential; ServicePrincipal = $true; Tenant = $tenantId; Environment = 'NoSuchCloud' } }
           ErrorId = 'UnknownEnvironment'; Category = 'InvalidArgument'; Parameter = 'NoSuchCloud'; Message = '*Add-PartnerEnvironment*' }
        @{ Case = 'malformed certificate thumbprint'; Command = 'Connect-PartnerCenter'; Parameters = { @{ ApplicationId = $reporter; CertificateThumbprint = 'not-a-thumbprint'; ServicePrincipal = $true; Tenant = $tenantId; Environment = 'Emulator' } }
           ErrorId = 'InvalidCertificateThumbprint'; Category = 'InvalidArgument'; Parameter = 'CertificateThumbprint'; Message = '*' }
        @{ Case = 'certificate thumbprint not in any store'; Command = 'Connect-PartnerCenter'; Parameters = { @{ ApplicationId = $reporter; CertificateThumbprint = ('0F' * 20); ServicePrincipal = $true; Tenant = $tenantId; Environment = 'Emulator' } }
           ErrorId = 'CertificateNotFound'; Category = 'ObjectNotFound'; Parameter = 'CertificateThumbprint'; Message = '*CurrentUser*' }
        @{ Case = 'server certificate that does not match the trusted one'; Command = 'Connect-PartnerCenter'; Parameters = { @{ Credential = $credential; ServicePrincipal = $true; Tenant = $tenantId; Environment = 'WrongCertificate' } }
           ErrorId = 'NetworkError'; Category = 'ConnectionError'; Parameter = 'certificate'; Message = '*Could not reach*' }
        @{ Case = 'user name and password (ROPC)'; Command = 'Connect-PartnerCenter'; Parameters = { @{ Credential = (New-Credential 'admin@contoso-signins.onmicrosoft.com' 'a-password-1!'); Environment = 'Emulator' } }
           ErrorId = 'UserCredentialsNotSupported'; Category = 'AuthenticationError'; Parameter = 'password'; Message = '*Secure Application Model*' }
        # --- New-PartnerAccessToken ---
        @{ Case = 'scope with white space'; Command = 'New-PartnerAccessToken'; Parameters = { @{ ApplicationId = $reporter; Credential = $credential; RefreshToken = $refreshToken; Scopes = "$graph/.default openid"; Tenant = $tenantId; Environment = 'Emulator' } }
           ErrorId = 'InvalidInput'; Category = 'InvalidArgument'; Parameter = 'Scopes'; Message = '*white space*' }
        @{ Case = 'empty scope'; Command = 'New-PartnerAccessToken'; Parameters = { @{ ApplicationId = $reporter; Credential = $credential; RefreshToken = $refreshToken; Scopes = @(''); Tenant = $tenantId; Environment = 'Emulator' } }
           ErrorId = 'ParameterArgumentValidationErrorEmptyStringNotAllowed'; Category = 'InvalidData'; Parameter = 'Scopes'; Message = '*empty string*' }
        @{ Case = 'application sign-in with a delegated scope'; Command = 'New-PartnerAccessToken'; Parameters = { @{ ApplicationId = $reporter; Credential = $credential; ServicePrincipal = $true; Scopes = "$graph/User.Read"; Tenant = $tenantId; Environment = 'Emulator' } }
           ErrorId = 'InvalidInput'; Category = 'InvalidArgument'; Parameter = 'Scopes'; Message = '*/.default*' }
        @{ Case = 'scope of 100 KB'; Command = 'New-PartnerAccessToken'; Parameters = { @{ ApplicationId = $reporter; Credential = $credential; RefreshToken = $refreshToken; Scopes = ("$graph/" + ('x' * 100KB)); Tenant = $tenantId; Environment = 'Emulator' } }
           ErrorId = 'AADSTS70011'; Category = 'InvalidArgument'; Parameter = 'scope'; Message = '*Entra ID said*' }
        @{ Case = 'refresh token of 300 KB'; Command = 'New-PartnerAccessToken'; Parameters = { @{ ApplicationId = $reporter; Credential = $credential; RefreshToken = ('R' * 300KB); Scopes = "$graph/.default"; Tenant = $tenantId; Environment = 'Emulator' } }
           ErrorId = 'RequestTooLarge'; Category = 'InvalidArgument'; Parameter = "'RefreshToken'"; Message = '*far longer than any valid token*' }
        @{ Case = 'application sign-in to organizations'; Command = 'New-PartnerAccessToken'; Parameters = { @{ ApplicationId = $reporter; Credential = $credential; ServicePrincipal = $true; Scopes = "$graph/.default"; Tenant = 'organizations'; Environment = 'Emulator' } }
           ErrorId = 'InvalidInput'; Category = 'InvalidArgument'; Parameter = 'Tenant'; Message = '*specific tenant*' }
        @{ Case = 'access token with claims of the wrong type'; Command = 'New-PartnerAccessToken'; Parameters = { @{ AccessToken = (New-Jwt '{"exp":"tomorrow","tid":42}'); ApplicationId = $reporter; Scopes = "$graph/.default"; Environment = 'Emulator' } }
           ErrorId = 'InvalidInput'; Category = 'InvalidArgument'; Parameter = 'AccessToken'; Message = '*JSON Web Token*' }
        @{ Case = 'access token without an expiry'; Command = 'New-PartnerAccessToken'; Parameters = { @{ AccessToken = (New-Jwt ('{"tid":"' + $tenantId + '"}')); ApplicationId = $reporter; Scopes = "$graph/.default"; Environment = 'Emulator' } }
           ErrorId = 'InvalidInput'; Category = 'InvalidArgument'; Parameter = 'AccessToken'; Message = '*exp*' }
        @{ Case = 'unknown application'; Command = 'New-PartnerAccessToken'; Parameters = { @{ ApplicationId = '00000000-0000-4000-8000-0000000000aa'; Credential = (New-Credential '00000000-0000-4000-8000-0000000000aa' 'some-secret-value'); ServicePrincipal = $true; Scopes = "$graph/.default"; Tenant = $tenantId; Environment = 'Emulator' } }
           ErrorId = 'AADSTS700016'; Category = 'AuthenticationError'; Parameter = '-ApplicationId'; Message = '*not found*' }
        # --- environments ---
        @{ Case = 'environment name with a path'; Command = 'Add-PartnerEnvironment'; Parameters = { New-EnvironmentSplat @{ Name = '../etc' } }
           ErrorId = 'InvalidInput'; Category = 'InvalidArgument'; Parameter = 'Name'; Message = '*letters, digits*' }
        @{ Case = 'environment named like a built-in cloud'; Command = 'Add-PartnerEnvironment'; Parameters = { New-EnvironmentSplat @{ Name = 'AzureCloud' } }
           ErrorId = 'InvalidInput'; Category = 'InvalidArgument'; Parameter = 'Name'; Message = '*built-in*' }
        @{ Case = 'plain http authority that is not loopback'; Command = 'Add-PartnerEnvironment'; Parameters = { New-EnvironmentSplat @{ ActiveDirectoryAuthority = 'http://login.example.com' } }
           ErrorId = 'InvalidInput'; Category = 'InvalidArgument'; Parameter = 'ActiveDirectoryAuthority'; Message = '*plain http*' }
        @{ Case = 'plain http Graph endpoint on a private address'; Command = 'Add-PartnerEnvironment'; Parameters = { New-EnvironmentSplat @{ GraphEndpoint = 'http://10.0.0.1/graph' } }
           ErrorId = 'InvalidInput'; Category = 'InvalidArgument'; Parameter = 'GraphEndpoint'; Message = '*plain http*' }
        @{ Case = 'endpoint that is not a URL'; Command = 'Add-PartnerEnvironment'; Parameters = { New-EnvironmentSplat @{ GraphEndpoint = 'graph.microsoft.com' } }
           ErrorId = 'InvalidInput'; Category = 'InvalidArgument'; Parameter = 'GraphEndpoint'; Message = '*not an absolute URL*' }
        @{ Case = 'endpoint with a query string'; Command = 'Add-PartnerEnvironment'; Parameters = { New-EnvironmentSplat @{ PartnerCenterEndpoint = 'https://api.partnercenter.microsoft.com/?token=x' } }
           ErrorId = 'InvalidInput'; Category = 'InvalidArgument'; Parameter = 'PartnerCenterEndpoint'; Message = '*query*' }
        @{ Case = 'trusted certificate file that does not exist'; Command = 'Add-PartnerEnvironment'; Parameters = { New-EnvironmentSplat @{ TrustedCertificatePath = (Join-Path $TestDrive 'no-such.pem') } }
           ErrorId = 'TrustedCertificateNotFound'; Category = 'ObjectNotFound'; Parameter = 'TrustedCertificatePath'; Message = '*no-such.pem*' }
        @{ Case = 'trusted certificate file that is not PEM'; Command = 'Add-PartnerEnvironment'; Parameters = { New-EnvironmentSplat @{ TrustedCertificatePath = $notPem } }
           ErrorId = 'InvalidInput'; Category = 'InvalidArgument'; Parameter = 'TrustedCertificatePath'; Message = '*PEM*' }
        @{ Case = 'trusted certificate PEM with garbage inside'; Command = 'Add-PartnerEnvironment'; Parameters = { New-EnvironmentSplat @{ TrustedCertificatePath = $garbagePem } }
           ErrorId = 'InvalidInput'; Category = 'InvalidArgument'; Parameter = 'TrustedCertificatePath'; Message = '*could not be read*' }
        @{ Case = 'removing a built-in environment'; Command = 'Remove-PartnerEnvironment'; Parameters = { @{ Name = 'AzureCloud'; Confirm = $false } }
           ErrorId = 'InvalidInput'; Category = 'InvalidArgument'; Parameter = 'Name'; Message = '*cannot be removed*' }
        @{ Case = 'an environment that is not registered'; Command = 'Get-PartnerEnvironment'; Parameters = { @{ Name = 'NoSuchCloud' } }
           ErrorId = 'EnvironmentNotFound'; Category = 'ObjectNotFound'; Parameter = 'NoSuchCloud'; Message = '*Add-PartnerEnvironment*' }
        @{ Case = 'security check in an unknown environment'; Command = 'Test-PartnerSecurityRequirement'; Parameters = { @{ Environment = 'NoSuchCloud' } }
           ErrorId = 'UnknownEnvironment'; Category = 'InvalidArgument'; Parameter = 'NoSuchCloud'; Message = '*Add-PartnerEnvironment*' }
        # --- Get-PartnerUserSignInActivity ---
        @{ Case = 'quote that would end the UPN literal'; Command = 'Get-PartnerUserSignInActivity'; Parameters = { @{ UserPrincipalName = "$adminUpn' or userPrincipalName ne '" } }; Empty = $true }
        @{ Case = 'OData operators in a UPN'; Command = 'Get-PartnerUserSignInActivity'; Parameters = { @{ UserPrincipalName = "x') or (1 eq 1" } }; Empty = $true }
        @{ Case = 'query-string characters in a UPN'; Command = 'Get-PartnerUserSignInActivity'; Parameters = { @{ UserPrincipalName = 'a%27b&$top=1#' } }; Empty = $true }
        @{ Case = 'OData function call in a client app'; Command = 'Get-PartnerUserSignInActivity'; Parameters = { @{ ClientApp = "Browser') or startswith(userPrincipalName,'a" } }; Empty = $true }
        @{ Case = 'UPN with a control character'; Command = 'Get-PartnerUserSignInActivity'; Parameters = { @{ UserPrincipalName = "admin`0@x" } }
           ErrorId = 'InvalidInput'; Category = 'InvalidArgument'; Parameter = 'UserPrincipalName'; Message = '*control characters*' }
        @{ Case = 'UPN of 2,000 characters'; Command = 'Get-PartnerUserSignInActivity'; Parameters = { @{ UserPrincipalName = ('u' * 2000) } }
           ErrorId = 'InvalidInput'; Category = 'InvalidArgument'; Parameter = 'UserPrincipalName'; Message = '*1024*' }
        @{ Case = 'empty UPN'; Command = 'Get-PartnerUserSignInActivity'; Parameters = { @{ UserPrincipalName = ' ' } }
           ErrorId = 'InvalidInput'; Category = 'InvalidArgument'; Parameter = 'UserPrincipalName'; Message = '*empty*' }
        @{ Case = 'user id that is not a GUID'; Command = 'Get-PartnerUserSignInActivity'; Parameters = { @{ UserId = 'admin@contoso.com' } }
           ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Parameter = 'UserId'; Message = "*'admin@contoso.com' is not an id*8-4-4-4-12*" }
        @{ Case = 'user id with an OData operator'; Command = 'Get-PartnerUserSignInActivity'; Parameters = { @{ UserId = "3dd89389-b34c-4f5a-975d-516df5694d7e' or userId ne '" } }
           ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Parameter = 'UserId'; Message = '*is not an id*' }
        @{ Case = 'application id that is not a GUID'; Command = 'Get-PartnerUserSignInActivity'; Parameters = { @{ ApplicationId = 'Outlook' } }
           ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Parameter = 'ApplicationId'; Message = "*'Outlook' is not an id*" }
        @{ Case = 'end date before the start date'; Command = 'Get-PartnerUserSignInActivity'; Parameters = { @{ StartDate = (Get-Date); EndDate = (Get-Date).AddDays(-3) } }
           ErrorId = 'InvalidInput'; Category = 'InvalidArgument'; Parameter = 'EndDate'; Message = '*before -StartDate*' }
        @{ Case = 'start date in year 1'; Command = 'Get-PartnerUserSignInActivity'; Parameters = { @{ StartDate = [datetime]::MinValue } }
           ErrorId = 'InvalidInput'; Category = 'InvalidArgument'; Parameter = 'StartDate'; Message = '*plausible*' }
        @{ Case = 'end date in year 9999'; Command = 'Get-PartnerUserSignInActivity'; Parameters = { @{ EndDate = [datetime]::MaxValue } }
           ErrorId = 'InvalidInput'; Category = 'InvalidArgument'; Parameter = 'EndDate'; Message = '*plausible*' }
        @{ Case = 'event type on v1.0'; Command = 'Get-PartnerUserSignInActivity'; Parameters = { @{ NonInteractive = $true; ApiVersion = 'v1.0' } }
           ErrorId = 'InvalidInput'; Category = 'InvalidArgument'; Parameter = 'NonInteractive'; Message = '*beta*' }
        @{ Case = 'API version that does not exist'; Command = 'Get-PartnerUserSignInActivity'; Parameters = { @{ ApiVersion = 'v2' } }
           ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Parameter = 'ApiVersion'; Message = '*v2*' }
        @{ Case = 'property list in one value'; Command = 'Get-PartnerUserSignInActivity'; Parameters = { @{ Property = 'userId,id' } }
           ErrorId = 'InvalidInput'; Category = 'InvalidArgument'; Parameter = 'Property'; Message = '*sign-in property name*' }
        @{ Case = 'property with an OData operator'; Command = 'Get-PartnerUserSignInActivity'; Parameters = { @{ Property = "id eq '1'" } }
           ErrorId = 'InvalidInput'; Category = 'InvalidArgument'; Parameter = 'Property'; Message = '*sign-in property name*' }
        @{ Case = 'tenant that climbs out of the URL path'; Command = 'Get-PartnerUserSignInActivity'; Parameters = { @{ Tenant = '../../common' } }
           ErrorId = 'InvalidInput'; Category = 'InvalidArgument'; Parameter = 'Tenant'; Message = '*neither a tenant id*' }
        # --- Export-PartnerSignInActivity ---
        @{ Case = 'a nextLink that points at another host'; Command = 'Get-PartnerUserSignInActivity'; Parameters = { @{ StartDate = (Get-Date).AddDays(-6); Interactive = $true; NonInteractive = $true } }
           Prepare = { Invoke-EmulatorControl -Emulator $emu -Path '/_emulator/graph/settings' -Body @{ nextLinkBase = 'https://evil.example' } | Out-Null }
           Cleanup = { Invoke-EmulatorControl -Emulator $emu -Path '/_emulator/graph/settings' -Body @{ nextLinkBase = $null } | Out-Null }
           ErrorId = 'InvalidResponse'; Category = 'InvalidResult'; Parameter = 'nextLink'; Message = '*points at https://evil.example*only sent to the host the request went to*' }
        @{ Case = 'export into a folder that does not exist'; Command = 'Export-PartnerSignInActivity'; Parameters = { @{ Path = (Join-Path $TestDrive 'missing/out.jsonl') } }
           ErrorId = 'InvalidInput'; Category = 'InvalidArgument'; Parameter = 'Path'; Message = '*does not exist*' }
        @{ Case = 'export path that is a folder'; Command = 'Export-PartnerSignInActivity'; Parameters = { @{ Path = $TestDrive } }
           ErrorId = 'InvalidInput'; Category = 'InvalidArgument'; Parameter = 'Path'; Message = '*folder*' }
        @{ Case = 'export over a file without -Force'; Command = 'Export-PartnerSignInActivity'; Parameters = { @{ Path = $existingExport } }
           ErrorId = 'InvalidInput'; Category = 'InvalidArgument'; Parameter = 'Path'; Message = '*-Force*' }
        @{ Case = 'resume without a checkpoint'; Command = 'Export-PartnerSignInActivity'; Parameters = { @{ Path = $existingExport; Resume = $true } }
           ErrorId = 'InvalidInput'; Category = 'InvalidArgument'; Parameter = 'Path'; Message = '*no checkpoint*' }
        @{ Case = 'resume from a corrupt checkpoint'; Command = 'Export-PartnerSignInActivity'; Parameters = { @{ Path = $corruptExport; Resume = $true } }
           ErrorId = 'InvalidInput'; Category = 'InvalidArgument'; Parameter = 'Resume'; Message = '*cannot be read*' }
        # --- Secure Application Model profiles with a damaged secret-store entry (the encrypted
        # file cut to a third: a disk error, a bad copy); Prepare makes the profile the default ---
        @{ Case = 'refresh-token entry of the default profile corrupted'; Command = 'Connect-PartnerCenter'; Parameters = { @{ Environment = 'Emulator' } }
           Prepare = { Use-DamagedProfile $damagedToken }; Cleanup = { Restore-ProfileVariables }
           ErrorId = 'SecretFileCorrupt'; Category = 'InvalidArgument'; Parameter = "refresh token of the profile 'damaged'"; Message = "*damaged-refresh-token.pssecret' cannot be read: it is truncated*'Remove-PartnerSecureAppProfile -Name damaged', then 'New-PartnerSecureAppProfile -Name damaged'*" }
        @{ Case = 'refresh-token entry of the default profile corrupted'; Command = 'New-PartnerAccessToken'; Parameters = { @{ Scopes = "$graph/.default"; WarningAction = 'SilentlyContinue' } }
           Prepare = { Use-DamagedProfile $damagedToken }; Cleanup = { Restore-ProfileVariables }
           ErrorId = 'SecretFileCorrupt'; Category = 'InvalidArgument'; Parameter = "refresh token of the profile 'damaged'"; Message = "*damaged-refresh-token.pssecret*'New-PartnerSecureAppProfile -Name damaged'*" }
        @{ Case = 'refresh-token entry of the default profile corrupted'; Command = 'Test-PartnerSecurityRequirement'; Parameters = { @{ WarningAction = 'SilentlyContinue' } }
           Prepare = { Use-DamagedProfile $damagedToken }; Cleanup = { Restore-ProfileVariables }
           ErrorId = 'SecretFileCorrupt'; Category = 'InvalidArgument'; Parameter = "refresh token of the profile 'damaged'"; Message = "*damaged-refresh-token.pssecret*'New-PartnerSecureAppProfile -Name damaged'*" }
        @{ Case = 'health of a profile whose refresh-token entry is corrupted'; Command = 'Test-PartnerSecureAppProfile'; Parameters = { @{ Name = 'damaged'; WarningAction = 'SilentlyContinue' } }
           Prepare = { Use-DamagedProfile $damagedToken }; Cleanup = { Restore-ProfileVariables }
           Answer = {
               param($Output)
               $Output.Count | Should -Be 1
               $Output[0].Healthy | Should -BeFalse
               $Output[0].Advice | Should -BeLike "*damaged-refresh-token.pssecret' cannot be read*refresh token of the profile 'damaged'*'New-PartnerSecureAppProfile -Name damaged'*"
           } }
        @{ Case = 'application-secret entry of the default profile corrupted'; Command = 'Connect-PartnerCenter'; Parameters = { @{ Environment = 'Emulator' } }
           Prepare = { Use-DamagedProfile $damagedSecret }; Cleanup = { Restore-ProfileVariables }
           ErrorId = 'SecretFileCorrupt'; Category = 'InvalidArgument'; Parameter = "application secret of the profile 'damaged'"; Message = "*damaged-app-secret.pssecret' cannot be read*'Set-PartnerSecureAppProfile -Name damaged -Credential'*" }
        if ($IsLinux) {
            # /dev/full answers every write with ENOSPC. (A disk that fills part-way through an
            # export, and the resume after it: SignInActivity.Tests.ps1.)
            @{ Case = 'export onto a full disk (a link to /dev/full)'; Command = 'Export-PartnerSignInActivity'; Parameters = { @{ Path = $fullDisk; Format = 'Csv'; Force = $true } }
               ErrorId = 'StorageError'; Category = 'WriteError'; Parameter = "full.csv' failed"; Message = 'Writing the output *No space left on device*free space*' }
        }
        @{ Case = 'export format that does not exist'; Command = 'Export-PartnerSignInActivity'; Parameters = { @{ Path = (Join-Path $TestDrive 'x.xml'); Format = 'Xml' } }
           ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Parameter = 'Format'; Message = '*Xml*' }
        @{ Case = 'empty export path'; Command = 'Export-PartnerSignInActivity'; Parameters = { @{ Path = '' } }
           ErrorId = 'ParameterArgumentValidationError'; Category = 'InvalidData'; Parameter = 'Path'; Message = '*null or empty*' }
    )
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../TestHelpers.psm1') -Force
    Import-PartnerSecurityModule
    $repo = Split-Path -Parent (Split-Path -Parent $PSScriptRoot)
    $script:emu = Start-TestEmulator -Scenario (Join-Path $repo 'native/emulator/scenarios/signins.json')
    Register-TestEnvironment -Emulator $emu | Out-Null
    $partner = $emu.Scenario.tenants[0]
    $script:tenantId = $partner.id
    $script:reporter = $partner.applications[0].appId
    $script:refreshToken = $partner.consents[0].refreshToken
    $script:adminUpn = 'admin@contoso-signins.onmicrosoft.com'
    $script:graph = "$($emu.BaseUrl)/graph"

    function script:New-Credential([string] $User, [string] $Secret) {
        [pscredential]::new($User, (ConvertTo-SecureString $Secret -AsPlainText -Force))
    }
    $script:credential = New-Credential $reporter $partner.applications[0].secrets[0].value

    # A JWT-shaped text with this payload (unsigned: the module reads claims, services check signatures).
    function script:New-Jwt([string] $Payload) {
        $encode = { param($text) [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($text)).TrimEnd('=').Replace('+', '-').Replace('/', '_') }
        (& $encode '{"alg":"RS256","typ":"JWT"}') + '.' + (& $encode $Payload) + '.c2ln'
    }

    function script:New-EnvironmentSplat([hashtable] $Override) {
        $splat = @{ Name = 'Matrix'; ActiveDirectoryAuthority = 'https://login.example.com'; GraphEndpoint = 'https://graph.example.com'; PartnerCenterEndpoint = 'https://api.example.com' }
        foreach ($key in $Override.Keys) { $splat[$key] = $Override[$key] }
        $splat
    }

    # The emulator's endpoints, trusting a certificate that is not the one it presents.
    $script:notPem = Join-Path $TestDrive 'not.pem'
    Set-Content -LiteralPath $notPem -Value 'hello'
    $script:garbagePem = Join-Path $TestDrive 'garbage.pem'
    Set-Content -LiteralPath $garbagePem -Value "-----BEGIN CERTIFICATE-----`n!!!!`n-----END CERTIFICATE-----"
    $other = Start-TestEmulator -Scenario (Join-Path $repo 'native/emulator/scenarios/demo.json')
    $script:otherCertificate = Join-Path $TestDrive 'other-ca.pem'
    Copy-Item -LiteralPath $other.CertificatePath -Destination $otherCertificate
    Stop-TestEmulator -Emulator $other
    Add-PartnerEnvironment -Name WrongCertificate -ActiveDirectoryAuthority $emu.BaseUrl -GraphEndpoint $graph -PartnerCenterEndpoint "$($emu.BaseUrl)/partnercenter" -TrustedCertificatePath $otherCertificate | Out-Null

    $script:existingExport = Join-Path $TestDrive 'existing.jsonl'
    Set-Content -LiteralPath $existingExport -Value '{}'
    $script:corruptExport = Join-Path $TestDrive 'corrupt.jsonl'
    Set-Content -LiteralPath $corruptExport -Value '{}'
    Set-Content -LiteralPath "$corruptExport.checkpoint.json" -Value '{"version":1,"fingerprint":'
    $script:fullDisk = Join-Path $TestDrive 'full.csv'
    if ($IsLinux) { New-Item -ItemType SymbolicLink -Path $fullDisk -Target '/dev/full' | Out-Null }

    # Two PartnerSecurity homes, each with a default profile 'damaged' (the reporter's consent)
    # whose refresh token or application secret file is then cut to a third. The variables that
    # point at a home are set only while a row runs (Use-DamagedProfile, Restore-ProfileVariables).
    $script:profileVariables = @{}
    foreach ($name in 'PARTNERSECURITY_HOME', 'PARTNERSECURITY_PROFILE', 'PARTNERSECURITY_SECRET_PASSPHRASE') {
        $profileVariables[$name] = [Environment]::GetEnvironmentVariable($name)
    }
    function script:Restore-ProfileVariables {
        foreach ($name in $profileVariables.Keys) { [Environment]::SetEnvironmentVariable($name, $profileVariables[$name]) }
    }
    function script:Use-DamagedProfile([string] $PartnerSecurityHome) {
        $env:PARTNERSECURITY_HOME = $PartnerSecurityHome
        $env:PARTNERSECURITY_PROFILE = $null
        $env:PARTNERSECURITY_SECRET_PASSPHRASE = 'bad-input matrix passphrase'
    }
    function script:New-DamagedProfile([string] $Entry) {
        $home_ = Join-Path $TestDrive "sam-$Entry"
        Use-DamagedProfile $home_
        try {
            New-PartnerSecureAppProfile -Name damaged -Credential $credential -RefreshToken $refreshToken -Tenant $tenantId -Environment Emulator -Default -WarningAction SilentlyContinue | Out-Null
        } finally {
            Restore-ProfileVariables
        }
        $file = Join-Path $home_ "secrets/damaged-$Entry.pssecret"
        $bytes = [IO.File]::ReadAllBytes($file)
        [IO.File]::WriteAllBytes($file, $bytes[0..([int]($bytes.Length / 3))])
        $home_
    }
    $script:damagedToken = New-DamagedProfile 'refresh-token'
    $script:damagedSecret = New-DamagedProfile 'app-secret'

    Connect-PartnerCenter -ApplicationId $reporter -Credential $credential -RefreshToken $refreshToken -Tenant $tenantId -Environment Emulator | Out-Null
    $script:results = [Collections.Generic.List[string]]::new()
}

AfterAll {
    Restore-ProfileVariables
    Remove-PartnerEnvironment -Name WrongCertificate -Confirm:$false -ErrorAction SilentlyContinue
    Disconnect-PartnerCenter -ErrorAction SilentlyContinue
    Stop-TestEmulator -Emulator $emu
}

Describe 'Bad input gets a clear error naming it, and the session stays usable' {
    It 'the matrix has at least 50 cases' {
        $matrix.Count | Should -BeGreaterOrEqual 50
    }

    It '<Command>: <Case>' -ForEach $matrix {
        $splat = & $Parameters
        $splat.ErrorAction = 'Stop'
        $failure = $null
        if ($Prepare) { & $Prepare }
        try {
            $output = try { @(& $Command @splat) } catch { $failure = $_ }
        } finally {
            if ($Cleanup) { & $Cleanup }
        }
        if ($Empty) {
            $failure | Should -BeNullOrEmpty -Because 'a hostile value stays inside its literal; the query runs'
            $output.Count | Should -Be 0 -Because 'a hostile value must not widen the filter'
        } elseif ($Answer) {
            $failure | Should -BeNullOrEmpty -Because "$Command reports the problem in its answer"
            & $Answer $output
        } else {
            $failure | Should -Not -BeNullOrEmpty -Because "$Case must fail"
            $failure.FullyQualifiedErrorId | Should -BeLike "$ErrorId,*"
            $failure.CategoryInfo.Category | Should -Be $Category
            $failure.Exception.Message | Should -BeLike "*$Parameter*"
            $failure.Exception.Message | Should -BeLike $Message
            $failure.Exception.Message.Length | Should -BeLessThan 2000 -Because 'a huge input is not echoed whole'
        }

        # The session from before is current and works: a token request and a sign-in query.
        (Get-PartnerContext).Account.Tenant | Should -Be $tenantId
        $token = New-PartnerAccessToken -ApplicationId $reporter -Credential $credential -RefreshToken $refreshToken -Scopes "$graph/.default" -Tenant $tenantId -Environment Emulator
        $token.AccessToken | Should -Not -BeNullOrEmpty
        if ($Command -like '*SignIn*') {
            @(Get-PartnerUserSignInActivity -StartDate (Get-Date).AddHours(-20) -ErrorAction Stop).Count | Should -BeGreaterThan 0
        }
    }
}
