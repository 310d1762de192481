using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Npgsql;
using NpgsqlTypes;

namespace Chekt.PartnerApi.Data;

/// <summary>
/// For an <c>INSERT INTO table (columns) VALUES (@a, @b, …) RETURNING …</c> of one row, the statement that inserts the rows
/// of several such inserts at once: <c>INSERT … SELECT … FROM unnest($1::bigint[], $2::text[], …)</c>, with the same
/// RETURNING. Worked out once per text. A guarded insert, <c>INSERT INTO table (columns) SELECT @a, @b, … WHERE [NOT] EXISTS
/// (…) RETURNING …</c>, which inserts its row only when its condition holds, keeps its condition for each row.
/// </summary>
/// <remarks>
/// Note: PostgreSQL does not promise that RETURNING answers rows in the order they were inserted, so the rows are not
/// handed out by their order. Each answered row goes to the insert whose own arguments it carries: the RETURNING columns
/// that are inserted columns must hold, for every insert of the statement, values no other insert of it has
/// (<see cref="Key"/>), and a row whose values match no insert, or one already answered, fails the batch instead of
/// reaching anyone. Only integer and text arguments take part, whose values PostgreSQL answers exactly as given.
/// </remarks>
internal sealed partial class CombinedInsert
{
    private static readonly SqlTextCache<CombinedInsert?> Known = new(Parse);

    // The alias of the argument rows in the combined text.
    private const string ArgumentRows = "batched";

    private readonly string _table;
    private readonly string[] _columns;
    private readonly int[] _columnPlaceholders;
    private readonly string _returning;
    private readonly string? _condition;
    private readonly int[] _echoedPlaceholders;
    private readonly int[] _echoedOrdinals;
    private readonly ConcurrentDictionary<string, string> _texts = new(StringComparer.Ordinal);

    private CombinedInsert(
        PositionalSql positional, string table, string[] columns, int[] columnPlaceholders, string returning, (int Ordinal, int Placeholder)[] echoed, string? condition)
    {
        Positional = positional;
        _table = table;
        _columns = columns;
        _columnPlaceholders = columnPlaceholders;
        _returning = returning;
        Echoed = echoed;
        _echoedPlaceholders = [.. echoed.Select(pair => pair.Placeholder)];
        _echoedOrdinals = [.. echoed.Select(pair => pair.Ordinal)];
        _condition = condition;
    }

    /// <summary>The insert's positional form, whose placeholder order the arguments follow.</summary>
    public PositionalSql Positional { get; }

    /// <summary>The RETURNING columns that give back an inserted argument: their ordinal in the answer and the argument's placeholder (0-based).</summary>
    public IReadOnlyList<(int Ordinal, int Placeholder)> Echoed { get; }

    /// <summary>Whether an insert may leave its row out (a guarded insert whose condition does not hold), and is then answered with no row.</summary>
    public bool MayInsertNothing => _condition is not null;

    /// <summary>The combined form of a text, or null when it is not a single-row insert of bare parameters that returns any of them.</summary>
    public static CombinedInsert? For(string sql) => Known.For(sql);

    /// <summary>
    /// The insert's arguments in placeholder order, when each is one the combined statement sends exactly as the insert alone
    /// would: a <c>long</c> (untyped or bigint), a string (untyped, text or varchar, within its size) or an untyped null. With
    /// them, its signature: one character per placeholder, <c>b</c>igint, <c>t</c>ext or <c>n</c>ull. Null for any other.
    /// </summary>
    public (string Signature, object?[] Values)? Arguments(NpgsqlParameter[] parameters)
    {
        if (Positional.Order(parameters) is not { } ordered)
        {
            return null;
        }

        var signature = new char[ordered.Length];
        var values = new object?[ordered.Length];
        var typed = false;
        for (var index = 0; index < ordered.Length; index++)
        {
            var parameter = ordered[index];
            if (parameter.Direction != System.Data.ParameterDirection.Input)
            {
                return null;
            }

            var untyped = PostgresBatching.IsUntyped(parameter);
            switch (parameter.Value)
            {
                case long number when PostgresBatching.IsBigint(parameter):
                    (signature[index], values[index], typed) = ('b', number, true);
                    break;
                case string text when (untyped || parameter.NpgsqlDbType is NpgsqlDbType.Text or NpgsqlDbType.Varchar)
                                      && (parameter.Size <= 0 || text.Length <= parameter.Size):
                    (signature[index], values[index], typed) = ('t', text, true);
                    break;
                case null or DBNull when untyped:
                    (signature[index], values[index]) = ('n', null);
                    break;
                default:
                    return null;
            }
        }

        // Nothing to unnest: the statement stays as it is.
        return typed ? (new string(signature), values) : null;
    }

    /// <summary>
    /// What tells an insert's answered row apart, read from its arguments (<paramref name="values"/>, in placeholder order):
    /// the values of the RETURNING columns that give them back.
    /// </summary>
    public InsertKey Key(object?[] values) => InsertKey.Of(values, _echoedPlaceholders)!.Value;

