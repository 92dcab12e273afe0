# Command-surface compatibility with Microsoft's retired PartnerCenter module 3.0.10: every
# authentication cmdlet, parameter set, parameter (with its mandatory-ness and type), alias,
# default parameter set, SupportsShouldProcess and OutputType that the reference documents
# (shared/reference/partnercenter-module.md §1 and §8.1) is compared with what Get-Command says
# about the built module. Additions are allowed but must be listed in the test
# 'Deliberate additions to the PartnerCenter 3.0.10 surface', so none slips in by accident.
# No emulator and no network: nothing here signs in anywhere.

BeforeDiscovery {
    # ---------------------------------------------------------------------------------------
    # The reference's SYNTAX blocks, verbatim (partnercenter-module.md §1.1–§1.5). '### Name'
    # names the parameter set of the line after it; '(Default)' marks DefaultParameterSetName.
    # A cmdlet whose reference shows one unnamed syntax line has a single parameter set.
    # ---------------------------------------------------------------------------------------
    $script:ReferenceSyntax = [ordered]@{
        # §1.1, from the help SYNTAX of Connect-PartnerCenter.
        'Connect-PartnerCenter'           = @'
### User (Default)
Connect-PartnerCenter [-Environment <EnvironmentName>] [-Tenant <String>] [-UseDeviceAuthentication] [-WhatIf] [-Confirm] [<CommonParameters>]
### AccessToken
Connect-PartnerCenter -AccessToken <String> [-Environment <EnvironmentName>] [-Tenant <String>] [-WhatIf] [-Confirm] [<CommonParameters>]
### RefreshToken
Connect-PartnerCenter -ApplicationId <String> [-CertificateThumbprint <String>] [-Credential <PSCredential>] [-Environment <EnvironmentName>] -RefreshToken <String> [-Tenant <String>] [-WhatIf] [-Confirm] [<CommonParameters>]
### ServicePrincipalCertificate
Connect-PartnerCenter -ApplicationId <String> -CertificateThumbprint <String> [-Environment <EnvironmentName>] [-ServicePrincipal] -Tenant <String> [-WhatIf] [-Confirm] [<CommonParameters>]
### ServicePrincipal
Connect-PartnerCenter -Credential <PSCredential> [-Environment <EnvironmentName>] [-ServicePrincipal] -Tenant <String> [-WhatIf] [-Confirm] [<CommonParameters>]
'@
        # §1.2: "syntax is ..." (no parameters of its own).
        'Disconnect-PartnerCenter'        = @'
Disconnect-PartnerCenter [-WhatIf] [-Confirm] [<CommonParameters>]
'@
        # §1.3, from the help SYNTAX of New-PartnerAccessToken (no DefaultParameterSetName).
        'New-PartnerAccessToken'          = @'
### AccessToken
New-PartnerAccessToken -AccessToken <String> -ApplicationId <String> [-Credential <PSCredential>] [-Environment <EnvironmentName>] -Scopes <String[]> [-Tenant <String>] [<CommonParameters>]
### RefreshToken
New-PartnerAccessToken [-ApplicationId <String>] [-CertificateThumbprint <String>] [-Credential <PSCredential>] [-Environment <EnvironmentName>] [-Module <ModuleName>] -RefreshToken <String> -Scopes <String[]> [-ServicePrincipal] [-Tenant <String>] [<CommonParameters>]
### ServicePrincipal
New-PartnerAccessToken -ApplicationId <String> -Credential <PSCredential> [-Environment <EnvironmentName>] -Scopes <String[]> [-ServicePrincipal] -Tenant <String> [-UseAuthorizationCode] [<CommonParameters>]
### ServicePrincipalCertificate
New-PartnerAccessToken -ApplicationId <String> -CertificateThumbprint <String> [-Environment <EnvironmentName>] -Scopes <String[]> [-ServicePrincipal] -Tenant <String> [-UseAuthorizationCode] [<CommonParameters>]
### User
New-PartnerAccessToken -ApplicationId <String> [-Environment <EnvironmentName>] -Scopes <String[]> [-Tenant <String>] [-UseAuthorizationCode] [-UseDeviceAuthentication] [<CommonParameters>]
### ByModule
New-PartnerAccessToken [-Environment <EnvironmentName>] -Module <ModuleName> [-RefreshToken <String>] [-Tenant <String>] [-UseAuthorizationCode] [<CommonParameters>]
'@
        # §1.4 "Syntax:".
        'Test-PartnerSecurityRequirement' = @'
Test-PartnerSecurityRequirement [-Environment <EnvironmentName>] [-UseDeviceAuthentication] [<CommonParameters>]
'@
        # §1.5.
        'Get-PartnerContext'              = @'
Get-PartnerContext [<CommonParameters>]
'@
        'Get-PartnerEnvironment'          = @'
Get-PartnerEnvironment [[-Name] <String>]
'@
        # §1.5 gives no SYNTAX line for Register-PartnerTokenCache, only the prose "Parameter sets
        # `ByPersistent` (Default) `[-Persistent]` and `ByInMemory` `[-InMemory]`. Each switch is
        # Mandatory in its own set." These two lines are written from that sentence (mandatory,
        # so without brackets) — the only lines here that are not copied verbatim.
        'Register-PartnerTokenCache'      = @'
### ByPersistent (Default)
Register-PartnerTokenCache -Persistent [<CommonParameters>]
### ByInMemory
Register-PartnerTokenCache -InMemory [<CommonParameters>]
'@
    }

    # Where the reference's source disagrees with its help SYNTAX, follow the source. The help
    # shows [-ServicePrincipal] optional in the ServicePrincipal set of both cmdlets, but the
    # [Parameter] attributes make it Mandatory there: §1.3 says so for New-PartnerAccessToken
    # ("both the source and the help PARAMETERS section make it Mandatory there"), and §1.1's
    # parameter table for Connect-PartnerCenter lists "ServicePrincipal (M); ServicePrincipalCertificate (O)".
    $script:SourceOverrides = @{
        'New-PartnerAccessToken/ServicePrincipal/ServicePrincipal' = $true
        'Connect-PartnerCenter/ServicePrincipal/ServicePrincipal'  = $true
    }

    function ConvertFrom-ReferenceSyntax {
        # One object per parameter set: Cmdlet, Set, IsDefault, Parameters (Name, Mandatory,
        # Type — $null for a switch —, Position), CommonParameters (the line ends with it).
        param([string] $Cmdlet, [string] $Text)
        $set = $null; $isDefault = $false
        foreach ($line in ($Text -split "`r?`n" | Where-Object { $_.Trim() })) {
            if ($line -match '^###\s+(?<set>\w+)(?<default>\s+\(Default\))?\s*$') {
                $set = $Matches.set; $isDefault = [bool]$Matches.default
                continue
            }
            if (-not $line.StartsWith("$Cmdlet")) { throw "Reference line for $Cmdlet does not start with its name: $line" }
            $rest = $line.Substring($Cmdlet.Length)
            $pattern = '(?<pos>\[\[-(?<pn>\w+)\]\s*<(?<pt>[^>]+)>\])' +
                '|(?<common>\[<CommonParameters>\])' +
                '|(?<opt>\[-(?<on>\w+)(?:\s+<(?<ot>[^>]+)>)?\])' +
                '|(?<man>-(?<mn>\w+)(?:\s+<(?<mt>[^>]+)>)?)'
            $tokens = [regex]::Matches($rest, $pattern)
            # The tokenizer must account for every character of the line but spaces.
            $leftover = [regex]::Replace($rest, $pattern, '').Trim()
            if ($leftover) { throw "Could not parse '$leftover' in: $line" }
            $parameters = foreach ($t in $tokens) {
                if ($t.Groups['common'].Success) { continue }
                $name, $type, $mandatory, $position = if ($t.Groups['pos'].Success) { $t.Groups['pn'].Value, $t.Groups['pt'].Value, $false, 0 }
                elseif ($t.Groups['opt'].Success) { $t.Groups['on'].Value, $t.Groups['ot'].Value, $false, $null }
                else { $t.Groups['mn'].Value, $t.Groups['mt'].Value, $true, $null }
                $setName = if ($set) { $set } else { '__AllParameterSets' }
                if ($SourceOverrides.ContainsKey("$Cmdlet/$setName/$name")) { $mandatory = $SourceOverrides["$Cmdlet/$setName/$name"] }
                @{ Cmdlet = $Cmdlet; Set = $setName; Name = $name; Mandatory = $mandatory; Type = $(if ($type) { $type } else { $null }); Position = $position }
            }
            [pscustomobject]@{
                Cmdlet           = $Cmdlet
                Set              = $(if ($set) { $set } else { '__AllParameterSets' })
                IsDefault        = $isDefault
                Parameters       = @($parameters)
                CommonParameters = $line.Contains('[<CommonParameters>]')
                Line             = $line
            }
            $set = $null; $isDefault = $false
        }
    }

    $script:ReferenceSets = @(foreach ($cmdlet in $ReferenceSyntax.Keys) { ConvertFrom-ReferenceSyntax -Cmdlet $cmdlet -Text $ReferenceSyntax[$cmdlet] })
    $script:SetCases = @($ReferenceSets | ForEach-Object { @{ Cmdlet = $_.Cmdlet; Set = $_.Set; Reference = $_ } })
    $script:ParameterCases = @($ReferenceSets | ForEach-Object { $_.Parameters })
    $script:CmdletCases = @($ReferenceSyntax.Keys | ForEach-Object {
            $name = $_
            @{ Cmdlet = $name; Sets = @($ReferenceSets | Where-Object Cmdlet -EQ $name) }
        })

    # Aliases of §1 (parameter tables) and §8.1. Exact: a parameter not listed has no alias in the
    # reference (Connect-PartnerCenter's -Environment and -ApplicationId have none: "– (no alias here)").
    $script:AliasCases = @(
        @{ Cmdlet = 'Connect-PartnerCenter'; Parameter = 'Tenant'; Aliases = @('Domain', 'TenantId') }
        @{ Cmdlet = 'Connect-PartnerCenter'; Parameter = 'UseDeviceAuthentication'; Aliases = @('Device', 'DeviceAuth', 'DeviceCode') }
        @{ Cmdlet = 'Connect-PartnerCenter'; Parameter = 'Environment'; Aliases = @() }
        @{ Cmdlet = 'Connect-PartnerCenter'; Parameter = 'ApplicationId'; Aliases = @() }
        @{ Cmdlet = 'Connect-PartnerCenter'; Parameter = 'AccessToken'; Aliases = @() }
        @{ Cmdlet = 'Connect-PartnerCenter'; Parameter = 'CertificateThumbprint'; Aliases = @() }
        @{ Cmdlet = 'Connect-PartnerCenter'; Parameter = 'Credential'; Aliases = @() }
        @{ Cmdlet = 'Connect-PartnerCenter'; Parameter = 'RefreshToken'; Aliases = @() }
        @{ Cmdlet = 'Connect-PartnerCenter'; Parameter = 'ServicePrincipal'; Aliases = @() }
        @{ Cmdlet = 'New-PartnerAccessToken'; Parameter = 'ApplicationId'; Aliases = @('ClientId') }
        @{ Cmdlet = 'New-PartnerAccessToken'; Parameter = 'Environment'; Aliases = @('EnvironmentName') }
        @{ Cmdlet = 'New-PartnerAccessToken'; Parameter = 'Module'; Aliases = @('ModuleName') }
        @{ Cmdlet = 'New-PartnerAccessToken'; Parameter = 'Tenant'; Aliases = @('Domain', 'TenantId') }
        @{ Cmdlet = 'New-PartnerAccessToken'; Parameter = 'UseAuthorizationCode'; Aliases = @('AuthCode') }
        @{ Cmdlet = 'New-PartnerAccessToken'; Parameter = 'UseDeviceAuthentication'; Aliases = @('DeviceCode', 'DeviceAuth', 'Device') }
        @{ Cmdlet = 'New-PartnerAccessToken'; Parameter = 'AccessToken'; Aliases = @() }
        @{ Cmdlet = 'New-PartnerAccessToken'; Parameter = 'CertificateThumbprint'; Aliases = @() }
        @{ Cmdlet = 'New-PartnerAccessToken'; Parameter = 'Credential'; Aliases = @() }
        @{ Cmdlet = 'New-PartnerAccessToken'; Parameter = 'RefreshToken'; Aliases = @() }
        @{ Cmdlet = 'New-PartnerAccessToken'; Parameter = 'Scopes'; Aliases = @() }
        @{ Cmdlet = 'New-PartnerAccessToken'; Parameter = 'ServicePrincipal'; Aliases = @() }
        @{ Cmdlet = 'Test-PartnerSecurityRequirement'; Parameter = 'Environment'; Aliases = @('EnvironmentName') }
        @{ Cmdlet = 'Test-PartnerSecurityRequirement'; Parameter = 'UseDeviceAuthentication'; Aliases = @('DeviceCode', 'DeviceAuth', 'Device') }
        @{ Cmdlet = 'Get-PartnerEnvironment'; Parameter = 'Name'; Aliases = @() }
    )

    # The five cloud names of 3.0.x and the 1.5-era names (§1.6, §8.4), with the cloud each means.
    $script:EnvironmentNameCases = @(
        @{ Name = 'AzureCloud'; Canonical = 'AzureCloud'; Authority = 'https://login.microsoftonline.com/' }
        @{ Name = 'AzureChinaCloud'; Canonical = 'AzureChinaCloud'; Authority = 'https://login.chinacloudapi.cn/' }
        @{ Name = 'AzureGermanCloud'; Canonical = 'AzureGermanCloud'; Authority = 'https://login.microsoftonline.de/' }
        @{ Name = 'AzurePPE'; Canonical = 'AzurePPE'; Authority = 'https://login.windows-ppe.net/' }
        @{ Name = 'AzureUSGovernment'; Canonical = 'AzureUSGovernment'; Authority = 'https://login.microsoftonline.us/' }
        @{ Name = 'GlobalCloud'; Canonical = 'AzureCloud'; Authority = 'https://login.microsoftonline.com/' }
        @{ Name = 'ChinaCloud'; Canonical = 'AzureChinaCloud'; Authority = 'https://login.chinacloudapi.cn/' }
        @{ Name = 'GermanCloud'; Canonical = 'AzureGermanCloud'; Authority = 'https://login.microsoftonline.de/' }
        @{ Name = 'PPE'; Canonical = 'AzurePPE'; Authority = 'https://login.windows-ppe.net/' }
        @{ Name = 'USGovernment'; Canonical = 'AzureUSGovernment'; Authority = 'https://login.microsoftonline.us/' }
    )
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../TestHelpers.psm1') -Force
    Import-PartnerSecurityModule

    # Common parameters are not part of the comparison (they come with every cmdlet); WhatIf and
    # Confirm are, because the reference lists them on the SupportsShouldProcess cmdlets.
    $script:Common = [System.Management.Automation.Cmdlet]::CommonParameters

    function script:Get-OurSet([string] $Cmdlet, [string] $Set) {
        (Get-Command -Name $Cmdlet -Module PartnerSecurity -CommandType Cmdlet).ParameterSets | Where-Object Name -EQ $Set
    }

    function script:Get-CmdletAttribute([string] $Cmdlet) {
        $type = (Get-Command -Name $Cmdlet -Module PartnerSecurity -CommandType Cmdlet).ImplementingType
        $type.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false) | Select-Object -First 1
    }

    # A reference type name as our parameter type must spell it. Deliberate differences:
    # -Environment is a string (the EnvironmentName enum cannot name custom environments, such
    # as the emulator); -Module is a nullable ModuleName enum (unset outside its sets).
    function script:Test-TypeMatches([string] $ReferenceType, [type] $Actual, [string] $Parameter) {
        switch ($ReferenceType) {
            '' { return $Actual -eq [System.Management.Automation.SwitchParameter] }
            'EnvironmentName' { return $Actual -eq [string] }
            'ModuleName' {
                $inner = [Nullable]::GetUnderlyingType($Actual)
                $enum = if ($inner) { $inner } else { $Actual }
                return $enum.IsEnum -and $enum.Name -eq 'ModuleName'
            }
            'String' { return $Actual -eq [string] }
            'String[]' { return $Actual -eq [string[]] }
            'PSCredential' { return $Actual -eq [pscredential] }
            default { throw "No mapping for the reference type '$ReferenceType' of -$Parameter" }
        }
    }

    # The ParameterSets of a cmdlet that the reference has too (by name).
    $script:ReferenceSetsByCmdlet = @{}
    foreach ($s in $ReferenceSets) {
        if (-not $ReferenceSetsByCmdlet.ContainsKey($s.Cmdlet)) { $ReferenceSetsByCmdlet[$s.Cmdlet] = @() }
        $ReferenceSetsByCmdlet[$s.Cmdlet] += $s
    }
}

