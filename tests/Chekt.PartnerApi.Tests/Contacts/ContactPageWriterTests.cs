using System.Text;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace Chekt.PartnerApi.Tests.Contacts;

/// <summary>
/// A page of contacts is written as JSON straight from its rows (<c>ContactPageWriter</c>); one contact is
/// serialised from its DTO. Whatever the stored text, a page must be, byte for byte, the single contacts'
/// answers in an array, on both databases.
/// </summary>
public sealed class ContactPageWriterTests
{
    // Text the API's escaping treats differently: non-ASCII, characters JSON must escape, HTML-sensitive
    // characters (left as they are by the API's relaxed encoder), control characters (but NUL, which PostgreSQL does
    // not store), separators, surrogate pairs.
    private static readonly string[] Texts =
    [
        "Jane", "", "Zoë Ångström", "李小龙", "🚨 alarm 🔥", "quote \" backslash \\ slash /", "<b>&'</b>",
        "tab\tnew\nline\rreturn", "bell\u0007 escape\u001b del\u007f", "\u2028\u2029 separators", "\u00a0no-break\u00a0",
        "emoji family 👨‍👩‍👧", new string('x', 255),
    ];

    [Theory, OnSqlite, OnPostgres]
    public async Task APageIsExactlyTheSingleContactsInAnArrayWhateverTheText(DatabaseProvider provider)
    {
        await using var world = await SiteApiWorld.StartAsync(provider);
        var siteId = await world.CreateSiteIdAsync("site-1");
        await using (var connection = await world.App.Services.GetRequiredService<Db>().OpenAsync())
        {
            for (var i = 0; i < Texts.Length; i++)
            {
                // Stored as given, past the API's validation, with and without the optional fields.
                await connection.ExecuteAsync(
                    """
                    INSERT INTO contacts (site_id, external_contact_id, first_name, last_name, phone_number, email, version, created_at, updated_at)
                    VALUES (@siteId, @external, @first, @last, @phone, @email, 1, @createdAt, @createdAt)
                    """,
                    new
                    {
                        siteId, external = $"c-{i}", first = Texts[i], last = Texts[(i + 1) % Texts.Length],
                        phone = i % 3 == 0 ? null : Texts[(i + 2) % Texts.Length], email = i % 4 == 0 ? null : Texts[(i + 3) % Texts.Length],
                        createdAt = -62_135_596_800_000L + (i * 7_919_000_000_003L),
                    });
            }
        }

        await AssertPagesMatchSingleContactsAsync(world, siteId, Texts.Length);
    }

    [Fact]
    public async Task TextThatIsNotUtf8IsWrittenAsForOneContact()
    {
        // Only SQLite stores such text (PostgreSQL refuses it): bytes written to the file by something other than the API.
        await using var world = await SiteApiWorld.StartAsync(DatabaseProvider.Sqlite);
        var siteId = await world.CreateSiteIdAsync("site-1");
        await using (var connection = await world.App.Services.GetRequiredService<Db>().OpenAsync())
        {
            await connection.ExecuteAsync(
                """
                INSERT INTO contacts (site_id, external_contact_id, first_name, last_name, phone_number, email, version, created_at, updated_at)
                VALUES (@siteId, 'bad-utf8', CAST(x'4a61c3' AS TEXT), CAST(x'ff6e6f' AS TEXT), NULL, CAST(x'c328' AS TEXT), 1, 0, 0)
                """,
                new { siteId });
        }

        var page = await AssertPagesMatchSingleContactsAsync(world, siteId, 1);
        Assert.Contains("\uFFFD", page, StringComparison.Ordinal);
    }

