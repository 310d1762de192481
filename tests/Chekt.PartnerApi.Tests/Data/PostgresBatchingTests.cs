using System.Data.Common;
using System.Net;
using System.Text.Json;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;
using Dapper;
using Microsoft.AspNetCore.Hosting;
using Npgsql;

namespace Chekt.PartnerApi.Tests.Data;

/// <summary>
/// Single statements of concurrent requests go to PostgreSQL in batches. To make a batch of exactly the
/// statements under test, a test first occupies the lane (a read waits for an advisory lock the test holds,
/// a write for a row the test has locked), queues the statements behind it one by one and then lets the
/// lane go: the queued statements are its next round trip.
/// </summary>
public sealed class PostgresBatchingTests
{
    private const long LaneLock = 7_341;

    [Fact]
    public async Task WhenTheDatabaseCannotBeReachedEveryStatementOfTheBatchFailsAsUnavailable()
    {
        // Nothing listens on port 1: opening the batch's connection is refused.
        await using var source = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Timeout=2");
        await using var batching = new PostgresBatching(source, readLanes: 1);

        var statements = Enumerable.Range(0, 3)
            .Select(n => batching.RunAsync("SELECT @n", StatementKind.Read, [new NpgsqlParameter("n", n)], 30, CancellationToken.None))
            .ToList();

        foreach (var statement in statements)
        {
            var failure = await Assert.ThrowsAnyAsync<Exception>(() => statement);
            Assert.True(DbErrors.IsUnavailable(failure), failure.ToString()); // which the API answers as 503 database_unavailable
        }
    }

    [Fact]
    public async Task AfterShutdownAStatementIsRefusedAtOnce()
    {
        await using var source = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1");
        var batching = new PostgresBatching(source, readLanes: 1);
        await batching.DisposeAsync();

        // Refused when queued, not later: the request fails at once instead of waiting on a lane that is gone.
        Assert.Throws<ObjectDisposedException>(void () =>
            _ = batching.RunAsync("INSERT INTO items (id) VALUES (1)", StatementKind.Write, [], 30, CancellationToken.None));
    }

    [Theory, OnPostgres]
    public async Task StatementsQueuedBehindABusyLaneGoInOneRoundTripAndEachCallerGetsItsOwnAnswer(DatabaseProvider provider)
    {
        await using var items = await ItemsDatabase.CreateAsync(provider, readLanes: 1);
        var (db, services) = (items.Db, items.Services);
        await services.ExecuteAsync("INSERT INTO items (id, name) SELECT n, 'item-' || n FROM generate_series(1, 20) n");

        var reads = await RunAsOneBatchAsync(db, write: false,
            [.. Enumerable.Range(1, 20).Select(n => (Func<Task<string?>>)(() => NameAsync(db, n)))]);

        Assert.Equal(Enumerable.Range(1, 20).Select(n => $"item-{n}"), reads.Select(read => read.Result));
    }

    [Theory, OnPostgres]
    public async Task WritesOfOneBatchCommitTogetherWithTheirOwnRowsAndCounts(DatabaseProvider provider)
    {
        await using var items = await ItemsDatabase.CreateAsync(provider);
        var (db, services) = (items.Db, items.Services);
        await services.ExecuteAsync("INSERT INTO items (id, name) VALUES (100, 'a'), (101, 'b'), (102, 'c')");

        var writes = await RunAsOneBatchAsync(db, write: true,
        [
            () => ScalarAsync(db, "INSERT INTO items (id, name) VALUES (1, 'one') RETURNING id * 10"),
            () => ExecuteAsync(db, "INSERT INTO items (id, name) VALUES (2, 'two')"),
            () => ExecuteAsync(db, "UPDATE items SET name = name || '!' WHERE id >= 100"),
            () => ScalarAsync(db, "INSERT INTO items (id, name) VALUES (3, 'three') RETURNING name"),
            () => ExecuteAsync(db, "DELETE FROM items WHERE id = -1"),
        ]);

        Assert.Equal(new object?[] { 10L, 1L, 3L, "three", 0L }, writes.Select(write => write.Result));
        Assert.Equal(["one", "two", "three", "a!", "b!", "c!"], await NamesAsync(services));
    }

    [Theory, OnPostgres]
    public async Task AWriteThatFailsFailsAloneAndTheRestOfItsBatchCommits(DatabaseProvider provider)
    {
        await using var items = await ItemsDatabase.CreateAsync(provider);
        var (db, services) = (items.Db, items.Services);
        var retriedBefore = db.PostgresBatching!.Retried;

        var writes = await RunAsOneBatchAsync(db, write: true,
        [
            () => ExecuteAsync(db, "INSERT INTO items (id, name) VALUES (1, 'a')"),
            () => ExecuteAsync(db, "INSERT INTO items (id, name) VALUES (2, 'a')"),
            () => ExecuteAsync(db, "INSERT INTO items (id, name) VALUES (3, 'b')"),
        ]);

        Assert.True(writes[0].IsCompletedSuccessfully);
        var duplicate = Assert.IsType<PostgresException>(writes[1].Exception?.InnerException);
        Assert.True(DbErrors.IsUniqueViolation(duplicate)); // the caller sees PostgreSQL's own error: a 409 for the API
        Assert.True(writes[2].IsCompletedSuccessfully);
        Assert.Equal(3, db.PostgresBatching.Retried - retriedBefore);
        Assert.Equal(["a", "b"], await NamesAsync(services));
    }

