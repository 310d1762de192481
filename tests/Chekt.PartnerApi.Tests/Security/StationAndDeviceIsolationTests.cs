using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;

namespace Chekt.PartnerApi.Tests.Security;

/// <summary>The partner isolation matrix of the monitoring station and device routes (spec §2.4, §6).</summary>
public sealed class StationAndDeviceIsolationTests
{
    private sealed record Side(long Dealer, long Site, long Station, long Device, string Token);

    [Theory, OnSqlite, OnPostgres]
    public async Task APartnerNeverReadsOrChangesAnotherPartnersStationsOrDevices(DatabaseProvider provider)
    {
        await using var app = await TestApp.StartAsync(provider);
        var a = await SideAsync(app, "A");
        var b = await SideAsync(app, "B");
        var bBefore = await SnapshotAsync(app, b);

        static (HttpMethod Method, string Path, string? Body)[] Routes(long dealer, long site, long station, long device) =>
        [
            (HttpMethod.Post, $"/partner/v1/dealers/{dealer}/monitoring-stations", "{\"external_monitoring_station_id\":\"intruder\",\"name\":\"Intruder\"}"),
            (HttpMethod.Get, $"/partner/v1/dealers/{dealer}/monitoring-stations", null),
            (HttpMethod.Get, $"/partner/v1/dealers/{dealer}/monitoring-stations/{station}", null),
            (HttpMethod.Put, $"/partner/v1/dealers/{dealer}/monitoring-stations/{station}", "{\"name\":\"Hijacked\"}"),
            (HttpMethod.Delete, $"/partner/v1/dealers/{dealer}/monitoring-stations/{station}", null),
            (HttpMethod.Post, $"/partner/v1/dealers/{dealer}/sites/{site}/devices", "[{\"external_device_id\":\"intruder\",\"device_type\":\"camera\",\"zone_number\":\"1\"}]"),
            (HttpMethod.Get, $"/partner/v1/dealers/{dealer}/sites/{site}/devices", null),
            (HttpMethod.Get, $"/partner/v1/dealers/{dealer}/sites/{site}/devices/{device}", null),
            (HttpMethod.Put, $"/partner/v1/dealers/{dealer}/sites/{site}/devices/{device}", "{\"name\":\"Hijacked\"}"),
            (HttpMethod.Delete, $"/partner/v1/dealers/{dealer}/sites/{site}/devices/{device}", null),
        ];

        // B's dealer: 403 on every route.
        foreach (var (method, path, body) in Routes(b.Dealer, b.Site, b.Station, b.Device))
        {
            await (await app.Client.SendAsync(Seed.Authorized(method, path, a.Token, body))).ReadErrorAsync(403, "dealer_not_connected");
        }

        // A's own dealer with B's station or device (or B's site): 404, exactly as if they did not exist.
        foreach (var (method, path, body) in Routes(a.Dealer, a.Site, b.Station, b.Device).Where(r => r.Path.EndsWith($"/monitoring-stations/{b.Station}", StringComparison.Ordinal) || r.Path.Contains("/devices/", StringComparison.Ordinal)))
        {
            var response = await app.Client.SendAsync(Seed.Authorized(method, path, a.Token, body));
            Assert.Equal(404, (int)response.StatusCode);
        }

        foreach (var (method, path, body) in Routes(a.Dealer, b.Site, a.Station, a.Device).Where(r => r.Path.Contains("/sites/", StringComparison.Ordinal)))
        {
            await (await app.Client.SendAsync(Seed.Authorized(method, path, a.Token, body))).ReadErrorAsync(404, "site_not_found");
        }

        // A's lists hold only A's own items.
        var stations = await (await app.Client.SendAsync(Seed.Authorized(HttpMethod.Get, $"/partner/v1/dealers/{a.Dealer}/monitoring-stations", a.Token))).ReadJsonAsync();
        Assert.DoesNotContain(stations.EnumerateArray(), s => s.GetProperty("monitoring_station_id").GetInt64() == b.Station);
        var devices = await (await app.Client.SendAsync(Seed.Authorized(HttpMethod.Get, $"/partner/v1/dealers/{a.Dealer}/sites/{a.Site}/devices", a.Token))).ReadJsonAsync();
        Assert.DoesNotContain(devices.EnumerateArray(), d => d.GetProperty("device_id").GetInt64() == b.Device);

        Assert.Equal(bBefore, await SnapshotAsync(app, b));
    }

    private static async Task<Side> SideAsync(TestApp app, string name)
    {
        var partner = await Seed.PartnerAsync(app, name);
        var client = await Seed.ClientAsync(app, partner);
        var dealer = await Seed.DealerAsync(app, $"Dealer {name}");
        await Seed.ConnectAsync(app, partner, dealer, $"dealer-{name}");
        var token = await Seed.ClientCredentialsTokenAsync(app, client);
        async Task<System.Text.Json.JsonElement> Post(string path, string body) =>
            await (await app.Client.SendAsync(Seed.Authorized(HttpMethod.Post, path, token, body))).ReadJsonAsync();
        var site = (await Post($"/partner/v1/dealers/{dealer}/sites", $"{{\"external_site_id\":\"s-{name}\",\"name\":\"Site {name}\",\"timezone\":\"UTC\"}}")).GetProperty("site_id").GetInt64();
        var station = (await Post($"/partner/v1/dealers/{dealer}/monitoring-stations", $"{{\"external_monitoring_station_id\":\"m-{name}\",\"name\":\"Station {name}\"}}")).GetProperty("monitoring_station_id").GetInt64();
        var device = (await Post($"/partner/v1/dealers/{dealer}/sites/{site}/devices", $"[{{\"external_device_id\":\"d-{name}\",\"device_type\":\"bridge\",\"zone_number\":\"7\"}}]"))
            .GetProperty("results")[0].GetProperty("device").GetProperty("device_id").GetInt64();
        return new Side(dealer, site, station, device, token);
    }

    private static async Task<string> SnapshotAsync(TestApp app, Side side)
    {
        var parts = new List<string>();
        foreach (var path in new[]
        {
            $"/partner/v1/dealers/{side.Dealer}/monitoring-stations", $"/partner/v1/dealers/{side.Dealer}/monitoring-stations/{side.Station}",
            $"/partner/v1/dealers/{side.Dealer}/sites/{side.Site}/devices", $"/partner/v1/dealers/{side.Dealer}/sites/{side.Site}/devices/{side.Device}",
        })
        {
            var response = await app.Client.SendAsync(Seed.Authorized(HttpMethod.Get, path, side.Token));
            parts.Add($"{(int)response.StatusCode} {response.Headers.ETag} {await response.Content.ReadAsStringAsync()}");
        }

        return string.Join('\n', parts);
    }
}
