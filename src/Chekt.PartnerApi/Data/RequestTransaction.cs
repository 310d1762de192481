using System.Data;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using Dapper;

namespace Chekt.PartnerApi.Data;

/// <summary>
/// One database transaction for a whole request: while it is enlisted (<see cref="Db.Enlist"/>), every
/// <see cref="Db.OpenAsync"/> in the request's flow gets its connection, already in the transaction,
/// and the caller's dispose leaves it open. Disposing the scope without <see cref="CommitAsync"/> rolls
/// everything back.
/// </summary>
public sealed class RequestTransaction : IAsyncDisposable
{
    private readonly DbConnection _connection;
    private bool _done;

    private RequestTransaction(DbConnection connection, DbTransaction transaction)
    {
        _connection = connection;
        Transaction = transaction;
    }

    public DbTransaction Transaction { get; }

    /// <summary>The transaction's connection, for the scope's owner.</summary>
    public DbConnection Connection => _connection;

    internal static async Task<RequestTransaction> BeginAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            return new RequestTransaction(connection, await connection.BeginTransactionAsync(cancellationToken));
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>A transaction begun elsewhere (SQLite's writer lends its own), with its connection.</summary>
    internal static RequestTransaction Over(DbTransaction transaction) =>
        new(transaction.Connection ?? throw new InvalidOperationException("The transaction has no connection."), transaction);

    /// <summary>A view of the connection for code that opens and disposes connections itself.</summary>
    internal DbConnection Borrow() => new BorrowedConnection(_connection, Transaction);

    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        _done = true;
        await Transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Runs one last statement in the transaction, then commits; if the statement fails, nothing commits.</summary>
    /// <remarks>
    /// Note: on PostgreSQL the statement and the <c>COMMIT</c> go in one command text, so in one round trip. They are
    /// sent as one pipeline with one synchronisation point: if the statement fails, PostgreSQL skips the
    /// <c>COMMIT</c> and the transaction stays open, aborted, for the dispose to roll back. Npgsql reads the
    /// transaction's end from the server's answer, so its transaction object counts as completed.
    /// </remarks>
    public async Task CommitAfterAsync(string sql, object parameters)
    {
        _done = true;
        if (_connection is Npgsql.NpgsqlConnection)
        {
            await _connection.ExecuteAsync(new CommandDefinition(sql.TrimEnd().TrimEnd(';') + ";\nCOMMIT", parameters, Transaction));
            return;
        }

        await _connection.ExecuteAsync(new CommandDefinition(sql, parameters, Transaction));
        await Transaction.CommitAsync(CancellationToken.None);
    }

    public async Task RollbackAsync()
    {
        if (!_done)
        {
            _done = true;
            await Transaction.RollbackAsync(CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_done && _connection.State == ConnectionState.Open)
            {
                await RollbackAsync();
            }
        }
        catch (DbException)
        {
            // The connection is broken; disposing it below discards the transaction anyway.
        }
        finally
        {
            await Transaction.DisposeAsync();
            await _connection.DisposeAsync();
        }
    }

    /// <summary>The transaction's connection as seen by one caller: its commands join the transaction; disposing it does nothing.</summary>
    private sealed class BorrowedConnection(DbConnection inner, DbTransaction transaction) : DbConnection
    {
        [AllowNull]
        public override string ConnectionString
        {
            get => inner.ConnectionString;
            set => throw new NotSupportedException("A borrowed connection cannot change.");
        }

        public override string Database => inner.Database;

        public override string DataSource => inner.DataSource;

        public override string ServerVersion => inner.ServerVersion;

        public override ConnectionState State => inner.State;

        public override void ChangeDatabase(string databaseName) => throw new NotSupportedException();

        public override void Open()
        {
        }

        public override void Close()
        {
        }

        protected override DbTransaction BeginDbTransaction(IsolationLevel isolationLevel) =>
            throw new NotSupportedException("This connection is already in the request's transaction.");

        protected override DbCommand CreateDbCommand()
        {
            var command = inner.CreateCommand();
            command.Transaction = transaction;
            return inner is Npgsql.NpgsqlConnection ? new SavepointCommand(command, this) : command;
        }

        public override ValueTask DisposeAsync()
        {
            GC.SuppressFinalize(this);
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>
/// A PostgreSQL command in a request transaction, run behind a savepoint. PostgreSQL aborts the whole
/// transaction when one statement fails, while the endpoints expect statement-level failures (a unique or
/// foreign-key violation becomes a 409 and the request goes on to read the details). A failed statement
/// is rolled back to its savepoint, as SQLite does by itself, and the transaction stays usable.
/// </summary>
/// <remarks>
/// Note: the savepoint is sent in front of the statement, in the same command text and so in the same round
/// trip. Npgsql answers with the statement's own rows and counts: the savepoint returns no rows and counts none.
/// </remarks>
internal sealed class SavepointCommand(DbCommand inner, DbConnection connection) : DbCommand
{
    private const string Savepoint = "partner_statement";

    // The text with its savepoint in front, per statement text: building it on every execution was 6% of the
    // bytes an idempotent create allocated.
    private static readonly SqlTextCache<string> BehindSavepoint = new(static sql => $"SAVEPOINT {Savepoint}; {sql}");

    private string _commandText = inner.CommandText;

    [AllowNull]
    public override string CommandText
    {
        get => _commandText;
        set => _commandText = value ?? "";
    }

    public override int CommandTimeout
    {
        get => inner.CommandTimeout;
        set => inner.CommandTimeout = value;
    }

    public override CommandType CommandType
    {
        get => inner.CommandType;
        set => inner.CommandType = value;
    }

    public override bool DesignTimeVisible
    {
        get => inner.DesignTimeVisible;
        set => inner.DesignTimeVisible = value;
    }

    public override UpdateRowSource UpdatedRowSource
    {
        get => inner.UpdatedRowSource;
        set => inner.UpdatedRowSource = value;
    }

    protected override DbConnection? DbConnection
    {
        get => connection;
        set => throw new NotSupportedException("A request transaction's command stays with its connection.");
    }

    protected override DbParameterCollection DbParameterCollection => inner.Parameters;

    protected override DbTransaction? DbTransaction
    {
        get => inner.Transaction;
        set => inner.Transaction = value;
    }

    public override void Cancel() => inner.Cancel();

    public override void Prepare()
    {
    }

    protected override DbParameter CreateDbParameter() => inner.CreateParameter();

    public override int ExecuteNonQuery() => throw Synchronous();

    public override object? ExecuteScalar() => throw Synchronous();

    protected override DbDataReader ExecuteDbDataReader(CommandBehavior behavior) => throw Synchronous();

    public override Task<int> ExecuteNonQueryAsync(CancellationToken cancellationToken) =>
        RunAsync(() => inner.ExecuteNonQueryAsync(cancellationToken), cancellationToken);

    public override Task<object?> ExecuteScalarAsync(CancellationToken cancellationToken) =>
        RunAsync(() => inner.ExecuteScalarAsync(cancellationToken), cancellationToken);

    protected override Task<DbDataReader> ExecuteDbDataReaderAsync(CommandBehavior behavior, CancellationToken cancellationToken) =>
        RunAsync(() => inner.ExecuteReaderAsync(behavior, cancellationToken), cancellationToken);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private async Task<T> RunAsync<T>(Func<Task<T>> execute, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        inner.CommandText = BehindSavepoint.For(_commandText);
        try
        {
            return await execute();
        }
        catch (DbException)
        {
            // Note: savepoints are not released one by one; they end with the transaction.
            if (inner.Connection is { State: ConnectionState.Open } && inner.Transaction?.Connection is not null)
            {
                await RunControlAsync("ROLLBACK TO SAVEPOINT " + Savepoint, CancellationToken.None);
            }

            // Note: with the connection lost, the transaction is gone with it and there is nothing to roll back to: the
            // statement's own error goes on (a 503), not the "transaction is already completed" of a rollback (a 500).
            throw;
        }
    }

    private async Task RunControlAsync(string sql, CancellationToken cancellationToken)
    {
        await using var control = inner.Connection!.CreateCommand();
        control.CommandText = sql;
        control.Transaction = inner.Transaction;
        await control.ExecuteNonQueryAsync(cancellationToken);
    }

    private static NotSupportedException Synchronous() =>
        new("Requests run their database commands asynchronously.");
}
