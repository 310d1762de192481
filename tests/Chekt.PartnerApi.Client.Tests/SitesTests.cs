using System.Net;
using Chekt.PartnerApi.Client.Tests.Infrastructure;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;

namespace Chekt.PartnerApi.Client.Tests;

/// <summary>Sites and arming settings through the SDK against the real server.</summary>
public sealed class SitesTests
{
    [Theory, OnSqlite, OnPostgres]
    public async Task ASiteIsCreatedReadListedPartiallyUpdatedAndDeleted(DatabaseProvider provider)
    {
        await using var world = await SdkWorld.StartAsync(provider);
        var sites = world.Client.Sites;
        var dealerId = world.DealerId;

        var created = await sites.CreateAsync(dealerId, new CreateSiteRequest
        {
            ExternalSiteId = "site-1", Name = "Main Street", Timezone = "America/New_York",
            AccountNumber = "A-100", Address1 = "1 Main St", Address2 = "Suite 2",
        });
        Assert.True(created.SiteId > 0);
        Assert.Equal("site-1", created.ExternalSiteId);
        Assert.False(created.IsActivated);
        Assert.Null(created.MonitoringStationId);
        Assert.NotNull(created.ETag);
        Assert.True(created.CreatedAt > DateTimeOffset.UtcNow.AddMinutes(-5));

        var read = await sites.GetAsync(dealerId, created.SiteId);
        Assert.Equal(("Main Street", "America/New_York", "A-100", "1 Main St", "Suite 2"), (read.Name, read.Timezone, read.AccountNumber, read.Address1, read.Address2));
        Assert.Equal(created.ETag, read.ETag);

        // Absent stays, null clears: only the name and the second address line change.
        var updated = await sites.UpdateAsync(dealerId, created.SiteId, new UpdateSiteRequest { Name = "Main Street Store", Address2 = null });
        Assert.Equal(("Main Street Store", "America/New_York", "A-100", "1 Main St", (string?)null), (updated.Name, updated.Timezone, updated.AccountNumber, updated.Address1, updated.Address2));
        Assert.NotEqual(read.ETag, updated.ETag);

        var arming = await sites.GetArmingSettingsAsync(dealerId, created.SiteId);
        Assert.Equal(SecurityType.AlarmPanelPrimaryBridge, arming.SecurityType);
        var patched = await sites.UpdateArmingSettingsAsync(dealerId, created.SiteId, new UpdateArmingSettingsRequest { SecurityType = SecurityType.ChektVideoSecuritySystem });
        Assert.Equal((created.SiteId, "site-1", "Main Street Store", SecurityType.ChektVideoSecuritySystem), (patched.SiteId, patched.ExternalSiteId, patched.Name, patched.SecurityType));

        var page = await sites.ListAsync(dealerId);
        Assert.Equal([created.SiteId], page.Select(s => s.SiteId));
        Assert.False(page.HasMore);

        await sites.DeleteAsync(dealerId, created.SiteId);
        var gone = await Assert.ThrowsAsync<PartnerApiException>(() => sites.GetAsync(dealerId, created.SiteId));
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal("site_not_found", gone.Code);
        Assert.Empty(await sites.ListAsync(dealerId));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AWriteWithAStaleIfMatchIs412AndACurrentOneGoesThrough(DatabaseProvider provider)
    {
        await using var world = await SdkWorld.StartAsync(provider);
        var sites = world.Client.Sites;
        var site = await sites.CreateAsync(world.DealerId, new CreateSiteRequest { ExternalSiteId = "s", Name = "One", Timezone = "UTC" });
        var changed = await sites.UpdateAsync(world.DealerId, site.SiteId, new UpdateSiteRequest { Name = "Two" }, new RequestOptions { IfMatch = site.ETag });

        var stale = await Assert.ThrowsAsync<PartnerApiException>(() =>
            sites.UpdateAsync(world.DealerId, site.SiteId, new UpdateSiteRequest { Name = "Three" }, new RequestOptions { IfMatch = site.ETag }));
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
        Assert.Equal("precondition_failed", stale.Code);

        await sites.DeleteAsync(world.DealerId, site.SiteId, new RequestOptions { IfMatch = changed.ETag });
        Assert.Empty(await sites.ListAsync(world.DealerId));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task RepeatingACreateWithTheSameIdempotencyKeyReturnsTheFirstSiteInsteadOfASecond(DatabaseProvider provider)
    {
        await using var world = await SdkWorld.StartAsync(provider);
        var request = new CreateSiteRequest { ExternalSiteId = "s-1", Name = "Shop", Timezone = "Asia/Seoul" };
        var options = new RequestOptions { IdempotencyKey = "create-site-s-1" };

        var first = await world.Client.Sites.CreateAsync(world.DealerId, request, options);
        var again = await world.Client.Sites.CreateAsync(world.DealerId, request, options);

        Assert.Equal(first.SiteId, again.SiteId);
        Assert.Single(await world.Client.Sites.ListAsync(world.DealerId));
    }
}