    private const string InsertPerson = "INSERT INTO people (site, name, note, created) VALUES (@site, @name, @note, @created) RETURNING id, name AS Name, note, created";

    [Theory, OnPostgres]
    public async Task InsertsOfOneTextRunAsOneStatementAndEachCallerGetsTheRowItInserted(DatabaseProvider provider)
    {
        await using var items = await PeopleDatabaseAsync(provider);
        var (db, services, batching) = (items.Db, items.Services, items.Db.PostgresBatching!);
        var inserts = new NpgsqlParameter[][]
        {
            Person(1, "ann", "x", 100L),
            Person(1, "bob", "y", 100L),
            Person(2, "ann", "x", 100L), // answered with the same values as the first (the site is not returned): a statement of its own
            Person(1, "cy", null, 100L), // a null note: combined with the other null note
            Person(1, "di", null, 100L),
            Person(1, "ed", "z", 101L),
            [new("site", 1L), new("name", "fay"), new("note", NpgsqlTypes.NpgsqlDbType.Text) { Value = DBNull.Value }, new("created", 100L)], // typed: alone
            Person(1, "gus", "w", 100), // an int: alone
        };
        var (combinedBefore, retriedBefore) = (batching.CombinedInserts, batching.Retried);

        var answers = await InsertPeopleAsOneBatchAsync(db, inserts);

        Assert.Equal(5, batching.CombinedInserts - combinedBefore);
        Assert.Equal(retriedBefore, batching.Retried);
        var alone = await batching.RunAsync(InsertPerson, StatementKind.WriteReturningRows, Person(3, "alone", null, 1L), 30, CancellationToken.None);
        for (var index = 0; index < inserts.Length; index++)
        {
            var answer = await answers[index];
            Assert.Equal(alone.Names, answer.Names);
            Assert.Equal(alone.FieldTypes, answer.FieldTypes);
            Assert.Equal(1, answer.RecordsAffected);
            var row = Assert.Single(answer.Rows);
            var values = inserts[index].ToDictionary(parameter => parameter.ParameterName, parameter => parameter.Value);
            Assert.Equal(new object?[] { values["name"], values["note"], Convert.ToInt64(values["created"], System.Globalization.CultureInfo.InvariantCulture) }, row[1..]);
            // The row with the answered id is the one this caller inserted, site included.
            var stored = (await services.QueryAsync<(long Site, string Name)>("SELECT site, name FROM people WHERE id = @id", new { id = (long)row[0] })).Single();
            Assert.Equal(((long)values["site"]!, (string)values["name"]!), stored);
        }

        Assert.Equal(9, (await services.QueryAsync<long>("SELECT COUNT(*) FROM people")).Single());
    }

    [Theory, OnPostgres]
    public async Task AnInsertThatFailsInACombinedStatementFailsAloneAndTheOthersCommit(DatabaseProvider provider)
    {
        await using var items = await PeopleDatabaseAsync(provider);
        var (db, services, batching) = (items.Db, items.Services, items.Db.PostgresBatching!);
        await services.ExecuteAsync("INSERT INTO people (site, name, created) VALUES (1, 'ann', 1)");
        var (combinedBefore, retriedBefore) = (batching.CombinedInserts, batching.Retried);

        var answers = await InsertPeopleAsOneBatchAsync(db, [.. new[] { "bob", "ann", "cy" }.Select(name => Person(1, name, null, 2L))]);

        Assert.Equal("bob", (await answers[0]).Rows.Single()[1]);
        Assert.True(DbErrors.IsUniqueViolation(Assert.IsType<PostgresException>(answers[1].Exception?.InnerException)));
        Assert.Equal("cy", (await answers[2]).Rows.Single()[1]);
        Assert.Equal(3, batching.CombinedInserts - combinedBefore);
        Assert.Equal(3, batching.Retried - retriedBefore);
        Assert.Equal(["ann", "bob", "cy"], await services.QueryAsync<string>("SELECT name FROM people ORDER BY name"));
    }

