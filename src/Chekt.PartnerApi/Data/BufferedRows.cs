using System.Collections;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Chekt.PartnerApi.Data;

/// <summary>The complete answer of one statement (its columns, rows and changes), read on another connection.</summary>
internal sealed class BufferedRows
{
    private BufferedRows(string[] names, Type[] fieldTypes, List<object[]> rows, int recordsAffected)
    {
        Names = names;
        FieldTypes = fieldTypes;
        Rows = rows;
        RecordsAffected = recordsAffected;
    }

    public string[] Names { get; }

    /// <summary>As the statement's own reader reported them before its first row, which is what Dapper asks.</summary>
    public Type[] FieldTypes { get; }

    public List<object[]> Rows { get; }

    public int RecordsAffected { get; }

    /// <summary>The same columns with one of the rows only.</summary>
    public BufferedRows OnlyRow(object[] row) => new(Names, FieldTypes, [row], RecordsAffected);

    /// <summary>The same columns without any row.</summary>
    public BufferedRows WithoutRows() => new(Names, FieldTypes, [], RecordsAffected);

    /// <summary>A statement that answered without a result set.</summary>
    public static BufferedRows Empty(int recordsAffected) => new([], [], [], recordsAffected);

    /// <summary>The same rows with the change count its statement reported once the whole batch had run.</summary>
    public BufferedRows WithRecordsAffected(int recordsAffected) => new(Names, FieldTypes, Rows, recordsAffected);

    private static (string[] Names, Type[] FieldTypes) Describe(DbDataReader reader)
    {
        var fieldCount = reader.FieldCount;
        var names = new string[fieldCount];
        var fieldTypes = new Type[fieldCount];
        for (var ordinal = 0; ordinal < fieldCount; ordinal++)
        {
            names[ordinal] = reader.GetName(ordinal);
            fieldTypes[ordinal] = reader.GetFieldType(ordinal);
        }

        return (names, fieldTypes);
    }

    /// <summary>The reader's current result set.</summary>
    public static BufferedRows Read(DbDataReader reader)
    {
        var (names, fieldTypes) = Describe(reader);
        var rows = new List<object[]>();
        while (reader.Read())
        {
            var values = new object[names.Length];
            reader.GetValues(values);
            rows.Add(values);
        }

        return new BufferedRows(names, fieldTypes, rows, reader.RecordsAffected);
    }

    /// <summary>
    /// The current result set of a combined statement (<see cref="PositionalSql.CombinedText"/>), one answer per statement
    /// it ran: each row goes to the statement its first column numbers (from 1), without that column.
    /// </summary>
    public static BufferedRows[] ReadCombined(DbDataReader reader, int statements)
    {
        var (allNames, allFieldTypes) = Describe(reader);
        string[] names = allNames[1..];
        Type[] fieldTypes = allFieldTypes[1..];
        var rows = new List<object[]>[statements];
        for (var statement = 0; statement < statements; statement++)
        {
            rows[statement] = [];
        }

        while (reader.Read())
        {
            var statement = reader.GetInt64(0) - 1;
            if (statement < 0 || statement >= statements)
            {
                throw new InvalidOperationException($"A combined statement answered a row for statement {statement + 1} of {statements}.");
            }

            var values = new object[names.Length];
            for (var ordinal = 0; ordinal < values.Length; ordinal++)
            {
                values[ordinal] = reader.GetValue(ordinal + 1);
            }

            rows[statement].Add(values);
        }

        return [.. rows.Select(statementRows => new BufferedRows(names, fieldTypes, statementRows, reader.RecordsAffected))];
    }

    public DbDataReader CreateReader() => new Reader(this);

    /// <summary>Reads a <see cref="BufferedRows"/> with the conversions SQLite's and Npgsql's readers make for the values the API stores.</summary>
    private sealed class Reader(BufferedRows buffered) : DbDataReader
    {
        private int _row = -1;
        private bool _closed;

        private object[] Current => _row >= 0 && _row < buffered.Rows.Count
            ? buffered.Rows[_row]
            : throw new InvalidOperationException("No current row.");

        public override int FieldCount => buffered.Names.Length;

