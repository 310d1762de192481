using System.Data.Common;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;
using Dapper;
using Npgsql;

namespace Chekt.PartnerApi.Tests.Data;

/// <summary>
/// PostgreSQL connections are ordinary pooled sessions by default. With <c>Multiplexing=true</c> in the
/// connection string (opt-in) the request path shares connections between requests, and what needs a
/// connection of its own (session state, synchronous callers) still gets one.
/// </summary>
public sealed class PostgresConnectionTests
{
    [Theory, OnPostgres]
    public async Task ByDefaultRequestConnectionsAreNotMultiplexed(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await using var services = TestServices.For(database);

        await using var request = await services.GetRequiredService<Db>().OpenAsync();
        Assert.False(IsMultiplexed(request));
    }

    [Theory, OnPostgres]
    public async Task WithMultiplexingRequestConnectionsAreMultiplexedAndSessionsAreNot(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await using var services = Multiplexed(database);
        var db = services.GetRequiredService<Db>();

        await using (var request = await db.OpenAsync())
        {
            Assert.True(IsMultiplexed(request));
        }

        await using (var session = await db.OpenSessionAsync())
        {
            Assert.False(IsMultiplexed(session));
        }

        using var synchronous = db.Open();
        Assert.False(IsMultiplexed(synchronous));
        Assert.Equal(1, synchronous.ExecuteScalar<int>("SELECT 1"));
    }

    [Theory, OnPostgres]
    public async Task WithMultiplexingASessionKeepsItsStateWhileRequestsRunBesideIt(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await using var services = Multiplexed(database);
        var db = services.GetRequiredService<Db>();

        await using var session = await db.OpenSessionAsync();
        await session.ExecuteAsync("SELECT set_config('application_name', 'chekt-session-test', false)");
        var noise = Enumerable.Range(0, 40).Select(async _ =>
        {
            await using var request = await db.OpenAsync();
            return await request.ExecuteScalarAsync<string>("SELECT current_setting('application_name')");
        });
        var seenByRequests = await Task.WhenAll(noise);

        Assert.Equal("chekt-session-test", await session.ExecuteScalarAsync<string>("SELECT current_setting('application_name')"));
        Assert.DoesNotContain("chekt-session-test", seenByRequests);
    }

    [Theory, OnPostgres]
    public async Task WithMultiplexingOneFailingCommandDoesNotFailTheCommandsSharingItsConnection(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await using var services = Multiplexed(database);
        var db = services.GetRequiredService<Db>();
        await services.ExecuteAsync("CREATE TABLE multiplex_probe (id integer PRIMARY KEY)");

        // Every odd command fails (duplicate key or division by zero); the even ones must still
        // succeed and write, although they go out on the same connections at the same time.
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 200).Select(async i =>
        {
            await using var connection = await db.OpenAsync();
            try
            {
                var sql = (i % 4) switch
                {
                    1 => "INSERT INTO multiplex_probe (id) VALUES (-1), (-1)",
                    3 => "SELECT 1 / (@i - @i)",
                    _ => "INSERT INTO multiplex_probe (id) VALUES (@i)",
                };
                await connection.ExecuteAsync(sql, new { i });
                return (i, ok: true);
            }
            catch (DbException)
            {
                return (i, ok: false);
            }
        }));

        Assert.All(outcomes, o => Assert.Equal(o.i % 2 == 0, o.ok));
        var written = await services.QueryAsync<int>("SELECT id FROM multiplex_probe ORDER BY id");
        Assert.Equal(Enumerable.Range(0, 100).Select(i => i * 2), written);
    }

    [Theory, OnPostgres]
    public async Task WithMultiplexingConcurrentMigratorsStillApplyEachMigrationOnce(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await MigrationTests.AssertConcurrentMigratorsApplyEachMigrationOnceAsync(database, MultiplexedSettings(database));
    }

    private static ServiceProvider Multiplexed(TestDatabase database) => TestServices.For(database, MultiplexedSettings(database));

    internal static Dictionary<string, string?> MultiplexedSettings(TestDatabase database) =>
        new() { ["ConnectionStrings:Partner"] = database.ConnectionString + ";Multiplexing=true" };

    private static bool IsMultiplexed(DbConnection connection) =>
        new NpgsqlConnectionStringBuilder(connection.ConnectionString).Multiplexing;
}
