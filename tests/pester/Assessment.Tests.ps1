# Invoke-PartnerSecurityAssessment and its building blocks through real pwsh against the emulator
# (scenarios/compliance.json over TLS, five partner tenants):
#   - the exact findings (Id, Status, Subject) every check produces for each tenant;
#   - every permission and licence error becomes an Error finding that says what to grant or
#     license, never a pass (an app that may only read users; tenants without P1 / P2; an
#     app-only session on Partner Center's App+User reports);
#   - -Check with tab completion, the default table view, progress (one record per check),
#     -OutputPath (HTML + JSON + CSV), -FailOn for CI, no secret in findings or reports;
#   - the session's own token (a federated user's amr [fed] fails FederatedMfa) and its SAM
#     profile (SecureApplicationModel reports the profile's refresh-token health);
#   - Get-PartnerMfaCoverage, Get-PartnerLegacyAuthSignIn, Get-PartnerGdapRelationship,
#     Get-PartnerFraudEvent.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../TestHelpers.psm1') -Force
    Import-PartnerSecurityModule
    $repo = Split-Path -Parent (Split-Path -Parent $PSScriptRoot)
    $script:emu = Start-TestEmulator -Scenario (Join-Path $repo 'native/emulator/scenarios/compliance.json')
    Register-TestEnvironment -Emulator $emu | Out-Null

    function script:TenantId([int] $N) { "$("$N" * 8)-0000-4000-8000-00000000000$N" }

    # The tenant's SAM app with the refresh token of an admin's MFA consent (App+User).
    function script:Connect-Tenant([int] $N) { Connect-TestConsent -Emulator $emu -Name "sam-admin-$N" | Out-Null }

    # The tenant's "limited reader" app (User.Read.All only), signed in as itself (app-only).
    function script:Connect-LimitedApp([int] $N) {
        $app = "5c${N}00000-0000-4000-8000-00000000000$N"
        $credential = [pscredential]::new($app, (ConvertTo-SecureString "compliance-limited-secret-$N-NOT-A-REAL-SECRET" -AsPlainText -Force))
        Connect-PartnerCenter -ServicePrincipal -Credential $credential -Tenant (TenantId $N) -Environment Emulator | Out-Null
    }

    function script:Rows($Findings) { @($Findings | ForEach-Object { "$($_.Id) | $($_.Status) | $($_.Subject)" }) }
}

AfterAll {
    Disconnect-PartnerCenter -ErrorAction SilentlyContinue | Out-Null
    Stop-TestEmulator -Emulator $emu
}

