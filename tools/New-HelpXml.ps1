#Requires -Version 7.4
<#
.SYNOPSIS
    Builds the module's Get-Help content (MAML and about_ topics) from module/help/*.md.

.DESCRIPTION
    platyPS is not available on this project's machines, so this script does what platyPS's
    New-ExternalHelp does, for the markdown format described in module/help/README.md:

      - imports the built module (-ModulePath) and, for every exported cmdlet, takes the syntax
        and parameter metadata (parameter sets, types, mandatory, position, pipeline input,
        aliases, ValidateSet values) from Get-Command;
      - takes the prose (synopsis, description, examples, parameter descriptions, inputs,
        outputs, notes, related links) from module/help/<Cmdlet-Name>.md;
      - writes one MAML file (-OutputPath, normally <module>/en-US/PartnerSecurity.dll-Help.xml);
      - writes about_*.help.txt next to it from module/help/about_*.md.

    It fails (exit code 1, one 'error: <Cmdlet>: ...' line per problem on stderr) when help and
    code have drifted apart:
      - an exported cmdlet has no markdown file, or a markdown file names no exported cmdlet;
      - a markdown file documents a parameter the cmdlet does not have;
      - a cmdlet parameter (other than the common parameters) is not documented;
      - OUTPUTS does not list exactly the cmdlet's [OutputType] types ('None' for none);
      - a required section is missing or empty, an example has no code, or a markdown
        file has a section it should not (SYNTAX, parameter metadata: those come from the code).
    Nothing is written when there is any error.

.EXAMPLE
    pwsh -NoProfile -NonInteractive -File tools/New-HelpXml.ps1 -ModulePath artifacts/PartnerSecurity/PartnerSecurity.psd1 -HelpSource module/help -OutputPath artifacts/PartnerSecurity/en-US/PartnerSecurity.dll-Help.xml

    The build step: run after the module (and its native library) is published to artifacts/.
