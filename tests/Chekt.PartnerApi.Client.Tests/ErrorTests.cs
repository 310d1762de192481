using System.Net;
using Chekt.PartnerApi.Client.Tests.Infrastructure;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;

namespace Chekt.PartnerApi.Client.Tests;

/// <summary>The server's error answers become <see cref="PartnerApiException"/>s with their code, field and request id.</summary>
public sealed class ErrorTests
{
    [Theory, OnSqlite, OnPostgres]
    public async Task AValidationErrorNamesTheFieldAndCarriesTheTraceIdTheCallSent(DatabaseProvider provider)
    {
        await using var world = await SdkWorld.StartAsync(provider);
        var siteId = await ContactsTests.NewSiteAsync(world);

        var error = await Assert.ThrowsAsync<PartnerApiException>(() => world.Client.Contacts.CreateAsync(world.DealerId, siteId,
            new CreateContactRequest { ExternalContactId = "c-1", FirstName = "Jane", LastName = "Doe", Email = "not-an-email" },
            new RequestOptions { TraceId = "sdk-trace-validation-1" }));

        Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Equal("validation_failed", error.Code);
        Assert.Equal("email", error.Field);
        Assert.Equal("sdk-trace-validation-1", error.RequestId);
        Assert.Contains(error.Details, d => d.Field == "email");
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task WithoutATraceIdTheErrorCarriesTheOneTheSdkGenerated(DatabaseProvider provider)
    {
        await using var world = await SdkWorld.StartAsync(provider);

        var error = await Assert.ThrowsAsync<PartnerApiException>(() => world.Client.Sites.GetAsync(world.DealerId, 999_999));

        Assert.Equal((HttpStatusCode.NotFound, "site_not_found"), (error.StatusCode, error.Code));
        var sent = world.Traffic.Requests.Last().TraceId;
        Assert.True(Guid.TryParse(sent, out _), sent);
        Assert.Equal(sent, error.RequestId);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ADuplicateExternalIdIs409NamingTheField(DatabaseProvider provider)
    {
        await using var world = await SdkWorld.StartAsync(provider);
        var siteId = await ContactsTests.NewSiteAsync(world);
        var contact = new CreateContactRequest { ExternalContactId = "c-1", FirstName = "Jane", LastName = "Doe" };
        await world.Client.Contacts.CreateAsync(world.DealerId, siteId, contact);

        var error = await Assert.ThrowsAsync<PartnerApiException>(() => world.Client.Contacts.CreateAsync(world.DealerId, siteId, contact));

        Assert.Equal((HttpStatusCode.Conflict, "conflict", "external_contact_id"), (error.StatusCode, error.Code, error.Field));
        Assert.NotNull(error.RequestId);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AnUnknownDealerIs404AndADealerNotConnectedIs403(DatabaseProvider provider)
    {
        await using var world = await SdkWorld.StartAsync(provider);
        var otherDealer = await Seed.DealerAsync(world.App, "Other Dealer");

        var unknown = await Assert.ThrowsAsync<PartnerApiException>(() => world.Client.Dealers.GetAsync(987_654));
        var notConnected = await Assert.ThrowsAsync<PartnerApiException>(() => world.Client.Sites.ListAsync(otherDealer));

        Assert.Equal((HttpStatusCode.NotFound, "dealer_not_found"), (unknown.StatusCode, unknown.Code));
        Assert.Equal((HttpStatusCode.Forbidden, "dealer_not_connected"), (notConnected.StatusCode, notConnected.Code));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ClearingARequiredFieldIs400(DatabaseProvider provider)
    {
        await using var world = await SdkWorld.StartAsync(provider);
        var siteId = await ContactsTests.NewSiteAsync(world);

        var error = await Assert.ThrowsAsync<PartnerApiException>(() =>
            world.Client.Sites.UpdateAsync(world.DealerId, siteId, new UpdateSiteRequest { Name = null! }));

        Assert.Equal((HttpStatusCode.BadRequest, "name"), (error.StatusCode, error.Field));
    }
}
