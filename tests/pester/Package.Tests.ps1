# What the built module ships (tools/build.sh, into artifacts/PartnerSecurity): the native library
# for this platform where the loader looks, without debug sections, and no copy of pwsh's own
# assemblies.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../TestHelpers.psm1') -Force
    Import-PartnerSecurityModule
    $script:module = Get-Module PartnerSecurity
    $script:moduleBase = $module.ModuleBase
    $script:native = @(Get-ChildItem -LiteralPath (Join-Path $moduleBase 'runtimes') -Recurse -File |
            Where-Object { $_.Name -match '^(lib)?partnersecurity_native\.(so|dylib|dll)$' })

    # Names of an ELF file's sections, read from its section header table (ELF64, little-endian).
    function script:Get-ElfSectionName([string] $Path) {
        $bytes = [IO.File]::ReadAllBytes($Path)
        if ($bytes.Length -lt 64 -or [Text.Encoding]::ASCII.GetString($bytes, 1, 3) -ne 'ELF' -or $bytes[4] -ne 2 -or $bytes[5] -ne 1) {
            throw "$Path is not a little-endian ELF64 file"
        }
        $sectionTable = [BitConverter]::ToInt64($bytes, 0x28)
        $entrySize = [BitConverter]::ToUInt16($bytes, 0x3A)
        $count = [BitConverter]::ToUInt16($bytes, 0x3C)
        $namesIndex = [BitConverter]::ToUInt16($bytes, 0x3E)
        $namesAt = [BitConverter]::ToInt64($bytes, $sectionTable + $namesIndex * $entrySize + 0x18)
        foreach ($i in 0..($count - 1)) {
            $nameOffset = [BitConverter]::ToUInt32($bytes, $sectionTable + $i * $entrySize)
            $start = $namesAt + $nameOffset
            $end = [Array]::IndexOf($bytes, [byte]0, [int]$start)
            [Text.Encoding]::ASCII.GetString($bytes, $start, $end - $start)
        }
    }
}

Describe 'The module package' {
    It 'has one native library, under runtimes/<rid>/native where the loader looks' {
        $native.Count | Should -Be 1
        $native[0].Directory.Name | Should -Be 'native'
        $native[0].Directory.Parent.Parent.Name | Should -Be 'runtimes'
    }

    It 'ships the native library without debug sections (Linux, release build)' -Skip:(-not $IsLinux) {
        $debuggable = $module.ImplementingAssembly.GetCustomAttributes([Diagnostics.DebuggableAttribute], $false) | Select-Object -First 1
        if ($debuggable -and $debuggable.IsJITOptimizerDisabled) {
            Set-ItResult -Skipped -Because 'a Debug build (tools/build.sh --debug) keeps its debug sections'
            return
        }
        $sections = @(Get-ElfSectionName $native[0].FullName)
        $sections | Should -Contain '.text'
        $sections | Where-Object { $_ -like '.debug_*' } | Should -BeNullOrEmpty
    }

    It 'carries no copy of System.Management.Automation (pwsh brings its own)' {
        Join-Path $moduleBase 'System.Management.Automation.dll' | Should -Not -Exist
    }
}
