using System.Text.Json;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Chekt.PartnerApi.Tests.Auth;

/// <summary>POST /oauth/token with client credentials: RFC 6749 §4.4, §5.1, §5.2 and spec §2.1.</summary>
public sealed class TokenEndpointTests
{
    private static Dictionary<string, string> ClientCredentials(params (string Key, string Value)[] extra)
    {
        var form = new Dictionary<string, string> { ["grant_type"] = "client_credentials" };
        foreach (var (key, value) in extra)
        {
            form[key] = value;
        }

        return form;
    }

    private static async Task<(TestApp App, SeededClient Client)> StartWithClientAsync(DatabaseProvider provider, IReadOnlyList<string>? scopes = null)
    {
        var app = await TestApp.StartAsync(provider);
        var partner = await Seed.PartnerAsync(app);
        return (app, await Seed.ClientAsync(app, partner, scopes: scopes));
    }

    private static async Task<JsonElement> AssertOAuthErrorAsync(HttpResponseMessage response, int status, string error)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"expected {status}, got {(int)response.StatusCode}: {text}");
        var body = JsonDocument.Parse(text).RootElement;
        Assert.Equal(error, body.GetProperty("error").GetString());
        Assert.Equal(JsonValueKind.String, body.GetProperty("error_description").ValueKind);
        Assert.Equal(["error", "error_description"], body.EnumerateObject().Select(p => p.Name));
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
        return body;
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ClientCredentialsWithBasicAuthIssuesAnRfc9068AccessToken(DatabaseProvider provider)
    {
        var (app, client) = await StartWithClientAsync(provider);
        await using var _ = app;
        var response = await Seed.RequestTokenAsync(app.Client, ClientCredentials(), (client.ClientId, client.Secret!));

        Assert.Equal(200, (int)response.StatusCode);
        Assert.True(response.Headers.CacheControl?.NoStore);
        Assert.Contains("no-cache", response.Headers.Pragma.ToString(), StringComparison.Ordinal);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(["access_token", "token_type", "expires_in", "scope"], body.EnumerateObject().Select(p => p.Name));
        Assert.Equal("Bearer", body.GetProperty("token_type").GetString());
        Assert.Equal(3600, body.GetProperty("expires_in").GetInt32());

        var jwt = new JsonWebToken(body.GetProperty("access_token").GetString());
        Assert.Equal("RS256", jwt.Alg);
        Assert.Equal("at+jwt", jwt.Typ);
        Assert.Equal(PartnerApiFactory.Issuer, jwt.Issuer);
        Assert.Equal($"{client.ClientId}@clients", jwt.Subject);
        Assert.Equal(["https://api.chekt.com/partner"], jwt.Audiences);
        Assert.Equal(client.ClientId, jwt.GetPayloadValue<string>("azp"));
        Assert.Equal("client-credentials", jwt.GetPayloadValue<string>("gty"));
        Assert.Equal(body.GetProperty("scope").GetString(), jwt.GetPayloadValue<string>("scope"));
        Assert.Contains("read:dealer", jwt.GetPayloadValue<string>("scope").Split(' '));
        Assert.DoesNotContain("openid", jwt.GetPayloadValue<string>("scope").Split(' '));
        Assert.Equal(3600, jwt.GetPayloadValue<long>("exp") - jwt.GetPayloadValue<long>("iat"));
        Assert.False(string.IsNullOrEmpty(jwt.Id));

        var jwks = JsonDocument.Parse(await app.Client.GetStringAsync("/.well-known/jwks.json")).RootElement;
        Assert.Contains(jwks.GetProperty("keys").EnumerateArray(), key => key.GetProperty("kid").GetString() == jwt.Kid);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ClientSecretPostIsAccepted(DatabaseProvider provider)
    {
        var (app, client) = await StartWithClientAsync(provider);
        await using var _ = app;
        var response = await Seed.RequestTokenAsync(app.Client, ClientCredentials(("client_id", client.ClientId), ("client_secret", client.Secret!)));
        Assert.Equal(200, (int)response.StatusCode);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AWrongSecretWithBasicAuthIs401WithABasicChallenge(DatabaseProvider provider)
    {
        var (app, client) = await StartWithClientAsync(provider);
        await using var _ = app;
        var response = await Seed.RequestTokenAsync(app.Client, ClientCredentials(), (client.ClientId, client.Secret + "x"));
        await AssertOAuthErrorAsync(response, 401, "invalid_client");
        Assert.Equal("Basic", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AWrongSecretOrUnknownClientInTheBodyIsInvalidClientWithTheSameAnswer(DatabaseProvider provider)
    {
        var (app, client) = await StartWithClientAsync(provider);
        await using var _ = app;
        var wrongSecret = await AssertOAuthErrorAsync(
            await Seed.RequestTokenAsync(app.Client, ClientCredentials(("client_id", client.ClientId), ("client_secret", "nope"))), 400, "invalid_client");
        var unknownClient = await AssertOAuthErrorAsync(
            await Seed.RequestTokenAsync(app.Client, ClientCredentials(("client_id", "no-such-client"), ("client_secret", "nope"))), 400, "invalid_client");
        Assert.Equal(wrongSecret.GetProperty("error_description").GetString(), unknownClient.GetProperty("error_description").GetString());
        await AssertOAuthErrorAsync(await Seed.RequestTokenAsync(app.Client, ClientCredentials(("client_id", client.ClientId))), 400, "invalid_client");
        await AssertOAuthErrorAsync(await Seed.RequestTokenAsync(app.Client, ClientCredentials()), 400, "invalid_client");
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task TwoAuthenticationMethodsInOneRequestAreRefused(DatabaseProvider provider)
    {
        var (app, client) = await StartWithClientAsync(provider);
        await using var _ = app;
        var response = await Seed.RequestTokenAsync(app.Client, ClientCredentials(("client_secret", client.Secret!)), (client.ClientId, client.Secret!));
        await AssertOAuthErrorAsync(response, 400, "invalid_request");
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task MalformedRequestsAreInvalidRequest(DatabaseProvider provider)
    {
        var (app, client) = await StartWithClientAsync(provider);
        await using var _ = app;
        var basic = (client.ClientId, client.Secret!);
        await AssertOAuthErrorAsync(await Seed.RequestTokenAsync(app.Client, new Dictionary<string, string>(), basic), 400, "invalid_request");

        var json = new HttpRequestMessage(HttpMethod.Post, "/oauth/token") { Content = HttpTestExtensions.Json("{\"grant_type\":\"client_credentials\"}") };
        await AssertOAuthErrorAsync(await app.Client.SendAsync(json), 400, "invalid_request");

        var repeated = new HttpRequestMessage(HttpMethod.Post, "/oauth/token")
        {
            Content = new StringContent("grant_type=client_credentials&grant_type=client_credentials&client_id=" + client.ClientId + "&client_secret=" + client.Secret,
                System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"),
        };
        await AssertOAuthErrorAsync(await app.Client.SendAsync(repeated), 400, "invalid_request");
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task GrantTypesOtherThanTheThreeSupportedAreUnsupported(DatabaseProvider provider)
    {
        var (app, client) = await StartWithClientAsync(provider);
        await using var _ = app;
        foreach (var grantType in new[] { "password", "implicit", "urn:ietf:params:oauth:grant-type:device_code", "token" })
        {
            var form = new Dictionary<string, string> { ["grant_type"] = grantType, ["username"] = "a", ["password"] = "b" };
            await AssertOAuthErrorAsync(await Seed.RequestTokenAsync(app.Client, form, (client.ClientId, client.Secret!)), 400, "unsupported_grant_type");
        }
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ScopeIsNarrowedToWhatIsAskedAndRefusedBeyondWhatIsAllowed(DatabaseProvider provider)
    {
        var (app, client) = await StartWithClientAsync(provider, scopes: ["read:dealer", "read:sites", "openid"]);
        await using var _ = app;
        var basic = (client.ClientId, client.Secret!);

        var narrowed = await Seed.RequestTokenAsync(app.Client, ClientCredentials(("scope", "read:sites")), basic);
        Assert.Equal("read:sites", JsonDocument.Parse(await narrowed.Content.ReadAsStringAsync()).RootElement.GetProperty("scope").GetString());

        var all = await Seed.RequestTokenAsync(app.Client, ClientCredentials(), basic);
        Assert.Equal("read:dealer read:sites", JsonDocument.Parse(await all.Content.ReadAsStringAsync()).RootElement.GetProperty("scope").GetString());

        await AssertOAuthErrorAsync(await Seed.RequestTokenAsync(app.Client, ClientCredentials(("scope", "read:sites delete:sites")), basic), 400, "invalid_scope");
        await AssertOAuthErrorAsync(await Seed.RequestTokenAsync(app.Client, ClientCredentials(("scope", "openid")), basic), 400, "invalid_scope");
        await AssertOAuthErrorAsync(await Seed.RequestTokenAsync(app.Client, ClientCredentials(("scope", "write:everything")), basic), 400, "invalid_scope");
        // RFC 6749 §3.3: a scope is at least one scope token; a blank one would buy a token that can do nothing.
        await AssertOAuthErrorAsync(await Seed.RequestTokenAsync(app.Client, ClientCredentials(("scope", "   ")), basic), 400, "invalid_scope");
        // RFC 6749 §3.1: a parameter sent without a value is treated as omitted: the default scope.
        var empty = await Seed.RequestTokenAsync(app.Client, ClientCredentials(("scope", "")), basic);
        Assert.Equal("read:dealer read:sites", JsonDocument.Parse(await empty.Content.ReadAsStringAsync()).RootElement.GetProperty("scope").GetString());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task OnlyTheConfiguredAudienceIsAccepted(DatabaseProvider provider)
    {
        var (app, client) = await StartWithClientAsync(provider);
        await using var _ = app;
        var basic = (client.ClientId, client.Secret!);
        Assert.Equal(200, (int)(await Seed.RequestTokenAsync(app.Client, ClientCredentials(("audience", "https://api.chekt.com/partner")), basic)).StatusCode);
        await AssertOAuthErrorAsync(await Seed.RequestTokenAsync(app.Client, ClientCredentials(("audience", "https://evil.example.com/")), basic), 400, "invalid_request");
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ThePartnerClaimIsCopiedIntoTheTokenAsAnObject(DatabaseProvider provider)
    {
        var (app, client) = await StartWithClientAsync(provider);
        await using var _ = app;
        var token = await Seed.ClientCredentialsTokenAsync(app, client, partnerClaim: "{\"dealer_id\":\"12345\",\"site_id\":1}");
        var claim = new JsonWebToken(token).GetPayloadValue<JsonElement>("https://api.chekt.com/claims/partner");
        Assert.Equal(JsonValueKind.Object, claim.ValueKind);
        Assert.Equal("12345", claim.GetProperty("dealer_id").GetString());
        Assert.Equal(1, claim.GetProperty("site_id").GetInt32());

        var basic = (client.ClientId, client.Secret!);
        foreach (var bad in new[] { "not json", "[1]", "{\"site_id\":1}", "{\"dealer_id\":\"abc\"}", "{\"dealer_id\":0}", "{\"dealer_id\":1,\"role\":\"admin\"}" })
        {
            await AssertOAuthErrorAsync(
                await Seed.RequestTokenAsync(app.Client, ClientCredentials(("https://api.chekt.com/claims/partner", bad)), basic), 400, "invalid_request");
        }
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task APublicClientCannotUseClientCredentials(DatabaseProvider provider)
    {
        await using var app = await TestApp.StartAsync(provider);
        var partner = await Seed.PartnerAsync(app);
        var spa = await Seed.ClientAsync(app, partner, isPublic: true, redirectUris: ["https://spa.example.com/cb"]);
        await AssertOAuthErrorAsync(await Seed.RequestTokenAsync(app.Client, ClientCredentials(("client_id", spa.ClientId))), 400, "unauthorized_client");
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ARevokedSecretNoLongerAuthenticates(DatabaseProvider provider)
    {
        var (app, client) = await StartWithClientAsync(provider);
        await using var _ = app;
        await using (var connection = await app.Services.GetRequiredService<Db>().OpenAsync())
        {
            await Dapper.SqlMapper.ExecuteAsync(connection, "UPDATE oauth_client_secrets SET revoked_at = 1");
        }

        await AssertOAuthErrorAsync(await Seed.RequestTokenAsync(app.Client, ClientCredentials(), (client.ClientId, client.Secret!)), 401, "invalid_client");
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task TheTokenEndpointIsRateLimitedPerClientWithRetryAfter(DatabaseProvider provider)
    {
        await using var app = await TestApp.StartAsync(provider, builder =>
        {
            builder.UseSetting("RateLimit:TokenEndpoint:PermitsPerSecond", "1");
            builder.UseSetting("RateLimit:TokenEndpoint:Burst", "3");
        });
        var client = await Seed.ClientAsync(app, await Seed.PartnerAsync(app));
        var statuses = new List<int>();
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 8; i++)
        {
            var response = await Seed.RequestTokenAsync(app.Client, ClientCredentials(), (client.ClientId, client.Secret!));
            statuses.Add((int)response.StatusCode);
            if ((int)response.StatusCode == 429)
            {
                limited = response;
            }
        }

        Assert.Contains(200, statuses);
        Assert.NotNull(limited);
        Assert.NotNull(limited.Headers.RetryAfter);
        Assert.Equal("rate_limited", JsonDocument.Parse(await limited.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task TheTokenEndpointIsRateLimitedPerAddress(DatabaseProvider provider)
    {
        await using var app = await TestApp.StartAsync(provider, builder =>
        {
            builder.UseSetting("RateLimit:TokenEndpoint:PermitsPerSecondPerAddress", "1");
            builder.UseSetting("RateLimit:TokenEndpoint:BurstPerAddress", "2");
        });
        var statuses = new List<int>();
        for (var i = 0; i < 6; i++)
        {
            // Unauthenticated guesses count against the address before anything else is checked.
            statuses.Add((int)(await Seed.RequestTokenAsync(app.Client, ClientCredentials(("client_id", "guess"), ("client_secret", "guess")))).StatusCode);
        }

        Assert.Contains(429, statuses);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ARevokedAccessTokenIsRefusedByTheApiButOnlyItsOwnClientCanRevokeIt(DatabaseProvider provider)
    {
        var (app, client) = await StartWithClientAsync(provider);
        await using var _ = app;
        var other = await Seed.ClientAsync(app, await Seed.PartnerAsync(app, "Other"));
        var dealer = await Seed.DealerAsync(app);
        await Seed.ConnectAsync(app, (await app.Services.GetRequiredService<Chekt.PartnerApi.Auth.OAuthClientStore>().FindAsync(client.ClientId, default))!.PartnerId, dealer, "d");
        var token = await Seed.ClientCredentialsTokenAsync(app, client);
        var path = $"/partner/v1/dealers/{dealer}";

        async Task<int> RevokeAs(SeededClient by)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/oauth/revoke") { Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = token }) };
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{by.ClientId}:{by.Secret}")));
            return (int)(await app.Client.SendAsync(request)).StatusCode;
        }

        Assert.Equal(200, await RevokeAs(other));
        Assert.Equal(200, (int)(await app.Client.SendAsync(Seed.Authorized(HttpMethod.Get, path, token))).StatusCode);
        Assert.Equal(200, await RevokeAs(client));
        Assert.Equal(401, (int)(await app.Client.SendAsync(Seed.Authorized(HttpMethod.Get, path, token))).StatusCode);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task DiscoveryDocumentsDescribeTheServer(DatabaseProvider provider)
    {
        await using var app = await TestApp.StartAsync(provider);
        foreach (var path in new[] { "/.well-known/openid-configuration", "/.well-known/oauth-authorization-server" })
        {
            var metadata = JsonDocument.Parse(await app.Client.GetStringAsync(path)).RootElement;
            Assert.Equal(PartnerApiFactory.Issuer, metadata.GetProperty("issuer").GetString());
            Assert.Equal("http://localhost/oauth/token", metadata.GetProperty("token_endpoint").GetString());
            Assert.Equal("http://localhost/authorize", metadata.GetProperty("authorization_endpoint").GetString());
            Assert.Equal("http://localhost/.well-known/jwks.json", metadata.GetProperty("jwks_uri").GetString());
            Assert.Equal(["S256"], metadata.GetProperty("code_challenge_methods_supported").EnumerateArray().Select(e => e.GetString()));
            Assert.Contains("private_key_jwt", metadata.GetProperty("token_endpoint_auth_methods_supported").EnumerateArray().Select(e => e.GetString()));
        }

        var jwks = JsonDocument.Parse(await app.Client.GetStringAsync("/.well-known/jwks.json")).RootElement;
        var key = jwks.GetProperty("keys").EnumerateArray().Single();
        Assert.Equal("RSA", key.GetProperty("kty").GetString());
        Assert.Equal("RS256", key.GetProperty("alg").GetString());
        Assert.False(key.TryGetProperty("d", out _), "the JWKS must not publish private key material");
        Assert.False(key.TryGetProperty("p", out _));
    }
}
