using System.Text.Json;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;

namespace Chekt.PartnerApi.Tests.Dealers;

/// <summary>
/// Spec §3: disconnecting keeps the dealer's data, the partner loses access to every dealer-scoped
/// route until it connects again, and then finds its sites and contacts exactly as they were.
/// </summary>
public sealed class DisconnectReconnectTests
{
    private const string ConnectBody = "{\"external_dealer_id\":\"adc-67890\",\"company_name\":\"CHeKT Security Solutions\"}";

    private sealed record World(TestApp App, long Partner, SeededClient M2M, long Dealer, string AdminToken) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => App.DisposeAsync();

        public string DealerPath => $"/partner/v1/dealers/{Dealer}";
    }

    private static async Task<World> StartAsync(DatabaseProvider provider)
    {
        var app = await TestApp.StartAsync(provider);
        var partner = await Seed.PartnerAsync(app);
        var m2m = await Seed.ClientAsync(app, partner, "M2M");
        var web = await Seed.ClientAsync(app, partner, "Web", redirectUris: [UserTokens.RedirectUri]);
        var dealer = await app.Services.GetRequiredService<Chekt.PartnerApi.Cli.Operator>().AddDealerAsync(
            "CHeKT Security Solutions Inc.", "456 Market Street", "Suite 801, 8th Floor", "support@chektdealer.com", "+1-555-123-4567", CancellationToken.None);
        var adminToken = await UserTokens.NewUserTokenAsync(app, web, dealer, "admin@chektdealer.com");
        return new World(app, partner, m2m, dealer, adminToken);
    }

    private static async Task<JsonElement> SendOkAsync(World world, HttpMethod method, string path, string token, string? body, int expectedStatus)
    {
        using var response = await world.App.Client.SendAsync(Seed.Authorized(method, path, token, body));
        var json = await response.ReadJsonAsync();
        Assert.True((int)response.StatusCode == expectedStatus, $"{method} {path}: {(int)response.StatusCode} {json}");
        return json;
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AfterDisconnectEveryDealerRouteIs403AndAfterReconnectEverythingIsBackAsItWas(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var app = world.App;

        // Connect through the API with the dealer admin's user token.
        var connected = await SendOkAsync(world, HttpMethod.Put, "/partner/v1/dealers/connect", world.AdminToken, ConnectBody, 200);
        Assert.Equal("adc-67890", connected.GetProperty("external_dealer_id").GetString());

        // Sites and contacts through the partner's M2M token, some of them changed after creation.
        var m2m = await Seed.ClientCredentialsTokenAsync(app, world.M2M);
        var sitesPath = world.DealerPath + "/sites";
        var site1 = (await SendOkAsync(world, HttpMethod.Post, sitesPath, m2m,
            "{\"external_site_id\":\"site-1\",\"name\":\"Head office\",\"timezone\":\"Asia/Seoul\",\"account_number\":\"1234\",\"address1\":\"1 Main St\",\"address2\":\"Floor 2\"}", 201))
            .GetProperty("site_id").GetInt64();
        var site2 = (await SendOkAsync(world, HttpMethod.Post, sitesPath, m2m,
            "{\"external_site_id\":\"site-2\",\"name\":\"Warehouse\",\"timezone\":\"America/New_York\"}", 201)).GetProperty("site_id").GetInt64();
        await SendOkAsync(world, HttpMethod.Patch, $"{sitesPath}/{site2}/arming-settings", m2m, "{\"security_type\":3}", 200);
        await SendOkAsync(world, HttpMethod.Put, $"{sitesPath}/{site2}", m2m, "{\"name\":\"Warehouse North\",\"address1\":\"9 Dock Rd\"}", 200);
        var contactIds = new List<long>();
        foreach (var (site, external) in new[] { (site1, "c-1"), (site1, "c-2"), (site2, "c-3") })
        {
            contactIds.Add((await SendOkAsync(world, HttpMethod.Post, $"{sitesPath}/{site}/contacts", m2m,
                $"{{\"external_contact_id\":\"{external}\",\"first_name\":\"First {external}\",\"last_name\":\"Last\",\"phone_number\":\"+1 (555) 010-0000\",\"email\":\"{external}@example.com\"}}",
                201)).GetProperty("contact_id").GetInt64());
        }

        await SendOkAsync(world, HttpMethod.Put, $"{sitesPath}/{site1}/contacts/{contactIds[1]}", m2m, "{\"last_name\":\"Changed\",\"email\":null}", 200);

        // Another partner connected to the same dealer is not affected by this partner's disconnection.
        var otherPartner = await Seed.PartnerAsync(app, "Other partner");
        var otherClient = await Seed.ClientAsync(app, otherPartner, "Other M2M");
        await Seed.ConnectAsync(app, otherPartner, world.Dealer, "other-ext");
        var otherToken = await Seed.ClientCredentialsTokenAsync(app, otherClient);

        var before = await DealerScopedRoutes.SnapshotAsync(app, m2m, world.Dealer);
        var otherBefore = await DealerScopedRoutes.SnapshotAsync(app, otherToken, world.Dealer);
        Assert.Contains($"/sites/{site1}/contacts/{contactIds[0]}", before, StringComparison.Ordinal);
        Assert.Contains($"/sites/{site2}/contacts/{contactIds[2]}", before, StringComparison.Ordinal);

        // Disconnect with the user token: the dealer answers without an external id.
        var disconnected = await SendOkAsync(world, HttpMethod.Put, world.DealerPath + "/disconnect", world.AdminToken, null, 200);
        Assert.Equal(world.Dealer, disconnected.GetProperty("dealer_id").GetInt64());
        Assert.Equal(JsonValueKind.Null, disconnected.GetProperty("external_dealer_id").ValueKind);

        // Every dealer-scoped route (disconnect itself included) is now 403 dealer_not_connected, for the token issued before.
        var failures = new List<string>();
        foreach (var route in DealerScopedRoutes.All)
        {
            var path = route.Path(world.Dealer, site1, contactIds[0]);
            using var response = await DealerScopedRoutes.SendAsync(app, route, path, m2m, world.AdminToken);
            var text = await response.Content.ReadAsStringAsync();
            try
            {
                await response.ReadErrorAsync(403, "dealer_not_connected");
            }
            catch (Exception exception) when (exception is Xunit.Sdk.XunitException or InvalidOperationException)
            {
                failures.Add($"{route.Method} {path}: expected 403 dealer_not_connected, got {(int)response.StatusCode} {text}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        // A freshly issued token and the dealer admin's own user token are refused too.
        var fresh = await Seed.ClientCredentialsTokenAsync(app, world.M2M);
        await (await app.Client.SendAsync(Seed.Authorized(HttpMethod.Get, $"{sitesPath}/{site1}", fresh))).ReadErrorAsync(403, "dealer_not_connected");
        await (await app.Client.SendAsync(Seed.Authorized(HttpMethod.Get, world.DealerPath, world.AdminToken))).ReadErrorAsync(403, "dealer_not_connected");

        // The data is still there: the other partner connected to the dealer sees it unchanged.
        Assert.Equal(otherBefore, await DealerScopedRoutes.SnapshotAsync(app, otherToken, world.Dealer));

        // Reconnect: same ids, same bodies, same ETags, with the token issued before the disconnection.
        var reconnected = await SendOkAsync(world, HttpMethod.Put, "/partner/v1/dealers/connect", world.AdminToken, ConnectBody, 200);
        Assert.Equal("adc-67890", reconnected.GetProperty("external_dealer_id").GetString());
        Assert.Equal(before, await DealerScopedRoutes.SnapshotAsync(app, m2m, world.Dealer));
        Assert.Equal(otherBefore, await DealerScopedRoutes.SnapshotAsync(app, otherToken, world.Dealer));

        // And the partner can write again.
        await SendOkAsync(world, HttpMethod.Put, $"{sitesPath}/{site1}/contacts/{contactIds[0]}", m2m, "{\"first_name\":\"Back\"}", 200);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ReconnectingUnderANewExternalIdKeepsTheDataAndAnswersTheNewId(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var app = world.App;
        await SendOkAsync(world, HttpMethod.Put, "/partner/v1/dealers/connect", world.AdminToken, ConnectBody, 200);
        var m2m = await Seed.ClientCredentialsTokenAsync(app, world.M2M);
        var site = (await SendOkAsync(world, HttpMethod.Post, world.DealerPath + "/sites", m2m,
            "{\"external_site_id\":\"site-1\",\"name\":\"Head office\",\"timezone\":\"Europe/Paris\"}", 201)).GetProperty("site_id").GetInt64();
        await SendOkAsync(world, HttpMethod.Post, $"{world.DealerPath}/sites/{site}/contacts", m2m,
            "{\"external_contact_id\":\"c-1\",\"first_name\":\"Jane\",\"last_name\":\"Doe\"}", 201);
        var before = await DealerScopedRoutes.SnapshotAsync(app, m2m, world.Dealer);

        await SendOkAsync(world, HttpMethod.Put, world.DealerPath + "/disconnect", world.AdminToken, null, 200);
        var reconnected = await SendOkAsync(world, HttpMethod.Put, "/partner/v1/dealers/connect", world.AdminToken,
            "{\"external_dealer_id\":\"adc-new\",\"company_name\":\"CHeKT Security Solutions\"}", 200);
        Assert.Equal("adc-new", reconnected.GetProperty("external_dealer_id").GetString());

        // Only the dealer's external id differs.
        var after = await DealerScopedRoutes.SnapshotAsync(app, m2m, world.Dealer);
        Assert.Equal(before.Replace("\"external_dealer_id\":\"adc-67890\"", "\"external_dealer_id\":\"adc-new\"", StringComparison.Ordinal), after);
    }
}
