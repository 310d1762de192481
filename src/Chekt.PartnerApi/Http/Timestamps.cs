using System.Globalization;

namespace Chekt.PartnerApi.Http;

/// <summary>Spec §7: UTC ISO 8601 with milliseconds, <c>2024-03-27T12:34:56.000Z</c>.</summary>
public static class Timestamps
{
    public static string Format(long unixMilliseconds)
    {
        // The round-trip format ("O") has a fast path that a custom pattern lacks; a time in whole
        // milliseconds has zeros in its last four fraction digits, so they are cut: ".0000000Z" -> ".000Z".
        Span<char> roundTrip = stackalloc char[28];
        var utc = DateTimeOffset.FromUnixTimeMilliseconds(unixMilliseconds).UtcDateTime;
        if (!utc.TryFormat(roundTrip, out var written, "O", CultureInfo.InvariantCulture) || written != 28)
        {
            throw new InvalidOperationException($"Unexpected round-trip format of {unixMilliseconds}.");
        }

        return string.Concat(roundTrip[..23], "Z");
    }
}
