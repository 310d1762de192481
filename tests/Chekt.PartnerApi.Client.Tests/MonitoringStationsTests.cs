using System.Net;
using Chekt.PartnerApi.Client.Tests.Infrastructure;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;

namespace Chekt.PartnerApi.Client.Tests;

/// <summary>Monitoring stations through the SDK against the real server.</summary>
public sealed class MonitoringStationsTests
{
    [Theory, OnSqlite, OnPostgres]
    public async Task AStationIsCreatedUsedByASiteUpdatedAndDeletedOnceNoSiteUsesIt(DatabaseProvider provider)
    {
        await using var world = await SdkWorld.StartAsync(provider);
        var stations = world.Client.MonitoringStations;
        var dealerId = world.DealerId;

        var station = await stations.CreateAsync(dealerId, new CreateMonitoringStationRequest
        {
            ExternalMonitoringStationId = "ms-1", Name = "Central", Prefix = "77", Linecard = "3",
        });
        Assert.Equal(("ms-1", "Central", "77", "3"), (station.ExternalMonitoringStationId, station.Name, station.Prefix, station.Linecard));
        Assert.Equal(station.Name, (await stations.GetAsync(dealerId, station.MonitoringStationId)).Name);

        var site = await world.Client.Sites.CreateAsync(dealerId, new CreateSiteRequest
        {
            ExternalSiteId = "s-1", Name = "Shop", Timezone = "UTC", MonitoringStationId = station.MonitoringStationId,
        });
        Assert.Equal((station.MonitoringStationId, "ms-1"), (site.MonitoringStationId, site.ExternalMonitoringStationId));

        var updated = await stations.UpdateAsync(dealerId, station.MonitoringStationId, new UpdateMonitoringStationRequest { ExternalMonitoringStationId = "ms-one", Prefix = null });
        Assert.Equal(("ms-one", "Central", (string?)null, "3"), (updated.ExternalMonitoringStationId, updated.Name, updated.Prefix, updated.Linecard));
        Assert.Equal("ms-one", (await world.Client.Sites.GetAsync(dealerId, site.SiteId)).ExternalMonitoringStationId);

        var inUse = await Assert.ThrowsAsync<PartnerApiException>(() => stations.DeleteAsync(dealerId, station.MonitoringStationId));
        Assert.Equal((HttpStatusCode.Conflict, "monitoring_station_in_use"), (inUse.StatusCode, inUse.Code));

        // Detaching the site (null clears) frees the station.
        var detached = await world.Client.Sites.UpdateAsync(dealerId, site.SiteId, new UpdateSiteRequest { MonitoringStationId = null });
        Assert.Null(detached.MonitoringStationId);
        Assert.Null(detached.ExternalMonitoringStationId);
        await stations.DeleteAsync(dealerId, station.MonitoringStationId);

        Assert.Empty(await stations.ListAsync(dealerId));
        var gone = await Assert.ThrowsAsync<PartnerApiException>(() => stations.GetAsync(dealerId, station.MonitoringStationId));
        Assert.Equal("monitoring_station_not_found", gone.Code);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ListAllOfStationsFollowsEveryPage(DatabaseProvider provider)
    {
        await using var world = await SdkWorld.StartAsync(provider);
        var ids = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await world.Client.MonitoringStations.CreateAsync(world.DealerId,
                new CreateMonitoringStationRequest { ExternalMonitoringStationId = $"ms-{i}", Name = $"Station {i}" })).MonitoringStationId);
        }

        var seen = new List<long>();
        await foreach (var station in world.Client.MonitoringStations.ListAllAsync(world.DealerId, new ListOptions { Limit = 2 }))
        {
            seen.Add(station.MonitoringStationId);
        }

        Assert.Equal(ids, seen);
    }
}
