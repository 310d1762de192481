using System.Collections;
using System.Data.Common;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Chekt.PartnerApi.Data;

/// <summary>
/// A statement a <see cref="SqliteSession"/> prepared itself, outside Microsoft.Data.Sqlite, for the reads it runs
/// straight on SQLite: the handle, and the bare name of each parameter by position.
/// </summary>
internal sealed class DirectStatement : IDisposable
{
    private DirectStatement(sqlite3_stmt handle, string?[] parameterNames, bool kept)
    {
        Handle = handle;
        Pointer = handle.DangerousGetHandle();
        ParameterNames = parameterNames;
        Kept = kept;
    }

    /// <summary>SQLitePCLRaw's handle (so diagnostics that walk a connection's statements find it too).</summary>
    public sqlite3_stmt Handle { get; }

    /// <summary>The native statement, valid until <see cref="Dispose"/>.</summary>
    public nint Pointer { get; }

    /// <summary>Parameter <c>i + 1</c>'s name without its prefix; null for a parameter without a name (<c>?</c>).</summary>
    public string?[] ParameterNames { get; }

    /// <summary>Whether the session keeps it for the next read of the same text.</summary>
    public bool Kept { get; }

    /// <summary>Whether a reader is reading it now.</summary>
    public bool InUse { get; set; }

    public static DirectStatement Prepare(sqlite3 connection, string sql, bool keep)
    {
        // Note: a kept statement is prepared as persistent, as SQLite advises for statements that are run many times.
        var rc = raw.sqlite3_prepare_v3(connection, sql, keep ? raw.SQLITE_PREPARE_PERSISTENT : 0u, out var handle, out var tail);
        if (rc != raw.SQLITE_OK)
        {
            handle?.Dispose();
            SqliteException.ThrowExceptionForRC(rc, connection);
        }

        if (handle is null || handle.IsInvalid || !string.IsNullOrWhiteSpace(tail))
        {
            handle?.Dispose();
            throw new InvalidOperationException("A direct read runs exactly one statement.");
        }

        var names = new string?[raw.sqlite3_bind_parameter_count(handle)];
        for (var index = 0; index < names.Length; index++)
        {
            var written = raw.sqlite3_bind_parameter_name(handle, index + 1).utf8_to_string();
            names[index] = string.IsNullOrEmpty(written) || written.Length < 2 || written[0] == '?' ? null : written[1..];
        }

        return new DirectStatement(handle, names, keep);
    }

    public void Dispose() => Handle.Dispose();
}

/// <summary>
/// The reader of a read a <see cref="SqliteSession"/> runs straight on SQLite: integer parameters bound and rows
/// stepped and read through <see cref="SqliteNative"/>, with no parameter, command, record or task object per run.
/// Microsoft.Data.Sqlite allocated about a kilobyte for each run of the access query (its parameters, a binder per
/// parameter, the reader, its record and row-id table, enumerators), half of what a list of contacts allocated.
/// </summary>
/// <remarks>
/// Note: the session reuses one reader object for its reads, one at a time; <see cref="Close"/> resets the statement,
/// which ends SQLite's read transaction, and hands the reader back. A session returned to its pool closes any reader
/// still open. A busy database is retried as Microsoft.Data.Sqlite does: every 150 ms until the command timeout.
/// </remarks>
internal sealed class SqliteStatementReader(SqliteSession session) : DbDataReader, IUtf8Columns
{
    private static readonly Task<bool> True = Task.FromResult(true);
    private static readonly Task<bool> False = Task.FromResult(false);

    private DirectStatement? _statement;
    private nint _pointer;
    private int _fieldCount;
    private bool _hasRows;
    private Position _position = Position.Closed;

    private enum Position
    {
        BeforeFirst,
        OnRow,
        AfterLast,
        Closed,
    }

    /// <summary>Binds <paramref name="arguments"/> and steps to the first row; on failure the reader is closed again.</summary>
    internal void Start(DirectStatement statement, in IntegerArguments arguments, int timeoutSeconds)
    {
        _statement = statement;
        _pointer = statement.Pointer;
        statement.InUse = true;
        _position = Position.BeforeFirst;
        try
        {
            Bind(statement, arguments);
            var rc = SqliteNative.sqlite3_step(_pointer);
            if (IsBusy(rc))
            {
                rc = StepWhileBusy(timeoutSeconds);
            }

            _hasRows = rc == SqliteNative.Row;
            if (!_hasRows && rc != SqliteNative.Done)
            {
                Fail(rc);
            }

            _fieldCount = SqliteNative.sqlite3_column_count(_pointer);
            if (!_hasRows)
            {
                _position = Position.AfterLast;
            }
        }
        catch
        {
            Close();
            throw;
        }
    }