Describe 'Invoke-PartnerSecurityAssessment: the exact findings of five partner tenants' {
    BeforeDiscovery {
        $t = { param($n) "$("$n" * 8)-0000-4000-8000-00000000000$n" }
        $script:Tenants = @(
            @{ N = 1; Name = 'fully compliant'; Expected = @(
                    'MfaCoverage.Covered | Pass | admin@northwind-csp.onmicrosoft.com'
                    'MfaCoverage.Covered | Pass | agent@northwind-csp.onmicrosoft.com'
                    'MfaCoverage.Covered | Pass | auditor_fabrikam.example#EXT#@northwind-csp.onmicrosoft.com'
                    'MfaCoverage.BreakGlassAccount | Pass | breakglass01@northwind-csp.onmicrosoft.com'
                    "SignInEvidence.NoSingleFactorSignIns | Pass | $(& $t 1)"
                    "MfaConfiguration.Consistent | Pass | $(& $t 1)"
                    'LegacyAuthentication.BlockedByConditionalAccess | Pass | Block legacy authentication'
                    'SecureApplicationModel.TokenHasMfa | Pass | admin@northwind-csp.onmicrosoft.com'
                    'SecureApplicationModel.RefreshToken | Pass | admin@northwind-csp.onmicrosoft.com'
                    "SecureApplicationModel.NoNonMfaPrincipals | Pass | $(& $t 1)"
                    'SecureApplicationModel.AppMfaAdoption | Pass | Partner Security Assessment (SAM)'
                    "AdminAgents.P2Licence | Pass | $(& $t 1)"
                    'AdminAgents.EligiblePrivilegedRole | Pass | admin@northwind-csp.onmicrosoft.com (Global Administrator)'
                    'AdminAgents.EligiblePrivilegedRole | Pass | agent@northwind-csp.onmicrosoft.com (Helpdesk Administrator)'
                    'GdapLeastPrivilege.Relationship | Pass | Contoso helpdesk (Contoso Inc)'
                    'FraudNotifications.ResolvedInTime | Pass | 2a7064fb-1e33-4007-974e-352cb3f2c801_2edeb5b1-766f-4209-9271-3ddf27755a01 (Contoso Inc)'
                    "SecurityScore.Unavailable | NotApplicable | $(& $t 1)"
                    "MfaReadiness.Ready | Pass | $(& $t 1)"
                    "FederatedMfa.NoFederatedDomains | NotApplicable | $(& $t 1)"
                )
            }
            @{ N = 2; Name = 'security defaults only'; Expected = @(
                    'MfaCoverage.DataUnavailable | Error | Conditional Access policies'
                    'MfaCoverage.DataUnavailable | Error | authentication method registration details'
                    'MfaCoverage.Covered | Pass | admin@adatum-csp.onmicrosoft.com'
                    'MfaCoverage.Covered | Pass | sales@adatum-csp.onmicrosoft.com'
                    'MfaCoverage.Covered | Pass | support@adatum-csp.onmicrosoft.com'
                    'MfaCoverage.DirectorySyncAccount | NotApplicable | Sync_SRV01_4f2a1b3c9d8e@adatum-csp.onmicrosoft.com'
                    'SignInEvidence.DataUnavailable | Error | sign-in logs'
                    "MfaConfiguration.PerUserMfaInUse | Warn | $(& $t 2)"
                    "LegacyAuthentication.BlockedBySecurityDefaults | Pass | $(& $t 2)"
                    'SecureApplicationModel.TokenHasMfa | Pass | admin@adatum-csp.onmicrosoft.com'
                    'SecureApplicationModel.RefreshToken | Pass | admin@adatum-csp.onmicrosoft.com'
                    "SecureApplicationModel.NoNonMfaPrincipals | Pass | $(& $t 2)"
                    "SecureApplicationModel.AppMfaAdoption | NotApplicable | $(& $t 2)"
                    "AdminAgents.NoAdminAgents | NotApplicable | $(& $t 2)"
                    "GdapLeastPrivilege.NoRelationships | NotApplicable | $(& $t 2)"
                    "FraudNotifications.NoFraudEvents | Pass | $(& $t 2)"
                    "SecurityScore.Unavailable | NotApplicable | $(& $t 2)"
                    'MfaReadiness.DataUnavailable | Error | sign-in logs'
                    'MfaReadiness.DataUnavailable | Error | authentication method registration details'
                    "FederatedMfa.NoFederatedDomains | NotApplicable | $(& $t 2)"
                )
            }
            @{ N = 3; Name = 'Conditional Access with gaps and exclusions'; Expected = @(
                    'MfaCoverage.Covered | Pass | admin@tailspin-csp.onmicrosoft.com'
                    'MfaCoverage.Covered | Pass | staff@tailspin-csp.onmicrosoft.com'
                    'MfaCoverage.NotCovered | Fail | finance@tailspin-csp.onmicrosoft.com'
                    'MfaCoverage.NotCovered | Fail | contractor@tailspin-csp.onmicrosoft.com'
                    'MfaCoverage.NotCovered | Fail | partner.guest_litware.example#EXT#@tailspin-csp.onmicrosoft.com'
                    'MfaCoverage.NotRegistered | Warn | newhire@tailspin-csp.onmicrosoft.com'
                    'MfaCoverage.Covered | Pass | fedworker@tailspin-fed.example'
                    'SignInEvidence.LegacyProtocolSignIn | Fail | staff@tailspin-csp.onmicrosoft.com (IMAP4)'
                    'SignInEvidence.SingleFactorSignIn | Fail | contractor@tailspin-csp.onmicrosoft.com (Microsoft Azure PowerShell)'
                    'SignInEvidence.CoveredButSingleFactor | Fail | fedworker@tailspin-fed.example (Azure Portal)'
                    'SignInEvidence.SingleFactorSignIn | Fail | finance@tailspin-csp.onmicrosoft.com (Azure Portal)'
                    'SignInEvidence.CoveredButSingleFactor | Fail | staff@tailspin-csp.onmicrosoft.com (Office 365 Exchange Online)'
                    'MfaConfiguration.ReportOnlyPolicy | Warn | MFA for guests (report-only)'
                    "LegacyAuthentication.NotBlocked | Fail | $(& $t 3)"
                    'SecureApplicationModel.TokenHasMfa | Pass | admin@tailspin-csp.onmicrosoft.com'
                    'SecureApplicationModel.RefreshToken | Pass | admin@tailspin-csp.onmicrosoft.com'
                    "SecureApplicationModel.NoNonMfaPrincipals | Pass | $(& $t 3)"
                    "SecureApplicationModel.AppMfaAdoption | NotApplicable | $(& $t 3)"
                    'AdminAgents.P2Licence | Fail | admin@tailspin-csp.onmicrosoft.com'
                    'AdminAgents.PermanentPrivilegedRole | Fail | admin@tailspin-csp.onmicrosoft.com (Global Administrator)'
                    'AdminAgents.DataUnavailable | Error | PIM role eligibility schedules'
                    "GdapLeastPrivilege.NoRelationships | NotApplicable | $(& $t 3)"
                    'GdapLeastPrivilege.LeftoverDap | Warn | AdminAgents'
                    "FraudNotifications.NoFraudEvents | Pass | $(& $t 3)"
                    "SecurityScore.Unavailable | NotApplicable | $(& $t 3)"
                    'MfaReadiness.LegacyClient | Warn | IMAP4'
                    'MfaReadiness.OldOfficeClient | Warn | newhire@tailspin-csp.onmicrosoft.com'
                    'MfaReadiness.UserCredentialAutomation | Warn | contractor@tailspin-csp.onmicrosoft.com'
                    'MfaReadiness.NoRegisteredMethod | Fail | contractor@tailspin-csp.onmicrosoft.com'
                    'MfaReadiness.NoRegisteredMethod | Fail | newhire@tailspin-csp.onmicrosoft.com'
                    'FederatedMfa.MfaNotVisible | Fail | tailspin-fed.example'
                )
            }
            @{ N = 4; Name = 'no Entra ID P1'; Expected = @(
                    'MfaCoverage.DataUnavailable | Error | Conditional Access policies'
                    'MfaCoverage.DataUnavailable | Error | authentication method registration details'
                    'MfaCoverage.Covered | Pass | admin@wingtip-csp.onmicrosoft.com'
                    'MfaCoverage.NotCovered | Fail | billing@wingtip-csp.onmicrosoft.com'
                    'SignInEvidence.DataUnavailable | Error | sign-in logs'
                    "MfaConfiguration.NoTenantWideMfa | Fail | $(& $t 4)"
                    "MfaConfiguration.PerUserMfaInUse | Warn | $(& $t 4)"
                    "LegacyAuthentication.NotBlocked | Fail | $(& $t 4)"
                    'SecureApplicationModel.TokenHasMfa | Pass | admin@wingtip-csp.onmicrosoft.com'
                    'SecureApplicationModel.RefreshToken | Pass | admin@wingtip-csp.onmicrosoft.com'
                    'SecureApplicationModel.NonMfaPrincipal | Fail | billing@wingtip-csp.onmicrosoft.com'
                    'SecureApplicationModel.AppMfaAdoption | Fail | Billing integration'
                    "AdminAgents.NoAdminAgents | NotApplicable | $(& $t 4)"
                    "GdapLeastPrivilege.NoRelationships | NotApplicable | $(& $t 4)"
                    "FraudNotifications.NoFraudEvents | Pass | $(& $t 4)"
                    "SecurityScore.Unavailable | NotApplicable | $(& $t 4)"
                    'MfaReadiness.DataUnavailable | Error | sign-in logs'
                    'MfaReadiness.DataUnavailable | Error | authentication method registration details'
                    "FederatedMfa.NoFederatedDomains | NotApplicable | $(& $t 4)"
                )
            }
            @{ N = 5; Name = 'messy GDAP and fraud events'; Expected = @(
                    'MfaCoverage.Covered | Pass | admin@litware-csp.onmicrosoft.com'
                    'MfaCoverage.Covered | Pass | agent1@litware-csp.onmicrosoft.com'
                    'MfaCoverage.NotCovered | Fail | agent2@litware-csp.onmicrosoft.com'
                    'SignInEvidence.SingleFactorSignIn | Fail | agent2@litware-csp.onmicrosoft.com (Azure Portal)'
                    "MfaConfiguration.Consistent | Pass | $(& $t 5)"
                    'LegacyAuthentication.BlockedByConditionalAccess | Pass | Block legacy authentication'
                    'SecureApplicationModel.TokenHasMfa | Pass | admin@litware-csp.onmicrosoft.com'
                    'SecureApplicationModel.RefreshToken | Pass | admin@litware-csp.onmicrosoft.com'
                    "SecureApplicationModel.NoNonMfaPrincipals | Pass | $(& $t 5)"
                    "SecureApplicationModel.AppMfaAdoption | NotApplicable | $(& $t 5)"
                    'AdminAgents.P2Licence | Fail | agent2@litware-csp.onmicrosoft.com'
                    'AdminAgents.PermanentPrivilegedRole | Fail | agent1@litware-csp.onmicrosoft.com (Exchange Administrator)'
                    'AdminAgents.EligiblePrivilegedRole | Pass | agent2@litware-csp.onmicrosoft.com (Helpdesk Administrator)'
                    'GdapLeastPrivilege.GlobalAdministrator | Fail | Contoso full admin (Contoso Inc)'
                    'GdapLeastPrivilege.ExpiringSoon | Warn | Fabrikam helpdesk (Fabrikam Ltd)'
                    'GdapLeastPrivilege.GroupMemberWithoutMfa | Fail | agent2@litware-csp.onmicrosoft.com via GDAP Helpdesk'
                    'GdapLeastPrivilege.Expired | Warn | Tailspin legacy (Tailspin Toys)'
                    'GdapLeastPrivilege.Relationship | Pass | Woodgrove readers (Woodgrove Bank)'
                    'GdapLeastPrivilege.DapCustomer | Fail | Tailspin Toys (tailspintoys.onmicrosoft.com)'
                    'GdapLeastPrivilege.DapCustomer | Fail | Adventure Works (adventureworks.onmicrosoft.com)'
                    'GdapLeastPrivilege.LeftoverDap | Warn | AdminAgents'
                    'FraudNotifications.OpenEvent | Fail | 5e000001-1e33-4007-974e-352cb3f2c801_2edeb5b1-766f-4209-9271-3ddf27755a01 (Contoso Inc)'
                    'FraudNotifications.SlowResponse | Warn | 5e000002-1e33-4007-974e-352cb3f2c802_2edeb5b1-766f-4209-9271-3ddf27755a02 (Fabrikam Ltd)'
                    'FraudNotifications.ResolvedInTime | Pass | 5e000003-1e33-4007-974e-352cb3f2c803_2edeb5b1-766f-4209-9271-3ddf27755a03 (Woodgrove Bank)'
                    'FraudNotifications.OpenEvent | Fail | 5e000004-1e33-4007-974e-352cb3f2c804_2edeb5b1-766f-4209-9271-3ddf27755a04 (Tailspin Toys)'
                    "SecurityScore.Unavailable | NotApplicable | $(& $t 5)"
                    "MfaReadiness.Ready | Pass | $(& $t 5)"
                    "FederatedMfa.NoFederatedDomains | NotApplicable | $(& $t 5)"
                )
            }
        )
    }

    It 'tenant <N> (<Name>): every check''s findings, exactly' -ForEach $Tenants {
        Connect-Tenant $N
        $findings = @(Invoke-PartnerSecurityAssessment)
        $findings | ForEach-Object { $_ | Should -BeOfType PartnerSecurity.Models.SecurityFinding }
        Rows $findings | Should -Be $Expected
        foreach ($f in $findings | Where-Object Status -In 'Fail', 'Warn', 'Error') {
            $f.Evidence | Should -Not -BeNullOrEmpty -Because $f.Id
            $f.Remediation | Should -Not -BeNullOrEmpty -Because $f.Id
        }
    }
}

