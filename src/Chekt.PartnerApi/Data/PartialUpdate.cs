namespace Chekt.PartnerApi.Data;

/// <summary>SQL for partial updates: only the columns present in the request change, and the row version moves on.</summary>
public static class PartialUpdate
{
    /// <summary><c>a = @a, b = @b, version = version + 1, updated_at = @now</c>; parameters are named after the columns.</summary>
    public static string SetClause(IEnumerable<string> columns) =>
        string.Join(", ", columns.Select(column => $"{column} = @{column}").Append("version = version + 1").Append("updated_at = @now"));
}