    [Theory, OnPostgres]
    public async Task GuardedInsertsRunAsOneStatementAndThoseWhoseConditionFailsAreAnsweredWithNoRow(DatabaseProvider provider)
    {
        await using var items = await PeopleDatabaseAsync(provider);
        var (db, services, batching) = (items.Db, items.Services, items.Db.PostgresBatching!);
        await services.ExecuteAsync("CREATE TABLE open_sites (site bigint PRIMARY KEY, opened bigint NOT NULL); INSERT INTO open_sites VALUES (1, 5), (3, 0)");
        const string GuardedInsert = "INSERT INTO people (site, name, note, created) SELECT @site, @name, @note, @created"
            + " WHERE EXISTS (SELECT 1 FROM open_sites o WHERE o.site = @site AND o.opened <= @asOf) RETURNING id, name AS Name, note, created";
        static NpgsqlParameter[] Guarded(long site, string name, string? note, long asOf) => [.. Person(site, name, note, 2L), new("asOf", asOf)];
        var inserts = new (NpgsqlParameter[] Parameters, bool Stored)[]
        {
            (Guarded(1, "ann", "x", 10), true),
            (Guarded(2, "bob", "x", 10), false), // not an open site
            (Guarded(1, "cy", "x", 1), false), // opened after its time
            (Guarded(3, "di", null, 10), true),
            (Guarded(2, "ed", null, 10), false),
            (Guarded(1, "fay", "x", 10), true),
        };
        var combinedBefore = batching.CombinedInserts;

        var answers = await RunAsOneBatchAsync(db, write: true, [.. inserts.Select(insert => (Func<Task<BufferedRows>>)(() =>
            batching.RunAsync(GuardedInsert, StatementKind.WriteReturningRows, insert.Parameters, 30, CancellationToken.None)))]);

        Assert.Equal(6, batching.CombinedInserts - combinedBefore);
        var alone = await batching.RunAsync(GuardedInsert, StatementKind.WriteReturningRows, Guarded(3, "alone", null, 10), 30, CancellationToken.None);
        for (var index = 0; index < inserts.Length; index++)
        {
            var answer = await answers[index];
            Assert.Equal(alone.Names, answer.Names);
            var name = (string)inserts[index].Parameters.Single(parameter => parameter.ParameterName == "name").Value!;
            if (inserts[index].Stored)
            {
                Assert.Equal(1, answer.RecordsAffected);
                var row = Assert.Single(answer.Rows);
                Assert.Equal(name, row[1]);
                Assert.Equal(name, (await services.QueryAsync<string>("SELECT name FROM people WHERE id = @id", new { id = (long)row[0] })).Single());
            }
            else
            {
                Assert.Equal(0, answer.RecordsAffected);
                Assert.Empty(answer.Rows);
            }
        }

        Assert.Equal(["alone", "ann", "di", "fay"], await services.QueryAsync<string>("SELECT name FROM people ORDER BY name"));
    }

    [Theory, OnPostgres]
    public async Task ACombinedInsertWhoseRowsDoNotCarryTheirArgumentsAnswersNoCallerWithARow(DatabaseProvider provider) =>
        // A trigger changes an inserted value: no row can be matched to its insert by what it answers.
        await AssertTriggerLeavesNoCallerAnsweredAsync(provider, "NEW.name := upper(NEW.name); RETURN NEW;", ["BOB", "CY"]);

    [Theory, OnPostgres]
    public async Task ACombinedInsertAnsweredWithFewerRowsThanItsInsertsAnswersNoCallerWithARow(DatabaseProvider provider) =>
        // A trigger skips one row: one insert would be left without an answer.
        await AssertTriggerLeavesNoCallerAnsweredAsync(provider, "IF NEW.name = 'cy' THEN RETURN NULL; END IF; RETURN NEW;", ["bob"]);

    private static async Task AssertTriggerLeavesNoCallerAnsweredAsync(DatabaseProvider provider, string trigger, string[] stored)
    {
        await using var items = await PeopleDatabaseAsync(provider);
        var (db, services, batching) = (items.Db, items.Services, items.Db.PostgresBatching!);
        await services.ExecuteAsync($"""
            CREATE FUNCTION before_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {trigger} END $$;
            CREATE TRIGGER before_insert BEFORE INSERT ON people FOR EACH ROW EXECUTE FUNCTION before_insert();
            """);
        var combinedBefore = batching.CombinedInserts;

        var answers = await InsertPeopleAsOneBatchAsync(db, [.. new[] { "bob", "cy" }.Select(name => Person(1, name, null, 2L))]);

        Assert.Equal(2, batching.CombinedInserts - combinedBefore);
        // The statement ran (and committed), but no row goes to a caller it cannot be shown to belong to: each gets an error.
        Assert.All(answers, answer => Assert.IsType<InvalidOperationException>(answer.Exception?.InnerException));
        Assert.Equal(stored, await services.QueryAsync<string>("SELECT name FROM people ORDER BY name"));
    }