Describe 'Permission and licence errors are Error findings with the fix, never passes' {
    It 'an app that may only read users: every Graph read it lacks names the permission to grant' {
        Connect-LimitedApp 1
        $findings = @(Invoke-PartnerSecurityAssessment)
        $findings | Where-Object Status -EQ 'Pass' | Should -BeNullOrEmpty
        $expected = [ordered]@{
            MfaCoverage          = 'Policy.Read.All'
            SignInEvidence       = 'AuditLog.Read.All'
            MfaConfiguration     = 'Policy.Read.All'
            LegacyAuthentication = 'Policy.Read.All'
            AdminAgents          = 'GroupMember.Read.All'
            GdapLeastPrivilege   = 'DelegatedAdminRelationship.Read.All'
            MfaReadiness         = 'AuditLog.Read.All'
            FederatedMfa         = 'Domain.Read.All'
        }
        foreach ($check in $expected.Keys) {
            $errors = @($findings | Where-Object { $_.Check -eq $check -and $_.Status -eq 'Error' })
            $errors | Should -Not -BeNullOrEmpty -Because "$check cannot read its data"
            ($errors.Remediation -join "`n") | Should -Match ([regex]::Escape("Grant the application the Microsoft Graph permission $($expected[$check])"))
            ($errors.Evidence -join "`n") | Should -Match 'HTTP 403'
        }
        # Partner Center's reports are App+User only: the fix is a SAM session.
        foreach ($check in 'FraudNotifications', 'SecureApplicationModel') {
            $e = $findings | Where-Object { $_.Check -eq $check -and $_.Status -eq 'Error' } | Select-Object -First 1
            $e.Remediation | Should -Match '-RefreshToken'
        }
    }

    It 'tenants without Entra ID P1 / P2: each licence error names the licence' {
        Connect-Tenant 4
        $errors = @(Invoke-PartnerSecurityAssessment -Check MfaCoverage, SignInEvidence, MfaReadiness | Where-Object Status -EQ 'Error')
        $errors.Count | Should -Be 5
        $errors | ForEach-Object { $_.Remediation | Should -Match 'License Microsoft Entra ID P1' }
        $errors | ForEach-Object { $_.Evidence | Should -Match 'Authentication_RequestFromNonPremiumTenantOrB2CTenant' }
        Connect-Tenant 3
        $pim = Invoke-PartnerSecurityAssessment -Check AdminAgents | Where-Object Status -EQ 'Error'
        $pim.Remediation | Should -Match 'License Microsoft Entra ID P2'
        $pim.Evidence | Should -Match 'AadPremiumLicenseRequired'
    }
}

