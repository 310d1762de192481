using Chekt.PartnerApi.Data;
using Npgsql;
using NpgsqlTypes;

namespace Chekt.PartnerApi.Tests.Data;

/// <summary>
/// The combined form of a single-row insert for PostgreSQL: only the plain form <c>INSERT INTO t (columns) VALUES (@a, …)
/// RETURNING …</c>, or its guarded form <c>SELECT @a, … WHERE [NOT] EXISTS (…)</c>, has one, only when it returns an inserted
/// column (which tells its rows apart), and only for arguments it sends exactly as the insert alone would.
/// </summary>
public sealed class CombinedInsertTests
{
    private const string Insert = "INSERT INTO people (site, name, note, created, updated) VALUES (@site, @name, @note, @now, @now)\n"
        + "RETURNING id AS Id, name AS Name, note, created";

    [Fact]
    public void TheCombinedTextUnnestsOneArrayPerPlaceholderAndNullForAPlaceholderThatIsNullInEveryInsert()
    {
        var insert = CombinedInsert.Parse(Insert)!;

        Assert.Equal(["site", "name", "note", "now"], insert.Positional.Names);
        Assert.Equal([(1, 1), (2, 2), (3, 3)], insert.Echoed); // name, note and created give back their arguments; id is generated
        Assert.Equal(
            "INSERT INTO people (site, name, note, created, updated) SELECT batched.p1, batched.p2, batched.p3, batched.p4, batched.p4"
            + " FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[]) WITH ORDINALITY AS batched(p1, p2, p3, p4, batch_ordinal)"
            + " ORDER BY batched.batch_ordinal RETURNING id AS Id, name AS Name, note, created",
            insert.TextFor("bttb"));
        Assert.Equal(
            "INSERT INTO people (site, name, note, created, updated) SELECT batched.p1, batched.p2, NULL, batched.p4, batched.p4"
            + " FROM unnest($1::bigint[], $2::text[], $3::bigint[]) WITH ORDINALITY AS batched(p1, p2, p4, batch_ordinal)"
            + " ORDER BY batched.batch_ordinal RETURNING id AS Id, name AS Name, note, created",
            insert.TextFor("btnb"));
    }

    private const string GuardedInsert = "INSERT INTO people (site, name, note) SELECT @site, @name, @note\n"
        + "WHERE EXISTS (SELECT 1 FROM sites s WHERE s.id = @site AND (s.owner = @owner OR s.owner IS NULL)) RETURNING name";

