using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
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

/// <summary>
/// Reads whose parameters are all integers, such as the access query nearly every request runs: straight on SQLite when
/// the connection is a pooled SQLite session (<see cref="TryReadDirect"/>), through an ordinary command anywhere else
/// (<see cref="CreateCommand"/>).
/// </summary>
/// <remarks>
/// Note: two synchronous calls rather than one asynchronous one that hides the choice. The caller awaits the command
/// path in its own asynchronous method: a helper that awaited it would add a state object to every PostgreSQL read
/// (about 350 bytes, measured), and one that took the arguments would carry them into it.
/// </remarks>
internal static class IntegerArgumentReads
{
    /// <summary>
    /// On a pooled SQLite session, runs <paramref name="sql"/> straight on SQLite and gives its reader, on the first row;
    /// the caller must close it. False on any other connection, or when the bundled SQLite library cannot be reached.
    /// </summary>
    public static bool TryReadDirect(this DbConnection connection, string sql, in IntegerArguments arguments, CancellationToken cancellationToken,
        [NotNullWhen(true)] out SqliteStatementReader? reader)
    {
        if (connection is not PooledSqliteConnection sqlite || !SqliteNative.Available)
        {
            reader = null;
            return false;
        }

        cancellationToken.ThrowIfCancellationRequested();
        reader = sqlite.Session.ReadDirect(sql, arguments);
        return true;
    }

    /// <summary>An ordinary command for <paramref name="sql"/> with <paramref name="arguments"/> as its parameters.</summary>
    public static DbCommand CreateCommand(this DbConnection connection, string sql, in IntegerArguments arguments)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        for (var index = 0; index < arguments.Count; index++)
        {
            command.AddParameter(arguments.NameAt(index), arguments.ValueAt(index));
        }

        return command;
    }
}
