using System.Text.Json;
using System.Text.RegularExpressions;
using Chekt.PartnerApi.Data;
using Dapper;
using Microsoft.AspNetCore.Hosting;

namespace Chekt.PartnerApi.Tests.Infrastructure;

/// <summary>
/// The common setup of the Sites and Contacts tests: a fresh server, one partner whose M2M client
/// is connected to two dealers (<see cref="Dealer"/> and <see cref="OtherDealer"/>), and a
/// client-credentials token with every API scope. The per-client rate limit is off so that the
/// longer validation loops never meet a 429.
/// </summary>
public sealed partial class SiteApiWorld : IAsyncDisposable
{
    public const string TimestampPattern = @"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$";

    /// <summary>The site object of spec §4, in order.</summary>
    public static readonly IReadOnlyList<string> SiteFields =
    [
        "site_id", "external_site_id", "name", "monitoring_station_id", "external_monitoring_station_id", "account_number",
        "address1", "address2", "timezone", "is_activated", "created_at",
    ];

    /// <summary>The contact object of the Contacts seed, in order.</summary>
    public static readonly IReadOnlyList<string> ContactFields =
        ["contact_id", "external_contact_id", "first_name", "last_name", "phone_number", "email", "created_at"];

    private SiteApiWorld(TestApp app, long partner, SeededClient client, long dealer, long otherDealer, string token)
    {
        App = app;
        Partner = partner;
        Client = client;
        Dealer = dealer;
        OtherDealer = otherDealer;
        Token = token;
    }

    public TestApp App { get; }

    public long Partner { get; }

    public SeededClient Client { get; }

    /// <summary>The dealer the tests work in.</summary>
    public long Dealer { get; }

    /// <summary>A second dealer connected to the same partner.</summary>
    public long OtherDealer { get; }

    /// <summary>A client-credentials token with every API scope.</summary>
    public string Token { get; }

    public static async Task<SiteApiWorld> StartAsync(DatabaseProvider provider)
    {
        var app = await TestApp.StartAsync(provider, builder => builder.UseSetting("RateLimit:PermitsPerSecond", "0"));
        var partner = await Seed.PartnerAsync(app);
        var client = await Seed.ClientAsync(app, partner);
        var dealer = await Seed.DealerAsync(app, "Dealer Inc.");
        var otherDealer = await Seed.DealerAsync(app, "Other Dealer Inc.");
        await Seed.ConnectAsync(app, partner, dealer, "adc-1");
        await Seed.ConnectAsync(app, partner, otherDealer, "adc-2");
        var token = await Seed.ClientCredentialsTokenAsync(app, client);
        return new SiteApiWorld(app, partner, client, dealer, otherDealer, token);
    }

    public ValueTask DisposeAsync() => App.DisposeAsync();

    public string SitesPath(long? dealer = null) => $"/partner/v1/dealers/{dealer ?? Dealer}/sites";

    public string SitePath(object siteId, long? dealer = null) => $"{SitesPath(dealer)}/{siteId}";

    public string ArmingPath(object siteId, long? dealer = null) => $"{SitePath(siteId, dealer)}/arming-settings";

    public string ContactsPath(object siteId, long? dealer = null) => $"{SitePath(siteId, dealer)}/contacts";

    public string ContactPath(object siteId, object contactId, long? dealer = null) => $"{ContactsPath(siteId, dealer)}/{contactId}";

    /// <summary>Sends a request with <see cref="Token"/> (or <paramref name="token"/>), an optional JSON body and an optional If-Match.</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? json = null, string? token = null, string? ifMatch = null)
    {
        using var request = Seed.Authorized(method, path, token ?? Token, json);
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        return await App.Client.SendAsync(request);
    }

    /// <summary>A JSON string literal.</summary>
    public static string Str(string value) => JsonSerializer.Serialize(value);

    /// <summary>Creates a site (asserting 201) and returns its body.</summary>
    public async Task<JsonElement> CreateSiteAsync(string externalSiteId, string name = "Main Office", string timezone = "Asia/Seoul", long? dealer = null, string extraJson = "")
    {
        var response = await SendAsync(HttpMethod.Post, SitesPath(dealer),
            $"{{\"external_site_id\":{Str(externalSiteId)},\"name\":{Str(name)},\"timezone\":{Str(timezone)}{extraJson}}}");
        var body = await response.ReadJsonAsync();
        Assert.True(201 == (int)response.StatusCode, $"Creating site {externalSiteId}: {(int)response.StatusCode} {body}");
        return body;
    }