Describe 'Invoke-PartnerSecurityAssessment: parameters, view, reports, CI' {
    BeforeAll { Connect-Tenant 3 }

    It '-Check completes its eleven names and runs only those, in order' {
        $completion = TabExpansion2 -inputScript 'Invoke-PartnerSecurityAssessment -Check Mfa' -cursorColumn 43
        ($completion.CompletionMatches.CompletionText | Sort-Object) | Should -Be @('MfaConfiguration', 'MfaCoverage', 'MfaReadiness')
        (Get-Command Invoke-PartnerSecurityAssessment).Parameters.Check.Attributes.ValidValues.Count | Should -Be 11
        $findings = Invoke-PartnerSecurityAssessment -Check FederatedMfa, LegacyAuthentication
        ($findings.Check | Select-Object -Unique) | Should -Be @('LegacyAuthentication', 'FederatedMfa')
        { Invoke-PartnerSecurityAssessment -Check NoSuchCheck } | Should -Throw -ErrorId 'ParameterArgumentValidationError*'
    }

    It 'shows findings as a table of Status, Severity, Id and Subject' {
        $text = Invoke-PartnerSecurityAssessment -Check LegacyAuthentication | Out-String -Width 200
        $text | Should -Match 'Status\s+Severity\s+Id\s+Subject'
        $text | Should -Match 'Fail\s+High\s+LegacyAuthentication\.NotBlocked'
    }

    It '-OutputPath writes HTML, JSON (schema 1) and CSV that agree with the findings' {
        $out = Join-Path $TestDrive 'reports'
        $findings = @(Invoke-PartnerSecurityAssessment -OutputPath $out)
        $files = Get-ChildItem -LiteralPath $out
        ($files.Extension | Sort-Object) | Should -Be @('.csv', '.html', '.json')
        $json = Get-Content -LiteralPath ($files | Where-Object Extension -EQ '.json').FullName -Raw | ConvertFrom-Json
        $json.schemaVersion | Should -Be 1
        $json.findings.Count | Should -Be $findings.Count
        $json.summary.Fail | Should -Be @($findings | Where-Object Status -EQ 'Fail').Count
        $csvPath = ($files | Where-Object Extension -EQ '.csv').FullName
        # UTF-8 with a byte order mark, which Excel needs for non-English names.
        [IO.File]::ReadAllBytes($csvPath)[0..2] | Should -Be @(0xEF, 0xBB, 0xBF)
        $csv = Import-Csv -LiteralPath $csvPath
        $csv.Count | Should -Be $findings.Count
        ($csv | ForEach-Object { "$($_.Id) | $($_.Status) | $($_.Subject)" }) | Should -Be (Rows $findings)
        $html = Get-Content -LiteralPath ($files | Where-Object Extension -EQ '.html').FullName -Raw
        $html | Should -Not -Match '<script|<link|src='
        $html | Should -Match "id=`"count-Fail`">$(@($findings | Where-Object Status -EQ 'Fail').Count)<"
    }

    It '-WhatIf runs the checks but writes no report' {
        $out = Join-Path $TestDrive 'whatif'
        $findings = @(Invoke-PartnerSecurityAssessment -Check FraudNotifications -OutputPath $out -WhatIf)
        $findings.Count | Should -Be 1
        Test-Path -LiteralPath $out | Should -BeFalse
    }

    It '-FailOn Fail ends with AssessmentFailed after writing the findings; a clean tenant passes -FailOn Warn' {
        $written = [System.Collections.Generic.List[object]]::new()
        { Invoke-PartnerSecurityAssessment -Check LegacyAuthentication -FailOn Fail | ForEach-Object { $written.Add($_) } } | Should -Throw -ErrorId 'AssessmentFailed*'
        $written.Count | Should -Be 1
        $err = $null
        try { Invoke-PartnerSecurityAssessment -FailOn Fail | Out-Null } catch { $err = $_ }
        $err.CategoryInfo.Category | Should -Be 'InvalidResult'
        $err.Exception.Message | Should -Match '\d+ Fail, \d+ Error'
        Connect-Tenant 1
        { Invoke-PartnerSecurityAssessment -FailOn Warn | Out-Null } | Should -Not -Throw
        Connect-Tenant 3
    }

    It 'reports progress: one record per check, in order, with a rising percentage, then Completed' {
        # The progress stream has no redirection operator; a PowerShell instance collects it in
        # Streams.Progress (the session's connection is the process's, so it is shared).
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript({
                    param($ModulePath)
                    Import-Module $ModulePath
                    $ProgressPreference = 'Continue'
                    Invoke-PartnerSecurityAssessment
                }).AddArgument((Join-Path (Get-Module PartnerSecurity).ModuleBase 'PartnerSecurity.psd1'))
            $findings = $ps.Invoke()
            $ps.Streams.Error | Should -BeNullOrEmpty
            $records = @($ps.Streams.Progress)
        } finally {
            $ps.Dispose()
        }
        $findings.Count | Should -BeGreaterThan 0
        $checks = (Get-Command Invoke-PartnerSecurityAssessment).Parameters.Check.Attributes.ValidValues
        $records.Count | Should -Be ($checks.Count + 1)
        ($records.ActivityId | Select-Object -Unique) | Should -Be 1
        ($records.Activity | Select-Object -Unique) | Should -Be 'Partner security assessment'
        for ($i = 0; $i -lt $checks.Count; $i++) {
            $records[$i].RecordType | Should -Be 'Processing'
            $records[$i].StatusDescription | Should -Be "Check $($i + 1) of $($checks.Count): $($checks[$i])"
            $records[$i].PercentComplete | Should -Be ([int][math]::Floor($i * 100 / $checks.Count))
        }
        $done = $records[-1]
        $done.RecordType | Should -Be 'Completed'
        $done.PercentComplete | Should -Be 100
        # In the order the findings came: every check that wrote a finding had its record first.
        ($findings.Check | Select-Object -Unique) | Should -Be ($checks | Where-Object { $_ -in $findings.Check })
    }

    It 'no token or secret reaches findings, streams or reports' {
        $out = Join-Path $TestDrive 'secrets'
        $all = Invoke-PartnerSecurityAssessment -OutputPath $out -Verbose *>&1 | Out-String -Width 500
        $all += ($all | ConvertTo-Json)
        $all += (Get-ChildItem -LiteralPath $out | Get-Content -Raw) -join "`n"
        foreach ($secret in Get-EmulatorIssuedSecrets -Emulator $emu) {
            $all.Contains($secret) | Should -BeFalse
        }
    }
}

