using System.Data.Common;
using System.Diagnostics;
using System.Text;
using Chekt.PartnerApi.Data;
using Dapper;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Chekt.PartnerApi.Tests.Data;

/// <summary>
/// Reads with integer arguments run straight on a session's own prepared statement (<see cref="SqliteStatementReader"/>):
/// they must answer what Microsoft.Data.Sqlite answers, end their read transaction when closed, and leave the session
/// usable after every kind of failure.
/// </summary>
public sealed class SqliteStatementReaderTests : IDisposable
{
    private const string Samples = "SELECT id, number, text, missing, real, blob FROM samples WHERE id >= @from AND id <= @to ORDER BY id";

    private readonly string _directory = Directory.CreateTempSubdirectory("chekt-direct-").FullName;

    private string ConnectionString(string file = "direct.db", int defaultTimeoutSeconds = 30) =>
        new SqliteConnectionStringBuilder { DataSource = Path.Combine(_directory, file), Pooling = false, DefaultTimeout = defaultTimeoutSeconds }.ConnectionString;

    private SqliteSessionPool NewPool(string journalMode = "WAL", int busyTimeoutMilliseconds = 5000, int defaultTimeoutSeconds = 30)
    {
        var pool = new SqliteSessionPool(ConnectionString(defaultTimeoutSeconds: defaultTimeoutSeconds),
            $"PRAGMA busy_timeout = {busyTimeoutMilliseconds};", groupCommit: false);
        using var setup = pool.Rent();
        setup.Execute($"PRAGMA journal_mode = {journalMode}");
        setup.Execute("CREATE TABLE IF NOT EXISTS samples (id INTEGER PRIMARY KEY, number INTEGER, text TEXT, missing TEXT, real REAL, blob BLOB)");
        setup.Execute("""
            INSERT OR IGNORE INTO samples VALUES
              (1, 9007199254740993, 'plain', NULL, 2.5, x'0102'),
              (2, -9223372036854775808, '안녕 👋 שלום "q" ''s''', NULL, -0.5, x''),
              (3, NULL, NULL, NULL, NULL, NULL),
              (4, 12, '', 'x', 1e300, x'ff')
            """);
        return pool;
    }

    private static IntegerArguments Range(long from, long to)
    {
        var arguments = new IntegerArguments();
        arguments.Add("from", from);
        arguments.Add("to", to);
        return arguments;
    }

    /// <summary>Every row of the read, each value as <see cref="DbDataReader.GetValue"/> gives it.</summary>
    private static async Task<List<object[]>> RowsAsync(DbConnection connection, string sql, IntegerArguments arguments, CancellationToken cancellationToken = default)
    {
        Assert.True(connection.TryReadDirect(sql, arguments, cancellationToken, out var reader));
        await using (reader)
        {
            var rows = new List<object[]>();
            while (await reader.ReadAsync(cancellationToken))
            {
                var values = new object[reader.FieldCount];
                reader.GetValues(values);
                rows.Add(values);
            }

            return rows;
        }
    }

