using System.Collections.Concurrent;
using System.Data;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Chekt.PartnerApi.Data;

/// <summary>
/// SQLite connections that stay open between uses and keep their prepared statements. Preparing a
/// statement and opening a connection from Microsoft.Data.Sqlite's pool cost more than running the
/// small indexed queries the API makes, so a session keeps each SQL text it has run prepared and the
/// next lease of the session runs it again with new parameter values. Callers see an ordinary
/// <see cref="DbConnection"/> (Dapper works unchanged); disposing it returns the session to the pool.
/// </summary>
internal sealed class SqliteSessionPool : IDisposable
{
    private const int MaxIdleSessions = 128;

    static SqliteSessionPool()
    {
        // Note: SQLite's default (serialized) mode locks a connection's mutex around every call, down to
        // each column value read: 8-10% of a list request's CPU in profiles. Multi-thread mode drops those
        // locks and leaves serializing a connection to its user. That holds here: a session is leased to
        // one request at a time, and every statement is disposed by the pool, never left to a finalizer
        // thread. SQLite accepts the setting only before it initialises; when something in the process
        // opened a connection first, it stays serialized (correct, a little slower).
        RuntimeHelpers.RunClassConstructor(typeof(SqliteConnection).TypeHandle);
        MultiThreadMode = raw.sqlite3_config(raw.SQLITE_CONFIG_MULTITHREAD) == raw.SQLITE_OK;

        // Note: by default SQLite counts the memory it allocates, under one process-wide mutex taken around
        // every allocation and free. Two requests reading at once met on it about once in four requests
        // (perf, futex calls in SQLite's mutex), each time a sleep and a wake-up. Nothing here reads those
        // counts (sqlite3_memory_used, heap limits), and SQLite's recommended build options turn them off
        // (SQLITE_DEFAULT_MEMSTATUS=0); the bundled library keeps the default, so it is switched off here.
        MemoryStatisticsOff = raw.sqlite3_config(raw.SQLITE_CONFIG_MEMSTATUS, 0) == raw.SQLITE_OK;
    }

    /// <summary>Whether SQLite runs without per-connection mutexes in this process.</summary>
    internal static bool MultiThreadMode { get; }

    /// <summary>Whether SQLite allocates without counting (and so without its global memory mutex) in this process.</summary>
    internal static bool MemoryStatisticsOff { get; }
    private readonly ConcurrentBag<SqliteSession> _idle = [];
    private readonly string _connectionString;
    private readonly string _sessionPragmas;
    private int _idleCount;
    private volatile bool _disposed;

    /// <param name="connectionString">Of every session.</param>
    /// <param name="sessionPragmas">Run once when a session opens.</param>
    /// <param name="groupCommit">Whether single-statement writes outside a transaction go through <see cref="SqliteGroupCommit"/>.</param>
    /// <param name="busyTimeoutMilliseconds">How long the group's writer waits for the write lock.</param>
    public SqliteSessionPool(string connectionString, string sessionPragmas, bool groupCommit, int busyTimeoutMilliseconds = 5000)
    {
        _connectionString = connectionString;
        _sessionPragmas = sessionPragmas;
        GroupCommit = groupCommit ? new SqliteGroupCommit(this, busyTimeoutMilliseconds) : null;
    }

    /// <summary>The writer that commits the pool's single-statement writes in groups; null when switched off.</summary>
    internal SqliteGroupCommit? GroupCommit { get; }

