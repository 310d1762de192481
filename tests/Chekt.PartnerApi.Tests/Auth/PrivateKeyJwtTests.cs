using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Chekt.PartnerApi.Cli;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Chekt.PartnerApi.Tests.Auth;

/// <summary>private_key_jwt client authentication (RFC 7523 §2.2, spec §2.1).</summary>
public sealed class PrivateKeyJwtTests
{
    private const string AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    private sealed record KeyClient(TestApp App, string ClientId, RSA Key, string Kid) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            Key.Dispose();
            return App.DisposeAsync();
        }
    }

    private static async Task<KeyClient> StartAsync(DatabaseProvider provider, Action<IWebHostBuilder>? configure = null)
    {
        var app = await TestApp.StartAsync(provider, configure);
        var rsa = RSA.Create(2048);
        var pem = Path.GetTempFileName();
        await File.WriteAllTextAsync(pem, rsa.ExportSubjectPublicKeyInfoPem());
        var client = await Seed.ClientAsync(app, await Seed.PartnerAsync(app), keys: [ClientKey.FromPemFile(pem, "key-1")]);
        Assert.Null(client.Secret);
        return new KeyClient(app, client.ClientId, rsa, "key-1");
    }

    private static string Assertion(string clientId, RSA key, string? kid, string audience, DateTimeOffset? issuedAt = null, TimeSpan? lifetime = null,
        string? jti = null, string? subject = null, string algorithm = SecurityAlgorithms.RsaSha256)
    {
        var iat = issuedAt ?? DateTimeOffset.UtcNow;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = clientId,
            Audience = audience,
            IssuedAt = iat.UtcDateTime,
            Expires = (iat + (lifetime ?? TimeSpan.FromMinutes(2))).UtcDateTime,
            Claims = new Dictionary<string, object> { ["sub"] = subject ?? clientId, ["jti"] = jti ?? Guid.NewGuid().ToString() },
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(key) { KeyId = kid }, algorithm),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    private static Task<HttpResponseMessage> TokenAsync(TestApp app, string assertion, params (string Key, string Value)[] extra)
    {
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_assertion_type"] = AssertionType,
            ["client_assertion"] = assertion,
        };
        foreach (var (key, value) in extra)
        {
            form[key] = value;
        }

        return Seed.RequestTokenAsync(app.Client, form);
    }

    private static async Task AssertInvalidClientAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.BadRequest, text);
        Assert.Equal("invalid_client", JsonDocument.Parse(text).RootElement.GetProperty("error").GetString());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AnAssertionForTheIssuerOrTheTokenEndpointAuthenticatesTheClient(DatabaseProvider provider)
    {
        await using var client = await StartAsync(provider);
        foreach (var audience in new[] { PartnerApiFactory.Issuer, "http://localhost", "http://localhost/oauth/token" })
        {
            var response = await TokenAsync(client.App, Assertion(client.ClientId, client.Key, client.Kid, audience));
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        }
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AnAssertionWithoutKidIsCheckedAgainstTheClientsOnlyKey(DatabaseProvider provider)
    {
        await using var client = await StartAsync(provider);
        var response = await TokenAsync(client.App, Assertion(client.ClientId, client.Key, kid: null, PartnerApiFactory.Issuer));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());

        // Still only that key: another key's signature without a kid is refused.
        using var otherKey = RSA.Create(2048);
        await AssertInvalidClientAsync(await TokenAsync(client.App, Assertion(client.ClientId, otherKey, kid: null, PartnerApiFactory.Issuer)));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AReplayedJtiIsRefused(DatabaseProvider provider)
    {
        await using var client = await StartAsync(provider);
        var assertion = Assertion(client.ClientId, client.Key, client.Kid, PartnerApiFactory.Issuer);
        Assert.True((await TokenAsync(client.App, assertion)).IsSuccessStatusCode);
        await AssertInvalidClientAsync(await TokenAsync(client.App, assertion));
        // A new assertion with the same jti is a replay too.
        var sameJti = new JsonWebToken(assertion).Id;
        await AssertInvalidClientAsync(await TokenAsync(client.App, Assertion(client.ClientId, client.Key, client.Kid, PartnerApiFactory.Issuer, jti: sameJti)));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task BadAssertionsAreInvalidClient(DatabaseProvider provider)
    {
        await using var client = await StartAsync(provider);
        using var otherKey = RSA.Create(2048);
        var app = client.App;
        var issuer = PartnerApiFactory.Issuer;

        await AssertInvalidClientAsync(await TokenAsync(app, Assertion(client.ClientId, otherKey, client.Kid, issuer)));                          // signed by another key
        await AssertInvalidClientAsync(await TokenAsync(app, Assertion(client.ClientId, client.Key, client.Kid, issuer, DateTimeOffset.UtcNow.AddMinutes(-10)))); // expired
        await AssertInvalidClientAsync(await TokenAsync(app, Assertion(client.ClientId, client.Key, client.Kid, issuer, lifetime: TimeSpan.FromMinutes(10))));  // lives over 5 minutes
        await AssertInvalidClientAsync(await TokenAsync(app, Assertion(client.ClientId, client.Key, client.Kid, "https://other.example.com/")));   // wrong aud
        await AssertInvalidClientAsync(await TokenAsync(app, Assertion(client.ClientId, client.Key, "unknown-kid", issuer)));                     // unknown kid
        await AssertInvalidClientAsync(await TokenAsync(app, Assertion(client.ClientId, client.Key, client.Kid, issuer, subject: "someone-else"))); // sub != iss
        await AssertInvalidClientAsync(await TokenAsync(app, Assertion("no-such-client", client.Key, client.Kid, issuer)));                       // unknown client
        await AssertInvalidClientAsync(await TokenAsync(app, Assertion(client.ClientId, client.Key, client.Kid, issuer, DateTimeOffset.UtcNow.AddMinutes(3)))); // issued in the future
        await AssertInvalidClientAsync(await TokenAsync(app, Assertion(client.ClientId, client.Key, client.Kid, issuer, algorithm: SecurityAlgorithms.RsaSha512)));
        await AssertInvalidClientAsync(await TokenAsync(app, "not.a.jwt"));

        // alg "none": an unsigned assertion.
        static string B64(string json) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(json));
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var unsigned = $"{B64("{\"alg\":\"none\",\"kid\":\"key-1\"}")}.{B64($"{{\"iss\":\"{client.ClientId}\",\"sub\":\"{client.ClientId}\",\"aud\":\"{issuer}\",\"iat\":{now},\"exp\":{now + 60},\"jti\":\"x1\"}}")}.";
        await AssertInvalidClientAsync(await TokenAsync(app, unsigned));

        // HS256 keyed with the client's public key (algorithm confusion).
        var hmacKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(client.Key.ExportSubjectPublicKeyInfoPem())) { KeyId = client.Kid };
        var hmac = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = client.ClientId, Audience = issuer, Expires = DateTime.UtcNow.AddMinutes(1), IssuedAt = DateTime.UtcNow,
            Claims = new Dictionary<string, object> { ["sub"] = client.ClientId, ["jti"] = "hmac-1" },
            SigningCredentials = new SigningCredentials(hmacKey, SecurityAlgorithms.HmacSha256),
        });
        await AssertInvalidClientAsync(await TokenAsync(app, hmac));

        // Missing jti.
        var noJti = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = client.ClientId, Audience = issuer, IssuedAt = DateTime.UtcNow, Expires = DateTime.UtcNow.AddMinutes(1),
            Claims = new Dictionary<string, object> { ["sub"] = client.ClientId },
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(client.Key) { KeyId = client.Kid }, SecurityAlgorithms.RsaSha256),
        });
        await AssertInvalidClientAsync(await TokenAsync(app, noJti));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AWrongAssertionTypeIsInvalidRequest(DatabaseProvider provider)
    {
        await using var client = await StartAsync(provider);
        var response = await Seed.RequestTokenAsync(client.App.Client, new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
            ["client_assertion"] = Assertion(client.ClientId, client.Key, client.Kid, PartnerApiFactory.Issuer),
        });
        Assert.Equal("invalid_request", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
    }

    /// <summary>
    /// A client written for the platform's Auth0 tenant works unchanged when its domain points here over
    /// HTTPS: assertion audience "https://host/", an audience parameter and the partner-claim parameter,
    /// and our token verifies against our JWKS with iss "https://host/" and azp = its client id.
    /// </summary>
    [Theory, OnSqlite, OnPostgres]
    public async Task AnAuth0StyleM2MClientWorksUnchanged(DatabaseProvider provider)
    {
        const string host = "https://partner.example.com/";
        await using var client = await StartAsync(provider, builder => builder.UseSetting("Auth:Issuer", host));
        var response = await TokenAsync(client.App, Assertion(client.ClientId, client.Key, client.Kid, host),
            ("audience", "https://api.chekt.com/partner"), ("https://api.chekt.com/claims/partner", "{\"dealer_id\":\"12345\"}"));
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.True(response.IsSuccessStatusCode, body.ToString());

        var jwks = new JsonWebKeySet(await client.App.Client.GetStringAsync("/.well-known/jwks.json"));
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(body.GetProperty("access_token").GetString(), new TokenValidationParameters
        {
            ValidIssuer = host,
            ValidAudience = "https://api.chekt.com/partner",
            IssuerSigningKeys = jwks.GetSigningKeys(),
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
        });
        Assert.True(result.IsValid, result.Exception?.Message);
        Assert.Equal(client.ClientId, result.Claims["azp"]);
        Assert.Equal($"{client.ClientId}@clients", result.Claims["sub"]);
    }
}
