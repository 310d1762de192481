using Chekt.PartnerApi.Data;

namespace Chekt.PartnerApi.Tests.Data;

/// <summary>What SQLite's group commit and PostgreSQL's batches read off a statement's text.</summary>
public sealed class SqlTextTests
{
    [Theory]
    [InlineData("  select 1", "Read")]
    [InlineData("INSERT INTO t (returning_count) VALUES (1);", "Write")]
    [InlineData("INSERT INTO t (a) VALUES (1)\nRETURNING id", "WriteReturningRows")]
    [InlineData("update t set a = 1 returning *", "WriteReturningRows")]
    [InlineData("DELETE FROM t WHERE not_returning = 1", "Write")]
    [InlineData("INSERT INTO t (a) VALUES ('RETURNING')", "Write")]
    [InlineData("INSERT INTO t (a) VALUES (1) -- RETURNING a", "Write")]
    [InlineData("INSERT INTO t (a) VALUES (1) /* RETURNING a */", "Write")]
    [InlineData("UPDATE t SET \"RETURNING\" = 1", "Write")]
    [InlineData("SELECT 'a;b', $$c;d$$ -- e;f", "Read")]
    [InlineData("SELECT 1; SELECT 2", "None")]
    [InlineData("INSERT INTO t VALUES (1); DELETE FROM t", "None")]
    [InlineData("WITH x AS (SELECT 1) SELECT * FROM x", "None")]
    [InlineData("CREATE TABLE t (id int)", "None")]
    [InlineData("BEGIN", "None")]
    public void ClassifyReadsTheCodeAndNotItsLiteralsOrComments(string sql, string expected) =>
        Assert.Equal(expected, SqlText.Classify(sql).ToString());

    [Theory]
    [InlineData("INSERT INTO t VALUES (1)", true)]
    [InlineData("  delete from t", true)]
    [InlineData("UPDATE t SET a = ';' WHERE b = 1 RETURNING a", true)]
    [InlineData("SELECT 1", false)]
    [InlineData("UPDATE t SET a = 1; UPDATE t SET a = 2", false)]
    public void ASingleWriteIsWhatJoinsSqliteGroupCommit(string sql, bool expected) =>
        Assert.Equal(expected, SqlText.IsSingleWrite(sql));

    [Fact]
    public void CodeOnlyBlanksLiteralsAndCommentsInPlaceAndLeavesPlainTextAsItIs()
    {
        const string plain = "SELECT name FROM items WHERE id = @id";
        Assert.Same(plain, SqlText.CodeOnly(plain));

        const string mixed = "SELECT 'x' -- y\nFROM t /* z */ WHERE a = \"b\"";
        Assert.Equal("SELECT " + Blanks(3) + " " + Blanks(4) + "\nFROM t " + Blanks(7) + " WHERE a = " + Blanks(3), SqlText.CodeOnly(mixed));
        Assert.Equal("SELECT " + Blanks(13), SqlText.CodeOnly("SELECT 'unterminated"));
    }

    private static string Blanks(int count) => new(' ', count);
}
