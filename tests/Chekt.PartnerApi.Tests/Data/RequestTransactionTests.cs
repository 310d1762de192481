using System.Data.Common;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;
using Dapper;

namespace Chekt.PartnerApi.Tests.Data;

/// <summary>
/// A request transaction's last statement and its commit (<see cref="RequestTransaction.CommitAfterAsync"/>, how an
/// idempotent request stores its answer): everything commits, or nothing does, and the connection goes back to
/// the pool outside any transaction. On PostgreSQL the statement and the commit share one round trip.
/// </summary>
public sealed class RequestTransactionTests
{
    [Theory, OnSqlite, OnPostgres]
    public async Task TheLastStatementCommitsWithTheStatementsBeforeIt(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await using var services = TestServices.For(database);
        await AssertTheLastStatementCommitsWithTheOthersAsync(services);
    }

    [Theory, OnPostgres]
    public async Task WithMultiplexingTheLastStatementCommitsWithTheStatementsBeforeIt(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await using var services = TestServices.For(database, PostgresConnectionTests.MultiplexedSettings(database));
        await AssertTheLastStatementCommitsWithTheOthersAsync(services);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task WhenTheLastStatementFailsNothingCommits(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await using var services = TestServices.For(database);
        await services.ExecuteAsync("CREATE TABLE transaction_probe (id integer PRIMARY KEY, name text NOT NULL)");
        var db = services.GetRequiredService<Db>();

        await using (var transaction = await db.BeginRequestTransactionAsync())
        {
            await InsertAsync(transaction, 1, "first");
            await Assert.ThrowsAnyAsync<DbException>(() =>
                transaction.CommitAfterAsync("INSERT INTO transaction_probe (id, name) VALUES (@id, @name)", new { id = 1, name = "again" }));
        }

        Assert.Empty(await services.QueryAsync<string>("SELECT name FROM transaction_probe"));
        await AssertNoTransactionIsLeftOpenAsync(services, provider);

        // The database takes the next request transaction as usual.
        await using (var transaction = await db.BeginRequestTransactionAsync())
        {
            await transaction.CommitAfterAsync("INSERT INTO transaction_probe (id, name) VALUES (@id, @name)", new { id = 1, name = "next" });
        }

        Assert.Equal(["next"], await services.QueryAsync<string>("SELECT name FROM transaction_probe"));
    }

    private static async Task AssertTheLastStatementCommitsWithTheOthersAsync(ServiceProvider services)
    {
        await services.ExecuteAsync("CREATE TABLE transaction_probe (id integer PRIMARY KEY, name text NOT NULL)");
        var db = services.GetRequiredService<Db>();

        await using (var transaction = await db.BeginRequestTransactionAsync())
        {
            await InsertAsync(transaction, 1, "first");
            await transaction.CommitAfterAsync("UPDATE transaction_probe SET name = @name WHERE id = @id;\n", new { id = 1, name = "last" });

            // Committed before the scope ends: another connection sees it.
            Assert.Equal(["last"], await services.QueryAsync<string>("SELECT name FROM transaction_probe"));
        }

        Assert.Equal(["last"], await services.QueryAsync<string>("SELECT name FROM transaction_probe"));
        await AssertNoTransactionIsLeftOpenAsync(services, db.Provider);
    }

    private static Task<int> InsertAsync(RequestTransaction transaction, int id, string name) =>
        transaction.Connection.ExecuteAsync("INSERT INTO transaction_probe (id, name) VALUES (@id, @name)", new { id, name }, transaction.Transaction);

    private static async Task AssertNoTransactionIsLeftOpenAsync(ServiceProvider services, DatabaseProvider provider)
    {
        if (provider == DatabaseProvider.Postgres)
        {
            Assert.Equal(0, await services.ScalarAsync<int>(
                "SELECT count(*)::int FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'"));
        }

        // A write outside any request transaction commits on its own.
        await services.ExecuteAsync("INSERT INTO transaction_probe (id, name) VALUES (100, 'outside')");
        Assert.Equal(1, await services.ScalarAsync<int>("SELECT count(*) FROM transaction_probe WHERE id = 100"));
        await services.ExecuteAsync("DELETE FROM transaction_probe WHERE id = 100");
    }
}
