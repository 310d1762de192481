using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Chekt.PartnerApi.Auth;

/// <summary>The <c>RateLimit:TokenEndpoint</c> configuration section.</summary>
public sealed class TokenEndpointRateLimitOptions
{
    public const string SectionName = "RateLimit:TokenEndpoint";

    /// <summary>Token requests per second per client (0 disables the per-client limit).</summary>
    public int PermitsPerSecond { get; set; } = 20;

    public int Burst { get; set; } = 40;

    /// <summary>Token and revocation requests per second per remote address (0 disables it).</summary>
    public int PermitsPerSecondPerAddress { get; set; } = 50;

    public int BurstPerAddress { get; set; } = 100;
}

/// <summary>
/// The token endpoint's own, stricter limits (spec §2.1): a token bucket per remote address (checked
/// before anything else, so credential guessing is slowed) and one per authenticated client.
/// Limits are per server instance.
/// </summary>
public sealed class TokenEndpointRateLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<string>? _byAddress;
    private readonly PartitionedRateLimiter<string>? _byClient;

    public TokenEndpointRateLimiter(IOptions<TokenEndpointRateLimitOptions> options)
    {
        var settings = options.Value;
        _byAddress = Create(settings.PermitsPerSecondPerAddress, settings.BurstPerAddress);
        _byClient = Create(settings.PermitsPerSecond, settings.Burst);
    }

    public IResult? TryAcquireForAddress(HttpContext context) =>
        TryAcquire(_byAddress, context.Connection.RemoteIpAddress?.ToString() ?? "unknown");

    public IResult? TryAcquireForClient(string clientId) => TryAcquire(_byClient, clientId);

    public void Dispose()
    {
        _byAddress?.Dispose();
        _byClient?.Dispose();
    }

    private static PartitionedRateLimiter<string>? Create(int permitsPerSecond, int burst) =>
        permitsPerSecond <= 0
            ? null
            : PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = Math.Max(burst, permitsPerSecond),
                TokensPerPeriod = permitsPerSecond,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            }));

    private static IResult? TryAcquire(PartitionedRateLimiter<string>? limiter, string key)
    {
        if (limiter is null)
        {
            return null;
        }

        using var lease = limiter.AttemptAcquire(key);
        if (lease.IsAcquired)
        {
            return null;
        }

        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 1;
        return new RateLimitedResult(retryAfter);
    }

    private sealed class RateLimitedResult(int retryAfterSeconds) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = StatusCodes.Status429TooManyRequests;
            response.Headers.RetryAfter = retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            OAuthError.NoStore(response);
            return response.WriteAsJsonAsync(
                new OAuthErrorBody("rate_limited", "Too many token requests; retry after the time in the Retry-After header."),
                AuthJsonContext.Default.OAuthErrorBody, cancellationToken: httpContext.RequestAborted);
        }
    }
}
