// Baseline (b) of the sign-in benchmark: MSAL.NET client credentials per tenant and the
// Microsoft.Graph SDK's PageIterator over auditLogs/signIns, tenants one after another, with the
// SDK's default middleware (its retry handler honours 429 Retry-After). Prints one JSON line:
// {"records":N,"pages":P,"tenants":T,"failedTenants":F,"seconds":S}.
//
// Usage: BaselineGraphSdk --authority https://127.0.0.1:PORT --graph https://127.0.0.1:PORT/graph/v1.0
//          --ca emulator-ca.pem --client-id GUID --secret-env NAME --tenants t1,t2,...
//          [--top 1000] [--select a,b] [--filter "..."]
using System.Diagnostics;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.Graph;
using Microsoft.Graph.Models;
using Microsoft.Identity.Client;
using Microsoft.Kiota.Abstractions.Authentication;

var options = Options.Parse(args);
var secret = Environment.GetEnvironmentVariable(options.SecretVariable)
    ?? throw new ArgumentException($"environment variable {options.SecretVariable} (the client secret) is not set");
var trust = Trust.Emulator(options.CaPath);
// GraphClientFactory adds the SDK's default middleware (retry, redirect, compression, ...).
using var http = GraphClientFactory.Create(finalHandler: new HttpClientHandler { ServerCertificateCustomValidationCallback = trust });
using var msalHttp = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = trust });

long records = 0, pages = 0;
var failed = 0;
var clock = Stopwatch.StartNew();
foreach (var tenant in options.Tenants)
{
    try
    {
        var app = ConfidentialClientApplicationBuilder.Create(options.ClientId)
            .WithClientSecret(secret)
            .WithAuthority($"{options.Authority}/{tenant}", validateAuthority: false)
            .WithInstanceDiscovery(false)
            .WithHttpClientFactory(new FixedHttpClientFactory(msalHttp))
            .Build();
        var auth = new BaseBearerTokenAuthenticationProvider(new MsalTokenProvider(app, options.Scope));
        var graph = new GraphServiceClient(http, auth, options.Graph);
        var first = await graph.AuditLogs.SignIns.GetAsync(request =>
        {
            request.QueryParameters.Top = options.Top;
            if (options.Filter != null) request.QueryParameters.Filter = options.Filter;
            if (options.Select != null) request.QueryParameters.Select = options.Select;
        });
        if (first == null) continue;
        pages++;
        var iterator = PageIterator<SignIn, SignInCollectionResponse>.CreatePageIterator(graph, first, _ => { records++; return true; }, request => { pages++; return request; });
        await iterator.IterateAsync();
    }
    catch (Exception e) when (e is not OutOfMemoryException)
    {
        failed++;
        Console.Error.WriteLine($"tenant {tenant}: {e.GetType().Name}: {e.Message}");
    }
}
clock.Stop();
// The request callback counts follow-up pages; the first page was counted above.
Console.WriteLine(JsonSerializer.Serialize(new { records, pages, tenants = options.Tenants.Length, failedTenants = failed, seconds = clock.Elapsed.TotalSeconds }));
return failed == 0 ? 0 : 1;

sealed record Options(string Authority, string Graph, string CaPath, string ClientId, string SecretVariable, string[] Tenants, int Top, string[]? Select, string? Filter)
{
    public string Scope => "https://graph.microsoft.com/.default";

    public static Options Parse(string[] args)
    {
        var map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            map[args[i].TrimStart('-')] = args[i + 1];
        }
        string Need(string name) => map.TryGetValue(name, out var v) ? v : throw new ArgumentException($"--{name} is required");
        return new Options(
            Need("authority").TrimEnd('/'),
            Need("graph").TrimEnd('/'),
            Need("ca"),
            Need("client-id"),
            Need("secret-env"),
            Need("tenants").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            map.TryGetValue("top", out var top) ? int.Parse(top, System.Globalization.CultureInfo.InvariantCulture) : 1000,
            map.TryGetValue("select", out var select) ? select.Split(',') : null,
            map.TryGetValue("filter", out var filter) ? filter : null);
    }
}

/// <summary>Trusts exactly the emulator's CA (its certificate is for 127.0.0.1).</summary>
static class Trust
{
    public static Func<HttpRequestMessage, X509Certificate2?, X509Chain?, SslPolicyErrors, bool> Emulator(string caPath)
    {
        var ca = X509Certificate2.CreateFromPem(File.ReadAllText(caPath));
        return (_, certificate, _, _) =>
        {
            if (certificate == null) return false;
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(certificate);
        };
    }
}

sealed class FixedHttpClientFactory(HttpClient client) : IMsalHttpClientFactory
{
    public HttpClient GetHttpClient() => client;
}

/// <summary>MSAL's token cache answers repeated calls; a new token only when it expires.</summary>
sealed class MsalTokenProvider(IConfidentialClientApplication app, string scope) : IAccessTokenProvider
{
    public AllowedHostsValidator AllowedHostsValidator { get; } = new();

    public async Task<string> GetAuthorizationTokenAsync(Uri uri, Dictionary<string, object>? additionalAuthenticationContext = null, CancellationToken cancellationToken = default)
    {
        var result = await app.AcquireTokenForClient(new[] { scope }).ExecuteAsync(cancellationToken);
        return result.AccessToken;
    }
}