    // Note: opening a SQLite connection and running its pragmas is local, synchronous work (Microsoft.Data.Sqlite's
    // async methods run synchronously too), so renting is synchronous; Db wraps it for its asynchronous callers.
    public DbConnection Rent()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new PooledSqliteConnection(this, TryTakeIdle(out var session) ? session : OpenSession());
    }

    /// <summary>A new session, outside the pool (its owner disposes it).</summary>
    internal SqliteSession OpenSession()
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            TrackStatements(connection);
            using (var pragmas = connection.CreateCommand())
            {
                pragmas.CommandText = _sessionPragmas;
                pragmas.ExecuteNonQuery();
            }

            return new SqliteSession(connection);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    // Lets diagnostics walk a session's prepared statements (sqlite3_next_stmt) and read their counters.
    private static void TrackStatements(SqliteConnection connection) => connection.Handle!.enable_sqlite3_next_stmt(true);

    private bool TryTakeIdle([NotNullWhen(true)] out SqliteSession? session)
    {
        if (_idle.TryTake(out session))
        {
            Interlocked.Decrement(ref _idleCount);
            return true;
        }

        return false;
    }

    /// <summary>Takes a session back; a session left in a transaction is rolled back, a broken one closed.</summary>
    internal void Return(SqliteSession session, SqliteTransaction? transaction)
    {
        session.CloseReaders();
        var reusable = !_disposed && session.Connection.State == ConnectionState.Open;
        if (reusable && transaction?.Connection is not null)
        {
            try
            {
                transaction.Rollback();
            }
            catch (SqliteException)
            {
                reusable = false;
            }
        }

        session.DisposeOrphans();
        if (reusable)
        {
            if (Interlocked.Increment(ref _idleCount) <= MaxIdleSessions)
            {
                _idle.Add(session);
                return;
            }

            Interlocked.Decrement(ref _idleCount);
        }

        session.Dispose();
    }

    /// <summary>The connections of the sessions idle right now, for diagnostics and tests.</summary>
    internal IReadOnlyList<SqliteConnection> IdleConnections() => [.. _idle.Select(session => session.Connection)];

    public void Dispose()
    {
        _disposed = true;
        GroupCommit?.Dispose();
        while (TryTakeIdle(out var session))
        {
            session.Dispose();
        }
    }
}

/// <summary>One open SQLite connection and the statements it has prepared, by SQL text.</summary>
internal sealed class SqliteSession(SqliteConnection connection) : IDisposable
{
    // Note: generated SQL comes from a bounded set of shapes; long texts (bulk inserts, migrations)
    // are not kept, and the cache stops growing at its cap instead of evicting.
    private const int MaxStatements = 256;
    private const int MaxCachedTextLength = 2_000;
    private const int MaxDirectStatements = 64;
    private readonly Dictionary<string, Statement> _statements = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DirectStatement> _directStatements = new(StringComparer.Ordinal);
    private readonly List<SqliteCommand> _orphans = [];
    private readonly List<SqliteStatementReader> _openReaders = new(2);
    private SqliteStatementReader? _idleReader;

    public SqliteConnection Connection { get; } = connection;

    /// <summary>A prepared command for the text: the kept one when it is free, else a new one (kept when there is room).</summary>
    public Statement Lease(string sql)
    {
        if (_statements.TryGetValue(sql, out var kept) && kept.IsFree)
        {
            return kept;
        }

        var command = Connection.CreateCommand();
        command.CommandText = sql;
        var statement = new Statement(command, Kept: kept is null && sql.Length <= MaxCachedTextLength && _statements.Count < MaxStatements)
        {
            ParameterNames = ParameterNamesOf(sql),
        };
        if (statement.Kept)
        {
            _statements[sql] = statement;
        }

        return statement;
    }

    /// <summary>The statement for the text (as <see cref="Lease"/>) with these parameters, transaction and timeout set.</summary>
    public Statement Bind(string sql, IEnumerable<SqliteParameter> parameters, SqliteTransaction? transaction, int commandTimeout)
    {
        var statement = Lease(sql);
        var command = statement.Command;
        command.Parameters.Clear();
        foreach (var parameter in parameters)
        {
            // Note: Dapper names parameters without their prefix. Given "dealerId", Microsoft.Data.Sqlite looks up
            // "dealerId", ":dealerId", "@dealerId" and "$dealerId" in the statement on every run, allocating each
            // name and its UTF-8 bytes (6% of a GET's allocations); the name as the SQL writes it is found at once.
            if (statement.ParameterNames.TryGetValue(parameter.ParameterName, out var written))
            {
                parameter.ParameterName = written;
            }

            command.Parameters.Add(parameter);
        }

        command.Transaction = transaction;
        command.CommandTimeout = commandTimeout;
        return statement;
    }

