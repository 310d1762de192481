using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;
using Dapper;

namespace Chekt.PartnerApi.Tests.Security;

/// <summary>
/// Spec §2.4: a partner reaches only the dealers connected to it, and a site or contact that is not
/// the path's is 404 exactly as if it did not exist. Every dealer-scoped route and verb is tried.
/// </summary>
public sealed class PartnerIsolationTests
{
    /// <summary>
    /// Partner A is connected to dealer A (sites A1 and A2, one contact each), partner B to dealer B
    /// (site B, one contact). Site B is created between A1 and A2, so its id sits among A's ids, and
    /// both partners use the same external ids.
    /// </summary>
    private sealed record World(
        TestApp App, SeededClient ClientA, SeededClient WebA, long DealerA, long DealerB, string TokenA, string AdminTokenA, string TokenB,
        long SiteA1, long SiteA2, long SiteB, long ContactA1, long ContactA2, long ContactB) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    private static async Task<World> StartAsync(DatabaseProvider provider)
    {
        var app = await TestApp.StartAsync(provider);
        var partnerA = await Seed.PartnerAsync(app, "Partner A");
        var partnerB = await Seed.PartnerAsync(app, "Partner B");
        var clientA = await Seed.ClientAsync(app, partnerA, "A M2M");
        var webA = await Seed.ClientAsync(app, partnerA, "A Web", redirectUris: [UserTokens.RedirectUri]);
        var clientB = await Seed.ClientAsync(app, partnerB, "B M2M");
        var dealerA = await Seed.DealerAsync(app, "Dealer A");
        var dealerB = await Seed.DealerAsync(app, "Dealer B");
        await Seed.ConnectAsync(app, partnerA, dealerA, "dealer-1");
        await Seed.ConnectAsync(app, partnerB, dealerB, "dealer-1");
        var tokenA = await Seed.ClientCredentialsTokenAsync(app, clientA);
        var tokenB = await Seed.ClientCredentialsTokenAsync(app, clientB);
        var adminTokenA = await UserTokens.NewUserTokenAsync(app, webA, dealerA, "admin@dealer-a.example.com");

        var siteA1 = await CreateSiteAsync(app, tokenA, dealerA, "site-1");
        var siteB = await CreateSiteAsync(app, tokenB, dealerB, "site-1");
        var siteA2 = await CreateSiteAsync(app, tokenA, dealerA, "site-2");
        var contactA1 = await CreateContactAsync(app, tokenA, dealerA, siteA1, "contact-1");
        var contactB = await CreateContactAsync(app, tokenB, dealerB, siteB, "contact-1");
        var contactA2 = await CreateContactAsync(app, tokenA, dealerA, siteA2, "contact-1");
        return new World(app, clientA, webA, dealerA, dealerB, tokenA, adminTokenA, tokenB, siteA1, siteA2, siteB, contactA1, contactA2, contactB);
    }

    private static async Task<long> CreateSiteAsync(TestApp app, string token, long dealerId, string externalId)
    {
        using var response = await app.Client.SendAsync(Seed.Authorized(HttpMethod.Post, $"/partner/v1/dealers/{dealerId}/sites", token,
            $"{{\"external_site_id\":\"{externalId}\",\"name\":\"Site {externalId}\",\"timezone\":\"America/New_York\",\"address1\":\"1 Main St\",\"address2\":\"Unit 2\"}}"));
        var body = await response.ReadJsonAsync();
        Assert.True((int)response.StatusCode == 201, body.ToString());
        return body.GetProperty("site_id").GetInt64();
    }

    private static async Task<long> CreateContactAsync(TestApp app, string token, long dealerId, long siteId, string externalId)
    {
        using var response = await app.Client.SendAsync(Seed.Authorized(HttpMethod.Post, $"/partner/v1/dealers/{dealerId}/sites/{siteId}/contacts", token,
            $"{{\"external_contact_id\":\"{externalId}\",\"first_name\":\"Jane\",\"last_name\":\"Doe\",\"phone_number\":\"+1 555 123 4567\",\"email\":\"jane@example.com\"}}"));
        var body = await response.ReadJsonAsync();
        Assert.True((int)response.StatusCode == 201, body.ToString());
        return body.GetProperty("contact_id").GetInt64();
    }

    private static async Task<long[]> ListIdsAsync(TestApp app, string token, string path, string idField)
    {
        using var response = await app.Client.SendAsync(Seed.Authorized(HttpMethod.Get, path, token));
        var body = await response.ReadJsonAsync();
        Assert.True((int)response.StatusCode == 200, $"GET {path}: {body}");
        return [.. body.EnumerateArray().Select(item => item.GetProperty(idField).GetInt64())];
    }

