# Script C (reference §4.4): the community one-time setup script (cyberdrain, behind CIPP and
# similar tools), the part that concerns PartnerSecurity's cmdlets, verbatim. $app, $spn and
# $credential come from the AzureAD cmdlets that precede it (New-AzureADApplication,
# New-AzureADServicePrincipal) and Get-Credential; the test provides them. The script's last
# step prints the three refresh tokens "to save in a secure location"; here they are kept in
# variables (PartnerSecurity's answer is New-PartnerSecureAppProfile).

$token = New-PartnerAccessToken -ApplicationId "$($app.AppId)" -Scopes 'https://api.partnercenter.microsoft.com/user_impersonation' -ServicePrincipal -Credential $credential -Tenant $($spn.AppOwnerTenantID) -UseAuthorizationCode
$Exchangetoken = New-PartnerAccessToken -ApplicationId 'a0c73c16-a7e3-4564-9a95-2bdf47383716' -Scopes 'https://outlook.office365.com/.default' -Tenant $($spn.AppOwnerTenantID) -UseDeviceAuthentication
$Azuretoken = New-PartnerAccessToken -ApplicationId "$($app.AppId)" -Scopes 'https://management.azure.com/user_impersonation' -ServicePrincipal -Credential $credential -Tenant $($spn.AppOwnerTenantID) -UseAuthorizationCode

$RefreshToken = $token.RefreshToken
$ExchangeRefreshToken = $Exchangetoken.RefreshToken
$AzureRefreshToken = $Azuretoken.RefreshToken