    /// <summary>
    /// The contact inserts of concurrent creates run as one statement: each caller must get the contact it created, on its own site,
    /// even when two partners create contacts that look alike.
    /// </summary>
    [Theory, OnPostgres]
    public async Task ConcurrentCreatesOfTwoPartnersRunAsOneInsertAndEachGetsItsOwnContact(DatabaseProvider provider)
    {
        await using var world = await ApiWorld.StartAsync(provider);
        var app = world.App;
        var partnerB = await Seed.PartnerAsync(app, "Partner B");
        var dealerB = await Seed.DealerAsync(app, "Dealer B");
        await Seed.ConnectAsync(app, partnerB, dealerB, "dealer-b");
        var tokenB = await Seed.ClientCredentialsTokenAsync(app, await Seed.ClientAsync(app, partnerB, "B M2M"));
        var siteA = await world.CreateSiteAsync("site-a");
        using var createdB = await world.SendAsync(HttpMethod.Post, $"/partner/v1/dealers/{dealerB}/sites",
            """{"external_site_id":"site-b","name":"Site B","timezone":"Asia/Seoul"}""", tokenB);
        var siteB = JsonDocument.Parse(await createdB.Content.ReadAsStringAsync()).RootElement.GetProperty("site_id").GetInt64();
        var contactsA = $"{world.DealerPath}/sites/{siteA}/contacts";
        var contactsB = $"/partner/v1/dealers/{dealerB}/sites/{siteB}/contacts";
        var creates = new (string Token, string Contacts, long Site, string ExternalId, string FirstName)[]
        {
            (world.Token, contactsA, siteA, "c-1", "Ann"),
            (tokenB, contactsB, siteB, "c-1", "Bob"),
            (world.Token, contactsA, siteA, "c-2", "Cy"),
            (tokenB, contactsB, siteB, "c-2", "Di"),
            // The same body on both sites: answered alike, unless their creation times differ, so never in one statement.
            (world.Token, contactsA, siteA, "c-9", "Eve"),
            (tokenB, contactsB, siteB, "c-9", "Eve"),
        };
        var db = app.Services.GetRequiredService<Db>();
        var combinedBefore = db.PostgresBatching!.CombinedInserts;

        var answers = await RunAsOneBatchAsync(db, write: true,
            [.. creates.Select(create => (Func<Task<HttpResponseMessage>>)(() => world.SendAsync(HttpMethod.Post, create.Contacts,
                $$"""{"external_contact_id":"{{create.ExternalId}}","first_name":"{{create.FirstName}}","last_name":"Lee"}""", create.Token)))]);

        Assert.InRange(db.PostgresBatching.CombinedInserts - combinedBefore, 5, 6);
        for (var index = 0; index < creates.Length; index++)
        {
            var (token, contacts, site, externalId, firstName) = creates[index];
            using var response = await answers[index];
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            var contact = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal((externalId, firstName), (contact.GetProperty("external_contact_id").GetString(), contact.GetProperty("first_name").GetString()));
            var contactId = contact.GetProperty("contact_id").GetInt64();
            await using (var connection = await db.OpenSessionAsync())
            {
                Assert.Equal(site, await connection.ExecuteScalarAsync<long>("SELECT site_id FROM contacts WHERE id = @contactId", new { contactId }));
            }

            Assert.Equal($"{contacts}/{contactId}", response.Headers.Location?.OriginalString);
            using var own = await world.SendAsync(HttpMethod.Get, $"{contacts}/{contactId}", token: token);
            Assert.Equal(HttpStatusCode.OK, own.StatusCode);
            var (otherToken, otherContacts) = token == world.Token ? (tokenB, contactsB) : (world.Token, contactsA);
            using var others = await world.SendAsync(HttpMethod.Get, $"{otherContacts}/{contactId}", token: otherToken);
            await others.ReadErrorAsync(404, "contact_not_found");
        }
    }

    [Theory, OnPostgres]
    public async Task AReadThatFailsFailsAloneAndTheOthersOfItsBatchAnswer(DatabaseProvider provider)
    {
        await using var items = await ItemsDatabase.CreateAsync(provider, readLanes: 1);
        var db = items.Db;

        var reads = await RunAsOneBatchAsync(db, write: false,
        [
            () => ScalarAsync(db, "SELECT 1 + @n", new { n = 1 }),
            () => ScalarAsync(db, "SELECT 1 / (@n - @n)", new { n = 1 }),
            () => ScalarAsync(db, "SELECT 1 + @n", new { n = 2 }),
        ]);

        Assert.Equal(2, await reads[0]);
        Assert.Equal(PostgresErrorCodes.DivisionByZero, Assert.IsType<PostgresException>(reads[1].Exception?.InnerException).SqlState);
        Assert.Equal(3, await reads[2]);
    }

    [Theory, OnPostgres]
    public async Task ParametersAreBoundByNameWhateverTheTextAroundThemAndKeepTheirNames(DatabaseProvider provider)
    {
        await using var items = await ItemsDatabase.CreateAsync(provider, readLanes: 1);
        var batching = items.Db.PostgresBatching!;
        NpgsqlParameter[] repeated = [new("@b", "x"), new("a", 1)];
        NpgsqlParameter[] unused = [new("a", 7), new("z", 8)];

        // Sent as $1, $2…: a name used twice, names in a literal and a comment, an operator and casts that look like
        // placeholders; and one statement with a parameter its text does not use, which keeps Npgsql's own binding.
        var reads = await RunAsOneBatchAsync(items.Db, write: false,
        [
            () => Scalar(batching.RunAsync("SELECT @b || '-' || @a::text || '-' || @b", StatementKind.Read, repeated, 30, CancellationToken.None)),
            () => Scalar(batching.RunAsync("SELECT '@a @b' || @a::text /* @b */ -- @c\n", StatementKind.Read, [new("a", 5)], 30, CancellationToken.None)),
            () => Scalar(batching.RunAsync("SELECT ('{\"k\":1}'::jsonb @> '{\"k\":1}'::jsonb) AND @flag", StatementKind.Read, [new("flag", true)], 30, CancellationToken.None)),
            () => Scalar(batching.RunAsync("SELECT @a::int + 1", StatementKind.Read, unused, 30, CancellationToken.None)),
        ]);

        Assert.Equal(new object?[] { "x-1-x", "@a @b5", true, 8 }, reads.Select(read => read.Result));
        Assert.Equal(["@b", "a", "a", "z"], repeated.Concat(unused).Select(parameter => parameter.ParameterName));
    }