Describe 'The reference''s SYNTAX lines parse' {
    It 'yields 5 sets for Connect-PartnerCenter, 6 for New-PartnerAccessToken and 2 for Register-PartnerTokenCache' {
        @($ReferenceSets | Where-Object Cmdlet -EQ 'Connect-PartnerCenter').Count | Should -Be 5
        @($ReferenceSets | Where-Object Cmdlet -EQ 'New-PartnerAccessToken').Count | Should -Be 6
        @($ReferenceSets | Where-Object Cmdlet -EQ 'Register-PartnerTokenCache').Count | Should -Be 2
        @($ReferenceSets).Count | Should -Be 17
    }

    It 'reads mandatory, optional, positional and switch parameters' {
        $rt = $ReferenceSets | Where-Object { $_.Cmdlet -eq 'Connect-PartnerCenter' -and $_.Set -eq 'RefreshToken' }
        ($rt.Parameters | Where-Object Name -EQ 'ApplicationId').Mandatory | Should -BeTrue
        ($rt.Parameters | Where-Object Name -EQ 'Credential').Mandatory | Should -BeFalse
        ($rt.Parameters | Where-Object Name -EQ 'Credential').Type | Should -Be 'PSCredential'
        ($rt.Parameters | Where-Object Name -EQ 'WhatIf').Type | Should -BeNullOrEmpty
        $name = ($ReferenceSets | Where-Object Cmdlet -EQ 'Get-PartnerEnvironment').Parameters[0]
        $name.Name | Should -Be 'Name'
        $name.Position | Should -Be 0
        $name.Mandatory | Should -BeFalse
    }
}