#>
[CmdletBinding()]
param(
    # The built module's manifest (it is imported, so its native library must be in place).
    [Parameter(Mandatory)]
    [string] $ModulePath,

    # The folder with <Cmdlet-Name>.md and about_*.md files.
    [Parameter(Mandatory)]
    [string] $HelpSource,

    # The MAML file to write, e.g. <module>/en-US/PartnerSecurity.dll-Help.xml. The about_
    # topics are written into the same folder.
    [Parameter(Mandatory)]
    [string] $OutputPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

$script:Problems = [System.Collections.Generic.List[string]]::new()
function Add-Problem([string] $Subject, [string] $Message) {
    $script:Problems.Add("${Subject}: $Message")
}

# Sections every cmdlet file has, in this order; NOTES may be empty (then it is left out).
$script:RequiredSections = @('SYNOPSIS', 'DESCRIPTION', 'EXAMPLES', 'PARAMETERS', 'INPUTS', 'OUTPUTS', 'NOTES', 'RELATED LINKS')
# Keys a parameter's optional ```yaml block may hold. Everything else about a parameter comes
# from Get-Command, so it cannot drift.
$script:ParameterYamlKeys = @('Default value', 'Accept wildcard characters')
$script:OptionalCommonText = @{
    WhatIf  = 'Shows what would happen if the cmdlet runs. The cmdlet is not run.'
    Confirm = 'Prompts you for confirmation before running the cmdlet.'
}

#region Markdown reading

# A markdown file as a list of level-2 sections: @{ Title; Lines; Line }. Text before the first
# '## ' (the '# Name' heading, an optional front-matter block) is returned in $Preamble.
function Split-Section {
    param([string[]] $Lines, [int] $Level, [int] $FirstLine = 1)
    $marker = ('#' * $Level) + ' '
    $sections = [System.Collections.Generic.List[object]]::new()
    $preamble = [System.Collections.Generic.List[string]]::new()
    $current = $null
    $inFence = $false
    for ($i = 0; $i -lt $Lines.Count; $i++) {
        $line = $Lines[$i]
        if ($line -match '^\s*(```|~~~)') { $inFence = -not $inFence }
        if (-not $inFence -and $line.StartsWith($marker)) {
            $current = [pscustomobject]@{ Title = $line.Substring($marker.Length).Trim(); Lines = [System.Collections.Generic.List[string]]::new(); Line = $FirstLine + $i }
            $sections.Add($current)
            continue
        }
        if ($null -eq $current) { $preamble.Add($line) } else { $current.Lines.Add($line) }
    }
    [pscustomobject]@{ Preamble = $preamble.ToArray(); Sections = $sections.ToArray() }
}

# Prose as blocks: paragraphs (lines joined), lists (one string per item) and fenced code.
function ConvertTo-Block {
    param([string[]] $Lines)
    $blocks = [System.Collections.Generic.List[object]]::new()
    $listItem = '^\s{0,3}([-*+]|\d+[.)])\s+(.*)$'
    $i = 0
    while ($i -lt $Lines.Count) {
        $line = $Lines[$i]
        if ($line.Trim() -eq '') { $i++; continue }
        if ($line -match '^\s*(```|~~~)\s*([\w-]*)') {
            $fence = $Matches[1]; $lang = $Matches[2]
            $code = [System.Collections.Generic.List[string]]::new()
            $i++
            while ($i -lt $Lines.Count -and $Lines[$i] -notmatch "^\s*$fence\s*$") { $code.Add($Lines[$i]); $i++ }
            $i++   # the closing fence
            $blocks.Add([pscustomobject]@{ Kind = 'code'; Language = $lang; Lines = $code.ToArray() })
            continue
        }
        if ($line -match $listItem) {
            $items = [System.Collections.Generic.List[string]]::new()
            $marker = if ($Matches[1] -match '\d') { 'number' } else { 'bullet' }
            $number = 0
            while ($i -lt $Lines.Count) {
                $l = $Lines[$i]
                if ($l -match $listItem) {
                    $number++
                    $prefix = if ($marker -eq 'number') { "$number. " } else { '- ' }
                    $items.Add($prefix + $Matches[2].Trim())
                    $i++
                } elseif ($l.Trim() -ne '' -and $l -notmatch '^\s*(```|~~~|#)' -and $items.Count -gt 0) {
                    $items[$items.Count - 1] += ' ' + $l.Trim()   # continuation line of an item
                    $i++
                } elseif ($l.Trim() -eq '' -and $i + 1 -lt $Lines.Count -and $Lines[$i + 1] -match $listItem) {
                    $i++   # a blank line between items
                } else {
                    break
                }
            }
            $blocks.Add([pscustomobject]@{ Kind = 'list'; Items = $items.ToArray() })
            continue
        }
        $para = [System.Collections.Generic.List[string]]::new()
        while ($i -lt $Lines.Count -and $Lines[$i].Trim() -ne '' -and $Lines[$i] -notmatch '^\s*(```|~~~)' -and
               ($para.Count -eq 0 -or $Lines[$i] -notmatch $listItem)) {
            $para.Add($Lines[$i].Trim())
            $i++
        }
        $blocks.Add([pscustomobject]@{ Kind = 'para'; Text = ($para -join ' ') })
    }
    $blocks.ToArray()
}

# Markdown inline syntax to the plain text Get-Help shows.
function ConvertTo-PlainText([string] $Text) {
    $t = [regex]::Replace($Text, '!?\[([^\]]+)\]\(([^)\s]*)\)', {
            param($m)
            $label = $m.Groups[1].Value; $url = $m.Groups[2].Value
            if ($url -eq '' -or $url -eq $label -or $url -notmatch '^[a-z]+://') { $label } else { "$label ($url)" }
        })
    $t = [regex]::Replace($t, '<(https?://[^>\s]+)>', '$1')
    $t = [regex]::Replace($t, '(\*\*|__)(.+?)\1', '$2')
    $t = [regex]::Replace($t, '(?<![\w*])\*(?![\s*])(.+?)(?<![\s*])\*(?![\w*])', '$1')
    $t = [regex]::Replace($t, '``\s?(.+?)\s?``|`([^`]+)`', { param($m) if ($m.Groups[1].Success) { $m.Groups[1].Value } else { $m.Groups[2].Value } })
    $t = [regex]::Replace($t, '\\([\\`*_{}\[\]()#+\-.!<>|])', '$1')
    $t
}

# Blocks to the paragraphs of a maml:description. A paragraph's first line loses its leading
# blanks in Get-Help's view, so code is written flush left (its own indentation is kept).
function ConvertTo-Paragraph {
    param([object[]] $Blocks)
    foreach ($b in $Blocks) {
        switch ($b.Kind) {
            'para' { ConvertTo-PlainText $b.Text }
            'list' { ($b.Items | ForEach-Object { ConvertTo-PlainText $_ }) -join "`n" }
            'code' { ($b.Lines -join "`n").TrimEnd() }
        }
    }
}

# Reads a cmdlet's markdown file into a help object; problems are recorded, not thrown.
function Read-CommandMarkdown {
    param([string] $Path, [string] $Name)
    $lines = [System.IO.File]::ReadAllLines($Path)
    $relative = Split-Path -Leaf $Path
    $help = [ordered]@{
        Name = $Name; Synopsis = @(); Description = @(); Examples = @(); Parameters = [ordered]@{}
        Inputs = @(); Outputs = @(); Notes = @(); Links = @(); OnlineVersion = $null
    }

    # Optional front matter (platyPS header): only 'online version' is used.
    $start = 0
    if ($lines.Count -gt 0 -and $lines[0].Trim() -eq '---') {
        $end = [array]::IndexOf($lines, '---', 1)
        if ($end -lt 0) { Add-Problem $Name "$relative has an unterminated '---' front-matter block"; return $null }
        foreach ($l in $lines[1..($end - 1)]) {
            if ($l -match '^\s*online version\s*:\s*(\S.*)$') { $help.OnlineVersion = $Matches[1].Trim() }
        }
        $start = $end + 1
    }
    $body = if ($start -lt $lines.Count) { $lines[$start..($lines.Count - 1)] } else { @() }
    $split = Split-Section -Lines $body -Level 2 -FirstLine ($start + 1)

    $title = @($split.Preamble | Where-Object { $_ -match '^#\s+\S' })
    if ($title.Count -ne 1 -or ($title[0] -replace '^#\s+', '').Trim() -cne $Name) {
        Add-Problem $Name "$relative must start with the heading '# $Name'"
    }

    $seen = @{}
    foreach ($section in $split.Sections) {
        $key = $section.Title.ToUpperInvariant()
        if ($seen.ContainsKey($key)) { Add-Problem $Name "$relative has two '## $($section.Title)' sections"; continue }
        $seen[$key] = $true
        switch ($key) {
            'SYNOPSIS' { $help.Synopsis = @(ConvertTo-Block $section.Lines) }
            'DESCRIPTION' { $help.Description = @(ConvertTo-Block $section.Lines) }
            'NOTES' { $help.Notes = @(ConvertTo-Block $section.Lines) }
            'SYNTAX' { Add-Problem $Name "$relative line $($section.Line): remove '## SYNTAX'; the syntax is generated from the cmdlet (Get-Command)" }
            'EXAMPLES' { $help.Examples = @(Read-Example -Section $section -Name $Name -File $relative) }
            'PARAMETERS' { $help.Parameters = Read-ParameterSection -Section $section -Name $Name -File $relative }
            'INPUTS' { $help.Inputs = @(Read-TypeSection -Section $section -Name $Name -File $relative) }
            'OUTPUTS' { $help.Outputs = @(Read-TypeSection -Section $section -Name $Name -File $relative) }
            'RELATED LINKS' { $help.Links = @(Read-Link -Section $section -Name $Name -File $relative -Folder (Split-Path -Parent $Path)) }
            default { Add-Problem $Name "$relative line $($section.Line): unknown section '## $($section.Title)' (allowed: $($script:RequiredSections -join ', '))" }
        }
    }
    foreach ($required in $script:RequiredSections) {
        if (-not $seen.ContainsKey($required)) { Add-Problem $Name "$relative has no '## $required' section" }
    }
    if ($seen.ContainsKey('SYNOPSIS') -and $help.Synopsis.Count -eq 0) { Add-Problem $Name "$relative has an empty SYNOPSIS" }
    if ($seen.ContainsKey('DESCRIPTION') -and $help.Description.Count -eq 0) { Add-Problem $Name "$relative has an empty DESCRIPTION" }
    if ($seen.ContainsKey('EXAMPLES') -and $help.Examples.Count -eq 0) { Add-Problem $Name "$relative has no '### Example N: <title>' under EXAMPLES" }
    if ($seen.ContainsKey('OUTPUTS') -and $help.Outputs.Count -eq 0) { Add-Problem $Name "$relative lists no type under OUTPUTS (write '### None' when it writes nothing)" }
    if ($seen.ContainsKey('INPUTS') -and $help.Inputs.Count -eq 0) { Add-Problem $Name "$relative lists no type under INPUTS (write '### None' when it takes no pipeline input)" }
    [pscustomobject]$help
}

function Read-Example {
    param($Section, [string] $Name, [string] $File)
    $split = Split-Section -Lines $Section.Lines -Level 3 -FirstLine ($Section.Line + 1)
    if (@($split.Preamble | Where-Object { $_.Trim() -ne '' }).Count -gt 0) {
        Add-Problem $Name "$File line $($Section.Line): text under '## EXAMPLES' before the first '### Example' heading"
    }
    $n = 0
    foreach ($ex in $split.Sections) {
        $n++
        if ($ex.Title -notmatch '^Example\s+(\d+)\s*(?::\s*(.*))?$') {
            Add-Problem $Name "$File line $($ex.Line): example heading must be '### Example $n`: <title>', not '### $($ex.Title)'"
            continue
        }
        if ([int]$Matches[1] -ne $n) { Add-Problem $Name "$File line $($ex.Line): examples must be numbered 1, 2, 3 ... (found $($Matches[1]) where $n was expected)" }
        $exampleTitle = if ($Matches[2]) { "Example $n`: $($Matches[2].Trim())" } else { "Example $n" }
        $blocks = @(ConvertTo-Block $ex.Lines)
        # Code blocks are the example's code; ```output (or ```text) blocks show what it prints
        # and go with the explanation, in order.
        $code = @($blocks | Where-Object { $_.Kind -eq 'code' -and $_.Language -notin 'output', 'text' })
        if ($code.Count -eq 0 -or -not ($code | Where-Object { ($_.Lines -join '').Trim() })) {
            Add-Problem $Name ("$File line $($ex.Line): '$exampleTitle' has no code " + '(a ```powershell block)')
        }
        [pscustomobject]@{
            Title   = $exampleTitle
            Code    = (($code | ForEach-Object { ($_.Lines -join "`n").TrimEnd() }) -join "`n`n")
            Remarks = @(ConvertTo-Paragraph @($blocks | Where-Object { $_.Kind -ne 'code' -or $_.Language -in 'output', 'text' }))
        }
    }
}

function Read-ParameterSection {
    param($Section, [string] $Name, [string] $File)
    $result = [ordered]@{}
    $split = Split-Section -Lines $Section.Lines -Level 3 -FirstLine ($Section.Line + 1)
    foreach ($p in $split.Sections) {
        if ($p.Title -eq 'CommonParameters') { continue }   # standard text; Get-Help adds its own
        if ($p.Title -notmatch '^-([A-Za-z][\w]*)$') {
            Add-Problem $Name "$File line $($p.Line): parameter heading must be '### -ParameterName', not '### $($p.Title)'"
            continue
        }
        $paramName = $Matches[1]
        if ($result.Contains($paramName)) { Add-Problem $Name "$File line $($p.Line): -$paramName is documented twice"; continue }
        $blocks = @(ConvertTo-Block $p.Lines)
        $yaml = @{}
        foreach ($y in @($blocks | Where-Object { $_.Kind -eq 'code' -and $_.Language -eq 'yaml' })) {
            foreach ($l in $y.Lines) {
                if ($l.Trim() -eq '') { continue }
                if ($l -notmatch '^\s*([^:]+?)\s*:\s*(.*)$') { Add-Problem $Name "$File line $($p.Line): -$paramName has a yaml line that is not 'Key: value': '$l'"; continue }
                $k = $Matches[1]; $v = $Matches[2].Trim()
                if ($k -notin $script:ParameterYamlKeys) {
                    Add-Problem $Name "$File line $($p.Line): -$paramName's yaml block may only hold $($script:ParameterYamlKeys -join ' and ') ('$k' comes from the cmdlet itself)"
                    continue
                }
                $yaml[$k] = $v
            }
        }
        $prose = @($blocks | Where-Object { -not ($_.Kind -eq 'code' -and $_.Language -eq 'yaml') })
        $paras = @(ConvertTo-Paragraph $prose | Where-Object { $_.Trim() })
        if ($paras.Count -eq 0) { Add-Problem $Name "$File line $($p.Line): -$paramName has no description" }
        $globbing = $false
        if ($yaml.ContainsKey('Accept wildcard characters')) {
            if ($yaml['Accept wildcard characters'] -notin 'True', 'False') { Add-Problem $Name "$File -${paramName}: 'Accept wildcard characters' must be True or False" }
            $globbing = $yaml['Accept wildcard characters'] -eq 'True'
        }
        $result[$paramName] = [pscustomobject]@{
            Paragraphs   = $paras
            DefaultValue = $yaml['Default value']
            Globbing     = $globbing
        }
    }
    $result
}

function Read-TypeSection {
    param($Section, [string] $Name, [string] $File)
    $split = Split-Section -Lines $Section.Lines -Level 3 -FirstLine ($Section.Line + 1)
    if (@($split.Preamble | Where-Object { $_.Trim() -ne '' }).Count -gt 0) {
        Add-Problem $Name "$File line $($Section.Line): '## $($Section.Title)' needs one '### TypeName' heading per type (or '### None'), not loose text"
    }
    foreach ($t in $split.Sections) {
        [pscustomobject]@{ Type = (ConvertTo-PlainText $t.Title).Trim(); Paragraphs = @(ConvertTo-Paragraph @(ConvertTo-Block $t.Lines)) }
    }
}

function Read-Link {
    param($Section, [string] $Name, [string] $File, [string] $Folder)
    foreach ($l in $Section.Lines) {
        $t = $l.Trim()
        if ($t -eq '') { continue }
        $t = $t -replace '^([-*+]|\d+[.)])\s+', ''
        if ($t -match '^\[([^\]]+)\]\(([^)\s]*)\)$') {
            $text = $Matches[1]; $uri = $Matches[2]
            if ($uri -match '^[a-z]+://') {
                [pscustomobject]@{ Text = $text; Uri = $uri }
            } else {
                # A link to another help file: it must exist (so renames cannot leave it dangling).
                if ($uri -and -not (Test-Path -LiteralPath (Join-Path $Folder $uri))) {
                    Add-Problem $Name "$File links to '$uri', which is not in the help folder"
                }
                [pscustomobject]@{ Text = $text; Uri = '' }
            }
        } else {
            [pscustomobject]@{ Text = (ConvertTo-PlainText $t); Uri = '' }
        }
    }
}

#endregion

#region Cmdlet metadata

function Get-TypeDisplayName([type] $Type) {
    $t = $Type
    $underlying = [Nullable]::GetUnderlyingType($t)
    if ($underlying) { $t = $underlying }
    if ($t.IsArray) { return (Get-TypeDisplayName $t.GetElementType()) + '[]' }
    $t.Name
}

function Get-TypeFullName([type] $Type) {
    $t = $Type
    $underlying = [Nullable]::GetUnderlyingType($t)
    if ($underlying) { $t = $underlying }
    if ($t.IsArray) { return (Get-TypeFullName $t.GetElementType()) + '[]' }
    $t.FullName
}

# The values a parameter accepts, when there is a fixed list ([ValidateSet] or an enum).
function Get-ParameterValueSet($Parameter) {
    $set = $Parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateSetAttribute] } | Select-Object -First 1
    if ($set) { return @($set.ValidValues) }
    $t = $Parameter.ParameterType
    $underlying = [Nullable]::GetUnderlyingType($t)
    if ($underlying) { $t = $underlying }
    if ($t.IsEnum) { return @([enum]::GetNames($t)) }
    @()
}

