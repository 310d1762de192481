using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Chekt.PartnerApi.Data;

/// <summary>
/// Opens connections to the configured database. One instance per process: it owns the
/// PostgreSQL data sources (and their pools) or the SQLite session pool.
/// </summary>
public sealed class Db : IAsyncDisposable
{
    private readonly NpgsqlDataSource? _postgres;
    private readonly NpgsqlDataSource? _postgresSessions;
    private readonly PostgresBatching? _postgresBatching;
    private readonly string _sqliteConnectionString = "";
    private readonly SqliteSessionPool? _sqlite;

    public Db(IOptions<DatabaseOptions> options, IConfiguration configuration)
    {
        var settings = options.Value;
        Provider = settings.Provider;
        var configured = configuration.GetConnectionString(DatabaseOptions.ConnectionStringName);

        if (Provider == DatabaseProvider.Postgres)
        {
            if (string.IsNullOrWhiteSpace(configured))
            {
                throw new InvalidOperationException(
                    "Database:Provider is Postgres but ConnectionStrings:Partner is not set.");
            }

            var builder = ParseConnectionString(() => new NpgsqlConnectionStringBuilder(configured), "PostgreSQL");
            // Note: a request must fail fast (503) rather than hang while the database is down.
            if (!configured.Contains("Timeout", StringComparison.OrdinalIgnoreCase))
            {
                builder.Timeout = 5;
            }

            // No session state is kept on pooled connections, so skip the reset round trip, and let
            // Npgsql prepare the statements every request repeats. Both can be overridden.
            if (!configured.Contains("Reset", StringComparison.OrdinalIgnoreCase))
            {
                builder.NoResetOnClose = true;
            }

            if (!configured.Contains("Prepare", StringComparison.OrdinalIgnoreCase))
            {
                builder.MaxAutoPrepare = 64;
                builder.AutoPrepareMinUsages = 2;
            }

            _postgres = new NpgsqlDataSourceBuilder(builder.ConnectionString).Build();

            // Note: with Multiplexing=true (opt-in, see docs/configuration.md) a connection from OpenAsync
            // is not a session of its own: Npgsql sends the commands of concurrent requests over shared
            // connections. Callers that need session state (the migrations' advisory lock) or synchronous
            // I/O (which multiplexing refuses) then get a second, ordinary source.
            _postgresSessions = builder.Multiplexing
                ? new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Multiplexing = false }.ConnectionString).Build()
                : _postgres;

