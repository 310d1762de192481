using System.Text.Json;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;

namespace Chekt.PartnerApi.Tests.Dealers;

/// <summary>The Dealers API (seed 000, spec §3): connect, get, update, disconnect, reconnect.</summary>
public sealed class DealerEndpointTests
{
    private const string RedirectUri = "https://app.example.com/callback";

    private sealed record World(TestApp App, long Partner, SeededClient M2M, SeededClient Web, long Dealer, string AdminToken) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => App.DisposeAsync();

        public string DealerPath => $"/partner/v1/dealers/{Dealer}";
    }

    private static async Task<World> StartAsync(DatabaseProvider provider)
    {
        var app = await TestApp.StartAsync(provider);
        var partner = await Seed.PartnerAsync(app);
        var m2m = await Seed.ClientAsync(app, partner);
        var web = await Seed.ClientAsync(app, partner, "Web", redirectUris: [RedirectUri]);
        var dealer = await app.Services.GetRequiredService<Chekt.PartnerApi.Cli.Operator>().AddDealerAsync(
            "CHeKT Security Solutions Inc.", "456 Market Street", "Suite 801, 8th Floor", "support@chektdealer.com", "+1-555-123-4567", CancellationToken.None);
        await Seed.UserAsync(app, dealer, "admin@chektdealer.com");
        using var flow = new UserFlow(app);
        var code = UserFlow.QueryValue(await flow.AuthorizeAsync(UserFlow.AuthorizeUrl(web.ClientId, RedirectUri, "read:dealer update:dealer"), "admin@chektdealer.com"), "code")!;
        var token = await Seed.RequestTokenAsync(app.Client, new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = RedirectUri, ["client_id"] = web.ClientId, ["client_secret"] = web.Secret!,
        });
        var adminToken = JsonDocument.Parse(await token.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString()!;
        return new World(app, partner, m2m, web, dealer, adminToken);
    }

    private static Task<HttpResponseMessage> SendAsync(World world, HttpMethod method, string path, string token, string? body = null) =>
        world.App.Client.SendAsync(Seed.Authorized(method, path, token, body));

    private static readonly string[] DealerFields =
        ["dealer_id", "external_dealer_id", "company_name", "company_address1", "company_address2", "company_email", "company_phone_number", "created_at"];

    [Theory, OnSqlite, OnPostgres]
    public async Task ConnectAsWrittenInTheSeedAnswersTheDealer(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var response = await SendAsync(world, HttpMethod.Put, "/partner/v1/dealers/connect", world.AdminToken,
            "{\n\"external_dealer_id\": \"adc-67890\",\n\"company_name\": \"CHeKT Security Solutions\"\n}");
        var body = await response.ReadJsonAsync();

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(DealerFields, body.EnumerateObject().Select(p => p.Name));
        Assert.Equal(world.Dealer, body.GetProperty("dealer_id").GetInt64());
        Assert.Equal("adc-67890", body.GetProperty("external_dealer_id").GetString());
        // The registered company name stays as CHeKT has it.
        Assert.Equal("CHeKT Security Solutions Inc.", body.GetProperty("company_name").GetString());
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", body.GetProperty("created_at").GetString());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task DisconnectKeepsTheDataAndReconnectRestoresAccess(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        const string connect = "{\"external_dealer_id\":\"adc-67890\",\"company_name\":\"X\"}";
        Assert.Equal(200, (int)(await SendAsync(world, HttpMethod.Put, "/partner/v1/dealers/connect", world.AdminToken, connect)).StatusCode);
        var m2m = await Seed.ClientCredentialsTokenAsync(world.App, world.M2M);
        Assert.Equal(200, (int)(await SendAsync(world, HttpMethod.Get, world.DealerPath, m2m)).StatusCode);

        var disconnected = await SendAsync(world, HttpMethod.Put, world.DealerPath + "/disconnect", world.AdminToken);
        var body = await disconnected.ReadJsonAsync();
        Assert.Equal(200, (int)disconnected.StatusCode);
        Assert.Equal(JsonValueKind.Null, body.GetProperty("external_dealer_id").ValueKind);
        Assert.Equal(DealerFields, body.EnumerateObject().Select(p => p.Name));

        await (await SendAsync(world, HttpMethod.Get, world.DealerPath, m2m)).ReadErrorAsync(403, "dealer_not_connected");
        Assert.Equal(200, (int)(await SendAsync(world, HttpMethod.Put, "/partner/v1/dealers/connect", world.AdminToken, connect)).StatusCode);
        var again = await (await SendAsync(world, HttpMethod.Get, world.DealerPath, m2m)).ReadJsonAsync();
        Assert.Equal("adc-67890", again.GetProperty("external_dealer_id").GetString());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ConnectingAgainReplacesTheExternalIdAndAnIdOfAnotherDealerIs409(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        Assert.Equal(200, (int)(await SendAsync(world, HttpMethod.Put, "/partner/v1/dealers/connect", world.AdminToken, "{\"external_dealer_id\":\"first\",\"company_name\":\"X\"}")).StatusCode);
        Assert.Equal(200, (int)(await SendAsync(world, HttpMethod.Put, "/partner/v1/dealers/connect", world.AdminToken, "{\"external_dealer_id\":\"first\",\"company_name\":\"X\"}")).StatusCode);
        var replaced = await (await SendAsync(world, HttpMethod.Put, "/partner/v1/dealers/connect", world.AdminToken, "{\"external_dealer_id\":\"second\",\"company_name\":\"X\"}")).ReadJsonAsync();
        Assert.Equal("second", replaced.GetProperty("external_dealer_id").GetString());

        var otherDealer = await Seed.DealerAsync(world.App, "Other");
        await Seed.ConnectAsync(world.App, world.Partner, otherDealer, "taken");
        var conflict = await SendAsync(world, HttpMethod.Put, "/partner/v1/dealers/connect", world.AdminToken, "{\"external_dealer_id\":\"taken\",\"company_name\":\"X\"}");
        var error = await conflict.ReadErrorAsync(409, "conflict");
        Assert.Equal("external_dealer_id", error.GetProperty("field").GetString());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ConnectValidatesItsBody(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        foreach (var (body, field) in new[]
        {
            ("{\"company_name\":\"X\"}", "external_dealer_id"),
            ("{\"external_dealer_id\":\"a\"}", "company_name"),
            ("{\"external_dealer_id\":\"  \",\"company_name\":\"X\"}", "external_dealer_id"),
            ("{\"external_dealer_id\":null,\"company_name\":\"X\"}", "external_dealer_id"),
            ("{\"external_dealer_id\":\"" + new string('x', 129) + "\",\"company_name\":\"X\"}", "external_dealer_id"),
            ("{\"external_dealer_id\":\"a\",\"company_name\":\"" + new string('x', 256) + "\"}", "company_name"),
        })
        {
            var error = await (await SendAsync(world, HttpMethod.Put, "/partner/v1/dealers/connect", world.AdminToken, body)).ReadErrorAsync(400, "validation_failed");
            Assert.Equal(field, error.GetProperty("field").GetString());
        }

        var typed = await (await SendAsync(world, HttpMethod.Put, "/partner/v1/dealers/connect", world.AdminToken, "{\"external_dealer_id\":123,\"company_name\":\"X\"}")).ReadErrorAsync(400, "invalid_type");
        Assert.Equal("external_dealer_id", typed.GetProperty("field").GetString());
        var unknown = await (await SendAsync(world, HttpMethod.Put, "/partner/v1/dealers/connect", world.AdminToken, "{\"external_dealer_id\":\"a\",\"company_name\":\"X\",\"dealer_id\":1}")).ReadErrorAsync(400, "unknown_field");
        Assert.Equal("dealer_id", unknown.GetProperty("field").GetString());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task UpdateAsWrittenInTheSeedChangesEveryField(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        await Seed.ConnectAsync(world.App, world.Partner, world.Dealer, "adc-67890");
        var m2m = await Seed.ClientCredentialsTokenAsync(world.App, world.M2M);
        var response = await SendAsync(world, HttpMethod.Put, world.DealerPath, m2m, """
            {
            "company_name": "CHeKT Security Solutions Updated",
            "company_address1": "789 New Street",
            "company_address2": "Floor 10",
            "company_email": "newsupport@chektdealer.com",
            "company_phone_number": "+1-555-999-8888"
            }
            """);
        var body = await response.ReadJsonAsync();
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("CHeKT Security Solutions Updated", body.GetProperty("company_name").GetString());
        Assert.Equal("Floor 10", body.GetProperty("company_address2").GetString());
        Assert.Equal("+1-555-999-8888", body.GetProperty("company_phone_number").GetString());
        var read = await (await SendAsync(world, HttpMethod.Get, world.DealerPath, m2m)).ReadJsonAsync();
        Assert.Equal(body.ToString(), read.ToString());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task UpdateIsPartialAndNullClearsOnlyOptionalFields(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        await Seed.ConnectAsync(world.App, world.Partner, world.Dealer, "adc-67890");
        var m2m = await Seed.ClientCredentialsTokenAsync(world.App, world.M2M);

        var partial = await (await SendAsync(world, HttpMethod.Put, world.DealerPath, m2m, "{\"company_name\":\"Updated Company Name\"}")).ReadJsonAsync();
        Assert.Equal("Updated Company Name", partial.GetProperty("company_name").GetString());
        Assert.Equal("456 Market Street", partial.GetProperty("company_address1").GetString());

        var cleared = await (await SendAsync(world, HttpMethod.Put, world.DealerPath, m2m, "{\"company_address2\":null}")).ReadJsonAsync();
        Assert.Equal(JsonValueKind.Null, cleared.GetProperty("company_address2").ValueKind);
        Assert.Equal("Updated Company Name", cleared.GetProperty("company_name").GetString());

        foreach (var (body, field) in new[]
        {
            ("{\"company_name\":null}", "company_name"),
            ("{\"company_name\":\"  \"}", "company_name"),
            ("{\"company_email\":\"not-an-email\"}", "company_email"),
            ("{\"company_phone_number\":\"call me\"}", "company_phone_number"),
        })
        {
            var error = await (await SendAsync(world, HttpMethod.Put, world.DealerPath, m2m, body)).ReadErrorAsync(400, "validation_failed");
            Assert.Equal(field, error.GetProperty("field").GetString());
        }
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task DisconnectNeedsTheDealersAdmin(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        await Seed.ConnectAsync(world.App, world.Partner, world.Dealer, "adc-67890");
        var m2m = await Seed.ClientCredentialsTokenAsync(world.App, world.M2M);
        await (await SendAsync(world, HttpMethod.Put, world.DealerPath + "/disconnect", m2m)).ReadErrorAsync(403, "forbidden");

        var otherDealer = await Seed.DealerAsync(world.App, "Other");
        await Seed.ConnectAsync(world.App, world.Partner, otherDealer, "other");
        await (await SendAsync(world, HttpMethod.Put, $"/partner/v1/dealers/{otherDealer}/disconnect", world.AdminToken)).ReadErrorAsync(403, "forbidden");
    }
}