    [Fact]
    public async Task EveryValueReadsAsMicrosoftDataSqliteReadsIt()
    {
        using var pool = NewPool();
        Assert.True(SqliteNative.Available, "the bundled SQLite library is reachable, so these reads must run straight on SQLite");
        using var reference = new SqliteConnection(ConnectionString());
        reference.Open();
        using var command = new SqliteCommand(Samples, reference);
        command.Parameters.AddWithValue("@from", 1);
        command.Parameters.AddWithValue("@to", 4);
        using var expected = command.ExecuteReader();

        await using var connection = pool.Rent();
        Assert.True(connection.TryReadDirect(Samples, Range(1, 4), CancellationToken.None, out var direct));
        await using (direct)
        {
            DbDataReader actual = direct;
            Assert.Equal(expected.FieldCount, actual.FieldCount);
            Assert.True(actual.HasRows);
            var count = 0;
            while (expected.Read())
            {
                Assert.True(await actual.ReadAsync());
                count++;
                for (var ordinal = 0; ordinal < expected.FieldCount; ordinal++)
                {
                    // Note: types first: once SQLite has converted a value (text read as a number, a blob as text), the
                    // type it reports for that value is undefined, for both readers.
                    Assert.Equal(expected.GetName(ordinal), actual.GetName(ordinal));
                    Assert.Equal(expected.IsDBNull(ordinal), actual.IsDBNull(ordinal));
                    if (expected.IsDBNull(ordinal))
                    {
                        Assert.Equal(DBNull.Value, actual.GetValue(ordinal));
                        Assert.Throws<InvalidOperationException>(() => actual.GetInt64(ordinal));
                        Assert.Throws<InvalidOperationException>(() => actual.GetString(ordinal));
                        continue;
                    }

                    Assert.Equal(expected.GetFieldType(ordinal), actual.GetFieldType(ordinal));
                    Assert.Equal(expected.GetValue(ordinal), actual.GetValue(ordinal));
                    var isText = actual.GetFieldType(ordinal) == typeof(string);
                    Assert.Equal(isText, ((IUtf8Columns)actual).TryGetUtf8(ordinal, out var utf8));
                    if (isText)
                    {
                        Assert.Equal(Encoding.UTF8.GetBytes(expected.GetString(ordinal)), utf8.ToArray());
                    }

                    Assert.Equal(expected.GetInt64(ordinal), actual.GetInt64(ordinal));
                    Assert.Equal(expected.GetDouble(ordinal), actual.GetDouble(ordinal));
                    Assert.Equal(expected.GetString(ordinal), actual.GetString(ordinal));
                    var column = ordinal;
                    SqliteColumnReaderTests.AssertSame(() => expected.GetInt32(column), () => actual.GetInt32(column));
                    SqliteColumnReaderTests.AssertSame(() => expected.GetInt16(column), () => actual.GetInt16(column));
                    SqliteColumnReaderTests.AssertSame(() => expected.GetByte(column), () => actual.GetByte(column));
                    SqliteColumnReaderTests.AssertSame(() => expected.GetBoolean(column), () => actual.GetBoolean(column));
                    SqliteColumnReaderTests.AssertSame(() => expected.GetFloat(column), () => actual.GetFloat(column));

                    // Microsoft.Data.Sqlite's conversions from text, REAL and BLOB are refused, not imitated.
                    Assert.Throws<NotSupportedException>(() => actual.GetDecimal(column));
                    Assert.Throws<NotSupportedException>(() => actual.GetDateTime(column));
                    Assert.Throws<NotSupportedException>(() => actual.GetGuid(column));
                    Assert.Throws<NotSupportedException>(() => actual.GetChar(column));
                    Assert.Throws<NotSupportedException>(() => actual.GetBytes(column, 0, null, 0, 0));
                    Assert.Throws<NotSupportedException>(() => actual.GetChars(column, 0, null, 0, 0));
                    Assert.Throws<NotSupportedException>(() => actual.GetDataTypeName(column));
                }

                Assert.Equal(expected.GetOrdinal("TEXT"), actual.GetOrdinal("TEXT"));
                Assert.Throws<ArgumentOutOfRangeException>(() => actual.GetInt64(expected.FieldCount));
            }

            Assert.False(await actual.ReadAsync());
            Assert.Throws<InvalidOperationException>(() => actual.GetInt64(0)); // past the last row
            Assert.Equal(4, count);
        }

        Assert.True(direct.IsClosed);
        Assert.Throws<InvalidOperationException>(() => direct.Read());
    }

    [Fact]
    public async Task AKeptStatementRunsAgainWithNewArgumentsWithoutBeingPreparedAgain()
    {
        using var pool = NewPool();
        await using var connection = pool.Rent();

        Assert.Equal([1L, 2L], (await RowsAsync(connection, Samples, Range(1, 2))).Select(row => row[0]));
        Assert.Equal([3L, 4L], (await RowsAsync(connection, Samples, Range(3, 9))).Select(row => row[0]));
        Assert.Empty(await RowsAsync(connection, Samples, Range(5, 9)));
        Assert.Equal([2L], (await RowsAsync(connection, Samples, Range(2, 2))).Select(row => row[0]));

        var kept = Statements(((PooledSqliteConnection)connection).Session.Connection, Samples);
        Assert.Equal(4, Assert.Single(kept).Runs);
    }

