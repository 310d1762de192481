using System.Runtime.InteropServices;

namespace Chekt.PartnerApi.Data;

/// <summary>
/// SQLite's C functions called directly on a statement's handle, for the hot paths (<see cref="SqliteColumnReader"/>,
/// <see cref="SqliteStatementReader"/>). SQLitePCLRaw takes and releases a reference on the statement's SafeHandle and
/// makes a full GC transition on every call, which on a read of a few dozen values is a visible share of its CPU.
/// </summary>
/// <remarks>
/// Note: the same native library SQLitePCLRaw loads. The calls marked <see cref="SuppressGCTransitionAttribute"/>
/// only read a value of the current row or bind a value: they are short, never block and never call back, which
/// is what that attribute requires. Stepping and resetting can wait (for a lock, for the disk) and keep the transition.
/// </remarks>
internal static class SqliteNative
{
    private const string Library = "e_sqlite3";

    public const int Ok = 0;
    public const int Busy = 5;
    public const int Locked = 6;
    public const int Row = 100;
    public const int Done = 101;

    public const int Integer = 1;
    public const int Float = 2;
    public const int Text = 3;
    public const int Blob = 4;
    public const int Null = 5;

    // Note: when the native library cannot be reached under its bundled name (another SQLitePCLRaw provider,
    // an unusual platform), the callers keep to Microsoft.Data.Sqlite.
    private static readonly bool s_available = Probe();

    /// <summary>Whether these calls reach the library SQLitePCLRaw uses, in this process.</summary>
    public static bool Available => s_available;

    [ThreadStatic]
    private static byte[]? t_utf8;

    /// <summary>
    /// A text value as the UTF-8 SQLite stores, copied into a buffer of the thread's that is good until the thread's
    /// next call; false when the value is not text.
    /// </summary>
    public static bool TryCopyText(nint statement, int ordinal, out ReadOnlySpan<byte> utf8)
    {
        utf8 = default;
        if (sqlite3_column_type(statement, ordinal) != Text)
        {
            return false;
        }

        // Text first, then its length in bytes (the order SQLite documents).
        var text = sqlite3_column_text(statement, ordinal);
        var length = sqlite3_column_bytes(statement, ordinal);
        if (text == 0)
        {
            return false;
        }

        var buffer = t_utf8 is { } kept && kept.Length >= length ? kept : t_utf8 = new byte[Math.Max(length, 1024)];
        Marshal.Copy(text, buffer, 0, length);
        utf8 = buffer.AsSpan(0, length);
        return true;
    }

    /// <summary>A text value as a string; null when SQLite has no text for it (out of memory).</summary>
    public static string? ReadText(nint statement, int ordinal)
    {
        // Text first, then its length in bytes (the order SQLite documents).
        var text = sqlite3_column_text(statement, ordinal);
        var length = sqlite3_column_bytes(statement, ordinal);
        return text == 0 ? null : length == 0 ? "" : Marshal.PtrToStringUTF8(text, length);
    }

    private static bool Probe()
    {
        try
        {
            return sqlite3_libversion_number() == SQLitePCL.raw.sqlite3_libversion_number();
        }
        catch (Exception exception) when (exception is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return false;
        }
    }

    [DllImport(Library)]
    public static extern int sqlite3_libversion_number();

    [DllImport(Library)]
    public static extern int sqlite3_step(nint statement);

    [DllImport(Library)]
    public static extern int sqlite3_reset(nint statement);

    [DllImport(Library), SuppressGCTransition]
    public static extern int sqlite3_bind_int64(nint statement, int index, long value);

    [DllImport(Library), SuppressGCTransition]
    public static extern int sqlite3_column_count(nint statement);

    [DllImport(Library), SuppressGCTransition]
    public static extern int sqlite3_column_type(nint statement, int column);

    [DllImport(Library), SuppressGCTransition]
    public static extern long sqlite3_column_int64(nint statement, int column);

    [DllImport(Library), SuppressGCTransition]
    public static extern double sqlite3_column_double(nint statement, int column);

    [DllImport(Library), SuppressGCTransition]
    public static extern nint sqlite3_column_text(nint statement, int column);

    [DllImport(Library), SuppressGCTransition]
    public static extern nint sqlite3_column_blob(nint statement, int column);

    [DllImport(Library), SuppressGCTransition]
    public static extern int sqlite3_column_bytes(nint statement, int column);
}
