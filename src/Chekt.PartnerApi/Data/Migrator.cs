using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Chekt.PartnerApi.Data;

/// <summary>One versioned SQL script of one provider, e.g. <c>0001_initial</c>.</summary>
public sealed record Migration(string Id, string Sql, string Checksum);

/// <summary>
/// Applies the provider's SQL migrations in order, each once and inside its own transaction,
/// recording them in <c>schema_migrations</c>.
/// </summary>
public sealed class Migrator(Db db, TimeProvider clock, ILogger<Migrator> logger)
{
    // Note: an arbitrary constant shared by every instance; PostgreSQL advisory locks serialise
    // migrators so that two instances starting together never apply one script twice.
    private const long PostgresLockKey = 0x43484b5450415049; // "CHKTPAPI"

    private const string HistoryTableSql =
        "CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at BIGINT NOT NULL)";

    public static IReadOnlyList<Migration> Load(DatabaseProvider provider)
    {
        var prefix = provider == DatabaseProvider.Postgres ? "migrations/postgres/" : "migrations/sqlite/";
        var assembly = typeof(Migrator).Assembly;
        return assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(prefix, StringComparison.Ordinal) && name.EndsWith(".sql", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(name =>
            {
                using var stream = assembly.GetManifestResourceStream(name)!;
                using var reader = new StreamReader(stream, Encoding.UTF8);
                // Line endings are normalised so that a checkout with CRLF does not change the checksum.
                var sql = reader.ReadToEnd().Replace("\r\n", "\n", StringComparison.Ordinal);
                var checksum = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sql)));
                return new Migration(name[prefix.Length..^".sql".Length], sql, checksum);
            })
            .ToList();
    }

    /// <summary>Applies what is pending and returns the ids applied by this call.</summary>
    public async Task<IReadOnlyList<string>> MigrateAsync(CancellationToken cancellationToken = default)
    {
        var migrations = Load(db.Provider);
        var applied = db.IsPostgres
            ? await MigratePostgresAsync(migrations, cancellationToken)
            : await MigrateSqliteAsync(migrations, cancellationToken);
        foreach (var id in applied)
        {
            logger.LogInformation("Applied migration {MigrationId} to {Database}", id, db.Describe());
        }

        return applied;
    }

    /// <summary>
    /// For <c>Database:MigrateOnStart=false</c>: refuses to go on when this executable has migrations the database
    /// lacks, instead of failing later, request by request, on a missing column.
    /// </summary>
    public async Task EnsureNothingPendingAsync(CancellationToken cancellationToken = default)
    {
        var migrations = Load(db.Provider);
        await using var connection = await db.OpenAsync(cancellationToken);
        var hasHistory = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            db.IsPostgres
                ? "SELECT to_regclass('schema_migrations') IS NOT NULL"
                : "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
            cancellationToken: cancellationToken));
        var done = hasHistory ? await ReadHistoryAsync(connection, null, cancellationToken) : [];
        var pending = Pending(migrations, done).Select(migration => migration.Id).ToList();
        if (pending.Count > 0)
        {
            throw new InvalidOperationException(
                $"Database:MigrateOnStart is false and the database lacks {pending.Count} migration(s) of this version ({string.Join(", ", pending)}): run 'migrate' first.");
        }
    }

    private async Task<List<string>> MigratePostgresAsync(IReadOnlyList<Migration> migrations, CancellationToken cancellationToken)
    {
        // The advisory lock belongs to the session, so it needs a connection of its own.
        await using var connection = await db.OpenSessionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "SELECT pg_advisory_lock(@key)", new { key = PostgresLockKey }, commandTimeout: 600, cancellationToken: cancellationToken));
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(HistoryTableSql, cancellationToken: cancellationToken));
            var done = await ReadHistoryAsync(connection, null, cancellationToken);
            var applied = new List<string>();
            foreach (var migration in Pending(migrations, done))
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await ApplyAsync(connection, transaction, migration, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                applied.Add(migration.Id);
            }

            return applied;
        }
        finally
        {
            await connection.ExecuteAsync("SELECT pg_advisory_unlock(@key)", new { key = PostgresLockKey });
        }
    }

    private async Task<List<string>> MigrateSqliteAsync(IReadOnlyList<Migration> migrations, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        // WAL cannot be switched on inside a transaction; the setting is stored in the file.
        await connection.ExecuteScalarAsync<string>(new CommandDefinition("PRAGMA journal_mode = WAL", cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition(HistoryTableSql, cancellationToken: cancellationToken));

        var applied = new List<string>();
        while (true)
        {
            // Note: BEGIN IMMEDIATE takes the write lock before reading the history, so a second
            // process waits (busy timeout) and then sees the first one's work instead of repeating it.
            await using var transaction = ((PooledSqliteConnection)connection).BeginTransaction(deferred: false);
            var done = await ReadHistoryAsync(connection, transaction, cancellationToken);
            var next = Pending(migrations, done).FirstOrDefault();
            if (next is null)
            {
                await transaction.CommitAsync(cancellationToken);
                return applied;
            }

            await ApplyAsync(connection, transaction, next, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            applied.Add(next.Id);
        }
    }

    private static async Task<Dictionary<string, string>> ReadHistoryAsync(
        DbConnection connection, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        var rows = await connection.QueryAsync<(string Id, string Checksum)>(new CommandDefinition(
            "SELECT id, checksum FROM schema_migrations", transaction: transaction, cancellationToken: cancellationToken));
        return rows.ToDictionary(row => row.Id, row => row.Checksum, StringComparer.Ordinal);
    }

    private static IEnumerable<Migration> Pending(IReadOnlyList<Migration> migrations, Dictionary<string, string> done)
    {
        foreach (var migration in migrations)
        {
            if (!done.TryGetValue(migration.Id, out var checksum))
            {
                yield return migration;
            }
            else if (!string.Equals(checksum, migration.Checksum, StringComparison.Ordinal))
            {
                throw new InvalidOperationException(
                    $"Migration {migration.Id} was changed after it was applied to this database. " +
                    "Applied migrations must never be edited; add a new migration instead.");
            }
        }
    }

    private async Task ApplyAsync(DbConnection connection, DbTransaction transaction, Migration migration, CancellationToken cancellationToken)
    {
        await connection.ExecuteAsync(new CommandDefinition(
            migration.Sql, transaction: transaction, commandTimeout: 600, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO schema_migrations (id, checksum, applied_at) VALUES (@Id, @Checksum, @AppliedAt)",
            new { migration.Id, migration.Checksum, AppliedAt = clock.GetUtcNow().ToUnixTimeMilliseconds() },
            transaction, cancellationToken: cancellationToken));
    }
}
