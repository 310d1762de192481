namespace Chekt.PartnerApi.Data;

/// <summary>
/// What a SQL text is, read off its code: SQLite's group commit takes single writes, PostgreSQL's batches take
/// single reads and writes and must know which of them answer with rows. String literals, quoted identifiers
/// and comments are not code, so a <c>;</c> or a <c>RETURNING</c> inside them changes nothing.
/// </summary>
internal static class SqlText
{
    /// <summary>
    /// One SELECT, one INSERT, UPDATE or DELETE (with or without RETURNING), or <see cref="StatementKind.None"/>
    /// for anything else, several statements included.
    /// </summary>
    public static StatementKind Classify(string sql)
    {
        var leading = sql.AsSpan().TrimStart();
        var isRead = leading.StartsWith("SELECT", StringComparison.OrdinalIgnoreCase);
        if (!isRead && !StartsWithWrite(leading))
        {
            return StatementKind.None;
        }

        var code = CodeOnly(sql).AsSpan().Trim();
        if (code.TrimEnd(';').Contains(';'))
        {
            // Several statements in one text keep their own (ordinary) execution.
            return StatementKind.None;
        }

        return isRead ? StatementKind.Read
            : ContainsWord(code, "RETURNING") ? StatementKind.WriteReturningRows
            : StatementKind.Write;
    }

    /// <summary>One INSERT, UPDATE or DELETE statement; a read is told apart without scanning the text.</summary>
    public static bool IsSingleWrite(string sql) =>
        StartsWithWrite(sql.AsSpan().TrimStart()) && Classify(sql) is StatementKind.Write or StatementKind.WriteReturningRows;

    private static bool StartsWithWrite(ReadOnlySpan<char> text) =>
        text.StartsWith("INSERT", StringComparison.OrdinalIgnoreCase)
        || text.StartsWith("UPDATE", StringComparison.OrdinalIgnoreCase)
        || text.StartsWith("DELETE", StringComparison.OrdinalIgnoreCase);

    /// <summary>The text with every string literal, quoted identifier and comment blanked out (same positions).</summary>
    public static string CodeOnly(string sql)
    {
        // The API's statements have none of these: they are returned as they are, without a copy.
        if (sql.AsSpan().IndexOfAny("'\"-/$") < 0)
        {
            return sql;
        }

        var code = sql.ToCharArray();
        for (var index = 0; index < code.Length; index++)
        {
            var end = index;
            if (code[index] is '\'' or '"')
            {
                end = sql.IndexOf(code[index], index + 1); // a doubled quote inside is two literals side by side: the same blanks
            }
            else if (code[index] == '-' && At(sql, index, "--"))
            {
                end = sql.IndexOf('\n', index) is var newline and >= 0 ? newline - 1 : -1; // the line break stays
            }
            else if (code[index] == '/' && At(sql, index, "/*"))
            {
                end = sql.IndexOf("*/", index + 2, StringComparison.Ordinal) is var close and >= 0 ? close + 1 : -1;
            }
            else if (code[index] == '$' && At(sql, index, "$$"))
            {
                end = sql.IndexOf("$$", index + 2, StringComparison.Ordinal) is var close and >= 0 ? close + 1 : -1;
            }
            else
            {
                continue;
            }

            end = end < 0 ? code.Length - 1 : end;
            Array.Fill(code, ' ', index, end - index + 1);
            index = end;
        }

        return new string(code);
    }

    private static bool At(string sql, int index, string token) => sql.AsSpan(index).StartsWith(token, StringComparison.Ordinal);

    /// <summary>Whether <paramref name="word"/> appears as a whole word (any case).</summary>
    public static bool ContainsWord(ReadOnlySpan<char> text, string word)
    {
        for (var start = 0; start < text.Length;)
        {
            var found = text[start..].IndexOf(word, StringComparison.OrdinalIgnoreCase);
            if (found < 0)
            {
                return false;
            }

            var at = start + found;
            var end = at + word.Length;
            if ((at == 0 || !IsWordChar(text[at - 1])) && (end == text.Length || !IsWordChar(text[end])))
            {
                return true;
            }

            start = end;
        }

        return false;
    }

    private static bool IsWordChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';
}

/// <summary>What <see cref="SqlText.Classify"/> found a statement text to be.</summary>
internal enum StatementKind
{
    /// <summary>Several statements, or anything but SELECT, INSERT, UPDATE and DELETE.</summary>
    None,

    Read,

    /// <summary>A write that answers without rows.</summary>
    Write,

    /// <summary>A write with RETURNING.</summary>
    WriteReturningRows,
}
