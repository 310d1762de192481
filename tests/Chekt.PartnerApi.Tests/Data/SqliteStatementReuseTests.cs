using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Http;
using Chekt.PartnerApi.Tests.Infrastructure;
using Dapper;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Chekt.PartnerApi.Tests.Data;

/// <summary>
/// A kept SQLite statement is only worth keeping if SQLite does not compile it again on the next run.
/// SQLite does exactly that, silently, when the plan depends on a bound value (a bare <c>LIMIT @p</c>).
/// </summary>
public sealed class SqliteStatementReuseTests
{
    private const int StatusReprepare = 5; // SQLITE_STMTSTATUS_REPREPARE
    private const int StatusRun = 6;       // SQLITE_STMTSTATUS_RUN

    [Fact]
    public async Task TheStatementsOfTheApiAreCompiledOnceAndNotOnEveryRun()
    {
        await using var world = await ApiWorld.StartAsync(DatabaseProvider.Sqlite);
        var site = await world.CreateSiteAsync("site-1");
        var sitePath = $"{world.DealerPath}/sites/{site}";
        var contact = await world.OkAsync(HttpMethod.Post, $"{sitePath}/contacts",
            """{"external_contact_id":"c-1","first_name":"Ann","last_name":"Lee"}""");
        var contactPath = $"{sitePath}/contacts/{contact.GetProperty("contact_id").GetInt64()}";

        var sessions = world.App.Services.GetRequiredService<Db>().SqliteSessions!;
        KeptStatements(sessions.IdleConnections(), resetCounters: true); // from here on (migrations change the schema once)

        // Sequential requests, so the few sessions in use each run every statement several times,
        // with a different page size each round (a new value bound to @fetch).
        for (var round = 1; round <= 12; round++)
        {
            string[] paths =
            [
                world.DealerPath, $"{world.DealerPath}/sites?limit={round}", sitePath, $"{sitePath}/contacts?limit={round}",
                contactPath, $"{sitePath}/devices?limit={round}", $"{world.DealerPath}/monitoring-stations?limit={round}",
            ];
            foreach (var path in paths)
            {
                await world.OkAsync(HttpMethod.Get, path);
            }
        }

        var statements = KeptStatements(sessions.IdleConnections());
        Assert.Contains(statements, s => s.Sql.Contains("FROM contacts", StringComparison.Ordinal) && s.Sql.Contains("LIMIT", StringComparison.Ordinal) && s.Runs >= 3);
        Assert.All(statements.Where(s => s.Runs >= 2), s =>
            Assert.True(s.Reprepares == 0, $"compiled again {s.Reprepares} times in {s.Runs} runs: {s.Sql}"));
    }

    [Fact]
    public async Task SQLiteCompilesABareLimitParameterAgainOnEveryRunButNotTheListLimit()
    {
        var directory = Directory.CreateTempSubdirectory("chekt-limit-").FullName;
        try
        {
            using var pool = new SqliteSessionPool(
                new SqliteConnectionStringBuilder { DataSource = Path.Combine(directory, "limit.db"), Pooling = false }.ConnectionString, "SELECT 1;", groupCommit: false);
            await using var connection = pool.Rent();
            await connection.ExecuteAsync("CREATE TABLE items (id INTEGER PRIMARY KEY, owner INTEGER NOT NULL)");
            await connection.ExecuteAsync("CREATE INDEX ix_items_owner ON items (owner, id)");
            await connection.ExecuteAsync("INSERT INTO items (id, owner) VALUES (1, 1), (2, 1), (3, 1)");
            const string query = "SELECT id FROM items WHERE owner = @owner AND id > @after ORDER BY id";

            foreach (var fetch in new[] { 2, 3, 2, 3 })
            {
                Assert.Equal(fetch, (await connection.QueryAsync<long>(query + " LIMIT @fetch", new { owner = 1, after = 0, fetch })).Count());
                Assert.Equal(fetch, (await connection.QueryAsync<long>(query + Page.LimitClause, new { owner = 1, after = 0, fetch })).Count());
            }

            var statements = KeptStatements([((PooledSqliteConnection)connection).Session.Connection]);
            var bare = Assert.Single(statements, s => s.Sql.EndsWith("LIMIT @fetch", StringComparison.Ordinal));
            var list = Assert.Single(statements, s => s.Sql.EndsWith(Page.LimitClause, StringComparison.Ordinal));
            Assert.Equal(4, bare.Runs);
            Assert.Equal(4, bare.Reprepares); // the reason LimitClause exists; if SQLite stops doing this, it may go
            Assert.Equal(4, list.Runs);
            Assert.Equal(0, list.Reprepares);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static List<(string Sql, int Runs, int Reprepares)> KeptStatements(IEnumerable<SqliteConnection> connections, bool resetCounters = false)
    {
        var found = new List<(string, int, int)>();
        foreach (var connection in connections)
        {
            for (var statement = raw.sqlite3_next_stmt(connection.Handle, null); statement is not null; statement = raw.sqlite3_next_stmt(connection.Handle, statement))
            {
                found.Add((raw.sqlite3_sql(statement).utf8_to_string(),
                    raw.sqlite3_stmt_status(statement, StatusRun, resetCounters ? 1 : 0), raw.sqlite3_stmt_status(statement, StatusReprepare, resetCounters ? 1 : 0)));
            }
        }

        return found;
    }
}