Describe 'Cmdlet <Cmdlet>' -ForEach $CmdletCases {
    BeforeAll {
        $command = Get-Command -Name $Cmdlet -Module PartnerSecurity -CommandType Cmdlet -ErrorAction SilentlyContinue
    }

    It 'is exported by PartnerSecurity' {
        $command | Should -Not -BeNullOrEmpty
        $command.CommandType | Should -Be 'Cmdlet'
    }

    It 'has every parameter set of the reference' {
        $ours = @($command.ParameterSets.Name)
        foreach ($set in $Sets) {
            $ours | Should -Contain $set.Set -Because "the reference's '$($set.Line)' is a parameter set of $Cmdlet"
        }
    }

    It 'has the reference''s DefaultParameterSetName' {
        $expected = @($Sets | Where-Object IsDefault | ForEach-Object Set)
        $attribute = Get-CmdletAttribute $Cmdlet
        if ($expected.Count -eq 0) {
            # New-PartnerAccessToken declares none (§1.3), nor do the single-set cmdlets.
            $attribute.DefaultParameterSetName | Should -BeNullOrEmpty
        } else {
            $attribute.DefaultParameterSetName | Should -Be $expected[0]
            $command.DefaultParameterSet | Should -Be $expected[0]
        }
    }

    It 'takes the common parameters wherever the reference shows [<CommonParameters>]' {
        foreach ($set in $Sets | Where-Object CommonParameters) {
            $parameters = (Get-OurSet $Cmdlet $set.Set).Parameters.Name
            foreach ($common in 'Verbose', 'Debug', 'ErrorAction', 'WarningAction', 'InformationAction', 'ErrorVariable', 'OutVariable') {
                $parameters | Should -Contain $common
            }
        }
    }
}

