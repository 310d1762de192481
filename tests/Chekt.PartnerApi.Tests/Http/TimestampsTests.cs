using System.Globalization;
using Chekt.PartnerApi.Http;

namespace Chekt.PartnerApi.Tests.Http;

/// <summary>Spec §7: every time is UTC ISO 8601 with milliseconds.</summary>
public sealed class TimestampsTests
{
    [Theory]
    [InlineData(0L, "1970-01-01T00:00:00.000Z")]
    [InlineData(1_711_542_896_000L, "2024-03-27T12:34:56.000Z")]
    [InlineData(1_709_251_199_123L, "2024-02-29T23:59:59.123Z")]
    [InlineData(-1L, "1969-12-31T23:59:59.999Z")]
    [InlineData(-62_135_596_800_000L, "0001-01-01T00:00:00.000Z")]
    [InlineData(253_402_300_799_999L, "9999-12-31T23:59:59.999Z")]
    public void FormatsWithMillisecondsInUtc(long unixMilliseconds, string expected) =>
        Assert.Equal(expected, Timestamps.Format(unixMilliseconds));

    [Fact]
    public void AgreesWithTheSpelledOutPatternAcrossTheWholeRange()
    {
        var random = new Random(20261130);
        Span<byte> utf8 = stackalloc byte[Timestamps.Utf8Length];
        for (var i = 0; i < 100_000; i++)
        {
            var unixMilliseconds = random.NextInt64(-62_135_596_800_000L, 253_402_300_800_000L);
            var expected = DateTimeOffset.FromUnixTimeMilliseconds(unixMilliseconds)
                .ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
            Assert.Equal(expected, Timestamps.Format(unixMilliseconds));
            Timestamps.FormatUtf8(unixMilliseconds, utf8);
            Assert.Equal(expected, System.Text.Encoding.UTF8.GetString(utf8));
        }
    }
}