    [Fact]
    public async Task AClosedReaderEndsItsReadTransactionEvenBeforeItsLastRow()
    {
        using var pool = NewPool();
        await using var connection = pool.Rent();
        await connection.ExecuteAsync("UPDATE samples SET text = 'changed' WHERE id = 4"); // something in the WAL to checkpoint

        // While a reader is open, SQLite's read transaction keeps a full checkpoint from finishing (the check can fail).
        var session = ((PooledSqliteConnection)connection).Session;
        var open = session.ReadDirect(Samples, Range(1, 4));
        Assert.True(await open.ReadAsync());
        Assert.Equal(1, CheckpointBusy());
        await open.DisposeAsync();
        Assert.Equal(0, CheckpointBusy());

        // A read that stops after its first row, as the access query does at a page's limit (a write first, so that the
        // WAL, emptied by the checkpoint, again holds something an open read transaction would hold back).
        await connection.ExecuteAsync("UPDATE samples SET text = 'changed twice' WHERE id = 4");
        Assert.True(connection.TryReadDirect(Samples, Range(1, 4), CancellationToken.None, out var firstOnly));
        await using (firstOnly)
        {
            Assert.True(await firstOnly.ReadAsync());
            Assert.Equal(1, firstOnly.GetInt64(0));
        }

        Assert.Equal(0, CheckpointBusy());

        // A reader left open is closed when its session goes back to the pool.
        await connection.ExecuteAsync("UPDATE samples SET text = 'changed again' WHERE id = 4");
        var leftOpen = ((PooledSqliteConnection)connection).Session.ReadDirect(Samples, Range(1, 4));
        Assert.True(leftOpen.Read());
        Assert.Equal(1, CheckpointBusy());
        await connection.DisposeAsync();
        Assert.True(leftOpen.IsClosed);
        Assert.Equal(0, CheckpointBusy());

        await using var again = pool.Rent();
        Assert.Equal("changed again", (await RowsAsync(again, Samples, Range(4, 4)))[0][2]);
    }

    [Fact]
    public async Task AStatementThatFailsWhileSteppingIsReportedAndTheSameTextRunsAgain()
    {
        using var pool = NewPool();
        await using var connection = pool.Rent();
        // abs() of the smallest integer overflows: row 2 fails while it is stepped to, after row 1 was read.
        const string absolute = "SELECT id, abs(number) FROM samples WHERE id >= @from AND id <= @to AND number IS NOT NULL ORDER BY id";

        var failure = await Assert.ThrowsAsync<SqliteException>(() => RowsAsync(connection, absolute, Range(1, 4)));
        Assert.Equal(raw.SQLITE_ERROR, failure.SqliteErrorCode);
        Assert.Contains("integer overflow", failure.Message, StringComparison.Ordinal);
        // The same failure on the first row, found when the read starts.
        await Assert.ThrowsAsync<SqliteException>(() => RowsAsync(connection, absolute, Range(2, 2)));

        Assert.Equal([4L], (await RowsAsync(connection, absolute, Range(3, 4))).Select(row => row[0]));
        Assert.Equal(9007199254740993L, (await RowsAsync(connection, absolute, Range(1, 1)))[0][1]);
        Assert.Equal(0, CheckpointBusy());
    }

    [Fact]
    public async Task MissingArgumentsAndTextsThatAreNotOneReadAreRefusedAndTheSessionGoesOn()
    {
        using var pool = NewPool();
        await using var connection = pool.Rent();
        var onlyFrom = new IntegerArguments();
        onlyFrom.Add("from", 1);

        var missing = await Assert.ThrowsAsync<InvalidOperationException>(() => RowsAsync(connection, Samples, onlyFrom));
        Assert.Contains("@to", missing.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidOperationException>(() => RowsAsync(connection, "SELECT 1; SELECT 2", onlyFrom));
        await Assert.ThrowsAsync<InvalidOperationException>(() => RowsAsync(connection, "SELECT ?", onlyFrom));
        var syntax = await Assert.ThrowsAsync<SqliteException>(() => RowsAsync(connection, "SELEC 1", onlyFrom));
        Assert.Equal(raw.SQLITE_ERROR, syntax.SqliteErrorCode);

        // Arguments the text does not use are ignored, as Microsoft.Data.Sqlite ignores unused parameters.
        var extra = Range(2, 3);
        extra.Add("unused", 7);
        Assert.Equal([2L, 3L], (await RowsAsync(connection, Samples, extra)).Select(row => row[0]));
        Assert.Equal(0, CheckpointBusy());
    }

    [Fact]
    public async Task ACancelledReadRunsNothing()
    {
        using var pool = NewPool();
        await using var connection = pool.Rent();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        const string write = "UPDATE samples SET text = 'written' WHERE id >= @from AND id <= @to RETURNING id";

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => RowsAsync(connection, write, Range(1, 4), cancelled.Token));

        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM samples WHERE text = 'written'"));
        Assert.Equal([1L], (await RowsAsync(connection, Samples, Range(1, 1))).Select(row => row[0]));
    }

