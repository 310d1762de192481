using Chekt.PartnerApi.Data;
using Npgsql;

namespace Chekt.PartnerApi.Tests.Data;

/// <summary>
/// The positional form of a statement for PostgreSQL: each <c>@name</c> of the code becomes <c>$n</c>, the same name the
/// same number, and nothing else of the text changes; a text it cannot be sure of keeps Npgsql's own binding.
/// </summary>
public sealed class PositionalSqlTests
{
    [Fact]
    public void EachNameOfTheCodeBecomesItsPositionInOrderOfFirstUse()
    {
        var sql = PositionalSql.Rewrite("SELECT * FROM t WHERE a = @alpha AND b = @beta_2 OR a = @alpha")!;

        Assert.Equal("SELECT * FROM t WHERE a = $1 AND b = $2 OR a = $1", sql.Text);
        Assert.Equal(["alpha", "beta_2"], sql.Names);
    }

    [Theory]
    [InlineData("SELECT '@x' || @y", "SELECT '@x' || $1")]
    [InlineData("SELECT \"@x\" FROM t WHERE id = @y", "SELECT \"@x\" FROM t WHERE id = $1")]
    [InlineData("SELECT @y -- @x\n, 1 /* @x */", "SELECT $1 -- @x\n, 1 /* @x */")]
    [InlineData("SELECT a @> b, @y::text, @@ c FROM t", "SELECT a @> b, $1::text, @@ c FROM t")]
    [InlineData("SELECT x@y, @y", "SELECT x@y, $1")]
    public void LiteralsCommentsOperatorsAndCastsAreLeftAsTheyAre(string sql, string expected)
    {
        var positional = PositionalSql.Rewrite(sql)!;

        Assert.Equal(expected, positional.Text);
        Assert.Equal(["y"], positional.Names);
    }

    [Theory]
    [InlineData("SELECT 1")]
    [InlineData("SELECT '@x'")]
    [InlineData("SELECT $1 + @x")]
    [InlineData("SELECT :x + @y")]
    public void ATextWithoutNamesOrWithPlaceholdersOfAnotherKindHasNoPositionalForm(string sql) =>
        Assert.Null(PositionalSql.Rewrite(sql));

    [Fact]
    public void ParametersAreOrderedByTheirNamesWithOrWithoutThePrefix()
    {
        var sql = PositionalSql.For("UPDATE t SET a = @a WHERE id = @id")!;
        NpgsqlParameter[] parameters = [new("@id", 1), new("a", 2)];

        Assert.Equal([parameters[1], parameters[0]], sql.Order(parameters)!);
    }

    [Fact]
    public void ParametersThatDoNotMatchThePlaceholdersOneForOneAreNotOrdered()
    {
        var sql = PositionalSql.For("SELECT @a, @b")!;

        Assert.Null(sql.Order([new("a", 1)]));
        Assert.Null(sql.Order([new("a", 1), new("c", 2)]));
        Assert.Null(sql.Order([new("a", 1), new("@a", 2)]));
        Assert.Null(sql.Order([new("a", 1), new("b", 2), new("c", 3)]));
    }

    [Fact]
    public void ASelectHasACombinedFormThatRunsItOnceForEachSetOfArguments()
    {
        var sql = PositionalSql.Rewrite("SELECT name FROM t WHERE a = @a AND b > @b OR a = @a -- last @a")!;

        Assert.Equal(
            "SELECT batched.batch_ordinal, answer.* FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS batched(p1, p2, batch_ordinal)"
            + " CROSS JOIN LATERAL (SELECT name FROM t WHERE a = batched.p1 AND b > batched.p2 OR a = batched.p1 -- last @a\n) AS answer",
            sql.CombinedText);
    }

    [Theory]
    [InlineData("UPDATE t SET a = @a")]
    [InlineData("INSERT INTO t (a) VALUES (@a) RETURNING a")]
    [InlineData("SELECT a FROM t WHERE a = @a;")]
    [InlineData("SELECT a FROM t WHERE a = @a; SELECT @a")]
    [InlineData("SELECT batched.a FROM t batched WHERE a = @a")]
    [InlineData("SELECT a FROM t AS Batched WHERE a = @a")]
    [InlineData("SELECT \"batched\".a FROM t \"batched\" WHERE a = @a")]
    [InlineData("SELECT a, 'batched' FROM t WHERE a = @a")]
    // A placeholder anywhere but on the right of a comparison.
    [InlineData("SELECT @a")]
    [InlineData("SELECT a, @a::text FROM t WHERE a = @a")]
    [InlineData("SELECT max(@a) FROM t")]
    [InlineData("SELECT a FROM t WHERE @a < a")]
    [InlineData("SELECT a FROM t WHERE a IN (@a, @b)")]
    [InlineData("SELECT a FROM t WHERE a = @a LIMIT @n")]
    [InlineData("SELECT CASE WHEN a < 0 THEN 1 / @a ELSE a END FROM t WHERE a = @b")]
    public void AWriteSeveralStatementsATextThatNamesTheArgumentRowsOrAnUncomparedPlaceholderHasNoCombinedForm(string sql) =>
        Assert.Null(PositionalSql.Rewrite(sql)!.CombinedText);

    [Theory]
    [InlineData("SELECT a FROM t WHERE a >= @a AND b <> @b AND c <= @c AND d<@d AND e != @e")]
    [InlineData("SELECT a FROM t WHERE a = @a::bigint ORDER BY a LIMIT 1")]
    public void ATextWhoseEveryPlaceholderIsComparedHasACombinedForm(string sql) =>
        Assert.NotNull(PositionalSql.Rewrite(sql)!.CombinedText);
}