    /// <summary>The same as <see cref="Key"/>, read from an answered row; null when a value is of a type no argument has.</summary>
    public InsertKey? KeyOfRow(object[] row) => InsertKey.Of(row, _echoedOrdinals);

    /// <summary>
    /// The combined text for inserts of one signature: <c>$1</c>, <c>$2</c>… are arrays, one for each placeholder that is not
    /// null (a null one is a plain NULL), with one element per insert.
    /// </summary>
    public string TextFor(string signature) => _texts.GetOrAdd(signature, Build);

    private string Build(string signature)
    {
        var arrays = new List<string>();
        var columns = new List<string>();
        for (var placeholder = 0; placeholder < signature.Length; placeholder++)
        {
            if (signature[placeholder] != 'n')
            {
                arrays.Add($"${arrays.Count + 1}::{(signature[placeholder] == 'b' ? "bigint" : "text")}[]");
                columns.Add($"p{placeholder + 1}");
            }
        }

        string Argument(int placeholder) => signature[placeholder] == 'n' ? "NULL" : $"{ArgumentRows}.p{placeholder + 1}";
        var values = _columnPlaceholders.Select(Argument);
        // A guard's condition is judged for each row with that row's arguments, as it is for the insert alone.
        var where = _condition is null ? ""
            : $" WHERE {ConditionPlaceholder().Replace(_condition, found => Argument(Positional.PositionOf(found.Groups["name"].Value)))}";
        // Note: the rows go in the order the inserts were queued, so generated keys follow it; the answer is still matched by its values.
        return $"INSERT INTO {_table} ({string.Join(", ", _columns)}) SELECT {string.Join(", ", values)}"
            + $" FROM unnest({string.Join(", ", arrays)}) WITH ORDINALITY AS {ArgumentRows}({string.Join(", ", columns)}, batch_ordinal)"
            + $"{where} ORDER BY {ArgumentRows}.batch_ordinal RETURNING {_returning}";
    }

    internal static CombinedInsert? Parse(string sql)
    {
        // Only the plain form: no literals, quoted names, comments or second statement, whose meaning a rewrite could change.
        if (!string.Equals(SqlText.CodeOnly(sql), sql, StringComparison.Ordinal) || sql.Contains(';', StringComparison.Ordinal)
            || SingleRowInsert().Match(sql) is not { Success: true } match || PositionalSql.For(sql) is not { } positional)
        {
            return null;
        }

        var columns = SplitList(match.Groups["columns"].Value);
        var values = SplitList(match.Groups["values"].Success ? match.Groups["values"].Value : match.Groups["selected"].Value);
        var condition = match.Groups["condition"].Success ? match.Groups["condition"].Value.Trim() : null;
        if (condition is not null && !IsGuard(condition, positional))
        {
            return null;
        }

        var returning = SplitList(match.Groups["returning"].Value);
        if (columns.Length != values.Length || columns.Any(column => !Name().IsMatch(column)) || columns.Distinct(StringComparer.OrdinalIgnoreCase).Count() != columns.Length
            || values.Any(value => !Placeholder().IsMatch(value)))
        {
            return null;
        }

        var columnPlaceholders = values.Select(value => positional.PositionOf(value[1..])).ToArray();
        var echoed = new List<(int Ordinal, int Placeholder)>();
        for (var ordinal = 0; ordinal < returning.Length; ordinal++)
        {
            // Each answered column is an inserted or generated column, under its name or an alias of it.
            if (ReturnedColumn().Match(returning[ordinal]) is not { Success: true } returned)
            {
                return null;
            }

            var column = Array.FindIndex(columns, name => string.Equals(name, returned.Groups["column"].Value, StringComparison.OrdinalIgnoreCase));
            if (column >= 0)
            {
                echoed.Add((ordinal, columnPlaceholders[column]));
            }
        }

        if (echoed.Count == 0 || columnPlaceholders.Any(placeholder => placeholder < 0))
        {
            return null; // no way to tell the answered rows apart
        }

        return new CombinedInsert(positional, match.Groups["table"].Value, columns, columnPlaceholders, match.Groups["returning"].Value.Trim(), [.. echoed], condition);
    }

