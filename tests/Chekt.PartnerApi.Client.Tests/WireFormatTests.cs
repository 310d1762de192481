using System.Net;
using Chekt.PartnerApi.Client.Tests.Infrastructure;

namespace Chekt.PartnerApi.Client.Tests;

/// <summary>What the SDK puts on the wire and how it reads answers, checked without a server.</summary>
public sealed class WireFormatTests
{
    private const string ContactJson =
        """{"contact_id":3,"external_contact_id":"c-3","first_name":"Jane","last_name":"Doe","phone_number":null,"email":"jane@example.com","created_at":"2024-03-27T12:34:56.000Z"}""";

    [Fact]
    public async Task AnUpdateSendsOnlyThePropertiesThatWereSetAndNullForClearedOnes()
    {
        using var server = new FakeServer { Otherwise = _ => FakeServer.Json(HttpStatusCode.OK, ContactJson) };
        using var client = server.Client();

        await client.Contacts.UpdateAsync(1, 2, 3, new UpdateContactRequest { PhoneNumber = "+1 555 0100", Email = null });
        await client.Contacts.UpdateAsync(1, 2, 3, new UpdateContactRequest());
        await client.Sites.UpdateAsync(1, 2, new UpdateSiteRequest { MonitoringStationId = null, Address2 = "" });
        await client.Sites.UpdateAsync(1, 2, new UpdateSiteRequest { MonitoringStationId = 5, Name = Optional<string>.Absent });
        await client.Dealers.UpdateAsync(1, new UpdateDealerRequest { CompanyAddress2 = null, CompanyName = "Acme" });

        var bodies = server.Attempts.Select(a => a.Body).ToArray();
        Assert.Equal("""{"phone_number":"+1 555 0100","email":null}""", bodies[0]);
        Assert.Equal("{}", bodies[1]);
        Assert.Equal("""{"monitoring_station_id":null,"address2":""}""", bodies[2]);
        Assert.Equal("""{"monitoring_station_id":5}""", bodies[3]);
        Assert.Equal("""{"company_name":"Acme","company_address2":null}""", bodies[4]);
    }

    [Fact]
    public async Task ACreateLeavesUnsetOptionalFieldsOutAndUsesSnakeCase()
    {
        using var server = new FakeServer
        {
            Otherwise = _ => FakeServer.Json(HttpStatusCode.Created, """{"success_count":0,"failure_count":0,"results":[]}"""),
        };
        using var client = server.Client();

        await client.Devices.CreateAsync(1, 2, [new CreateDeviceRequest { ExternalDeviceId = "d-1", DeviceType = DeviceTypes.Camera, ZoneNumber = "001", AdditionalZoneNumbers = "002" }]);

        Assert.Equal(
            """[{"external_device_id":"d-1","device_type":"camera","zone_number":"001","additional_zone_numbers":"002"}]""",
            server.Attempts.Single().Body);
    }

    [Fact]
    public void OptionalTellsAbsentFromNull()
    {
        Optional<string?> absent = default;
        Optional<string?> cleared = null;
        Optional<string?> set = "x";

        Assert.False(absent.HasValue);
        Assert.True(cleared.HasValue);
        Assert.Null(cleared.Value);
        Assert.Equal("x", set.Value);
        Assert.Equal(Optional<string?>.Absent, absent);
        Assert.NotEqual(absent, cleared);
        Assert.Equal(Optional.Of<string?>("x"), set);
        Assert.Throws<InvalidOperationException>(() => absent.Value);
        Assert.Equal("fallback", absent.GetValueOrDefault("fallback"));
    }

