using System.Collections.Concurrent;

namespace Chekt.PartnerApi.Data;

/// <summary>
/// A value worked out once per SQL text. The API's statements are a few hundred texts; statements built from their
/// input are bounded too (a partial update's columns), but a text beyond the limit is simply not remembered: its
/// value is worked out on every call.
/// </summary>
internal sealed class SqlTextCache<T>(Func<string, T> make, int maxTexts = 4096)
{
    private readonly ConcurrentDictionary<string, T> _known = new(StringComparer.Ordinal);

    public T For(string sql)
    {
        if (_known.TryGetValue(sql, out var known))
        {
            return known;
        }

        var made = make(sql);
        if (_known.Count < maxTexts)
        {
            _known.TryAdd(sql, made);
        }

        return made;
    }
}
