# Get-Help content of the built module: every exported cmdlet has real help (built by
# tools/New-HelpXml.ps1 from module/help/*.md into <module>/en-US/), and about_PartnerSecurity
# exists. Imports the module from $env:PARTNERSECURITY_MODULE_PATH when set, else from
# <repo>/artifacts/PartnerSecurity/PartnerSecurity.psd1 (tools/build.sh).

BeforeDiscovery {
    $script:modulePath = if ($env:PARTNERSECURITY_MODULE_PATH) { $env:PARTNERSECURITY_MODULE_PATH }
    else { Join-Path $PSScriptRoot '../../artifacts/PartnerSecurity/PartnerSecurity.psd1' }
    $module = Import-Module $modulePath -Force -PassThru -ErrorAction Stop
    $common = [System.Management.Automation.Cmdlet]::CommonParameters
    # One case per exported cmdlet, with its parameters (all but the common ones; -WhatIf and
    # -Confirm are documented like any other).
    $script:cmdletCases = @(
        foreach ($name in @($module.ExportedCmdlets.Keys | Sort-Object)) {
            $command = Get-Command -Name $name -Module $module.Name -CommandType Cmdlet
            @{
                Name       = $name
                Parameters = @($command.Parameters.Keys | Where-Object { $_ -notin $common } | Sort-Object | ForEach-Object { @{ Name = $name; Parameter = $_ } })
            }
        }
    )
}

BeforeAll {
    $modulePath = if ($env:PARTNERSECURITY_MODULE_PATH) { $env:PARTNERSECURITY_MODULE_PATH }
    else { Join-Path $PSScriptRoot '../../artifacts/PartnerSecurity/PartnerSecurity.psd1' }
    $script:module = Import-Module $modulePath -Force -PassThru -Global -ErrorAction Stop

    # Text of a help node that holds maml:para elements (description, remarks, ...).
    function script:Get-HelpText($Node) {
        (@($Node) | Where-Object { $_ } | ForEach-Object { $_.Text }) -join "`n"
    }
}

Describe 'The module ships its help' {
    It 'has en-US/PartnerSecurity.dll-Help.xml beside the module (tools/New-HelpXml.ps1 writes it)' {
        Join-Path $module.ModuleBase 'en-US/PartnerSecurity.dll-Help.xml' | Should -Exist
    }

    It 'has about_PartnerSecurity, with a synopsis' {
        $about = Get-Help about_PartnerSecurity -ErrorAction Stop
        $about.Category | Should -Be 'HelpFile'
        $about.Synopsis | Should -Not -BeNullOrEmpty
        "$about" | Should -Match 'SHORT DESCRIPTION'
        "$about" | Should -Match 'Secure Application Model'
    }
}

Describe 'Get-Help <Name>' -ForEach $cmdletCases {
    BeforeAll {
        $help = Get-Help -Name $Name -Full -ErrorAction Stop
        $command = Get-Command -Name $Name -Module $module.Name -CommandType Cmdlet
    }

    It 'comes from the help file, not from PowerShell''s generated stub' {
        # Without MAML, Get-Help makes the synopsis out of the syntax and has no description.
        $help.Synopsis | Should -Not -Match "^\s*$([regex]::Escape($Name))\s"
        $help.Synopsis | Should -Not -BeLike '*<CommonParameters>*'
    }

    It 'has a synopsis' {
        $help.Synopsis.Trim() | Should -Not -BeNullOrEmpty
    }

    It 'has a description' {
        Get-HelpText $help.description | Should -Not -BeNullOrEmpty
    }

    It 'has at least one example, and every example has code' {
        $examples = @($help.examples.example | Where-Object { $_ })
        $examples.Count | Should -BeGreaterThan 0 -Because "$Name needs an example"
        foreach ($example in $examples) {
            "$($example.code)".Trim() | Should -Not -BeNullOrEmpty -Because "'$("$($example.title)".Trim('- '))' needs code"
        }
    }

    It 'shows one syntax line per parameter set' {
        @($help.syntax.syntaxItem).Count | Should -Be @($command.ParameterSets).Count
    }

    It 'describes -<Parameter>' -ForEach $Parameters {
        $parameterHelp = @($help.parameters.parameter | Where-Object { $_.name -eq $Parameter })
        $parameterHelp.Count | Should -Be 1 -Because "-$Parameter of $Name must appear once under PARAMETERS"
        Get-HelpText $parameterHelp[0].description | Should -Not -BeNullOrEmpty -Because "-$Parameter of $Name needs a description"
    }

    It 'documents only parameters the cmdlet has' {
        $common = [System.Management.Automation.Cmdlet]::CommonParameters
        $actual = @($command.Parameters.Keys | Where-Object { $_ -notin $common })
        foreach ($documented in @($help.parameters.parameter | Where-Object { $_ } | ForEach-Object name)) {
            $documented | Should -BeIn $actual -Because "help of $Name documents -$documented"
        }
    }

    It 'shows the parameter aliases of the code' {
        foreach ($parameter in @($help.parameters.parameter | Where-Object { $_ })) {
            $aliases = @($command.Parameters[$parameter.name].Aliases)
            $expected = if ($aliases.Count) { $aliases -join ', ' } else { 'none' }
            $parameter.aliases | Should -Be $expected -Because "-$($parameter.name) of $Name"
        }
    }
}
