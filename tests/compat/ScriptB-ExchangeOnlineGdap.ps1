# Script B, after 2023 (reference §4.3): Exchange Online in a customer tenant through GDAP and
# app consent, verbatim from exchange-online-gdap-app.md. The page takes its values from
# variables the partner sets first ($AppId, $AppSecret, $PartnerTenantid, $CustomerTenantId,
# $appdisplayname); the test sets them and dot-sources the script. The partner's refresh token
# is redeemed at the customer's authority, which works only while the partner has an active
# GDAP relationship with that customer. New-PartnerCustomerApplicationConsent and the
# ApplicationGrant type are stand-ins (tests/compat/StandIns.ps1): the grant itself is the
# customer's service principal in the test's scenario.

$consentscope = 'https://api.partnercenter.microsoft.com/user_impersonation'
$AppCredential = (New-Object System.Management.Automation.PSCredential ($AppId, (ConvertTo-SecureString $AppSecret -AsPlainText -Force)))
$PartnerAccessToken = New-PartnerAccessToken -serviceprincipal -ApplicationId $AppId -Credential $AppCredential -Scopes $consentscope -tenant $PartnerTenantid -UseAuthorizationCode
$PartnerCenter = Connect-PartnerCenter -AccessToken $PartnerAccessToken.AccessToken
$MSGraphgrant = New-Object -TypeName Microsoft.Store.PartnerCenter.Models.ApplicationConsents.ApplicationGrant
$MSgraphgrant.EnterpriseApplicationId = "00000003-0000-0000-c000-000000000000"
$MSGraphgrant.Scope = "Directory.Read.All,Directory.AccessAsUser.All"
$ExOgrant = New-Object -TypeName Microsoft.Store.PartnerCenter.Models.ApplicationConsents.ApplicationGrant
$ExOgrant.EnterpriseApplicationID = "00000002-0000-0ff1-ce00-000000000000"
$ExOgrant.Scope = "Exchange.Manage"
New-PartnerCustomerApplicationConsent -ApplicationGrants @($MSGraphgrant, $ExOgrant) -CustomerId $CustomerTenantId -ApplicationId $AppId -DisplayName $appdisplayname
$token = New-PartnerAccessToken -ApplicationId $AppId -Scopes 'https://outlook.office365.com/.default' -ServicePrincipal -Credential $appcredential -Tenant $CustomerTenantId -RefreshToken $PartnerAccesstoken.refreshToken
Connect-ExchangeOnline -DelegatedOrganization $CustomerTenantId -AccessToken $token.AccessToken
