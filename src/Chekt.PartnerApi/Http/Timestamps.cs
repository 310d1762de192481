using System.Globalization;

namespace Chekt.PartnerApi.Http;

/// <summary>Spec §7: UTC ISO 8601 with milliseconds, <c>2024-03-27T12:34:56.000Z</c>.</summary>
public static class Timestamps
{
    public static string Format(long unixMilliseconds)
    {
        Span<byte> utf8 = stackalloc byte[Utf8Length];
        FormatUtf8(unixMilliseconds, utf8);
        return System.Text.Encoding.ASCII.GetString(utf8);
    }

    /// <summary>The length of every timestamp <see cref="FormatUtf8"/> writes.</summary>
    public const int Utf8Length = 24;

    /// <summary><see cref="Format"/> as UTF-8, for writers that take bytes: <see cref="Utf8Length"/> bytes at the start of <paramref name="destination"/>.</summary>
    public static void FormatUtf8(long unixMilliseconds, Span<byte> destination)
    {
        // The round-trip format ("O") has a fast path that a custom pattern lacks; a time in whole
        // milliseconds has zeros in its last four fraction digits, so they are cut: ".0000000Z" -> ".000Z".
        Span<byte> roundTrip = stackalloc byte[28];
        var utc = DateTimeOffset.FromUnixTimeMilliseconds(unixMilliseconds).UtcDateTime;
        if (!utc.TryFormat(roundTrip, out var written, "O", CultureInfo.InvariantCulture) || written != 28)
        {
            throw new InvalidOperationException($"Unexpected round-trip format of {unixMilliseconds}.");
        }

        roundTrip[..23].CopyTo(destination);
        destination[23] = (byte)'Z';
    }
}
