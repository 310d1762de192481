using System.Diagnostics;
using System.Net;
using Chekt.PartnerApi.Client.Tests.Infrastructure;

namespace Chekt.PartnerApi.Client.Tests;

/// <summary>The retry rules, with failures injected under the SDK (no server).</summary>
public sealed class RetryTests
{
    private const string SiteJson =
        """{"site_id":7,"external_site_id":"s-7","name":"Shop","monitoring_station_id":null,"external_monitoring_station_id":null,"account_number":null,"address1":null,"address2":null,"timezone":"UTC","is_activated":0,"created_at":"2024-03-27T12:34:56.000Z"}""";

    private static readonly CreateSiteRequest NewSite = new() { ExternalSiteId = "s-7", Name = "Shop", Timezone = "UTC" };

    [Fact]
    public async Task AConnectionFailureIsRetriedUntilTheRequestGetsThrough()
    {
        using var server = new FakeServer().ThenConnectionFailure().ThenConnectionFailure().ThenJson(HttpStatusCode.OK, SiteJson);
        using var client = server.Client();

        var site = await client.Sites.GetAsync(1, 7);

        Assert.Equal(7, site.SiteId);
        Assert.Equal(3, server.Attempts.Count);
    }

    [Fact]
    public async Task A429IsRetriedAfterItsRetryAfter()
    {
        using var server = new FakeServer().ThenStatus(HttpStatusCode.TooManyRequests, retryAfter: "1").ThenJson(HttpStatusCode.OK, SiteJson);
        using var client = server.Client();
        var watch = Stopwatch.StartNew();

        await client.Sites.GetAsync(1, 7);

        var attempts = server.Attempts.ToArray();
        Assert.Equal(2, attempts.Length);
        Assert.True(attempts[1].At - attempts[0].At >= TimeSpan.FromMilliseconds(990), $"Waited only {attempts[1].At - attempts[0].At}.");
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(990));
    }

    [Fact]
    public async Task ARetryAfterLongerThanTheClientAllowsIsNotWaitedFor()
    {
        using var server = new FakeServer().ThenStatus(HttpStatusCode.TooManyRequests, retryAfter: "120");
        using var client = server.Client(options => options.Retry.MaxRetryAfter = TimeSpan.FromSeconds(30));

        var error = await Assert.ThrowsAsync<PartnerApiException>(() => client.Sites.GetAsync(1, 7));

        Assert.Equal(HttpStatusCode.TooManyRequests, error.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(120), error.RetryAfter);
        Assert.Single(server.Attempts);
    }

    [Theory]
    [InlineData(HttpStatusCode.BadGateway)]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    [InlineData(HttpStatusCode.GatewayTimeout)]
    public async Task GatewayAndAvailabilityErrorsAreRetried(HttpStatusCode status)
    {
        using var server = new FakeServer().ThenStatus(status).ThenStatus(status).ThenJson(HttpStatusCode.OK, SiteJson);
        using var client = server.Client();

        var site = await client.Sites.GetAsync(1, 7);

        Assert.Equal("s-7", site.ExternalSiteId);
        Assert.Equal(3, server.Attempts.Count);
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest)]
    [InlineData(HttpStatusCode.Unauthorized)]
    [InlineData(HttpStatusCode.Forbidden)]
    [InlineData(HttpStatusCode.NotFound)]
    [InlineData(HttpStatusCode.Conflict)]
    [InlineData(HttpStatusCode.PreconditionFailed)]
    [InlineData(HttpStatusCode.InternalServerError)]
    public async Task OtherErrorsAreNotRetried(HttpStatusCode status)
    {
        using var server = new FakeServer().ThenStatus(status).ThenJson(HttpStatusCode.Created, SiteJson);
        using var client = server.Client();

        var error = await Assert.ThrowsAsync<PartnerApiException>(() => client.Sites.CreateAsync(1, NewSite));

        Assert.Equal(status, error.StatusCode);
        Assert.Equal($"http_{(int)status}", error.Code);
        Assert.Single(server.Attempts);
    }

    [Fact]
    public async Task AConflictThatCarriesRetryAfterIsRetriedWithTheSameIdempotencyKey()
    {
        // The server's answer to a retry that found the first request with its key still running.
        using var server = new FakeServer().ThenStatus(HttpStatusCode.Conflict, retryAfter: "1").ThenJson(HttpStatusCode.Created, SiteJson);
        using var client = server.Client();

        var site = await client.Sites.CreateAsync(1, NewSite);

        Assert.Equal(7, site.SiteId);
        var attempts = server.Attempts.ToArray();
        Assert.Equal(2, attempts.Length);
        Assert.True(attempts[1].At - attempts[0].At >= TimeSpan.FromMilliseconds(990), $"Waited only {attempts[1].At - attempts[0].At}.");
        Assert.NotNull(attempts[0].IdempotencyKey);
        Assert.Equal(attempts[0].IdempotencyKey, attempts[1].IdempotencyKey);
    }

    [Fact]
    public async Task AfterTheConfiguredAttemptsTheLastErrorIsThrown()
    {
        using var server = new FakeServer { Otherwise = _ => FakeServer.Json(HttpStatusCode.ServiceUnavailable, "{}") };
        using var client = server.Client(options => options.Retry.MaxAttempts = 3);

        var error = await Assert.ThrowsAsync<PartnerApiException>(() => client.Sites.CreateAsync(1, NewSite));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, error.StatusCode);
        Assert.Equal(3, server.Attempts.Count);
    }

    [Fact]
    public async Task AfterTheConfiguredAttemptsTheLastConnectionFailureIsThrown()
    {
        using var server = new FakeServer { Otherwise = _ => throw new HttpRequestException("down") };
        using var client = server.Client(options => options.Retry.MaxAttempts = 2);

        await Assert.ThrowsAsync<HttpRequestException>(() => client.Sites.GetAsync(1, 7));

        Assert.Equal(2, server.Attempts.Count);
    }

    [Fact]
    public async Task OneAttemptMeansNoRetry()
    {
        using var server = new FakeServer().ThenStatus(HttpStatusCode.ServiceUnavailable).ThenJson(HttpStatusCode.OK, SiteJson);
        using var client = server.Client(options => options.Retry.MaxAttempts = 1);

        await Assert.ThrowsAsync<PartnerApiException>(() => client.Sites.GetAsync(1, 7));

        Assert.Single(server.Attempts);
    }

    [Fact]
    public async Task EveryRetryOfAPostCarriesTheSameIdempotencyKeyAndTraceId()
    {
        using var server = new FakeServer()
            .ThenConnectionFailure().ThenStatus(HttpStatusCode.BadGateway).ThenStatus(HttpStatusCode.TooManyRequests, "0").ThenJson(HttpStatusCode.Created, SiteJson)
            .ThenJson(HttpStatusCode.Created, SiteJson);
        using var client = server.Client();

        await client.Sites.CreateAsync(1, NewSite);
        var first = server.Attempts.ToArray();
        await client.Sites.CreateAsync(1, NewSite);

        Assert.Equal(4, first.Length);
        Assert.All(first, attempt => Assert.Equal(HttpMethod.Post, attempt.Method));
        var key = first[0].IdempotencyKey;
        Assert.True(Guid.TryParse(key, out _), key);
        Assert.All(first, attempt => Assert.Equal(key, attempt.IdempotencyKey));
        Assert.All(first, attempt => Assert.Equal(first[0].TraceId, attempt.TraceId));
        Assert.All(first, attempt => Assert.Equal(first[0].Body, attempt.Body));
        // A new logical call is a new request: a new key and a new trace id.
        var second = server.Attempts.Last();
        Assert.NotEqual(key, second.IdempotencyKey);
        Assert.NotEqual(first[0].TraceId, second.TraceId);
    }

    [Fact]
    public async Task ACallersIdempotencyKeyAndTraceIdAreKeptOnEveryRetry()
    {
        using var server = new FakeServer().ThenStatus(HttpStatusCode.ServiceUnavailable).ThenConnectionFailure().ThenJson(HttpStatusCode.Created, SiteJson);
        using var client = server.Client();

        await client.Sites.CreateAsync(1, NewSite, new RequestOptions { IdempotencyKey = "order-42-site", TraceId = "trace-42" });

        Assert.Equal(3, server.Attempts.Count);
        Assert.All(server.Attempts, attempt => Assert.Equal("order-42-site", attempt.IdempotencyKey));
        Assert.All(server.Attempts, attempt => Assert.Equal("trace-42", attempt.TraceId));
    }

    [Fact]
    public async Task ReadsCarryNoIdempotencyKeyAndWritesCarryOne()
    {
        using var server = new FakeServer { Otherwise = request => request.Method == HttpMethod.Delete ? new HttpResponseMessage(HttpStatusCode.NoContent) : FakeServer.Json(HttpStatusCode.OK, SiteJson) };
        using var client = server.Client();

        await client.Sites.GetAsync(1, 7);
        await client.Sites.UpdateAsync(1, 7, new UpdateSiteRequest { Name = "New" });
        await client.Sites.DeleteAsync(1, 7);

        var attempts = server.Attempts.ToArray();
        Assert.Null(attempts[0].IdempotencyKey);
        Assert.NotNull(attempts[1].IdempotencyKey);
        Assert.NotNull(attempts[2].IdempotencyKey);
    }

    [Fact]
    public async Task TheRetryHandlerGivesABarePostAKeyOfItsOwn()
    {
        using var server = new FakeServer().ThenStatus(HttpStatusCode.ServiceUnavailable).ThenJson(HttpStatusCode.OK, "{}");
        using var handler = new PartnerApiRetryHandler(new RetryOptions { InitialDelay = TimeSpan.Zero }, server);
        using var http = new HttpClient(handler);

        using var response = await http.PostAsync(new Uri(FakeServer.BaseAddress, "x"), new StringContent("{}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var keys = server.Attempts.Select(a => a.IdempotencyKey).ToArray();
        Assert.Equal(2, keys.Length);
        Assert.NotNull(keys[0]);
        Assert.Equal(keys[0], keys[1]);
    }

    [Fact]
    public async Task CancellingStopsTheWaitBetweenAttempts()
    {
        using var server = new FakeServer().ThenStatus(HttpStatusCode.TooManyRequests, retryAfter: "30");
        using var client = server.Client();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var watch = Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.Sites.GetAsync(1, 7, cancellationToken: cancel.Token));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10));
        Assert.Single(server.Attempts);
    }
}
