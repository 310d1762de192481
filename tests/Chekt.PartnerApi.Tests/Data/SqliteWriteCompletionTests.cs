using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Chekt.PartnerApi.Tests.Data;

/// <summary>
/// When a write has been answered it is committed: no pooled SQLite session may still hold the write
/// lock (an unfinished INSERT … RETURNING keeps its transaction open until its statement completes).
/// </summary>
public sealed class SqliteWriteCompletionTests
{
    [Fact]
    public async Task AfterEachAnsweredWriteAnotherConnectionCanTakeTheWriteLockAtOnce()
    {
        await using var world = await ApiWorld.StartAsync(DatabaseProvider.Sqlite);
        var site = await world.CreateSiteAsync("site-1");
        var contacts = $"{world.DealerPath}/sites/{site}/contacts";

        var created = await world.OkAsync(HttpMethod.Post, contacts, """{"external_contact_id":"c-1","first_name":"Ann","last_name":"Lee"}""");
        AssertNoOneHoldsTheWriteLock(world, "create contact");

        var contact = $"{contacts}/{created.GetProperty("contact_id").GetInt64()}";
        await world.OkAsync(HttpMethod.Put, contact, """{"first_name":"Anne"}""");
        AssertNoOneHoldsTheWriteLock(world, "update contact");

        await world.OkAsync(HttpMethod.Put, $"{world.DealerPath}/sites/{site}", """{"name":"Renamed"}""");
        AssertNoOneHoldsTheWriteLock(world, "update site");
    }

    private static void AssertNoOneHoldsTheWriteLock(ApiWorld world, string after)
    {
        var path = new SqliteConnectionStringBuilder(world.App.Database.ConnectionString).DataSource;
        using var probe = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false, DefaultTimeout = 1 }.ConnectionString);
        probe.Open();
        using (var noWait = probe.CreateCommand())
        {
            noWait.CommandText = "PRAGMA busy_timeout = 0";
            noWait.ExecuteNonQuery();
        }

        using (var count = probe.CreateCommand())
        {
            count.CommandText = "SELECT COUNT(*) FROM contacts";
            Assert.Equal(1L, count.ExecuteScalar()); // the probe looks at the server's database, and sees the write
        }

        using var begin = probe.CreateCommand();
        begin.CommandText = "BEGIN IMMEDIATE";
        var error = Record.Exception(() => begin.ExecuteNonQuery());
        Assert.True(error is null, $"after {after}, the write lock was still held: {error?.Message}");
        using var rollback = probe.CreateCommand();
        rollback.CommandText = "ROLLBACK";
        rollback.ExecuteNonQuery();
    }
}
