using System.Text;
using System.Text.Json;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;

namespace Chekt.PartnerApi.Tests.Devices;

/// <summary>Spec §6 devices: bulk create with per-item results, formats, uniqueness per site, CRUD, cascade with the site.</summary>
public sealed class DeviceEndpointTests
{
    private static readonly string[] DeviceFields =
    [
        "device_id", "external_device_id", "device_type", "zone_number", "additional_zone_numbers", "name", "mac",
        "manufacturer", "model", "serial_number", "created_at",
    ];

    private static string DevicesPath(ApiWorld world, long siteId) => $"{world.DealerPath}/sites/{siteId}/devices";

    private static string Camera(string externalId, string zone = "001", string extra = "") =>
        $"{{\"external_device_id\":\"{externalId}\",\"device_type\":\"camera\",\"zone_number\":\"{zone}\"{extra}}}";

    [Theory, OnSqlite, OnPostgres]
    public async Task ABulkCreateOfValidDevicesCreatesThemAll(DatabaseProvider provider)
    {
        await using var world = await ApiWorld.StartAsync(provider);
        var siteId = await world.CreateSiteAsync();
        var response = await world.SendAsync(HttpMethod.Post, DevicesPath(world, siteId),
            $"[{Camera("cam-1", "001", ",\"additional_zone_numbers\":\"002, 003,002\",\"name\":\"Front door\",\"mac\":\"aa-bb-cc-dd-ee-ff\",\"manufacturer\":\"CHeKT\",\"model\":\"C1\",\"serial_number\":\"SN1\"")}," +
            "{\"external_device_id\":\"bridge-1\",\"device_type\":\"bridge\",\"zone_number\":\"0\",\"mac\":\"001122334455\"}]");
        var body = await response.ReadJsonAsync();

        Assert.Equal(201, (int)response.StatusCode);
        Assert.Equal(["success_count", "failure_count", "results"], body.EnumerateObject().Select(p => p.Name));
        Assert.Equal(2, body.GetProperty("success_count").GetInt32());
        Assert.Equal(0, body.GetProperty("failure_count").GetInt32());
        var first = body.GetProperty("results")[0];
        Assert.Equal(["is_successful", "external_device_id", "device"], first.EnumerateObject().Select(p => p.Name));
        var device = first.GetProperty("device");
        Assert.Equal(DeviceFields, device.EnumerateObject().Select(p => p.Name));
        Assert.Equal("002,003", device.GetProperty("additional_zone_numbers").GetString());
        Assert.Equal("AA:BB:CC:DD:EE:FF", device.GetProperty("mac").GetString());
        Assert.Equal("00:11:22:33:44:55", body.GetProperty("results")[1].GetProperty("device").GetProperty("mac").GetString());

        var listed = await world.OkAsync(HttpMethod.Get, DevicesPath(world, siteId));
        Assert.Equal(["cam-1", "bridge-1"], listed.EnumerateArray().Select(d => d.GetProperty("external_device_id").GetString()));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ABadOrDuplicateItemFailsAloneAndResultsKeepTheRequestOrder(DatabaseProvider provider)
    {
        await using var world = await ApiWorld.StartAsync(provider);
        var siteId = await world.CreateSiteAsync();
        await world.OkAsync(HttpMethod.Post, DevicesPath(world, siteId), $"[{Camera("existing")}]");

        var items = new[]
        {
            Camera("ok-1"),
            Camera("existing"),                                                  // already on the site
            "{\"external_device_id\":\"bad-type\",\"device_type\":\"doorbell\",\"zone_number\":\"001\"}",
            Camera("bad-zone", "12345"),
            Camera("ok-1"),                                                      // duplicate within this request
            Camera("bad-mac", "001", ",\"mac\":\"not-a-mac\""),
            "{\"device_type\":\"camera\",\"zone_number\":\"001\"}",              // no external id
            "42",
            Camera("ok-2", "9999"),
            Camera("unknown-field", "001", ",\"colour\":\"red\""),
        };
        var response = await world.SendAsync(HttpMethod.Post, DevicesPath(world, siteId), $"[{string.Join(',', items)}]");
        var body = await response.ReadJsonAsync();
        Assert.Equal(201, (int)response.StatusCode);
        Assert.Equal(2, body.GetProperty("success_count").GetInt32());
        Assert.Equal(8, body.GetProperty("failure_count").GetInt32());

        var results = body.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(items.Length, results.Count);
        Assert.Equal([true, false, false, false, false, false, false, false, true, false], results.Select(r => r.GetProperty("is_successful").GetBoolean()));
        string? Field(int i) => results[i].GetProperty("error").GetProperty("field").GetString();
        string? Code(int i) => results[i].GetProperty("error").GetProperty("code").GetString();
        Assert.Equal(("conflict", "external_device_id"), (Code(1), Field(1)));
        Assert.Equal(("validation_failed", "device_type"), (Code(2), Field(2)));
        Assert.Equal(("validation_failed", "zone_number"), (Code(3), Field(3)));
        Assert.Equal(("conflict", "external_device_id"), (Code(4), Field(4)));
        Assert.Equal(("validation_failed", "mac"), (Code(5), Field(5)));
        Assert.Equal(("validation_failed", "external_device_id"), (Code(6), Field(6)));
        Assert.Equal("invalid_type", Code(7));
        Assert.Equal(("unknown_field", "colour"), (Code(9), Field(9)));
        Assert.Equal("bad-zone", results[3].GetProperty("external_device_id").GetString());
        Assert.False(results[1].TryGetProperty("device", out _));

        var listed = await world.OkAsync(HttpMethod.Get, DevicesPath(world, siteId));
        Assert.Equal(["existing", "ok-1", "ok-2"], listed.EnumerateArray().Select(d => d.GetProperty("external_device_id").GetString()));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task WithAnIdempotencyKeyAnItemRefusedByTheDatabaseFailsAloneAndTheRestCommitsWithTheAnswer(DatabaseProvider provider)
    {
        // The items run in the idempotent request's transaction; the refused insert (unique violation)
        // must not undo or block the items after it, nor the stored answer (PostgreSQL aborts a
        // transaction on a failed statement unless it is rolled back to a savepoint).
        await using var world = await ApiWorld.StartAsync(provider);
        var siteId = await world.CreateSiteAsync();
        await world.OkAsync(HttpMethod.Post, DevicesPath(world, siteId), $"[{Camera("existing")}]");

        HttpRequestMessage Create()
        {
            var request = Seed.Authorized(HttpMethod.Post, DevicesPath(world, siteId), world.Token, $"[{Camera("before")},{Camera("existing")},{Camera("after")}]");
            request.Headers.Add("Idempotency-Key", "bulk-with-duplicate");
            return request;
        }

        var first = await world.App.Client.SendAsync(Create());
        var body = await first.ReadJsonAsync();
        Assert.Equal(201, (int)first.StatusCode);
        Assert.Equal([true, false, true], body.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("is_successful").GetBoolean()));
        var retry = await world.App.Client.SendAsync(Create());
        Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(body.GetRawText(), (await retry.ReadJsonAsync()).GetRawText());

        var listed = await world.OkAsync(HttpMethod.Get, DevicesPath(world, siteId));
        Assert.Equal(["existing", "before", "after"], listed.EnumerateArray().Select(d => d.GetProperty("external_device_id").GetString()));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AnItemWhoseExternalIdIsNotValidTextFailsAloneWithoutEchoingIt(DatabaseProvider provider)
    {
        await using var world = await ApiWorld.StartAsync(provider);
        var siteId = await world.CreateSiteAsync();
        var response = await world.SendAsync(HttpMethod.Post, DevicesPath(world, siteId),
            $"[{{\"external_device_id\":\"x\\ud800\",\"device_type\":\"camera\",\"zone_number\":\"1\"}},{Camera("fine")}]");
        var body = await response.ReadJsonAsync();
        Assert.Equal(201, (int)response.StatusCode);
        var bad = body.GetProperty("results")[0];
        Assert.False(bad.GetProperty("is_successful").GetBoolean());
        Assert.Equal(JsonValueKind.Null, bad.GetProperty("external_device_id").ValueKind);
        Assert.Equal("external_device_id", bad.GetProperty("error").GetProperty("field").GetString());
        Assert.True(body.GetProperty("results")[1].GetProperty("is_successful").GetBoolean());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task EmptyOversizedOrNonArrayBodiesAre400(DatabaseProvider provider)
    {
        await using var world = await ApiWorld.StartAsync(provider);
        var siteId = await world.CreateSiteAsync();
        var path = DevicesPath(world, siteId);
        await (await world.SendAsync(HttpMethod.Post, path, "[]")).ReadErrorAsync(400, "validation_failed");
        await (await world.SendAsync(HttpMethod.Post, path, Camera("single"))).ReadErrorAsync(400, "invalid_type");

        var tooMany = new StringBuilder("[");
        for (var i = 0; i < 501; i++)
        {
            tooMany.Append(i == 0 ? "" : ",").Append("{\"external_device_id\":\"d").Append(i).Append("\",\"device_type\":\"camera\",\"zone_number\":\"1\"}");
        }

        var refused = await world.SendAsync(HttpMethod.Post, path, tooMany.Append(']').ToString());
        await refused.ReadErrorAsync(400, "validation_failed");
        Assert.Empty((await world.OkAsync(HttpMethod.Get, path)).EnumerateArray());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task FiveHundredItemsAreAccepted(DatabaseProvider provider)
    {
        await using var world = await ApiWorld.StartAsync(provider);
        var siteId = await world.CreateSiteAsync();
        var items = string.Join(',', Enumerable.Range(0, 500).Select(i => $"{{\"external_device_id\":\"d{i}\",\"device_type\":\"camera\",\"zone_number\":\"{i % 10000}\"}}"));
        var body = await world.OkAsync(HttpMethod.Post, DevicesPath(world, siteId), $"[{items}]");
        Assert.Equal(500, body.GetProperty("success_count").GetInt32());
        var page = await world.SendAsync(HttpMethod.Get, DevicesPath(world, siteId) + "?limit=200");
        Assert.Equal(200, (await page.ReadJsonAsync()).GetArrayLength());
        Assert.Contains("rel=\"next\"", page.Headers.GetValues("Link").Single(), StringComparison.Ordinal);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ADeviceIsReadUpdatedPartiallyAndDeleted(DatabaseProvider provider)
    {
        await using var world = await ApiWorld.StartAsync(provider);
        var siteId = await world.CreateSiteAsync();
        var created = await world.OkAsync(HttpMethod.Post, DevicesPath(world, siteId), $"[{Camera("cam-1", "001", ",\"name\":\"Front\",\"mac\":\"AA:BB:CC:DD:EE:FF\"")}]");
        var id = created.GetProperty("results")[0].GetProperty("device").GetProperty("device_id").GetInt64();
        var path = $"{DevicesPath(world, siteId)}/{id}";

        var read = await world.SendAsync(HttpMethod.Get, path);
        Assert.NotNull(read.Headers.ETag);
        Assert.Equal(DeviceFields, (await read.ReadJsonAsync()).EnumerateObject().Select(p => p.Name));

        var updated = await world.OkAsync(HttpMethod.Put, path, "{\"device_type\":\"bridge\",\"mac\":null,\"additional_zone_numbers\":\"7,7,8\"}");
        Assert.Equal("bridge", updated.GetProperty("device_type").GetString());
        Assert.Equal(JsonValueKind.Null, updated.GetProperty("mac").ValueKind);
        Assert.Equal("7,8", updated.GetProperty("additional_zone_numbers").GetString());
        Assert.Equal("Front", updated.GetProperty("name").GetString());

        foreach (var (body, field, code) in new[]
        {
            ("{\"zone_number\":null}", "zone_number", "validation_failed"),
            ("{\"zone_number\":\"abc\"}", "zone_number", "validation_failed"),
            ("{\"device_type\":\"\"}", "device_type", "validation_failed"),
            ("{\"additional_zone_numbers\":\"1,,2\"}", "additional_zone_numbers", "validation_failed"),
            ("{\"mac\":\"AA:BB:CC:DD:EE\"}", "mac", "validation_failed"),
            ("{\"mac\":\"AA:BB-CC:DD:EE:FF\"}", "mac", "validation_failed"),
            ("{\"mac\":\"AA:BB:CC:DD:EE:FF\\n\"}", "mac", "validation_failed"),
            ("{\"zone_number\":\"12\\n\"}", "zone_number", "validation_failed"),
            ("{\"external_device_id\":\"new\"}", "external_device_id", "unknown_field"),
            ("{\"zone_number\":1}", "zone_number", "invalid_type"),
        })
        {
            var error = await (await world.SendAsync(HttpMethod.Put, path, body)).ReadErrorAsync(400, code);
            Assert.Equal(field, error.GetProperty("field").GetString());
        }

        Assert.Equal(204, (int)(await world.SendAsync(HttpMethod.Delete, path)).StatusCode);
        await (await world.SendAsync(HttpMethod.Get, path)).ReadErrorAsync(404, "device_not_found");
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ExternalDeviceIdsAreUniquePerSiteOnly(DatabaseProvider provider)
    {
        await using var world = await ApiWorld.StartAsync(provider);
        var siteA = await world.CreateSiteAsync("a");
        var siteB = await world.CreateSiteAsync("b");
        await world.OkAsync(HttpMethod.Post, DevicesPath(world, siteA), $"[{Camera("cam")}]");
        var onOtherSite = await world.OkAsync(HttpMethod.Post, DevicesPath(world, siteB), $"[{Camera("cam")}]");
        Assert.Equal(1, onOtherSite.GetProperty("success_count").GetInt32());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task DeletingASiteRemovesItsDevices(DatabaseProvider provider)
    {
        await using var world = await ApiWorld.StartAsync(provider);
        var siteId = await world.CreateSiteAsync();
        await world.OkAsync(HttpMethod.Post, DevicesPath(world, siteId), $"[{Camera("c1")},{Camera("c2")}]");
        Assert.Equal(204, (int)(await world.SendAsync(HttpMethod.Delete, $"{world.DealerPath}/sites/{siteId}")).StatusCode);

        await using var connection = await world.App.Services.GetRequiredService<Db>().OpenAsync();
        Assert.Equal(0L, await Dapper.SqlMapper.ExecuteScalarAsync<long>(connection, "SELECT COUNT(*) FROM devices WHERE site_id = @siteId", new { siteId }));
        await (await world.SendAsync(HttpMethod.Get, DevicesPath(world, siteId))).ReadErrorAsync(404, "site_not_found");
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ADeviceOfAnotherSiteIs404(DatabaseProvider provider)
    {
        await using var world = await ApiWorld.StartAsync(provider);
        var siteA = await world.CreateSiteAsync("a");
        var siteB = await world.CreateSiteAsync("b");
        var created = await world.OkAsync(HttpMethod.Post, DevicesPath(world, siteA), $"[{Camera("cam")}]");
        var id = created.GetProperty("results")[0].GetProperty("device").GetProperty("device_id").GetInt64();
        var wrongPath = $"{DevicesPath(world, siteB)}/{id}";
        await (await world.SendAsync(HttpMethod.Get, wrongPath)).ReadErrorAsync(404, "device_not_found");
        await (await world.SendAsync(HttpMethod.Put, wrongPath, "{\"name\":\"x\"}")).ReadErrorAsync(404, "device_not_found");
        await (await world.SendAsync(HttpMethod.Delete, wrongPath)).ReadErrorAsync(404, "device_not_found");
        await (await world.SendAsync(HttpMethod.Get, $"{DevicesPath(world, siteA)}/abc")).ReadErrorAsync(400, "validation_failed");
    }
}
