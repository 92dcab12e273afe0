# Get-PartnerUserSignInActivity and Export-PartnerSignInActivity through real pwsh against the
# emulator's Graph sign-in logs (scenarios/signins.json over TLS, plus a few literal sign-ins
# added here so the PartnerCenter module's help examples have something to find):
#   - the original help examples, verbatim;
#   - the Graph SDK's output shape, the default view, the alias; the module's record reader (every
#     property typed, one it does not know kept, a record that does not fit read untyped);
#   - dates sent in UTC (checked in a UTC+05:30 time zone, where the old local-as-Z bug shows);
#   - hostile input: quotes in UPNs, non-GUID ids, reversed and absurd dates;
#   - paging to the end with no loss or duplicate (against /_emulator/signins/count), inside the
#     5 requests / 10 s budget without a single 429;
#   - the licence error, per-tenant errors and tenants from the pipeline;
#   - outcome filters (-Succeeded, -Failed, -ErrorCode) and their hostile input;
#   - customer tenants through GDAP (the partner's refresh token at each customer's authority);
#   - Ctrl+C, and a pipeline that wants no more (Select-Object -First); export to JSONL and CSV;
#     resume after the exporting process was killed.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../TestHelpers.psm1') -Force
    Import-PartnerSecurityModule
    $script:modulePsd1 = Join-Path (Get-Module PartnerSecurity).ModuleBase 'PartnerSecurity.psd1'
    $repo = Split-Path -Parent (Split-Path -Parent $PSScriptRoot)

    # The sign-in scenario with sign-ins for the help examples: the user of example 1 (no MFA),
    # Partner Center API sign-ins (example 3), and a user whose UPN has a quote.
    $scenario = Get-Content -LiteralPath (Join-Path $repo 'native/emulator/scenarios/signins.json') -Raw | ConvertFrom-Json
    $partner = $scenario.tenants[0]
    $script:exampleUser = '3dd89389-b34c-4f5a-975d-516df5694d7e'
    $script:quotedUpn = "o'brien@contoso-signins.onmicrosoft.com"
    $partner.users += [pscustomobject]@{ id = $exampleUser; userPrincipalName = 'helpdesk@contoso-signins.onmicrosoft.com'; displayName = 'Hal Helpdesk'; mfaRegistered = $false }
    $partner.users += [pscustomobject]@{ id = 'c1000001-0000-4000-8000-000000000009'; userPrincipalName = $quotedUpn; displayName = "Orla O'Brien"; mfaRegistered = $true }
    $partnerCenter = 'fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd'
    $reporterId = $partner.applications[0].appId
    $partner.signIns.items += @(
        [pscustomobject]@{ id = '52000000-0000-4000-8000-000000000001'; createdDateTime = '-2d'; userId = $exampleUser; appId = $reporterId; resourceId = $partnerCenter }
        [pscustomobject]@{ id = '52000000-0000-4000-8000-000000000002'; createdDateTime = '-1d'; userId = $exampleUser; appId = $reporterId; resourceId = $partnerCenter; authenticationRequirement = 'multiFactorAuthentication' }
        [pscustomobject]@{ id = '52000000-0000-4000-8000-000000000003'; createdDateTime = '-3d'; userId = $exampleUser; appId = $reporterId; status = @{ errorCode = 50126 } }
        [pscustomobject]@{ id = '52000000-0000-4000-8000-000000000004'; createdDateTime = '-5h'; userId = 'c1000001-0000-4000-8000-000000000009'; appId = $reporterId }
        # A property inside status that this version does not know (Graph adds some now and then).
        [pscustomobject]@{ id = '52000000-0000-4000-8000-000000000005'; createdDateTime = '-4h'; userId = $exampleUser; appId = $reporterId; status = @{ errorCode = 0; futureDetail = 'added by a later Graph' } }
    )
    $script:scenarioPath = Join-Path $TestDrive 'signins-activity.json'
    $scenario | ConvertTo-Json -Depth 64 | Set-Content -LiteralPath $scenarioPath -Encoding utf8

    $script:emu = Start-TestEmulator -Scenario $scenarioPath
    Register-TestEnvironment -Emulator $emu | Out-Null
    $script:tenantId = $partner.id
    $script:scenarioThrottle = $scenario.graph.signInsThrottle
    $script:customerDomain = $scenario.tenants[1].domains[0]
    $script:reporter = $reporterId
    $script:reporterSecret = $partner.applications[0].secrets[0].value
    $script:refreshToken = $partner.consents[0].refreshToken

    function script:Connect-Reporter {
        $credential = [pscredential]::new($reporter, (ConvertTo-SecureString $reporterSecret -AsPlainText -Force))
        Connect-PartnerCenter -ApplicationId $reporter -Credential $credential -RefreshToken $refreshToken -Tenant $tenantId -Environment Emulator
    }

    # How many sign-ins Graph would return for a filter, over all its pages (the emulator's own count).
    function script:Get-SignInCount([string] $Filter, [string] $Version = 'beta', [string] $Tenant = $tenantId) {
        $query = "tenant=$([uri]::EscapeDataString($Tenant))&version=$Version"
        if ($Filter) { $query += "&filter=$([uri]::EscapeDataString($Filter))" }
        (Invoke-EmulatorControl -Emulator $emu -Path "/_emulator/signins/count?$query").count
    }

    # No sign-in request arrives any more: those in flight when the cursor closed may still be
    # logged as they end (within $SettleSeconds), none after them for $WatchSeconds.
    function script:Assert-SignInRequestsEnded([int] $SettleSeconds, [int] $WatchSeconds) {
        Start-Sleep -Seconds $SettleSeconds
        $count = @(Get-EmulatorSignInRequests -Emulator $emu).Count
        Start-Sleep -Seconds $WatchSeconds
        @(Get-EmulatorSignInRequests -Emulator $emu).Count | Should -Be $count
    }

    function script:Set-GraphSettings([hashtable] $Settings) {
        Invoke-EmulatorControl -Emulator $emu -Path '/_emulator/graph/settings' -Body $Settings | Out-Null
    }

    # yyyy-MM-ddTHH:mm:ssZ of a DateTime in UTC, as the filter sends it (rounded down to the second).
    function script:Format-Utc([datetime] $Value) {
        $Value.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ', [cultureinfo]::InvariantCulture)
    }

    Connect-Reporter | Out-Null
}

AfterAll {
    Disconnect-PartnerCenter -ErrorAction SilentlyContinue | Out-Null
    Stop-TestEmulator -Emulator $emu
}

Describe 'The PartnerCenter module''s help examples, verbatim' {
    It 'example 1: a user''s successful sign-ins without MFA' {
        $result = @(Get-PartnerUserSignInActivity -StartDate (Get-Date).AddDays(-7) -UserId '3dd89389-b34c-4f5a-975d-516df5694d7e' | ? {$_.AuthenticationDetails | ? {$_.Succeeded -eq $true}} | ? {$_.MfaDetail -eq $null})
        # The user also has generated sign-ins; the literal ones decide what must and must not be there.
        $result.Id | Should -Contain '52000000-0000-4000-8000-000000000001'
        $result.Id | Should -Not -Contain '52000000-0000-4000-8000-000000000002' -Because 'it used MFA'
        $result.Id | Should -Not -Contain '52000000-0000-4000-8000-000000000003' -Because 'it failed'
        $result.UserId | Sort-Object -Unique | Should -Be $exampleUser
        @($result | Where-Object { $null -ne $_.MfaDetail }).Count | Should -Be 0
        @($result | Where-Object { -not ($_.AuthenticationDetails | Where-Object Succeeded) }).Count | Should -Be 0
    }

    It 'examples 2 and 3: Partner Center sign-ins that succeeded without MFA' {
        $signIns = Get-PartnerUserSignInActivity -StartDate (Get-Date).AddDays(-7)
        $result = @($signIns | ? {$_.AuthenticationDetails | ? {$_.Succeeded -eq $true}} | ? {$_.MfaDetail -eq $null} | ? {$_.ResourceId -eq 'fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd'})
        $result.Id | Should -Contain '52000000-0000-4000-8000-000000000001'
        $result.ResourceId | Sort-Object -Unique | Should -Be 'fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd'
        # The MFA sign-in to Partner Center is there, and filtered out by MfaDetail.
        $signIns.Id | Should -Contain '52000000-0000-4000-8000-000000000002'
    }
}

