using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;

namespace Chekt.PartnerApi.Tests.Http;

/// <summary>Spec §7: <c>x-partner-trace-id</c> echoed or generated, in every log line and in error bodies.</summary>
public sealed class TraceIdTests
{
    private const string Header = "x-partner-trace-id";

    [Theory, OnSqlite, OnPostgres]
    public async Task GivenTraceIdIsEchoed(DatabaseProvider provider)
    {
        await using var app = await TestApp.StartAsync(provider);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        request.Headers.Add(Header, "550e8400-e29b-41d4-a716-123456789000");
        var response = await app.Client.SendAsync(request);
        Assert.Equal("550e8400-e29b-41d4-a716-123456789000", response.Headers.GetValues(Header).Single());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task MissingTraceIdIsGeneratedFreshForEachRequest(DatabaseProvider provider)
    {
        await using var app = await TestApp.StartAsync(provider);
        var first = (await app.Client.GetAsync("/healthz")).Headers.GetValues(Header).Single();
        var second = (await app.Client.GetAsync("/healthz")).Headers.GetValues(Header).Single();
        Assert.True(Guid.TryParse(first, out _));
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void AGeneratedTraceIdIsAVersion4UuidAndNeverRepeats()
    {
        var ids = Enumerable.Range(0, 100_000).Select(_ => Chekt.PartnerApi.Http.TraceId.New()).ToList();

        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(ids.Take(1000), id =>
        {
            Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", id);
            Assert.Equal(4, Guid.Parse(id).Version);
        });
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task TraceIdIsTheRequestIdOfErrorBodies(DatabaseProvider provider)
    {
        await using var app = await TestApp.StartAsync(provider);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/partner/v1/nothing-here");
        request.Headers.Add(Header, "trace-abc-123");
        var response = await app.Client.SendAsync(request);
        var error = await response.ReadErrorAsync(404);
        Assert.Equal("trace-abc-123", error.GetProperty("request_id").GetString());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task UnsafeOrOversizedTraceIdIs400WithAGeneratedOne(DatabaseProvider provider)
    {
        await using var app = await TestApp.StartAsync(provider);
        foreach (var value in new[] { new string('a', 129), "has space", "quote\"d", "new\u00e9line" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/healthz");
            request.Headers.TryAddWithoutValidation(Header, value);
            var response = await app.Client.SendAsync(request);
            var error = await response.ReadErrorAsync(400, "invalid_trace_id");
            Assert.Equal(Header, error.GetProperty("field").GetString());
            Assert.NotEqual(value, error.GetProperty("request_id").GetString());
        }
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task EveryLogLineOfARequestCarriesItsTraceId(DatabaseProvider provider)
    {
        await using var app = await TestApp.StartAsync(provider, JsonProbe.Add);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/__probe/throw");
        request.Headers.Add(Header, "trace-for-logs");
        await app.Client.SendAsync(request);

        var lines = app.Logs.Entries.Where(e => e.Scope.TryGetValue("PartnerTraceId", out var id) && (string?)id == "trace-for-logs").ToList();
        Assert.Contains(lines, e => e.Level == LogLevel.Error);
        Assert.Contains(lines, e => e.Message.Contains("GET /__probe/throw responded 500", StringComparison.Ordinal));
        // Nothing logged while handling the request escapes the scope.
        Assert.DoesNotContain(app.Logs.Entries, e => e.Scope.ContainsKey("RequestPath") && !e.Scope.ContainsKey("PartnerTraceId")
            && (string?)e.Scope["RequestPath"] == "/__probe/throw" && e.Category.StartsWith("Chekt", StringComparison.Ordinal));
    }
}
