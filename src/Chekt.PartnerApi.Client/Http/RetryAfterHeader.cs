namespace Chekt.PartnerApi.Client.Http;

internal static class RetryAfterHeader
{
    /// <summary>The wait a <c>Retry-After</c> header asks for (seconds or an HTTP date), never negative.</summary>
    public static TimeSpan? Read(HttpResponseMessage response, TimeProvider clock)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - clock.GetUtcNow();
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }
}
