using System.Text.Json;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Cli;
using Chekt.PartnerApi.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Chekt.PartnerApi.Tests.Auth;

/// <summary>Spec §2.1: keys live in the database; <c>keys rotate</c> adds a signing key while the old one keeps validating until its tokens expire.</summary>
public sealed class SigningKeyRotationTests
{
    [Theory, OnSqlite, OnPostgres]
    public async Task RotationKeepsOldTokensValidUntilTheyExpireAndThenRetiresTheKey(DatabaseProvider provider)
    {
        await using var app = await TestApp.StartAsync(provider);
        var partner = await Seed.PartnerAsync(app);
        var client = await Seed.ClientAsync(app, partner);
        var dealer = await Seed.DealerAsync(app);
        await Seed.ConnectAsync(app, partner, dealer, "d-1");
        var path = $"/partner/v1/dealers/{dealer}";

        var oldToken = await Seed.ClientCredentialsTokenAsync(app, client);
        var oldKid = new JsonWebToken(oldToken).Kid;
        var (_, oldKey) = await ServerKeys.CurrentAsync(app);
        var longLivedOld = ServerKeys.Forge(oldKid, oldKey, $"{client.ClientId}@clients", client.ClientId, lifetime: TimeSpan.FromHours(5));

        // Rotate from the operator CLI, as another process would, against the same database.
        var rotated = await CliTestHost.RunAsync(app.Database, ["keys", "rotate"]);
        var newKid = rotated.Json.GetProperty("kid").GetString()!;
        Assert.NotEqual(oldKid, newKid);

        // The server notices the new key within its key-cache lifetime.
        app.Factory.Clock.Advance(TimeSpan.FromSeconds(61));
        var newToken = await Seed.ClientCredentialsTokenAsync(app, client);
        Assert.Equal(newKid, new JsonWebToken(newToken).Kid);

        Assert.Equal(200, (int)(await app.Client.SendAsync(Seed.Authorized(HttpMethod.Get, path, oldToken))).StatusCode);
        Assert.Equal(200, (int)(await app.Client.SendAsync(Seed.Authorized(HttpMethod.Get, path, newToken))).StatusCode);
        Assert.Equal([oldKid, newKid], await JwksKidsAsync(app));

        // Once every token the old key signed has expired, the key is gone: even a token it signed with a longer lifetime is refused.
        app.Factory.Clock.Advance(TimeSpan.FromSeconds(3600 + 31));
        Assert.Equal(401, (int)(await app.Client.SendAsync(Seed.Authorized(HttpMethod.Get, path, longLivedOld))).StatusCode);
        Assert.Equal(401, (int)(await app.Client.SendAsync(Seed.Authorized(HttpMethod.Get, path, oldToken))).StatusCode);
        Assert.Equal([newKid], await JwksKidsAsync(app));
        oldKey.Dispose();
    }

    private static async Task<string[]> JwksKidsAsync(TestApp app)
    {
        var jwks = JsonDocument.Parse(await app.Client.GetStringAsync("/.well-known/jwks.json")).RootElement;
        return [.. jwks.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("kid").GetString()!)];
    }
}