function Get-PipelineInputText([bool] $ByValue, [bool] $ByPropertyName) {
    if ($ByValue -and $ByPropertyName) { return 'True (ByPropertyName, ByValue)' }
    if ($ByPropertyName) { return 'True (ByPropertyName)' }
    if ($ByValue) { return 'True (ByValue)' }
    'False'
}

# Per parameter: its metadata in each parameter set, and the union used in PARAMETERS.
function Get-CommandModel($Command) {
    $common = [System.Management.Automation.Cmdlet]::CommonParameters
    $sets = @($Command.ParameterSets | Sort-Object -Stable { -not $_.IsDefault })   # default first, else in declared order
    $parameters = [ordered]@{}
    foreach ($name in @($Command.Parameters.Keys | Where-Object { $_ -notin $common } | Sort-Object)) {
        $p = $Command.Parameters[$name]
        $inSets = @($sets | Where-Object { $_.Parameters.Name -contains $name })
        $metas = @($inSets | ForEach-Object { $_.Parameters | Where-Object Name -EQ $name })
        $mandatoryIn = @($inSets | Where-Object { ($_.Parameters | Where-Object Name -EQ $name).IsMandatory } | ForEach-Object Name)
        $positions = @($metas | Where-Object { $_.Position -ge 0 } | ForEach-Object Position | Sort-Object -Unique)
        $parameters[$name] = [pscustomobject]@{
            Name          = $name
            Type          = $p.ParameterType
            IsSwitch      = $p.SwitchParameter
            Aliases       = @($p.Aliases)
            ValueSet      = @(Get-ParameterValueSet $p)
            SetNames      = @($inSets | ForEach-Object Name)
            MandatoryIn   = $mandatoryIn
            Position      = if ($positions.Count -gt 0) { [string]$positions[0] } else { 'named' }
            PipelineInput = Get-PipelineInputText ([bool]($metas | Where-Object ValueFromPipeline)) ([bool]($metas | Where-Object ValueFromPipelineByPropertyName))
        }
    }
    [pscustomobject]@{ Command = $Command; Sets = $sets; Parameters = $parameters }
}

