using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace Chekt.PartnerApi.Client.Tests.Infrastructure;

/// <summary>
/// A primary handler that answers from a script instead of a server, one step per request, and
/// records every attempt: for the retry and token rules, which need failures on demand.
/// </summary>
public sealed class FakeServer : HttpMessageHandler
{
    public static readonly Uri BaseAddress = new("https://partner.test/");

    private readonly ConcurrentQueue<Func<HttpRequestMessage, HttpResponseMessage>> _script = new();

    /// <summary>What answers when the script has run out (default: 200 with an empty object).</summary>
    public Func<HttpRequestMessage, HttpResponseMessage> Otherwise { get; set; } = _ => Json(HttpStatusCode.OK, "{}");

    public ConcurrentQueue<Attempt> Attempts { get; } = new();

    public FakeServer Then(Func<HttpRequestMessage, HttpResponseMessage> step)
    {
        _script.Enqueue(step);
        return this;
    }

    public FakeServer ThenStatus(HttpStatusCode status, string? retryAfter = null) => Then(_ =>
    {
        var code = "http_" + (int)status;
        var response = Json(status, $$$"""{"error":{"code":"{{{code}}}","message":"Scripted.","request_id":"r","field":null,"details":[]}}""");
        if (retryAfter is not null)
        {
            response.Headers.TryAddWithoutValidation("Retry-After", retryAfter);
        }

        return response;
    });

    public FakeServer ThenConnectionFailure() => Then(_ => throw new HttpRequestException("Connection refused (scripted)."));

    public FakeServer ThenJson(HttpStatusCode status, string json) => Then(_ => Json(status, json));

    public static HttpResponseMessage Json(HttpStatusCode status, string json) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    public PartnerApiClient Client(Action<PartnerApiClientOptions>? configure = null, PartnerApiCredentials? credentials = null)
    {
        var options = new PartnerApiClientOptions
        {
            BaseAddress = BaseAddress,
            Credentials = credentials ?? new AccessTokenCredentials("fake-token"),
            Retry = new RetryOptions { MaxAttempts = 4, InitialDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(5) },
        };
        configure?.Invoke(options);
        return new PartnerApiClient(options, this);
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        Attempts.Enqueue(new Attempt(
            request.Method, request.RequestUri!, DateTimeOffset.UtcNow, Header(request, "Idempotency-Key"), Header(request, "x-partner-trace-id"),
            Header(request, "If-Match"), request.Headers.Authorization?.ToString(), body));
        var step = _script.TryDequeue(out var next) ? next : Otherwise;
        var response = step(request);
        response.RequestMessage = request;
        return response;
    }

    private static string? Header(HttpRequestMessage request, string name) =>
        request.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;

    public sealed record Attempt(
        HttpMethod Method, Uri Uri, DateTimeOffset At, string? IdempotencyKey, string? TraceId, string? IfMatch, string? Authorization, string? Body);
}
