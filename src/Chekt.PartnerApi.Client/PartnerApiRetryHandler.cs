using System.Net;
using Chekt.PartnerApi.Client.Http;

namespace Chekt.PartnerApi.Client;

/// <summary>
/// Retries a request that failed for a passing reason: a connection failure
/// (<see cref="HttpRequestException"/>), <c>429 Too Many Requests</c> (waiting at least its
/// <c>Retry-After</c>), <c>502</c>, <c>503</c> or <c>504</c>, and a <c>409</c> with <c>Retry-After</c> (the
/// first request with the same <c>Idempotency-Key</c> is still running) — with exponential backoff and jitter,
/// up to <see cref="RetryOptions.MaxAttempts"/> attempts. Every other answer, success or error, is returned
/// at once. A <c>POST</c> without an <c>Idempotency-Key</c> gets one before its first attempt, so
/// that a retry of a request the server did receive is replayed rather than run twice.
/// </summary>
/// <remarks>Put it outside <see cref="PartnerApiAuthenticationHandler"/>, so that every attempt carries a valid token.</remarks>
public sealed class PartnerApiRetryHandler : DelegatingHandler
{
    private readonly RetryOptions _options;

    /// <summary>Creates the handler.</summary>
    /// <param name="options">The retry rules; <see langword="null"/> for the defaults. They are copied.</param>
    public PartnerApiRetryHandler(RetryOptions? options = null) => _options = (options ?? new RetryOptions()).Validated();

    /// <summary>Creates the handler in front of <paramref name="innerHandler"/>.</summary>
    /// <param name="options">The retry rules; <see langword="null"/> for the defaults. They are copied.</param>
    /// <param name="innerHandler">The handler that sends each attempt.</param>
    public PartnerApiRetryHandler(RetryOptions? options, HttpMessageHandler innerHandler)
        : this(options) => InnerHandler = innerHandler;

    /// <inheritdoc />
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Method == HttpMethod.Post && !request.Headers.Contains(PartnerApiHeaders.IdempotencyKey))
        {
            request.Headers.TryAddWithoutValidation(PartnerApiHeaders.IdempotencyKey, Guid.NewGuid().ToString());
        }

        for (var attempt = 1; ; attempt++)
        {
            var isLast = attempt >= _options.MaxAttempts;
            TimeSpan? retryAfter = null;
            try
            {
                var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
                if (isLast || !IsRetryable(response))
                {
                    return response;
                }

                retryAfter = RetryAfterHeader.Read(response, _options.TimeProvider);
                if (retryAfter > _options.MaxRetryAfter)
                {
                    return response; // the server wants a longer pause than the caller allows
                }

                response.Dispose();
            }
            catch (HttpRequestException) when (!isLast && !cancellationToken.IsCancellationRequested)
            {
                // Note: the request may or may not have reached the server; its Idempotency-Key (on POST)
                // makes the retry safe either way.
            }
            catch (PartnerApiException exception) when (!isLast && IsTransient(exception.StatusCode) && !(exception.RetryAfter > _options.MaxRetryAfter))
            {
                retryAfter = exception.RetryAfter; // the token endpoint was busy
            }

            var wait = Backoff(attempt);
            if (retryAfter > wait)
            {
                wait = retryAfter.Value;
            }

            await Task.Delay(wait, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    // Note: a 409 is final (the key was used for another request, or the resource exists), except the one the
    // server marks with Retry-After: the first request with this Idempotency-Key is still running, and a retry
    // after it gets that request's answer.
    private static bool IsRetryable(HttpResponseMessage response) =>
        IsTransient(response.StatusCode)
        || (response.StatusCode == HttpStatusCode.Conflict && response.Headers.RetryAfter is not null);

    internal static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.TooManyRequests or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    // "Equal jitter": half the exponential delay for sure, the other half at random, so that many
    // clients failing together do not retry in step.
    private TimeSpan Backoff(int attempt)
    {
        var exponential = _options.InitialDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 30));
        var capped = Math.Min(exponential, _options.MaxDelay.TotalMilliseconds);
#pragma warning disable CA5394 // jitter needs no cryptographic randomness
        return TimeSpan.FromMilliseconds((capped / 2) + (Random.Shared.NextDouble() * capped / 2));
#pragma warning restore CA5394
    }
}
