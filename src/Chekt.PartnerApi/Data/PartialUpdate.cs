namespace Chekt.PartnerApi.Data;

/// <summary>SQL for partial updates: only the columns present in the request change, and the row version moves on when one of them does.</summary>
public static class PartialUpdate
{
    /// <summary>
    /// <c>a = @a, b = @b, version = version + 1, updated_at = @now</c>, the last two only when <c>a</c> or <c>b</c> differs
    /// from its new value; parameters are named after the columns.
    /// </summary>
    /// <remarks>
    /// Note: an update that changes nothing (<c>{}</c>, or the values the row already holds) keeps the row's version, so
    /// its ETag: another client's <c>If-Match</c> stays valid. Both databases evaluate every expression of a SET against
    /// the row as it was, and <c>IS DISTINCT FROM</c> compares NULLs as values on both.
    /// </remarks>
    public static string SetClause(IEnumerable<string> columns)
    {
        var present = columns.ToList();
        if (present.Count == 0)
        {
            return "version = version";
        }

        var changed = string.Join(" OR ", present.Select(column => $"{column} IS DISTINCT FROM @{column}"));
        return string.Join(", ", present.Select(column => $"{column} = @{column}")
            .Append($"version = CASE WHEN {changed} THEN version + 1 ELSE version END")
            .Append($"updated_at = CASE WHEN {changed} THEN @now ELSE updated_at END"));
    }
}
