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
}