#endregion

#region MAML writing

$script:Ns = @{
    msh     = 'http://msh'
    maml    = 'http://schemas.microsoft.com/maml/2004/10'
    command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    dev     = 'http://schemas.microsoft.com/maml/dev/2004/10'
    MSHelp  = 'http://msdn.microsoft.com/mshelp'
}

function Write-Element([System.Xml.XmlWriter] $W, [string] $Prefix, [string] $Local, [string] $Text) {
    $W.WriteElementString($Prefix, $Local, $script:Ns[$Prefix], $Text)
}

function Write-Description([System.Xml.XmlWriter] $W, [string] $Prefix, [string] $Local, [string[]] $Paragraphs) {
    $W.WriteStartElement($Prefix, $Local, $script:Ns[$Prefix])
    foreach ($para in $Paragraphs) { Write-Element $W 'maml' 'para' $para }
    if (-not $Paragraphs) { Write-Element $W 'maml' 'para' '' }
    $W.WriteEndElement()
}

function Write-Parameter {
    param([System.Xml.XmlWriter] $W, $Model, $Doc, [bool] $Required, [string] $Position, [string] $PipelineInput, [string[]] $Paragraphs)
    $W.WriteStartElement('command', 'parameter', $script:Ns.command)
    $W.WriteAttributeString('required', $Required.ToString().ToLowerInvariant())
    $W.WriteAttributeString('variableLength', 'true')
    $W.WriteAttributeString('globbing', $Doc.Globbing.ToString().ToLowerInvariant())
    $W.WriteAttributeString('pipelineInput', $PipelineInput)
    $W.WriteAttributeString('position', $Position)
    $W.WriteAttributeString('aliases', $(if ($Model.Aliases.Count) { $Model.Aliases -join ', ' } else { 'none' }))
    Write-Element $W 'maml' 'name' $Model.Name
    Write-Description $W 'maml' 'description' $Paragraphs
    if (-not $Model.IsSwitch) {
        if ($Model.ValueSet.Count -gt 0) {
            $W.WriteStartElement('command', 'parameterValueGroup', $script:Ns.command)
            foreach ($v in $Model.ValueSet) {
                $W.WriteStartElement('command', 'parameterValue', $script:Ns.command)
                $W.WriteAttributeString('required', 'false')
                $W.WriteAttributeString('command', 'variableLength', $script:Ns.command, 'false')
                $W.WriteString($v)
                $W.WriteEndElement()
            }
            $W.WriteEndElement()
        }
        $W.WriteStartElement('command', 'parameterValue', $script:Ns.command)
        $W.WriteAttributeString('required', 'true')
        $W.WriteAttributeString('variableLength', $Model.Type.IsArray.ToString().ToLowerInvariant())
        $W.WriteString((Get-TypeDisplayName $Model.Type))
        $W.WriteEndElement()
    }
    $W.WriteStartElement('dev', 'type', $script:Ns.dev)
    Write-Element $W 'maml' 'name' (Get-TypeFullName $Model.Type)
    Write-Element $W 'maml' 'uri' ''
    $W.WriteEndElement()
    $default = if ($Doc.DefaultValue) { $Doc.DefaultValue } elseif ($Model.IsSwitch) { 'False' } else { 'None' }
    Write-Element $W 'dev' 'defaultValue' $default
    $W.WriteEndElement()
}

