using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.RateLimiting;
using Chekt.PartnerApi.Auth;
using Microsoft.Extensions.Options;

namespace Chekt.PartnerApi.Http;

/// <summary>The <c>RateLimit</c> configuration section: the API's per-client limit.</summary>
public sealed class RateLimitOptions
{
    public const string SectionName = "RateLimit";

    /// <summary>Sustained requests per second per OAuth client (0 disables the limit).</summary>
    public int PermitsPerSecond { get; set; } = 100;

    /// <summary>Requests a client may make in a burst above the sustained rate.</summary>
    public int Burst { get; set; } = 200;
}

/// <summary>
/// Per-client token bucket for <c>/partner/v1</c> (spec §7). Every answer carries
/// <c>X-RateLimit-Limit</c> (the bucket size), <c>X-RateLimit-Remaining</c> and
/// <c>X-RateLimit-Reset</c> (seconds until the bucket is full again); over the limit: 429 with
/// <c>Retry-After</c>. Buckets are per server instance.
/// </summary>
public sealed class ClientRateLimitFilter(ClientRateLimiter limiter) : IEndpointFilter
{
    // Not async: a filter that only decides passes the next one's task on, without a state machine of its own.
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var options = limiter.Options;
        if (options.PermitsPerSecond <= 0)
        {
            return next(context);
        }

        var http = context.HttpContext;
        var limit = Math.Max(options.Burst, options.PermitsPerSecond);
        var bucket = limiter.BucketFor(http.GetCaller().ClientId);
        // A token bucket's lease holds nothing back: its permit is spent when acquired.
        using var lease = bucket.AttemptAcquire();
        var remaining = bucket.GetStatistics()?.CurrentAvailablePermits ?? 0;
        var headers = http.Response.Headers;
        headers["X-RateLimit-Limit"] = limit.ToString(CultureInfo.InvariantCulture);
        headers["X-RateLimit-Remaining"] = remaining.ToString(CultureInfo.InvariantCulture);
        headers["X-RateLimit-Reset"] = ((long)Math.Ceiling((limit - remaining) / (double)options.PermitsPerSecond)).ToString(CultureInfo.InvariantCulture);
        if (lease.IsAcquired)
        {
            return next(context);
        }

        var error = ApiError.ForStatus(StatusCodes.Status429TooManyRequests);
        error.Headers["Retry-After"] = "1";
        return ValueTask.FromResult<object?>(error);
    }
}

/// <summary>The buckets, one per client, shared by every endpoint of this instance.</summary>
public sealed class ClientRateLimiter(IOptions<RateLimitOptions> options) : IDisposable
{
    private readonly ConcurrentDictionary<string, TokenBucketRateLimiter> _buckets = new(StringComparer.Ordinal);

    public RateLimitOptions Options { get; } = options.Value;

    public TokenBucketRateLimiter BucketFor(string clientId) =>
        _buckets.GetOrAdd(clientId, _ => new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(Options.Burst, Options.PermitsPerSecond),
            TokensPerPeriod = Options.PermitsPerSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    public void Dispose()
    {
        foreach (var bucket in _buckets.Values)
        {
            bucket.Dispose();
        }
    }
}

/// <summary>The query parameters an endpoint accepts; any other is 400 (spec §7: unknown input is refused).</summary>
public sealed record AllowedQueryParameters(params string[] Names);

public sealed class QueryParameterFilter : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (!http.Request.QueryString.HasValue)
        {
            return next(context);
        }

        var allowed = http.GetEndpoint()?.Metadata.GetMetadata<AllowedQueryParameters>()?.Names ?? [];
        foreach (var name in http.Request.Query.Keys)
        {
            if (!allowed.Contains(name, StringComparer.Ordinal))
            {
                return ValueTask.FromResult<object?>(ApiError.BadRequest("unknown_parameter",
                    allowed.Length == 0 ? $"Unknown query parameter '{name}'; this endpoint takes none." : $"Unknown query parameter '{name}'; allowed: {string.Join(", ", allowed)}.",
                    name));
            }
        }

        return next(context);
    }
}
