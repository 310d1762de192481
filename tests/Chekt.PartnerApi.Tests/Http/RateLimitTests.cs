using System.Diagnostics;
using System.Globalization;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;

namespace Chekt.PartnerApi.Tests.Http;

/// <summary>Spec §7 and §10: the per-client rate limit of <c>/partner/v1</c>, its headers and its configuration.</summary>
public sealed class RateLimitTests
{
    private sealed record World(TestApp App, SeededClient Client1, SeededClient Client2, long Dealer, long OtherDealer) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => App.DisposeAsync();

        public string DealerPath => $"/partner/v1/dealers/{Dealer}";
    }

    /// <summary>A partner with two M2M clients and a connected dealer; another partner's dealer.</summary>
    private static async Task<World> StartAsync(DatabaseProvider provider, int? permitsPerSecond = null, int? burst = null)
    {
        var app = await TestApp.StartAsync(provider, builder =>
        {
            if (permitsPerSecond is { } permits)
            {
                builder.UseSetting("RateLimit:PermitsPerSecond", permits.ToString(CultureInfo.InvariantCulture));
            }

            if (burst is { } size)
            {
                builder.UseSetting("RateLimit:Burst", size.ToString(CultureInfo.InvariantCulture));
            }
        });
        var partner = await Seed.PartnerAsync(app);
        var client1 = await Seed.ClientAsync(app, partner, "M2M 1");
        var client2 = await Seed.ClientAsync(app, partner, "M2M 2");
        var dealer = await Seed.DealerAsync(app);
        await Seed.ConnectAsync(app, partner, dealer, "dealer-1");
        var otherPartner = await Seed.PartnerAsync(app, "Other");
        var otherDealer = await Seed.DealerAsync(app, "Other dealer");
        await Seed.ConnectAsync(app, otherPartner, otherDealer, "dealer-1");
        return new World(app, client1, client2, dealer, otherDealer);
    }

    private static async Task<HttpResponseMessage> SendAsync(World world, HttpMethod method, string path, string token, string? body = null,
        params (string Name, string Value)[] headers)
    {
        using var request = Seed.Authorized(method, path, token, body);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await world.App.Client.SendAsync(request);
    }

    private static long Header(HttpResponseMessage response, string name)
    {
        Assert.True(response.Headers.TryGetValues(name, out var values), $"{(int)response.StatusCode} answer without {name}");
        var value = Assert.Single(values);
        Assert.True(long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number), $"{name}: '{value}' is not a non-negative integer");
        return number;
    }

    private sealed record Limits(int Status, long Limit, long Remaining, long Reset);

    private static Limits LimitsOf(HttpResponseMessage response)
    {
        var limits = new Limits((int)response.StatusCode, Header(response, "X-RateLimit-Limit"), Header(response, "X-RateLimit-Remaining"), Header(response, "X-RateLimit-Reset"));
        Assert.True(limits.Limit > 0, $"X-RateLimit-Limit {limits.Limit}");
        Assert.True(limits.Remaining <= limits.Limit, $"X-RateLimit-Remaining {limits.Remaining} above X-RateLimit-Limit {limits.Limit}");
        Assert.True(limits.Remaining == limits.Limit || limits.Reset > 0, $"X-RateLimit-Reset {limits.Reset} while {limits.Remaining} of {limits.Limit} remain");
        return limits;
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task EveryAnswerToAClientCarriesTheRateLimitHeadersWithADecreasingRemainingCount(DatabaseProvider provider)
    {
        // A large bucket refilled slowly: every request takes one permit, the refill adds at most one per second.
        await using var world = await StartAsync(provider, permitsPerSecond: 1, burst: 1000);
        var token = await Seed.ClientCredentialsTokenAsync(world.App, world.Client1);
        var sites = world.DealerPath + "/sites";
        const string site = "{\"external_site_id\":\"site-1\",\"name\":\"Site\",\"timezone\":\"Asia/Seoul\"}";
        var seen = new List<Limits>();

        async Task<HttpResponseMessage> ExpectAsync(int status, HttpMethod method, string path, string? body = null, params (string, string)[] headers)
        {
            var response = await SendAsync(world, method, path, token, body, headers);
            Assert.True((int)response.StatusCode == status, $"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            seen.Add(LimitsOf(response));
            return response;
        }

        await ExpectAsync(200, HttpMethod.Get, world.DealerPath);
        await ExpectAsync(200, HttpMethod.Put, world.DealerPath, "{\"company_address2\":\"Suite 1\"}");
        var created = await (await ExpectAsync(201, HttpMethod.Post, sites, site, ("Idempotency-Key", "create-1"))).ReadJsonAsync();
        var replay = await ExpectAsync(201, HttpMethod.Post, sites, site, ("Idempotency-Key", "create-1"));
        Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
        await ExpectAsync(409, HttpMethod.Post, sites, site);
        await ExpectAsync(200, HttpMethod.Get, sites);
        await ExpectAsync(400, HttpMethod.Post, sites, "{\"name\":\"Site\"}");
        await ExpectAsync(400, HttpMethod.Get, sites + "?bogus=1");
        await ExpectAsync(415, HttpMethod.Post, sites + "/" + created.GetProperty("site_id").GetInt64() + "/contacts");
        await ExpectAsync(404, HttpMethod.Get, sites + "/999999");
        await ExpectAsync(404, HttpMethod.Get, "/partner/v1/dealers/999999");
        await ExpectAsync(403, HttpMethod.Get, $"/partner/v1/dealers/{world.OtherDealer}");
        await ExpectAsync(412, HttpMethod.Put, world.DealerPath, "{\"company_address2\":\"Suite 2\"}", ("If-Match", "\"v999\""));
        await ExpectAsync(204, HttpMethod.Delete, sites + "/" + created.GetProperty("site_id").GetInt64());

        Assert.Single(seen.Select(l => l.Limit).Distinct());
        var remaining = seen.Select(l => l.Remaining).ToList();
        for (var i = 1; i < remaining.Count; i++)
        {
            Assert.True(remaining[i] <= remaining[i - 1], $"X-RateLimit-Remaining went up: {string.Join(", ", remaining)}");
        }

        Assert.True(remaining[^1] < remaining[0] - (remaining.Count / 2), $"X-RateLimit-Remaining does not count the requests: {string.Join(", ", remaining)}");
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task RefusalsOfAnAuthenticatedClientForScopeOrTokenKindAlsoCarryTheHeadersAndCount(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider, permitsPerSecond: 1, burst: 1000);
        var narrowScope = await Seed.ClientCredentialsTokenAsync(world.App, world.Client1, scope: "read:sites");
        var before = LimitsOf(await SendAsync(world, HttpMethod.Get, world.DealerPath + "/sites", narrowScope));

        // Each refusal takes a permit like any other request (the refill adds at most one per second).
        var remaining = new List<long> { before.Remaining };
        for (var i = 0; i < 3; i++)
        {
            using var insufficient = await SendAsync(world, HttpMethod.Get, world.DealerPath, narrowScope);
            await insufficient.ReadErrorAsync(403, "insufficient_scope");
            remaining.Add(LimitsOf(insufficient).Remaining);
            using var notAUser = await SendAsync(world, HttpMethod.Put, "/partner/v1/dealers/connect", narrowScope, "{\"external_dealer_id\":\"x\",\"company_name\":\"X\"}");
            await notAUser.ReadErrorAsync(403, "forbidden");
            remaining.Add(LimitsOf(notAUser).Remaining);
        }

        Assert.True(remaining[^1] <= remaining[0] - 4, $"X-RateLimit-Remaining: {string.Join(", ", remaining)}");
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ABurstOverTheLimitIs429RateLimitedWithRetryAfterUntilPermitsReturn(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider, permitsPerSecond: 2, burst: 3);
        var token = await Seed.ClientCredentialsTokenAsync(world.App, world.Client1);
        var clock = Stopwatch.StartNew();
        var statuses = new List<int>();
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 12; i++)
        {
            var response = await SendAsync(world, HttpMethod.Get, world.DealerPath, token);
            statuses.Add((int)response.StatusCode);
            LimitsOf(response);
            if ((int)response.StatusCode == 429)
            {
                limited ??= response;
            }
        }

        var elapsed = clock.Elapsed;
        var summary = string.Join(", ", statuses);
        // The bucket starts full (3) and refills by 2 each second.
        Assert.True(statuses.Take(3).All(s => s == 200), summary);
        Assert.True(statuses.All(s => s is 200 or 429), summary);
        Assert.True(statuses.Count(s => s == 200) <= 3 + (2 * ((int)Math.Ceiling(elapsed.TotalSeconds) + 1)), summary);
        Assert.NotNull(limited);
        await limited.ReadErrorAsync(429, "rate_limited");
        var retryAfter = limited.Headers.RetryAfter;
        Assert.NotNull(retryAfter?.Delta);
        Assert.InRange(retryAfter.Delta.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        Assert.Equal(0, Header(limited, "X-RateLimit-Remaining"));

        // A write refused by the limit is not remembered under its Idempotency-Key: after Retry-After it really runs.
        string? key = null;
        for (var attempt = 0; key is null; attempt++)
        {
            Assert.True(attempt < 10, "a POST was never refused by the limit");
            for (var drained = 0; (int)(await SendAsync(world, HttpMethod.Get, world.DealerPath, token)).StatusCode != 429; drained++)
            {
                Assert.True(drained < 20, "the limit never applied");
            }

            using var post = await SendAsync(world, HttpMethod.Post, world.DealerPath + "/sites", token, SiteBody(attempt), ("Idempotency-Key", $"after-429-{attempt}"));
            Assert.True((int)post.StatusCode is 201 or 429, $"POST answered {(int)post.StatusCode}");
            key = (int)post.StatusCode == 429 ? $"after-429-{attempt}" : null;
            if (key is not null)
            {
                await post.ReadErrorAsync(429, "rate_limited");
                await Task.Delay(retryAfter.Delta.Value);
                using var afterWait = await SendAsync(world, HttpMethod.Post, world.DealerPath + "/sites", token, SiteBody(attempt), ("Idempotency-Key", key));
                Assert.True((int)afterWait.StatusCode == 201, await afterWait.Content.ReadAsStringAsync());
                Assert.False(afterWait.Headers.Contains("Idempotent-Replayed"));
            }
        }
    }

    private static string SiteBody(int number) =>
        $"{{\"external_site_id\":\"site-{number}\",\"name\":\"Site\",\"timezone\":\"Asia/Seoul\"}}";

    [Theory, OnSqlite, OnPostgres]
    public async Task LimitsArePerClientSoAnotherClientOfTheSamePartnerIsNotLimited(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider, permitsPerSecond: 2, burst: 3);
        var token1 = await Seed.ClientCredentialsTokenAsync(world.App, world.Client1);
        var token2 = await Seed.ClientCredentialsTokenAsync(world.App, world.Client2);

        var limited = false;
        for (var i = 0; i < 12 && !limited; i++)
        {
            using var response = await SendAsync(world, HttpMethod.Get, world.DealerPath, token1);
            limited = (int)response.StatusCode == 429;
        }

        Assert.True(limited, "client 1 was never limited");
        for (var i = 0; i < 3; i++)
        {
            using var response = await SendAsync(world, HttpMethod.Get, world.DealerPath, token2);
            Assert.True((int)response.StatusCode == 200, $"client 2, request {i + 1}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            Assert.True(LimitsOf(response).Remaining < LimitsOf(response).Limit);
        }
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task PermitsPerSecondZeroDisablesTheLimit(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider, permitsPerSecond: 0, burst: 1);
        var token = await Seed.ClientCredentialsTokenAsync(world.App, world.Client1);
        for (var i = 0; i < 30; i++)
        {
            using var response = await SendAsync(world, HttpMethod.Get, world.DealerPath, token);
            Assert.True((int)response.StatusCode == 200, $"request {i + 1}: {(int)response.StatusCode}");
        }
    }
}
