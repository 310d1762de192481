using System.Net;
using Chekt.PartnerApi.Client.Tests.Infrastructure;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;

namespace Chekt.PartnerApi.Client.Tests;

/// <summary>Devices (bulk create) through the SDK against the real server.</summary>
public sealed class DevicesTests
{
    [Theory, OnSqlite, OnPostgres]
    public async Task DevicesAreCreatedInBulkWithPerItemResultsThenReadUpdatedAndDeleted(DatabaseProvider provider)
    {
        await using var world = await SdkWorld.StartAsync(provider);
        var (dealerId, siteId) = (world.DealerId, await ContactsTests.NewSiteAsync(world));
        var devices = world.Client.Devices;

        var result = await devices.CreateAsync(dealerId, siteId,
        [
            new CreateDeviceRequest { ExternalDeviceId = "cam-1", DeviceType = DeviceTypes.Camera, ZoneNumber = "001", Name = "Front door", Mac = "00:11:22:33:44:55", Model = "C1" },
            new CreateDeviceRequest { ExternalDeviceId = "cam-2", DeviceType = DeviceTypes.Camera, ZoneNumber = "002", Mac = "not-a-mac" },
            new CreateDeviceRequest { ExternalDeviceId = "cam-1", DeviceType = DeviceTypes.Camera, ZoneNumber = "003" },
            new CreateDeviceRequest { ExternalDeviceId = "bridge-1", DeviceType = DeviceTypes.Bridge, ZoneNumber = "004", AdditionalZoneNumbers = "005,006" },
        ]);

        Assert.True((2, 2) == (result.SuccessCount, result.FailureCount),
            string.Join("; ", result.Results.Select(r => $"{r.ExternalDeviceId}: {r.IsSuccessful} {r.Error?.Code} {r.Error?.Field} {r.Error?.Message}")));
        Assert.Equal(["cam-1", "cam-2", "cam-1", "bridge-1"], result.Results.Select(r => r.ExternalDeviceId));
        Assert.Equal([true, false, false, true], result.Results.Select(r => r.IsSuccessful));
        Assert.Equal(("validation_failed", "mac"), (result.Results[1].Error!.Code, result.Results[1].Error!.Field));
        Assert.Equal(("conflict", "external_device_id"), (result.Results[2].Error!.Code, result.Results[2].Error!.Field));
        var camera = result.Results[0].Device!;
        Assert.Equal(("camera", "001", "Front door", "C1"), (camera.DeviceType, camera.ZoneNumber, camera.Name, camera.Model));
        Assert.Null(result.Results[1].Device);

        var read = await devices.GetAsync(dealerId, siteId, camera.DeviceId);
        Assert.Equal(camera.Mac, read.Mac);

        var updated = await devices.UpdateAsync(dealerId, siteId, camera.DeviceId, new UpdateDeviceRequest { Name = null, Model = "C2" });
        Assert.Equal(("camera", "001", (string?)null, "C2", camera.Mac), (updated.DeviceType, updated.ZoneNumber, updated.Name, updated.Model, updated.Mac));

        Assert.Equal(["cam-1", "bridge-1"], (await devices.ListAsync(dealerId, siteId)).Select(d => d.ExternalDeviceId));
        var all = new List<string>();
        await foreach (var device in devices.ListAllAsync(dealerId, siteId, new ListOptions { Limit = 1 }))
        {
            all.Add(device.ExternalDeviceId);
        }

        Assert.Equal(["cam-1", "bridge-1"], all);

        await devices.DeleteAsync(dealerId, siteId, camera.DeviceId);
        var gone = await Assert.ThrowsAsync<PartnerApiException>(() => devices.GetAsync(dealerId, siteId, camera.DeviceId));
        Assert.Equal((HttpStatusCode.NotFound, "device_not_found"), (gone.StatusCode, gone.Code));
    }

    // Regression: concurrent requests must never read each other's bodies (the server once parsed
    // JSON over a pooled buffer that it returned to the pool while the document was still in use).
    [Theory, OnSqlite, OnPostgres]
    public async Task ConcurrentBulkCreatesEachCreateExactlyTheirOwnDevices(DatabaseProvider provider)
    {
        await using var world = await SdkWorld.StartAsync(provider);
        var siteId = await ContactsTests.NewSiteAsync(world);

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(batch => world.Client.Devices.CreateAsync(world.DealerId, siteId,
            Enumerable.Range(0, 25).Select(i => new CreateDeviceRequest { ExternalDeviceId = $"d-{batch}-{i}", DeviceType = DeviceTypes.Camera, ZoneNumber = "001", Name = $"Device {batch}-{i}" }))));

        var wrong = results.SelectMany((result, batch) => result.Results.Select((r, i) => (r, expected: $"{batch}-{i}")))
            .Where(x => !x.r.IsSuccessful || x.r.Device!.ExternalDeviceId != "d-" + x.expected || x.r.Device.Name != "Device " + x.expected)
            .Select(x => $"{x.expected}: {x.r.ExternalDeviceId} {x.r.Device?.Name} {x.r.Error?.Code} {x.r.Error?.Message}")
            .ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} of 200 devices wrong, such as:\n" + string.Join("\n", wrong.Take(5)));
    }
}