Describe 'Get-PartnerUserSignInActivity output' {
    BeforeAll {
        $script:recent = @(Get-PartnerUserSignInActivity -StartDate (Get-Date).AddDays(-1))
    }

    It 'has the Graph SDK''s property names and types' {
        $recent.Count | Should -BeGreaterThan 100
        $first = $recent[0]
        $first | Should -BeOfType ([PartnerSecurity.Models.SignIn])
        $first.PSObject.TypeNames[0] | Should -Be 'PartnerSecurity.Models.SignIn'
        foreach ($name in 'Id', 'CreatedDateTime', 'UserPrincipalName', 'UserId', 'AppId', 'AppDisplayName', 'IpAddress', 'ClientAppUsed', 'Status', 'MfaDetail', 'AuthenticationDetails', 'ResourceId', 'ResourceDisplayName', 'IsInteractive', 'TenantId') {
            $first.PSObject.Properties.Name | Should -Contain $name
        }
        $first.CreatedDateTime | Should -BeOfType [DateTimeOffset]
        $first.Status.ErrorCode | Should -BeOfType [int]
        $first.IsInteractive | Should -BeOfType [bool]
        $first.Status | Should -BeOfType ([PartnerSecurity.Models.SignInStatus])
        @($recent | Where-Object { $_.AuthenticationDetails })[0].AuthenticationDetails[0].AuthenticationStepDateTime | Should -BeOfType [DateTimeOffset]
        @($recent | Where-Object { $_.Location.GeoCoordinates.Latitude })[0].Location.GeoCoordinates.Latitude | Should -BeOfType [double]
        $first.TenantId | Should -Be $tenantId
        @($recent | Where-Object { $null -eq $_.MfaDetail }).Count | Should -BeGreaterThan 0
        @($recent | Where-Object { $_.MfaDetail.AuthMethod }).Count | Should -BeGreaterThan 0
        @($recent | Where-Object { $_.AuthenticationDetails | Where-Object { $_.Succeeded -eq $true -and $_.AuthenticationMethod } }).Count | Should -BeGreaterThan 0
    }

    It 'keeps a property this version does not know, in an object of the same type name' {
        $future = @($recent | Where-Object Id -EQ '52000000-0000-4000-8000-000000000005')
        $future.Count | Should -Be 1
        $future[0] | Should -Not -BeOfType ([PartnerSecurity.Models.SignIn])
        $future[0].PSObject.TypeNames[0] | Should -Be 'PartnerSecurity.Models.SignIn'
        $future[0].Status.futureDetail | Should -Be 'added by a later Graph'
        $future[0].Status.ErrorCode | Should -Be 0
        $future[0].CreatedDateTime | Should -BeOfType [DateTimeOffset]
        $future[0].UserId | Should -Be $exampleUser
        $future[0].TenantId | Should -Be $tenantId
        ($future[0] | Format-Table | Out-String -Width 250) | Should -Match 'ClientAppUsed'
        # Every other sign-in is typed.
        @($recent | Where-Object { $_ -isnot [PartnerSecurity.Models.SignIn] }).Count | Should -Be 1
    }

    It 'is newest first, without duplicates' {
        $times = $recent.CreatedDateTime
        for ($i = 1; $i -lt $times.Count; $i++) { $times[$i] | Should -BeLessOrEqual $times[$i - 1] }
        ($recent.Id | Sort-Object -Unique).Count | Should -Be $recent.Count
    }

    It 'has a default table view' {
        $table = $recent[0..2] | Format-Table | Out-String -Width 250
        foreach ($column in 'CreatedDateTime', 'UserPrincipalName', 'AppDisplayName', 'ClientAppUsed', 'ErrorCode', 'Mfa') { $table | Should -Match $column }
    }

    It 'keeps the alias Get-PartnerUserSignActivity (the CHANGELOG''s spelling)' {
        (Get-Alias Get-PartnerUserSignActivity).ResolvedCommand.Name | Should -Be 'Get-PartnerUserSignInActivity'
        (Get-Module PartnerSecurity).ExportedAliases.Keys | Should -Contain 'Get-PartnerUserSignActivity'
        $start = (Get-Date).AddDays(-7)
        $viaAlias = @(Get-PartnerUserSignActivity -UserId $exampleUser -StartDate $start)
        $viaAlias.Count | Should -Be (Get-SignInCount -Filter "createdDateTime ge $(Format-Utc $start) and userId eq '$exampleUser'")
        $viaAlias.Id | Should -Contain '52000000-0000-4000-8000-000000000003'
    }

    It 'reads only the properties asked for, plus Id and CreatedDateTime' {
        $some = @(Get-PartnerUserSignInActivity -StartDate (Get-Date).AddHours(-6) -Property UserPrincipalName, Status)
        $some.Count | Should -BeGreaterThan 0
        $filled = $some[0].PSObject.Properties | Where-Object { $null -ne $_.Value } | ForEach-Object Name | Sort-Object
        $filled | Should -Be @('CreatedDateTime', 'Id', 'Status', 'TenantId', 'UserPrincipalName')
        @($some | Where-Object { $null -eq $_.Status.ErrorCode -or -not $_.Id }).Count | Should -Be 0
        @($some | Where-Object { $_.AppDisplayName -or $_.AuthenticationDetails }).Count | Should -Be 0
    }

    It 'reads v1.0 when asked (no beta-only properties)' {
        $start = (Get-Date).AddHours(-6)
        $v1 = @(Get-PartnerUserSignInActivity -StartDate $start -ApiVersion v1.0)
        $v1.Count | Should -Be (Get-SignInCount -Filter "createdDateTime ge $(Format-Utc $start)" -Version 'v1.0')
        @($v1 | Where-Object { $null -ne $_.AuthenticationDetails -or $null -ne $_.AuthenticationRequirement }).Count | Should -Be 0
        @($v1 | Where-Object { $null -eq $_.IsInteractive }).Count | Should -Be 0
    }
}