    [Fact]
    public async Task ASingleResourceKeepsItsETagAndIfMatchIsSent()
    {
        using var server = new FakeServer
        {
            Otherwise = request =>
            {
                var response = FakeServer.Json(HttpStatusCode.OK, ContactJson);
                response.Headers.ETag = new System.Net.Http.Headers.EntityTagHeaderValue("\"v4\"");
                return response;
            },
        };
        using var client = server.Client();

        var contact = await client.Contacts.GetAsync(1, 2, 3);
        await client.Contacts.UpdateAsync(1, 2, 3, new UpdateContactRequest { FirstName = "J" }, new RequestOptions { IfMatch = contact.ETag });
        await client.Contacts.DeleteAsync(1, 2, 3, new RequestOptions { IfMatch = "v4" });

        Assert.Equal("\"v4\"", contact.ETag);
        Assert.Equal(new DateTimeOffset(2024, 3, 27, 12, 34, 56, TimeSpan.Zero), contact.CreatedAt);
        Assert.Equal(["\"v4\"", "\"v4\""], server.Attempts.Skip(1).Select(a => a.IfMatch));
    }

    [Fact]
    public async Task ListAllFollowsRelativeNextLinksUntilThereIsNone()
    {
        using var server = new FakeServer()
            .Then(_ => Page("""[{"site_id":1},{"site_id":2}]""", "</partner/v1/dealers/1/sites?limit=2&after=2>; rel=\"next\""))
            .Then(_ => Page("""[{"site_id":3},{"site_id":4}]""", "<https://partner.test/partner/v1/dealers/1/sites?limit=2&after=4>; rel=\"next\", </docs>; rel=\"help\""))
            .Then(_ => Page("""[{"site_id":5}]""", null));
        using var client = server.Client();

        var ids = new List<long>();
        await foreach (var site in client.Sites.ListAllAsync(1, new ListOptions { Limit = 2 }))
        {
            ids.Add(site.SiteId);
        }

        Assert.Equal([1, 2, 3, 4, 5], ids);
        Assert.Equal(
            ["/partner/v1/dealers/1/sites?limit=2", "/partner/v1/dealers/1/sites?limit=2&after=2", "/partner/v1/dealers/1/sites?limit=2&after=4"],
            server.Attempts.Select(a => a.Uri.PathAndQuery));
    }