    private static void Bind(DirectStatement statement, in IntegerArguments arguments)
    {
        var names = statement.ParameterNames;
        for (var index = 0; index < names.Length; index++)
        {
            if (names[index] is not { } name || !arguments.TryGet(name, out var value))
            {
                throw new InvalidOperationException($"Must add values for the following parameters: {raw.sqlite3_bind_parameter_name(statement.Handle, index + 1).utf8_to_string()}");
            }

            var rc = SqliteNative.sqlite3_bind_int64(statement.Pointer, index + 1, value);
            if (rc != SqliteNative.Ok)
            {
                throw new SqliteException($"SQLite Error {rc}: could not bind parameter {index + 1}.", rc);
            }
        }
    }

    private static bool IsBusy(int rc) => (rc & 0xFF) is SqliteNative.Busy or SqliteNative.Locked;

    private int StepWhileBusy(int timeoutSeconds)
    {
        var started = Stopwatch.GetTimestamp();
        int rc;
        do
        {
            if (timeoutSeconds != 0 && Stopwatch.GetElapsedTime(started).TotalMilliseconds >= timeoutSeconds * 1000.0)
            {
                return SqliteNative.Busy;
            }

            SqliteNative.sqlite3_reset(_pointer);
            Thread.Sleep(150);
            rc = SqliteNative.sqlite3_step(_pointer);
        }
        while (IsBusy(rc));

        return rc;
    }

    [DoesNotReturn]
    private void Fail(int rc)
    {
        var connection = session.Connection.Handle!;
        var message = raw.sqlite3_errmsg(connection).utf8_to_string();
        var extended = raw.sqlite3_extended_errcode(connection);
        SqliteNative.sqlite3_reset(_pointer);
        _position = Position.AfterLast;
        throw new SqliteException($"SQLite Error {rc & 0xFF}: '{message}'.", rc & 0xFF, extended);
    }

    public override bool Read()
    {
        switch (_position)
        {
            case Position.BeforeFirst:
                _position = Position.OnRow;
                return true;
            case Position.OnRow:
                var rc = SqliteNative.sqlite3_step(_pointer);
                if (rc == SqliteNative.Row)
                {
                    return true;
                }

                _position = Position.AfterLast;
                if (rc != SqliteNative.Done)
                {
                    Fail(rc);
                }

                return false;
            case Position.Closed:
                throw new InvalidOperationException("The reader is closed.");
            default:
                return false;
        }
    }