    /// <summary>
    /// The statement's parameters by bare name, as the SQL writes them (<c>dealerId</c> → <c>@dealerId</c>). A name
    /// written with two prefixes is left out, so Microsoft.Data.Sqlite still reports it as ambiguous.
    /// </summary>
    internal static IReadOnlyDictionary<string, string> ParameterNamesOf(string text)
    {
        // A name inside a string literal or a comment is not a parameter.
        var sql = SqlText.CodeOnly(text);
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        var ambiguous = new HashSet<string>(StringComparer.Ordinal);
        for (var index = 0; index < sql.Length; index++)
        {
            if (sql[index] is not ('@' or ':' or '$') || index + 1 >= sql.Length || !IsNameStart(sql[index + 1])
                || (index > 0 && IsNamePart(sql[index - 1])))
            {
                continue;
            }

            var end = index + 1;
            while (end < sql.Length && IsNamePart(sql[end]))
            {
                end++;
            }

            var written = sql[index..end];
            var bare = written[1..];
            if (names.TryGetValue(bare, out var seen) && seen != written)
            {
                ambiguous.Add(bare);
            }

            names[bare] = written;
            index = end - 1;
        }

        foreach (var name in ambiguous)
        {
            names.Remove(name);
        }

        return names;

        static bool IsNameStart(char c) => char.IsAsciiLetter(c) || c == '_';

        static bool IsNamePart(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';
    }

    /// <summary>
    /// Runs a read whose parameters are all integers straight on SQLite (<see cref="SqliteStatementReader"/>), on
    /// the statement this session keeps for the text, and returns its reader on the first row. The reader must be
    /// closed before the session goes back to its pool (<see cref="CloseReaders"/> does it otherwise).
    /// </summary>
    public SqliteStatementReader ReadDirect(string sql, in IntegerArguments arguments)
    {
        if (!_directStatements.TryGetValue(sql, out var statement) || statement.InUse)
        {
            // Note: a text read again while its statement is still being read (nested reads) gets a statement of its
            // own, finalised when its reader closes.
            var keep = statement is null && sql.Length <= MaxCachedTextLength && _directStatements.Count < MaxDirectStatements;
            statement = DirectStatement.Prepare(Connection.Handle!, sql, keep);
            if (keep)
            {
                _directStatements[sql] = statement;
            }
        }

        var reader = _idleReader ?? new SqliteStatementReader(this);
        _idleReader = null;
        _openReaders.Add(reader);
        reader.Start(statement, arguments, Connection.DefaultTimeout);
        return reader;
    }

    /// <summary>A reader of <see cref="ReadDirect"/> was closed: its statement is finalised unless kept, the reader kept for the next read.</summary>
    internal void Closed(SqliteStatementReader reader, DirectStatement statement)
    {
        _openReaders.Remove(reader);
        if (!statement.Kept)
        {
            statement.Dispose();
        }

        _idleReader ??= reader;
    }

    /// <summary>Closes the readers of <see cref="ReadDirect"/> left open, which ends their read transactions.</summary>
    public void CloseReaders()
    {
        for (var index = _openReaders.Count - 1; index >= 0; index--)
        {
            _openReaders[index].Close();
        }
    }

    /// <summary>After a failed execution the statement's state is unknown: it is dropped, not reused.</summary>
    public void Discard(string sql, Statement statement)
    {
        if (statement.Kept && _statements.TryGetValue(sql, out var kept) && ReferenceEquals(kept, statement))
        {
            _statements.Remove(sql);
        }

        statement.Command.Dispose();
    }

    /// <summary>A command that is not kept but whose reader is still being read: disposed when the session is returned.</summary>
    public void Orphan(SqliteCommand command) => _orphans.Add(command);

    public void DisposeOrphans()
    {
        foreach (var command in _orphans)
        {
            command.Dispose();
        }

        _orphans.Clear();
    }

    public void Dispose()
    {
        CloseReaders();
        DisposeOrphans();
        foreach (var statement in _statements.Values)
        {
            statement.Command.Dispose();
        }

        _statements.Clear();
        foreach (var statement in _directStatements.Values)
        {
            statement.Dispose();
        }

        _directStatements.Clear();
        Connection.Dispose();
    }

    internal sealed record Statement(SqliteCommand Command, bool Kept)
    {
        /// <summary>See <see cref="ParameterNamesOf"/>.</summary>
        public required IReadOnlyDictionary<string, string> ParameterNames { get; init; }

        /// <summary>The reader of the last execution, which must be closed before the statement runs again.</summary>
        public SqliteDataReader? Reader { get; set; }

        public bool IsFree => Reader is null || Reader.IsClosed;
    }
}

/// <summary>
/// A leased <see cref="SqliteSession"/> seen as a <see cref="DbConnection"/>; disposing it returns the session.
/// A session lent by the group commit's writer (<paramref name="lentByWriter"/>) stays the writer's: closing
/// the connection only ends the loan.
/// </summary>
internal sealed class PooledSqliteConnection(SqliteSessionPool pool, SqliteSession session, bool lentByWriter = false) : DbConnection
{
    private SqliteTransaction? _transaction;
    private bool _returned;

