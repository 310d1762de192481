using System.Net;
using Chekt.PartnerApi.Client.Tests.Infrastructure;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;

namespace Chekt.PartnerApi.Client.Tests;

/// <summary>Dealers through the SDK: read and update with client credentials, connect and disconnect with a dealer admin's token.</summary>
public sealed class DealersTests
{
    [Theory, OnSqlite, OnPostgres]
    public async Task ADealerIsReadAndPartiallyUpdated(DatabaseProvider provider)
    {
        await using var world = await SdkWorld.StartAsync(provider);

        var dealer = await world.Client.Dealers.GetAsync(world.DealerId);
        Assert.Equal((world.DealerId, "dealer-ext-1", "Dealer Inc.", "456 Market Street"), (dealer.DealerId, dealer.ExternalDealerId, dealer.CompanyName, dealer.CompanyAddress1));

        var updated = await world.Client.Dealers.UpdateAsync(world.DealerId, new UpdateDealerRequest { CompanyAddress2 = "Floor 8", CompanyEmail = null });

        Assert.Equal(("Dealer Inc.", "456 Market Street", "Floor 8", (string?)null, "+1-555-123-4567"),
            (updated.CompanyName, updated.CompanyAddress1, updated.CompanyAddress2, updated.CompanyEmail, updated.CompanyPhoneNumber));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ADealerAdminsTokenConnectsAndDisconnectsTheDealer(DatabaseProvider provider)
    {
        await using var world = await SdkWorld.StartAsync(provider);
        var web = await Seed.ClientAsync(world.App, world.PartnerId, "Web", redirectUris: [UserTokens.RedirectUri]);
        var dealerId = await Seed.DealerAsync(world.App, "New Dealer LLC");
        var adminToken = await UserTokens.NewUserTokenAsync(world.App, web, dealerId, "admin@new-dealer.example.com");
        var connect = new ConnectDealerRequest { ExternalDealerId = "adc-1", CompanyName = "New Dealer (ours)" };

        var withM2M = await Assert.ThrowsAsync<PartnerApiException>(() => world.Client.Dealers.ConnectAsync(connect));
        Assert.Equal((HttpStatusCode.Forbidden, "forbidden"), (withM2M.StatusCode, withM2M.Code));

        var connected = await world.Client.Dealers.ConnectAsync(connect, new RequestOptions { AccessToken = adminToken });
        Assert.Equal((dealerId, "adc-1", "New Dealer LLC"), (connected.DealerId, connected.ExternalDealerId, connected.CompanyName));
        Assert.Equal("adc-1", (await world.Client.Dealers.GetAsync(dealerId)).ExternalDealerId);

        // A client built on the user's token works as well.
        var (asUser, _) = world.NewClient(new AccessTokenCredentials(adminToken));
        var disconnected = await asUser.Dealers.DisconnectAsync(dealerId);
        Assert.Null(disconnected.ExternalDealerId);

        var afterwards = await Assert.ThrowsAsync<PartnerApiException>(() => world.Client.Dealers.GetAsync(dealerId));
        Assert.Equal((HttpStatusCode.Forbidden, "dealer_not_connected"), (afterwards.StatusCode, afterwards.Code));
    }
}