    [Theory, OnPostgres]
    public async Task WhenTheResultSetsDoNotMatchTheStatementsNoCallerGetsAnothersRows(DatabaseProvider provider)
    {
        await using var items = await ItemsDatabase.CreateAsync(provider);
        var batching = items.Db.PostgresBatching!;

        // The first statement is queued as answering without rows, which it does not: its rows must not reach the second.
        var writes = await RunAsOneBatchAsync(items.Db, write: true,
        [
            () => batching.RunAsync("INSERT INTO items (id, name) VALUES (1, 'first') RETURNING name", StatementKind.Write, [], 30, CancellationToken.None),
            () => batching.RunAsync("INSERT INTO items (id, name) VALUES (2, 'second') RETURNING name", StatementKind.WriteReturningRows, [], 30, CancellationToken.None),
        ]);

        Assert.All(writes, write => Assert.IsType<InvalidOperationException>(write.Exception?.InnerException));
    }

    [Theory, OnPostgres]
    public async Task ReadsOfOneTextThatWantTheirFirstRowRunAsOneStatementAndEachCallerGetsWhatItWouldAlone(DatabaseProvider provider)
    {
        await using var items = await ItemsDatabase.CreateAsync(provider, readLanes: 1);
        var (db, services) = (items.Db, items.Services);
        var batching = db.PostgresBatching!;
        await services.ExecuteAsync("INSERT INTO items (id, name) SELECT n, 'item-' || n FROM generate_series(1, 20) n");
        const string byId = "SELECT id, name, NULL::text AS nothing FROM items WHERE id = @id AND -1000 < @tag";
        const string fromId = "SELECT name FROM items WHERE id >= @from ORDER BY id DESC LIMIT 3 -- the last three from @from";
        const string fromIdCounted = "SELECT name FROM items WHERE id >= @from ORDER BY id DESC LIMIT @count";
        var reads = new (string Sql, NpgsqlParameter[] Parameters, bool FirstRowOnly)[]
        {
            (byId, [new("id", 3L), new("tag", 1L)], true),
            (fromId, [new("from", 18L)], true),
            (byId, [new("id", 99L), new("tag", 2L)], true), // no such item: no row
            (byId, [new("id", 5L), new("tag", 3L)], false), // its caller may read every row: a statement of its own
            (byId, [new("id", 7L), new("tag", -4L)], true),
            (fromId, [new("from", 1L)], true),
            (byId, [new("id", 9), new("tag", 5L)], true), // an int, not a long: a statement of its own
            (byId, [new("id", NpgsqlTypes.NpgsqlDbType.Numeric) { Value = 11L }, new("tag", 6L)], true), // typed numeric: likewise
            (byId, [new("id", System.Data.DbType.Int64) { Value = 13L }, new("tag", 7L)], true), // typed bigint, as Dapper types a long
            (fromIdCounted, [new("from", 1L), new("count", 2L)], true), // an argument outside a comparison: a statement of its own
            (fromIdCounted, [new("from", 5L), new("count", 1L)], true),
        };
        var combinedBefore = batching.Combined;

        var answers = await RunAsOneBatchAsync(db, write: false,
            [.. reads.Select(read => (Func<Task<BufferedRows>>)(() =>
                batching.RunAsync(read.Sql, StatementKind.Read, Copy(read.Parameters), 30, CancellationToken.None, read.FirstRowOnly)))]);

        Assert.Equal(6, batching.Combined - combinedBefore);
        for (var index = 0; index < reads.Length; index++)
        {
            // The same statement, alone in its round trip.
            var (sql, parameters, _) = reads[index];
            var alone = await batching.RunAsync(sql, StatementKind.Read, Copy(parameters), 30, CancellationToken.None);
            var answer = await answers[index];
            Assert.Equal(alone.Names, answer.Names);
            Assert.Equal(alone.FieldTypes, answer.FieldTypes);
            Assert.Equal(alone.Rows, answer.Rows);
            Assert.Equal(alone.RecordsAffected, answer.RecordsAffected);
        }

        Assert.Equal(new object[] { 3L, "item-3", DBNull.Value }, (await answers[0]).Rows.Single());
        Assert.Equal(["item-20", "item-19", "item-18"], (await answers[1]).Rows.Select(row => row[0]));
        Assert.Empty((await answers[2]).Rows);
        Assert.Equal(["item-20", "item-19", "item-18"], (await answers[5]).Rows.Select(row => row[0]));
        Assert.Equal(new object[] { 11L, "item-11", DBNull.Value }, (await answers[7]).Rows.Single());
        Assert.Equal(new object[] { 13L, "item-13", DBNull.Value }, (await answers[8]).Rows.Single());
        Assert.Equal(["item-20", "item-19"], (await answers[9]).Rows.Select(row => row[0]));
    }