Describe '<Cmdlet> parameter set <Set>' -ForEach $SetCases {
    BeforeAll {
        $ours = Get-OurSet $Cmdlet $Set
    }

    It 'exists' {
        $ours | Should -Not -BeNullOrEmpty -Because "the reference line is: $($Reference.Line)"
    }

    It 'has -<Name> (<Type>), mandatory: <Mandatory>' -ForEach $Reference.Parameters {
        $parameter = $ours.Parameters | Where-Object Name -EQ $Name
        $parameter | Should -Not -BeNullOrEmpty -Because "-$Name is in the reference's $Set set"
        $parameter.IsMandatory | Should -Be $Mandatory -Because "-$Name is $(if ($Mandatory) { 'mandatory' } else { 'optional' }) in the reference's $Set set"
        Test-TypeMatches -ReferenceType $Type -Actual $parameter.ParameterType -Parameter $Name |
            Should -BeTrue -Because "-$Name is <$(if ($Type) { $Type } else { 'switch' })> in the reference; ours is [$($parameter.ParameterType)]"
        if ($null -ne $Position) {
            $parameter.Position | Should -Be $Position
        }
    }
}

Describe 'Deliberate additions to the PartnerCenter 3.0.10 surface' {
    # Everything PartnerSecurity has beyond the reference, listed on purpose. A new cmdlet,
    # parameter set or parameter that is not here fails this test: add it here (and to the help)
    # when it is intended.
    BeforeAll {
        $script:ExpectedAdditions = @(
            # Custom environments (the emulator, private clouds).
            'cmdlet Add-PartnerEnvironment'
            'cmdlet Remove-PartnerEnvironment'
            # -Credential with a user's name and password, as 1.x-era scripts pass it: bound to its
            # own set so the refusal (UserCredentialsNotSupported) can explain itself.
            'set Connect-PartnerCenter/UserCredential'
            # The detailed result object (Result, Passed, AuthenticationMethods, Reason, ...).
            'parameter Test-PartnerSecurityRequirement/__AllParameterSets/-Detailed'
            # Sign-in activity (reference §2, no SYNTAX block here): its original parameters and
            # alias are checked in SignInActivity.Tests.ps1; the bulk export is new.
            'cmdlet Get-PartnerUserSignInActivity'
            'cmdlet Export-PartnerSignInActivity'
            # Partner security assessment (issue 6) and its building blocks.
            'cmdlet Invoke-PartnerSecurityAssessment'
            'cmdlet Get-PartnerMfaCoverage'
            'cmdlet Get-PartnerLegacyAuthSignIn'
            'cmdlet Get-PartnerGdapRelationship'
            'cmdlet Get-PartnerFraudEvent'
            # Secure Application Model profiles (SecureAppProfile.Tests.ps1), and -Scopes alone
            # on New-PartnerAccessToken: a token through the default profile.
            'cmdlet New-PartnerSecureAppProfile'
            'cmdlet Get-PartnerSecureAppProfile'
            'cmdlet Set-PartnerSecureAppProfile'
            'cmdlet Remove-PartnerSecureAppProfile'
            'cmdlet Test-PartnerSecureAppProfile'
            'set New-PartnerAccessToken/SecureAppProfile'
            # Connect-PartnerCenter -SecureAppProfile: a profile by name.
            'set Connect-PartnerCenter/SecureAppProfile'
        ) | Sort-Object
    }

    It 'lists every cmdlet, parameter set and parameter the reference does not have' {
        $actual = @(
            $exported = (Get-Module PartnerSecurity).ExportedCmdlets.Keys
            foreach ($name in $exported) {
                if (-not $ReferenceSetsByCmdlet.ContainsKey($name)) { "cmdlet $name"; continue }
                $command = Get-Command -Name $name -Module PartnerSecurity -CommandType Cmdlet
                foreach ($set in $command.ParameterSets) {
                    $reference = $ReferenceSetsByCmdlet[$name] | Where-Object Set -EQ $set.Name
                    if (-not $reference) { "set $name/$($set.Name)"; continue }
                    foreach ($p in $set.Parameters | Where-Object Name -NotIn $Common) {
                        if ($p.Name -notin $reference.Parameters.Name) { "parameter $name/$($set.Name)/-$($p.Name)" }
                    }
                }
            }
        ) | Sort-Object
        $actual | Should -Be $ExpectedAdditions
    }

    It 'keeps Connect-PartnerCenter''s UserCredential set to -Credential with the optional -Environment and -Tenant' {
        $set = Get-OurSet 'Connect-PartnerCenter' 'UserCredential'
        $parameters = $set.Parameters | Where-Object Name -NotIn $Common
        ($parameters | Where-Object IsMandatory).Name | Should -Be 'Credential'
        @($parameters.Name | Sort-Object) | Should -Be @('Confirm', 'Credential', 'Environment', 'Tenant', 'WhatIf')
    }

    It 'adds -Detailed to Test-PartnerSecurityRequirement as an optional switch' {
        $detailed = (Get-Command Test-PartnerSecurityRequirement).Parameters['Detailed']
        $detailed.ParameterType | Should -Be ([System.Management.Automation.SwitchParameter])
        $detailed.Attributes.Where({ $_ -is [System.Management.Automation.ParameterAttribute] }).Mandatory | Should -Not -Contain $true
    }
}