        public override int RecordsAffected => buffered.RecordsAffected;

        public override bool HasRows => buffered.Rows.Count > 0;

        public override bool IsClosed => _closed;

        public override int Depth => 0;

        public override object this[int ordinal] => GetValue(ordinal);

        public override object this[string name] => GetValue(GetOrdinal(name));

        public override bool Read() => !_closed && ++_row < buffered.Rows.Count;

        public override bool NextResult()
        {
            _row = buffered.Rows.Count;
            return false;
        }

        public override void Close() => _closed = true;

        public override string GetName(int ordinal) => buffered.Names[ordinal];

        public override int GetOrdinal(string name)
        {
            var ordinal = Array.FindIndex(buffered.Names, candidate => string.Equals(candidate, name, StringComparison.OrdinalIgnoreCase));
            return ordinal >= 0 ? ordinal : throw new IndexOutOfRangeException(name);
        }

        [return: DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicFields | DynamicallyAccessedMemberTypes.PublicProperties)]
        public override Type GetFieldType(int ordinal) => buffered.FieldTypes[ordinal];

        public override string GetDataTypeName(int ordinal) => buffered.FieldTypes[ordinal].Name;

        public override object GetValue(int ordinal) => Current[ordinal];

        public override int GetValues(object[] values)
        {
            var count = Math.Min(values.Length, FieldCount);
            Array.Copy(Current, values, count);
            return count;
        }

        public override bool IsDBNull(int ordinal) => Current[ordinal] is DBNull;

        public override long GetInt64(int ordinal) => Current[ordinal] is long value ? value : Convert.ToInt64(Current[ordinal], CultureInfo.InvariantCulture);

        public override int GetInt32(int ordinal) => (int)GetInt64(ordinal);

        public override short GetInt16(int ordinal) => (short)GetInt64(ordinal);

        public override byte GetByte(int ordinal) => (byte)GetInt64(ordinal);

        public override bool GetBoolean(int ordinal) => GetInt64(ordinal) != 0;

        public override double GetDouble(int ordinal) => Convert.ToDouble(Current[ordinal], CultureInfo.InvariantCulture);

        public override float GetFloat(int ordinal) => (float)GetDouble(ordinal);

        public override decimal GetDecimal(int ordinal) => Convert.ToDecimal(Current[ordinal], CultureInfo.InvariantCulture);

        public override string GetString(int ordinal) => Current[ordinal] as string ?? Convert.ToString(Current[ordinal], CultureInfo.InvariantCulture)!;

        public override char GetChar(int ordinal) => GetString(ordinal)[0];

        public override DateTime GetDateTime(int ordinal) => Convert.ToDateTime(Current[ordinal], CultureInfo.InvariantCulture);

        public override Guid GetGuid(int ordinal) => Current[ordinal] switch
        {
            Guid guid => guid,
            byte[] bytes => new Guid(bytes),
            _ => Guid.Parse(GetString(ordinal)),
        };

        public override T GetFieldValue<T>(int ordinal)
        {
            var value = Current[ordinal];
            if (value is T typed)
            {
                return typed;
            }

            if (value is DBNull && default(T) is null)
            {
                return default!;
            }

            var target = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
            return (T)Convert.ChangeType(value, target, CultureInfo.InvariantCulture);
        }

        public override long GetBytes(int ordinal, long dataOffset, byte[]? buffer, int bufferOffset, int length) =>
            Copy((byte[])Current[ordinal], dataOffset, buffer, bufferOffset, length);

        public override long GetChars(int ordinal, long dataOffset, char[]? buffer, int bufferOffset, int length) =>
            Copy(GetString(ordinal).ToCharArray(), dataOffset, buffer, bufferOffset, length);

        private static long Copy<T>(T[] source, long dataOffset, T[]? buffer, int bufferOffset, int length)
        {
            if (buffer is null)
            {
                return source.Length;
            }

            var count = (int)Math.Max(0, Math.Min(length, source.Length - dataOffset));
            Array.Copy(source, dataOffset, buffer, bufferOffset, count);
            return count;
        }

        public override IEnumerator GetEnumerator() => new DbEnumerator(this);
    }
}
