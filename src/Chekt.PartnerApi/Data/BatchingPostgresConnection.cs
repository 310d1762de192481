using System.Collections;
using System.Data;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using Npgsql;

namespace Chekt.PartnerApi.Data;

/// <summary>
/// What <see cref="Db.OpenAsync"/> hands out on PostgreSQL while <see cref="PostgresBatching"/> is on: an
/// ordinary <see cref="DbConnection"/> (Dapper works unchanged) whose single statements, run asynchronously
/// outside a transaction, go through the batches. Anything else (a transaction, a synchronous call, several
/// statements in one text) opens a pooled connection of its own on first use, and from then on every
/// command of this connection runs there, so a transaction sees all of its caller's statements.
/// </summary>
internal sealed class BatchingPostgresConnection(PostgresBatching batching, NpgsqlDataSource source) : DbConnection
{
    private NpgsqlConnection? _inner;
    private bool _closed;

    /// <summary>The batches, while this connection has not needed a connection of its own.</summary>
    internal PostgresBatching? Batching => _inner is null ? batching : null;

    internal async ValueTask<NpgsqlConnection> InnerAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        return _inner ??= await source.OpenConnectionAsync(cancellationToken);
    }

    internal NpgsqlConnection Inner()
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        return _inner ??= source.OpenConnection();
    }

    [AllowNull]
    public override string ConnectionString
    {
        get => source.ConnectionString;
        set => throw new NotSupportedException("A batching connection's connection string cannot change.");
    }

    public override string Database => new NpgsqlConnectionStringBuilder(source.ConnectionString).Database ?? "";

    public override string DataSource => new NpgsqlConnectionStringBuilder(source.ConnectionString).Host ?? "";

    public override string ServerVersion => Inner().ServerVersion;

    public override ConnectionState State => _closed ? ConnectionState.Closed : ConnectionState.Open;

    protected override DbTransaction BeginDbTransaction(IsolationLevel isolationLevel) => Inner().BeginTransaction(isolationLevel);

    protected override async ValueTask<DbTransaction> BeginDbTransactionAsync(IsolationLevel isolationLevel, CancellationToken cancellationToken) =>
        await (await InnerAsync(cancellationToken)).BeginTransactionAsync(isolationLevel, cancellationToken);

    public override void ChangeDatabase(string databaseName) => throw new NotSupportedException();

    public override void Open() => ObjectDisposedException.ThrowIf(_closed, this);

    public override void Close()
    {
        _closed = true;
        _inner?.Dispose();
        _inner = null;
    }

    protected override DbCommand CreateDbCommand() => new BatchingPostgresCommand(this);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Close();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        _closed = true;
        if (_inner is not null)
        {
            await _inner.DisposeAsync();
            _inner = null;
        }

        GC.SuppressFinalize(this);
    }
}

/// <summary>A command of a <see cref="BatchingPostgresConnection"/>: batched when it can be, else an ordinary Npgsql command.</summary>
internal sealed class BatchingPostgresCommand(BatchingPostgresConnection connection) : DbCommand
{
    private readonly ParameterList _parameters = new();
    private NpgsqlCommand? _direct;

    [AllowNull]
    public override string CommandText { get; set; } = "";

    public override int CommandTimeout { get; set; } = 30;

    public override CommandType CommandType { get; set; } = CommandType.Text;

    public override bool DesignTimeVisible { get; set; }

    public override UpdateRowSource UpdatedRowSource { get; set; }

    protected override DbConnection? DbConnection
    {
        get => connection;
        set => throw new NotSupportedException("A batching command stays with its connection.");
    }

    protected override DbParameterCollection DbParameterCollection => _parameters;

    protected override DbTransaction? DbTransaction { get; set; }

    public override void Cancel() => _direct?.Cancel();

    public override void Prepare()
    {
    }

    protected override DbParameter CreateDbParameter() => new NpgsqlParameter();

    public override int ExecuteNonQuery() => Direct(connection.Inner()).ExecuteNonQuery();

    public override object? ExecuteScalar() => Direct(connection.Inner()).ExecuteScalar();

    protected override DbDataReader ExecuteDbDataReader(CommandBehavior behavior) => Direct(connection.Inner()).ExecuteReader(behavior);

    public override async Task<int> ExecuteNonQueryAsync(CancellationToken cancellationToken) =>
        BatchedKind() is var kind && kind != StatementKind.None
            ? (await RunBatchedAsync(kind, firstRowOnly: false, cancellationToken)).RecordsAffected
            : await Direct(await connection.InnerAsync(cancellationToken)).ExecuteNonQueryAsync(cancellationToken);