    [Fact]
    public void AGuardedInsertKeepsItsConditionForEachRowWithThatRowsArguments()
    {
        var insert = CombinedInsert.Parse(GuardedInsert)!;

        Assert.True(insert.MayInsertNothing);
        Assert.False(CombinedInsert.Parse(Insert)!.MayInsertNothing);
        Assert.Equal(["site", "name", "note", "owner"], insert.Positional.Names);
        Assert.Equal([(0, 1)], insert.Echoed);
        Assert.Equal(
            "INSERT INTO people (site, name, note) SELECT batched.p1, batched.p2, batched.p3"
            + " FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[]) WITH ORDINALITY AS batched(p1, p2, p3, p4, batch_ordinal)"
            + " WHERE EXISTS (SELECT 1 FROM sites s WHERE s.id = batched.p1 AND (s.owner = batched.p4 OR s.owner IS NULL))"
            + " ORDER BY batched.batch_ordinal RETURNING name",
            insert.TextFor("bttb"));
        // A placeholder of the condition that is null in every insert is NULL there too, as its null argument is alone.
        Assert.Contains("AND (s.owner = NULL OR s.owner IS NULL)) ORDER BY", insert.TextFor("bttn"), StringComparison.Ordinal);
        Assert.NotNull(CombinedInsert.Parse(GuardedInsert.Replace("WHERE EXISTS", "WHERE NOT EXISTS", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("INSERT INTO people (site, name) SELECT @site, @name WHERE @site > 0 RETURNING name")] // not EXISTS (…) alone
    [InlineData("INSERT INTO people (site, name) SELECT @site, @name WHERE EXISTS (SELECT 1 FROM sites) AND @site > 0 RETURNING name")]
    [InlineData("INSERT INTO people (site, name) SELECT @site, @name WHERE EXISTS (SELECT 1 FROM sites) LIMIT 1 RETURNING name")]
    [InlineData("INSERT INTO people (site, name) SELECT @site, @name WHERE EXISTS (SELECT @site FROM sites) RETURNING name")] // not compared
    [InlineData("INSERT INTO people (site, name) SELECT @site, @name WHERE EXISTS (SELECT 1 FROM sites batched WHERE batched.id = @site) RETURNING name")]
    [InlineData("INSERT INTO people (site, name) SELECT @site, @name WHERE EXISTS (SELECT 1 FROM sites WHERE name = 'x' AND id = @site) RETURNING name")]
    [InlineData("INSERT INTO people (site, name) SELECT @site, @name FROM sites WHERE EXISTS (SELECT 1 FROM sites WHERE id = @site) RETURNING name")]
    [InlineData("INSERT INTO people (site, name) SELECT @site, @name WHERE EXISTS (SELECT 1 FROM sites WHERE id = @site RETURNING name")] // unbalanced
    public void AGuardOtherThanOneExistsWithComparedPlaceholdersHasNone(string sql) => Assert.Null(CombinedInsert.Parse(sql));

    [Theory]
    [InlineData("INSERT INTO people (site, name) VALUES (@site, @name)")] // no RETURNING: nothing to combine it for
    [InlineData("INSERT INTO people (site, name) VALUES (@site, @name) RETURNING *")]
    [InlineData("INSERT INTO people (site, name) VALUES (@site, @name) RETURNING id")] // only a generated column: rows cannot be told apart
    [InlineData("INSERT INTO people (site, name) VALUES (@site, @name) RETURNING id * 10, name")]
    [InlineData("INSERT INTO people (site, name) VALUES (@site, @name) RETURNING lower(name)")]
    [InlineData("INSERT INTO people (site, name) VALUES (@site, 'x') RETURNING site")]
    [InlineData("INSERT INTO people (site, name) VALUES (@site + 1, @name) RETURNING name")]
    [InlineData("INSERT INTO people (site, name) VALUES (@site, now()) RETURNING site")]
    [InlineData("INSERT INTO people (site, name) VALUES (@site, @name), (@site, @other) RETURNING name")]
    [InlineData("INSERT INTO people (site, name) SELECT @site, @name RETURNING name")]
    [InlineData("INSERT INTO people (site, name) VALUES (@site, @name) ON CONFLICT DO NOTHING RETURNING name")]
    [InlineData("INSERT INTO people (site, name, note) VALUES (@site, @name) RETURNING name")]
    [InlineData("INSERT INTO people (site, site) VALUES (@site, @name) RETURNING site")]
    [InlineData("INSERT INTO \"people\" (site, name) VALUES (@site, @name) RETURNING name")]
    [InlineData("INSERT INTO people (site, name) VALUES (@site, @name) RETURNING name -- a comment")]
    [InlineData("INSERT INTO people (site, name) VALUES (@site, @name) RETURNING name;")]
    [InlineData("INSERT INTO people (site, name) VALUES ($1, $2) RETURNING name")]
    [InlineData("UPDATE people SET name = @name WHERE site = @site RETURNING name")]
    public void AnyOtherFormHasNone(string sql) => Assert.Null(CombinedInsert.Parse(sql));

    [Fact]
    public void ArgumentsAreTakenInPlaceholderOrderWithTheirSignature()
    {
        var insert = CombinedInsert.Parse(Insert)!;

        var (signature, values) = insert.Arguments([new("now", 5L), new("note", DBNull.Value), new("name", "ann"), new("@site", 1L)])!.Value;

        Assert.Equal("btnb", signature);
        Assert.Equal([1L, "ann", null, 5L], values);
        Assert.Equal("bttb", insert.Arguments([new("site", NpgsqlDbType.Bigint) { Value = 1L }, new("name", NpgsqlDbType.Text) { Value = "ann" },
            new("note", NpgsqlDbType.Varchar) { Value = "x" }, new("now", 5L)])!.Value.Signature);
    }

    public static TheoryData<NpgsqlParameter> ArgumentsSentOtherwiseAlone => new()
    {
        new NpgsqlParameter("note", 7), // an int
        new NpgsqlParameter("note", 1.5m),
        new NpgsqlParameter("note", NpgsqlDbType.Text) { Value = DBNull.Value }, // a typed null is sent as text alone
        new NpgsqlParameter("note", NpgsqlDbType.Integer) { Value = 7L },
        new NpgsqlParameter("note", NpgsqlDbType.Jsonb) { Value = "{}" },
        new NpgsqlParameter("note", "abcdef") { Size = 3 }, // Npgsql cuts it to its size alone
        new NpgsqlParameter("note", "x") { Direction = System.Data.ParameterDirection.InputOutput },
    };

    [Theory, MemberData(nameof(ArgumentsSentOtherwiseAlone))]
    public void AnInsertWithAnArgumentTheCombinedStatementWouldSendOtherwiseStaysAlone(NpgsqlParameter note)
    {
        var insert = CombinedInsert.Parse(Insert)!;

        Assert.Null(insert.Arguments([new("site", 1L), new("name", "ann"), note, new("now", 5L)]));
    }

    [Fact]
    public void AnInsertWhoseParametersDoNotMatchItsPlaceholdersOrThatHasOnlyNullsStaysAlone()
    {
        var insert = CombinedInsert.Parse("INSERT INTO people (note) VALUES (@note) RETURNING note")!;

        Assert.Null(insert.Arguments([new("note", "x"), new("other", "y")]));
        Assert.Null(insert.Arguments([new("other", "y")]));
        Assert.Null(insert.Arguments([new("note", DBNull.Value)])); // nothing to unnest
    }

    [Fact]
    public void TheKeyOfAnInsertIsTheKeyOfTheRowItIsAnsweredWithAndTellsDifferentValuesApart()
    {
        var insert = CombinedInsert.Parse(Insert)!;
        object?[] arguments = [1L, "ann", null, 5L];

        // The answered row: id, name, note, created; an int column answers the same number.
        Assert.Equal(insert.Key(arguments), insert.KeyOfRow([99L, "ann", DBNull.Value, 5L]));
        Assert.Equal(insert.Key(arguments), insert.KeyOfRow([99L, "ann", DBNull.Value, 5]));
        Assert.Null(insert.KeyOfRow([99L, "ann", DBNull.Value, 5.0m]));
        Assert.NotEqual(insert.Key([1L, "ann", "", 5L]), insert.Key(arguments));
        Assert.NotEqual(insert.Key([1L, "a", "nn", 5L]), insert.Key([1L, "an", "n", 5L]));
        Assert.NotEqual(insert.Key([1L, "5", null, 5L]), insert.Key([1L, "5", null, 55L]));
        Assert.Equal(insert.Key([2L, "ann", null, 5L]), insert.Key(arguments)); // the site is not returned: not part of the key
        // A number and its text are different values; equal keys hash alike, whatever the integer's width.
        Assert.NotEqual(insert.Key([1L, "5", null, 5L]), insert.KeyOfRow([99L, "5", DBNull.Value, "5"]));
        Assert.NotEqual(insert.Key([1L, "ann", null, 5L]), insert.KeyOfRow([99L, "ann", "", 5L]));
        Assert.Equal(insert.Key(arguments).GetHashCode(), insert.KeyOfRow([99L, "ann", DBNull.Value, (short)5])!.Value.GetHashCode());
    }
}
