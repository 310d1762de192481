using Chekt.PartnerApi.Data;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Chekt.PartnerApi.Tests.Data;

/// <summary>
/// SQLite sessions stay open and keep their prepared statements between leases: reuse must never
/// show stale data, leak a transaction or keep a broken statement.
/// </summary>
public sealed class SqliteSessionPoolTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("chekt-sessions-").FullName;

    private SqliteSessionPool NewPool()
    {
        var pool = new SqliteSessionPool(
            new SqliteConnectionStringBuilder { DataSource = Path.Combine(_directory, "pool.db"), Pooling = false }.ConnectionString,
            "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;",
            groupCommit: false);
        using var setup = pool.Rent();
        setup.Execute("PRAGMA journal_mode = WAL");
        setup.Execute("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)");
        setup.Execute("INSERT OR IGNORE INTO items (id, name) VALUES (1, 'one'), (2, 'two')");
        return pool;
    }

    [Fact]
    public void ParameterNamesAreReadOffTheSqlAsWritten()
    {
        var names = SqliteSession.ParameterNamesOf(
            "SELECT * FROM t WHERE a = @a AND b = :b AND c = $c_1 AND mail = 'x@example.com' AND d IN (@d, :d) LIMIT CAST(@fetch AS INTEGER)");

        Assert.Equal(
            new Dictionary<string, string> { ["a"] = "@a", ["b"] = ":b", ["c_1"] = "$c_1", ["fetch"] = "@fetch" },
            names);
    }

    [Fact]
    public async Task ParametersNamedWithoutTheirPrefixBindWhateverPrefixTheSqlUses()
    {
        using var pool = NewPool();
        await using var connection = pool.Rent();

        Assert.Equal("two", await connection.QuerySingleAsync<string>("SELECT name FROM items WHERE id = :id", new { id = 2 }));
        Assert.Equal("one", await connection.QuerySingleAsync<string>("SELECT name FROM items WHERE id = $id", new { id = 1 }));
        Assert.Equal("two", await connection.QuerySingleAsync<string>("SELECT name FROM items WHERE id = @id AND name <> 'a@id'", new { id = 2 }));
        // A name written with two prefixes stays Microsoft.Data.Sqlite's to refuse.
        await Assert.ThrowsAsync<InvalidOperationException>(() => connection.QueryAsync<string>("SELECT name FROM items WHERE id = @id OR id = :id", new { id = 1 }));
    }

    [Fact]
    public async Task AKeptStatementSeesWritesMadeOnOtherSessionsSinceItLastRan()
    {
        using var pool = NewPool();
        const string read = "SELECT name FROM items WHERE id >= @id ORDER BY id";

        // Two sessions at once; each reads only the first row of a two-row result and goes back to the pool.
        await using (var first = pool.Rent())
        await using (var second = pool.Rent())
        {
            Assert.Equal("one", await first.QueryFirstAsync<string>(read, new { id = 1 }));
            Assert.Equal("one", await second.QueryFirstAsync<string>(read, new { id = 1 }));
        }

        await using (var writer = pool.Rent())
        {
            await writer.ExecuteAsync("UPDATE items SET name = 'uno' WHERE id = 1");
        }

        await using var again1 = pool.Rent();
        await using var again2 = pool.Rent();
        Assert.Equal("uno", await again1.QueryFirstAsync<string>(read, new { id = 1 }));
        Assert.Equal("uno", await again2.QueryFirstAsync<string>(read, new { id = 1 }));
    }

    [Fact]
    public async Task ASessionReturnedInsideATransactionIsRolledBack()
    {
        using var pool = NewPool();
        await using (var connection = pool.Rent())
        {
            var transaction = await connection.BeginTransactionAsync();
            await connection.ExecuteAsync("INSERT INTO items (id, name) VALUES (3, 'three')", transaction: transaction);
        }

        await using var check = pool.Rent();
        Assert.Equal(0, await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM items WHERE id = 3"));
        await check.ExecuteAsync("INSERT INTO items (id, name) VALUES (4, 'four')"); // no transaction left pending
        Assert.Equal(1, await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM items WHERE id = 4"));
    }

    [Fact]
    public async Task AFailedStatementIsDroppedAndTheSameTextRunsAgain()
    {
        using var pool = NewPool();
        const string insert = "INSERT INTO items (name) VALUES (@name)";
        await using var connection = pool.Rent();
        await Assert.ThrowsAsync<SqliteException>(() => connection.ExecuteAsync(insert, new { name = "one" }));
        Assert.Equal(1, await connection.ExecuteAsync(insert, new { name = "five" }));
        await Assert.ThrowsAsync<SqliteException>(() => connection.ExecuteAsync(insert, new { name = "five" }));
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM items WHERE name = 'five'"));
    }

    [Fact]
    public async Task AStatementCancelledBeforeItRunsChangesNothingAndTheSessionGoesOn()
    {
        using var pool = NewPool();
        await using var connection = pool.Rent();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        // The read, the write and the scalar each answer with a cancelled task, before anything is bound or run.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connection.QueryAsync<string>(
            new CommandDefinition("SELECT name FROM items WHERE id = @id", new { id = 1 }, cancellationToken: cancelled.Token)));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connection.ExecuteAsync(
            new CommandDefinition("INSERT INTO items (name) VALUES (@name)", new { name = "six" }, cancellationToken: cancelled.Token)));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connection.ExecuteScalarAsync<long>(
            new CommandDefinition("SELECT COUNT(*) FROM items", cancellationToken: cancelled.Token)));

        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM items WHERE name = 'six'"));
        Assert.Equal("one", await connection.QuerySingleAsync<string>("SELECT name FROM items WHERE id = @id", new { id = 1 }));
    }

    [Fact]
    public async Task AReadThatCannotBeBoundIsRefusedAndTheSameTextRunsAgain()
    {
        using var pool = NewPool();
        await using var connection = pool.Rent();
        const string read = "SELECT name FROM items WHERE id = @id";

        // No value for @id: the statement is refused when it is bound, and its kept statement is not left half-bound.
        await Assert.ThrowsAsync<InvalidOperationException>(() => connection.QueryAsync<string>(read));
        Assert.Equal("two", await connection.QuerySingleAsync<string>(read, new { id = 2 }));
    }

    [Fact]
    public async Task TheSameTextCanRunWhileItsReaderIsStillOpen()
    {
        using var pool = NewPool();
        const string read = "SELECT name, id FROM items WHERE id >= @id ORDER BY id";
        await using var connection = pool.Rent();
        var names = new List<string>();
        await using (var outer = await connection.ExecuteReaderAsync(read, new { id = 1 }))
        {
            while (await outer.ReadAsync())
            {
                names.Add(await connection.QuerySingleAsync<string>("SELECT name FROM items WHERE id = @id", new { id = outer.GetInt64(1) }));
                names.Add(await connection.QueryFirstAsync<string>(read, new { id = outer.GetInt64(1) }));
            }
        }

        Assert.Equal(["one", "one", "two", "two"], names);
    }

    [Fact]
    public async Task AReturnedLeaseCannotBeUsedAgain()
    {
        using var pool = NewPool();
        var connection = pool.Rent();
        await connection.DisposeAsync();
        Assert.Equal(System.Data.ConnectionState.Closed, connection.State);
        Assert.Throws<ObjectDisposedException>(() => connection.Execute("SELECT 1"));
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