    public async Task<long> CreateSiteIdAsync(string externalSiteId, long? dealer = null) =>
        (await CreateSiteAsync(externalSiteId, dealer: dealer)).GetProperty("site_id").GetInt64();

    /// <summary>Creates a contact (asserting 201) and returns its body.</summary>
    public async Task<JsonElement> CreateContactAsync(long siteId, string externalContactId, string firstName = "John", string lastName = "Doe",
        long? dealer = null, string extraJson = "")
    {
        var response = await SendAsync(HttpMethod.Post, ContactsPath(siteId, dealer),
            $"{{\"external_contact_id\":{Str(externalContactId)},\"first_name\":{Str(firstName)},\"last_name\":{Str(lastName)}{extraJson}}}");
        var body = await response.ReadJsonAsync();
        Assert.True(201 == (int)response.StatusCode, $"Creating contact {externalContactId}: {(int)response.StatusCode} {body}");
        return body;
    }

    public async Task<long> CreateContactIdAsync(long siteId, string externalContactId, long? dealer = null) =>
        (await CreateContactAsync(siteId, externalContactId, dealer: dealer)).GetProperty("contact_id").GetInt64();

    /// <summary>A monitoring station inserted directly (there is no stations API yet).</summary>
    public async Task<long> InsertStationAsync(long dealerId, string externalId, string name = "Central Station")
    {
        await using var connection = await App.Services.GetRequiredService<Db>().OpenAsync();
        return await connection.ExecuteScalarAsync<long>(
            """
            INSERT INTO monitoring_stations (dealer_id, external_monitoring_station_id, name, created_at, updated_at)
            VALUES (@dealerId, @externalId, @name, 0, 0) RETURNING id
            """,
            new { dealerId, externalId, name });
    }

    public async Task<long> CountAsync(string sql, object parameters)
    {
        await using var connection = await App.Services.GetRequiredService<Db>().OpenAsync();
        return await connection.ExecuteScalarAsync<long>(sql, parameters);
    }

    /// <summary>
    /// Reads a list page by page from <paramref name="firstPath"/>, following <c>Link: rel="next"</c>;
    /// asserts that every page but the last is full and carries a link naming the same limit and the
    /// page's last id, and that the last page has no link. Returns the ids in the order read.
    /// </summary>
    public async Task<IReadOnlyList<long>> ReadAllPagesAsync(string firstPath, int limit, string idField)
    {
        var ids = new List<long>();
        var path = firstPath;
        for (var pages = 0; ; pages++)
        {
            Assert.True(pages < 1000, "The Link headers never end.");
            var response = await SendAsync(HttpMethod.Get, path);
            var body = await response.ReadJsonAsync();
            Assert.Equal(200, (int)response.StatusCode);
            Assert.Equal(JsonValueKind.Array, body.ValueKind);
            var pageIds = body.EnumerateArray().Select(item => item.GetProperty(idField).GetInt64()).ToList();
            Assert.True(pageIds.Count <= limit, $"A page of {pageIds.Count} items for limit={limit}.");
            ids.AddRange(pageIds);
            if (!response.Headers.TryGetValues("Link", out var links))
            {
                return ids;
            }

            var link = Assert.Single(links);
            var match = NextLink().Match(link);
            Assert.True(match.Success, $"Unexpected Link header: {link}");
            Assert.Equal(limit, pageIds.Count);
            Assert.Equal(new Uri("http://localhost" + firstPath).AbsolutePath, match.Groups["path"].Value);
            Assert.Equal(limit.ToString(System.Globalization.CultureInfo.InvariantCulture), match.Groups["limit"].Value);
            Assert.Equal(pageIds[^1].ToString(System.Globalization.CultureInfo.InvariantCulture), match.Groups["after"].Value);
            path = match.Groups["url"].Value;
        }
    }

    /// <summary>Asserts the exact field names, in order.</summary>
    public static void AssertFields(IReadOnlyList<string> expected, JsonElement body)
    {
        Assert.Equal(JsonValueKind.Object, body.ValueKind);
        Assert.Equal(expected, body.EnumerateObject().Select(p => p.Name).ToList());
    }

    [GeneratedRegex("""^<(?<url>(?<path>[^?>]+)\?limit=(?<limit>\d+)&after=(?<after>\d+))>; rel="next"$""")]
    private static partial Regex NextLink();
}