            // Note: multiplexing already sends concurrent commands together, so the two are not stacked.
            if (settings.PostgresBatching && !builder.Multiplexing)
            {
                _postgresBatching = new PostgresBatching(_postgres, settings.PostgresBatchReadConnections);
            }
        }
        else
        {
            var builder = ParseConnectionString(
                () => new SqliteConnectionStringBuilder(
                    string.IsNullOrWhiteSpace(configured) ? DatabaseOptions.DefaultSqliteConnectionString : configured),
                "SQLite");
            // Sessions are pooled (with their prepared statements) by SqliteSessionPool.
            builder.Pooling = false;
            if (builder.Mode != SqliteOpenMode.Memory && !string.IsNullOrEmpty(builder.DataSource)
                && builder.DataSource != ":memory:")
            {
                var directory = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
                if (!string.IsNullOrEmpty(directory))
                {
                    Directory.CreateDirectory(directory);
                }
            }

            // Note: Microsoft.Data.Sqlite retries a busy statement itself until the command timeout (30 s by default),
            // after SQLite's own busy timeout. Unless the connection string sets it, the command timeout is the busy
            // timeout (in whole seconds, at least one), so a request that waits for another's write lock (such as the
            // retry of an idempotent request still running) gives up after about that long, with a 503.
            if (!builder.ShouldSerialize("Default Timeout"))
            {
                builder.DefaultTimeout = Math.Max(1, (int)Math.Ceiling(settings.SqliteBusyTimeoutMilliseconds / 1000.0));
            }

            _sqliteConnectionString = builder.ConnectionString;
            // Note: WAL with synchronous=NORMAL keeps every committed transaction across a process
            // crash (kill -9); only a power loss can drop the last commits before a checkpoint.
            // Foreign keys are off by default in SQLite and must be switched on per connection.
            _sqlite = new SqliteSessionPool(_sqliteConnectionString,
                $"PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {settings.SqliteBusyTimeoutMilliseconds}; PRAGMA synchronous = NORMAL;",
                settings.SqliteGroupCommit, settings.SqliteBusyTimeoutMilliseconds);
        }
    }

    public DatabaseProvider Provider { get; }

    /// <summary>
    /// Parses the configured connection string, so that a mistake in it stops startup with one line naming
    /// the setting (for example Npgsql spells <c>Maximum Pool Size</c> and has no <c>Max Pool Size</c>).
    /// Note: the drivers' messages name the keyword; they quote a value only when it failed to convert
    /// to a number or an option, which a password never has to.
    /// </summary>
    private static T ParseConnectionString<T>(Func<T> parse, string database)
    {
        try
        {
            return parse();
        }
        catch (Exception exception) when (exception is ArgumentException or FormatException or InvalidCastException)
        {
            throw new InvalidOperationException(
                $"ConnectionStrings:{DatabaseOptions.ConnectionStringName} is not a valid {database} connection string: {exception.Message}", exception);
        }
    }

    /// <summary>The PostgreSQL statement batches (null on SQLite or when switched off), for diagnostics and tests.</summary>
    internal PostgresBatching? PostgresBatching => _postgresBatching;

    /// <summary>The SQLite session pool (null on PostgreSQL), for diagnostics and tests.</summary>
    internal SqliteSessionPool? SqliteSessions => _sqlite;

    public bool IsPostgres => Provider == DatabaseProvider.Postgres;

    /// <summary>A description safe to print: the connection string without its password.</summary>
    public string Describe()
    {
        if (_postgres is not null)
        {
            var builder = new NpgsqlConnectionStringBuilder(_postgres.ConnectionString) { Password = null };
            return $"Postgres ({builder.Host}:{builder.Port}/{builder.Database})";
        }

        var threading = SqliteSessionPool.MultiThreadMode ? "multi-thread" : "serialized";
        var memoryStatistics = SqliteSessionPool.MemoryStatisticsOff ? ", no memory statistics" : "";
        return $"Sqlite ({new SqliteConnectionStringBuilder(_sqliteConnectionString).DataSource}, {threading}{memoryStatistics})";
    }

    // Note: an AsyncLocal, so the transaction reaches exactly the code the request runs after Enlist,
    // and never a background job or another request.
    private static readonly AsyncLocal<RequestTransaction?> Enlisted = new();

    /// <summary>
    /// Makes <paramref name="transaction"/> the one every <see cref="OpenAsync"/> in the current flow uses
    /// (null ends that). Call it in the method that then runs the rest of the request.
    /// </summary>
    public static void Enlist(RequestTransaction? transaction) => Enlisted.Value = transaction;

    /// <summary>Begins the request's transaction (see <see cref="Enlist"/>), on a connection of its own or on SQLite's writer.</summary>
    /// <remarks>
    /// Note: on SQLite with group commit, the transaction runs on the group's writer, inside its batch, behind a
    /// savepoint, and commits with the batch (<see cref="SqliteWriterTransaction"/>). The writer waits for the
    /// request, so while the transaction is enlisted, a write that would queue on the writer (from a connection
    /// outside the transaction) or a second request transaction would wait for itself: both are refused.
    /// </remarks>
    public async Task<RequestTransaction> BeginRequestTransactionAsync(CancellationToken cancellationToken = default)
    {
        if (InRequestTransaction)
        {
            throw new InvalidOperationException("This flow already runs in a request transaction.");
        }

        if (_sqlite?.GroupCommit is { } groupCommit)
        {
            return RequestTransaction.Over(await groupCommit.BeginTransactionAsync(cancellationToken));
        }

        return await RequestTransaction.BeginAsync(await OpenOwnAsync(cancellationToken), cancellationToken);
    }

    /// <summary>Whether a request transaction is enlisted in the current flow.</summary>
    internal static bool InRequestTransaction => Enlisted.Value is not null;

    // Note: every request opens a connection, and nearly always one that is ready at once (SQLite's pool, the
    // batching connection, the request's transaction): a ValueTask then allocates nothing, where each async
    // Task<T> level allocated its own task.
    public ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken = default)
    {
        if (Enlisted.Value is { } transaction)
        {
            return ValueTask.FromResult(transaction.Borrow());
        }

        if (_postgresBatching is not null)
        {
            // No round trip yet: the first statement either joins a batch or opens a connection of its own.
            return ValueTask.FromResult<DbConnection>(new BatchingPostgresConnection(_postgresBatching, _postgres!));
        }

        return OpenOwnAsync(cancellationToken);
    }

    private ValueTask<DbConnection> OpenOwnAsync(CancellationToken cancellationToken)
    {
        if (_postgres is not null)
        {
            var opening = _postgres.OpenConnectionAsync(cancellationToken);
            return opening.IsCompletedSuccessfully ? ValueTask.FromResult<DbConnection>(opening.Result) : AwaitOpenAsync(opening);
        }

        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(_sqlite!.Rent());
    }

    private static async ValueTask<DbConnection> AwaitOpenAsync(ValueTask<Npgsql.NpgsqlConnection> opening) => await opening;

    /// <summary>
    /// A connection that is the caller's alone until disposed, so session state (advisory locks,
    /// settings) holds across its commands. The request path uses <see cref="OpenAsync"/>.
    /// </summary>
    public async Task<DbConnection> OpenSessionAsync(CancellationToken cancellationToken = default)
    {
        if (_postgresSessions is not null)
        {
            return await _postgresSessions.OpenConnectionAsync(cancellationToken);
        }

        cancellationToken.ThrowIfCancellationRequested();
        return _sqlite!.Rent();
    }

    /// <summary>Synchronous open, for the few framework callbacks that are not asynchronous.</summary>
    public DbConnection Open()
    {
        if (_postgresSessions is not null)
        {
            return _postgresSessions.OpenConnection();
        }

        return _sqlite!.Rent();
    }

    /// <summary>Round-trips to the database; throws when it cannot be reached.</summary>
    public async Task PingAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT 1";
        await command.ExecuteScalarAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_postgresBatching is not null)
        {
            await _postgresBatching.DisposeAsync();
        }

        if (_postgresSessions is not null && _postgresSessions != _postgres)
        {
            await _postgresSessions.DisposeAsync();
        }

        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }

        _sqlite?.Dispose();
    }
}