Describe 'The session''s own token and profile' {
    It 'a federated user whose token carries amr [fed] without mfa fails FederatedMfa with the token as evidence' {
        # Partner Center refuses the token (no mfa), so connecting warns about the organization profile.
        Connect-TestConsent -Emulator $emu -Name sam-fedworker-3 -WarningAction SilentlyContinue | Out-Null
        try {
            $findings = Invoke-PartnerSecurityAssessment -Check FederatedMfa
            Rows $findings | Should -Be @(
                'FederatedMfa.TokenWithoutMfa | Fail | fedworker@tailspin-fed.example'
                'FederatedMfa.MfaNotVisible | Fail | tailspin-fed.example'
            )
            $findings[0].Evidence | Should -Match 'amr \[fed\]'
            $findings[1].Evidence | Should -Match 'Token issuer of those sign-ins: ADFederationServices \(1\)'
        } finally {
            Connect-Tenant 3
        }
    }

    It 'on a Secure Application Model profile, SecureApplicationModel reports the profile''s refresh-token health' {
        $saved = @{}
        foreach ($name in 'PARTNERSECURITY_HOME', 'PARTNERSECURITY_PROFILE', 'PARTNERSECURITY_SECRET_PASSPHRASE') { $saved[$name] = [Environment]::GetEnvironmentVariable($name) }
        $env:PARTNERSECURITY_HOME = Join-Path $TestDrive 'sam-home'
        $env:PARTNERSECURITY_PROFILE = $null
        $env:PARTNERSECURITY_SECRET_PASSPHRASE = 'test passphrase, not a secret of the emulator'
        try {
            $consent = Get-TestConsent -Emulator $emu -Name sam-admin-5
            New-PartnerSecureAppProfile -Name litware -Credential $consent.Credential -RefreshToken $consent.RefreshToken -Tenant $consent.TenantId -Environment Emulator -Default | Out-Null
            # Connect-PartnerCenter without credentials uses the default profile.
            Connect-PartnerCenter -Environment Emulator -WarningAction SilentlyContinue | Out-Null
            $findings = Invoke-PartnerSecurityAssessment -Check SecureApplicationModel
            $health = $findings | Where-Object Id -EQ 'SecureApplicationModel.RefreshToken'
            $health.Status | Should -Be 'Pass'
            $health.Subject | Should -Be 'admin@litware-csp.onmicrosoft.com'
            $health.Evidence | Should -Match "profile 'litware' \(refresh token in the encrypted file"
            $health.Evidence | Should -Match 'of Entra ID''s 90 days left'
            $health.Evidence | Should -Match 'Health: Healthy'
        } finally {
            foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) }
            Connect-Tenant 3
        }
    }
}

