using System.Data.Common;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;

namespace Chekt.PartnerApi.Tests.Data;

public sealed class MigrationTests
{
    private static readonly string[] ExpectedTables =
    [
        "authorization_codes", "client_assertion_jtis", "contacts", "data_protection_keys", "dealer_connections",
        "dealer_users", "dealers", "devices", "idempotency_records", "monitoring_stations", "oauth_client_keys",
        "oauth_client_logout_urls", "oauth_client_redirect_uris", "oauth_client_scopes", "oauth_client_secrets",
        "oauth_clients", "partners", "refresh_tokens", "revoked_access_tokens", "schema_migrations", "signing_keys", "sites",
    ];

    [Theory, OnSqlite, OnPostgres]
    public async Task MigrationsApplyFromEmptyAndASecondRunAppliesNothing(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await using var services = TestServices.For(database);
        var migrator = services.GetRequiredService<Migrator>();

        var first = await migrator.MigrateAsync();
        var second = await migrator.MigrateAsync();

        Assert.Equal(Migrator.Load(provider).Select(m => m.Id), first);
        Assert.Contains("0001_initial", first);
        Assert.Empty(second);
        Assert.Equal(first.Count, await services.ScalarAsync<long>("SELECT COUNT(*) FROM schema_migrations"));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task TheSchemaHasEveryTableOfTheSpec(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await using var services = TestServices.For(database);
        await services.GetRequiredService<Migrator>().MigrateAsync();

        var tables = provider == DatabaseProvider.Postgres
            ? await services.QueryAsync<string>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
            : await services.QueryAsync<string>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
        Assert.Equal(ExpectedTables, tables.Order(StringComparer.Ordinal));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task BothProvidersHaveTheSameMigrations(DatabaseProvider provider)
    {
        var other = provider == DatabaseProvider.Sqlite ? DatabaseProvider.Postgres : DatabaseProvider.Sqlite;
        Assert.Equal(Migrator.Load(other).Select(m => m.Id), Migrator.Load(provider).Select(m => m.Id));
        await Task.CompletedTask;
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ConcurrentMigratorsApplyEachMigrationOnce(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await AssertConcurrentMigratorsApplyEachMigrationOnceAsync(database);
    }

    /// <summary>Four instances (separate service providers, so separate pools) migrate one database at once.</summary>
    internal static async Task AssertConcurrentMigratorsApplyEachMigrationOnceAsync(TestDatabase database, IDictionary<string, string?>? settings = null)
    {
        var instances = Enumerable.Range(0, 4).Select(_ => TestServices.For(database, settings)).ToList();
        try
        {
            var results = await Task.WhenAll(instances.Select(s => Task.Run(() => s.GetRequiredService<Migrator>().MigrateAsync())));
            var applied = results.SelectMany(r => r).ToList();
            Assert.Equal(Migrator.Load(database.Provider).Select(m => m.Id).Order(), applied.Order());
            Assert.Equal(applied.Count, await instances[0].ScalarAsync<long>("SELECT COUNT(*) FROM schema_migrations"));
        }
        finally
        {
            foreach (var instance in instances)
            {
                await instance.DisposeAsync();
            }
        }
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AMigrationEditedAfterItWasAppliedIsRefused(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await using var services = TestServices.For(database);
        var migrator = services.GetRequiredService<Migrator>();
        await migrator.MigrateAsync();
        await services.ExecuteAsync("UPDATE schema_migrations SET checksum = 'edited' WHERE id = '0001_initial'");

        var exception = await Assert.ThrowsAsync<InvalidOperationException>(() => migrator.MigrateAsync());
        Assert.Contains("0001_initial", exception.Message, StringComparison.Ordinal);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task UniquenessAndForeignKeysAreEnforcedByTheDatabase(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        await using var services = TestServices.For(database);
        await services.GetRequiredService<Migrator>().MigrateAsync();

        await services.ExecuteAsync("INSERT INTO dealers (company_name, created_at, updated_at) VALUES ('A', 0, 0), ('B', 0, 0)");
        await services.ExecuteAsync("INSERT INTO monitoring_stations (dealer_id, external_monitoring_station_id, name, created_at, updated_at) VALUES (2, 'ms-b', 'B station', 0, 0)");
        await services.ExecuteAsync("INSERT INTO sites (dealer_id, external_site_id, name, timezone, created_at, updated_at) VALUES (1, 's-1', 'Site', 'UTC', 0, 0)");

        var duplicate = await Assert.ThrowsAnyAsync<DbException>(() => services.ExecuteAsync(
            "INSERT INTO sites (dealer_id, external_site_id, name, timezone, created_at, updated_at) VALUES (1, 's-1', 'Again', 'UTC', 0, 0)"));
        Assert.True(DbErrors.IsUniqueViolation(duplicate));

        // The same external id under another dealer is fine.
        await services.ExecuteAsync("INSERT INTO sites (dealer_id, external_site_id, name, timezone, created_at, updated_at) VALUES (2, 's-1', 'Other dealer', 'UTC', 0, 0)");

        // A site cannot point at another dealer's monitoring station.
        var foreignStation = await Assert.ThrowsAnyAsync<DbException>(() => services.ExecuteAsync(
            "INSERT INTO sites (dealer_id, external_site_id, name, timezone, monitoring_station_id, created_at, updated_at) VALUES (1, 's-2', 'Site', 'UTC', 1, 0, 0)"));
        Assert.True(DbErrors.IsForeignKeyViolation(foreignStation));

        var orphanContact = await Assert.ThrowsAnyAsync<DbException>(() => services.ExecuteAsync(
            "INSERT INTO contacts (site_id, external_contact_id, first_name, last_name, created_at, updated_at) VALUES (999, 'c', 'A', 'B', 0, 0)"));
        Assert.True(DbErrors.IsForeignKeyViolation(orphanContact));

        // Deleting a site removes its contacts and devices.
        await services.ExecuteAsync("INSERT INTO contacts (site_id, external_contact_id, first_name, last_name, created_at, updated_at) VALUES (1, 'c', 'A', 'B', 0, 0)");
        await services.ExecuteAsync("INSERT INTO devices (site_id, external_device_id, device_type, zone_number, created_at, updated_at) VALUES (1, 'd', 'camera', '001', 0, 0)");
        await services.ExecuteAsync("DELETE FROM sites WHERE id = 1");
        Assert.Equal(0, await services.ScalarAsync<long>("SELECT COUNT(*) FROM contacts"));
        Assert.Equal(0, await services.ScalarAsync<long>("SELECT COUNT(*) FROM devices"));

        // A station still referenced by a site cannot be deleted.
        await services.ExecuteAsync("INSERT INTO sites (dealer_id, external_site_id, name, timezone, monitoring_station_id, created_at, updated_at) VALUES (2, 's-3', 'Site', 'UTC', 1, 0, 0)");
        var referenced = await Assert.ThrowsAnyAsync<DbException>(() => services.ExecuteAsync("DELETE FROM monitoring_stations WHERE id = 1"));
        Assert.True(DbErrors.IsForeignKeyViolation(referenced));
    }

    [Fact]
    public async Task SqliteRunsInWalModeWithForeignKeysOn()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseProvider.Sqlite);
        await using var services = TestServices.For(database);
        await services.GetRequiredService<Migrator>().MigrateAsync();
        Assert.Equal("wal", await services.ScalarAsync<string>("PRAGMA journal_mode"));
        Assert.Equal(1L, await services.ScalarAsync<long>("PRAGMA foreign_keys"));
        Assert.Equal(5000L, await services.ScalarAsync<long>("PRAGMA busy_timeout"));
    }
}
