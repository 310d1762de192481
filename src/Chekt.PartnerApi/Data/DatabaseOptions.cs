namespace Chekt.PartnerApi.Data;

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

/// <summary>The <c>Database</c> configuration section.</summary>
public sealed class DatabaseOptions
{
    public const string SectionName = "Database";
    public const string ConnectionStringName = "Partner";
    public const string DefaultSqliteConnectionString = "Data Source=data/partner.db";

    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>Apply pending migrations when the server starts (the <c>migrate</c> command always does).</summary>
    public bool MigrateOnStart { get; set; } = true;

    /// <summary>How long a SQLite writer waits for another writer before giving up.</summary>
    public int SqliteBusyTimeoutMilliseconds { get; set; } = 5000;

    /// <summary>Commit concurrent single-statement SQLite writes together, one transaction per group (see <see cref="SqliteGroupCommit"/>).</summary>
    public bool SqliteGroupCommit { get; set; } = true;

    /// <summary>Send the single statements concurrent requests run outside a transaction to PostgreSQL in batches (see <see cref="PostgresBatching"/>).</summary>
    public bool PostgresBatching { get; set; } = true;

    /// <summary>How many batches of reads may be in flight at once, each on a pooled connection (writes go one batch at a time).</summary>
    public int PostgresBatchReadConnections { get; set; } = 4;
}
