using Chekt.PartnerApi.Data;
using Microsoft.Data.Sqlite;

namespace Chekt.PartnerApi.Tests.Infrastructure;

/// <summary>A fresh, empty database of one provider for one test.</summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private readonly PostgresServer? _server;
    private readonly string? _sqliteDirectory;

    private TestDatabase(DatabaseProvider provider, string connectionString, PostgresServer? server, string? sqliteDirectory)
    {
        Provider = provider;
        ConnectionString = connectionString;
        _server = server;
        _sqliteDirectory = sqliteDirectory;
    }

    public DatabaseProvider Provider { get; }

    public string ConnectionString { get; }

    /// <summary>The configuration that points the server or the CLI at this database.</summary>
    public IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Database:Provider"] = Provider.ToString(),
        ["ConnectionStrings:Partner"] = ConnectionString,
    };

    /// <summary>The same settings as <c>--Key=value</c> command-line arguments.</summary>
    public string[] CliArgs => [.. Settings.Select(s => $"--{s.Key}={s.Value}")];

    public static async Task<TestDatabase> CreateAsync(DatabaseProvider provider, PostgresServer? server = null)
    {
        if (provider == DatabaseProvider.Postgres)
        {
            server ??= await PostgresServer.GetSharedAsync();
            return new TestDatabase(provider, await server.CreateDatabaseAsync(), server, null);
        }

        var directory = Path.Combine(Path.GetTempPath(), $"chekt-sqlite-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        return new TestDatabase(provider, $"Data Source={Path.Combine(directory, "partner.db")}", null, directory);
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            try
            {
                await _server.DropDatabaseAsync(ConnectionString);
            }
            catch (Npgsql.NpgsqlException)
            {
                // The server may have been stopped by the test; its cluster is removed at exit.
            }
        }

        if (_sqliteDirectory is not null)
        {
            SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(_sqliteDirectory, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: the temp folder is cleaned by the OS.
            }
        }
    }
}
