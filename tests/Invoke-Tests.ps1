#Requires -Version 7.4
<#
.SYNOPSIS
    Runs the Pester end-to-end tests (tests/pester/*.Tests.ps1) against the built module in artifacts/.

.DESCRIPTION
    Imports Pester from .tools/ (restored by tools/bootstrap.sh, never from PSGallery), writes
    NUnit XML to tests/out/pester.xml and ends with one plain line, 'N passed, N failed'
    (', N skipped' when any). Exits non-zero when a test, block or file failed, or when no test ran.
    Normally started by tools/test.sh, after tools/build.sh:
        pwsh -NoProfile -NonInteractive -File tests/Invoke-Tests.ps1
#>
[CmdletBinding()]
param(
    # Test files or folders; default: every tests/pester/*.Tests.ps1.
    [string[]] $Path = @(Join-Path $PSScriptRoot 'pester'),
    # Pester tag filter, e.g. -Tag Smoke.
    [string[]] $Tag,
    [ValidateSet('None', 'Normal', 'Detailed', 'Diagnostic')]
    [string] $Verbosity = 'Detailed'
)
$ErrorActionPreference = 'Stop'
$root = Split-Path -Parent $PSScriptRoot

$pesterPathFile = Join-Path $root '.tools/pester-path.txt'
if (-not (Test-Path -LiteralPath $pesterPathFile)) {
    Write-Error "Pester is not restored ($pesterPathFile missing): run tools/bootstrap.sh first."
    exit 2
}
$pesterPsd1 = (Get-Content -LiteralPath $pesterPathFile -Raw).Trim()
Import-Module $pesterPsd1 -Force

$outDir = Join-Path $PSScriptRoot 'out'
New-Item -ItemType Directory -Force -Path $outDir | Out-Null

$config = New-PesterConfiguration
$config.Run.Path = $Path
# PassThru instead of Run.Exit/Run.Throw: this script prints the summary line itself, then exits.
$config.Run.PassThru = $true
$config.Run.Exit = $false
$config.Run.Throw = $false
$config.Output.Verbosity = $Verbosity
$config.TestResult.Enabled = $true
$config.TestResult.OutputFormat = 'NUnitXml'
$config.TestResult.OutputPath = Join-Path $outDir 'pester.xml'
if ($Tag) { $config.Filter.Tag = $Tag }
# Plain text in CI logs and files; colours only on a terminal.
if ($env:CI -or [Console]::IsOutputRedirected) {
    $config.Output.RenderMode = 'Plaintext'
    $PSStyle.OutputRendering = 'PlainText'
}

$result = Invoke-Pester -Configuration $config   # $null when no test file was found

# An emulator whose test never reached Stop-TestEmulator must not outlive the run.
Get-Process -Name partnersec-emulator -ErrorAction SilentlyContinue |
    Where-Object { $_.Parent.Id -eq $PID } |
    ForEach-Object { Write-Warning "stopping emulator $($_.Id) that a test left running"; $_.Kill() }

# Tests under a failed BeforeAll already count as failed; a file that failed with no failed
# test in it (it did not load, or its AfterAll threw) counts once.
$passed = [int]$result.PassedCount
$failed = [int]$result.FailedCount + @($result.Containers | Where-Object { $_.Result -eq 'Failed' -and $_.FailedCount -eq 0 }).Count
$skipped = [int]$result.SkippedCount
$line = "$passed passed, $failed failed"
if ($skipped -gt 0) { $line += ", $skipped skipped" }
Write-Host ''
Write-Host $line

if ($passed + $failed -eq 0) {
    Write-Host 'error: no Pester test ran.'
    exit 1
}
# Result is 'Failed' also when only an AfterAll threw.
if ($failed -gt 0 -or $result.Result -ne 'Passed') { exit 1 }
exit 0