    [Fact]
    public void PagesWrittenOneAfterAnotherOnOneThreadEachHoldOnlyTheirOwnContacts()
    {
        // The writer of a finished page is reused by the thread's next page: the next page must start clean, and the
        // finished page's bytes must stay as they were.
        var abandoned = new Chekt.PartnerApi.Contacts.ContactPageWriter(); // a page that never finishes (its request failed)
        using var abandonedRows = Rows((9, "Zed", null));
        Assert.True(abandonedRows.Read());
        abandoned.Add(abandonedRows, 0);
        var first = WritePage(Rows((1, "Ann", null), (2, "Bob", "bob@example.com")));
        var firstBytes = first.WrittenMemory.ToArray();
        var second = WritePage(Rows((3, "Cy", "cy@example.com")));

        // The same page written on a thread that has written nothing before.
        byte[]? fresh = null;
        var thread = new Thread(() =>
        {
            using var page = WritePage(Rows((3, "Cy", "cy@example.com")));
            fresh = page.WrittenMemory.ToArray();
        });
        thread.Start();
        thread.Join();

        Assert.Equal(fresh, second.WrittenMemory.ToArray());
        Assert.Equal(firstBytes, first.WrittenMemory.ToArray());
        Assert.StartsWith("[{\"contact_id\":1,", Encoding.UTF8.GetString(firstBytes), StringComparison.Ordinal);
        Assert.StartsWith("[{\"contact_id\":3,", Encoding.UTF8.GetString(second.WrittenMemory.Span), StringComparison.Ordinal);
        first.Dispose();
        second.Dispose();

        static Chekt.PartnerApi.Http.PooledBufferWriter WritePage(System.Data.DataTableReader rows)
        {
            using (rows)
            {
                var page = new Chekt.PartnerApi.Contacts.ContactPageWriter();
                while (rows.Read())
                {
                    page.Add(rows, 0);
                }

                return page.Finish();
            }
        }

        // Rows of ContactRow.Columns: id, external id, first name, last name, phone, email, version, created_at.
        static System.Data.DataTableReader Rows(params (long Id, string FirstName, string? Email)[] contacts)
        {
            var table = new System.Data.DataTable();
            table.Columns.Add("id", typeof(long));
            foreach (var name in new[] { "external_contact_id", "first_name", "last_name", "phone_number", "email" })
            {
                table.Columns.Add(name, typeof(string));
            }

            table.Columns.Add("version", typeof(long));
            table.Columns.Add("created_at", typeof(long));
            foreach (var (id, firstName, email) in contacts)
            {
                table.Rows.Add(id, $"c-{id}", firstName, "Lee", DBNull.Value, (object?)email ?? DBNull.Value, 1L, 1_700_000_000_000L + id);
            }

            return table.CreateDataReader();
        }
    }

    /// <summary>Every page size from 1 to all: each page's body is the array of that page's single-contact bodies.</summary>
    private static async Task<string> AssertPagesMatchSingleContactsAsync(SiteApiWorld world, long siteId, int count)
    {
        using var all = await world.SendAsync(HttpMethod.Get, world.ContactsPath(siteId));
        var allBody = await all.Content.ReadAsByteArrayAsync();
        Assert.True(all.IsSuccessStatusCode, Encoding.UTF8.GetString(allBody));
        var ids = System.Text.Json.JsonDocument.Parse(allBody).RootElement.EnumerateArray().Select(c => c.GetProperty("contact_id").GetInt64()).ToList();
        Assert.Equal(count, ids.Count);

        var singles = new List<byte[]>();
        foreach (var id in ids)
        {
            using var one = await world.SendAsync(HttpMethod.Get, world.ContactPath(siteId, id));
            Assert.True(one.IsSuccessStatusCode);
            singles.Add(await one.Content.ReadAsByteArrayAsync());
        }

        Assert.Equal(Array(singles), allBody);
        foreach (var limit in new[] { 1, 2, 5 }.Where(l => l < count))
        {
            using var first = await world.SendAsync(HttpMethod.Get, $"{world.ContactsPath(siteId)}?limit={limit}");
            Assert.Equal(Array(singles.Take(limit)), await first.Content.ReadAsByteArrayAsync());
            Assert.Contains($"after={ids[limit - 1]}", first.Headers.GetValues("Link").Single(), StringComparison.Ordinal);
            using var second = await world.SendAsync(HttpMethod.Get, $"{world.ContactsPath(siteId)}?limit={limit}&after={ids[limit - 1]}");
            Assert.Equal(Array(singles.Skip(limit).Take(limit)), await second.Content.ReadAsByteArrayAsync());
        }

        return Encoding.UTF8.GetString(allBody);
    }

    private static byte[] Array(IEnumerable<byte[]> items) =>
        [.. "["u8, .. items.Aggregate(new List<byte>(), (bytes, item) => { if (bytes.Count > 0) { bytes.Add((byte)','); } bytes.AddRange(item); return bytes; }), .. "]"u8];
}
