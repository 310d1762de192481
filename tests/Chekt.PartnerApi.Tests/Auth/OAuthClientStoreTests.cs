using System.Security.Cryptography;
using System.Text.Json;
using Chekt.PartnerApi.Auth;
using Chekt.PartnerApi.Cli;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;
using Microsoft.IdentityModel.Tokens;

namespace Chekt.PartnerApi.Tests.Auth;

/// <summary>
/// A client is read with its scopes, URLs, live secrets and keys in one statement, each list a JSON array built by
/// the database: what was registered comes back whole, in order, with text of every kind, and a revoked secret
/// is gone at once.
/// </summary>
public sealed class OAuthClientStoreTests
{
    [Theory, OnSqlite, OnPostgres]
    public async Task AClientComesBackWithEverythingRegisteredForIt(DatabaseProvider provider)
    {
        await using var app = await TestApp.StartAsync(provider);
        var partner = await Seed.PartnerAsync(app, "Partner \"Ünïcode\" \\ Co");
        using var first = RSA.Create(2048);
        using var second = RSA.Create(2048);
        var registered = await app.Services.GetRequiredService<Operator>().AddClientAsync(new ClientRegistration(
            partner, "Back office ☎", IsPublic: false, RequirePkce: true,
            Scopes: ["read:dealer", "create:site_contacts"],
            RedirectUris: ["https://b.example/cb?x=\"1\"", "https://a.example/cb"],
            LogoutUrls: ["https://z.example/bye", "https://m.example/bye"],
            Keys: [Key("key \"1\" é", first), Key("key-2", second)]),
            CancellationToken.None);

        var client = await app.Services.GetRequiredService<OAuthClientStore>().FindAsync(registered.ClientId, CancellationToken.None);

        Assert.NotNull(client);
        Assert.Equal(registered.Id, client.Id);
        Assert.Equal(registered.ClientId, client.ClientId);
        Assert.Equal(partner, client.PartnerId);
        Assert.Equal("Partner \"Ünïcode\" \\ Co", client.PartnerName);
        Assert.Equal("Back office ☎", client.Name);
        Assert.False(client.IsPublic);
        Assert.True(client.RequirePkce);
        Assert.Equal(["create:site_contacts", "read:dealer"], client.Scopes.Order(StringComparer.Ordinal));
        Assert.Equal(["https://a.example/cb", "https://b.example/cb?x=\"1\""], client.RedirectUris);
        Assert.Equal(["https://m.example/bye", "https://z.example/bye"], client.LogoutUrls);
        Assert.Empty(client.SecretHashes); // a client with keys gets no secret
        Assert.Equal(["key \"1\" é", "key-2"], client.Keys.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(Base64UrlEncoder.Encode(first.ExportParameters(false).Modulus), client.Keys["key \"1\" é"].N);
        Assert.Equal(Base64UrlEncoder.Encode(second.ExportParameters(false).Modulus), client.Keys["key-2"].N);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AClientWithoutListsHasEmptyOnesAndOnlyItsLiveSecret(DatabaseProvider provider)
    {
        await using var app = await TestApp.StartAsync(provider);
        var operations = app.Services.GetRequiredService<Operator>();
        var registered = await operations.AddClientAsync(new ClientRegistration(
            await Seed.PartnerAsync(app), "Bare", IsPublic: false, RequirePkce: false, Scopes: [], RedirectUris: [], LogoutUrls: [], Keys: []),
            CancellationToken.None);
        var replacement = await operations.ReplaceClientSecretAsync(registered.Id, CancellationToken.None);
        var store = app.Services.GetRequiredService<OAuthClientStore>();

        var client = await store.FindAsync(registered.ClientId, CancellationToken.None);

        Assert.NotNull(client);
        Assert.Empty(client.Scopes);
        Assert.Empty(client.RedirectUris);
        Assert.Empty(client.LogoutUrls);
        Assert.Empty(client.Keys);
        var hash = Assert.Single(client.SecretHashes);
        Assert.True(Secrets.Verify(replacement, hash));
        Assert.False(Secrets.Verify(registered.ClientSecret!, hash));
        Assert.Null(await store.FindAsync("no-such-client", CancellationToken.None));
    }

    private static ClientKey Key(string kid, RSA rsa)
    {
        var parameters = rsa.ExportParameters(false);
        var jwk = JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["kty"] = "RSA",
            ["kid"] = kid,
            ["n"] = Base64UrlEncoder.Encode(parameters.Modulus),
            ["e"] = Base64UrlEncoder.Encode(parameters.Exponent),
        });
        return new ClientKey(kid, jwk);
    }
}
