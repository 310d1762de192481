using System.Globalization;

namespace Chekt.PartnerApi.Http;

/// <summary>Spec §7: UTC ISO 8601 with milliseconds, <c>2024-03-27T12:34:56.000Z</c>.</summary>
public static class Timestamps
{
    public static string Format(long unixMilliseconds) =>
        DateTimeOffset.FromUnixTimeMilliseconds(unixMilliseconds).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
