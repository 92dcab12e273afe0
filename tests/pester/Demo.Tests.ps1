# The demo (tools/demo.sh runs tools/demo.ps1 against the emulator's demo scenario), run in a
# pwsh of its own as a user would: it connects with the Secure Application Model, shows the
# context, the sign-ins without MFA and the assessment's findings per check, and prints no
# secret of the scenario.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../TestHelpers.psm1') -Force
    $repo = Split-Path -Parent (Split-Path -Parent $PSScriptRoot)
    $script:emu = Start-TestEmulator
    $demo = Join-Path $repo 'tools/demo.ps1'
    $text = & pwsh -NoProfile -NonInteractive -File $demo -ReadyFile (Join-Path $emu.Directory 'ready.json') *>&1 | Out-String -Width 250
    $script:exitCode = $LASTEXITCODE
    # Without the colours the host adds to table and list labels.
    $script:output = $text -replace "`e\[[0-9;]*m", ''
    $tenant = $emu.Scenario.tenants | Where-Object { $_.consents.name -contains 'sam-admin' } | Select-Object -First 1
    $script:secrets = @($tenant.applications.secrets.value) + @($tenant.consents.refreshToken) | Where-Object { $_ }
}

AfterAll {
    Stop-TestEmulator -Emulator $emu
}

Describe 'The demo' {
    It 'runs to the end' {
        $exitCode | Should -Be 0 -Because $output
        $output | Should -BeLike '*Each finding has Evidence and Remediation*'
    }

    It 'connects with the Secure Application Model and shows that the token carries MFA' {
        $output | Should -BeLike '*Connecting as application*'
        $output | Should -Match 'AuthenticationMethods\s*:\s*\{pwd, mfa\}'
    }

    It 'lists successful sign-ins without MFA' {
        $section = ($output -split 'Successful sign-ins of the last 7 days without MFA')[1]
        $section | Should -Not -BeNullOrEmpty
        # Rows of the default view: the time in UTC, who, error code 0 and Mfa False.
        $section | Should -Match '(?m)^\s*\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \S+\s+0 False\b'
    }

    It 'summarises the assessment per check' {
        foreach ($check in 'MfaCoverage', 'SignInEvidence', 'LegacyAuthentication', 'SecureApplicationModel') {
            $output | Should -Match "(?m)^\s*$check\s+\d+\s+\d+ " -Because "the $check check reports findings"
        }
    }

    It 'prints no secret of the scenario' {
        $secrets.Count | Should -BeGreaterThan 1
        foreach ($secret in $secrets) {
            $output.Contains($secret) | Should -BeFalse -Because 'a client secret or refresh token was printed'
        }
    }
}
