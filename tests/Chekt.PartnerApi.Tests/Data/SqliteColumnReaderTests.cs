using Chekt.PartnerApi.Data;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Chekt.PartnerApi.Tests.Data;

/// <summary>
/// The pool's readers read integers, text and nulls straight from SQLite; every answer, conversion and
/// exception must be the one Microsoft.Data.Sqlite's own reader gives for the same row.
/// </summary>
public sealed class SqliteColumnReaderTests : IDisposable
{
    private const string Query = "SELECT id, number, text, missing, real, digits, empty, blob FROM samples ORDER BY id";

    private readonly string _directory = Directory.CreateTempSubdirectory("chekt-columns-").FullName;

    [Fact]
    public async Task EveryGetterAnswersAsMicrosoftDataSqliteDoes()
    {
        var connectionString = new SqliteConnectionStringBuilder { DataSource = Path.Combine(_directory, "columns.db"), Pooling = false }.ConnectionString;
        using var pool = new SqliteSessionPool(connectionString, "SELECT 1;", groupCommit: false);
        await using (var setup = pool.Rent())
        {
            await setup.ExecuteAsync("CREATE TABLE samples (id INTEGER PRIMARY KEY, number INTEGER, text TEXT, missing TEXT, real REAL, digits TEXT, empty TEXT, blob BLOB)");
            await setup.ExecuteAsync("""
                INSERT INTO samples VALUES
                  (1, 9007199254740993, 'plain', NULL, 2.5, '123', '', x'0102'),
                  (2, -1, '안녕 👋 שלום', NULL, -0.5, '-7', '', x''),
                  (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
                  (4, 12, '42', 'x', 1e300, 'not a number', '', x'ff')
                """);
        }

        using var reference = new SqliteConnection(connectionString);
        reference.Open();
        using var expected = new SqliteCommand(Query, reference).ExecuteReader();
        await using var connection = pool.Rent();
        await using var command = connection.CreateCommand();
        command.CommandText = Query;
        await using var actual = await command.ExecuteReaderAsync();
        Assert.IsType<SqliteColumnReader>(actual);
        Assert.True(SqliteNative.Available, "the bundled SQLite library is reachable, so reads must take the direct path");

        // Before the first row, both refuse alike.
        AssertSame(() => expected.GetInt64(0), () => actual.GetInt64(0));
        AssertSame(() => expected.GetString(2), () => actual.GetString(2));
        var rows = 0;
        while (expected.Read())
        {
            Assert.True(await actual.ReadAsync());
            rows++;
            for (var ordinal = -1; ordinal <= expected.FieldCount; ordinal++)
            {
                var column = ordinal;
                AssertSame(() => expected.IsDBNull(column), () => actual.IsDBNull(column));
                AssertSame(() => expected.GetInt64(column), () => actual.GetInt64(column));
                AssertSame(() => expected.GetString(column), () => actual.GetString(column));
                AssertSame(() => expected.GetValue(column), () => actual.GetValue(column));
            }
        }

        Assert.Equal(4, rows);
        Assert.False(await actual.ReadAsync());
        AssertSame(() => expected.GetInt64(0), () => actual.GetInt64(0)); // past the last row
        AssertSame(() => expected.IsDBNull(0), () => actual.IsDBNull(0));
    }

    /// <summary>Both give the same value, or both fail with the same exception type.</summary>
    internal static void AssertSame<T>(Func<T> expected, Func<T> actual)
    {
        T? expectedValue = default;
        var expectedError = Record.Exception(() => expectedValue = expected());
        T? actualValue = default;
        var actualError = Record.Exception(() => actualValue = actual());
        Assert.Equal(expectedError?.GetType(), actualError?.GetType());
        Assert.Equal(expectedValue, actualValue);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
