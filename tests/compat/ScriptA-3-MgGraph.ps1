# The Microsoft Graph PowerShell snippet partners ask for in MicrosoftDocs/partner-center-docs-powershell#150
# (reference §4.2): the same exchange for Graph, handed to Connect-MgGraph. Placeholders as in
# ScriptA-2-Exchange.ps1.

$credential = Get-Credential
$refreshToken = '<refreshToken>'
$msGraphToken = New-PartnerAccessToken -ApplicationId 'xxxx-xxxx-xxxx-xxxx' -Credential $credential -RefreshToken $refreshToken -Scopes 'https://graph.microsoft.com/.default' -ServicePrincipal -Tenant 'yyyy-yyyy-yyyy-yyyy'
Connect-MgGraph -AccessToken $msGraphToken.AccessToken