    [Theory, OnPostgres]
    public async Task AReadThatFailsInACombinedStatementFailsAloneAndTheOthersAreAnswered(DatabaseProvider provider)
    {
        await using var items = await ItemsDatabase.CreateAsync(provider, readLanes: 1);
        var batching = items.Db.PostgresBatching!;
        await items.Services.ExecuteAsync("INSERT INTO items (id, name) VALUES (0, 'zero'), (5, 'five'), (20, 'twenty')");
        var (combinedBefore, retriedBefore) = (batching.Combined, batching.Retried);
        // The division reads a column, so that it fails while the statement runs (a constant one fails as it is planned).
        const string sql = "SELECT 100 / id FROM items WHERE id = @n";

        var reads = await RunAsOneBatchAsync(items.Db, write: false,
        [
            .. new[] { 5L, 0L, 20L }.Select(n => (Func<Task<object?>>)(() =>
                Scalar(batching.RunAsync(sql, StatementKind.Read, [new("n", n)], 30, CancellationToken.None, firstRowOnly: true)))),
            // A parameter its text does not name: not combined, and it fails on its own as it would alone.
            () => Scalar(batching.RunAsync(sql, StatementKind.Read, [new("m", 4L)], 30, CancellationToken.None, firstRowOnly: true)),
        ]);

        Assert.Equal(20L, await reads[0]);
        Assert.Equal(PostgresErrorCodes.DivisionByZero, Assert.IsType<PostgresException>(reads[1].Exception?.InnerException).SqlState);
        Assert.Equal(5L, await reads[2]);
        Assert.IsType<PostgresException>(reads[3].Exception?.InnerException);
        Assert.Equal(3, batching.Combined - combinedBefore);
        Assert.Equal(4, batching.Retried - retriedBefore);
    }

    /// <summary>
    /// The access queries of concurrent GETs run as one statement: each request must still be decided on its own token and path,
    /// and answered with its own dealer.
    /// </summary>
    [Theory, OnPostgres]
    public async Task ConcurrentGetsOfTwoPartnersRunAsOneStatementAndEachIsAnsweredForItsOwnCaller(DatabaseProvider provider)
    {
        await using var world = await ApiWorld.StartAsync(provider,
            configure: builder => builder.UseSetting("Database:PostgresBatchReadConnections", "1"));
        var app = world.App;
        var partnerB = await Seed.PartnerAsync(app, "Partner B");
        var dealerB = await Seed.DealerAsync(app, "Dealer B");
        await Seed.ConnectAsync(app, partnerB, dealerB, "dealer-b");
        var tokenB = await Seed.ClientCredentialsTokenAsync(app, await Seed.ClientAsync(app, partnerB, "B M2M"));
        var db = app.Services.GetRequiredService<Db>();
        var requests = new (string Token, long DealerId, HttpStatusCode Status, string Expected)[]
        {
            (world.Token, world.DealerId, HttpStatusCode.OK, "Dealer Inc."),
            (tokenB, dealerB, HttpStatusCode.OK, "Dealer B"),
            (world.Token, dealerB, HttpStatusCode.Forbidden, "dealer_not_connected"),
            (tokenB, world.DealerId, HttpStatusCode.Forbidden, "dealer_not_connected"),
            (world.Token, 987_654_321, HttpStatusCode.NotFound, "dealer_not_found"),
            (world.Token, world.DealerId, HttpStatusCode.OK, "Dealer Inc."),
        };

        // Each token once beforehand: its client is then remembered, and the access query is each request's only statement.
        foreach (var token in new[] { world.Token, tokenB })
        {
            using var warmUp = await app.Client.SendAsync(Seed.Authorized(HttpMethod.Get, $"/partner/v1/dealers/{dealerB}", token));
        }

        var combinedBefore = db.PostgresBatching!.Combined;
        var answers = await RunAsOneBatchAsync(db, write: false,
            [.. requests.Select(request => (Func<Task<HttpResponseMessage>>)(() =>
                app.Client.SendAsync(Seed.Authorized(HttpMethod.Get, $"/partner/v1/dealers/{request.DealerId}", request.Token))))]);

        Assert.Equal(requests.Length, db.PostgresBatching.Combined - combinedBefore);
        for (var index = 0; index < requests.Length; index++)
        {
            using var response = await answers[index];
            var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(requests[index].Status, response.StatusCode);
            Assert.Equal(requests[index].Expected, response.IsSuccessStatusCode
                ? body.GetProperty("company_name").GetString()
                : body.GetProperty("error").GetProperty("code").GetString());
            if (response.IsSuccessStatusCode)
            {
                Assert.Equal(requests[index].DealerId, body.GetProperty("dealer_id").GetInt64());
            }
        }
    }

