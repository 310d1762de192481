using System.Text;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.IdentityModel.Tokens;

namespace Chekt.PartnerApi.Tests.Security;

/// <summary>Token negatives and CORS on every route of the server's own endpoint table, so a new route cannot escape.</summary>
public sealed class EveryRouteSecurityTests
{
    private static List<(string Method, string Path)> ApiRoutes(TestApp app, long dealerId) =>
    [
        .. app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/partner/v1", StringComparison.Ordinal) == true)
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? [])
                .Select(method => (method, e.RoutePattern.RawText!
                    .Replace("{dealerId}", dealerId.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
                    .Replace("{siteId}", "1", StringComparison.Ordinal).Replace("{contactId}", "1", StringComparison.Ordinal)
                    .Replace("{monitoringStationId}", "1", StringComparison.Ordinal).Replace("{deviceId}", "1", StringComparison.Ordinal)))),
    ];

    [Theory, OnSqlite, OnPostgres]
    public async Task EveryApiRouteRefusesBadTokensWith401InvalidToken(DatabaseProvider provider)
    {
        await using var world = await ApiWorld.StartAsync(provider);
        var (kid, key) = await ServerKeys.CurrentAsync(world.App);
        var subject = $"{world.Client.ClientId}@clients";
        static string B64(string json) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(json));
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var tokens = new Dictionary<string, string?>
        {
            ["none"] = null,
            ["malformed"] = "not.a.token",
            ["alg none"] = $"{B64($"{{\"alg\":\"none\",\"typ\":\"at+jwt\",\"kid\":\"{kid}\"}}")}.{B64($"{{\"iss\":\"{PartnerApiFactory.Issuer}\",\"sub\":\"{subject}\",\"aud\":\"https://api.chekt.com/partner\",\"azp\":\"{world.Client.ClientId}\",\"scope\":\"read:dealer\",\"exp\":{now + 600},\"jti\":\"x\"}}")}.",
            ["expired"] = ServerKeys.Forge(kid, key, subject, world.Client.ClientId, DateTimeOffset.UtcNow.AddHours(-2), TimeSpan.FromHours(1), scope: string.Join(' ', Chekt.PartnerApi.Auth.Scopes.Api)),
            ["wrong audience"] = ServerKeys.Forge(kid, key, subject, world.Client.ClientId, audience: "https://other.example.com", scope: string.Join(' ', Chekt.PartnerApi.Auth.Scopes.Api)),
            ["wrong issuer"] = ServerKeys.Forge(kid, key, subject, world.Client.ClientId, issuer: "https://evil.example.com/", scope: string.Join(' ', Chekt.PartnerApi.Auth.Scopes.Api)),
            ["wrong typ"] = ServerKeys.Forge(kid, key, subject, world.Client.ClientId, type: "JWT", scope: string.Join(' ', Chekt.PartnerApi.Auth.Scopes.Api)),
        };

        var routes = ApiRoutes(world.App, world.DealerId);
        Assert.True(routes.Count >= 25);
        foreach (var (method, path) in routes)
        {
            foreach (var (name, token) in tokens)
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                if (token is not null)
                {
                    request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
                }

                if (method is "POST" or "PUT" or "PATCH")
                {
                    request.Content = HttpTestExtensions.Json("{}");
                }

                var response = await world.App.Client.SendAsync(request);
                Assert.True(401 == (int)response.StatusCode, $"{method} {path} with {name} token answered {(int)response.StatusCode}");
                Assert.Contains("invalid_token", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
            }
        }

        key.Dispose();
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task CorsIsClosedOnEveryRoute(DatabaseProvider provider)
    {
        await using var world = await ApiWorld.StartAsync(provider);
        foreach (var (method, path) in ApiRoutes(world.App, world.DealerId).Append(("POST", "/oauth/token")).Append(("GET", "/.well-known/jwks.json")))
        {
            using var preflight = new HttpRequestMessage(HttpMethod.Options, path);
            preflight.Headers.Add("Origin", "https://evil.example.com");
            preflight.Headers.Add("Access-Control-Request-Method", method);
            preflight.Headers.Add("Access-Control-Request-Headers", "authorization");
            var answer = await world.App.Client.SendAsync(preflight);
            Assert.False(answer.Headers.Contains("Access-Control-Allow-Origin"), $"preflight of {method} {path} allowed a foreign origin");

            using var actual = Seed.Authorized(new HttpMethod(method), path, world.Token, method is "POST" or "PUT" or "PATCH" ? "{}" : null);
            actual.Headers.Add("Origin", "https://evil.example.com");
            var response = await world.App.Client.SendAsync(actual);
            Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"), $"{method} {path} allowed a foreign origin");
            Assert.True((int)response.StatusCode < 500, $"{method} {path} answered {(int)response.StatusCode}");
        }
    }
}
