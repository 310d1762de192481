using System.Collections;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;

namespace Chekt.PartnerApi.Data;

/// <summary>
/// A SQLite reader whose integer, text and null checks call SQLite directly. Microsoft.Data.Sqlite reaches
/// SQLite through SQLitePCLRaw, whose every call takes and releases a reference on the statement's
/// SafeHandle and makes a full GC transition: about 15% of a list request's CPU, spent on the column reads
/// of a few dozen values. Everything else (stepping, names, types, other conversions, errors) is the
/// wrapped reader's.
/// </summary>
/// <remarks>
/// Note: the direct path is taken only on a current row, for an ordinal in range and a value of the exact
/// SQLite type (INTEGER for <see cref="GetInt64"/>, TEXT for <see cref="GetString"/>); anything else goes
/// to the wrapped reader, so conversions and exceptions stay exactly Microsoft.Data.Sqlite's. The
/// statement stays alive while the wrapped reader is open, which is the only time these are called.
/// </remarks>
internal sealed class SqliteColumnReader(SqliteDataReader inner) : DbDataReader, IUtf8Columns
{
    private nint _statement;
    private int _fieldCount;

    public override bool Read()
    {
        var onRow = inner.Read();
        Track(onRow);
        return onRow;
    }

    public override async Task<bool> ReadAsync(CancellationToken cancellationToken)
    {
        var onRow = await inner.ReadAsync(cancellationToken);
        Track(onRow);
        return onRow;
    }

    public override bool NextResult()
    {
        _statement = 0;
        return inner.NextResult();
    }

    public override async Task<bool> NextResultAsync(CancellationToken cancellationToken)
    {
        _statement = 0;
        return await inner.NextResultAsync(cancellationToken);
    }

    public override bool IsDBNull(int ordinal) =>
        Direct(ordinal) ? SqliteNative.sqlite3_column_type(_statement, ordinal) == SqliteNative.Null : inner.IsDBNull(ordinal);

    public override long GetInt64(int ordinal) =>
        Direct(ordinal) && SqliteNative.sqlite3_column_type(_statement, ordinal) == SqliteNative.Integer
            ? SqliteNative.sqlite3_column_int64(_statement, ordinal)
            : inner.GetInt64(ordinal);

    public override string GetString(int ordinal) =>
        Direct(ordinal) && SqliteNative.sqlite3_column_type(_statement, ordinal) == SqliteNative.Text
            && SqliteNative.ReadText(_statement, ordinal) is { } text
            ? text
            : inner.GetString(ordinal);

    /// <inheritdoc/>
    public bool TryGetUtf8(int ordinal, out ReadOnlySpan<byte> utf8)
    {
        if (Direct(ordinal))
        {
            return SqliteNative.TryCopyText(_statement, ordinal, out utf8);
        }

        utf8 = default;
        return false;
    }

    private void Track(bool onRow)
    {
        var statement = onRow && SqliteNative.Available ? inner.Handle?.DangerousGetHandle() ?? 0 : 0;
        if (statement != 0 && statement != _statement)
        {
            _fieldCount = inner.FieldCount;
        }

        _statement = statement;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Direct(int ordinal) => _statement != 0 && (uint)ordinal < (uint)_fieldCount;

    public override int FieldCount => inner.FieldCount;

    public override int RecordsAffected => inner.RecordsAffected;

    public override bool HasRows => inner.HasRows;

    public override bool IsClosed => inner.IsClosed;

    public override int Depth => inner.Depth;

    public override object this[int ordinal] => inner[ordinal];

    public override object this[string name] => inner[name];

    public override string GetName(int ordinal) => inner.GetName(ordinal);

    public override int GetOrdinal(string name) => inner.GetOrdinal(name);

    [return: DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicFields | DynamicallyAccessedMemberTypes.PublicProperties)]
    public override Type GetFieldType(int ordinal) => inner.GetFieldType(ordinal);

    public override string GetDataTypeName(int ordinal) => inner.GetDataTypeName(ordinal);

    public override object GetValue(int ordinal) => inner.GetValue(ordinal);

    public override int GetValues(object[] values) => inner.GetValues(values);

    public override bool GetBoolean(int ordinal) => inner.GetBoolean(ordinal);

    public override byte GetByte(int ordinal) => inner.GetByte(ordinal);

    public override long GetBytes(int ordinal, long dataOffset, byte[]? buffer, int bufferOffset, int length) =>
        inner.GetBytes(ordinal, dataOffset, buffer, bufferOffset, length);

    public override char GetChar(int ordinal) => inner.GetChar(ordinal);

    public override long GetChars(int ordinal, long dataOffset, char[]? buffer, int bufferOffset, int length) =>
        inner.GetChars(ordinal, dataOffset, buffer, bufferOffset, length);

    public override DateTime GetDateTime(int ordinal) => inner.GetDateTime(ordinal);

    public override decimal GetDecimal(int ordinal) => inner.GetDecimal(ordinal);

    public override double GetDouble(int ordinal) => inner.GetDouble(ordinal);

    public override float GetFloat(int ordinal) => inner.GetFloat(ordinal);

    public override Guid GetGuid(int ordinal) => inner.GetGuid(ordinal);

    public override short GetInt16(int ordinal) => inner.GetInt16(ordinal);

    public override int GetInt32(int ordinal) => inner.GetInt32(ordinal);

    public override T GetFieldValue<T>(int ordinal) => inner.GetFieldValue<T>(ordinal);

    public override IEnumerator GetEnumerator() => inner.GetEnumerator();

    public override void Close()
    {
        _statement = 0;
        inner.Close();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _statement = 0;
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}
