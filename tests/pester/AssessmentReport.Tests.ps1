# The HTML assessment report rendered by a real browser (headless Chromium): it opens, a
# screenshot of it is a real image, and the summary the browser shows is the assessment's own
# (counts per status and per requirement, read back from the rendered DOM).
# tools/bootstrap.sh installs Chromium on Debian/Ubuntu; elsewhere this file is skipped (failed
# under CI) unless PARTNERSEC_BROWSER names a Chrome/Chromium binary.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../TestHelpers.psm1') -Force
    Import-PartnerSecurityModule
    $script:repo = Split-Path -Parent (Split-Path -Parent $PSScriptRoot)

    $script:browser = @($env:PARTNERSEC_BROWSER, 'chromium', 'chromium-browser', 'google-chrome') |
        Where-Object { $_ } | ForEach-Object { Get-Command $_ -CommandType Application -ErrorAction SilentlyContinue } |
        Select-Object -First 1 -ExpandProperty Source

    # Runs the browser headless on the report; returns its standard output. The profile lives in
    # the test drive; --no-sandbox because CI containers run as root, where Chromium's sandbox cannot start.
    function script:Invoke-Browser([string[]] $Arguments) {
        $profileDir = Join-Path $TestDrive ("chromium-" + [guid]::NewGuid().ToString('n').Substring(0, 8))
        $all = @('--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', "--user-data-dir=$profileDir") + $Arguments
        $output = & $browser @all 2>$null
        if ($LASTEXITCODE -ne 0) { throw "$browser exited with $LASTEXITCODE" }
        $output -join "`n"
    }

    if ($browser) {
        $script:emu = Start-TestEmulator -Scenario (Join-Path $repo 'native/emulator/scenarios/compliance.json')
        Register-TestEnvironment -Emulator $emu | Out-Null
        # Tenant 3: Conditional Access with gaps, so every status shows up.
        Connect-TestConsent -Emulator $emu -Name sam-admin-3 | Out-Null
        $script:reports = Join-Path $TestDrive 'reports'
        $script:findings = @(Invoke-PartnerSecurityAssessment -OutputPath $reports)
        $script:html = (Get-ChildItem -LiteralPath $reports -Filter '*.html').FullName
        $script:url = [UriBuilder]::new('file', '', -1, $html).Uri.AbsoluteUri
    }
}

AfterAll {
    Disconnect-PartnerCenter -ErrorAction SilentlyContinue | Out-Null
    Stop-TestEmulator -Emulator $emu
}

Describe 'The HTML assessment report in headless Chromium' {
    BeforeEach {
        if (-not $browser) {
            if ($env:CI) { throw 'No Chromium or Chrome found: run tools/bootstrap.sh (it installs chromium on Debian/Ubuntu) or set PARTNERSEC_BROWSER.' }
            Set-ItResult -Skipped -Because 'no Chromium or Chrome (run tools/bootstrap.sh, or set PARTNERSEC_BROWSER)'
        }
    }

    It 'renders to a real screenshot of the requested size' {
        $png = Join-Path $TestDrive 'report.png'
        Invoke-Browser @("--screenshot=$png", '--window-size=1280,1600', '--hide-scrollbars', $url) | Out-Null
        Test-Path -LiteralPath $png | Should -BeTrue
        $bytes = [IO.File]::ReadAllBytes($png)
        # A page of tables and coloured tiles compresses to tens of kilobytes; a blank page to ~5 KB.
        $bytes.Length | Should -BeGreaterThan 30000
        [Text.Encoding]::ASCII.GetString($bytes, 1, 3) | Should -Be 'PNG'
        # IHDR: width and height, big-endian, at bytes 16 and 20.
        $size = { param($at) [BitConverter]::ToInt32([byte[]]($bytes[($at + 3)..$at]), 0) }
        (& $size 16) | Should -Be 1280
        (& $size 20) | Should -Be 1600
        # Kept with the other test outputs (git-ignored) for a person to look at.
        $out = Join-Path $repo 'tests/out'
        New-Item -ItemType Directory -Path $out -Force | Out-Null
        Copy-Item -LiteralPath $png -Destination (Join-Path $out 'assessment-report.png') -Force
    }

    It 'shows the assessment''s own summary: counts per status and each requirement''s status' {
        $dom = Invoke-Browser @('--dump-dom', $url)
        $dom | Should -Match '<table id="summary">'
        foreach ($status in 'Pass', 'Warn', 'Fail', 'Error', 'NotApplicable') {
            $expected = @($findings | Where-Object Status -EQ $status).Count
            $dom | Should -Match "id=`"count-$status`">$expected<" -Because "the $status tile"
        }
        $rank = @{ Error = 4; Fail = 3; Warn = 2; Pass = 1; NotApplicable = 0 }
        foreach ($group in $findings | Group-Object Check) {
            $worst = $group.Group.Status | Sort-Object { $rank["$_"] } -Descending | Select-Object -First 1
            $row = [regex]::Match($dom, "<tr id=`"req-$($group.Name)`">.*?</tr>").Value
            $row | Should -Match "class=`"s $worst`">$worst<" -Because "$($group.Name)'s row"
        }
        $dom | Should -Match 'LegacyAuthentication.NotBlocked'
        $dom | Should -Match '33333333-0000-4000-8000-000000000003'
    }
}
