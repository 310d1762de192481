using System.Net;
using Chekt.PartnerApi.Client.Tests.Infrastructure;
using Dapper;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;
using Npgsql;

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

    [Theory, OnPostgres]
    public async Task ACreateWhoseRetryFindsTheFirstAttemptStillRunningWaitsForItInsteadOfFailing(DatabaseProvider provider)
    {
        await using var world = await SdkWorld.StartAsync(provider);
        var siteId = await NewSiteAsync(world);
        var key = "sdk-running-" + Guid.NewGuid().ToString("N");

        // The first attempt with the key, mid-way on the server: its claim is written and not committed yet.
        await using var first = new NpgsqlConnection(world.App.Database.ConnectionString);
        await first.OpenAsync();
        await using var running = await first.BeginTransactionAsync();
        await first.ExecuteAsync(
            """
            INSERT INTO idempotency_records (client_id, idempotency_key, request_method, request_path, request_hash, state, created_at, expires_at)
            VALUES (@clientId, @key, 'POST', @path, 'first', 'in_progress', 0, @expires)
            """,
            new { clientId = world.M2M.ClientId, key, path = $"/partner/v1/dealers/{world.DealerId}/sites/{siteId}/contacts", expires = long.MaxValue },
            running);

        var apiRequestsBefore = world.Traffic.ApiRequests;
        var create = world.Client.Contacts.CreateAsync(world.DealerId, siteId,
            new CreateContactRequest { ExternalContactId = "c-running", FirstName = "Jane", LastName = "Doe" },
            new RequestOptions { IdempotencyKey = key });

        // The server answers the retry 409 "still being processed" with Retry-After once it has waited a while; the SDK
        // waits and tries again instead of throwing. Then the first attempt goes away, and the next attempt runs.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (world.Traffic.ApiRequests < apiRequestsBefore + 2)
        {
            Assert.False(create.IsCompleted, create.Exception?.ToString() ?? "the create finished without a retry");
            Assert.True(DateTime.UtcNow < deadline, "the SDK did not try again after the 409");
            await Task.Delay(20);
        }

        await running.RollbackAsync();
        var created = await create.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("c-running", created.ExternalContactId);
        Assert.Equal([created.ContactId], (await world.Client.Contacts.ListAsync(world.DealerId, siteId)).Select(contact => contact.ContactId));
    }

    internal static async Task<long> NewSiteAsync(SdkWorld world, string externalId = "site-1") =>
        (await world.Client.Sites.CreateAsync(world.DealerId, new CreateSiteRequest { ExternalSiteId = externalId, Name = "Site " + externalId, Timezone = "Asia/Seoul" })).SiteId;
}