# A parameter's description, plus a generated sentence when it is mandatory in some parameter
# sets only (Get-Help's 'Required?' can show just one value).
function Get-ParameterParagraph($Model, $Doc) {
    $paras = [System.Collections.Generic.List[string]]::new()
    foreach ($p in $Doc.Paragraphs) { $paras.Add($p) }
    $real = @($Model.SetNames | Where-Object { $_ -ne '__AllParameterSets' })
    if ($Model.MandatoryIn.Count -gt 0 -and $Model.MandatoryIn.Count -lt $Model.SetNames.Count -and $real.Count -gt 0) {
        $optional = @($Model.SetNames | Where-Object { $_ -notin $Model.MandatoryIn })
        $paras.Add("Mandatory in the $($Model.MandatoryIn -join ', ') parameter set$(if ($Model.MandatoryIn.Count -gt 1) { 's' }); optional in $($optional -join ', ').")
    }
    $paras.ToArray()
}

function Write-Command([System.Xml.XmlWriter] $W, $Model, $Help) {
    $cmd = $Model.Command
    $W.WriteStartElement('command', 'command', $script:Ns.command)
    $W.WriteAttributeString('xmlns', 'maml', $null, $script:Ns.maml)
    $W.WriteAttributeString('xmlns', 'command', $null, $script:Ns.command)
    $W.WriteAttributeString('xmlns', 'dev', $null, $script:Ns.dev)
    $W.WriteAttributeString('xmlns', 'MSHelp', $null, $script:Ns.MSHelp)

    $W.WriteStartElement('command', 'details', $script:Ns.command)
    Write-Element $W 'command' 'name' $cmd.Name
    Write-Element $W 'command' 'verb' $cmd.Verb
    Write-Element $W 'command' 'noun' $cmd.Noun
    Write-Description $W 'maml' 'description' @(ConvertTo-Paragraph $Help.Synopsis)
    $W.WriteEndElement()

    Write-Description $W 'maml' 'description' @(ConvertTo-Paragraph $Help.Description)

    $W.WriteStartElement('command', 'syntax', $script:Ns.command)
    foreach ($set in $Model.Sets) {
        $W.WriteStartElement('command', 'syntaxItem', $script:Ns.command)
        Write-Element $W 'maml' 'name' $cmd.Name
        foreach ($sp in $set.Parameters) {
            if (-not $Model.Parameters.Contains($sp.Name)) { continue }   # a common parameter
            $pm = $Model.Parameters[$sp.Name]
            $position = if ($sp.Position -ge 0) { [string]$sp.Position } else { 'named' }
            Write-Parameter -W $W -Model $pm -Doc $Help.Parameters[$sp.Name] -Required $sp.IsMandatory -Position $position `
                -PipelineInput (Get-PipelineInputText $sp.ValueFromPipeline $sp.ValueFromPipelineByPropertyName) `
                -Paragraphs $Help.Parameters[$sp.Name].Paragraphs
        }
        $W.WriteEndElement()
    }
    $W.WriteEndElement()

    $W.WriteStartElement('command', 'parameters', $script:Ns.command)
    # Documented order first (the author's), then any optional common parameter left to the default text.
    $ordered = @($Help.Parameters.Keys | Where-Object { $Model.Parameters.Contains($_) }) + @($Model.Parameters.Keys | Where-Object { -not $Help.Parameters.Contains($_) })
    foreach ($name in $ordered) {
        $pm = $Model.Parameters[$name]
        $required = $pm.MandatoryIn.Count -gt 0 -and $pm.MandatoryIn.Count -eq $pm.SetNames.Count
        Write-Parameter -W $W -Model $pm -Doc $Help.Parameters[$name] -Required $required -Position $pm.Position `
            -PipelineInput $pm.PipelineInput -Paragraphs (Get-ParameterParagraph $pm $Help.Parameters[$name])
    }
    $W.WriteEndElement()

    $W.WriteStartElement('command', 'inputTypes', $script:Ns.command)
    foreach ($t in $Help.Inputs) {
        $W.WriteStartElement('command', 'inputType', $script:Ns.command)
        $W.WriteStartElement('dev', 'type', $script:Ns.dev); Write-Element $W 'maml' 'name' $t.Type; $W.WriteEndElement()
        Write-Description $W 'maml' 'description' $t.Paragraphs
        $W.WriteEndElement()
    }
    $W.WriteEndElement()

    $W.WriteStartElement('command', 'returnValues', $script:Ns.command)
    foreach ($t in $Help.Outputs) {
        $W.WriteStartElement('command', 'returnValue', $script:Ns.command)
        $W.WriteStartElement('dev', 'type', $script:Ns.dev); Write-Element $W 'maml' 'name' $t.Type; $W.WriteEndElement()
        Write-Description $W 'maml' 'description' $t.Paragraphs
        $W.WriteEndElement()
    }
    $W.WriteEndElement()

    $notes = @(ConvertTo-Paragraph $Help.Notes)
    if ($notes.Count -gt 0) {
        $W.WriteStartElement('maml', 'alertSet', $script:Ns.maml)
        $W.WriteStartElement('maml', 'alert', $script:Ns.maml)
        foreach ($n in $notes) { Write-Element $W 'maml' 'para' $n }
        $W.WriteEndElement()
        $W.WriteEndElement()
    }

    $W.WriteStartElement('command', 'examples', $script:Ns.command)
    foreach ($ex in $Help.Examples) {
        $W.WriteStartElement('command', 'example', $script:Ns.command)
        Write-Element $W 'maml' 'title' "-------------------------- $($ex.Title) --------------------------"
        Write-Element $W 'dev' 'code' $ex.Code
        # The trailing empty paragraph puts a blank line between one example and the next.
        Write-Description $W 'dev' 'remarks' (@($ex.Remarks) + '')
        $W.WriteEndElement()
    }
    $W.WriteEndElement()

    $W.WriteStartElement('command', 'relatedLinks', $script:Ns.command)
    $links = @($Help.Links)
    if ($Help.OnlineVersion) { $links = @([pscustomobject]@{ Text = 'Online Version:'; Uri = $Help.OnlineVersion }) + $links }
    foreach ($l in $links) {
        $W.WriteStartElement('maml', 'navigationLink', $script:Ns.maml)
        Write-Element $W 'maml' 'linkText' $l.Text
        Write-Element $W 'maml' 'uri' $l.Uri
        $W.WriteEndElement()
    }
    $W.WriteEndElement()

    $W.WriteEndElement()   # command:command
}

#endregion

#region Drift checks

function Test-CommandHelp($Model, $Help) {
    $name = $Model.Command.Name
    foreach ($documented in @($Help.Parameters.Keys)) {
        if (@($Model.Parameters.Keys | Where-Object { $_ -ceq $documented }).Count -gt 0) { continue }
        # Parameter names are case-insensitive, but the help should spell them as the code does.
        $match = @($Model.Parameters.Keys | Where-Object { $_ -eq $documented })
        if ($match) {
            Add-Problem $name "documents -$documented, but the parameter is spelled -$($match[0])"
        } else {
            Add-Problem $name "documents -$documented, which the cmdlet does not have (its parameters: $(@($Model.Parameters.Keys | ForEach-Object { "-$_" }) -join ', '))"
        }
    }
    foreach ($p in $Model.Parameters.Keys) {
        if ($Help.Parameters.Contains($p)) { continue }
        if ($script:OptionalCommonText.ContainsKey($p)) {
            $Help.Parameters[$p] = [pscustomobject]@{ Paragraphs = @($script:OptionalCommonText[$p]); DefaultValue = 'False'; Globbing = $false }
            continue
        }
        Add-Problem $name "parameter -$p is not documented (add '### -$p' under '## PARAMETERS')"
    }

    # OUTPUTS must name exactly the [OutputType] types (or 'None' when there are none).
    $declared = @($Model.Command.OutputType | ForEach-Object Name | Where-Object { $_ -and $_ -notin 'System.Void', 'void' } | Sort-Object -Unique)
    $documented = @($Help.Outputs | ForEach-Object Type | Where-Object { $_ -ne 'None' } | Sort-Object -Unique)
    foreach ($d in $declared) {
        if ($d -notin $documented) { Add-Problem $name "OUTPUTS does not list $d, which the cmdlet declares in [OutputType]" }
    }
    foreach ($d in $documented) {
        if ($d -notin $declared) { Add-Problem $name "OUTPUTS lists $d, which is not in the cmdlet's [OutputType] ($(if ($declared) { $declared -join ', ' } else { 'none' }))" }
    }
    if ($declared.Count -eq 0 -and @($Help.Outputs | Where-Object Type -EQ 'None').Count -eq 0) {
        Add-Problem $name "the cmdlet declares no output; OUTPUTS should be '### None'"
    }
}

#endregion

#region about_ topics

function Format-Wrapped([string] $Text, [int] $Indent, [string] $Marker = '', [int] $Width = 80) {
    $lines = [System.Collections.Generic.List[string]]::new()
    $current = (' ' * $Indent) + $Marker
    $continuation = ' ' * ($Indent + $Marker.Length)
    $empty = $true
    foreach ($word in ($Text -split '\s+' | Where-Object { $_ })) {
        if ($empty) { $current += $word; $empty = $false }
        elseif (($current.Length + 1 + $word.Length) -le $Width) { $current += ' ' + $word }
        else { $lines.Add($current); $current = $continuation + $word }
    }
    if (-not $empty) { $lines.Add($current) }
    $lines
}

# about_X.md → about_X.help.txt, in the layout of PowerShell's own about topics: headings in
# capitals at the margin, text indented by 4 and wrapped at 80 columns, code indented by 8.
function ConvertTo-AboutText {
    param([string] $Path)
    $topic = [System.IO.Path]::GetFileNameWithoutExtension($Path)
    $lines = [System.IO.File]::ReadAllLines($Path)
    $split = Split-Section -Lines $lines -Level 2
    $title = @($split.Preamble | Where-Object { $_ -match '^#\s+\S' })
    if ($title.Count -ne 1 -or ($title[0] -replace '^#\s+', '').Trim() -cne $topic) {
        Add-Problem $topic "$(Split-Path -Leaf $Path) must start with the heading '# $topic'"
    }
    $sections = @($split.Sections | ForEach-Object Title)
    if ('SHORT DESCRIPTION' -notin $sections -or 'LONG DESCRIPTION' -notin $sections) {
        Add-Problem $topic "$(Split-Path -Leaf $Path) needs '## SHORT DESCRIPTION' and '## LONG DESCRIPTION' sections"
    }
    $out = [System.Collections.Generic.List[string]]::new()
    $out.Add('TOPIC'); $out.Add("    $topic"); $out.Add('')
    foreach ($section in $split.Sections) {
        $out.Add($section.Title.ToUpperInvariant())
        # Get-Help shows the line after SHORT DESCRIPTION as the topic's synopsis: keep it one line.
        $short = $section.Title -eq 'SHORT DESCRIPTION'
        $shortBlocks = @(ConvertTo-Block $section.Lines)
        if ($short -and ($shortBlocks.Count -ne 1 -or $shortBlocks[0].Kind -ne 'para')) {
            Add-Problem $topic "SHORT DESCRIPTION must be one paragraph (Get-Help shows it as the synopsis)"
        }
        $sub = Split-Section -Lines $section.Lines -Level 3
        $parts = @([pscustomobject]@{ Title = $null; Lines = $sub.Preamble }) + @($sub.Sections)
        foreach ($part in $parts) {
            if ($part.Title) {
                if ($out[$out.Count - 1] -ne '') { $out.Add('') }
                $out.Add("  $($part.Title)")
            }
            foreach ($b in (ConvertTo-Block $part.Lines)) {
                switch ($b.Kind) {
                    'para' {
                        $text = ConvertTo-PlainText $b.Text
                        $wrapped = if ($short) { , ('    ' + $text) } else { Format-Wrapped $text 4 }
                        foreach ($l in $wrapped) { $out.Add($l) }
                    }
                    'list' {
                        foreach ($item in $b.Items) {
                            $marker = ($item -split ' ', 2)[0] + ' '
                            foreach ($l in (Format-Wrapped (ConvertTo-PlainText ($item.Substring($marker.Length))) 4 $marker)) { $out.Add($l) }
                        }
                    }
                    'code' { foreach ($l in $b.Lines) { $out.Add($(if ($l.Trim()) { '        ' + $l } else { '' })) } }
                }
                $out.Add('')
            }
        }
        if ($out[$out.Count - 1] -ne '') { $out.Add('') }
    }
    ($out -join "`n").TrimEnd() + "`n"
}

#endregion

# --- main ---------------------------------------------------------------------------------

if (-not (Test-Path -LiteralPath $ModulePath -PathType Leaf)) { Write-Error "ModulePath '$ModulePath' is not a file (expected the built PartnerSecurity.psd1)."; exit 2 }
if (-not (Test-Path -LiteralPath $HelpSource -PathType Container)) { Write-Error "HelpSource '$HelpSource' is not a folder."; exit 2 }
$HelpSource = (Resolve-Path -LiteralPath $HelpSource).ProviderPath
$OutputPath = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($OutputPath)

$module = Import-Module -Name (Resolve-Path -LiteralPath $ModulePath).ProviderPath -Force -PassThru -ErrorAction Stop
$cmdletNames = @($module.ExportedCmdlets.Keys | Sort-Object)
if ($cmdletNames.Count -eq 0) { Write-Error "The module at '$ModulePath' exports no cmdlet."; exit 2 }

$markdown = @{}
foreach ($f in Get-ChildItem -LiteralPath $HelpSource -Filter '*.md' -File) {
    $base = [System.IO.Path]::GetFileNameWithoutExtension($f.Name)
    if ($base -like 'about_*' -or $base -eq 'README') { continue }
    $markdown[$base] = $f.FullName
}

$commands = [System.Collections.Generic.List[object]]::new()
foreach ($name in $cmdletNames) {
    # File names must match the cmdlet's spelling exactly: the lookup is case-sensitive on Linux.
    $file = $markdown.Keys | Where-Object { $_ -ceq $name } | Select-Object -First 1
    if (-not $file) {
        Add-Problem $name "exported cmdlet has no help file $(Join-Path $HelpSource "$name.md")"
        continue
    }
    $command = Get-Command -Name $name -Module $module.Name -CommandType Cmdlet
    $model = Get-CommandModel $command
    $help = Read-CommandMarkdown -Path $markdown[$file] -Name $name
    if ($null -eq $help) { continue }
    Test-CommandHelp $model $help
    $commands.Add([pscustomobject]@{ Model = $model; Help = $help })
}
foreach ($orphan in @($markdown.Keys | Where-Object { $_ -cnotin $cmdletNames } | Sort-Object)) {
    Add-Problem $orphan "help file $orphan.md names no exported cmdlet of $($module.Name) (rename or delete it)"
}

$abouts = @{}
foreach ($f in Get-ChildItem -LiteralPath $HelpSource -Filter 'about_*.md' -File) {
    $abouts[[System.IO.Path]::GetFileNameWithoutExtension($f.Name)] = ConvertTo-AboutText -Path $f.FullName
}
if (-not $abouts.ContainsKey("about_$($module.Name)")) {
    Add-Problem "about_$($module.Name)" "missing $(Join-Path $HelpSource "about_$($module.Name).md")"
}

if ($script:Problems.Count -gt 0) {
    foreach ($p in $script:Problems) { [Console]::Error.WriteLine("error: $p") }
    [Console]::Error.WriteLine("New-HelpXml: $($script:Problems.Count) problem(s); no help was written.")
    exit 1
}

$outDir = Split-Path -Parent $OutputPath
New-Item -ItemType Directory -Force -Path $outDir | Out-Null
$settings = [System.Xml.XmlWriterSettings]::new()
$settings.Indent = $true
$settings.IndentChars = '  '
$settings.Encoding = [System.Text.UTF8Encoding]::new($false)
$settings.NewLineChars = "`n"
$settings.NewLineHandling = [System.Xml.NewLineHandling]::Replace
$writer = [System.Xml.XmlWriter]::Create($OutputPath, $settings)
try {
    $writer.WriteStartDocument()
    $writer.WriteComment(' Generated by tools/New-HelpXml.ps1 from module/help/*.md; do not edit. ')
    $writer.WriteStartElement('helpItems', $script:Ns.msh)
    $writer.WriteAttributeString('schema', 'maml')
    foreach ($c in $commands) { Write-Command $writer $c.Model $c.Help }
    $writer.WriteEndElement()
    $writer.WriteEndDocument()
} finally {
    $writer.Dispose()
}
# Read it back: a file PowerShell cannot parse would silently give no help at all.
$check = [xml]::new()
$check.Load($OutputPath)
foreach ($topic in $abouts.Keys) {
    [System.IO.File]::WriteAllText((Join-Path $outDir "$topic.help.txt"), $abouts[$topic], [System.Text.UTF8Encoding]::new($false))
}
Write-Host "New-HelpXml: wrote help for $($commands.Count) cmdlet(s) to $OutputPath and $($abouts.Count) about topic(s) to $outDir."
exit 0