Describe 'Building blocks' {
    It 'Get-PartnerMfaCoverage gives each user''s coverage and the exclusion that explains a gap' {
        Connect-Tenant 3
        $coverage = @(Get-PartnerMfaCoverage)
        $coverage.Count | Should -Be 7
        $contractor = $coverage | Where-Object UserPrincipalName -EQ 'contractor@tailspin-csp.onmicrosoft.com'
        $contractor | Should -BeOfType PartnerSecurity.Models.MfaCoverage
        $contractor.Covered | Should -BeFalse
        $contractor.ExcludedBy | Should -Match 'excludes the user'
        $contractor.Registered | Should -BeFalse
        ($coverage | Where-Object UserPrincipalName -EQ 'admin@tailspin-csp.onmicrosoft.com').CoveredBy | Should -HaveCount 2
        ($coverage | Out-String) | Should -Match 'UserPrincipalName\s+Kind\s+Covered'
    }

    It 'Get-PartnerLegacyAuthSignIn gives the legacy-protocol sign-ins only' {
        Connect-Tenant 3
        $legacy = @(Get-PartnerLegacyAuthSignIn -Days 7)
        $legacy.Count | Should -Be 1
        $legacy[0].UserPrincipalName | Should -Be 'staff@tailspin-csp.onmicrosoft.com'
        $legacy[0].ClientAppUsed | Should -Be 'IMAP4'
        Connect-Tenant 4
        { Get-PartnerLegacyAuthSignIn } | Should -Throw -ErrorId 'Authentication_RequestFromNonPremiumTenantOrB2CTenant*'
    }

    It 'Get-PartnerGdapRelationship gives relationships with roles and access assignments' {
        Connect-Tenant 5
        $relationships = @(Get-PartnerGdapRelationship)
        $relationships.Count | Should -Be 5
        $ga = $relationships | Where-Object DisplayName -EQ 'Contoso full admin'
        $ga.GrantsGlobalAdministrator | Should -BeTrue
        $ga.AccessAssignments[0].GroupId | Should -Be '5a000001-0000-4000-8000-000000000001'
        ($relationships | Where-Object DisplayName -EQ 'Fabrikam helpdesk').EndDateTime | Should -BeLessThan ([DateTimeOffset]::UtcNow.AddDays(11))
        Connect-LimitedApp 5
        { Get-PartnerGdapRelationship } | Should -Throw -ErrorId 'Authentication_MSGraphPermissionMissing*'
    }

    It 'Get-PartnerFraudEvent gives the events, and needs an App+User session' {
        Connect-Tenant 5
        $events = @(Get-PartnerFraudEvent)
        $events.Count | Should -Be 4
        @($events | Where-Object Open).Count | Should -Be 2
        ($events | Where-Object EventStatus -EQ 'Resolved' | Select-Object -First 1).ResolvedOn | Should -Not -BeNullOrEmpty
        Connect-LimitedApp 5
        $err = $null
        try { Get-PartnerFraudEvent } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Match '^AppUserRequired'
        $err.Exception.Message | Should -Match '-RefreshToken'
    }
}

Describe 'Ctrl+C' {
    It 'stops the assessment in the middle of a check, and the next one runs normally' {
        Connect-Tenant 3
        Invoke-EmulatorControl -Emulator $emu -Path '/_emulator/graph/settings' -Body @{ pageLatencyMs = 3000 } | Out-Null
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript({
                    param($ModulePath)
                    Import-Module $ModulePath
                    Invoke-PartnerSecurityAssessment -Check SignInEvidence
                }).AddArgument((Join-Path (Get-Module PartnerSecurity).ModuleBase 'PartnerSecurity.psd1'))
            $handle = $ps.BeginInvoke()
            Start-Sleep -Seconds 1
            $handle.IsCompleted | Should -BeFalse -Because 'the sign-in page takes 3 s'
            $ps.Stop()
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
        } finally {
            $ps.Dispose()
            Invoke-EmulatorControl -Emulator $emu -Path '/_emulator/graph/settings' -Body @{ pageLatencyMs = 0 } | Out-Null
        }
        Rows (Invoke-PartnerSecurityAssessment -Check LegacyAuthentication) | Should -Be @("LegacyAuthentication.NotBlocked | Fail | $(TenantId 3)")
    }
}