    internal SqliteSession Session => _returned ? throw new ObjectDisposedException(nameof(PooledSqliteConnection)) : session;

    internal SqliteGroupCommit? GroupCommit => pool.GroupCommit;

    [AllowNull]
    public override string ConnectionString
    {
        get => session.Connection.ConnectionString;
        set => throw new NotSupportedException("A pooled SQLite session's connection string cannot change.");
    }

    public override string Database => session.Connection.Database;

    public override string DataSource => session.Connection.DataSource;

    public override string ServerVersion => session.Connection.ServerVersion;

    public override ConnectionState State => _returned ? ConnectionState.Closed : ConnectionState.Open;

    /// <summary>BEGIN IMMEDIATE (deferred: false) or BEGIN DEFERRED, as <see cref="SqliteConnection.BeginTransaction(bool)"/>.</summary>
    public SqliteTransaction BeginTransaction(bool deferred) => _transaction = NotLent().BeginTransaction(deferred);

    protected override DbTransaction BeginDbTransaction(IsolationLevel isolationLevel) => _transaction = NotLent().BeginTransaction(isolationLevel);

    private SqliteConnection NotLent() => lentByWriter
        ? throw new InvalidOperationException("This connection is already inside the writer's transaction.")
        : Session.Connection;

    public override void ChangeDatabase(string databaseName) => throw new NotSupportedException();

    public override void Open()
    {
        ObjectDisposedException.ThrowIf(_returned, this);
    }

    public override void Close()
    {
        if (!_returned)
        {
            _returned = true;
            if (lentByWriter)
            {
                session.CloseReaders();
                session.DisposeOrphans();
            }
            else
            {
                pool.Return(session, _transaction);
            }
        }
    }

    protected override DbCommand CreateDbCommand() => new PooledSqliteCommand(this);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Close();
        }

        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync()
    {
        Close();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// A command of a <see cref="PooledSqliteConnection"/>: it collects text and parameters and runs them
/// on the session's prepared statement for that text.
/// </summary>
internal sealed class PooledSqliteCommand(PooledSqliteConnection connection) : DbCommand
{
    private readonly ParameterList _parameters = new();

    [AllowNull]
    public override string CommandText { get; set; } = "";

    // As Microsoft.Data.Sqlite's own commands: the connection string's Default Timeout (see Db).
    public override int CommandTimeout { get; set; } = connection.Session.Connection.DefaultTimeout;

    public override CommandType CommandType
    {
        get => CommandType.Text;
        set
        {
            if (value != CommandType.Text)
            {
                throw new NotSupportedException("SQLite runs SQL text only.");
            }
        }
    }

    public override bool DesignTimeVisible { get; set; }

    public override UpdateRowSource UpdatedRowSource { get; set; }

    protected override DbConnection? DbConnection
    {
        get => connection;
        set => throw new NotSupportedException("A pooled SQLite command stays with its connection.");
    }

    protected override DbParameterCollection DbParameterCollection => _parameters;

    protected override DbTransaction? DbTransaction { get; set; }

    public override void Cancel()
    {
    }

    public override void Prepare()
    {
    }

    protected override DbParameter CreateDbParameter() => new SqliteParameter();

    public override int ExecuteNonQuery() => Run(static (command, _) => command.ExecuteNonQuery(), 0);

    public override object? ExecuteScalar() => Run(static (command, _) => command.ExecuteScalar(), 0);

    protected override DbDataReader ExecuteDbDataReader(CommandBehavior behavior) =>
        new SqliteColumnReader(Run(static (command, behavior) => command.ExecuteReader(behavior & ~CommandBehavior.CloseConnection), behavior, keepsReader: true));

    // Note: Microsoft.Data.Sqlite's asynchronous methods run the statement synchronously and wrap the result in a
    // task; a statement that is not grouped runs the same way here, through the synchronous method, without the
    // closure, delegate and tasks the asynchronous path allocated on every read.
    public override Task<int> ExecuteNonQueryAsync(CancellationToken cancellationToken) =>
        GroupCommitFor() is { } groupCommit
            ? RecordsAffectedAsync(RunGroupedAsync(groupCommit, cancellationToken))
            : RunNow(static (command, _) => command.ExecuteNonQuery(), 0, cancellationToken);

    public override Task<object?> ExecuteScalarAsync(CancellationToken cancellationToken) =>
        GroupCommitFor() is { } groupCommit
            ? FirstValueAsync(RunGroupedAsync(groupCommit, cancellationToken))
            : RunNow(static (command, _) => command.ExecuteScalar(), 0, cancellationToken);

    protected override Task<DbDataReader> ExecuteDbDataReaderAsync(CommandBehavior behavior, CancellationToken cancellationToken) =>
        GroupCommitFor() is { } groupCommit
            ? ReaderAsync(RunGroupedAsync(groupCommit, cancellationToken))
            : RunNow(static (command, behavior) => command.ExecuteDbDataReader(behavior), behavior, cancellationToken);

    private Task<T> RunNow<T, TState>(Func<PooledSqliteCommand, TState, T> execute, TState state, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellationToken);
        }

        try
        {
            return Task.FromResult(execute(this, state));
        }
        catch (Exception exception)
        {
            return Task.FromException<T>(exception);
        }
    }

