using System.Net;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;
using Dapper;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Chekt.PartnerApi.Tests.Data;

/// <summary>
/// Concurrent single-statement SQLite writes commit together. Each test holds SQLite's write lock from a
/// connection of its own, lets one write take the writer (which then waits for the lock), queues the
/// writes under test behind it in order and releases the lock: those writes then run as one batch.
/// </summary>
public sealed class SqliteGroupCommitTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("chekt-group-commit-").FullName;

    private string DatabasePath => Path.Combine(_directory, "group.db");

    [Fact]
    public async Task WritesQueuedWhileTheWriterWaitsCommitInOneTransaction()
    {
        using var pool = NewPool();
        var statementsBefore = pool.GroupCommit!.Statements;

        var writes = await RunAsOneBatchAsync(pool,
            [.. Enumerable.Range(1, 20).Select(n => Insert(pool, $"item-{n}"))]);

        Assert.All(writes, write => Assert.True(write.IsCompletedSuccessfully, write.Exception?.Message));
        Assert.Equal(21, pool.GroupCommit.Statements - statementsBefore); // the blocker and the 20
        Assert.Equal(Enumerable.Range(1, 20).Select(n => $"item-{n}").Order(StringComparer.Ordinal), await NamesAsync(pool));
    }

    [Fact]
    public async Task AStatementThatFailsFailsAloneAndTheRestOfItsBatchCommits()
    {
        using var pool = NewPool();

        var writes = await RunAsOneBatchAsync(pool,
            Insert(pool, "a"), Insert(pool, "a"), Insert(pool, "b"));

        Assert.True(writes[0].IsCompletedSuccessfully);
        var duplicate = Assert.IsType<SqliteException>(writes[1].Exception?.InnerException);
        Assert.Equal(19, duplicate.SqliteErrorCode); // SQLITE_CONSTRAINT: the caller sees SQLite's own error
        Assert.True(DbErrors.IsUniqueViolation(duplicate));
        Assert.True(writes[2].IsCompletedSuccessfully);
        Assert.Equal(["a", "b"], await NamesAsync(pool));
    }

    [Fact]
    public async Task WhenSQLiteRollsBackTheWholeTransactionTheEarlierWritesOfTheBatchFailToo()
    {
        using var pool = NewPool();
        await RefuseTwoByRollingBackTheWholeTransactionAsync(pool);

        var writes = await RunAsOneBatchAsync(pool,
            Insert(pool, "one"), Insert(pool, "two"), Insert(pool, "three"));

        // "one" ran and succeeded, but its transaction was rolled back by "two": its caller must not hear success.
        Assert.Contains("two is refused", Assert.IsType<SqliteException>(writes[0].Exception?.InnerException).Message);
        Assert.Contains("two is refused", Assert.IsType<SqliteException>(writes[1].Exception?.InnerException).Message);
        Assert.True(writes[2].IsCompletedSuccessfully, writes[2].Exception?.Message);
        Assert.Equal(["three"], await NamesAsync(pool));
    }

    [Fact]
    public async Task AWriteCancelledWhileQueuedIsNotApplied()
    {
        using var pool = NewPool();
        using var cancellation = new CancellationTokenSource();

        var writes = await RunAsOneBatchAsync(DatabasePath, pool.GroupCommit!, BlockerOn(pool),
            [Insert(pool, "kept"), Insert(pool, "dropped", cancellation.Token)],
            beforeRelease: cancellation.Cancel);

        Assert.True(writes[0].IsCompletedSuccessfully);
        Assert.True(writes[1].IsCanceled);
        Assert.Equal(["kept"], await NamesAsync(pool));
    }

    [Fact]
    public async Task WhenTheWriteLockStaysTakenPastTheBusyTimeoutTheBatchFailsAsBusyAndTheWriterRecovers()
    {
        using var pool = NewPool(busyTimeoutMilliseconds: 200);
        using var lockHolder = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ConnectionString);
        lockHolder.Open();
        lockHolder.Execute("BEGIN IMMEDIATE");

        var refused = await Assert.ThrowsAsync<SqliteException>(Insert(pool, "late"));
        Assert.Equal(5, refused.SqliteErrorCode); // SQLITE_BUSY
        Assert.True(DbErrors.IsUnavailable(refused)); // which the API answers as 503 database_unavailable
        lockHolder.Execute("ROLLBACK");

        await Insert(pool, "after")();
        Assert.Equal(["after"], await NamesAsync(pool));
    }

    [Fact]
    public async Task RowsCountsAndScalarsComeBackFromTheWriter()
    {
        using var pool = NewPool();
        await using var connection = pool.Rent();

        var inserted = await connection.QuerySingleAsync<(long Id, string Name)>("INSERT INTO items (name) VALUES ('x') RETURNING id, name");
        var id = await connection.ExecuteScalarAsync("INSERT INTO items (name) VALUES ('y') RETURNING id");
        var updated = await connection.ExecuteAsync("UPDATE items SET name = name || '!'");
        var deletedNothing = await connection.ExecuteAsync("DELETE FROM items WHERE id = -1");

        Assert.Equal("x", inserted.Name);
        Assert.Equal(inserted.Id + 1, Assert.IsType<long>(id));
        Assert.Equal(2, updated);
        Assert.Equal(0, deletedNothing);
        Assert.Equal(4, pool.GroupCommit!.Statements);
        Assert.Equal(["x!", "y!"], await NamesAsync(pool));
    }

    [Fact]
    public async Task ReadsAndWritesInsideATransactionDoNotJoinTheGroup()
    {
        using var pool = NewPool();
        var submittedBefore = pool.GroupCommit!.Submitted;
        await using (var connection = pool.Rent())
        {
            Assert.Equal(0L, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM items"));
            await using var transaction = await connection.BeginTransactionAsync();
            await connection.ExecuteAsync("INSERT INTO items (name) VALUES ('in-transaction')", transaction: transaction);
            Assert.Equal(1L, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM items", transaction: transaction));
            await transaction.RollbackAsync();
        }

        Assert.Equal(submittedBefore, pool.GroupCommit.Submitted);
        Assert.Empty(await NamesAsync(pool));
    }

    [Fact]
    public async Task ConcurrentCreatesOverHttpCommitTogetherAndADuplicateStillGetsItsConflict()
    {
        await using var world = await ApiWorld.StartAsync(DatabaseProvider.Sqlite);
        var site = await world.CreateSiteAsync("site-1");
        var contacts = $"{world.DealerPath}/sites/{site}/contacts";
        var db = world.App.Services.GetRequiredService<Db>();
        var groupCommit = db.SqliteSessions!.GroupCommit!;
        string[] externalIds = ["c-1", "c-2", "c-3", "c-2", "c-4"];

        var databasePath = new SqliteConnectionStringBuilder(world.App.Database.ConnectionString).DataSource;
        var creates = await RunAsOneBatchAsync(databasePath, groupCommit,
            async () =>
            {
                await using var connection = await db.OpenAsync();
                return await connection.ExecuteAsync("UPDATE contacts SET first_name = first_name WHERE id = -1");
            },
            [.. externalIds.Select(externalId => (Func<Task<HttpResponseMessage>>)(() => world.SendAsync(HttpMethod.Post, contacts,
                $$"""{"external_contact_id":"{{externalId}}","first_name":"Ann","last_name":"Lee"}""")))]);

        var responses = await Task.WhenAll(creates);
        Assert.Equal([HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.Conflict, HttpStatusCode.Created],
            responses.Select(response => response.StatusCode));
        var conflict = await responses[3].ReadErrorAsync(409, "conflict");
        Assert.Equal("external_contact_id", conflict.GetProperty("field").GetString());
        var listed = await world.OkAsync(HttpMethod.Get, contacts);
        Assert.Equal(["c-1", "c-2", "c-3", "c-4"], listed.EnumerateArray().Select(contact => contact.GetProperty("external_contact_id").GetString()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task TheSettingSwitchesGroupingOffAndWritesStillWork()
    {
        await using var world = await ApiWorld.StartAsync(DatabaseProvider.Sqlite,
            configure: builder => builder.UseSetting("Database:SqliteGroupCommit", "false"));
        Assert.Null(world.App.Services.GetRequiredService<Db>().SqliteSessions!.GroupCommit);

        await world.AssertContactCreateAndConflictAsync();
    }

    [Fact]
    public async Task ARequestTransactionRunsOnTheWriterAndCommitsWithTheWritesQueuedAroundIt()
    {
        using var pool = NewPool();
        var transactionsBefore = pool.GroupCommit!.Transactions;
        string[]? seenWhenCommitted = null;

        var writes = await RunAsOneBatchAsync(pool,
            Insert(pool, "a"),
            InTransaction(pool, async transaction =>
            {
                await InsertAsync(transaction, "b");
                // Inside the batch: the writes queued before it are visible, uncommitted.
                Assert.Equal(2L, await transaction.Connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM items", transaction: transaction.Transaction));
                await transaction.CommitAsync(CancellationToken.None);
                seenWhenCommitted = await NamesOnAConnectionOfItsOwnAsync();
            }),
            Insert(pool, "c"));

        Assert.All(writes, write => Assert.True(write.IsCompletedSuccessfully, write.Exception?.ToString()));
        Assert.Equal(1, pool.GroupCommit.Transactions - transactionsBefore);
        // The commit returned only once the batch had committed, with the write queued after the transaction.
        Assert.Equal(["a", "b", "c"], Assert.IsType<string[]>(seenWhenCommitted));
        Assert.Equal(["a", "b", "c"], await NamesAsync(pool));
    }

    [Fact]
    public async Task ARolledBackRequestTransactionUndoesItsOwnWritesAloneAndAFailedStatementInsideItLeavesItUsable()
    {
        using var pool = NewPool();

        var writes = await RunAsOneBatchAsync(pool,
            Insert(pool, "a"),
            InTransaction(pool, async transaction =>
            {
                await InsertAsync(transaction, "refused");
                await transaction.RollbackAsync();
            }),
            InTransaction(pool, async transaction =>
            {
                var duplicate = await Assert.ThrowsAsync<SqliteException>(() =>
                    InsertAsync(transaction, "a"));
                Assert.True(DbErrors.IsUniqueViolation(duplicate));
                await InsertAsync(transaction, "b");
                await transaction.CommitAsync(CancellationToken.None);
            }),
            InTransaction(pool, async transaction =>
            {
                await InsertAsync(transaction, "disposed");
                // Neither committed nor rolled back: disposing it hands the writer back without its writes.
            }),
            Insert(pool, "c"));

        Assert.All(writes, write => Assert.True(write.IsCompletedSuccessfully, write.Exception?.ToString()));
        Assert.Equal(["a", "b", "c"], await NamesAsync(pool));
    }

    [Fact]
    public async Task WhenSQLiteRollsBackTheWholeTransactionInsideARequestTransactionItAndTheEarlierWritesFail()
    {
        using var pool = NewPool();
        await RefuseTwoByRollingBackTheWholeTransactionAsync(pool);

        var writes = await RunAsOneBatchAsync(pool,
            Insert(pool, "one"),
            InTransaction(pool, async transaction =>
            {
                await Assert.ThrowsAsync<SqliteException>(() =>
                    InsertAsync(transaction, "two"));
                await transaction.CommitAsync(CancellationToken.None);
            }),
            Insert(pool, "three"));

        Assert.IsType<SqliteException>(writes[0].Exception?.InnerException);
        var refused = Assert.IsType<SqliteException>(writes[1].Exception?.InnerException);
        Assert.True(DbErrors.IsUnavailable(refused)); // 503: the commit the request asked for did not happen
        Assert.True(writes[2].IsCompletedSuccessfully, writes[2].Exception?.ToString());
        Assert.Equal(["three"], await NamesAsync(pool));
    }

    [Fact]
    public async Task ARequestTransactionCancelledWhileQueuedIsNotLentTheWriter()
    {
        using var pool = NewPool();
        using var cancellation = new CancellationTokenSource();
        var ran = false;

        var writes = await RunAsOneBatchAsync(DatabasePath, pool.GroupCommit!, BlockerOn(pool),
            [Insert(pool, "kept"), InTransaction(pool, _ => { ran = true; return Task.CompletedTask; }, cancellation.Token)],
            beforeRelease: cancellation.Cancel);

        Assert.True(writes[0].IsCompletedSuccessfully);
        Assert.True(writes[1].IsCanceled);
        Assert.False(ran);
        Assert.Equal(["kept"], await NamesAsync(pool));
    }

    [Fact]
    public async Task WhenTheWriteLockStaysTakenPastTheBusyTimeoutARequestTransactionFailsAsBusy()
    {
        using var pool = NewPool(busyTimeoutMilliseconds: 200);
        using var lockHolder = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ConnectionString);
        lockHolder.Open();
        lockHolder.Execute("BEGIN IMMEDIATE");

        var refused = await Assert.ThrowsAsync<SqliteException>(() => pool.GroupCommit!.BeginTransactionAsync(CancellationToken.None));
        Assert.True(DbErrors.IsUnavailable(refused));
        lockHolder.Execute("ROLLBACK");

        await InTransaction(pool, async transaction =>
        {
            await InsertAsync(transaction, "after");
            await transaction.CommitAsync(CancellationToken.None);
        })();
        Assert.Equal(["after"], await NamesAsync(pool));
    }

    [Fact]
    public async Task WhileARequestTransactionIsEnlistedAWriteThatWouldWaitForItIsRefused()
    {
        using var pool = NewPool();
        await using var transaction = RequestTransaction.Over(await pool.GroupCommit!.BeginTransactionAsync(CancellationToken.None));
        await using var outside = pool.Rent();
        Db.Enlist(transaction);
        try
        {
            // Queued on the writer, this write would wait for the transaction that holds it: refused at once instead.
            await Assert.ThrowsAsync<InvalidOperationException>(() => outside.ExecuteAsync("INSERT INTO items (name) VALUES ('outside')"));
            Assert.Empty(await outside.QueryAsync<string>("SELECT name FROM items")); // reads do not queue
        }
        finally
        {
            Db.Enlist(null);
        }

        await InsertAsync(transaction, "inside");
        await transaction.CommitAsync(CancellationToken.None);
        Assert.Equal(["inside"], await NamesAsync(pool));
    }

    [Fact]
    public async Task WhileARequestTransactionIsEnlistedASecondOneOrANestedOneIsRefused()
    {
        await using var world = await ApiWorld.StartAsync(DatabaseProvider.Sqlite);
        var db = world.App.Services.GetRequiredService<Db>();
        await using var transaction = await db.BeginRequestTransactionAsync();
        Db.Enlist(transaction);
        try
        {
            // Both would wait for the writer this transaction holds.
            await Assert.ThrowsAsync<InvalidOperationException>(() => db.BeginRequestTransactionAsync().WaitAsync(TimeSpan.FromSeconds(10)));
            await using var borrowed = await db.OpenAsync();
            await Assert.ThrowsAsync<NotSupportedException>(async () => await borrowed.BeginTransactionAsync());
            await Assert.ThrowsAsync<InvalidOperationException>(async () => await transaction.Connection.BeginTransactionAsync());
        }
        finally
        {
            Db.Enlist(null);
        }

        // The refusals left the transaction usable, and the writer goes on once it commits.
        await transaction.CommitAsync(CancellationToken.None);
        await using var after = await db.OpenAsync();
        Assert.Equal(0, await after.ExecuteAsync("UPDATE contacts SET first_name = first_name WHERE id = -1"));
    }

    [Fact]
    public async Task IdempotentCreatesOverHttpCommitInTheBatchAndARetryOfOneInTheSameBatchIsReplayed()
    {
        await using var world = await ApiWorld.StartAsync(DatabaseProvider.Sqlite);
        var site = await world.CreateSiteAsync("site-1");
        var contacts = $"{world.DealerPath}/sites/{site}/contacts";
        var db = world.App.Services.GetRequiredService<Db>();
        var groupCommit = db.SqliteSessions!.GroupCommit!;
        var transactionsBefore = groupCommit.Transactions;
        (string ExternalId, string? Key)[] sends = [("c-1", "key-1"), ("c-2", null), ("c-1", "key-1"), ("c-3", "key-3"), ("c-3", "key-other")];

        var databasePath = new SqliteConnectionStringBuilder(world.App.Database.ConnectionString).DataSource;
        var creates = await RunAsOneBatchAsync(databasePath, groupCommit,
            async () =>
            {
                await using var connection = await db.OpenAsync();
                return await connection.ExecuteAsync("UPDATE contacts SET first_name = first_name WHERE id = -1");
            },
            [.. sends.Select(send => (Func<Task<HttpResponseMessage>>)(() =>
            {
                var request = Seed.Authorized(HttpMethod.Post, contacts, world.Token,
                    $$"""{"external_contact_id":"{{send.ExternalId}}","first_name":"Ann","last_name":"Lee"}""");
                if (send.Key is not null)
                {
                    request.Headers.Add("Idempotency-Key", send.Key);
                }

                return world.App.Client.SendAsync(request);
            }))],
            queueMoreWork: true);

        var responses = await Task.WhenAll(creates);
        Assert.Equal([HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.Conflict],
            responses.Select(response => response.StatusCode));
        // The retry met the first's claim in the same batch, waited for the batch's commit and replayed its answer.
        Assert.True(responses[2].Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(await responses[0].Content.ReadAsStringAsync(), await responses[2].Content.ReadAsStringAsync());
        Assert.False(responses[0].Headers.Contains("Idempotent-Replayed"));
        await responses[4].ReadErrorAsync(409, "conflict");
        Assert.True(groupCommit.Transactions - transactionsBefore >= 4);
        var listed = await world.OkAsync(HttpMethod.Get, contacts);
        Assert.Equal(["c-1", "c-2", "c-3"], listed.EnumerateArray().Select(contact => contact.GetProperty("external_contact_id").GetString()).Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// Starts the blocker while another connection holds the write lock, waits until the writer has taken
    /// it, starts the writes one by one (each queued before the next starts), releases the lock and
    /// returns the writes once all have finished; asserts they ran as the writer's next batch.
    /// </summary>
    private static async Task<Task<T>[]> RunAsOneBatchAsync<T>(string databasePath, SqliteGroupCommit groupCommit, Func<Task<int>> blocker,
        Func<Task<T>>[] writes, Action? beforeRelease = null, bool queueMoreWork = false)
    {
        using var lockHolder = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = false }.ConnectionString);
        lockHolder.Open();
        lockHolder.Execute("BEGIN IMMEDIATE");

        var batchesBefore = groupCommit.Batches;
        var blocked = blocker();
        await WaitUntilAsync(() => groupCommit.Batches == batchesBefore + 1, "the writer takes the blocker");
        var started = new List<Task<T>>();
        foreach (var write in writes)
        {
            var submittedBefore = groupCommit.Submitted;
            started.Add(write());
            await WaitUntilAsync(() => groupCommit.Submitted == submittedBefore + 1, "the write is queued");
        }

        beforeRelease?.Invoke();
        lockHolder.Execute("COMMIT");
        await blocked;
        try
        {
            await Task.WhenAll(started);
        }
        catch (Exception)
        {
            // Each test looks at its writes one by one.
        }

        // All of the writes were queued while the writer held the blocker, so they ran as its next batch; writes
        // that queue more work (an idempotent refusal stores its answer afterwards) make later batches.
        if (queueMoreWork)
        {
            Assert.True(groupCommit.Batches >= batchesBefore + 2);
        }
        else
        {
            Assert.Equal(batchesBefore + 2, groupCommit.Batches);
        }

        return [.. started];
    }

    private Task<Task<int>[]> RunAsOneBatchAsync(SqliteSessionPool pool, params Func<Task<int>>[] writes) =>
        RunAsOneBatchAsync(DatabasePath, pool.GroupCommit!, BlockerOn(pool), writes);

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(4); // under SQLite's busy timeout, which would fail the writer's batch
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(5);
        }
    }

    private SqliteSessionPool NewPool(int busyTimeoutMilliseconds = 5000)
    {
        var pool = new SqliteSessionPool(
            new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ConnectionString,
            "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;",
            groupCommit: true, busyTimeoutMilliseconds);
        using var setup = pool.Rent();
        setup.Execute("PRAGMA journal_mode = WAL");
        setup.Execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)");
        setup.Execute("CREATE TABLE other (id INTEGER PRIMARY KEY)");
        return pool;
    }

    private static Func<Task<int>> BlockerOn(SqliteSessionPool pool) => async () =>
    {
        await using var connection = pool.Rent();
        return await connection.ExecuteAsync("INSERT INTO other DEFAULT VALUES");
    };

    private static Func<Task<int>> Insert(SqliteSessionPool pool, string name, CancellationToken cancellationToken = default) => async () =>
    {
        await using var connection = pool.Rent();
        return await connection.ExecuteAsync(new CommandDefinition("INSERT INTO items (name) VALUES (@name)", new { name }, cancellationToken: cancellationToken));
    };

    /// <summary>A trigger that makes SQLite roll back the whole transaction (not only the statement) when "two" is inserted.</summary>
    private static async Task RefuseTwoByRollingBackTheWholeTransactionAsync(SqliteSessionPool pool)
    {
        await using var setup = pool.Rent();
        await setup.ExecuteAsync("CREATE TRIGGER refuse_two BEFORE INSERT ON items WHEN NEW.name = 'two' BEGIN SELECT RAISE(ROLLBACK, 'two is refused'); END");
    }

    private static Task<int> InsertAsync(RequestTransaction transaction, string name) =>
        transaction.Connection.ExecuteAsync("INSERT INTO items (name) VALUES (@name)", new { name }, transaction.Transaction);

    /// <summary>A request transaction on the writer, running <paramref name="body"/>; disposed afterwards, as the API does.</summary>
    private static Func<Task<int>> InTransaction(SqliteSessionPool pool, Func<RequestTransaction, Task> body, CancellationToken cancellationToken = default) => async () =>
    {
        await using var transaction = RequestTransaction.Over(await pool.GroupCommit!.BeginTransactionAsync(cancellationToken));
        await body(transaction);
        return 1;
    };

    private async Task<string[]> NamesOnAConnectionOfItsOwnAsync()
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ConnectionString);
        return [.. await connection.QueryAsync<string>("SELECT name FROM items ORDER BY name")];
    }

    private static async Task<string[]> NamesAsync(SqliteSessionPool pool)
    {
        await using var connection = pool.Rent();
        return [.. await connection.QueryAsync<string>("SELECT name FROM items ORDER BY name")];
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