    [Theory, OnPostgres]
    public async Task AStatementCancelledWhileQueuedIsNotRun(DatabaseProvider provider)
    {
        await using var items = await ItemsDatabase.CreateAsync(provider);
        var (db, services) = (items.Db, items.Services);
        using var cancellation = new CancellationTokenSource();

        var writes = await RunAsOneBatchAsync(db, write: true,
        [
            () => ExecuteAsync(db, "INSERT INTO items (id, name) VALUES (1, 'kept')"),
            () => ExecuteAsync(db, "INSERT INTO items (id, name) VALUES (2, 'dropped')", cancellationToken: cancellation.Token),
        ], beforeRelease: cancellation.Cancel);

        Assert.True(writes[0].IsCompletedSuccessfully);
        Assert.True(writes[1].IsCanceled);
        Assert.Equal(["kept"], await NamesAsync(services));
    }

    [Theory, OnPostgres]
    public async Task ATransactionAndEverythingAfterItRunOnTheConnectionsOwnSession(DatabaseProvider provider)
    {
        await using var items = await ItemsDatabase.CreateAsync(provider);
        var (db, services) = (items.Db, items.Services);
        var submittedBefore = db.PostgresBatching!.Submitted;

        await using (var connection = await db.OpenAsync())
        {
            await using var transaction = await connection.BeginTransactionAsync();
            await connection.ExecuteAsync("INSERT INTO items (id, name) VALUES (1, 'in-transaction')", transaction: transaction);
            // Npgsql runs a command on a connection in a transaction inside it, transaction given or not: so must this.
            Assert.Equal(1L, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM items"));
            await transaction.RollbackAsync();
            Assert.Equal(0L, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM items"));
        }

        await using (var connection = await db.OpenAsync())
        {
            // A synchronous call has no batch to wait in: it runs on a connection of its own.
            Assert.Equal(0L, connection.ExecuteScalar<long>("SELECT COUNT(*) FROM items"));
        }

        Assert.Equal(submittedBefore, db.PostgresBatching.Submitted);
        Assert.Empty(await NamesAsync(services));
    }

    [Theory, OnPostgres]
    public async Task ConcurrentCreatesOverHttpAreBatchedAndADuplicateStillGetsItsConflict(DatabaseProvider provider)
    {
        await using var world = await ApiWorld.StartAsync(provider);
        var site = await world.CreateSiteAsync("site-1");
        var contacts = $"{world.DealerPath}/sites/{site}/contacts";
        var db = world.App.Services.GetRequiredService<Db>();
        string[] externalIds = ["c-1", "c-2", "c-3", "c-2", "c-4"];

        var creates = await RunAsOneBatchAsync(db, write: true,
            [.. externalIds.Select(externalId => (Func<Task<HttpResponseMessage>>)(() => world.SendAsync(HttpMethod.Post, contacts,
                $$"""{"external_contact_id":"{{externalId}}","first_name":"Ann","last_name":"Lee"}""")))]);

        Assert.Equal([HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.Conflict, HttpStatusCode.Created],
            creates.Select(create => create.Result.StatusCode));
        var conflict = await (await creates[3]).ReadErrorAsync(409, "conflict");
        Assert.Equal("external_contact_id", conflict.GetProperty("field").GetString());
        var listed = await world.OkAsync(HttpMethod.Get, contacts);
        Assert.Equal(["c-1", "c-2", "c-3", "c-4"], listed.EnumerateArray().Select(contact => contact.GetProperty("external_contact_id").GetString()).Order(StringComparer.Ordinal));
    }

    [Theory, OnPostgres]
    public async Task TheSettingSwitchesBatchingOffAndTheApiStillWorks(DatabaseProvider provider)
    {
        await using var world = await ApiWorld.StartAsync(provider,
            configure: builder => builder.UseSetting("Database:PostgresBatching", "false"));
        var db = world.App.Services.GetRequiredService<Db>();
        Assert.Null(db.PostgresBatching);
        await using (var connection = await db.OpenAsync())
        {
            Assert.IsType<NpgsqlConnection>(connection);
        }

        await world.AssertContactCreateAndConflictAsync();
    }

    /// <summary>
    /// Occupies the lane (reads: the only read lane; writes: the write lane) with a statement that waits for a
    /// lock this test holds, starts the statements one by one (each queued before the next starts), releases
    /// the lock and returns them once all have finished; asserts they went out as the lane's next round trip.
    /// </summary>
    private static async Task<Task<T>[]> RunAsOneBatchAsync<T>(Db db, bool write, Func<Task<T>>[] statements, Action? beforeRelease = null)
    {
        var batching = db.PostgresBatching!;
        long Batches() => write ? batching.WriteBatches : batching.ReadBatches;
        await using var holder = await db.OpenSessionAsync();
        var batchesBefore = Batches();
        Task blocker;
        if (write)
        {
            await holder.ExecuteAsync("CREATE TABLE IF NOT EXISTS lane_blocker (id int PRIMARY KEY); INSERT INTO lane_blocker VALUES (1) ON CONFLICT DO NOTHING");
            await holder.ExecuteAsync("BEGIN; SELECT id FROM lane_blocker WHERE id = 1 FOR UPDATE");
            batchesBefore = Batches();
            blocker = ExecuteAsync(db, "UPDATE lane_blocker SET id = id WHERE id = 1");
        }
        else
        {
            await holder.ExecuteAsync("SELECT pg_advisory_lock(@key)", new { key = LaneLock });
            blocker = ScalarAsync(db, "SELECT pg_advisory_xact_lock(@key)", new { key = LaneLock });
        }

        await WaitUntilAsync(() => Task.FromResult(Batches() == batchesBefore + 1), "the lane takes the blocker");
        await WaitUntilAsync(() => LaneIsWaitingAsync(holder), "the blocker waits for the lock");
        var started = new List<Task<T>>();
        foreach (var statement in statements)
        {
            var queuedBefore = batching.Queued(write);
            started.Add(statement());
            await WaitUntilAsync(() => Task.FromResult(batching.Queued(write) == queuedBefore + 1), "the statement is queued");
        }

        beforeRelease?.Invoke();
        await holder.ExecuteAsync(write ? "COMMIT" : "SELECT pg_advisory_unlock(@key)", new { key = LaneLock });
        await blocker;
        try
        {
            await Task.WhenAll(started);
        }
        catch (Exception)
        {
            // Each test looks at its statements one by one.
        }

        Assert.Equal(batchesBefore + 2, Batches()); // the blocker's round trip, then one for everything queued
        return [.. started];
    }

    private static async Task<bool> LaneIsWaitingAsync(DbConnection holder) =>
        await holder.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()") > 0;

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(5);
        }
    }

