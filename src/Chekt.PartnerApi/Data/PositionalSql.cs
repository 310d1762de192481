using System.Text;
using Npgsql;

namespace Chekt.PartnerApi.Data;

/// <summary>
/// A statement's text with its <c>@name</c> parameters written as PostgreSQL's own <c>$1</c>, <c>$2</c>…, worked out
/// once per text. Npgsql sends a statement whose parameters have no names as it is; when they have names, it
/// parses the text and writes a new one on every execution (in a profile of GET dealer on PostgreSQL, 3% of the
/// server's time, on the batching lanes' threads).
/// </summary>
internal sealed class PositionalSql
{
    private static readonly SqlTextCache<PositionalSql?> Known = new(Rewrite);

    private readonly string[] _names;

    // The alias of the combined form's argument rows, which the statement's own text refers to (see CombinedText).
    private const string ArgumentRows = "batched";

    private PositionalSql(string text, string[] names, string? combinedText)
    {
        Text = text;
        _names = names;
        CombinedText = combinedText;
    }

    /// <summary>The text with <c>$1</c>, <c>$2</c>… in place of the names.</summary>
    public string Text { get; }

    /// <summary>
    /// For a single SELECT, the text that runs it once for each of several sets of integer arguments in one statement:
    /// <c>$1</c>, <c>$2</c>… are <c>bigint[]</c>, one element per set, and each row answered starts with the 1-based
    /// number of the set it answers (the other columns are the statement's own). Null for a text it cannot wrap.
    /// </summary>
    /// <remarks>
    /// Note: the statement runs as a LATERAL subquery over the argument rows, as it would run alone for each of them;
    /// PostgreSQL executes a batch of these as one, with one parse, bind and execution instead of one per statement
    /// (about half the database's work per GET, measured with pgbench). Its rows are told apart by the set's number
    /// alone, so no caller can get another's rows; within a set they come in the statement's own order.
    /// </remarks>
    public string? CombinedText { get; }

    /// <summary>The parameters' names, without <c>@</c>, in the order of <c>$1</c>, <c>$2</c>…</summary>
    public IReadOnlyList<string> Names => _names;

    /// <summary>The 0-based position of a parameter's name (without <c>@</c>), or -1 when the text has no such placeholder.</summary>
    public int PositionOf(string name) => Array.IndexOf(_names, name);

    /// <summary>The positional form of a text, or null when it has none (no parameters, or placeholders of another kind).</summary>
    public static PositionalSql? For(string sql) => Known.For(sql);

    /// <summary>
    /// The parameters in the order of the placeholders, each found by its name; null unless every placeholder has
    /// exactly one parameter and every parameter a placeholder (the caller then keeps Npgsql's own rewriting).
    /// </summary>
    public NpgsqlParameter[]? Order(NpgsqlParameter[] parameters)
    {
        if (parameters.Length != _names.Length)
        {
            return null;
        }

        var ordered = new NpgsqlParameter[parameters.Length];
        foreach (var parameter in parameters)
        {
            var name = parameter.ParameterName.AsSpan().TrimStart("@:");
            var position = -1;
            for (var index = 0; index < _names.Length; index++)
            {
                if (name.SequenceEqual(_names[index]))
                {
                    position = index;
                    break;
                }
            }

            if (position < 0 || ordered[position] is not null)
            {
                return null;
            }

            ordered[position] = parameter;
        }

        return ordered;
    }

    internal static PositionalSql? Rewrite(string sql)
    {
        // Literals, quoted identifiers and comments are blanked in the code, at the same positions.
        var code = SqlText.CodeOnly(sql);
        var text = new StringBuilder(sql.Length);
        var inner = new StringBuilder(sql.Length + 16);
        var names = new List<string>();
        var onlyCompared = true;
        var copied = 0;
        for (var index = 0; index < code.Length; index++)
        {
            var character = code[index];
            if (character == '$' && index + 1 < code.Length && char.IsAsciiDigit(code[index + 1]))
            {
                return null; // already positional
            }

            if (character is not ('@' or ':') || !StartsName(code, index + 1) || (index > 0 && (IsNameCharacter(code[index - 1]) || code[index - 1] is '@' or ':')))
            {
                continue; // an operator such as @> or a cast such as ::text
            }

            if (character == ':')
            {
                return null; // a :name placeholder, which Npgsql also reads: left to it
            }

            var end = index + 1;
            while (end < code.Length && IsNameCharacter(code[end]))
            {
                end++;
            }

            var name = sql[(index + 1)..end];
            var position = names.IndexOf(name);
            if (position < 0)
            {
                names.Add(name);
                position = names.Count - 1;
            }

            onlyCompared &= ComparedWith(code, index);
            text.Append(sql, copied, index - copied).Append('$').Append(position + 1);
            inner.Append(sql, copied, index - copied).Append(ArgumentRows).Append(".p").Append(position + 1);
            copied = end;
            index = end - 1;
        }

        if (names.Count == 0)
        {
            return null;
        }

        text.Append(sql, copied, sql.Length - copied);
        inner.Append(sql, copied, sql.Length - copied);
        return new PositionalSql(text.ToString(), [.. names], onlyCompared ? Combined(sql, code, inner.ToString(), names.Count) : null);
    }

    /// <remarks>
    /// Note: only for a statement whose every placeholder is the right-hand side of a comparison (<c>=</c>, <c>&lt;</c>,
    /// <c>&gt;</c>, <c>&lt;=</c>, <c>&gt;=</c>, <c>&lt;&gt;</c>), as in the access query. Elsewhere the argument, now a
    /// column of the argument rows, could answer differently from the constant it is alone: a bare placeholder in the
    /// select list would be named after that column, an aggregate of it would belong to the outer query, and an
    /// expression PostgreSQL works out (and fails) while planning would only be evaluated where it is reached.
    /// </remarks>
    private static string? Combined(string sql, string code, string inner, int parameters)
    {
        // Only a single SELECT without a terminating ';' fits in parentheses; and a table or alias of the statement's own
        // named like the argument rows, even quoted, would hide them from it.
        if (SqlText.Classify(code) != StatementKind.Read || code.AsSpan().TrimEnd().EndsWith(';')
            || sql.Contains(ArgumentRows, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var arrays = string.Join(", ", Enumerable.Range(1, parameters).Select(position => $"${position}::bigint[]"));
        var columns = string.Join(", ", Enumerable.Range(1, parameters).Select(position => $"p{position}"));
        // The line break ends a trailing line comment of the statement's before the closing parenthesis.
        return $"SELECT {ArgumentRows}.batch_ordinal, answer.* FROM unnest({arrays}) WITH ORDINALITY AS {ArgumentRows}({columns}, batch_ordinal)"
            + $" CROSS JOIN LATERAL ({inner}\n) AS answer";
    }

    /// <summary>Whether the placeholder at <paramref name="index"/> follows a comparison operator.</summary>
    internal static bool ComparedWith(string code, int index)
    {
        var before = code.AsSpan(0, index).TrimEnd();
        return before.Length > 0 && before[^1] is '=' or '<' or '>';
    }

    private static bool StartsName(string code, int index) =>
        index < code.Length && (char.IsAsciiLetter(code[index]) || code[index] == '_');

    private static bool IsNameCharacter(char character) => char.IsAsciiLetterOrDigit(character) || character == '_';
}