    private static async Task<int> RecordsAffectedAsync(Task<BufferedRows> rows) => (await rows).RecordsAffected;

    private static async Task<object?> FirstValueAsync(Task<BufferedRows> grouped)
    {
        var rows = await grouped;
        return rows.Rows.Count > 0 && rows.Names.Length > 0 ? rows.Rows[0][0] : null;
    }

    private static async Task<DbDataReader> ReaderAsync(Task<BufferedRows> rows) => (await rows).CreateReader();

    /// <summary>
    /// The group commit when this command joins it: a single write statement, run asynchronously, while
    /// the session is not inside a transaction of its own (a transaction's writes commit with it).
    /// </summary>
    private SqliteGroupCommit? GroupCommitFor()
    {
        if (connection.GroupCommit is not { } groupCommit
            || DbTransaction is not null
            || !SqlText.IsSingleWrite(CommandText)
            || SQLitePCL.raw.sqlite3_get_autocommit(connection.Session.Connection.Handle) == 0)
        {
            return null;
        }

        // Note: the request transaction of this flow holds the writer, so the write would wait for itself.
        return Db.InRequestTransaction
            ? throw new InvalidOperationException("A write outside the request's transaction cannot run while the transaction holds SQLite's writer.")
            : groupCommit;
    }

    private Task<BufferedRows> RunGroupedAsync(SqliteGroupCommit groupCommit, CancellationToken cancellationToken) =>
        groupCommit.RunAsync(CommandText, [.. _parameters.Cast<SqliteParameter>()], CommandTimeout, cancellationToken);

    private T Run<T, TState>(Func<SqliteCommand, TState, T> execute, TState state, bool keepsReader = false)
    {
        var (session, statement) = Bind();
        try
        {
            var result = execute(statement.Command, state);
            Finish(session, statement, result as SqliteDataReader, keepsReader);
            return result;
        }
        catch
        {
            session.Discard(CommandText, statement);
            throw;
        }
    }

    private (SqliteSession Session, SqliteSession.Statement Statement) Bind()
    {
        var session = connection.Session;
        return (session, session.Bind(CommandText, _parameters.Cast<SqliteParameter>(), DbTransaction as SqliteTransaction, CommandTimeout));
    }

    private static void Finish(SqliteSession session, SqliteSession.Statement statement, SqliteDataReader? reader, bool keepsReader)
    {
        if (!statement.Kept)
        {
            // Not kept: the command is disposed now, or, when a reader still uses it, with the lease.
            if (keepsReader)
            {
                session.Orphan(statement.Command);
            }
            else
            {
                session.Discard(statement.Command.CommandText, statement);
            }

            return;
        }

        statement.Reader = keepsReader ? reader : null;
    }

    private sealed class ParameterList : SqliteParameterCollection;
}
