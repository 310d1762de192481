using Chekt.PartnerApi.Data;

namespace Chekt.PartnerApi.Tests.Data;

/// <summary>A value per SQL text is worked out once while the cache has room, and every call still gets the right value beyond it.</summary>
public sealed class SqlTextCacheTests
{
    [Fact]
    public void AValueIsMadeOncePerTextUntilTheLimitAndOnEveryCallBeyondIt()
    {
        var made = new Dictionary<string, int>(StringComparer.Ordinal);
        var cache = new SqlTextCache<string>(sql =>
        {
            made[sql] = made.GetValueOrDefault(sql) + 1;
            return $"[{sql}]";
        }, maxTexts: 2);

        foreach (var round in Enumerable.Range(0, 3))
        {
            foreach (var sql in new[] { "SELECT 1", "SELECT 2", "SELECT 3" })
            {
                Assert.Equal($"[{sql}]", cache.For(sql));
            }
        }

        // The first two texts were remembered; the third, past the limit, was worked out on each of the three rounds.
        Assert.Equal(1, made["SELECT 1"]);
        Assert.Equal(1, made["SELECT 2"]);
        Assert.Equal(3, made["SELECT 3"]);
    }
}
