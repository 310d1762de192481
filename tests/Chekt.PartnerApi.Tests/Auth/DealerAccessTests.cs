using System.Text.Json;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;

namespace Chekt.PartnerApi.Tests.Auth;

/// <summary>Spec §2.3/§2.4 on a dealer-scoped route: scopes, connection, user's dealer, partner-claim narrowing, 404 vs 403.</summary>
public sealed class DealerAccessTests
{
    private const string RedirectUri = "https://app.example.com/callback";

    private sealed record World(TestApp App, long PartnerA, SeededClient ClientA, SeededClient WebA, long PartnerB, SeededClient ClientB, long DealerA, long DealerA2, long DealerB)
        : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    /// <summary>Partner A is connected to dealers A and A2, partner B to dealer B.</summary>
    private static async Task<World> StartAsync(DatabaseProvider provider)
    {
        var app = await TestApp.StartAsync(provider);
        var partnerA = await Seed.PartnerAsync(app, "A");
        var partnerB = await Seed.PartnerAsync(app, "B");
        var clientA = await Seed.ClientAsync(app, partnerA);
        var webA = await Seed.ClientAsync(app, partnerA, "Web A", redirectUris: [RedirectUri]);
        var clientB = await Seed.ClientAsync(app, partnerB);
        var dealerA = await Seed.DealerAsync(app, "Dealer A");
        var dealerA2 = await Seed.DealerAsync(app, "Dealer A2");
        var dealerB = await Seed.DealerAsync(app, "Dealer B");
        await Seed.ConnectAsync(app, partnerA, dealerA, "a-1");
        await Seed.ConnectAsync(app, partnerA, dealerA2, "a-2");
        await Seed.ConnectAsync(app, partnerB, dealerB, "b-1");
        return new World(app, partnerA, clientA, webA, partnerB, clientB, dealerA, dealerA2, dealerB);
    }

    private static async Task<HttpResponseMessage> GetDealerAsync(TestApp app, string token, object dealerId) =>
        await app.Client.SendAsync(Seed.Authorized(HttpMethod.Get, $"/partner/v1/dealers/{dealerId}", token));

    private static async Task<string> UserTokenAsync(World world, long dealerId, string email, string role = "admin", string scope = "read:dealer update:dealer")
    {
        await Seed.UserAsync(world.App, dealerId, email, role);
        using var flow = new UserFlow(world.App);
        var code = UserFlow.QueryValue(await flow.AuthorizeAsync(UserFlow.AuthorizeUrl(world.WebA.ClientId, RedirectUri, scope), email), "code")!;
        var response = await Seed.RequestTokenAsync(world.App.Client, new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = RedirectUri,
            ["client_id"] = world.WebA.ClientId, ["client_secret"] = world.WebA.Secret!,
        });
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString()!;
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AConnectedPartnerReadsItsDealer(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var response = await GetDealerAsync(world.App, await Seed.ClientCredentialsTokenAsync(world.App, world.ClientA), world.DealerA);
        var body = await response.ReadJsonAsync();
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("a-1", body.GetProperty("external_dealer_id").GetString());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ATokenWithoutTheScopeIs403InsufficientScope(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var token = await Seed.ClientCredentialsTokenAsync(world.App, world.ClientA, scope: "read:sites");
        var response = await GetDealerAsync(world.App, token, world.DealerA);
        await response.ReadErrorAsync(403, "insufficient_scope");
        Assert.Contains("insufficient_scope", response.Headers.WwwAuthenticate.Single().Parameter, StringComparison.Ordinal);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AnotherPartnersDealerIs403AndAnUnknownDealerIs404(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var token = await Seed.ClientCredentialsTokenAsync(world.App, world.ClientA);
        await (await GetDealerAsync(world.App, token, world.DealerB)).ReadErrorAsync(403, "dealer_not_connected");
        await (await GetDealerAsync(world.App, token, 987654)).ReadErrorAsync(404, "dealer_not_found");
        var tokenB = await Seed.ClientCredentialsTokenAsync(world.App, world.ClientB);
        await (await GetDealerAsync(world.App, tokenB, world.DealerA)).ReadErrorAsync(403, "dealer_not_connected");
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task PathIdsThatAreNotPositive64BitIntegersAre400(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var token = await Seed.ClientCredentialsTokenAsync(world.App, world.ClientA);
        foreach (var id in new[] { "abc", "0", "-1", "1.5", "99999999999999999999", "%20" })
        {
            var error = await (await GetDealerAsync(world.App, token, id)).ReadErrorAsync(400, "validation_failed");
            Assert.Equal("dealerId", error.GetProperty("field").GetString());
        }
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ATokenNarrowedByThePartnerClaimCannotLeaveItsDealer(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var narrowed = await Seed.ClientCredentialsTokenAsync(world.App, world.ClientA, partnerClaim: $"{{\"dealer_id\":\"{world.DealerA}\"}}");
        Assert.Equal(200, (int)(await GetDealerAsync(world.App, narrowed, world.DealerA)).StatusCode);
        await (await GetDealerAsync(world.App, narrowed, world.DealerA2)).ReadErrorAsync(403, "forbidden");
        // Unknown dealers stay 404 whatever the narrowing.
        await (await GetDealerAsync(world.App, narrowed, 987654)).ReadErrorAsync(404, "dealer_not_found");
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AUserTokenOnlyReachesItsOwnDealer(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var tokenOfA2User = await UserTokenAsync(world, world.DealerA2, "user@a2.example.com", role: "member");
        Assert.Equal(200, (int)(await GetDealerAsync(world.App, tokenOfA2User, world.DealerA2)).StatusCode);
        await (await GetDealerAsync(world.App, tokenOfA2User, world.DealerA)).ReadErrorAsync(403, "forbidden");
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ConnectNeedsADealerAdminsUserToken(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var body = "{\"external_dealer_id\":\"adc-67890\",\"company_name\":\"CHeKT Security Solutions\"}";
        var m2m = await Seed.ClientCredentialsTokenAsync(world.App, world.ClientA);
        await (await world.App.Client.SendAsync(Seed.Authorized(HttpMethod.Put, "/partner/v1/dealers/connect", m2m, body))).ReadErrorAsync(403, "forbidden");

        var dealer = await Seed.DealerAsync(world.App, "New Dealer");
        var member = await UserTokenAsync(world, dealer, "member@new.example.com", role: "member");
        await (await world.App.Client.SendAsync(Seed.Authorized(HttpMethod.Put, "/partner/v1/dealers/connect", member, body))).ReadErrorAsync(403, "forbidden");
    }
}