    public override async Task<object?> ExecuteScalarAsync(CancellationToken cancellationToken)
    {
        if (BatchedKind() is var kind && kind == StatementKind.None)
        {
            return await Direct(await connection.InnerAsync(cancellationToken)).ExecuteScalarAsync(cancellationToken);
        }

        var rows = await RunBatchedAsync(kind, firstRowOnly: true, cancellationToken);
        return rows.Rows.Count > 0 && rows.Names.Length > 0 ? rows.Rows[0][0] : null;
    }

    protected override async Task<DbDataReader> ExecuteDbDataReaderAsync(CommandBehavior behavior, CancellationToken cancellationToken) =>
        BatchedKind() is var kind && kind != StatementKind.None
            ? (await RunBatchedAsync(kind, (behavior & CommandBehavior.SingleRow) != 0, cancellationToken)).CreateReader()
            : await Direct(await connection.InnerAsync(cancellationToken)).ExecuteReaderAsync(behavior, cancellationToken);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _direct?.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>How the command joins a batch; <see cref="StatementKind.None"/> when it runs on its own.</summary>
    private StatementKind BatchedKind() =>
        connection.Batching is not null && DbTransaction is null && CommandType == CommandType.Text
            ? SqlText.Classify(CommandText)
            : StatementKind.None;

    private Task<BufferedRows> RunBatchedAsync(StatementKind kind, bool firstRowOnly, CancellationToken cancellationToken) =>
        connection.Batching!.RunAsync(CommandText, kind, _parameters.Take(), CommandTimeout, cancellationToken, firstRowOnly);

    private NpgsqlCommand Direct(NpgsqlConnection inner)
    {
        _direct?.Parameters.Clear();
        _direct?.Dispose();
        _direct = new NpgsqlCommand(CommandText, inner, DbTransaction as NpgsqlTransaction)
        {
            CommandTimeout = CommandTimeout,
            CommandType = CommandType,
        };
        foreach (var parameter in _parameters.Take())
        {
            _direct.Parameters.Add(parameter);
        }

        return _direct;
    }

    /// <summary>
    /// The command's parameters until it runs. A parameter can belong to one Npgsql collection at a time, so
    /// they are kept here, outside Npgsql, and handed to the statement that runs them.
    /// </summary>
    private sealed class ParameterList : DbParameterCollection
    {
        private readonly List<NpgsqlParameter> _items = [];

        public NpgsqlParameter[] Take() => [.. _items];

        public override int Count => _items.Count;

        public override object SyncRoot => _items;

        public override int Add(object value)
        {
            _items.Add(Cast(value));
            return _items.Count - 1;
        }

        public override void AddRange(Array values)
        {
            foreach (var value in values)
            {
                Add(value!);
            }
        }

        public override void Clear() => _items.Clear();

        public override bool Contains(object value) => value is NpgsqlParameter parameter && _items.Contains(parameter);

        public override bool Contains(string value) => IndexOf(value) >= 0;

        public override void CopyTo(Array array, int index) => ((ICollection)_items).CopyTo(array, index);

        public override IEnumerator GetEnumerator() => _items.GetEnumerator();

        public override int IndexOf(object value) => value is NpgsqlParameter parameter ? _items.IndexOf(parameter) : -1;

        public override int IndexOf(string parameterName) =>
            _items.FindIndex(parameter => string.Equals(Bare(parameter.ParameterName), Bare(parameterName), StringComparison.Ordinal));

        public override void Insert(int index, object value) => _items.Insert(index, Cast(value));

        public override void Remove(object value) => _items.Remove(Cast(value));

        public override void RemoveAt(int index) => _items.RemoveAt(index);

        public override void RemoveAt(string parameterName) => RemoveAt(IndexOrThrow(parameterName));

        protected override DbParameter GetParameter(int index) => _items[index];

        protected override DbParameter GetParameter(string parameterName) => _items[IndexOrThrow(parameterName)];

        protected override void SetParameter(int index, DbParameter value) => _items[index] = Cast(value);

        protected override void SetParameter(string parameterName, DbParameter value) => _items[IndexOrThrow(parameterName)] = Cast(value);

        private int IndexOrThrow(string parameterName) =>
            IndexOf(parameterName) is var index and >= 0 ? index : throw new IndexOutOfRangeException($"No parameter named {parameterName}.");

        private static string Bare(string name) => name.TrimStart('@', ':');

        private static NpgsqlParameter Cast(object value) =>
            value as NpgsqlParameter ?? throw new InvalidCastException("Only NpgsqlParameter objects can be added.");
    }
}
