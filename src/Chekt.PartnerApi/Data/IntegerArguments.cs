using System.Data.Common;
using System.Runtime.CompilerServices;

namespace Chekt.PartnerApi.Data;

/// <summary>
/// The parameters of a read whose parameters are all integers, by bare name (<c>dealerId</c> for <c>@dealerId</c>),
/// kept inline: binding them allocates nothing on SQLite (<see cref="SqliteStatementReader"/>).
/// </summary>
internal struct IntegerArguments
{
    public const int Capacity = 8;

    private Names _names;
    private Values _values;

    public int Count { get; private set; }

    public void Add(string name, long value)
    {
        if (Count == Capacity)
        {
            throw new InvalidOperationException($"A read takes at most {Capacity} integer arguments.");
        }

        _names[Count] = name;
        _values[Count] = value;
        Count++;
    }

    public readonly string NameAt(int index) => _names[index]!;

    public readonly long ValueAt(int index) => _values[index];

    public readonly bool TryGet(string name, out long value)
    {
        for (var index = 0; index < Count; index++)
        {
            if (string.Equals(_names[index], name, StringComparison.Ordinal))
            {
                value = _values[index];
                return true;
            }
        }

        value = 0;
        return false;
    }

    [InlineArray(Capacity)]
    private struct Names
    {
        private string? _element;
    }

    [InlineArray(Capacity)]
    private struct Values
    {
        private long _element;
    }
}

/// <summary>Reads whose parameters are all integers, such as the access query nearly every request runs.</summary>
internal static class IntegerArgumentReads
{
    /// <summary>
    /// Runs <paramref name="sql"/> with <paramref name="arguments"/> and hands its reader to <paramref name="read"/>;
    /// the reader is closed when <paramref name="read"/> completes. On a pooled SQLite session the statement runs
    /// straight on SQLite (<see cref="SqliteStatementReader"/>); anywhere else through an ordinary command.
    /// </summary>
    public static ValueTask<TResult> ReadAsync<TState, TResult>(this DbConnection connection, string sql, in IntegerArguments arguments,
        TState state, Func<DbDataReader, TState, CancellationToken, ValueTask<TResult>> read, CancellationToken cancellationToken) =>
        connection is PooledSqliteConnection sqlite && SqliteNative.Available
            ? ReadDirectAsync(sqlite.Session, sql, arguments, state, read, cancellationToken)
            : ReadThroughCommandAsync(connection, sql, arguments, state, read, cancellationToken);

    private static async ValueTask<TResult> ReadDirectAsync<TState, TResult>(SqliteSession session, string sql, IntegerArguments arguments,
        TState state, Func<DbDataReader, TState, CancellationToken, ValueTask<TResult>> read, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await using var reader = session.ReadDirect(sql, arguments);
        return await read(reader, state, cancellationToken);
    }

    private static async ValueTask<TResult> ReadThroughCommandAsync<TState, TResult>(DbConnection connection, string sql, IntegerArguments arguments,
        TState state, Func<DbDataReader, TState, CancellationToken, ValueTask<TResult>> read, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        for (var index = 0; index < arguments.Count; index++)
        {
            command.AddParameter(arguments.NameAt(index), arguments.ValueAt(index));
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await read(reader, state, cancellationToken);
    }
}