Describe 'Reading a sign-in record' {
    BeforeAll {
        # The module's own reader (SignInRecords.ToOutput, as the assessment uses it): JSON text in,
        # the output object out, without a server in between.
        $toOutput = [PartnerSecurity.Models.SignInRecords].GetMethod('ToOutput', [Reflection.BindingFlags]'NonPublic, Static')
        function script:Read-SignInRecord([string] $Json) {
            $document = [System.Text.Json.JsonDocument]::Parse($Json)
            try { $toOutput.Invoke($null, @($document.RootElement, 'tenant-x')) } finally { $document.Dispose() }
        }

        # A record with every property the type declares set, nested objects and arrays included,
        # each value of the kind the property takes.
        function script:New-FullRecord([type] $Type) {
            $record = [ordered]@{}
            foreach ($property in $Type.GetProperties()) {
                $t = $property.PropertyType
                $t = [Nullable]::GetUnderlyingType($t) ?? $t
                $record[$property.Name] = switch ($t) {
                    ([string]) { "$($property.Name)-value"; break }
                    ([DateTimeOffset]) { '2026-01-02T03:04:05Z'; break }
                    ([bool]) { $true; break }
                    ([int]) { 7; break }
                    ([long]) { 8; break }
                    ([double]) { 1.5; break }
                    ([string[]]) { , @('one', 'two'); break }
                    ([object]) { @{ shape = 'open' }; break }
                    default {
                        if ($t.IsArray) { , @(New-FullRecord $t.GetElementType()) } else { New-FullRecord $t }
                    }
                }
            }
            $record
        }

        # Every property of an output object, nested ones too, by path, that is null or empty.
        function script:Get-EmptyProperty($Value, [string] $Path) {
            foreach ($property in $Value.GetType().GetProperties()) {
                $v = $property.GetValue($Value)
                $at = "$Path.$($property.Name)"
                if ($null -eq $v -or ($v -is [array] -and $v.Count -eq 0)) { $at; continue }
                $element = if ($v -is [array]) { $v[0] } else { $v }
                if ($element.GetType().Namespace -eq 'PartnerSecurity.Models') { Get-EmptyProperty $element $at }
            }
        }
        $script:full = New-FullRecord ([PartnerSecurity.Models.SignIn])
    }

    It 'sets every property the type declares, nested objects included, each as its type' {
        $signIn = Read-SignInRecord ($full | ConvertTo-Json -Depth 10 -Compress)
        $signIn | Should -BeOfType ([PartnerSecurity.Models.SignIn])
        @(Get-EmptyProperty $signIn 'SignIn') | Should -BeNullOrEmpty
        $signIn.CreatedDateTime | Should -Be ([DateTimeOffset]'2026-01-02T03:04:05Z')
        $signIn.Status.ErrorCode | Should -Be 7
        $signIn.AutonomousSystemNumber | Should -BeOfType [long]
        $signIn.Location.GeoCoordinates.Latitude | Should -Be 1.5
        $signIn.AuthenticationDetails[0].AuthenticationStepDateTime | Should -BeOfType [DateTimeOffset]
        $signIn.AppliedConditionalAccessPolicies[0].EnforcedGrantControls | Should -Be @('one', 'two')
        $signIn.ConditionalAccessAudiences.shape | Should -Be 'open'
        $signIn.TenantId | Should -Be 'TenantId-value' -Because 'a TenantId from Graph is kept'
    }

    It 'keeps a top-level property it does not know as a note property of a typed sign-in' {
        $record = [ordered]@{ Id = 'a'; FutureSignal = @{ level = 3 }; UserPrincipalName = 'u@x' }
        $signIn = Read-SignInRecord ($record | ConvertTo-Json -Compress)
        $signIn.PSObject.BaseObject | Should -BeOfType ([PartnerSecurity.Models.SignIn])
        $signIn.FutureSignal.level | Should -Be 3
        $signIn.UserPrincipalName | Should -Be 'u@x'
        $signIn.TenantId | Should -Be 'tenant-x'
    }

    It 'reads a record that does not fit the type untyped, losing nothing (<Case>)' -ForEach @(
        @{ Case = 'a nested property it does not know'; Json = '{"Id":"a","Status":{"ErrorCode":0,"Later":"x"}}'; Check = { $_.Status.Later | Should -Be 'x' } }
        @{ Case = 'a number sent as text'; Json = '{"Id":"a","Status":{"ErrorCode":"50126"}}'; Check = { $_.Status.ErrorCode | Should -Be '50126' } }
        @{ Case = 'a flag sent as text'; Json = '{"Id":"a","IsInteractive":"yes"}'; Check = { $_.IsInteractive | Should -Be 'yes' } }
        @{ Case = 'a time that is not one'; Json = '{"Id":"a","CreatedDateTime":"yesterday"}'; Check = { $_.CreatedDateTime | Should -Be 'yesterday' } }
        @{ Case = 'an object where a string goes'; Json = '{"Id":"a","AppId":{"v":1}}'; Check = { $_.AppId.v | Should -Be 1 } }
        @{ Case = 'a string where an array goes'; Json = '{"Id":"a","AuthenticationDetails":"none"}'; Check = { $_.AuthenticationDetails | Should -Be 'none' } }
    ) {
        $output = Read-SignInRecord $Json
        $output | Should -Not -BeOfType ([PartnerSecurity.Models.SignIn])
        $output.PSObject.TypeNames[0] | Should -Be 'PartnerSecurity.Models.SignIn'
        $output.Id | Should -Be 'a'
        $output.TenantId | Should -Be 'tenant-x'
        $output | ForEach-Object $Check
    }

    It 'shares one string among records with the same client app, and reads each of many values right' {
        # 300 application names meet in the reader's 64 slots: a value read from a slot is its own.
        $names = @(1..300 | ForEach-Object { "app-$_" }) + @('Caf\u00e9 \"Pro\"', 'Café Pro')
        $read = foreach ($pass in 1, 2) {
            foreach ($name in $names) { Read-SignInRecord ('{"Id":"a","ClientAppUsed":"Browser","AppDisplayName":"' + $name + '","SignInEventTypes":["interactiveUser"]}') }
        }
        $expected = @(1..300 | ForEach-Object { "app-$_" }) + @('Café "Pro"', 'Café Pro')
        @($read.AppDisplayName) | Should -Be ($expected + $expected)
        [object]::ReferenceEquals($read[0].ClientAppUsed, $read[-1].ClientAppUsed) | Should -BeTrue
        [object]::ReferenceEquals($read[0].SignInEventTypes[0], $read[-1].SignInEventTypes[0]) | Should -BeTrue
        $read[-1].ClientAppUsed | Should -Be 'Browser'
    }

    # The cmdlet's records come with Graph's names (the native library no longer renames them);
    # an assessment's come with the PartnerCenter module's: both read as the same objects.
    It 'reads Graph''s names as the PartnerCenter module''s: every property the type declares, and one it does not know' {
        $pascal = $full | ConvertTo-Json -Depth 10 -Compress
        $graph = [regex]::Replace($pascal, '"([A-Z])(\w*)":', { param($m) '"' + $m.Groups[1].Value.ToLowerInvariant() + $m.Groups[2].Value + '":' })
        $graph | Should -MatchExactly '"userPrincipalName":"UserPrincipalName-value"' -Because 'the record must carry Graph''s names'
        $graph | Should -Not -MatchExactly '"[A-Z]\w*":'
        $signIn = Read-SignInRecord $graph
        $signIn | Should -BeOfType ([PartnerSecurity.Models.SignIn])
        @(Get-EmptyProperty $signIn 'SignIn') | Should -BeNullOrEmpty
        ($signIn | ConvertTo-Json -Depth 10 -Compress) | Should -Be ((Read-SignInRecord $pascal) | ConvertTo-Json -Depth 10 -Compress)
        $known = Read-SignInRecord '{"id":"a","futureSignal":{"level":3}}'
        # (Should -Contain ignores case.)
        $known.PSObject.Properties.Name -ccontains 'FutureSignal' | Should -BeTrue
        $known.PSObject.Properties.Name -ccontains 'futureSignal' | Should -BeFalse
        $known.FutureSignal.level | Should -Be 3
    }

    It 'reads an MfaDetail with nothing in it as null, as the PartnerCenter module showed a sign-in without MFA (<Case>)' -ForEach @(
        @{ Case = 'typed, Graph''s names'; Json = '{"id":"a","mfaDetail":{"authMethod":null,"authDetail":""}}'; Typed = $true }
        @{ Case = 'typed, empty'; Json = '{"id":"a","mfaDetail":{}}'; Typed = $true }
        @{ Case = 'untyped, Graph''s names'; Json = '{"id":"a","isInteractive":"yes","mfaDetail":{"authMethod":"","authDetail":null,"later":null}}'; Typed = $false }
    ) {
        $signIn = Read-SignInRecord $Json
        ($signIn.PSObject.BaseObject -is [PartnerSecurity.Models.SignIn]) | Should -Be $Typed
        $signIn.PSObject.Properties.Name | Should -Contain 'MfaDetail'
        # What the help's own example tests: ? {$_.MfaDetail -eq $null}.
        $null -eq $signIn.MfaDetail | Should -BeTrue
        (Read-SignInRecord $Json.Replace('"authMethod":', '"authMethod":"PhoneAppOTP","x":').Replace('"mfaDetail":{}', '"mfaDetail":{"authMethod":"PhoneAppOTP"}')).MfaDetail.AuthMethod | Should -Be 'PhoneAppOTP'
    }

    It 'reads a record with Graph''s names that does not fit the type untyped, with the PartnerCenter module''s names' {
        $output = Read-SignInRecord '{"id":"a","status":{"errorCode":0,"later":"x"},"location":{"geoCoordinates":{"latitude":1.5}},"authenticationDetails":[{"succeeded":true,"@odata.type":"t"}]}'
        $output.PSObject.BaseObject | Should -Not -BeOfType ([PartnerSecurity.Models.SignIn])
        $output.PSObject.Properties.Name | Should -BeExactly @('Id', 'Status', 'Location', 'AuthenticationDetails', 'TenantId')
        $output.Status.PSObject.Properties.Name | Should -BeExactly @('ErrorCode', 'Later')
        $output.Location.GeoCoordinates.PSObject.Properties.Name | Should -BeExactly @('Latitude')
        $output.AuthenticationDetails[0].PSObject.Properties.Name | Should -BeExactly @('Succeeded', '@odata.type')
        # Two names that meet as one: the later stands, as when the native library renamed them.
        $met = Read-SignInRecord '{"id":"a","Id":"b","status":{"x":1}}'
        $met.PSObject.Properties.Name | Should -BeExactly @('Id', 'Status', 'TenantId')
        $met.Id | Should -Be 'b'
    }

    It 'reads null values and empty arrays as they are' {
        $signIn = Read-SignInRecord '{"Id":"a","MfaDetail":null,"Status":null,"RiskEventTypes":[],"AuthenticationDetails":[null],"SignInEventTypes":["x",null]}'
        $signIn | Should -BeOfType ([PartnerSecurity.Models.SignIn])
        $signIn.MfaDetail | Should -BeNullOrEmpty
        $signIn.RiskEventTypes.Count | Should -Be 0
        $signIn.AuthenticationDetails.Count | Should -Be 1
        $signIn.SignInEventTypes.Count | Should -Be 2
    }
}

