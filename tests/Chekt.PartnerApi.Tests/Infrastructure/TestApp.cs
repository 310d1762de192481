using System.Text;
using System.Text.Json;
using Chekt.PartnerApi.Data;
using Microsoft.AspNetCore.Hosting;

namespace Chekt.PartnerApi.Tests.Infrastructure;

/// <summary>A server under test with its own fresh database; dispose it at the end of the test.</summary>
public sealed class TestApp : IAsyncDisposable
{
    private TestApp(TestDatabase database, PartnerApiFactory factory)
    {
        Database = database;
        Factory = factory;
        Client = factory.CreateClient();
    }

    public TestDatabase Database { get; }

    public PartnerApiFactory Factory { get; }

    public HttpClient Client { get; }

    public IServiceProvider Services => Factory.Services;

    public LogCapture Logs => Factory.Logs;

    public static async Task<TestApp> StartAsync(DatabaseProvider provider, Action<IWebHostBuilder>? configure = null, PostgresServer? server = null)
    {
        var database = await TestDatabase.CreateAsync(provider, server);
        var factory = new PartnerApiFactory(database, configure);
        return new TestApp(database, factory);
    }

    /// <summary>
    /// Like <see cref="StartAsync"/>, but the server listens on a real loopback socket (Kestrel on a free
    /// port), for clients outside the process such as a browser; <see cref="BaseAddress"/> is where.
    /// </summary>
    public static async Task<TestApp> StartOnKestrelAsync(DatabaseProvider provider, Action<IWebHostBuilder>? configure = null)
    {
        var database = await TestDatabase.CreateAsync(provider);
        var factory = new PartnerApiFactory(database, configure);
        // Must come before the server is created, which the constructor's CreateClient does.
        factory.UseKestrel(0);
        return new TestApp(database, factory);
    }

    /// <summary>The server's address: <c>http://localhost/</c> in memory, <c>http://127.0.0.1:port/</c> on Kestrel.</summary>
    public Uri BaseAddress => Client.BaseAddress!;

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Factory.DisposeAsync();
        await Database.DisposeAsync();
    }
}

public static class HttpTestExtensions
{
    public static StringContent Json(string json, string mediaType = "application/json") => new(json, Encoding.UTF8, mediaType);

    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        try
        {
            return JsonDocument.Parse(text).RootElement.Clone();
        }
        catch (JsonException exception)
        {
            throw new InvalidOperationException($"Response {(int)response.StatusCode} is not JSON: {text}", exception);
        }
    }

    /// <summary>Asserts the spec's error shape and returns the inner <c>error</c> object.</summary>
    public static async Task<JsonElement> ReadErrorAsync(this HttpResponseMessage response, int expectedStatus, string? expectedCode = null)
    {
        var body = await response.ReadJsonAsync();
        Assert.Equal(expectedStatus, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(["error"], body.EnumerateObject().Select(p => p.Name));
        var error = body.GetProperty("error");
        Assert.Equal(["code", "message", "request_id", "field", "details"], error.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.String, error.GetProperty("code").ValueKind);
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.Equal(JsonValueKind.Array, error.GetProperty("details").ValueKind);
        Assert.Equal(response.Headers.GetValues("x-partner-trace-id").Single(), error.GetProperty("request_id").GetString());
        if (expectedCode is not null)
        {
            Assert.Equal(expectedCode, error.GetProperty("code").GetString());
        }

        return error;
    }
}
