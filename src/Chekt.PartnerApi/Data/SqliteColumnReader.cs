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
internal sealed class SqliteColumnReader(SqliteDataReader inner) : DbDataReader
{
    private const int SqliteInteger = 1;
    private const int SqliteText = 3;
    private const int SqliteNull = 5;

    // Note: when the native library cannot be reached under its bundled name (another SQLitePCLRaw
    // provider, an unusual platform), every read simply goes to the wrapped reader.
    private static readonly bool NativeReadsAvailable = ProbeNativeReads();

    /// <summary>Whether reads go straight to SQLite in this process.</summary>
    internal static bool NativeReads => NativeReadsAvailable;

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
        Direct(ordinal) ? Native.sqlite3_column_type(_statement, ordinal) == SqliteNull : inner.IsDBNull(ordinal);

    public override long GetInt64(int ordinal) =>
        Direct(ordinal) && Native.sqlite3_column_type(_statement, ordinal) == SqliteInteger
            ? Native.sqlite3_column_int64(_statement, ordinal)
            : inner.GetInt64(ordinal);

    public override string GetString(int ordinal)
    {
        if (Direct(ordinal) && Native.sqlite3_column_type(_statement, ordinal) == SqliteText)
        {
            // Text first, then its length in bytes (the order SQLite documents).
            var text = Native.sqlite3_column_text(_statement, ordinal);
            var length = Native.sqlite3_column_bytes(_statement, ordinal);
            if (text != 0)
            {
                return length == 0 ? "" : Marshal.PtrToStringUTF8(text, length);
            }
        }

        return inner.GetString(ordinal);
    }

    /// <summary>
    /// A text value as the UTF-8 SQLite stores, for a writer that takes bytes: no string is made. The bytes are
    /// copied into a buffer of the thread's and are good until the thread's next call; false when the value is not
    /// text or is not read straight from SQLite (the caller then uses <see cref="GetString"/>).
    /// </summary>
    internal bool TryGetUtf8(int ordinal, out ReadOnlySpan<byte> utf8)
    {
        utf8 = default;
        if (!Direct(ordinal) || Native.sqlite3_column_type(_statement, ordinal) != SqliteText)
        {
            return false;
        }

        // Text first, then its length in bytes (the order SQLite documents).
        var text = Native.sqlite3_column_text(_statement, ordinal);
        var length = Native.sqlite3_column_bytes(_statement, ordinal);
        if (text == 0)
        {
            return false;
        }

        var buffer = t_utf8 is { } kept && kept.Length >= length ? kept : t_utf8 = new byte[Math.Max(length, 1024)];
        Marshal.Copy(text, buffer, 0, length);
        utf8 = buffer.AsSpan(0, length);
        return true;
    }

    [ThreadStatic]
    private static byte[]? t_utf8;

    private static bool ProbeNativeReads()
    {
        try
        {
            return Native.sqlite3_libversion_number() == SQLitePCL.raw.sqlite3_libversion_number();
        }
        catch (Exception exception) when (exception is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return false;
        }
    }

    private void Track(bool onRow)
    {
        var statement = onRow && NativeReadsAvailable ? inner.Handle?.DangerousGetHandle() ?? 0 : 0;
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

    // Note: the same native library SQLitePCLRaw loads. These calls only read a value of the current row:
    // they are short, never block and never call back, which is what SuppressGCTransition requires.
    private static class Native
    {
        private const string Library = "e_sqlite3";

        [DllImport(Library)]
        public static extern int sqlite3_libversion_number();

        [DllImport(Library), SuppressGCTransition]
        public static extern int sqlite3_column_type(nint statement, int column);

        [DllImport(Library), SuppressGCTransition]
        public static extern long sqlite3_column_int64(nint statement, int column);

        [DllImport(Library), SuppressGCTransition]
        public static extern nint sqlite3_column_text(nint statement, int column);

        [DllImport(Library), SuppressGCTransition]
        public static extern int sqlite3_column_bytes(nint statement, int column);
    }
}