Describe 'Aliases (§1 and §8.1)' {
    It '<Cmdlet> -<Parameter> has exactly the aliases <Aliases>' -ForEach $AliasCases {
        $command = Get-Command -Name $Cmdlet -Module PartnerSecurity -CommandType Cmdlet
        $metadata = $command.Parameters[$Parameter]
        $metadata | Should -Not -BeNullOrEmpty
        @($metadata.Aliases | Sort-Object) | Should -Be @($Aliases | Sort-Object)
        foreach ($alias in $Aliases) {
            $command.ResolveParameter($alias).Name | Should -Be $Parameter -Because "-$alias must bind to -$Parameter"
        }
    }

    It 'binds Connect-PartnerCenter -DeviceCode/-Device/-DeviceAuth to the User set and -Domain/-TenantId to -Tenant' {
        # -WhatIf: parameter binding only, no sign-in.
        foreach ($alias in 'Device', 'DeviceAuth', 'DeviceCode') {
            $splat = @{ $alias = $true; Tenant = 'contoso.onmicrosoft.com'; WhatIf = $true }
            $out = Connect-PartnerCenter @splat -Verbose 4>&1 | Out-String
            $out | Should -Not -Match 'Signing in' -Because '-WhatIf signs nobody in'
        }
        { Connect-PartnerCenter -Domain 'contoso.onmicrosoft.com' -WhatIf } | Should -Not -Throw
        { Connect-PartnerCenter -TenantId 'contoso.onmicrosoft.com' -WhatIf } | Should -Not -Throw
    }
}