    /// <summary>Checks the answer is the expected error; a mismatch is recorded with the request, so one run reports the whole matrix.</summary>
    private static async Task ExpectErrorAsync(HttpResponseMessage response, int status, string code, string label, List<string> failures)
    {
        var text = await response.Content.ReadAsStringAsync();
        try
        {
            await response.ReadErrorAsync(status, code);
        }
        catch (Exception exception) when (exception is Xunit.Sdk.XunitException or InvalidOperationException)
        {
            failures.Add($"{label}: expected {status} {code}, got {(int)response.StatusCode} {text}");
        }
    }

    private static async Task<long> CountAsync(TestApp app, string sql, object parameters)
    {
        await using var connection = await app.Services.GetRequiredService<Db>().OpenAsync();
        return await connection.ExecuteScalarAsync<long>(sql, parameters);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task EveryDealerScopedRouteRefusesAnotherPartnersDealerSiteAndContactAndChangesNothing(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var app = world.App;
        var snapshotB = await DealerScopedRoutes.SnapshotAsync(app, world.TokenB, world.DealerB);
        var snapshotA = await DealerScopedRoutes.SnapshotAsync(app, world.TokenA, world.DealerA);
        var failures = new List<string>();

        foreach (var route in DealerScopedRoutes.All)
        {
            // B's dealer id, with B's site and contact ids: the dealer is not A's.
            var path = route.Path(world.DealerB, world.SiteB, world.ContactB);
            using (var response = await DealerScopedRoutes.SendAsync(app, route, path, world.TokenA, world.AdminTokenA))
            {
                await ExpectErrorAsync(response, 403, "dealer_not_connected", $"{route.Method} {path} (B's dealer)", failures);
            }

            if (route.Level >= RouteLevel.Site)
            {
                // A's own dealer with B's site id (and B's contact id).
                path = route.Path(world.DealerA, world.SiteB, world.ContactB);
                using var response = await DealerScopedRoutes.SendAsync(app, route, path, world.TokenA, world.AdminTokenA);
                await ExpectErrorAsync(response, 404, "site_not_found", $"{route.Method} {path} (own dealer, B's site)", failures);
            }

            if (route.Level == RouteLevel.Contact)
            {
                // A's own dealer and site with B's contact id.
                path = route.Path(world.DealerA, world.SiteA1, world.ContactB);
                using var response = await DealerScopedRoutes.SendAsync(app, route, path, world.TokenA, world.AdminTokenA);
                await ExpectErrorAsync(response, 404, "contact_not_found", $"{route.Method} {path} (own site, B's contact)", failures);
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(snapshotB, await DealerScopedRoutes.SnapshotAsync(app, world.TokenB, world.DealerB));
        Assert.Equal(snapshotA, await DealerScopedRoutes.SnapshotAsync(app, world.TokenA, world.DealerA));

        // Nothing A sent was stored anywhere: not under B's dealer, not under B's site, not under A's own.
        Assert.Equal(0, await CountAsync(app, "SELECT COUNT(*) FROM sites WHERE external_site_id = @id", new { id = DealerScopedRoutes.IntruderSiteId }));
        Assert.Equal(0, await CountAsync(app, "SELECT COUNT(*) FROM contacts WHERE external_contact_id = @id", new { id = DealerScopedRoutes.IntruderContactId }));
        Assert.Equal(1, await CountAsync(app, "SELECT COUNT(*) FROM sites WHERE dealer_id = @dealer", new { dealer = world.DealerB }));
        Assert.Equal(1, await CountAsync(app, "SELECT COUNT(*) FROM contacts WHERE site_id = @site", new { site = world.SiteB }));
        Assert.Equal(0, await CountAsync(app,
            "SELECT COUNT(*) FROM dealers WHERE id = @dealer AND (company_name <> 'Dealer B' OR company_email <> 'support@dealer.example.com')",
            new { dealer = world.DealerB }));
        Assert.Equal(2, await CountAsync(app, "SELECT COUNT(*) FROM dealer_connections WHERE disconnected_at IS NULL", new { }));
    }

    /// <summary>
    /// The access filters are one instance per route group, shared by every request: requests of two partners in
    /// flight at the same time must each be decided on their own token and path alone.
    /// </summary>
    [Theory, OnSqlite, OnPostgres]
    public async Task ConcurrentRequestsOfTwoPartnersAreEachAnsweredForTheirOwnCaller(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var app = world.App;
        var contactA = $"/partner/v1/dealers/{world.DealerA}/sites/{world.SiteA1}/contacts/{world.ContactA1}";
        var contactB = $"/partner/v1/dealers/{world.DealerB}/sites/{world.SiteB}/contacts/{world.ContactB}";
        var cases = new (string Token, string Path, int Status, long? ContactId)[]
        {
            (world.TokenA, contactA, 200, world.ContactA1),
            (world.TokenB, contactB, 200, world.ContactB),
            (world.TokenA, contactB, 403, null),
            (world.TokenB, contactA, 403, null),
            (world.TokenA, $"/partner/v1/dealers/{world.DealerA}/sites/{world.SiteB}/contacts/{world.ContactB}", 404, null),
        };

        // 250 requests: A's 150 stay within its client's burst of 200, so none is refused as over the rate limit.
        var answers = await Task.WhenAll(Enumerable.Range(0, 250).Select(index => Task.Run(async () =>
        {
            var (token, path, status, contactId) = cases[index % cases.Length];
            using var response = await app.Client.SendAsync(Seed.Authorized(HttpMethod.Get, path, token));
            var body = await response.Content.ReadAsStringAsync();
            var ok = (int)response.StatusCode == status
                     && (contactId is null || System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("contact_id").GetInt64() == contactId);
            return ok ? null : $"{(token == world.TokenA ? "A" : "B")} GET {path}: expected {status}, got {(int)response.StatusCode} {body}";
        })));

        var wrong = answers.OfType<string>().ToList();
        Assert.True(wrong.Count == 0, string.Join("\n", wrong.Take(5)));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ListsOfAPartnersOwnDealerNeverContainAnotherPartnersSitesOrContacts(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var app = world.App;
        var sitesPathA = $"/partner/v1/dealers/{world.DealerA}/sites";

        Assert.Equal([world.SiteA1, world.SiteA2], await ListIdsAsync(app, world.TokenA, sitesPathA, "site_id"));
        Assert.Equal([world.SiteB], await ListIdsAsync(app, world.TokenB, $"/partner/v1/dealers/{world.DealerB}/sites", "site_id"));
        Assert.Equal([world.ContactA1], await ListIdsAsync(app, world.TokenA, $"{sitesPathA}/{world.SiteA1}/contacts", "contact_id"));
        Assert.Equal([world.ContactA2], await ListIdsAsync(app, world.TokenA, $"{sitesPathA}/{world.SiteA2}/contacts", "contact_id"));
        Assert.Equal([world.ContactB], await ListIdsAsync(app, world.TokenB, $"/partner/v1/dealers/{world.DealerB}/sites/{world.SiteB}/contacts", "contact_id"));

        // Paging one by one steps over B's site, whose id lies between A's two.
        var paged = new List<long>();
        string? next = sitesPathA + "?limit=1";
        while (next is not null)
        {
            using var response = await app.Client.SendAsync(Seed.Authorized(HttpMethod.Get, next, world.TokenA));
            var body = await response.ReadJsonAsync();
            Assert.Equal(200, (int)response.StatusCode);
            paged.AddRange(body.EnumerateArray().Select(site => site.GetProperty("site_id").GetInt64()));
            next = response.Headers.TryGetValues("Link", out var links)
                ? links.Single().Split('<', '>')[1]
                : null;
            Assert.True(paged.Count <= 3, "paging does not end");
        }

        Assert.Equal([world.SiteA1, world.SiteA2], paged);
        Assert.Equal([world.SiteA2], await ListIdsAsync(app, world.TokenA, $"{sitesPathA}?after={world.SiteA1}", "site_id"));
        Assert.Equal([world.ContactA2], await ListIdsAsync(app, world.TokenA, $"{sitesPathA}/{world.SiteA2}/contacts?after={world.ContactB}", "contact_id"));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ATokenNarrowedToOneSiteCannotReachAnotherSiteOfItsOwnDealer(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var app = world.App;
        var snapshotA = await DealerScopedRoutes.SnapshotAsync(app, world.TokenA, world.DealerA);
        var narrowed = await Seed.ClientCredentialsTokenAsync(app, world.ClientA,
            partnerClaim: $"{{\"dealer_id\":\"{world.DealerA}\",\"site_id\":\"{world.SiteA1}\"}}");
        var sitesPath = $"/partner/v1/dealers/{world.DealerA}/sites";

        // Its own site works.
        using (var own = await app.Client.SendAsync(Seed.Authorized(HttpMethod.Get, $"{sitesPath}/{world.SiteA1}", narrowed)))
        {
            Assert.Equal(200, (int)own.StatusCode);
        }

        Assert.Equal([world.ContactA1], await ListIdsAsync(app, narrowed, $"{sitesPath}/{world.SiteA1}/contacts", "contact_id"));

        // Every site and contact route on the other site of the same dealer is 403, and so is creating a new site.
        var failures = new List<string>();
        foreach (var route in DealerScopedRoutes.All.Where(r => r.Level >= RouteLevel.Site))
        {
            var path = route.Path(world.DealerA, world.SiteA2, world.ContactA2);
            using var response = await DealerScopedRoutes.SendAsync(app, route, path, narrowed, narrowed);
            await ExpectErrorAsync(response, 403, "forbidden", $"{route.Method} {path} (narrowed to site {world.SiteA1})", failures);
        }

        var createSite = DealerScopedRoutes.All.Single(r => r.Method == HttpMethod.Post && r.Level == RouteLevel.Dealer);
        using (var created = await DealerScopedRoutes.SendAsync(app, createSite, createSite.Path(world.DealerA), narrowed, narrowed))
        {
            await ExpectErrorAsync(created, 403, "forbidden", $"POST {sitesPath} (narrowed to site {world.SiteA1})", failures);
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));

        // The site list under a site-narrowed token holds that site only.
        Assert.Equal([world.SiteA1], await ListIdsAsync(app, narrowed, sitesPath, "site_id"));
        // A token narrowed to a dealer only sees all of that dealer's sites.
        var dealerOnly = await Seed.ClientCredentialsTokenAsync(app, world.ClientA, partnerClaim: $"{{\"dealer_id\":{world.DealerA}}}");
        Assert.Equal([world.SiteA1, world.SiteA2], await ListIdsAsync(app, dealerOnly, sitesPath, "site_id"));

        // Narrowed to its own dealer but to B's site: the site is not the dealer's, so it does not exist, and the list is empty.
        var narrowedToB = await Seed.ClientCredentialsTokenAsync(app, world.ClientA,
            partnerClaim: $"{{\"dealer_id\":\"{world.DealerA}\",\"site_id\":\"{world.SiteB}\"}}");
        await (await app.Client.SendAsync(Seed.Authorized(HttpMethod.Get, $"{sitesPath}/{world.SiteB}", narrowedToB))).ReadErrorAsync(404, "site_not_found");
        Assert.Empty(await ListIdsAsync(app, narrowedToB, sitesPath, "site_id"));

        Assert.Equal(snapshotA, await DealerScopedRoutes.SnapshotAsync(app, world.TokenA, world.DealerA));
        Assert.Equal(0, await CountAsync(app, "SELECT COUNT(*) FROM sites WHERE external_site_id = @id", new { id = DealerScopedRoutes.IntruderSiteId }));
        Assert.Equal(0, await CountAsync(app, "SELECT COUNT(*) FROM contacts WHERE external_contact_id = @id", new { id = DealerScopedRoutes.IntruderContactId }));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AnotherPartnersDealerAdminUserTokenIsRefusedOnEveryRouteOfThisPartnersDealer(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var app = world.App;
        var snapshotB = await DealerScopedRoutes.SnapshotAsync(app, world.TokenB, world.DealerB);

        // A user token of dealer A's admin, issued to partner A's web client, with every API scope.
        var userToken = await UserTokens.NewUserTokenAsync(app, world.WebA, world.DealerA, "second-admin@dealer-a.example.com",
            scope: string.Join(' ', Chekt.PartnerApi.Auth.Scopes.Api));
        var failures = new List<string>();
        foreach (var route in DealerScopedRoutes.All)
        {
            var path = route.Path(world.DealerB, world.SiteB, world.ContactB);
            using var response = await DealerScopedRoutes.SendAsync(app, route, path, userToken, userToken);
            await ExpectErrorAsync(response, 403, "dealer_not_connected", $"{route.Method} {path} (A's user token, B's dealer)", failures);
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(snapshotB, await DealerScopedRoutes.SnapshotAsync(app, world.TokenB, world.DealerB));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task SiteAndContactErrorsOfAnotherPartnerLookExactlyLikeIdsThatDoNotExist(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var app = world.App;
        var sitePath = $"/partner/v1/dealers/{world.DealerA}/sites";
        const long missing = 999_999_999;

        async Task<(int Status, string Code, string? Message)> ErrorOfAsync(string path)
        {
            using var response = await app.Client.SendAsync(Seed.Authorized(HttpMethod.Get, path, world.TokenA));
            var error = (await response.ReadJsonAsync()).GetProperty("error");
            return ((int)response.StatusCode, error.GetProperty("code").GetString()!,
                error.GetProperty("message").GetString()!.Replace(path.Split('/')[^1], "{id}", StringComparison.Ordinal));
        }

        Assert.Equal(await ErrorOfAsync($"{sitePath}/{missing}"), await ErrorOfAsync($"{sitePath}/{world.SiteB}"));
        Assert.Equal(await ErrorOfAsync($"{sitePath}/{world.SiteA1}/contacts/{missing}"), await ErrorOfAsync($"{sitePath}/{world.SiteA1}/contacts/{world.ContactB}"));
        // A's own contact of its other site is not under this site either.
        Assert.Equal(await ErrorOfAsync($"{sitePath}/{world.SiteA1}/contacts/{missing}"), await ErrorOfAsync($"{sitePath}/{world.SiteA1}/contacts/{world.ContactA2}"));
    }
}
