using System.Text.Json;
using Chekt.PartnerApi.Data;

namespace Chekt.PartnerApi.Tests.Infrastructure;

/// <summary>A running server with one partner, its M2M client and token, and one connected dealer.</summary>
public sealed class ApiWorld : IAsyncDisposable
{
    private ApiWorld(TestApp app, long partnerId, SeededClient client, long dealerId, string token)
    {
        App = app;
        PartnerId = partnerId;
        Client = client;
        DealerId = dealerId;
        Token = token;
    }

    public TestApp App { get; }

    public long PartnerId { get; }

    public SeededClient Client { get; }

    public long DealerId { get; }

    public string Token { get; }

    public string DealerPath => $"/partner/v1/dealers/{DealerId}";

    /// <summary>Starts the world in memory, or on a real Kestrel socket (<paramref name="onKestrel"/>) where Kestrel's own limits matter.</summary>
    public static async Task<ApiWorld> StartAsync(DatabaseProvider provider, PostgresServer? server = null, bool onKestrel = false,
        Action<Microsoft.AspNetCore.Hosting.IWebHostBuilder>? configure = null)
    {
        var app = onKestrel ? await TestApp.StartOnKestrelAsync(provider, configure) : await TestApp.StartAsync(provider, configure, server);
        var partner = await Seed.PartnerAsync(app);
        var client = await Seed.ClientAsync(app, partner);
        var dealer = await Seed.DealerAsync(app);
        await Seed.ConnectAsync(app, partner, dealer, "dealer-1");
        return new ApiWorld(app, partner, client, dealer, await Seed.ClientCredentialsTokenAsync(app, client));
    }

    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? json = null, string? token = null) =>
        App.Client.SendAsync(Seed.Authorized(method, path, token ?? Token, json));

    /// <summary>Sends and expects a success; returns the JSON body (or default for 204).</summary>
    public async Task<JsonElement> OkAsync(HttpMethod method, string path, string? json = null)
    {
        var response = await SendAsync(method, path, json);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Creates a site with one contact, then the same external id again (409): the writes and their conflict work.</summary>
    public async Task AssertContactCreateAndConflictAsync()
    {
        var site = await CreateSiteAsync("site-1");
        var contacts = $"{DealerPath}/sites/{site}/contacts";
        const string contact = """{"external_contact_id":"c-1","first_name":"Ann","last_name":"Lee"}""";
        await OkAsync(HttpMethod.Post, contacts, contact);
        var duplicate = await SendAsync(HttpMethod.Post, contacts, contact);
        await duplicate.ReadErrorAsync(409, "conflict");
        Assert.Single((await OkAsync(HttpMethod.Get, contacts)).EnumerateArray());
    }

    public async Task<long> CreateSiteAsync(string externalId = "site-1", long? stationId = null, long? dealerId = null)
    {
        var station = stationId is null ? "" : $",\"monitoring_station_id\":{stationId}";
        var site = await OkAsync(HttpMethod.Post, $"/partner/v1/dealers/{dealerId ?? DealerId}/sites",
            $"{{\"external_site_id\":\"{externalId}\",\"name\":\"Site {externalId}\",\"timezone\":\"Asia/Seoul\"{station}}}");
        return site.GetProperty("site_id").GetInt64();
    }

    public ValueTask DisposeAsync() => App.DisposeAsync();
}