Describe 'Declarations (§1)' {
    It 'Connect-PartnerCenter and Disconnect-PartnerCenter support ShouldProcess' {
        (Get-CmdletAttribute 'Connect-PartnerCenter').SupportsShouldProcess | Should -BeTrue
        (Get-CmdletAttribute 'Disconnect-PartnerCenter').SupportsShouldProcess | Should -BeTrue
        (Get-Command Connect-PartnerCenter).Parameters.Keys | Should -Contain 'WhatIf'
        (Get-Command Disconnect-PartnerCenter).Parameters.Keys | Should -Contain 'Confirm'
    }

    It 'New-PartnerAccessToken and Test-PartnerSecurityRequirement do not (their reference declarations have no SupportsShouldProcess)' {
        (Get-CmdletAttribute 'New-PartnerAccessToken').SupportsShouldProcess | Should -BeFalse
        (Get-CmdletAttribute 'Test-PartnerSecurityRequirement').SupportsShouldProcess | Should -BeFalse
    }

    # Our types live in PartnerSecurity.Models; the reference's in Microsoft.Store.PartnerCenter.
    # PowerShell.Models.Authentication. Scripts use the properties, so the type names and the
    # properties §8.2 lists are compared.
    It '<Cmdlet> declares OutputType <TypeName>' -ForEach @(
        @{ Cmdlet = 'Connect-PartnerCenter'; TypeName = 'PartnerContext' }
        @{ Cmdlet = 'Get-PartnerContext'; TypeName = 'PartnerContext' }
        @{ Cmdlet = 'New-PartnerAccessToken'; TypeName = 'AuthResult' }
        # The reference declares none, and writes the string 'pass' or 'fail' (§1.4).
        @{ Cmdlet = 'Test-PartnerSecurityRequirement'; TypeName = 'String' }
        # PSPartnerEnvironment in the reference; ours has its properties (below) and EnvironmentName.
        @{ Cmdlet = 'Get-PartnerEnvironment'; TypeName = 'PartnerEnvironment' }
    ) {
        $types = (Get-Command $Cmdlet).OutputType | ForEach-Object { $_.Type }
        @($types.Name) | Should -Contain $TypeName
    }

    It 'Disconnect-PartnerCenter declares no output (the reference writes nothing)' {
        $types = (Get-Command Disconnect-PartnerCenter).OutputType | ForEach-Object { $_.Type }
        @($types | Where-Object { $_ -ne [void] }) | Should -BeNullOrEmpty
    }

    It '<TypeName> has the properties scripts use (§1.1, §1.3, §1.5, §8.2)' -ForEach @(
        @{ TypeName = 'PartnerSecurity.Models.PartnerContext'; Properties = @('Account', 'CountryCode', 'Environment', 'ExtendedProperties', 'Locale') }
        @{ TypeName = 'PartnerSecurity.Models.PartnerAccount'; Properties = @('ExtendedProperties', 'Identifier', 'ObjectId', 'Tenant', 'Type') }
        @{ TypeName = 'PartnerSecurity.Models.PartnerEnvironment'; Properties = @('ActiveDirectoryAuthority', 'AzureAdGraphEndpoint', 'AzureEndpoint', 'GraphEndpoint', 'EnvironmentName', 'Name', 'PartnerCenterEndpoint') }
        @{ TypeName = 'PartnerSecurity.Models.AuthResult'; Properties = @('AccessToken', 'IsExtendedLifeTimeToken', 'UniqueId', 'ExpiresOn', 'ExtendedExpiresOn', 'TenantId', 'Account', 'IdToken', 'Scopes', 'CorrelationId', 'RefreshToken') }
    ) {
        $type = (Get-Module PartnerSecurity).ImplementingAssembly.GetType($TypeName, $true)
        $names = $type.GetProperties().Name
        foreach ($p in $Properties) { $names | Should -Contain $p }
    }

    It 'AccountType has the reference''s values' {
        $type = (Get-Module PartnerSecurity).ImplementingAssembly.GetType('PartnerSecurity.Models.AccountType', $true)
        [enum]::GetNames($type) | Should -Be @('AccessToken', 'Certificate', 'ManagedService', 'ServicePrincipal', 'User')
    }

    It 'ModuleName knows ExchangeOnline, and -Module validates it' {
        $module = (Get-Command New-PartnerAccessToken).Parameters['Module']
        $enum = [Nullable]::GetUnderlyingType($module.ParameterType)
        [enum]::GetNames($enum) | Should -Be @('ExchangeOnline')
        { New-PartnerAccessToken -Module 'NoSuchModule' } | Should -Throw -ExceptionType ([System.Management.Automation.ParameterBindingException])
    }
}

