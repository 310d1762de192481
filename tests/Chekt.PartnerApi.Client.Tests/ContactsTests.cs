using System.Net;
using Chekt.PartnerApi.Client.Tests.Infrastructure;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;

namespace Chekt.PartnerApi.Client.Tests;

/// <summary>Contacts through the SDK against the real server.</summary>
public sealed class ContactsTests
{
    [Theory, OnSqlite, OnPostgres]
    public async Task AContactIsCreatedReadUpdatedAndDeleted(DatabaseProvider provider)
    {
        await using var world = await SdkWorld.StartAsync(provider);
        var (dealerId, siteId) = (world.DealerId, await NewSiteAsync(world));
        var contacts = world.Client.Contacts;

        var created = await contacts.CreateAsync(dealerId, siteId, new CreateContactRequest
        {
            ExternalContactId = "c-1", FirstName = "Jane", LastName = "Doe", PhoneNumber = "+1 (555) 010-0000", Email = "jane@example.com",
        });
        Assert.True(created.ContactId > 0);
        Assert.Equal(("c-1", "Jane", "Doe", "+1 (555) 010-0000", "jane@example.com"),
            (created.ExternalContactId, created.FirstName, created.LastName, created.PhoneNumber, created.Email));

        var read = await contacts.GetAsync(dealerId, siteId, created.ContactId);
        Assert.Equal(created.ContactId, read.ContactId);
        Assert.Equal(created.CreatedAt, read.CreatedAt);

        // The last name is absent (unchanged), the email null (cleared), the phone number changed.
        var updated = await contacts.UpdateAsync(dealerId, siteId, created.ContactId, new UpdateContactRequest { PhoneNumber = "555-0199", Email = null });
        Assert.Equal(("Jane", "Doe", "555-0199", (string?)null), (updated.FirstName, updated.LastName, updated.PhoneNumber, updated.Email));

        // An empty update changes nothing.
        var unchanged = await contacts.UpdateAsync(dealerId, siteId, created.ContactId, new UpdateContactRequest());
        Assert.Equal(("Jane", "Doe", "555-0199", (string?)null), (unchanged.FirstName, unchanged.LastName, unchanged.PhoneNumber, unchanged.Email));

        await contacts.DeleteAsync(dealerId, siteId, created.ContactId);
        var gone = await Assert.ThrowsAsync<PartnerApiException>(() => contacts.GetAsync(dealerId, siteId, created.ContactId));
        Assert.Equal((HttpStatusCode.NotFound, "contact_not_found"), (gone.StatusCode, gone.Code));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ListAllVisitsEveryContactOnceInIdOrderAcrossSmallPages(DatabaseProvider provider)
    {
        await using var world = await SdkWorld.StartAsync(provider);
        var (dealerId, siteId) = (world.DealerId, await NewSiteAsync(world));
        var created = new List<long>();
        for (var i = 1; i <= 7; i++)
        {
            created.Add((await world.Client.Contacts.CreateAsync(dealerId, siteId,
                new CreateContactRequest { ExternalContactId = $"c-{i}", FirstName = $"First {i}", LastName = "Last" })).ContactId);
        }

        var listCallsBefore = world.Traffic.Requests.Count(r => r.Method == HttpMethod.Get);
        var seen = new List<long>();
        await foreach (var contact in world.Client.Contacts.ListAllAsync(dealerId, siteId, new ListOptions { Limit = 3 }))
        {
            seen.Add(contact.ContactId);
        }

        Assert.Equal(created, seen);
        Assert.Equal(3, world.Traffic.Requests.Count(r => r.Method == HttpMethod.Get) - listCallsBefore); // 3 + 3 + 1

        var first = await world.Client.Contacts.ListAsync(dealerId, siteId, new ListOptions { Limit = 3 });
        Assert.True(first.HasMore);
        Assert.Equal(created[2], first.NextAfter);
        var rest = await world.Client.Contacts.ListAsync(dealerId, siteId, new ListOptions { After = first.NextAfter });
        Assert.Equal(created.Skip(3), rest.Select(c => c.ContactId));
        Assert.False(rest.HasMore);
    }

    internal static async Task<long> NewSiteAsync(SdkWorld world, string externalId = "site-1") =>
        (await world.Client.Sites.CreateAsync(world.DealerId, new CreateSiteRequest { ExternalSiteId = externalId, Name = "Site " + externalId, Timezone = "Asia/Seoul" })).SiteId;
}