    /// <summary>A fresh database with an <c>items</c> table, and the server's core services on it.</summary>
    private sealed class ItemsDatabase(TestDatabase database, ServiceProvider services) : IAsyncDisposable
    {
        public ServiceProvider Services => services;

        public Db Db => services.GetRequiredService<Db>();

        public static async Task<ItemsDatabase> CreateAsync(DatabaseProvider provider, int readLanes = 4)
        {
            var database = await TestDatabase.CreateAsync(provider);
            var items = new ItemsDatabase(database, TestServices.For(database,
                new Dictionary<string, string?> { ["Database:PostgresBatchReadConnections"] = readLanes.ToString(System.Globalization.CultureInfo.InvariantCulture) }));
            await using var connection = await items.Db.OpenSessionAsync();
            await connection.ExecuteAsync("CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL UNIQUE)");
            return items;
        }

        public async ValueTask DisposeAsync()
        {
            await services.DisposeAsync();
            await database.DisposeAsync();
        }
    }

    /// <summary>A fresh database with a <c>people</c> table whose rows have a generated id, for inserts with RETURNING.</summary>
    private static async Task<ItemsDatabase> PeopleDatabaseAsync(DatabaseProvider provider)
    {
        var items = await ItemsDatabase.CreateAsync(provider);
        await items.Services.ExecuteAsync(
            "CREATE TABLE people (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, site bigint NOT NULL, name text NOT NULL, note text NULL, created bigint NOT NULL, UNIQUE (site, name))");
        return items;
    }

    private static Task<Task<BufferedRows>[]> InsertPeopleAsOneBatchAsync(Db db, NpgsqlParameter[][] people) =>
        RunAsOneBatchAsync(db, write: true, [.. people.Select(parameters => (Func<Task<BufferedRows>>)(() =>
            db.PostgresBatching!.RunAsync(InsertPerson, StatementKind.WriteReturningRows, parameters, 30, CancellationToken.None)))]);

    private static NpgsqlParameter[] Person(long site, string name, string? note, object created) =>
        [new("site", site), new("name", name), new("note", (object?)note ?? DBNull.Value), new("created", created)];

    private static async Task<string?> NameAsync(Db db, int id)
    {
        await using var connection = await db.OpenAsync();
        return await connection.QuerySingleOrDefaultAsync<string>("SELECT name FROM items WHERE id = @id", new { id });
    }

    private static NpgsqlParameter[] Copy(NpgsqlParameter[] parameters) => [.. parameters.Select(parameter => parameter.Clone())];

    private static async Task<object?> Scalar(Task<BufferedRows> statement)
    {
        var rows = await statement;
        return rows.Rows.Single()[0];
    }

    private static async Task<object?> ScalarAsync(Db db, string sql, object? parameters = null)
    {
        await using var connection = await db.OpenAsync();
        return await connection.ExecuteScalarAsync(sql, parameters);
    }

    private static async Task<object?> ExecuteAsync(Db db, string sql, object? parameters = null, CancellationToken cancellationToken = default)
    {
        await using var connection = await db.OpenAsync();
        return (long)await connection.ExecuteAsync(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken));
    }

    private static async Task<string[]> NamesAsync(ServiceProvider services) =>
        [.. await services.QueryAsync<string>("SELECT name FROM items ORDER BY id")];
}