Describe 'Filters' {
    It 'sends a local StartDate as UTC (<Kind>)' -ForEach @(@{ Kind = 'Local' }, @{ Kind = 'Unspecified' }) {
        # In UTC+05:30 the PartnerCenter module's filter (local time written with a Z) would start
        # 5.5 hours in the future and find nothing.
        $saved = $env:TZ
        try {
            $env:TZ = 'Asia/Kolkata'
            [TimeZoneInfo]::ClearCachedData()
            [TimeZoneInfo]::Local.BaseUtcOffset | Should -Be ([timespan]'05:30:00')
            $start = [datetime]::SpecifyKind((Get-Date).AddHours(-3), $Kind)
            $utcStart = $start.ToUniversalTime()
            $signIns = @(Get-PartnerUserSignInActivity -StartDate $start)
            $expected = Get-SignInCount -Filter "createdDateTime ge $(Format-Utc $start)"
            $signIns.Count | Should -Be $expected
            $signIns.Count | Should -BeGreaterThan 10
            $floor = [DateTimeOffset]::new($utcStart.AddTicks(-($utcStart.Ticks % [timespan]::TicksPerSecond)), [timespan]::Zero)
            @($signIns | Where-Object { $_.CreatedDateTime -lt $floor }).Count | Should -Be 0
        } finally {
            $env:TZ = $saved
            [TimeZoneInfo]::ClearCachedData()
        }
    }

    It 'matches a UPN with a quote exactly, and a quote cannot widen the filter' {
        $quoted = @(Get-PartnerUserSignInActivity -UserPrincipalName $quotedUpn)
        $quoted.Id | Should -Contain '52000000-0000-4000-8000-000000000004'
        $quoted.Count | Should -Be (Get-SignInCount -Filter "userPrincipalName eq '$($quotedUpn.Replace("'", "''"))'")
        $quoted.UserPrincipalName | Sort-Object -Unique | Should -Be $quotedUpn
        @(Get-PartnerUserSignInActivity -UserPrincipalName "$quotedUpn' or userPrincipalName ne '").Count | Should -Be 0
        @(Get-PartnerUserSignInActivity -UserPrincipalName "x') or (1 eq 1", "'", "''").Count | Should -Be 0
    }

    It 'refuses a -UserId that is not a GUID before sending anything' {
        $before = @(Get-EmulatorSignInRequests -Emulator $emu).Count
        { Get-PartnerUserSignInActivity -UserId "3dd89389-b34c-4f5a-975d-516df5694d7e' or userId ne '" } | Should -Throw -ErrorId 'ParameterArgumentValidationError,PartnerSecurity.Commands.GetPartnerUserSignInActivity'
        { Get-PartnerUserSignInActivity -UserId 'admin@contoso.com' } | Should -Throw '*UserId*'
        @(Get-EmulatorSignInRequests -Emulator $emu).Count | Should -Be $before
    }

    It 'takes a -UserId in braces and capitals, as the PartnerCenter module did' {
        $plain = @(Get-PartnerUserSignInActivity -UserId $exampleUser).Id
        $plain.Count | Should -BeGreaterThan 0
        @(Get-PartnerUserSignInActivity -UserId "{$($exampleUser.ToUpperInvariant())}").Id | Should -Be $plain
    }

    It 'refuses reversed and absurd dates, naming the parameter' {
        $err = { Get-PartnerUserSignInActivity -StartDate (Get-Date) -EndDate (Get-Date).AddDays(-1) } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'InvalidInput,*'
        $err.Exception.Message | Should -BeLike "*'EndDate'*before -StartDate*"
        $err = { Get-PartnerUserSignInActivity -StartDate ([datetime]::MinValue) } | Should -Throw -PassThru
        $err.Exception.Message | Should -BeLike "*'StartDate'*"
    }

    It 'warns when -StartDate is older than Graph keeps sign-ins, and reads what Graph has' {
        $start = (Get-Date).AddDays(-45)
        # One user's: a few pages less to wait for under the budget.
        $signIns = @(Get-PartnerUserSignInActivity -StartDate $start -UserId $exampleUser -WarningVariable warnings -WarningAction SilentlyContinue)
        $signIns.Count | Should -Be (Get-SignInCount -Filter "createdDateTime ge $(Format-Utc $start) and userId eq '$exampleUser'")
        $signIns.Count | Should -BeGreaterThan 0
        $warnings.Count | Should -Be 1
        "$($warnings[0])" | Should -BeLike "-StartDate $($start.ToUniversalTime().ToString('yyyy-MM-dd HH:mm')) UTC is more than 30 days ago: Microsoft Graph keeps sign-ins for 30 days*Export-PartnerSignInActivity*"
        $null = Get-PartnerUserSignInActivity -StartDate (Get-Date).AddDays(-7) -UserId $exampleUser -WarningVariable recent -WarningAction SilentlyContinue
        $null = Get-PartnerUserSignInActivity -WarningVariable noStart -WarningAction SilentlyContinue | Select-Object -First 1
        $recent.Count + $noStart.Count | Should -Be 0
    }

    It 'filters by client app, application and event type' {
        $imap = @(Get-PartnerUserSignInActivity -ClientApp IMAP4)
        $imap.Count | Should -Be (Get-SignInCount -Filter "clientAppUsed eq 'IMAP4'")
        $imap.ClientAppUsed | Sort-Object -Unique | Should -Be 'IMAP4'
        $service = @(Get-PartnerUserSignInActivity -ServicePrincipal -ApplicationId $reporter)
        $service.Id | Should -Contain '51000000-0000-4000-8000-000000000006'
        $both = @(Get-PartnerUserSignInActivity -Interactive -NonInteractive -StartDate (Get-Date).AddHours(-1))
        $both.Id | Should -Contain '51000000-0000-4000-8000-000000000005'
        $err = { Get-PartnerUserSignInActivity -NonInteractive -ApiVersion v1.0 } | Should -Throw -PassThru
        $err.Exception.Message | Should -BeLike '*beta*'
    }
}

Describe 'Paging and throttling' {
    It 'reads every sign-in once, within 5 requests per 10 seconds and without a 429' {
        Invoke-EmulatorControl -Emulator $emu -Path '/_emulator/requests' -Method Delete | Out-Null
        $all = @(Get-PartnerUserSignInActivity -Interactive -NonInteractive -ServicePrincipal)
        $expected = Get-SignInCount -Filter "(signInEventTypes/any(t: t eq 'interactiveUser') or signInEventTypes/any(t: t eq 'nonInteractiveUser') or signInEventTypes/any(t: t eq 'servicePrincipal'))"
        $expected | Should -BeGreaterThan 5000
        $all.Count | Should -Be $expected
        ($all.Id | Sort-Object -Unique).Count | Should -Be $all.Count
        $requests = @(Get-EmulatorSignInRequests -Emulator $emu)
        $requests.Count | Should -BeGreaterThan 5 -Because 'the test must need more requests than one window allows'
        @($requests | Where-Object { $_.status -eq 429 }).Count | Should -Be 0
        # Sliding 10-second windows of the emulator's own request times: never more than 5.
        $times = @($requests | ForEach-Object { [DateTimeOffset]$_.time } | Sort-Object)
        for ($i = 5; $i -lt $times.Count; $i++) { ($times[$i] - $times[$i - 5]).TotalSeconds | Should -BeGreaterThan 10 }
    }

    It 'survives injected faults with nothing lost or repeated' {
        # More than a page (about 1,800 sign-ins), so several requests draw from the seeded faults.
        $start = (Get-Date).AddDays(-27)
        $reference = @(Get-PartnerUserSignInActivity -StartDate $start -Interactive -NonInteractive).Id
        $reference.Count | Should -BeGreaterThan 1000
        Invoke-EmulatorControl -Emulator $emu -Path '/_emulator/requests' -Method Delete | Out-Null
        Invoke-EmulatorControl -Emulator $emu -Path '/_emulator/faults' -Body @{ seed = 42; rate = 0.3; slowBodySeconds = 0.5 } | Out-Null
        try {
            $faulty = @(Get-PartnerUserSignInActivity -StartDate $start -Interactive -NonInteractive).Id
        } finally {
            Invoke-RestMethod -Uri "$($emu.BaseUrl)/_emulator/faults" -Method Post -Body 'null' -ContentType 'application/json' -SkipCertificateCheck | Out-Null
        }
        @(Get-EmulatorSignInRequests -Emulator $emu | Where-Object { $_.PSObject.Properties['fault'] }).Count | Should -BeGreaterThan 0 -Because 'faults must have been injected'
        $faulty | Should -Be $reference
    }
}

Describe 'Errors and tenants' {
    It 'explains the Entra ID P1/P2 licence when the tenant has none' {
        $path = Join-Path $TestDrive 'no-premium.json'
        $free = Get-Content -LiteralPath $scenarioPath -Raw | ConvertFrom-Json
        $free.tenants[0].licenses = @('ENTERPRISEPACK')
        $free | ConvertTo-Json -Depth 64 | Set-Content -LiteralPath $path -Encoding utf8
        $freeEmu = Start-TestEmulator -Scenario $path
        try {
            Register-TestEnvironment -Emulator $freeEmu -Name Free | Out-Null
            $credential = [pscredential]::new($reporter, (ConvertTo-SecureString $reporterSecret -AsPlainText -Force))
            Connect-PartnerCenter -ApplicationId $reporter -Credential $credential -RefreshToken $refreshToken -Tenant $tenantId -Environment Free | Out-Null
            $result = Get-PartnerUserSignInActivity -ErrorVariable failures -ErrorAction SilentlyContinue
            $result | Should -BeNullOrEmpty
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeLike 'Authentication_RequestFromNonPremiumTenantOrB2CTenant,*'
            $failures[0].CategoryInfo.Category | Should -Be 'PermissionDenied'
            $failures[0].TargetObject | Should -Be $tenantId
            $message = $failures[0].Exception.Message
            $message | Should -BeLike "*$tenantId*"
            $message | Should -BeLike '*Entra ID P1 or P2*'
            $message | Should -BeLike '*admin center*7 days*'
        } finally {
            Remove-PartnerEnvironment -Name Free -ErrorAction SilentlyContinue | Out-Null
            Stop-TestEmulator -Emulator $freeEmu
            Connect-Reporter | Out-Null
        }
    }

    It 'takes tenants from the pipeline; a failing tenant is a non-terminating error naming it' {
        $start = (Get-Date).AddHours(-6)
        $result = @($tenantId, $customerDomain | Get-PartnerUserSignInActivity -StartDate $start -ErrorVariable failures -ErrorAction SilentlyContinue)
        $result.Count | Should -Be (Get-SignInCount -Filter "createdDateTime ge $(Format-Utc $start)")
        $failures.Count | Should -Be 1
        $failures[0].TargetObject | Should -Be $customerDomain
        $failures[0].Exception.Message | Should -BeLike "Tenant '$customerDomain':*"
    }

    It 'reads nothing when the pipeline brings no tenant' {
        @(@() | Get-PartnerUserSignInActivity).Count | Should -Be 0
    }

    It 'binds -Tenant by property name (TenantId, CustomerId), and -Tenant takes a GUID' {
        $start = (Get-Date).AddHours(-2)
        $byCustomerId = @([pscustomobject]@{ CustomerId = $tenantId } | Get-PartnerUserSignInActivity -StartDate $start)
        $byCustomerId.Count | Should -BeGreaterThan 0
        $byCustomerId.TenantId | Sort-Object -Unique | Should -Be $tenantId
        $byGuid = @(Get-PartnerUserSignInActivity -Tenant ([guid]$tenantId) -StartDate $start)
        $byGuid.Count | Should -Be $byCustomerId.Count
    }

    It 'refuses an object that names no tenant, saying what to give, instead of looking up its type name' {
        $failure = { [pscustomobject]@{ UserPrincipalName = 'ada@contoso.example' } | Get-PartnerUserSignInActivity } | Should -Throw -PassThru
        $failure.FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentTransformationError,*'
        $failure.Exception.Message | Should -BeLike '*PSCustomObject object is not a tenant and has no CustomerTenantId, TenantId or CustomerId property*Get-PartnerGdapRelationship*'
        $failure.Exception.Message | Should -Not -Match 'AADSTS' -Because 'no tenant named after the type was looked up'
    }

    It 'asks for a connection first' {
        Disconnect-PartnerCenter | Out-Null
        try {
            $err = { Get-PartnerUserSignInActivity } | Should -Throw -PassThru
            $err.Exception.Message | Should -Be 'Run Connect-PartnerCenter to login.'
            $err = { Export-PartnerSignInActivity -Path (Join-Path $TestDrive 'never.jsonl') } | Should -Throw -PassThru
            $err.Exception.Message | Should -Be 'Run Connect-PartnerCenter to login.'
            Join-Path $TestDrive 'never.jsonl' | Should -Not -Exist
        } finally {
            Connect-Reporter | Out-Null
        }
    }
}

Describe 'Outcome filters' {
    BeforeAll {
        $script:outcomeStart = (Get-Date).AddDays(-3)
        $script:since = "createdDateTime ge $(Format-Utc $outcomeStart)"
    }

    It 'reads failures with any of the given error codes' {
        $failed = @(Get-PartnerUserSignInActivity -StartDate $outcomeStart -Failed -ErrorCode 50126, 50053, 50126)
        $failed.Count | Should -Be (Get-SignInCount -Filter "$since and (status/errorCode eq 50053 or status/errorCode eq 50126) and status/errorCode ne 0")
        $failed.Count | Should -BeGreaterThan 0
        $failed.Id | Should -Contain '51000000-0000-4000-8000-000000000003'
        @($failed | Where-Object { $_.Status.ErrorCode -notin 50126, 50053 }).Count | Should -Be 0
        # Without -Failed, -ErrorCode alone selects the same sign-ins.
        @(Get-PartnerUserSignInActivity -StartDate $outcomeStart -ErrorCode 50126, 50053).Id | Should -Be $failed.Id
    }

    It 'reads only successes with -Succeeded and only failures with -Failed' {
        $ok = @(Get-PartnerUserSignInActivity -StartDate $outcomeStart -Succeeded)
        $ok.Count | Should -Be (Get-SignInCount -Filter "$since and status/errorCode eq 0")
        @($ok | Where-Object { $_.Status.ErrorCode -ne 0 }).Count | Should -Be 0
        $bad = @(Get-PartnerUserSignInActivity -StartDate $outcomeStart -Failed)
        $bad.Count | Should -Be (Get-SignInCount -Filter "$since and status/errorCode ne 0")
        @($bad | Where-Object { $_.Status.ErrorCode -eq 0 }).Count | Should -Be 0
        $ok.Count + $bad.Count | Should -Be (Get-SignInCount -Filter $since)
    }

    It 'offers the outcome filters as parameter sets (any, succeeded, failed)' {
        $command = Get-Command Get-PartnerUserSignInActivity
        $command.DefaultParameterSet | Should -Be 'AnyOutcome'
        @($command.ParameterSets.Name | Sort-Object) | Should -Be @('AnyOutcome', 'Failed', 'Succeeded')
        (Get-Command Export-PartnerSignInActivity).DefaultParameterSet | Should -Be 'AnyOutcome'
    }

    It 'refuses contradictions and hostile error codes before sending anything' {
        Invoke-EmulatorControl -Emulator $emu -Path '/_emulator/requests' -Method Delete | Out-Null
        { Get-PartnerUserSignInActivity -Succeeded -Failed } | Should -Throw -ErrorId 'AmbiguousParameterSet,PartnerSecurity.Commands.GetPartnerUserSignInActivity'
        { Get-PartnerUserSignInActivity -Succeeded -ErrorCode 50126 } | Should -Throw -ErrorId 'AmbiguousParameterSet,PartnerSecurity.Commands.GetPartnerUserSignInActivity'
        { Get-PartnerUserSignInActivity -ErrorCode '50126 or status/errorCode ne 0' } | Should -Throw -ErrorId 'CannotConvertArgumentNoMessage,PartnerSecurity.Commands.GetPartnerUserSignInActivity'
        { Get-PartnerUserSignInActivity -ErrorCode "50126'" } | Should -Throw -ErrorId 'CannotConvertArgumentNoMessage,PartnerSecurity.Commands.GetPartnerUserSignInActivity'
        { Get-PartnerUserSignInActivity -ErrorCode -1 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,PartnerSecurity.Commands.GetPartnerUserSignInActivity'
        { Get-PartnerUserSignInActivity -ErrorCode 99999999999 } | Should -Throw -ErrorId 'CannotConvertArgumentNoMessage,PartnerSecurity.Commands.GetPartnerUserSignInActivity'
        { Get-PartnerUserSignInActivity -ErrorCode (1..51) } | Should -Throw -ErrorId 'ParameterArgumentValidationError,PartnerSecurity.Commands.GetPartnerUserSignInActivity'
        { Get-PartnerUserSignInActivity -ErrorCode @() } | Should -Throw -ErrorId 'ParameterArgumentValidationError,PartnerSecurity.Commands.GetPartnerUserSignInActivity'
        # Error code 0 is success: asking for failures with it is a contradiction the native side names.
        $err = { Get-PartnerUserSignInActivity -Failed -ErrorCode 0 } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'InvalidInput,*'
        $err.Exception.Message | Should -BeLike "*'ErrorCode'*contradicts*"
        $err = { Export-PartnerSignInActivity -Path (Join-Path $TestDrive 'contradiction.jsonl') -Failed -ErrorCode 0 } | Should -Throw -PassThru
        $err.Exception.Message | Should -BeLike "*'ErrorCode'*"
        Join-Path $TestDrive 'contradiction.jsonl' | Should -Not -Exist
        # The pacing parameters are checked too.
        { Get-PartnerUserSignInActivity -ThrottleLimit 0 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,PartnerSecurity.Commands.GetPartnerUserSignInActivity'
        { Get-PartnerUserSignInActivity -ThrottleBudget 10001 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,PartnerSecurity.Commands.GetPartnerUserSignInActivity'
        $err = { Get-PartnerUserSignInActivity -ThrottleWindow ([timespan]::Zero) } | Should -Throw -PassThru
        $err.Exception.Message | Should -BeLike "*'ThrottleWindow'*"
        @(Get-EmulatorSignInRequests -Emulator $emu).Count | Should -Be 0 -Because 'nothing hostile or contradictory reaches Graph'
    }

    It 'exports only the failures asked for' {
        $path = Join-Path $TestDrive 'lockouts.jsonl'
        $summary = Export-PartnerSignInActivity -Path $path -StartDate $outcomeStart -Failed -ErrorCode 50126
        $lines = @(Get-Content -LiteralPath $path | ForEach-Object { $_ | ConvertFrom-Json })
        $lines.Count | Should -Be $summary.Records
        $lines.Count | Should -Be (Get-SignInCount -Filter "$since and status/errorCode eq 50126 and status/errorCode ne 0")
        @($lines | Where-Object { $_.Status.ErrorCode -ne 50126 }).Count | Should -Be 0
    }
}

Describe 'Customer tenants through GDAP' {
    BeforeAll {
        # The partner tenant has active relationships with Fabrikam (no P1/P2) and Northwind,
        # an ended one with Tailspin, none with Woodgrove (native/emulator/README.md).
        $script:northwind = $scenario.tenants[2].id
        $script:tailspin = $scenario.tenants[3].domains[0]
        $script:woodgrove = $scenario.tenants[4].id
        $script:gdapStart = (Get-Date).AddHours(-12)
    }

    It 'reads a GDAP customer''s sign-ins with the partner''s refresh token; customers without a relationship fail by name' {
        Invoke-EmulatorControl -Emulator $emu -Path '/_emulator/requests' -Method Delete | Out-Null
        $customers = @(
            [pscustomobject]@{ CustomerId = $northwind }
            [pscustomobject]@{ CustomerId = $tailspin }
            [pscustomobject]@{ CustomerId = $woodgrove }
            [pscustomobject]@{ CustomerId = $customerDomain }
        )
        $result = @($customers | Get-PartnerUserSignInActivity -StartDate $gdapStart -ThrottleLimit 4 -ErrorVariable failures -ErrorAction SilentlyContinue)

        $result.Count | Should -Be (Get-SignInCount -Tenant $northwind -Filter "createdDateTime ge $(Format-Utc $gdapStart)")
        $result.Count | Should -BeGreaterThan 0
        @($result.TenantId | Sort-Object -Unique) | Should -Be @($northwind)
        ($result.Id | Sort-Object -Unique).Count | Should -Be $result.Count

        $failures.Count | Should -Be 3
        $byTenant = @{}
        foreach ($f in $failures) { $byTenant[[string]$f.TargetObject] = $f }
        @($byTenant.Keys | Sort-Object) | Should -Be @(@($tailspin, $woodgrove, $customerDomain) | Sort-Object)
        foreach ($tenant in $tailspin, $woodgrove) {
            $byTenant[$tenant].FullyQualifiedErrorId | Should -BeLike 'AADSTS90099,*'
            $byTenant[$tenant].Exception.Message | Should -BeLike "Tenant '$tenant':*GDAP*"
        }
        $byTenant[$customerDomain].FullyQualifiedErrorId | Should -BeLike 'Authentication_RequestFromNonPremiumTenantOrB2CTenant,*'

        # The refresh token was redeemed at each customer's own authority.
        $tokenPaths = @(Invoke-EmulatorControl -Emulator $emu -Path '/_emulator/requests' | Where-Object { $_.path -like '*/token' }).path
        foreach ($tenant in $northwind, $tailspin, $woodgrove) {
            @($tokenPaths | Where-Object { $_ -like "/$tenant/*" }).Count | Should -BeGreaterThan 0 -Because "a token was asked for at $tenant"
        }
        # The session stays the partner's.
        (Get-PartnerContext).Account.Tenant | Should -Be $tenantId
    }

    It 'reads the sign-ins of the GDAP customers Get-PartnerGdapRelationship lists, piped' {
        $relationships = @(Get-PartnerGdapRelationship)
        @($relationships | Sort-Object CustomerName | ForEach-Object { "$($_.CustomerTenantId) $($_.Status)" }) |
            Should -Be @("$($scenario.tenants[1].id) active", "$northwind active", "$($scenario.tenants[3].id) expired")
        $result = @($relationships | Where-Object Status -EQ active | Get-PartnerUserSignInActivity -StartDate $gdapStart -ErrorVariable failures -ErrorAction SilentlyContinue)
        $result.Count | Should -Be (Get-SignInCount -Tenant $northwind -Filter "createdDateTime ge $(Format-Utc $gdapStart)")
        $result.Count | Should -BeGreaterThan 0
        @($result.TenantId | Sort-Object -Unique) | Should -Be @($northwind)
        # Fabrikam (active, no P1/P2) fails by its id, with the licence error.
        $failures.Count | Should -Be 1
        [string]$failures[0].TargetObject | Should -Be $scenario.tenants[1].id
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'Authentication_RequestFromNonPremiumTenantOrB2CTenant,*'
        # A relationship given to -Tenant reads its customer too.
        @(Get-PartnerUserSignInActivity -Tenant ($relationships | Where-Object CustomerTenantId -EQ $northwind) -StartDate $gdapStart).Count | Should -Be $result.Count
    }

    It 'reveals no token or secret in the errors of refused customers' {
        $null = @($woodgrove | Get-PartnerUserSignInActivity -StartDate $gdapStart -ErrorVariable failures -ErrorAction SilentlyContinue)
        $failures.Count | Should -Be 1
        $text = ($failures | Out-String) + ($failures | ForEach-Object { $_.Exception.Message; $_.Exception.ToString() } | Out-String)
        foreach ($secret in @(Get-EmulatorIssuedSecrets -Emulator $emu) + $refreshToken + $reporterSecret) {
            $text.Contains($secret) | Should -BeFalse
        }
    }
}

Describe 'Ctrl+C' {
    It 'stops Get-PartnerUserSignInActivity promptly and ends its requests' {
        Set-GraphSettings @{ pageLatencyMs = 3000 }
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript({
                    param($ModulePath)
                    Import-Module $ModulePath
                    Get-PartnerUserSignInActivity -Interactive -NonInteractive
                }).AddArgument($modulePsd1)
            $handle = $ps.BeginInvoke()
            Start-Sleep -Seconds 2
            $handle.IsCompleted | Should -BeFalse
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $watch.Stop()
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 2
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
        } finally {
            $ps.Dispose()
            Set-GraphSettings @{ pageLatencyMs = 0 }
        }
        # The cursor was closed: no more sign-in requests arrive.
        Assert-SignInRequestsEnded -SettleSeconds 4 -WatchSeconds 4
    }

    It 'stops when the pipeline wants no more (Select-Object -First) and ends its requests' {
        # One request a second (the client's own limit; the emulator's is off), so that reading
        # every page would go on sending requests for several seconds after the first page.
        Set-GraphSettings @{ signInsThrottle = $null; pageLatencyMs = 500 }
        try {
            $first = @(Get-PartnerUserSignInActivity -Interactive -NonInteractive -ThrottleBudget 1 -ThrottleWindow '00:00:01' | Select-Object -First 3)
        } finally {
            Set-GraphSettings @{ signInsThrottle = $scenarioThrottle; pageLatencyMs = 0 }
        }
        $first.Count | Should -Be 3
        $first | ForEach-Object { $_.Id | Should -Not -BeNullOrEmpty }
        # The cursor was closed with the pipeline: the pages not yet asked for never are.
        Assert-SignInRequestsEnded -SettleSeconds 2 -WatchSeconds 3
    }
}

Describe 'Progress' {
    # The progress stream has no redirection operator; a PowerShell instance collects it in
    # Streams.Progress and keeps each record object, so a record reused for every update would
    # show up as many copies of the last one.
    BeforeAll {
        function script:Get-ProgressOf([scriptblock] $Command, [object[]] $Arguments) {
            $ps = [powershell]::Create()
            try {
                $null = $ps.AddScript({ param($ModulePath) Import-Module $ModulePath; $ProgressPreference = 'Continue' }).AddArgument($modulePsd1)
                $null = $ps.AddScript($Command, $false)
                foreach ($a in $Arguments) { $null = $ps.AddArgument($a) }
                $output = $ps.Invoke()
                $ps.Streams.Error | Should -BeNullOrEmpty
                [pscustomobject]@{ Output = $output; Records = @($ps.Streams.Progress) }
            } finally {
                $ps.Dispose()
            }
        }
        # Two pages or more: interactive and non-interactive sign-ins over 27 days.
        $script:progressStart = [DateTime]::UtcNow.AddDays(-27)
    }

    It 'Get-PartnerUserSignInActivity reports the first page and then pages as they arrive (a few updates a second), each with a new record, counts never falling, then Completed' {
        $run = Get-ProgressOf { param($Start) Get-PartnerUserSignInActivity -StartDate $Start -Interactive -NonInteractive } $progressStart
        $run.Output.Count | Should -BeGreaterThan 1000
        $records = $run.Records
        $records.Count | Should -BeGreaterOrEqual 3
        ($records.ActivityId | Select-Object -Unique) | Should -Be 1
        $records[0].StatusDescription | Should -Be 'Waiting for the first page'
        $updates = @($records | Select-Object -Skip 1 -First ($records.Count - 2))
        $updates.Count | Should -BeGreaterOrEqual 1
        $counts = @($updates | ForEach-Object { $_.RecordType | Should -Be 'Processing'; [int]($_.StatusDescription -replace ' sign-ins.*') })
        # A window's last page can be empty: counts never fall, and they rise overall.
        for ($i = 1; $i -lt $counts.Count; $i++) { $counts[$i] | Should -BeGreaterOrEqual $counts[$i - 1] }
        $counts[-1] | Should -BeGreaterThan 0
        $counts[-1] | Should -BeLessOrEqual $run.Output.Count
        $records[-1].RecordType | Should -Be 'Completed'
        $records[-1].StatusDescription | Should -Be 'Done'
    }

    It 'Export-PartnerSignInActivity reports the records written with a new record each time, then Completed' {
        Set-GraphSettings @{ pageLatencyMs = 1500 }
        try {
            $path = Join-Path $TestDrive 'progress.jsonl'
            $run = Get-ProgressOf { param($Path, $Start) Export-PartnerSignInActivity -Path $Path -StartDate $Start -Interactive -NonInteractive } $path, $progressStart
        } finally {
            Set-GraphSettings @{ pageLatencyMs = 0 }
        }
        $run.Output.Records | Should -BeGreaterThan 1000
        $records = $run.Records
        ($records.ActivityId | Select-Object -Unique) | Should -Be 2
        $processing = @($records | Select-Object -First ($records.Count - 1))
        $processing.Count | Should -BeGreaterOrEqual 2
        $processing | ForEach-Object { $_.RecordType | Should -Be 'Processing'; $_.StatusDescription | Should -BeLike "* sign-ins, * pages written to $path" }
        $written = @($processing | ForEach-Object { [int]($_.StatusDescription -replace ' sign-ins.*') })
        $written[0] | Should -BeLessThan $written[-1] -Because 'the first poll comes before the last page is written'
        for ($i = 1; $i -lt $written.Count; $i++) { $written[$i] | Should -BeGreaterOrEqual $written[$i - 1] }
        $records[-1].RecordType | Should -Be 'Completed'
    }
}

Describe 'Export-PartnerSignInActivity' {
    BeforeAll {
        # A fixed range, so that every run (and the killed process) exports the same sign-ins.
        $script:exportStart = [DateTime]::UtcNow.AddDays(-5)
        $script:exportEnd = [DateTime]::UtcNow.AddMinutes(-1)
        $script:exportFilter = "createdDateTime ge $(Format-Utc $exportStart) and createdDateTime lt $(Format-Utc $exportEnd.AddSeconds(1))"
        # The interrupted exports read more than a page (about 1,800 interactive and non-interactive
        # sign-ins over 27 days), so there is a second request to be stopped before.
        $script:longStart = [DateTime]::UtcNow.AddDays(-27)
        $script:longFilter = "createdDateTime ge $(Format-Utc $longStart) and createdDateTime lt $(Format-Utc $exportEnd.AddSeconds(1))"
        $script:longEventsFilter = "$longFilter and (signInEventTypes/any(t: t eq 'interactiveUser') or signInEventTypes/any(t: t eq 'nonInteractiveUser'))"
    }

    It 'writes JSONL: one sign-in per line, each once' {
        $path = Join-Path $TestDrive 'signins.jsonl'
        $summary = Export-PartnerSignInActivity -Path $path -StartDate $exportStart -EndDate $exportEnd
        $summary | Should -BeOfType 'PartnerSecurity.Models.SignInExportSummary'
        $expected = Get-SignInCount -Filter $exportFilter
        $summary.Records | Should -Be $expected
        $summary.Resumed | Should -BeFalse
        $summary.Format | Should -Be 'Jsonl'
        "$path.checkpoint.json" | Should -Not -Exist
        $lines = Get-Content -LiteralPath $path
        $lines.Count | Should -Be $expected
        $records = $lines | ForEach-Object { $_ | ConvertFrom-Json }
        ($records.Id | Sort-Object -Unique).Count | Should -Be $expected
        $records[0].TenantId | Should -Be $tenantId
        $records[0].PSObject.Properties.Name | Should -Contain 'UserPrincipalName'
    }

    It 'writes CSV with the flattened columns' {
        Push-Location $TestDrive
        try {
            $summary = Export-PartnerSignInActivity -Path 'signins.csv' -StartDate $exportStart -EndDate $exportEnd
        } finally { Pop-Location }
        $summary.Format | Should -Be 'Csv'
        $summary.Path | Should -Be (Join-Path $TestDrive 'signins.csv')
        # UTF-8 with a byte order mark, which Excel needs for non-English names.
        [IO.File]::ReadAllBytes((Join-Path $TestDrive 'signins.csv'))[0..2] | Should -Be @(0xEF, 0xBB, 0xBF)
        $rows = Import-Csv -LiteralPath (Join-Path $TestDrive 'signins.csv')
        $rows.Count | Should -Be (Get-SignInCount -Filter $exportFilter)
        ($rows[0].PSObject.Properties.Name) | Should -Be @('CreatedDateTime', 'UserPrincipalName', 'UserId', 'AppDisplayName', 'AppId', 'ClientAppUsed', 'IpAddress', 'Status.ErrorCode', 'Status.FailureReason', 'IsInteractive', 'AuthenticationRequirement', 'MfaDetail.AuthMethod', 'ConditionalAccessStatus', 'ResourceDisplayName', 'ResourceId', 'Id', 'TenantId')
        ($rows.Id | Sort-Object -Unique).Count | Should -Be $rows.Count
        @($rows | Where-Object { $_.'Status.ErrorCode' -ne '0' }).Count | Should -BeGreaterThan 0
    }

    It 'gives back the session''s unused managed memory before it starts (a full compacting collection), and not for -WhatIf' {
        # The benchmark shows what this takes off the export's peak RSS; this, that it happens.
        # pwsh's own gen2 collections run in the background: a blocking one is the export's.
        $before = [GC]::GetGCMemoryInfo([GCKind]::FullBlocking).Index
        Export-PartnerSignInActivity -Path (Join-Path $TestDrive 'whatif-memory.jsonl') -WhatIf
        [GC]::GetGCMemoryInfo([GCKind]::FullBlocking).Index | Should -Be $before
        $null = Export-PartnerSignInActivity -Path (Join-Path $TestDrive 'memory.jsonl') -StartDate $exportStart -EndDate $exportEnd
        $after = [GC]::GetGCMemoryInfo([GCKind]::FullBlocking)
        $after.Index | Should -BeGreaterThan $before
        $after.Compacted | Should -BeTrue
    }

    It 'warns when -StartDate is older than Graph keeps sign-ins' {
        $path = Join-Path $TestDrive 'old.jsonl'
        $summary = Export-PartnerSignInActivity -Path $path -StartDate (Get-Date).AddDays(-60) -EndDate (Get-Date).AddDays(-40) -WarningVariable warnings -WarningAction SilentlyContinue
        $summary.Records | Should -Be 0
        @($warnings).Count | Should -Be 1
        "$($warnings[0])" | Should -BeLike '*is more than 30 days ago: Microsoft Graph keeps sign-ins for 30 days*'
    }

    It 'does not overwrite without -Force, and -WhatIf writes nothing' {
        $path = Join-Path $TestDrive 'signins.jsonl'
        $err = { Export-PartnerSignInActivity -Path $path -StartDate $exportStart -EndDate $exportEnd } | Should -Throw -PassThru
        $err.Exception.Message | Should -BeLike '*-Force*'
        $other = Join-Path $TestDrive 'whatif.jsonl'
        Export-PartnerSignInActivity -Path $other -WhatIf | Should -BeNullOrEmpty
        $other | Should -Not -Exist
    }

    It 'resumes after the exporting process was killed: every sign-in exactly once' {
        $path = Join-Path $TestDrive 'killed.jsonl'
        $checkpoint = "$path.checkpoint.json"
        $script = Join-Path $TestDrive 'export-child.ps1'
        # The child exports with the same parameters as the resume below.
        Set-Content -LiteralPath $script -Encoding utf8 -Value @'
param($ModulePath, $Base, $Certificate, $App, $Secret, $RefreshToken, $Tenant, $Path, $Start, $End, $Log, $PidFile)
$ErrorActionPreference = 'Stop'
# The process to kill: pwsh installed as a dotnet tool runs in a child of the process Start-Process sees.
Set-Content -LiteralPath $PidFile -Value $PID
& {
Import-Module $ModulePath
Add-PartnerEnvironment -Name Emulator -ActiveDirectoryAuthority $Base -GraphEndpoint "$Base/graph" -PartnerCenterEndpoint "$Base/partnercenter" -TrustedCertificatePath $Certificate | Out-Null
$credential = [pscredential]::new($App, (ConvertTo-SecureString $Secret -AsPlainText -Force))
Connect-PartnerCenter -ApplicationId $App -Credential $credential -RefreshToken $RefreshToken -Tenant $Tenant -Environment Emulator | Out-Null
Export-PartnerSignInActivity -Path $Path -StartDate ([datetime]::Parse($Start, $null, 'RoundtripKind')) -EndDate ([datetime]::Parse($End, $null, 'RoundtripKind')) -Interactive -NonInteractive -ThrottleBudget 1
} *> $Log
'@
        # One request per 10 s: the export's second page waits ~10 s for its slot, so the kill
        # below lands mid-export however fast the first page comes (the resume uses the default).
        Set-GraphSettings @{ pageLatencyMs = 700 }
        $pwsh = (Get-Command pwsh -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1).Source
        if (-not $pwsh) { $pwsh = Join-Path $PSHOME 'pwsh' }
        $arguments = @('-NoProfile', '-NonInteractive', '-File', $script, $modulePsd1, $emu.BaseUrl, $emu.CertificatePath, $reporter, $reporterSecret, $refreshToken, $tenantId, $path, $longStart.ToString('o'), $exportEnd.ToString('o'), (Join-Path $TestDrive 'child.log'), (Join-Path $TestDrive 'child.pid'))
        # The child writes its own streams to child.log (Start-Process's redirection can crash the
        # parent when the child is killed while writing).
        $child = Start-Process -FilePath $pwsh -ArgumentList ($arguments | ForEach-Object { '"' + $_ + '"' }) -PassThru
        try {
            # Kill it once some pages are in the file, but not all.
            $deadline = [DateTime]::UtcNow.AddSeconds(90)
            $written = 0
            while ([DateTime]::UtcNow -lt $deadline -and -not $child.HasExited) {
                if (Test-Path -LiteralPath $checkpoint) {
                    try { $written = (Get-Content -LiteralPath $checkpoint -Raw | ConvertFrom-Json).records } catch { $written = 0 }
                    if ($written -gt 0) { break }
                }
                Start-Sleep -Milliseconds 50
            }
            $child.HasExited | Should -BeFalse -Because "the export must still be running when it is killed ($(Get-Content (Join-Path $TestDrive 'child.log') -Raw -ErrorAction SilentlyContinue))"
            $exporter = Get-Process -Id ([int](Get-Content -LiteralPath (Join-Path $TestDrive 'child.pid'))) -ErrorAction Stop
            Stop-Process -Id $exporter.Id -Force
            $exporter.WaitForExit()
            $child.WaitForExit()
        } finally {
            if (-not $child.HasExited) { Stop-Process -Id $child.Id -Force }
            Set-GraphSettings @{ pageLatencyMs = 0 }
        }
        $checkpoint | Should -Exist
        $expected = Get-SignInCount -Filter $longEventsFilter
        $expected | Should -BeGreaterThan 1000 -Because 'the export must need a second page'
        $written | Should -BeLessThan $expected
        $secrets = Get-EmulatorIssuedSecrets -Emulator $emu
        $contents = (Get-Content -LiteralPath $path, $checkpoint -Raw) -join "`n"
        foreach ($secret in $secrets) { $contents.Contains($secret) | Should -BeFalse -Because 'no token or secret belongs in an export or its checkpoint' }
        # Whatever the process had begun to write after its last checkpoint is cut off by the resume.
        Add-Content -LiteralPath $path -Value '{"Id":"half-written' -NoNewline

        $summary = Export-PartnerSignInActivity -Path $path -StartDate $longStart -EndDate $exportEnd -Interactive -NonInteractive -Resume
        $summary.Resumed | Should -BeTrue
        $summary.Records | Should -Be $expected
        $summary.RecordsThisRun | Should -BeLessThan $expected
        $checkpoint | Should -Not -Exist
        $ids = Get-Content -LiteralPath $path | ForEach-Object { ($_ | ConvertFrom-Json).Id }
        $ids.Count | Should -Be $expected
        ($ids | Sort-Object -Unique).Count | Should -Be $expected
    }

    It 'stops with a write error naming the file when the disk fills, and -Resume completes once there is room' -Skip:(-not $IsLinux) {
        # The child exports under a 256 KiB file-size limit (ulimit -f, SIGXFSZ ignored so writes
        # fail with EFBIG as on a full disk): the first page (~200 KB) fits, the second does not.
        $path = Join-Path $TestDrive 'full.jsonl'
        $checkpoint = "$path.checkpoint.json"
        $script = Join-Path $TestDrive 'export-full.ps1'
        Set-Content -LiteralPath $script -Encoding utf8 -Value @'
param($ModulePath, $Base, $Certificate, $App, $Secret, $RefreshToken, $Tenant, $Path, $Start, $End, $Log)
Import-Module $ModulePath
Add-PartnerEnvironment -Name Emulator -ActiveDirectoryAuthority $Base -GraphEndpoint "$Base/graph" -PartnerCenterEndpoint "$Base/partnercenter" -TrustedCertificatePath $Certificate | Out-Null
$credential = [pscredential]::new($App, (ConvertTo-SecureString $Secret -AsPlainText -Force))
Connect-PartnerCenter -ApplicationId $App -Credential $credential -RefreshToken $RefreshToken -Tenant $Tenant -Environment Emulator | Out-Null
try {
    Export-PartnerSignInActivity -Path $Path -StartDate ([datetime]::Parse($Start, $null, 'RoundtripKind')) -EndDate ([datetime]::Parse($End, $null, 'RoundtripKind')) -Interactive -NonInteractive -Property Id, CreatedDateTime, UserPrincipalName -ErrorAction Stop | Out-Null
    $outcome = @{ Completed = $true }
} catch {
    $outcome = @{ Completed = $false; Category = "$($_.CategoryInfo.Category)"; ErrorId = $_.FullyQualifiedErrorId; Message = $_.Exception.Message }
}
$outcome | ConvertTo-Json -Compress | Set-Content -LiteralPath $Log
'@
        $pwsh = (Get-Command pwsh -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1).Source
        if (-not $pwsh) { $pwsh = Join-Path $PSHOME 'pwsh' }
        $log = Join-Path $TestDrive 'full.log'
        $arguments = @($script, $modulePsd1, $emu.BaseUrl, $emu.CertificatePath, $reporter, $reporterSecret, $refreshToken, $tenantId, $path, $longStart.ToString('o'), $exportEnd.ToString('o'), $log)
        # .NET's W^X double mapping sizes an in-memory file beyond any small limit: off for the child.
        $env:DOTNET_EnableWriteXorExecute = '0'
        try {
            & bash -c 'trap "" XFSZ; ulimit -f 256; exec "$0" -NoProfile -NonInteractive -File "$@"' $pwsh @arguments
        } finally {
            Remove-Item Env:DOTNET_EnableWriteXorExecute
        }
        $outcome = Get-Content -LiteralPath $log -Raw | ConvertFrom-Json
        $outcome.Completed | Should -BeFalse -Because 'the export cannot fit under the limit'
        $outcome.Category | Should -Be 'WriteError'
        $outcome.ErrorId | Should -BeLike 'StorageError*'
        $outcome.Message | Should -BeLike "*$path*"
        $outcome.Message | Should -BeLike '*-Resume*'
        $checkpoint | Should -Exist
        $written = (Get-Content -LiteralPath $checkpoint -Raw | ConvertFrom-Json).records
        $written | Should -BeGreaterThan 0 -Because 'the first page fitted'

        $summary = Export-PartnerSignInActivity -Path $path -StartDate $longStart -EndDate $exportEnd -Interactive -NonInteractive -Property Id, CreatedDateTime, UserPrincipalName -Resume
        $expected = Get-SignInCount -Filter $longEventsFilter
        $summary.Records | Should -Be $expected
        $summary.RecordsThisRun | Should -Be ($expected - $written)
        $ids = Get-Content -LiteralPath $path | ForEach-Object { ($_ | ConvertFrom-Json).Id }
        $ids.Count | Should -Be $expected
        ($ids | Sort-Object -Unique).Count | Should -Be $expected
    }

    It 'stops on Ctrl+C with a checkpoint that -Resume completes' {
        $path = Join-Path $TestDrive 'stopped.jsonl'
        Set-GraphSettings @{ pageLatencyMs = 700 }
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript({
                    param($ModulePath, $Path, $Start, $End)
                    Import-Module $ModulePath
                    Export-PartnerSignInActivity -Path $Path -StartDate $Start -EndDate $End -Interactive -NonInteractive -ThrottleBudget 1
                }).AddArgument($modulePsd1).AddArgument($path).AddArgument($longStart).AddArgument($exportEnd)
            $handle = $ps.BeginInvoke()
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while ([DateTime]::UtcNow -lt $deadline -and -not $handle.IsCompleted) {
                if ((Test-Path -LiteralPath "$path.checkpoint.json") -and ((Get-Content -LiteralPath "$path.checkpoint.json" -Raw | ConvertFrom-Json).records -gt 0)) { break }
                Start-Sleep -Milliseconds 50
            }
            $handle.IsCompleted | Should -BeFalse
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 5
        } finally {
            $ps.Dispose()
            Set-GraphSettings @{ pageLatencyMs = 0 }
        }
        "$path.checkpoint.json" | Should -Exist
        $summary = Export-PartnerSignInActivity -Path $path -StartDate $longStart -EndDate $exportEnd -Interactive -NonInteractive -Resume
        $summary.Resumed | Should -BeTrue
        $expected = Get-SignInCount -Filter $longEventsFilter
        $summary.Records | Should -Be $expected
        $ids = Get-Content -LiteralPath $path | ForEach-Object { ($_ | ConvertFrom-Json).Id }
        ($ids | Sort-Object -Unique).Count | Should -Be $expected
        $ids.Count | Should -Be $expected
    }
}

Describe 'Get-PartnerUserSignInActivity binds like the PartnerCenter module (reference §2)' {
    It 'has -StartDate and -EndDate as optional DateTime and -UserId as an optional GUID-validated parameter, none positional' {
        Import-Module (Join-Path $PSScriptRoot '../TestHelpers.psm1') -Force
        Import-PartnerSecurityModule
        $command = Get-Command Get-PartnerUserSignInActivity
        foreach ($name in 'StartDate', 'EndDate') {
            $command.Parameters[$name].ParameterType | Should -Be ([Nullable[datetime]]) -Because "-$name is DateTime? in the original"
        }
        foreach ($name in 'StartDate', 'EndDate', 'UserId') {
            $attributes = $command.Parameters[$name].Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] }
            $attributes.Mandatory | Should -Not -Contain $true
            $attributes.Position | Should -Not -BeGreaterThan -1
        }
        { Get-PartnerUserSignInActivity -UserId 'not-a-guid' } | Should -Throw -ErrorId 'ParameterArgumentValidationError,PartnerSecurity.Commands.GetPartnerUserSignInActivity'
    }
}