    [Fact]
    public async Task ACancelledListAllStopsWithinThePageItHasRead()
    {
        using var server = new FakeServer()
            .Then(_ => Page("""[{"site_id":1},{"site_id":2},{"site_id":3}]""", "</partner/v1/dealers/1/sites?limit=3&after=3>; rel=\"next\""));
        using var client = server.Client();
        using var cancellation = new CancellationTokenSource();

        var ids = new List<long>();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var site in client.Sites.ListAllAsync(1, new ListOptions { Limit = 3 }, cancellationToken: cancellation.Token))
            {
                ids.Add(site.SiteId);
                cancellation.Cancel();
            }
        });

        Assert.Equal([1], ids);
        Assert.Single(server.Attempts);
    }

    [Fact]
    public async Task AHeaderValueHttpCannotCarryIsRefusedAtOnceAndNothingIsSent()
    {
        using var server = new FakeServer { Otherwise = _ => FakeServer.Json(HttpStatusCode.OK, ContactJson) };
        using var client = server.Client();

        var trace = await Assert.ThrowsAsync<ArgumentException>(() => client.Dealers.GetAsync(1, new RequestOptions { TraceId = "tracé-1" }));
        Assert.Contains("RequestOptions.TraceId", trace.Message, StringComparison.Ordinal);
        var key = await Assert.ThrowsAsync<ArgumentException>(() => client.Contacts.DeleteAsync(1, 2, 3, new RequestOptions { IdempotencyKey = "ключ" }));
        Assert.Contains("RequestOptions.IdempotencyKey", key.Message, StringComparison.Ordinal);
        Assert.Empty(server.Attempts);
    }

    [Fact]
    public async Task OnePageTellsWhereTheNextStarts()
    {
        using var server = new FakeServer().Then(_ => Page("""[{"site_id":1},{"site_id":2}]""", "</partner/v1/dealers/1/sites?limit=2&after=2>; rel=\"next\""));
        using var client = server.Client();

        var page = await client.Sites.ListAsync(1, new ListOptions { Limit = 2 });

        Assert.Equal(2, page.Count);
        Assert.True(page.HasMore);
        Assert.Equal(2, page.NextAfter);
    }

    [Fact]
    public async Task ANextLinkToAnotherServerIsRefusedRatherThanSentTheToken()
    {
        using var server = new FakeServer().Then(_ => Page("[]", "<https://evil.example/steal>; rel=\"next\""));
        using var client = server.Client();

        var error = await Assert.ThrowsAsync<PartnerApiException>(() => client.Sites.ListAsync(1));

        Assert.Equal("invalid_response", error.Code);
        Assert.Single(server.Attempts);
    }

    [Fact]
    public async Task AnErrorBodyBecomesAnExceptionWithAllItsParts()
    {
        using var server = new FakeServer().Then(_ => FakeServer.Json(HttpStatusCode.BadRequest,
            """{"error":{"code":"validation_failed","message":"Bad.","request_id":"t-1","field":"email","details":[{"field":"email","message":"Invalid."},{"field":"phone_number","message":"Too short."}]}}"""));
        using var client = server.Client();

        var error = await Assert.ThrowsAsync<PartnerApiException>(() =>
            client.Contacts.CreateAsync(1, 2, new CreateContactRequest { ExternalContactId = "c", FirstName = "A", LastName = "B", Email = "x" }));

        Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Equal("validation_failed", error.Code);
        Assert.Equal("Bad.", error.Message);
        Assert.Equal("email", error.Field);
        Assert.Equal("t-1", error.RequestId);
        Assert.Equal([new PartnerApiErrorDetail("email", "Invalid."), new PartnerApiErrorDetail("phone_number", "Too short.")], error.Details);
    }

    [Fact]
    public async Task ATraceIdIsSentOnEveryCallAndIsTheCallersWhenGiven()
    {
        using var server = new FakeServer { Otherwise = _ => FakeServer.Json(HttpStatusCode.OK, ContactJson) };
        using var client = server.Client();

        await client.Contacts.GetAsync(1, 2, 3);
        await client.Contacts.GetAsync(1, 2, 3, new RequestOptions { TraceId = "my-trace:1" });

        var traces = server.Attempts.Select(a => a.TraceId).ToArray();
        Assert.True(Guid.TryParse(traces[0], out _));
        Assert.Equal("my-trace:1", traces[1]);
    }

    [Fact]
    public async Task APerCallAccessTokenReplacesTheClientsCredentials()
    {
        using var server = new FakeServer { Otherwise = _ => FakeServer.Json(HttpStatusCode.OK, """{"dealer_id":1,"company_name":"D","created_at":"2024-03-27T12:34:56.000Z"}""") };
        using var client = server.Client();

        await client.Dealers.GetAsync(1);
        await client.Dealers.ConnectAsync(new ConnectDealerRequest { ExternalDealerId = "x", CompanyName = "X" }, new RequestOptions { AccessToken = "user-token" });

        Assert.Equal(["Bearer fake-token", "Bearer user-token"], server.Attempts.Select(a => a.Authorization));
    }

    [Fact]
    public void ArgumentsAreCheckedWhenTheCallIsMadeBeforeAnythingIsSent()
    {
        using var server = new FakeServer();
        using var client = server.Client();

        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = client.Sites.GetAsync(0, 1); });
        Assert.Throws<ArgumentOutOfRangeException>(() => client.Contacts.ListAllAsync(1, -1));
        Assert.Throws<ArgumentException>(() => { _ = client.Devices.CreateAsync(1, 1, []); });
        Assert.Empty(server.Attempts);
    }

    private static HttpResponseMessage Page(string json, string? link)
    {
        var response = FakeServer.Json(HttpStatusCode.OK, json);
        if (link is not null)
        {
            response.Headers.TryAddWithoutValidation("Link", link);
        }

        return response;
    }
}