    public override Task<bool> ReadAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<bool>(cancellationToken);
        }

        try
        {
            return Read() ? True : False;
        }
        catch (Exception exception)
        {
            return Task.FromException<bool>(exception);
        }
    }

    public override bool NextResult() => false;

    public override Task<bool> NextResultAsync(CancellationToken cancellationToken) => False;

    public override int FieldCount => _position == Position.Closed ? throw Closed() : _fieldCount;

    public override int RecordsAffected => -1;

    public override bool HasRows => _hasRows;

    public override bool IsClosed => _position == Position.Closed;

    public override int Depth => 0;

    public override object this[int ordinal] => GetValue(ordinal);

    public override object this[string name] => GetValue(GetOrdinal(name));

    public override bool IsDBNull(int ordinal) => TypeOf(ordinal) == SqliteNative.Null;

    public override long GetInt64(int ordinal)
    {
        NotNull(ordinal);
        return SqliteNative.sqlite3_column_int64(_pointer, ordinal);
    }

    public override string GetString(int ordinal)
    {
        NotNull(ordinal);
        return SqliteNative.ReadText(_pointer, ordinal) ?? throw new OutOfMemoryException("SQLite could not give the text of the column.");
    }

    public bool TryGetUtf8(int ordinal, out ReadOnlySpan<byte> utf8)
    {
        TypeOf(ordinal);
        return SqliteNative.TryCopyText(_pointer, ordinal, out utf8);
    }

    public override double GetDouble(int ordinal)
    {
        NotNull(ordinal);
        return SqliteNative.sqlite3_column_double(_pointer, ordinal);
    }

    public override bool GetBoolean(int ordinal) => GetInt64(ordinal) != 0;

    public override byte GetByte(int ordinal) => checked((byte)GetInt64(ordinal));

    public override short GetInt16(int ordinal) => checked((short)GetInt64(ordinal));

    public override int GetInt32(int ordinal) => checked((int)GetInt64(ordinal));

    public override float GetFloat(int ordinal) => (float)GetDouble(ordinal);

    // Note: the conversions Microsoft.Data.Sqlite makes from text, REAL and BLOB values (dates, decimals, GUIDs, chars,
    // chunked bytes and characters) are not repeated here: no direct read asks for them, and a copy would differ in
    // its details. They are refused rather than answered differently.
    public override decimal GetDecimal(int ordinal) => throw Unsupported(nameof(GetDecimal));

    public override DateTime GetDateTime(int ordinal) => throw Unsupported(nameof(GetDateTime));

    public override Guid GetGuid(int ordinal) => throw Unsupported(nameof(GetGuid));

    public override char GetChar(int ordinal) => throw Unsupported(nameof(GetChar));

    public override long GetBytes(int ordinal, long dataOffset, byte[]? buffer, int bufferOffset, int length) => throw Unsupported(nameof(GetBytes));

    public override long GetChars(int ordinal, long dataOffset, char[]? buffer, int bufferOffset, int length) => throw Unsupported(nameof(GetChars));

    public override string GetDataTypeName(int ordinal) => throw Unsupported(nameof(GetDataTypeName));

    private static NotSupportedException Unsupported(string getter) =>
        new($"{getter} is not supported on a direct SQLite read; read the value with GetValue, GetInt64, GetDouble or GetString.");

    public override object GetValue(int ordinal) => TypeOf(ordinal) switch
    {
        SqliteNative.Integer => SqliteNative.sqlite3_column_int64(_pointer, ordinal),
        SqliteNative.Float => SqliteNative.sqlite3_column_double(_pointer, ordinal),
        SqliteNative.Text => GetString(ordinal),
        SqliteNative.Blob => GetBlob(ordinal),
        _ => DBNull.Value,
    };

    public override int GetValues(object[] values)
    {
        var count = Math.Min(values.Length, FieldCount);
        for (var ordinal = 0; ordinal < count; ordinal++)
        {
            values[ordinal] = GetValue(ordinal);
        }

        return count;
    }

    [return: DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicFields | DynamicallyAccessedMemberTypes.PublicProperties)]
    public override Type GetFieldType(int ordinal) => TypeOf(ordinal) switch
    {
        SqliteNative.Integer => typeof(long),
        SqliteNative.Float => typeof(double),
        SqliteNative.Text => typeof(string),
        SqliteNative.Blob => typeof(byte[]),
        _ => typeof(object),
    };

    public override string GetName(int ordinal) => raw.sqlite3_column_name(Statement(ordinal).Handle, ordinal).utf8_to_string();

    public override int GetOrdinal(string name)
    {
        for (var ordinal = 0; ordinal < FieldCount; ordinal++)
        {
            if (string.Equals(GetName(ordinal), name, StringComparison.Ordinal))
            {
                return ordinal;
            }
        }

        for (var ordinal = 0; ordinal < FieldCount; ordinal++)
        {
            if (string.Equals(GetName(ordinal), name, StringComparison.OrdinalIgnoreCase))
            {
                return ordinal;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(name), name, "The reader has no column of that name.");
    }

    public override IEnumerator GetEnumerator() => new DbEnumerator(this, closeReader: false);

    private byte[] GetBlob(int ordinal)
    {
        NotNull(ordinal);
        // Blob first, then its length in bytes (the order SQLite documents).
        var blob = SqliteNative.sqlite3_column_blob(_pointer, ordinal);
        var length = SqliteNative.sqlite3_column_bytes(_pointer, ordinal);
        var bytes = new byte[length];
        if (length > 0)
        {
            Marshal.Copy(blob, bytes, 0, length);
        }

        return bytes;
    }

    private DirectStatement Statement(int ordinal)
    {
        if (_statement is null || _position == Position.Closed)
        {
            throw Closed();
        }

        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)ordinal, (uint)_fieldCount, nameof(ordinal));
        return _statement;
    }

    /// <summary>The SQLite type of the current row's value; throws off a row or out of range.</summary>
    private int TypeOf(int ordinal)
    {
        if (_position != Position.OnRow)
        {
            throw _position == Position.Closed ? Closed() : new InvalidOperationException("No row is current: call Read first, and only while it returns true.");
        }

        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)ordinal, (uint)_fieldCount, nameof(ordinal));
        return SqliteNative.sqlite3_column_type(_pointer, ordinal);
    }

    private void NotNull(int ordinal)
    {
        if (TypeOf(ordinal) == SqliteNative.Null)
        {
            throw new InvalidOperationException($"The data is NULL at ordinal {ordinal}. This method can't be called on NULL values. Check using IsDBNull before calling.");
        }
    }

    private static InvalidOperationException Closed() => new("The reader is closed.");

    /// <summary>Resets the statement (ending SQLite's read transaction) and hands the reader back to its session.</summary>
    public override void Close()
    {
        if (_position == Position.Closed || _statement is not { } statement)
        {
            return;
        }

        _position = Position.Closed;
        _statement = null;
        _pointer = 0;
        // Note: reset's result repeats the last step's error, already thrown; the statement is ready to run again either way.
        SqliteNative.sqlite3_reset(statement.Pointer);
        statement.InUse = false;
        session.Closed(this, statement);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Close();
        }

        // Note: not base.Dispose: the session reuses this reader, and DbDataReader's disposal has nothing of its own to free.
    }

    public override ValueTask DisposeAsync()
    {
        Close();
        return ValueTask.CompletedTask;
    }
}