Describe '-Environment is a string on purpose, and takes every name the enum had' {
    # The reference's -Environment is the EnvironmentName enum (AzureCloud, AzureChinaCloud,
    # AzureGermanCloud, AzurePPE, AzureUSGovernment). Ours is a string so that custom
    # environments (Add-PartnerEnvironment) fit; it must still take those five names and the
    # PartnerCenter 1.5 names. An unknown name fails when the cmdlet runs (UnknownEnvironment).
    It '<Cmdlet> -Environment is [string]' -ForEach @(
        @{ Cmdlet = 'Connect-PartnerCenter' }
        @{ Cmdlet = 'New-PartnerAccessToken' }
        @{ Cmdlet = 'Test-PartnerSecurityRequirement' }
    ) {
        (Get-Command $Cmdlet).Parameters['Environment'].ParameterType | Should -Be ([string])
    }

    It 'resolves <Name> to <Canonical>' -ForEach $EnvironmentNameCases {
        $environment = Get-PartnerEnvironment -Name $Name
        $environment.Name | Should -Be $Canonical
        $environment.ActiveDirectoryAuthority | Should -Be $Authority
    }

    It 'Connect-PartnerCenter and New-PartnerAccessToken (also as -EnvironmentName) accept <Name>' -ForEach $EnvironmentNameCases {
        # A malformed access token: the environment is resolved first, so an accepted name gets
        # to the token check (InvalidInput) and nothing is sent anywhere.
        $err = { Connect-PartnerCenter -AccessToken 'a.b.c' -Environment $Name } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'InvalidInput,*'
        $err.Exception.Message | Should -BeLike "*'AccessToken'*"
        $err = { New-PartnerAccessToken -AccessToken 'a.b.c' -ApplicationId 'app' -Scopes 'x' -EnvironmentName $Name } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'InvalidInput,*'
        $err = { New-PartnerAccessToken -AccessToken 'a.b.c' -ApplicationId 'app' -Scopes 'x' -Environment $Name } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'InvalidInput,*'
    }

    It 'rejects a name that is no environment, when the cmdlet runs' {
        $err = { Connect-PartnerCenter -AccessToken 'a.b.c' -Environment 'NoSuchCloud' } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'UnknownEnvironment,*'
        $err = { Test-PartnerSecurityRequirement -EnvironmentName 'NoSuchCloud' } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'UnknownEnvironment,*'
    }

    It 'Test-PartnerSecurityRequirement signs in at <Authority> for -Environment <Name>' -ForEach $EnvironmentNameCases {
        # The browser sign-in only binds the loopback listener and opens the URL, so with a
        # BROWSER that records the URL (and opens nothing) the authority can be checked offline;
        # the sign-in is then stopped, as Ctrl+C would.
        $log = Join-Path $TestDrive "browser-$Name.log"
        $browser = Join-Path $TestDrive 'record-url'
        Set-Content -LiteralPath $browser -Value "#!/bin/sh`nprintf '%s\n' `"`$1`" >> `"`$PARTNERSEC_COMPAT_URL_LOG`"`n"
        if (-not $IsWindows) { chmod +x $browser }
        $saved = $env:BROWSER, $env:PARTNERSEC_COMPAT_URL_LOG
        $env:BROWSER = $browser
        $env:PARTNERSEC_COMPAT_URL_LOG = $log
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript({
                    param($ModulePath, $Environment)
                    Import-Module $ModulePath
                    Test-PartnerSecurityRequirement -Environment $Environment -WarningAction SilentlyContinue
                }).AddArgument((Join-Path (Get-Module PartnerSecurity).ModuleBase 'PartnerSecurity.psd1')).AddArgument($Name)
            $handle = $ps.BeginInvoke()
            $deadline = [DateTime]::UtcNow.AddSeconds(20)
            while (-not (Test-Path -LiteralPath $log) -and [DateTime]::UtcNow -lt $deadline -and -not $handle.IsCompleted) { Start-Sleep -Milliseconds 100 }
            $ps.Stop()
            $ps.Streams.Error | Should -BeNullOrEmpty
            $log | Should -Exist
            $url = [uri](Get-Content -LiteralPath $log -TotalCount 1)
            "$($url.Scheme)://$($url.Authority)/" | Should -Be $Authority
            $url.AbsolutePath | Should -Be '/organizations/oauth2/v2.0/authorize'
        } finally {
            $ps.Dispose()
            $env:BROWSER, $env:PARTNERSEC_COMPAT_URL_LOG = $saved
        }
    }
}