    [Fact]
    public async Task ABusyDatabaseIsRetriedUntilTheCommandTimeoutThenReportedBusy()
    {
        // A rollback journal, where a writer's exclusive lock keeps readers out (WAL never does).
        using var pool = NewPool(journalMode: "DELETE", busyTimeoutMilliseconds: 50, defaultTimeoutSeconds: 1);
        await using var connection = pool.Rent();
        using var writer = new SqliteConnection(ConnectionString());
        writer.Open();

        writer.Execute("BEGIN EXCLUSIVE");
        var waited = Stopwatch.StartNew();
        var busy = await Assert.ThrowsAsync<SqliteException>(() => RowsAsync(connection, Samples, Range(1, 1)));
        Assert.Equal(raw.SQLITE_BUSY, busy.SqliteErrorCode);
        Assert.True(DbErrors.IsUnavailable(busy));
        Assert.InRange(waited.ElapsedMilliseconds, 900, 10_000);

        // The lock goes while the read retries: the read then answers.
        var read = Task.Run(() => RowsAsync(connection, Samples, Range(1, 1)));
        await Task.Delay(300);
        writer.Execute("COMMIT");
        Assert.Equal([1L], (await read).Select(row => row[0]));
    }

    [Fact]
    public async Task AReadInsideAnotherOfTheSameTextGetsAStatementOfItsOwn()
    {
        using var pool = NewPool();
        await using var connection = pool.Rent();

        var pairs = new List<(long, long)>();
        Assert.True(connection.TryReadDirect(Samples, Range(1, 2), CancellationToken.None, out var outer));
        await using (outer)
        {
            while (await outer.ReadAsync())
            {
                var id = outer.GetInt64(0);
                var inner = await RowsAsync(connection, Samples, Range(id + 2, id + 2));
                pairs.Add((id, (long)inner[0][0]));
            }
        }

        Assert.Equal([(1L, 3L), (2L, 4L)], pairs);
        // The inner reads' own statement was finalised when they closed; the kept one stays.
        Assert.Single(Statements(((PooledSqliteConnection)connection).Session.Connection, Samples));
        Assert.Equal([3L], (await RowsAsync(connection, Samples, Range(3, 3))).Select(row => row[0]));
    }

    /// <summary>The busy flag of a full checkpoint run from a connection of its own: 1 while a read transaction holds it back.</summary>
    private int CheckpointBusy()
    {
        using var checkpoint = new SqliteConnection(ConnectionString());
        checkpoint.Open();
        using var reader = new SqliteCommand("PRAGMA wal_checkpoint(TRUNCATE)", checkpoint).ExecuteReader();
        Assert.True(reader.Read());
        return reader.GetInt32(0);
    }

    private static List<(string Sql, int Runs)> Statements(SqliteConnection connection, string sql)
    {
        var found = new List<(string, int)>();
        for (var statement = raw.sqlite3_next_stmt(connection.Handle, null); statement is not null; statement = raw.sqlite3_next_stmt(connection.Handle, statement))
        {
            var text = raw.sqlite3_sql(statement).utf8_to_string();
            if (text == sql)
            {
                found.Add((text, raw.sqlite3_stmt_status(statement, 6 /* SQLITE_STMTSTATUS_RUN */, 0)));
            }
        }

        return found;
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
