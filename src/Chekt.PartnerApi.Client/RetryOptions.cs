namespace Chekt.PartnerApi.Client;

/// <summary>
/// When and how often <see cref="PartnerApiRetryHandler"/> retries: connection failures
/// (<see cref="HttpRequestException"/>), <c>429</c> (after its <c>Retry-After</c>) and
/// <c>502</c>/<c>503</c>/<c>504</c>, and a <c>409</c> that carries <c>Retry-After</c> (a retry that found the
/// first request with its <c>Idempotency-Key</c> still running), with exponential backoff and jitter. Other
/// statuses are never retried.
/// </summary>
public sealed class RetryOptions
{
    /// <summary>Attempts in all, the first one included (default 4; <c>1</c> turns retries off).</summary>
    public int MaxAttempts { get; set; } = 4;

    /// <summary>The backoff before the first retry; it doubles for each further retry (default 0.5 s).</summary>
    public TimeSpan InitialDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest backoff between two attempts (default 10 s).</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The longest <c>Retry-After</c> the handler waits for (default 60 s); when the server asks for
    /// more, the answer is returned (and becomes a <see cref="PartnerApiException"/>) instead.
    /// </summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The clock the waits run on (tests may pass their own).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    internal RetryOptions Validated()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxAttempts, 1, nameof(MaxAttempts));
        ArgumentOutOfRangeException.ThrowIfLessThan(InitialDelay, TimeSpan.Zero, nameof(InitialDelay));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxDelay, TimeSpan.Zero, nameof(MaxDelay));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRetryAfter, TimeSpan.Zero, nameof(MaxRetryAfter));
        ArgumentNullException.ThrowIfNull(TimeProvider);
        return new RetryOptions
        {
            MaxAttempts = MaxAttempts, InitialDelay = InitialDelay, MaxDelay = MaxDelay, MaxRetryAfter = MaxRetryAfter, TimeProvider = TimeProvider,
        };
    }
}
