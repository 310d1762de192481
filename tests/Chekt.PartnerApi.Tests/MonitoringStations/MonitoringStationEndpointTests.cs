using System.Text.Json;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;

namespace Chekt.PartnerApi.Tests.MonitoringStations;

/// <summary>Spec §6 monitoring stations: CRUD, uniqueness per dealer, sites following their station, delete blocked while in use.</summary>
public sealed class MonitoringStationEndpointTests
{
    private static readonly string[] StationFields =
        ["monitoring_station_id", "external_monitoring_station_id", "name", "prefix", "linecard", "created_at"];

    private static async Task<JsonElement> CreateStationAsync(ApiWorld world, string externalId = "ms-1") =>
        await world.OkAsync(HttpMethod.Post, world.DealerPath + "/monitoring-stations",
            $"{{\"external_monitoring_station_id\":\"{externalId}\",\"name\":\"Central {externalId}\",\"prefix\":\"12\",\"linecard\":\"3\"}}");

    [Theory, OnSqlite, OnPostgres]
    public async Task StationsAreCreatedListedReadUpdatedAndDeleted(DatabaseProvider provider)
    {
        await using var world = await ApiWorld.StartAsync(provider);
        var created = await world.SendAsync(HttpMethod.Post, world.DealerPath + "/monitoring-stations",
            "{\"external_monitoring_station_id\":\"ms-1\",\"name\":\"Central One\",\"prefix\":\"12\",\"linecard\":\"3\"}");
        var station = await created.ReadJsonAsync();
        Assert.Equal(201, (int)created.StatusCode);
        Assert.Equal(StationFields, station.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.Number, station.GetProperty("monitoring_station_id").ValueKind);
        Assert.NotNull(created.Headers.Location);
        var id = station.GetProperty("monitoring_station_id").GetInt64();
        var path = $"{world.DealerPath}/monitoring-stations/{id}";

        Assert.Equal(station.ToString(), (await world.OkAsync(HttpMethod.Get, path)).ToString());
        Assert.Equal([id], (await world.OkAsync(HttpMethod.Get, world.DealerPath + "/monitoring-stations")).EnumerateArray().Select(s => s.GetProperty("monitoring_station_id").GetInt64()));

        var updated = await world.OkAsync(HttpMethod.Put, path, "{\"name\":\"Central Renamed\",\"prefix\":null}");
        Assert.Equal("Central Renamed", updated.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, updated.GetProperty("prefix").ValueKind);
        Assert.Equal("3", updated.GetProperty("linecard").GetString());

        var deleted = await world.SendAsync(HttpMethod.Delete, path);
        Assert.Equal(204, (int)deleted.StatusCode);
        await (await world.SendAsync(HttpMethod.Get, path)).ReadErrorAsync(404, "monitoring_station_not_found");
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ExternalIdsAreUniquePerDealer(DatabaseProvider provider)
    {
        await using var world = await ApiWorld.StartAsync(provider);
        await CreateStationAsync(world, "ms-1");
        var duplicate = await world.SendAsync(HttpMethod.Post, world.DealerPath + "/monitoring-stations", "{\"external_monitoring_station_id\":\"ms-1\",\"name\":\"Again\"}");
        Assert.Equal("external_monitoring_station_id", (await duplicate.ReadErrorAsync(409, "conflict")).GetProperty("field").GetString());

        var other = await CreateStationAsync(world, "ms-2");
        var renameToTaken = await world.SendAsync(HttpMethod.Put, $"{world.DealerPath}/monitoring-stations/{other.GetProperty("monitoring_station_id")}",
            "{\"external_monitoring_station_id\":\"ms-1\"}");
        await renameToTaken.ReadErrorAsync(409, "conflict");

        var otherDealer = await Seed.DealerAsync(world.App, "Other");
        await Seed.ConnectAsync(world.App, world.PartnerId, otherDealer, "dealer-2");
        var sameIdElsewhere = await world.SendAsync(HttpMethod.Post, $"/partner/v1/dealers/{otherDealer}/monitoring-stations", "{\"external_monitoring_station_id\":\"ms-1\",\"name\":\"X\"}");
        Assert.Equal(201, (int)sameIdElsewhere.StatusCode);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ASitesExternalStationIdFollowsTheStation(DatabaseProvider provider)
    {
        await using var world = await ApiWorld.StartAsync(provider);
        var station = await CreateStationAsync(world, "ms-1");
        var stationId = station.GetProperty("monitoring_station_id").GetInt64();
        var siteId = await world.CreateSiteAsync("site-1", stationId);
        var site = await world.OkAsync(HttpMethod.Get, $"{world.DealerPath}/sites/{siteId}");
        Assert.Equal(stationId, site.GetProperty("monitoring_station_id").GetInt64());
        Assert.Equal("ms-1", site.GetProperty("external_monitoring_station_id").GetString());

        await world.OkAsync(HttpMethod.Put, $"{world.DealerPath}/monitoring-stations/{stationId}", "{\"external_monitoring_station_id\":\"ms-renamed\"}");
        var after = await world.OkAsync(HttpMethod.Get, $"{world.DealerPath}/sites/{siteId}");
        Assert.Equal("ms-renamed", after.GetProperty("external_monitoring_station_id").GetString());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task WithAnIdempotencyKeyTheRefusedDeleteStill409sNamingTheSitesAndTheRetryReplaysIt(DatabaseProvider provider)
    {
        // The refused DELETE runs in the idempotent request's transaction: its failed statement must not
        // poison the reads that name the sites (PostgreSQL aborts a transaction on any failed statement).
        await using var world = await ApiWorld.StartAsync(provider);
        var stationId = (await CreateStationAsync(world)).GetProperty("monitoring_station_id").GetInt64();
        await world.CreateSiteAsync("site-a", stationId);
        var path = $"{world.DealerPath}/monitoring-stations/{stationId}";

        HttpRequestMessage Delete()
        {
            var request = Seed.Authorized(HttpMethod.Delete, path, world.Token);
            request.Headers.Add("Idempotency-Key", "delete-in-use");
            return request;
        }

        var first = await world.App.Client.SendAsync(Delete());
        var error = await first.ReadErrorAsync(409, "monitoring_station_in_use");
        Assert.Equal(1, error.GetProperty("details").GetArrayLength());
        var retry = await world.App.Client.SendAsync(Delete());
        Assert.Equal(409, (int)retry.StatusCode);
        Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(200, (int)(await world.SendAsync(HttpMethod.Get, path)).StatusCode);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task DeletingAStationThatSitesUseIs409NamingThem(DatabaseProvider provider)
    {
        await using var world = await ApiWorld.StartAsync(provider);
        var stationId = (await CreateStationAsync(world)).GetProperty("monitoring_station_id").GetInt64();
        var siteA = await world.CreateSiteAsync("site-a", stationId);
        var siteB = await world.CreateSiteAsync("site-b", stationId);

        var blocked = await world.SendAsync(HttpMethod.Delete, $"{world.DealerPath}/monitoring-stations/{stationId}");
        var error = await blocked.ReadErrorAsync(409, "monitoring_station_in_use");
        Assert.Contains(siteA.ToString(System.Globalization.CultureInfo.InvariantCulture), error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, error.GetProperty("details").GetArrayLength());
        Assert.Equal(200, (int)(await world.SendAsync(HttpMethod.Get, $"{world.DealerPath}/monitoring-stations/{stationId}")).StatusCode);

        await world.OkAsync(HttpMethod.Put, $"{world.DealerPath}/sites/{siteA}", "{\"monitoring_station_id\":null}");
        await world.OkAsync(HttpMethod.Delete, $"{world.DealerPath}/sites/{siteB}");
        Assert.Equal(204, (int)(await world.SendAsync(HttpMethod.Delete, $"{world.DealerPath}/monitoring-stations/{stationId}")).StatusCode);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task StationInputIsValidated(DatabaseProvider provider)
    {
        await using var world = await ApiWorld.StartAsync(provider);
        var path = world.DealerPath + "/monitoring-stations";
        foreach (var (body, field, code) in new[]
        {
            ("{\"name\":\"X\"}", "external_monitoring_station_id", "validation_failed"),
            ("{\"external_monitoring_station_id\":\"a\"}", "name", "validation_failed"),
            ("{\"external_monitoring_station_id\":\" \",\"name\":\"X\"}", "external_monitoring_station_id", "validation_failed"),
            ("{\"external_monitoring_station_id\":\"a\",\"name\":null}", "name", "validation_failed"),
            ("{\"external_monitoring_station_id\":\"" + new string('a', 129) + "\",\"name\":\"X\"}", "external_monitoring_station_id", "validation_failed"),
            ("{\"external_monitoring_station_id\":\"a\",\"name\":\"X\",\"prefix\":12}", "prefix", "invalid_type"),
            ("{\"external_monitoring_station_id\":\"a\",\"name\":\"X\",\"phone\":\"1\"}", "phone", "unknown_field"),
        })
        {
            var error = await (await world.SendAsync(HttpMethod.Post, path, body)).ReadErrorAsync(400, code);
            Assert.Equal(field, error.GetProperty("field").GetString());
        }

        var id = (await CreateStationAsync(world)).GetProperty("monitoring_station_id").GetInt64();
        var update = await (await world.SendAsync(HttpMethod.Put, $"{path}/{id}", "{\"name\":\"\"}")).ReadErrorAsync(400, "validation_failed");
        Assert.Equal("name", update.GetProperty("field").GetString());
        foreach (var bad in new[] { "abc", "0", "-5" })
        {
            var error = await (await world.SendAsync(HttpMethod.Get, $"{path}/{bad}")).ReadErrorAsync(400, "validation_failed");
            Assert.Equal("monitoringStationId", error.GetProperty("field").GetString());
        }
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AnotherDealersStationIs404AndNeedsItsScopes(DatabaseProvider provider)
    {
        await using var world = await ApiWorld.StartAsync(provider);
        var otherDealer = await Seed.DealerAsync(world.App, "Other");
        await Seed.ConnectAsync(world.App, world.PartnerId, otherDealer, "dealer-2");
        var foreign = await world.OkAsync(HttpMethod.Post, $"/partner/v1/dealers/{otherDealer}/monitoring-stations", "{\"external_monitoring_station_id\":\"x\",\"name\":\"X\"}");
        var foreignPath = $"{world.DealerPath}/monitoring-stations/{foreign.GetProperty("monitoring_station_id")}";
        await (await world.SendAsync(HttpMethod.Get, foreignPath)).ReadErrorAsync(404, "monitoring_station_not_found");
        await (await world.SendAsync(HttpMethod.Put, foreignPath, "{\"name\":\"hijack\"}")).ReadErrorAsync(404, "monitoring_station_not_found");
        await (await world.SendAsync(HttpMethod.Delete, foreignPath)).ReadErrorAsync(404, "monitoring_station_not_found");

        var readOnly = await Seed.ClientCredentialsTokenAsync(world.App, world.Client, scope: "read:monitoring_stations");
        await (await world.SendAsync(HttpMethod.Post, world.DealerPath + "/monitoring-stations", "{\"external_monitoring_station_id\":\"y\",\"name\":\"Y\"}", readOnly))
            .ReadErrorAsync(403, "insufficient_scope");
    }
}
