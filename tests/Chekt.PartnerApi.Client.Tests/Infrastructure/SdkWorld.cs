using System.Collections.Concurrent;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;

namespace Chekt.PartnerApi.Client.Tests.Infrastructure;

/// <summary>
/// The real server in process with a fresh database, a partner with an M2M client, a dealer
/// connected to it, and an SDK client that gets its tokens from the server's own /oauth/token.
/// </summary>
public sealed class SdkWorld : IAsyncDisposable
{
    private readonly List<PartnerApiClient> _clients = [];

    private SdkWorld(TestApp app, long partnerId, SeededClient m2m, long dealerId)
    {
        App = app;
        PartnerId = partnerId;
        M2M = m2m;
        DealerId = dealerId;
        (Client, Traffic) = NewClient(new ClientSecretCredentials(m2m.ClientId, m2m.Secret!));
    }

    public TestApp App { get; }

    public long PartnerId { get; }

    public SeededClient M2M { get; }

    public long DealerId { get; }

    /// <summary>The SDK client of the M2M client (client secret, real tokens).</summary>
    public PartnerApiClient Client { get; }

    /// <summary>Every request <see cref="Client"/> sent to the server, token requests included.</summary>
    public RecordingHandler Traffic { get; }

    public static async Task<SdkWorld> StartAsync(DatabaseProvider provider, Action<IWebHostBuilder>? configure = null)
    {
        var app = await TestApp.StartAsync(provider, configure);
        var partnerId = await Seed.PartnerAsync(app);
        var m2m = await Seed.ClientAsync(app, partnerId, "M2M");
        var dealerId = await Seed.DealerAsync(app);
        await Seed.ConnectAsync(app, partnerId, dealerId, "dealer-ext-1");
        return new SdkWorld(app, partnerId, m2m, dealerId);
    }

    /// <summary>Another SDK client on the same server (disposed with the world).</summary>
    public (PartnerApiClient Client, RecordingHandler Traffic) NewClient(PartnerApiCredentials? credentials, Action<PartnerApiClientOptions>? configure = null)
    {
        var traffic = new RecordingHandler(App.Factory.Server.CreateHandler());
        var options = new PartnerApiClientOptions { BaseAddress = App.BaseAddress, Credentials = credentials };
        configure?.Invoke(options);
        var client = new PartnerApiClient(options, traffic);
        _clients.Add(client);
        return (client, traffic);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        await App.DisposeAsync();
    }
}

/// <summary>Passes requests on and remembers what was sent.</summary>
public sealed class RecordingHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    public ConcurrentQueue<(HttpMethod Method, string Path, string? TraceId)> Requests { get; } = new();

    public int TokenRequests => Requests.Count(r => r.Path == "/oauth/token");

    public int ApiRequests => Requests.Count(r => r.Path.StartsWith("/partner/v1/", StringComparison.Ordinal));

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var traceId = request.Headers.TryGetValues("x-partner-trace-id", out var values) ? values.Single() : null;
        Requests.Enqueue((request.Method, request.RequestUri!.AbsolutePath, traceId));
        return base.SendAsync(request, cancellationToken);
    }
}
