using System.Text;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Chekt.PartnerApi.Tests.Auth;

/// <summary>Spec §2.1/§2.4: how /partner/v1 validates bearer tokens; every failure is 401 invalid_token.</summary>
public sealed class AccessTokenValidationTests
{
    private sealed record Context(TestApp App, SeededClient Client, long DealerId, string Kid, System.Security.Cryptography.RSA Key) : IAsyncDisposable
    {
        public string DealerPath => $"/partner/v1/dealers/{DealerId}";

        public string Subject => $"{Client.ClientId}@clients";

        public async ValueTask DisposeAsync()
        {
            Key.Dispose();
            await App.DisposeAsync();
        }
    }

    private static async Task<Context> StartAsync(DatabaseProvider provider)
    {
        var app = await TestApp.StartAsync(provider);
        var partner = await Seed.PartnerAsync(app);
        var client = await Seed.ClientAsync(app, partner);
        var dealer = await Seed.DealerAsync(app);
        await Seed.ConnectAsync(app, partner, dealer, "ext-1");
        var (kid, key) = await ServerKeys.CurrentAsync(app);
        return new Context(app, client, dealer, kid, key);
    }

    private static async Task AssertInvalidTokenAsync(TestApp app, string path, string? token, string? rawAuthorization = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (rawAuthorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", rawAuthorization);
        }
        else if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        }

        var response = await app.Client.SendAsync(request);
        await response.ReadErrorAsync(401, "invalid_token");
        var challenge = response.Headers.WwwAuthenticate.Single();
        Assert.Equal("Bearer", challenge.Scheme);
        Assert.Contains("error=\"invalid_token\"", challenge.Parameter, StringComparison.Ordinal);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AValidTokenIsAccepted(DatabaseProvider provider)
    {
        await using var context = await StartAsync(provider);
        var forged = ServerKeys.Forge(context.Kid, context.Key, context.Subject, context.Client.ClientId);
        var response = await context.App.Client.SendAsync(Seed.Authorized(HttpMethod.Get, context.DealerPath, forged));
        Assert.Equal(200, (int)response.StatusCode);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task MissingOrMalformedTokensAre401(DatabaseProvider provider)
    {
        await using var context = await StartAsync(provider);
        await AssertInvalidTokenAsync(context.App, context.DealerPath, null);
        await AssertInvalidTokenAsync(context.App, context.DealerPath, "not-a-jwt");
        await AssertInvalidTokenAsync(context.App, context.DealerPath, "a.b.c");
        await AssertInvalidTokenAsync(context.App, context.DealerPath, null, "Basic Zm9vOmJhcg==");
        await AssertInvalidTokenAsync(context.App, context.DealerPath, null, "Bearer");
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task UnsignedAndHmacTokensAre401(DatabaseProvider provider)
    {
        await using var context = await StartAsync(provider);
        static string B64(string json) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(json));
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var payload = B64($"{{\"iss\":\"{PartnerApiFactory.Issuer}\",\"sub\":\"{context.Subject}\",\"aud\":\"https://api.chekt.com/partner\",\"azp\":\"{context.Client.ClientId}\",\"scope\":\"read:dealer\",\"iat\":{now},\"exp\":{now + 600},\"jti\":\"n1\"}}");
        await AssertInvalidTokenAsync(context.App, context.DealerPath, $"{B64($"{{\"alg\":\"none\",\"typ\":\"at+jwt\",\"kid\":\"{context.Kid}\"}}")}.{payload}.");

        // HS256 "signed" with the server's public key, the classic algorithm-confusion attack.
        var publicPem = context.Key.ExportSubjectPublicKeyInfoPem();
        var hmac = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = PartnerApiFactory.Issuer, Audience = "https://api.chekt.com/partner", TokenType = "at+jwt",
            Claims = new Dictionary<string, object> { ["sub"] = context.Subject, ["azp"] = context.Client.ClientId, ["scope"] = "read:dealer", ["jti"] = "h1" },
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(publicPem)) { KeyId = context.Kid }, SecurityAlgorithms.HmacSha256),
        });
        await AssertInvalidTokenAsync(context.App, context.DealerPath, hmac);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ATokenSignedByAnUnknownKeyIs401(DatabaseProvider provider)
    {
        await using var context = await StartAsync(provider);
        using var other = System.Security.Cryptography.RSA.Create(2048);
        await AssertInvalidTokenAsync(context.App, context.DealerPath, ServerKeys.Forge("unknown-kid", other, context.Subject, context.Client.ClientId));
        // A known kid with another key's signature.
        await AssertInvalidTokenAsync(context.App, context.DealerPath, ServerKeys.Forge(context.Kid, other, context.Subject, context.Client.ClientId));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ExpiryIsEnforcedWithAtMostThirtySecondsOfSkew(DatabaseProvider provider)
    {
        await using var context = await StartAsync(provider);
        var now = DateTimeOffset.UtcNow;
        var withinSkew = ServerKeys.Forge(context.Kid, context.Key, context.Subject, context.Client.ClientId, now.AddSeconds(-3620), TimeSpan.FromHours(1));
        Assert.Equal(200, (int)(await context.App.Client.SendAsync(Seed.Authorized(HttpMethod.Get, context.DealerPath, withinSkew))).StatusCode);
        var beyondSkew = ServerKeys.Forge(context.Kid, context.Key, context.Subject, context.Client.ClientId, now.AddSeconds(-3645), TimeSpan.FromHours(1));
        await AssertInvalidTokenAsync(context.App, context.DealerPath, beyondSkew);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task WrongIssuerAudienceOrTypeIs401(DatabaseProvider provider)
    {
        await using var context = await StartAsync(provider);
        var (kid, key, sub, client) = (context.Kid, context.Key, context.Subject, context.Client.ClientId);
        await AssertInvalidTokenAsync(context.App, context.DealerPath, ServerKeys.Forge(kid, key, sub, client, issuer: "https://evil.example.com/"));
        await AssertInvalidTokenAsync(context.App, context.DealerPath, ServerKeys.Forge(kid, key, sub, client, issuer: "http://localhost")); // trailing slash matters
        await AssertInvalidTokenAsync(context.App, context.DealerPath, ServerKeys.Forge(kid, key, sub, client, audience: "https://other-api.example.com"));
        await AssertInvalidTokenAsync(context.App, context.DealerPath, ServerKeys.Forge(kid, key, sub, client, type: "JWT"));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ATokenOfAClientOrUserThatDoesNotExistIs401(DatabaseProvider provider)
    {
        await using var context = await StartAsync(provider);
        await AssertInvalidTokenAsync(context.App, context.DealerPath, ServerKeys.Forge(context.Kid, context.Key, "ghost@clients", "ghost"));
        await AssertInvalidTokenAsync(context.App, context.DealerPath, ServerKeys.Forge(context.Kid, context.Key, "999999", context.Client.ClientId));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task RealTokensFromTheTokenEndpointWork(DatabaseProvider provider)
    {
        await using var context = await StartAsync(provider);
        var token = await Seed.ClientCredentialsTokenAsync(context.App, context.Client);
        var response = await context.App.Client.SendAsync(Seed.Authorized(HttpMethod.Get, context.DealerPath, token));
        Assert.Equal(200, (int)response.StatusCode);
    }
}
