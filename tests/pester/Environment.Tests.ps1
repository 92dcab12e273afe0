# Environments: the built-in clouds of the PartnerCenter module and custom ones (the emulator).

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../TestHelpers.psm1') -Force
    Import-PartnerSecurityModule
}

Describe 'Get-PartnerEnvironment' {
    It 'lists the five Azure clouds with the PartnerCenter module''s endpoints' {
        $all = Get-PartnerEnvironment | Where-Object IsBuiltIn
        $all.Name | Should -Be @('AzureCloud', 'AzureChinaCloud', 'AzureGermanCloud', 'AzurePPE', 'AzureUSGovernment')
        $cloud = $all | Where-Object Name -EQ 'AzureCloud'
        $cloud.ActiveDirectoryAuthority | Should -Be 'https://login.microsoftonline.com/'
        $cloud.PartnerCenterEndpoint | Should -Be 'https://api.partnercenter.microsoft.com'
        $cloud.GraphEndpoint | Should -Be 'https://graph.microsoft.com'
        $cloud.AzureAdGraphEndpoint | Should -Be 'https://graph.windows.net'
        ($all | Where-Object Name -EQ 'AzureChinaCloud').PartnerCenterEndpoint | Should -Be 'https://partner.partnercenterapi.microsoftonline.cn'
        ($all | Where-Object Name -EQ 'AzureUSGovernment').GraphEndpoint | Should -Be 'https://graph.microsoft.us'
    }

    It 'takes the name by position and from the pipeline, and knows the 1.5-era names' {
        (Get-PartnerEnvironment AzureChinaCloud).ActiveDirectoryAuthority | Should -Be 'https://login.chinacloudapi.cn/'
        ([pscustomobject]@{ Name = 'GlobalCloud' } | Get-PartnerEnvironment).Name | Should -Be 'AzureCloud'
        (Get-PartnerEnvironment -Name usgovernment).Name | Should -Be 'AzureUSGovernment'
        (Get-PartnerEnvironment AzureCloud).EnvironmentName | Should -Be 'AzureCloud'
    }

    It 'reports an unknown name as a non-terminating error and goes on' {
        $result = 'Nowhere', 'AzureCloud' | ForEach-Object { [pscustomobject]@{ Name = $_ } } |
            Get-PartnerEnvironment -ErrorVariable failures -ErrorAction SilentlyContinue
        $result.Name | Should -Be 'AzureCloud'
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'EnvironmentNotFound,PartnerSecurity.Commands.GetPartnerEnvironment'
        $failures[0].Exception.Message | Should -Match 'Add-PartnerEnvironment'
    }
}

Describe 'Add-PartnerEnvironment and Remove-PartnerEnvironment' {
    AfterEach {
        Get-PartnerEnvironment | Where-Object { -not $_.IsBuiltIn } | Remove-PartnerEnvironment -Confirm:$false
    }

    It 'registers a custom environment that completes and can be removed' {
        $env = Add-PartnerEnvironment -Name Lab -ActiveDirectoryAuthority 'https://login.lab.example' -GraphEndpoint 'https://graph.lab.example/' -PartnerCenterEndpoint 'https://pc.lab.example'
        $env.ActiveDirectoryAuthority | Should -Be 'https://login.lab.example/'
        $env.GraphEndpoint | Should -Be 'https://graph.lab.example'
        $env.IsBuiltIn | Should -BeFalse
        (Get-PartnerEnvironment -Name lab).PartnerCenterEndpoint | Should -Be 'https://pc.lab.example'
        Remove-PartnerEnvironment -Name Lab -Confirm:$false
        Get-PartnerEnvironment -Name Lab -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'registers nothing with -WhatIf' {
        Add-PartnerEnvironment -Name WhatIfLab -ActiveDirectoryAuthority 'https://l.example' -GraphEndpoint 'https://g.example' -PartnerCenterEndpoint 'https://p.example' -WhatIf
        Get-PartnerEnvironment -Name WhatIfLab -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'refuses <Case> and names the parameter' -ForEach @(
        @{ Case = 'plain http off loopback'; Parameters = @{ ActiveDirectoryAuthority = 'http://login.lab.example' }; Parameter = 'ActiveDirectoryAuthority' }
        @{ Case = 'a relative URL'; Parameters = @{ GraphEndpoint = 'graph.lab.example' }; Parameter = 'GraphEndpoint' }
        @{ Case = 'a query string'; Parameters = @{ PartnerCenterEndpoint = 'https://pc.example/?x=1' }; Parameter = 'PartnerCenterEndpoint' }
        @{ Case = 'a built-in name'; Parameters = @{ Name = 'AzureCloud' }; Parameter = 'Name' }
        @{ Case = 'a name with a slash'; Parameters = @{ Name = 'a/b' }; Parameter = 'Name' }
    ) {
        $arguments = @{ Name = 'Bad'; ActiveDirectoryAuthority = 'https://l.example'; GraphEndpoint = 'https://g.example'; PartnerCenterEndpoint = 'https://p.example' }
        foreach ($key in $Parameters.Keys) { $arguments[$key] = $Parameters[$key] }
        { Add-PartnerEnvironment @arguments } | Should -Throw -ExpectedMessage "*'$Parameter'*"
        Get-PartnerEnvironment -Name Bad -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'accepts plain http for loopback addresses only' {
        (Add-PartnerEnvironment -Name Local -ActiveDirectoryAuthority 'http://127.0.0.1:9' -GraphEndpoint 'http://localhost:9/graph' -PartnerCenterEndpoint 'http://[::1]:9/pc').Name | Should -Be 'Local'
    }

    It 'says which file is missing for -TrustedCertificatePath' {
        $missing = Join-Path $TestDrive 'missing.pem'
        $err = { Add-PartnerEnvironment -Name Lab -ActiveDirectoryAuthority 'https://l.example' -GraphEndpoint 'https://g.example' -PartnerCenterEndpoint 'https://p.example' -TrustedCertificatePath $missing } |
            Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'TrustedCertificateNotFound,*'
        $err.Exception.Message | Should -BeLike "*$missing*"
    }

    It 'refuses a file that is not a PEM certificate' {
        $notPem = Join-Path $TestDrive 'not.pem'
        Set-Content -LiteralPath $notPem -Value 'hello'
        { Add-PartnerEnvironment -Name Lab -ActiveDirectoryAuthority 'https://l.example' -GraphEndpoint 'https://g.example' -PartnerCenterEndpoint 'https://p.example' -TrustedCertificatePath $notPem } |
            Should -Throw -ExpectedMessage "*'TrustedCertificatePath'*PEM*"
    }

    It 'cannot remove a built-in cloud, and reports a missing custom one' {
        { Remove-PartnerEnvironment -Name AzureCloud -Confirm:$false -ErrorAction Stop } | Should -Throw -ExpectedMessage '*built-in*'
        Remove-PartnerEnvironment -Name NoSuchLab -Confirm:$false -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'EnvironmentNotFound,*'
    }

    It 'completes environment names on Tab' {
        Add-PartnerEnvironment -Name TabLab -ActiveDirectoryAuthority 'https://l.example' -GraphEndpoint 'https://g.example' -PartnerCenterEndpoint 'https://p.example' | Out-Null
        $line = 'Connect-PartnerCenter -Environment Tab'
        $completions = TabExpansion2 -inputScript $line -cursorColumn $line.Length
        $completions.CompletionMatches.CompletionText | Should -Contain 'TabLab'
        $line = 'Get-PartnerEnvironment AzureC'
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be @('AzureCloud', 'AzureChinaCloud')
    }
}
