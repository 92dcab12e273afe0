# The default table views (PartnerSecurity.format.ps1xml) through real pwsh, on objects the
# cmdlets wrote against the emulator (scenarios/compliance.json; sign-ins from the demo scenario,
# whose generated mix has failures and long guest names): in a console 120 columns wide, a
# Windows console's width, every column shows; in one 80 wide the first ones do; no header is
# wrapped into a column of letters and no line is wider than the console. The console host writes
# tables one column narrower than its buffer (119 and 79 here). Times read as UTC.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../TestHelpers.psm1') -Force
    Import-PartnerSecurityModule
    $repo = Split-Path -Parent (Split-Path -Parent $PSScriptRoot)
    $script:emu = Start-TestEmulator -Scenario (Join-Path $repo 'native/emulator/scenarios/compliance.json')
    Register-TestEnvironment -Emulator $emu | Out-Null

    $script:savedRendering = $PSStyle.OutputRendering
    $PSStyle.OutputRendering = 'PlainText'
    $script:savedVariables = @{}
    foreach ($name in 'PARTNERSECURITY_HOME', 'PARTNERSECURITY_PROFILE', 'PARTNERSECURITY_SECRET_PASSPHRASE') {
        $savedVariables[$name] = [Environment]::GetEnvironmentVariable($name)
    }
    $env:PARTNERSECURITY_HOME = Join-Path $TestDrive 'home'
    $env:PARTNERSECURITY_PROFILE = $null
    $env:PARTNERSECURITY_SECRET_PASSPHRASE = 'test passphrase, not a secret of the emulator'

    # Objects of every type with a table view, as the cmdlets write them.
    $script:written = @{}
    $written.PartnerContext = @(Connect-TestConsent -Emulator $emu -Name sam-admin-3)
    $written.PartnerEnvironment = @(Get-PartnerEnvironment)
    $written.SecurityFinding = @(Invoke-PartnerSecurityAssessment)
    $written.MfaCoverage = @(Get-PartnerMfaCoverage)
    Connect-TestConsent -Emulator $emu -Name sam-admin-5 | Out-Null
    $written.GdapRelationship = @(Get-PartnerGdapRelationship)
    $written.FraudEvent = @(Get-PartnerFraudEvent)
    # Last: importing the refresh token exchanges (rotates) it.
    $consent = Get-TestConsent -Emulator $emu -Name sam-admin-4
    $written.SecureAppProfile = @(New-PartnerSecureAppProfile -Name views-check -Credential $consent.Credential -RefreshToken $consent.RefreshToken `
            -Tenant $consent.TenantId -Environment Emulator -WarningAction SilentlyContinue)

    # Sign-ins from the demo scenario's generator, with its SAM app's consent.
    $demo = Start-TestEmulator
    try {
        Register-TestEnvironment -Emulator $demo -Name ViewsDemo | Out-Null
        Connect-TestConsent -Emulator $demo -Name sam-admin -Environment ViewsDemo | Out-Null
        $script:allSignIns = @(Get-PartnerUserSignInActivity -StartDate (Get-Date).AddDays(-7))
        $written.SignIn = @($allSignIns | Select-Object -First 8)
    } finally {
        Disconnect-PartnerCenter -ErrorAction SilentlyContinue | Out-Null
        Remove-PartnerEnvironment -Name ViewsDemo -ErrorAction SilentlyContinue
        Stop-TestEmulator -Emulator $demo
    }

    # The table as a console `Width` columns wide shows it: its lines (blank ones dropped), the
    # header's labels and the rule under them.
    function script:Show-Table($Objects, [int] $Width) {
        $lines = @(($Objects | Out-String -Width $Width) -split '\r?\n' | Where-Object { $_.Trim() })
        [pscustomobject]@{ Lines = $lines; Labels = @(-split $lines[0]); Rule = $lines[1] }
    }

    # The cells of a table's first row by label: each column runs from its rule's first dash to
    # the next column's (no view here right-aligns a column wider than its label).
    function script:Get-Cells($Table) {
        $starts = @([regex]::Matches($Table.Rule, '-+') | ForEach-Object Index)
        $line = $Table.Lines[2]
        $cells = @{}
        for ($k = 0; $k -lt $starts.Count; $k++) {
            $end = if ($k + 1 -lt $starts.Count) { $starts[$k + 1] } else { $line.Length }
            $end = [Math]::Min($end, $line.Length)
            $cells[$Table.Labels[$k]] = if ($starts[$k] -lt $end) { $line.Substring($starts[$k], $end - $starts[$k]).Trim() } else { '' }
        }
        $cells
    }
}

AfterAll {
    Disconnect-PartnerCenter -ErrorAction SilentlyContinue | Out-Null
    $PSStyle.OutputRendering = $savedRendering
    foreach ($name in $savedVariables.Keys) { [Environment]::SetEnvironmentVariable($name, $savedVariables[$name]) }
    Stop-TestEmulator -Emulator $emu
}

Describe 'Default table views fit a console' {
    It '<Type>: every column in 120 columns, <Narrow.Count> in 80, no header wrapped, no line too wide' -ForEach @(
        @{ Type = 'PartnerContext'; Wide = 'Account', 'Environment', 'TenantId', 'Type', 'Mfa'; Narrow = 'Account', 'Environment', 'TenantId' }
        @{ Type = 'PartnerEnvironment'; Wide = 'Name', 'BuiltIn', 'ActiveDirectoryAuthority', 'PartnerCenterEndpoint', 'GraphEndpoint'; Narrow = 'Name', 'BuiltIn', 'ActiveDirectoryAuthority', 'PartnerCenterEndpoint' }
        @{ Type = 'SignIn'; Wide = 'CreatedDateTime', 'UserPrincipalName', 'ErrorCode', 'Mfa', 'ClientAppUsed', 'AppDisplayName'; Narrow = 'CreatedDateTime', 'UserPrincipalName', 'ErrorCode', 'Mfa', 'ClientAppUsed' }
        @{ Type = 'SecurityFinding'; Wide = 'Status', 'Severity', 'Id', 'Subject'; Narrow = 'Status', 'Severity', 'Id', 'Subject' }
        @{ Type = 'MfaCoverage'; Wide = 'UserPrincipalName', 'Kind', 'Covered', 'Registered', 'CoveredBy'; Narrow = 'UserPrincipalName', 'Kind', 'Covered', 'Registered', 'CoveredBy' }
        @{ Type = 'GdapRelationship'; Wide = 'DisplayName', 'Customer', 'Status', 'EndDateTime', 'GlobalAdmin'; Narrow = 'DisplayName', 'Customer', 'Status', 'EndDateTime', 'GlobalAdmin' }
        @{ Type = 'FraudEvent'; Wide = 'Customer', 'EventStatus', 'FirstOccurrence', 'SubscriptionId', 'EventType'; Narrow = 'Customer', 'EventStatus', 'FirstOccurrence', 'SubscriptionId' }
        @{ Type = 'SecureAppProfile'; Wide = 'Name', 'Default', 'Tenant', 'SecretStore', 'LastExchangeOn', 'Mfa', 'Environment'; Narrow = 'Name', 'Default', 'Tenant', 'SecretStore' }
    ) {
        $objects = $written[$Type]
        $objects.Count | Should -BeGreaterThan 0 -Because "the scenario gives $Type objects to show"
        $objects[0].GetType().FullName | Should -Be "PartnerSecurity.Models.$Type"
        foreach ($case in @{ Width = 119; Labels = $Wide }, @{ Width = 79; Labels = $Narrow }) {
            $table = Show-Table $objects $case.Width
            $shown = $table.Lines -join "`n"
            # A header squeezed below its label's length wraps, one piece per line, above the rule.
            $table.Rule | Should -Match '^[- ]+$' -Because "the header is one line at $($case.Width) columns:`n$shown"
            $table.Labels | Should -Be $case.Labels -Because "at $($case.Width) columns:`n$shown"
            $table.Lines.Count | Should -Be ($objects.Count + 2) -Because "one line per object:`n$shown"
            foreach ($line in $table.Lines) { $line.Length | Should -BeLessOrEqual $case.Width -Because $line }
        }
    }

    It 'SignIn: <Kind> shows its time in UTC, who, its error code and whether MFA was used' -ForEach @(
        @{ Kind = 'a sign-in with MFA'; Pick = { $_.AuthenticationRequirement -eq 'multiFactorAuthentication' -and $_.Status.ErrorCode -eq 0 }; Mfa = 'True' }
        @{ Kind = 'a single-factor sign-in'; Pick = { $_.AuthenticationRequirement -eq 'singleFactorAuthentication' -and $_.Status.ErrorCode -eq 0 }; Mfa = 'False' }
        @{ Kind = 'a failed sign-in'; Pick = { $_.Status.ErrorCode -ne 0 }; Mfa = $null }
    ) {
        $signIn = $allSignIns | Where-Object $Pick | Select-Object -First 1
        $signIn | Should -Not -BeNullOrEmpty -Because "the scenario has $Kind"
        $cells = Get-Cells (Show-Table $signIn 119)
        $cells.CreatedDateTime | Should -Be $signIn.CreatedDateTime.UtcDateTime.ToString('yyyy-MM-dd HH:mm:ssZ')
        $upn = $cells.UserPrincipalName
        if ($upn.EndsWith([char]0x2026)) { $signIn.UserPrincipalName | Should -BeLike "$($upn.TrimEnd([char]0x2026))*" } else { $upn | Should -Be $signIn.UserPrincipalName }
        $cells.ErrorCode | Should -Be "$($signIn.Status.ErrorCode)"
        if ($Mfa) { $cells.Mfa | Should -Be $Mfa } else { $cells.Mfa | Should -BeIn 'True', 'False' }
        $cells.ClientAppUsed | Should -Not -BeNullOrEmpty
    }
}