    /// <summary>
    /// Whether a guarded insert's condition keeps its meaning for each row of the combined statement: one <c>[NOT] EXISTS (…)</c>,
    /// in which every placeholder is compared with something (<c>=</c>, <c>&lt;</c>, <c>&gt;</c>…) and nothing is named like
    /// the argument rows.
    /// </summary>
    /// <remarks>
    /// Note: the rules of combined reads (<see cref="PositionalSql.CombinedText"/>), for the same reasons: an argument that
    /// becomes a column of the argument rows answers a comparison as its constant does, while elsewhere it could be named,
    /// aggregated or planned differently; and a table or alias named like the argument rows would hide them from the
    /// condition. The condition is also the whole of the WHERE: anything after it (ORDER BY, LIMIT…) would clash with the
    /// combined statement's own ORDER BY.
    /// </remarks>
    private static bool IsGuard(string condition, PositionalSql positional)
    {
        if (condition.Contains(ArgumentRows, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        // What remains outside the parentheses must be EXISTS or NOT EXISTS alone.
        var outside = condition;
        for (var inner = Parenthesised().Replace(outside, ""); inner != outside; inner = Parenthesised().Replace(outside, ""))
        {
            outside = inner;
        }

        return ExistsAlone().IsMatch(outside)
            && ConditionPlaceholder().Matches(condition).All(found =>
                positional.PositionOf(found.Groups["name"].Value) >= 0 && PositionalSql.ComparedWith(condition, found.Index));
    }

    private static string[] SplitList(string list) => [.. list.Split(',').Select(item => item.Trim())];

    [GeneratedRegex(@"^\s*INSERT\s+INTO\s+(?<table>[A-Za-z_][A-Za-z0-9_]*)\s*\((?<columns>[^()]*)\)\s*"
        + @"(VALUES\s*\((?<values>[^()]*)\)|SELECT\s+(?<selected>[^()]*?)\s+WHERE\s+(?<condition>.+?))\s*RETURNING\s+(?<returning>[^()]+?)\s*$",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Singleline)]
    private static partial Regex SingleRowInsert();

    // A placeholder as PositionalSql reads one: not part of a longer name, an operator such as @> or a cast such as ::text.
    [GeneratedRegex(@"(?<![A-Za-z0-9_@:])@(?<name>[A-Za-z_][A-Za-z0-9_]*)", RegexOptions.CultureInvariant)]
    private static partial Regex ConditionPlaceholder();

    [GeneratedRegex(@"\([^()]*\)", RegexOptions.CultureInvariant)]
    private static partial Regex Parenthesised();

    [GeneratedRegex(@"^\s*(NOT\s+)?EXISTS\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ExistsAlone();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex Name();

    [GeneratedRegex(@"^@[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"^(?<column>[A-Za-z_][A-Za-z0-9_]*)(\s+AS\s+[A-Za-z_][A-Za-z0-9_]*)?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ReturnedColumn();
}

/// <summary>
/// The values of an insert's returned inserted columns (<see cref="CombinedInsert.Key"/>), or of an answered row's
/// (<see cref="CombinedInsert.KeyOfRow"/>), compared where they are, without a copy: equal when each value is equal in type
/// and content. An integer of any width is its number, and <see cref="DBNull"/> is null.
/// </summary>
internal readonly struct InsertKey : IEquatable<InsertKey>
{
    private readonly object?[] _source;
    private readonly int[] _positions;
    private readonly int _hash;

    private InsertKey(object?[] source, int[] positions, int hash) => (_source, _positions, _hash) = (source, positions, hash);

    /// <summary>The key of the values at <paramref name="positions"/> of <paramref name="source"/>; null when one is not an integer, text or null.</summary>
    public static InsertKey? Of(object?[] source, int[] positions)
    {
        var hash = default(HashCode);
        foreach (var position in positions)
        {
            switch (source[position])
            {
                case null or DBNull:
                    hash.Add(0);
                    break;
                case string text:
                    hash.Add(text, StringComparer.Ordinal);
                    break;
                default:
                    if (!TryInteger(source[position], out var number))
                    {
                        return null;
                    }

                    hash.Add(number);
                    break;
            }
        }

        return new InsertKey(source, positions, hash.ToHashCode());
    }

    public bool Equals(InsertKey other)
    {
        if (_hash != other._hash || _positions.Length != other._positions.Length)
        {
            return false;
        }

        for (var index = 0; index < _positions.Length; index++)
        {
            if (!Same(_source[_positions[index]], other._source[other._positions[index]]))
            {
                return false;
            }
        }

        return true;
    }

    public override bool Equals(object? obj) => obj is InsertKey other && Equals(other);

    public override int GetHashCode() => _hash;

    public static bool operator ==(InsertKey left, InsertKey right) => left.Equals(right);

    public static bool operator !=(InsertKey left, InsertKey right) => !left.Equals(right);

    private static bool Same(object? left, object? right) => (left is DBNull ? null : left, right is DBNull ? null : right) switch
    {
        (null, null) => true,
        (string a, string b) => string.Equals(a, b, StringComparison.Ordinal),
        var (a, b) => TryInteger(a, out var x) && TryInteger(b, out var y) && x == y,
    };

    private static bool TryInteger(object? value, out long number)
    {
        (var isInteger, number) = value switch
        {
            long wide => (true, wide),
            int narrow => (true, narrow),
            short narrower => (true, narrower),
            _ => (false, 0L),
        };
        return isInteger;
    }
}
