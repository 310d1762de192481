using System.Data.Common;
using Dapper;

namespace Chekt.PartnerApi.Data;

/// <summary>
/// Rows read with the row type's own typed reader (columns by position) instead of Dapper's mapping,
/// which reads every value as an object: on SQLite that is one native call more per value, and the hot
/// reads of the API read dozens of values per request. Dapper still binds the parameters.
/// </summary>
internal static class TypedRows
{
    /// <summary>The first row the command returns, or null when it returns none.</summary>
    public static async Task<T?> QueryFirstRowAsync<T>(this DbConnection connection, CommandDefinition command, Func<DbDataReader, T> read)
        where T : class
    {
        await using var reader = await connection.ExecuteReaderAsync(command);
        return await reader.ReadAsync(command.CancellationToken) ? read(reader) : null;
    }
}
