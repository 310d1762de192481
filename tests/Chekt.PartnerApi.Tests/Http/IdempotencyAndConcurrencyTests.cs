using System.Data.Common;
using System.Text.Json;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;
using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Chekt.PartnerApi.Tests.Http;

/// <summary>
/// Spec §7: uniqueness under concurrent requests (enforced by the database), <c>Idempotency-Key</c>
/// (stored first answer, replay, conflicts, per client), and optimistic concurrency with ETags.
/// </summary>
public sealed class IdempotencyAndConcurrencyTests
{
    private sealed record World(TestApp App, SeededClient Client1, SeededClient Client2, string Token1, string Token2, long Dealer, long Site, long Site2)
        : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => App.DisposeAsync();

        public string ContactsPath => $"/partner/v1/dealers/{Dealer}/sites/{Site}/contacts";
    }

    /// <summary>One partner with two M2M clients, a connected dealer and two sites.</summary>
    private static async Task<World> StartAsync(DatabaseProvider provider, int? sqliteBusyTimeoutMilliseconds = null, bool onKestrel = false)
    {
        // These tests send bursts of requests on purpose; the per-client rate limit has its own tests.
        Action<Microsoft.AspNetCore.Hosting.IWebHostBuilder> configure = builder =>
        {
            builder.UseSetting("RateLimit:PermitsPerSecond", "0");
            if (sqliteBusyTimeoutMilliseconds is { } busyTimeout)
            {
                builder.UseSetting("Database:SqliteBusyTimeoutMilliseconds", busyTimeout.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        };
        var app = onKestrel ? await TestApp.StartOnKestrelAsync(provider, configure) : await TestApp.StartAsync(provider, configure);
        var partner = await Seed.PartnerAsync(app);
        var client1 = await Seed.ClientAsync(app, partner, "M2M 1");
        var client2 = await Seed.ClientAsync(app, partner, "M2M 2");
        var dealer = await Seed.DealerAsync(app);
        await Seed.ConnectAsync(app, partner, dealer, "dealer-1");
        var token1 = await Seed.ClientCredentialsTokenAsync(app, client1);
        var token2 = await Seed.ClientCredentialsTokenAsync(app, client2);
        var sites = new List<long>();
        foreach (var external in new[] { "site-1", "site-2" })
        {
            using var response = await app.Client.SendAsync(Seed.Authorized(HttpMethod.Post, $"/partner/v1/dealers/{dealer}/sites", token1,
                $"{{\"external_site_id\":\"{external}\",\"name\":\"Site\",\"timezone\":\"Asia/Seoul\"}}"));
            Assert.Equal(201, (int)response.StatusCode);
            sites.Add((await response.ReadJsonAsync()).GetProperty("site_id").GetInt64());
        }

        return new World(app, client1, client2, token1, token2, dealer, sites[0], sites[1]);
    }

    private static string ContactBody(string externalId, string firstName = "Jane") =>
        $"{{\"external_contact_id\":\"{externalId}\",\"first_name\":\"{firstName}\",\"last_name\":\"Doe\",\"phone_number\":\"+1 555 123 4567\"}}";

    private static HttpRequestMessage Request(HttpMethod method, string path, string token, string? body = null, string? idempotencyKey = null, string? ifMatch = null)
    {
        var request = Seed.Authorized(method, path, token, body);
        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }

        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        return request;
    }

    private sealed record Answer(int Status, byte[] Body, string? Replayed, string? Location, string? ETag, string? RetryAfter)
    {
        public string Text => System.Text.Encoding.UTF8.GetString(Body);

        public JsonElement Json => JsonDocument.Parse(Body).RootElement;

        public string? ErrorCode => Json.TryGetProperty("error", out var error) ? error.GetProperty("code").GetString() : null;
    }

    private static async Task<Answer> SendAsync(World world, HttpRequestMessage request)
    {
        using (request)
        {
            using var response = await world.App.Client.SendAsync(request);
            return new Answer(
                (int)response.StatusCode,
                await response.Content.ReadAsByteArrayAsync(),
                response.Headers.TryGetValues("Idempotent-Replayed", out var replayed) ? string.Join(",", replayed) : null,
                response.Headers.Location?.ToString(),
                response.Headers.ETag?.ToString(),
                response.Headers.TryGetValues("Retry-After", out var retryAfter) ? string.Join(",", retryAfter) : null);
        }
    }

    /// <summary>Builds every request first, then sends them all at once and waits for every answer.</summary>
    private static async Task<Answer[]> SendAllAsync(World world, IEnumerable<Func<HttpRequestMessage>> requests)
    {
        var built = requests.Select(make => make()).ToList();
        return await Task.WhenAll(built.Select(request => Task.Run(() => SendAsync(world, request))));
    }

    /// <summary>The server's warnings and errors, for the message of a failed assertion.</summary>
    private static string ServerProblems(World world) =>
        "\nServer log:\n" + string.Join("\n", world.App.Logs.Entries.Where(e => e.Level >= LogLevel.Warning)
            .Select(e => $"{e.Level} {e.Category}: {e.Message} {e.Exception?.GetType().Name}: {e.Exception?.Message} {e.Exception?.StackTrace?.Split('\n')[0].Trim()}")
            .Distinct().Take(10));

    private static async Task<long> CountAsync(World world, string sql, object parameters)
    {
        await using var connection = await world.App.Services.GetRequiredService<Db>().OpenAsync();
        return await connection.ExecuteScalarAsync<long>(sql, parameters);
    }

    private static Task<long> ContactRowsAsync(World world, long siteId, string externalId) =>
        CountAsync(world, "SELECT COUNT(*) FROM contacts WHERE site_id = @siteId AND external_contact_id = @externalId", new { siteId, externalId });

    private static async Task<(string ETag, JsonElement Body)> GetContactAsync(World world, long contactId)
    {
        var answer = await SendAsync(world, Request(HttpMethod.Get, $"{world.ContactsPath}/{contactId}", world.Token1));
        Assert.True(answer.Status == 200, answer.Text + ServerProblems(world));
        Assert.NotNull(answer.ETag);
        return (answer.ETag!, answer.Json);
    }

    private static async Task<long> CreateContactAsync(World world, string externalId)
    {
        var answer = await SendAsync(world, Request(HttpMethod.Post, world.ContactsPath, world.Token1, ContactBody(externalId)));
        Assert.True(answer.Status == 201, answer.Text);
        return answer.Json.GetProperty("contact_id").GetInt64();
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task TwentyConcurrentCreatesOfOneExternalContactIdMakeOneContactAndNineteen409s(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var answers = await SendAllAsync(world, Enumerable.Range(0, 20).Select(i =>
            (Func<HttpRequestMessage>)(() => Request(HttpMethod.Post, world.ContactsPath, world.Token1, ContactBody("racer", $"Racer{i}")))));

        Assert.True(answers.Count(a => a.Status == 201) == 1, string.Join("\n", answers.Select(a => $"{a.Status} {a.Text}")) + ServerProblems(world));
        var conflicts = answers.Where(a => a.Status != 201).ToList();
        Assert.Equal(19, conflicts.Count);
        Assert.All(conflicts, a =>
        {
            Assert.Equal(409, a.Status);
            Assert.Equal("conflict", a.ErrorCode);
            Assert.Equal("external_contact_id", a.Json.GetProperty("error").GetProperty("field").GetString());
        });
        Assert.Equal(1, await ContactRowsAsync(world, world.Site, "racer"));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task TwentyConcurrentIdenticalCreatesWithOneIdempotencyKeyMakeOneContactAndOneAnswer(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var key = "concurrent-" + Guid.NewGuid().ToString("N");
        var answers = await SendAllAsync(world, Enumerable.Range(0, 20).Select(_ =>
            (Func<HttpRequestMessage>)(() => Request(HttpMethod.Post, world.ContactsPath, world.Token1, ContactBody("same"), key))));

        var summary = string.Join("\n", answers.Select(a => $"{a.Status} replayed={a.Replayed} {a.Text}")) + ServerProblems(world);
        Assert.True(answers.All(a => a.Status == 201), summary);
        Assert.All(answers, a => Assert.Equal(answers[0].Body, a.Body));
        Assert.All(answers, a => Assert.Equal(answers[0].Location, a.Location));
        Assert.All(answers, a => Assert.Equal(answers[0].ETag, a.ETag));
        Assert.True(answers.Count(a => a.Replayed == "true") == 19, summary);
        Assert.Single(answers, a => a.Replayed is null);
        Assert.Equal(1, await ContactRowsAsync(world, world.Site, "same"));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ARetryWithTheSameKeyReplaysTheFirstAnswerAndAnotherRequestWithItIs409(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var key = "retry-" + Guid.NewGuid().ToString("N");

        var first = await SendAsync(world, Request(HttpMethod.Post, world.ContactsPath, world.Token1, ContactBody("c-1"), key));
        Assert.True(first.Status == 201, first.Text);
        Assert.Null(first.Replayed);
        var retry = await SendAsync(world, Request(HttpMethod.Post, world.ContactsPath, world.Token1, ContactBody("c-1"), key));
        Assert.Equal(201, retry.Status);
        Assert.Equal(first.Body, retry.Body);
        Assert.Equal(first.Location, retry.Location);
        Assert.Equal("true", retry.Replayed);
        Assert.Equal(1, await ContactRowsAsync(world, world.Site, "c-1"));

        // The same key with another body, another path or another method: 409 idempotency_conflict, and nothing happens.
        foreach (var other in new Func<HttpRequestMessage>[]
        {
            () => Request(HttpMethod.Post, world.ContactsPath, world.Token1, ContactBody("c-2"), key),
            () => Request(HttpMethod.Post, world.ContactsPath, world.Token1, ContactBody("c-1", "Janet"), key),
            () => Request(HttpMethod.Post, $"/partner/v1/dealers/{world.Dealer}/sites/{world.Site2}/contacts", world.Token1, ContactBody("c-1"), key),
            () => Request(HttpMethod.Put, $"{world.ContactsPath}/{first.Json.GetProperty("contact_id").GetInt64()}", world.Token1, "{\"first_name\":\"Other\"}", key),
        })
        {
            using var request = other();
            using var response = await world.App.Client.SendAsync(request);
            var error = await response.ReadErrorAsync(409, "idempotency_conflict");
            Assert.Equal("Idempotency-Key", error.GetProperty("field").GetString());
            Assert.False(response.Headers.Contains("Idempotent-Replayed"));
            Assert.Null(response.Headers.RetryAfter); // final: retrying it cannot help (the SDK does not)
        }

        Assert.Equal(0, await ContactRowsAsync(world, world.Site, "c-2"));
        Assert.Equal(0, await ContactRowsAsync(world, world.Site2, "c-1"));
        var (_, unchanged) = await GetContactAsync(world, first.Json.GetProperty("contact_id").GetInt64());
        Assert.Equal("Jane", unchanged.GetProperty("first_name").GetString());

        // The first answer is still what a retry gets.
        var again = await SendAsync(world, Request(HttpMethod.Post, world.ContactsPath, world.Token1, ContactBody("c-1"), key));
        Assert.Equal(first.Body, again.Body);
        Assert.Equal("true", again.Replayed);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AnIdempotentDeleteAnswers204AndItsRetryReplaysThe204(DatabaseProvider provider)
    {
        // On Kestrel: it refuses a body on a 204, where the in-memory server lets one through.
        await using var world = await StartAsync(provider, onKestrel: true);
        var contactId = await CreateContactAsync(world, "to-delete");
        var contactPath = $"{world.ContactsPath}/{contactId}";
        var sitePath = $"/partner/v1/dealers/{world.Dealer}/sites/{world.Site2}";

        foreach (var path in new[] { contactPath, sitePath })
        {
            var key = "delete-" + Guid.NewGuid().ToString("N");
            var deleted = await SendAsync(world, Request(HttpMethod.Delete, path, world.Token1, idempotencyKey: key));
            Assert.True(deleted.Status == 204, $"{path}: {deleted.Status} {deleted.Text}" + ServerProblems(world));
            Assert.Empty(deleted.Body);
            Assert.Null(deleted.Replayed);

            var retry = await SendAsync(world, Request(HttpMethod.Delete, path, world.Token1, idempotencyKey: key));
            Assert.Equal((204, "true"), (retry.Status, retry.Replayed));
            Assert.Empty(retry.Body);

            // Without the key, the resource is gone.
            var again = await SendAsync(world, Request(HttpMethod.Delete, path, world.Token1));
            Assert.Equal(404, again.Status);
        }

        Assert.Equal(0, await ContactRowsAsync(world, world.Site, "to-delete"));
        Assert.DoesNotContain(world.App.Logs.Entries, entry => entry.Level >= LogLevel.Error);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ABodyLongerThanOneReadIsComparedWhole(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var key = "long-" + Guid.NewGuid().ToString("N");
        // JSON allows the whitespace: the fields that differ come after 20 KiB of it, past the first reads of the body.
        static string LongBody(string firstName) =>
            "{\"external_contact_id\":\"long-1\"," + new string(' ', 20 * 1024)
            + $"\"first_name\":\"{firstName}\",\"last_name\":\"Doe\",\"phone_number\":\"+1 555 123 4567\"}}";

        var first = await SendAsync(world, Request(HttpMethod.Post, world.ContactsPath, world.Token1, LongBody("Jane"), key));
        Assert.True(first.Status == 201, first.Text);
        var retry = await SendAsync(world, Request(HttpMethod.Post, world.ContactsPath, world.Token1, LongBody("Jane"), key));
        Assert.Equal(201, retry.Status);
        Assert.Equal("true", retry.Replayed);
        Assert.Equal(first.Body, retry.Body);

        var other = await SendAsync(world, Request(HttpMethod.Post, world.ContactsPath, world.Token1, LongBody("Janet"), key));
        Assert.Equal(409, other.Status);
        Assert.Equal("idempotency_conflict", other.ErrorCode);
        Assert.Null(other.Replayed);
        Assert.Equal(1, await ContactRowsAsync(world, world.Site, "long-1"));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AnIdempotentBodyOver64KiBWithoutContentLengthIs413AndLeavesTheKeyFree(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var key = "big-" + Guid.NewGuid().ToString("N");
        var tooLong = "{\"external_contact_id\":\"big-1\"," + new string(' ', 64 * 1024)
            + "\"first_name\":\"Jane\",\"last_name\":\"Doe\",\"phone_number\":\"+1 555 123 4567\"}";
        using (var request = Request(HttpMethod.Post, world.ContactsPath, world.Token1, idempotencyKey: key))
        {
            request.Content = new StreamContent(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(tooLong)));
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            request.Headers.TransferEncodingChunked = true;
            using var response = await world.App.Client.SendAsync(request);
            await response.ReadErrorAsync(413, "payload_too_large");
        }

        Assert.Equal(0, await ContactRowsAsync(world, world.Site, "big-1"));
        // Nothing was stored under the key: the next request with it runs.
        var next = await SendAsync(world, Request(HttpMethod.Post, world.ContactsPath, world.Token1, ContactBody("big-1"), key));
        Assert.True(next.Status == 201, next.Text);
        Assert.Null(next.Replayed);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ARetryWhileTheFirstRequestIsStillRunningIsRefusedAfterAWaitAndRunsOnceTheFirstIsGone(DatabaseProvider provider)
    {
        // On SQLite the retry waits for the write lock the first request holds, as long as the busy timeout: shortened here.
        await using var world = await StartAsync(provider, sqliteBusyTimeoutMilliseconds: 300);
        var key = "running-" + Guid.NewGuid().ToString("N");
        using var retryRequest = Request(HttpMethod.Post, world.ContactsPath, world.Token1, ContactBody("c-1"), key);

        // The first request with the key, mid-way: its claim is written and not committed, as a running request leaves it.
        await using (DbConnection first = provider == DatabaseProvider.Postgres
            ? new NpgsqlConnection(world.App.Database.ConnectionString)
            : new SqliteConnection(world.App.Database.ConnectionString))
        {
            await first.OpenAsync();
            await using var running = await first.BeginTransactionAsync();
            await first.ExecuteAsync(
                """
                INSERT INTO idempotency_records (client_id, idempotency_key, request_method, request_path, request_hash, state, created_at, expires_at)
                VALUES (@clientId, @key, 'POST', @path, 'first', 'in_progress', 0, @expires)
                """,
                new { clientId = world.Client1.ClientId, key, path = world.ContactsPath, expires = long.MaxValue }, running);

            // The retry waits for the first for a while, then gives up, and writes nothing. On PostgreSQL the wait is on
            // the key (lock_timeout on the claim): 409. On SQLite it is on the database's one write lock: 503, retry later.
            // (A retry that waited as long as the first runs would wait here for ever: the test bounds it.)
            var retry = await SendAsync(world, retryRequest).WaitAsync(TimeSpan.FromSeconds(30));
            if (provider == DatabaseProvider.Postgres)
            {
                Assert.True(retry.Status == 409, retry.Text + ServerProblems(world));
                Assert.Equal("idempotency_conflict", retry.ErrorCode);
                Assert.Contains("still being processed", retry.Text, StringComparison.Ordinal);
                // Unlike a key used for another request, this conflict passes: Retry-After says when to try again.
                Assert.Equal("1", retry.RetryAfter);

                // Only the claim's wait is bounded: the server's other writes go on meanwhile.
                Assert.True(await CreateContactAsync(world, "other") > 0);
            }
            else
            {
                Assert.True(retry.Status == 503, retry.Text);
            }

            Assert.Null(retry.Replayed);
            await running.RollbackAsync();
        }

        Assert.Equal(0, await ContactRowsAsync(world, world.Site, "c-1"));

        // The first request died before it committed, so nothing of it remains: the retry runs, once.
        var again = await SendAsync(world, Request(HttpMethod.Post, world.ContactsPath, world.Token1, ContactBody("c-1"), key));
        Assert.True(again.Status == 201, again.Text + ServerProblems(world));
        Assert.Null(again.Replayed);
        var replay = await SendAsync(world, Request(HttpMethod.Post, world.ContactsPath, world.Token1, ContactBody("c-1"), key));
        Assert.Equal("true", replay.Replayed);
        Assert.Equal(again.Body, replay.Body);
        Assert.Equal(1, await ContactRowsAsync(world, world.Site, "c-1"));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task IdempotencyKeysBelongToOneClient(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        const string key = "shared-key";
        var byClient1 = await SendAsync(world, Request(HttpMethod.Post, world.ContactsPath, world.Token1, ContactBody("c-1"), key));
        Assert.True(byClient1.Status == 201, byClient1.Text);

        // Another client of the same partner, the same key, another request: not a conflict, its own contact.
        var byClient2 = await SendAsync(world, Request(HttpMethod.Post, world.ContactsPath, world.Token2, ContactBody("c-2"), key));
        Assert.True(byClient2.Status == 201, byClient2.Text);
        Assert.Null(byClient2.Replayed);
        Assert.NotEqual(byClient1.Json.GetProperty("contact_id").GetInt64(), byClient2.Json.GetProperty("contact_id").GetInt64());
        Assert.Equal(1, await ContactRowsAsync(world, world.Site, "c-2"));

        // Each client's retry replays its own answer.
        var retry1 = await SendAsync(world, Request(HttpMethod.Post, world.ContactsPath, world.Token1, ContactBody("c-1"), key));
        var retry2 = await SendAsync(world, Request(HttpMethod.Post, world.ContactsPath, world.Token2, ContactBody("c-2"), key));
        Assert.Equal((byClient1.Text, "true"), (retry1.Text, retry1.Replayed));
        Assert.Equal((byClient2.Text, "true"), (retry2.Text, retry2.Replayed));

        // The same key and the very request client 1 made: client 2 gets its own answer (the id is taken), not client 1's 201.
        var key2 = "shared-key-2";
        Assert.Equal(201, (await SendAsync(world, Request(HttpMethod.Post, world.ContactsPath, world.Token1, ContactBody("c-3"), key2))).Status);
        var sameRequest = await SendAsync(world, Request(HttpMethod.Post, world.ContactsPath, world.Token2, ContactBody("c-3"), key2));
        Assert.Equal((409, "conflict"), (sameRequest.Status, sameRequest.ErrorCode));
        Assert.Null(sameRequest.Replayed);
        Assert.Equal(1, await ContactRowsAsync(world, world.Site, "c-3"));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task IdempotencyKeysAreValidated(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        foreach (var (key, external) in new[] { (new string('k', 256), "too-long"), (new string('k', 1000), "much-too-long") })
        {
            using var request = Request(HttpMethod.Post, world.ContactsPath, world.Token1, ContactBody(external), key);
            using var response = await world.App.Client.SendAsync(request);
            var error = await response.ReadErrorAsync(400);
            Assert.Equal("Idempotency-Key", error.GetProperty("field").GetString());
            Assert.Equal(0, await ContactRowsAsync(world, world.Site, external));
        }

        // 255 characters is the limit, not beyond it.
        var longest = await SendAsync(world, Request(HttpMethod.Post, world.ContactsPath, world.Token1, ContactBody("longest"), new string('k', 255)));
        Assert.True(longest.Status == 201, longest.Text);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AnIdempotentRequestThatFailedValidationReplaysTheSame400(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        const string key = "invalid-once";
        const string invalid = "{\"external_contact_id\":\"c-1\",\"first_name\":\"Jane\",\"last_name\":\"Doe\",\"email\":\"not-an-email\"}";

        var original = await SendAsync(world, Request(HttpMethod.Post, world.ContactsPath, world.Token1, invalid, key));
        Assert.Equal((400, "validation_failed", null), (original.Status, original.ErrorCode, original.Replayed));
        Assert.Equal("email", original.Json.GetProperty("error").GetProperty("field").GetString());

        foreach (var _ in Enumerable.Range(0, 2))
        {
            var replay = await SendAsync(world, Request(HttpMethod.Post, world.ContactsPath, world.Token1, invalid, key));
            Assert.Equal((400, "true"), (replay.Status, replay.Replayed));
            Assert.Equal(original.Body, replay.Body);
        }

        Assert.Equal(0, await ContactRowsAsync(world, world.Site, "c-1"));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task GetRequestsIgnoreTheIdempotencyKey(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        const string key = "used-by-a-post";
        var created = await SendAsync(world, Request(HttpMethod.Post, world.ContactsPath, world.Token1, ContactBody("c-1"), key));
        Assert.Equal(201, created.Status);
        var contactPath = $"{world.ContactsPath}/{created.Json.GetProperty("contact_id").GetInt64()}";

        // A key already used for a POST, a fresh key twice around a change, and a key no write would accept.
        foreach (var getKey in new[] { key, "get-key", new string('g', 300) })
        {
            var before = await SendAsync(world, Request(HttpMethod.Get, contactPath, world.Token1, idempotencyKey: getKey));
            Assert.True(before.Status == 200, before.Text);
            Assert.Null(before.Replayed);
            var put = await SendAsync(world, Request(HttpMethod.Put, contactPath, world.Token1, $"{{\"first_name\":\"Name{getKey.Length}\"}}"));
            Assert.True(put.Status == 200, put.Text);
            var after = await SendAsync(world, Request(HttpMethod.Get, contactPath, world.Token1, idempotencyKey: getKey));
            Assert.Equal(200, after.Status);
            Assert.Null(after.Replayed);
            Assert.Equal($"Name{getKey.Length}", after.Json.GetProperty("first_name").GetString());
            Assert.NotEqual(before.ETag, after.ETag);

            var list = await SendAsync(world, Request(HttpMethod.Get, world.ContactsPath, world.Token1, idempotencyKey: getKey));
            Assert.Equal((200, null), (list.Status, list.Replayed));
        }
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AnUpdateThatChangesNothingKeepsTheETagSoOthersIfMatchStillHolds(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var dealerPath = $"/partner/v1/dealers/{world.Dealer}";
        var station = await SendAsync(world, Request(HttpMethod.Post, $"{dealerPath}/monitoring-stations", world.Token1,
            "{\"external_monitoring_station_id\":\"st-1\",\"name\":\"Central\",\"prefix\":\"12\"}"));
        Assert.True(station.Status == 201, station.Text);
        var device = await SendAsync(world, Request(HttpMethod.Post, $"{dealerPath}/sites/{world.Site}/devices", world.Token1,
            "[{\"external_device_id\":\"dev-1\",\"device_type\":\"camera\",\"zone_number\":\"001\",\"additional_zone_numbers\":\"002,003\",\"mac\":\"AA:BB:CC:DD:EE:FF\"}]"));
        Assert.True(device.Status == 201, device.Text);
        var contactId = await CreateContactAsync(world, "steady");
        var dealerName = (await SendAsync(world, Request(HttpMethod.Get, dealerPath, world.Token1))).Json.GetProperty("company_name").GetString();

        // Each resource: an empty update, then one that repeats the values the row holds (in the form the server
        // stores them), then a real change.
        var cases = new (string Path, HttpMethod Method, string Same, string Change)[]
        {
            (dealerPath, HttpMethod.Put, JsonSerializer.Serialize(new Dictionary<string, string?> { ["company_name"] = dealerName }), "{\"company_name\":\"Renamed\"}"),
            ($"{dealerPath}/sites/{world.Site}", HttpMethod.Put, "{\"name\":\"Site\",\"timezone\":\"Asia/Seoul\",\"address1\":null}", "{\"address1\":\"1 Main St\"}"),
            ($"{dealerPath}/sites/{world.Site}/arming-settings", HttpMethod.Patch, "{\"security_type\":1}", "{\"security_type\":2}"),
            ($"{world.ContactsPath}/{contactId}", HttpMethod.Put, "{\"first_name\":\"Jane\",\"email\":null}", "{\"email\":\"jane@example.com\"}"),
            ($"{dealerPath}/monitoring-stations/{station.Json.GetProperty("monitoring_station_id").GetInt64()}", HttpMethod.Put,
                "{\"name\":\"Central\",\"prefix\":\"12\"}", "{\"prefix\":\"13\"}"),
            ($"{dealerPath}/sites/{world.Site}/devices/{device.Json.GetProperty("results")[0].GetProperty("device").GetProperty("device_id").GetInt64()}", HttpMethod.Put,
                "{\"additional_zone_numbers\":\"002, 003,002\",\"mac\":\"aa-bb-cc-dd-ee-ff\"}", "{\"name\":\"Door\"}"),
        };
        foreach (var (path, method, same, change) in cases)
        {
            var read = await SendAsync(world, Request(HttpMethod.Get, path, world.Token1));
            Assert.True(read.Status == 200, $"{path}: {read.Text}");
            var noOps = method == HttpMethod.Patch ? new[] { same } : ["{}", same];
            foreach (var body in noOps)
            {
                var unchanged = await SendAsync(world, Request(method, path, world.Token1, body, ifMatch: read.ETag));
                Assert.True(unchanged.Status == 200, $"{path} {body}: {unchanged.Text}");
                Assert.True(read.ETag == unchanged.ETag, $"{path} {body}: {read.ETag} -> {unchanged.ETag}");
                Assert.Equal(read.Text, unchanged.Text);
            }

            // The ETag read before the no-op updates is still the current one.
            var changed = await SendAsync(world, Request(method, path, world.Token1, change, ifMatch: read.ETag));
            Assert.True(changed.Status == 200, $"{path} {change}: {changed.Text}");
            Assert.NotEqual(read.ETag, changed.ETag);
            var stale = await SendAsync(world, Request(method, path, world.Token1, same, ifMatch: read.ETag));
            Assert.Equal(412, stale.Status);
        }
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AnIfMatchListAppliesTheWriteWhenAnyOfItsTagsIsCurrent(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var contactId = await CreateContactAsync(world, "listed");
        var path = $"{world.ContactsPath}/{contactId}";
        var (etag, _) = await GetContactAsync(world, contactId);

        var stale = await SendAsync(world, Request(HttpMethod.Put, path, world.Token1, "{\"first_name\":\"Stale\"}", ifMatch: "\"v998\", \"v999\", W/" + etag));
        Assert.Equal((412, "precondition_failed"), (stale.Status, stale.ErrorCode));
        var listed = await SendAsync(world, Request(HttpMethod.Put, path, world.Token1, "{\"first_name\":\"Listed\"}", ifMatch: $"\"v999\", {etag}"));
        Assert.True(listed.Status == 200, listed.Text);
        Assert.Equal("Listed", listed.Json.GetProperty("first_name").GetString());
        Assert.NotEqual(etag, listed.ETag);

        // The same list again: none of it is current any more. A tag named twice is that one tag.
        var again = await SendAsync(world, Request(HttpMethod.Put, path, world.Token1, "{\"first_name\":\"Again\"}", ifMatch: $"\"v999\", {etag}"));
        Assert.Equal(412, again.Status);
        var twice = await SendAsync(world, Request(HttpMethod.Delete, path, world.Token1, ifMatch: $"{listed.ETag}, {listed.ETag}"));
        Assert.Equal(204, twice.Status);

        // A resource that does not exist is a 404, whatever the list says.
        var gone = await SendAsync(world, Request(HttpMethod.Put, path, world.Token1, "{\"first_name\":\"Gone\"}", ifMatch: $"\"v1\", \"v2\""));
        Assert.Equal((404, "contact_not_found"), (gone.Status, gone.ErrorCode));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task TwoConcurrentUpdatesWithTheSameIfMatchGiveOne200AndOne412(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var contactId = await CreateContactAsync(world, "c-1");
        var path = $"{world.ContactsPath}/{contactId}";

        for (var round = 0; round < 5; round++)
        {
            var (etag, _) = await GetContactAsync(world, contactId);
            var answers = await SendAllAsync(world, new[] { "A", "B" }.Select(writer =>
                (Func<HttpRequestMessage>)(() => Request(HttpMethod.Put, path, world.Token1, $"{{\"first_name\":\"Round{round}{writer}\"}}", ifMatch: etag))));

            var summary = $"round {round}: " + string.Join(" | ", answers.Select(a => $"{a.Status} {a.Text}")) + ServerProblems(world);
            Assert.True(answers.Select(a => a.Status).Order().SequenceEqual([200, 412]), summary);
            var lost = answers.Single(a => a.Status == 412);
            Assert.Equal("precondition_failed", lost.ErrorCode);
            var won = answers.Single(a => a.Status == 200);
            var (newEtag, current) = await GetContactAsync(world, contactId);
            Assert.Equal(won.Json.GetProperty("first_name").GetString(), current.GetProperty("first_name").GetString());
            Assert.Equal(won.ETag, newEtag);
            Assert.NotEqual(etag, newEtag);
        }
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ParallelReadModifyWriteWithIfMatchRetriesLosesNoUpdate(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var contactId = await CreateContactAsync(world, "c-1");
        var path = $"{world.ContactsPath}/{contactId}";
        const int writers = 10;

        async Task<int> AppendAsync(int writer)
        {
            for (var attempt = 1; attempt <= 100; attempt++)
            {
                var (etag, current) = await GetContactAsync(world, contactId);
                var value = current.GetProperty("last_name").GetString() + $" w{writer}";
                var answer = await SendAsync(world, Request(HttpMethod.Put, path, world.Token1,
                    JsonSerializer.Serialize(new Dictionary<string, string> { ["last_name"] = value }), ifMatch: etag));
                if (answer.Status == 200)
                {
                    return attempt;
                }

                Assert.True(answer.Status == 412 && answer.ErrorCode == "precondition_failed", $"writer {writer}: {answer.Status} {answer.Text}" + ServerProblems(world));
            }

            throw new InvalidOperationException($"Writer {writer} never got its update through.");
        }

        var attempts = await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(() => AppendAsync(w))));
        var (_, final) = await GetContactAsync(world, contactId);
        var parts = final.GetProperty("last_name").GetString()!.Split(' ');
        Assert.Equal("Doe", parts[0]);
        Assert.Equal(Enumerable.Range(0, writers).Select(w => $"w{w}").Order(StringComparer.Ordinal), parts.Skip(1).Order(StringComparer.Ordinal));
        Assert.True(attempts.Sum() >= writers);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task FortyConcurrentRequestsToSiteAndContactRoutesAllSucceed(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        var contactId = await CreateContactAsync(world, "c-1");
        var paths = new[] { $"{world.ContactsPath}/{contactId}", world.ContactsPath, $"/partner/v1/dealers/{world.Dealer}/sites/{world.Site}" };
        var answers = await SendAllAsync(world, Enumerable.Range(0, 40).Select(i =>
            (Func<HttpRequestMessage>)(() => Request(HttpMethod.Get, paths[i % paths.Length], world.Token1))));
        Assert.True(answers.All(a => a.Status == 200),
            string.Join("\n", answers.Where(a => a.Status != 200).Select(a => $"{a.Status} {a.Text}").Distinct()) + ServerProblems(world));
    }

    // Note: the races below use at most six requests at a time, fewer than the test pool's connections
    // need for a deadlock-free run, so that they show the race itself; pool exhaustion has its own test.
    [Theory, OnSqlite, OnPostgres]
    public async Task ParallelDeletesAndUpdatesOfOneContactNeverAnswer5xx(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        for (var round = 0; round < 8; round++)
        {
            var contactId = await CreateContactAsync(world, $"doomed-{round}");
            var path = $"{world.ContactsPath}/{contactId}";
            var (etag, _) = await GetContactAsync(world, contactId);
            var requests = new List<(string Kind, Func<HttpRequestMessage> Make)>();
            for (var i = 0; i < 3; i++)
            {
                var index = i;
                requests.Add(("PUT", () => Request(HttpMethod.Put, path, world.Token1, $"{{\"first_name\":\"Writer{index}\"}}", ifMatch: index % 2 == 0 ? etag : null)));
                requests.Add(("DELETE", () => Request(HttpMethod.Delete, path, world.Token1, ifMatch: index == 0 ? etag : null)));
            }

            var answers = await SendAllAsync(world, requests.Select(r => r.Make));
            var results = requests.Zip(answers, (r, a) => (r.Kind, Answer: a)).ToList();
            var summary = $"round {round}: " + string.Join(" | ", results.Select(r => $"{r.Kind} {r.Answer.Status} {r.Answer.Text}")) + ServerProblems(world);
            Assert.True(answers.All(a => a.Status < 500), summary);
            Assert.True(results.Where(r => r.Kind == "PUT").All(r => r.Answer.Status is 200 or 404 or 412), summary);
            Assert.True(results.Where(r => r.Kind == "DELETE").All(r => r.Answer.Status is 204 or 404 or 412), summary);
            Assert.True(results.Count(r => r.Kind == "DELETE" && r.Answer.Status == 204) == 1, summary);
            Assert.All(answers.Where(a => a.Status >= 400), a => Assert.Contains(a.ErrorCode, new[] { "contact_not_found", "precondition_failed" }));

            var gone = await SendAsync(world, Request(HttpMethod.Get, path, world.Token1));
            Assert.Equal((404, "contact_not_found"), (gone.Status, gone.ErrorCode));
            Assert.Equal(0, await ContactRowsAsync(world, world.Site, $"doomed-{round}"));
        }
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task DeletingASiteWhileItAndItsContactsAreWrittenNeverAnswers5xx(DatabaseProvider provider)
    {
        await using var world = await StartAsync(provider);
        for (var round = 0; round < 8; round++)
        {
            long siteId;
            using (var site = await world.App.Client.SendAsync(Seed.Authorized(HttpMethod.Post, $"/partner/v1/dealers/{world.Dealer}/sites", world.Token1,
                $"{{\"external_site_id\":\"doomed-{round}\",\"name\":\"Doomed\",\"timezone\":\"Asia/Seoul\"}}")))
            {
                Assert.Equal(201, (int)site.StatusCode);
                siteId = (await site.ReadJsonAsync()).GetProperty("site_id").GetInt64();
            }

            var sitePath = $"/partner/v1/dealers/{world.Dealer}/sites/{siteId}";
            var existing = await SendAsync(world, Request(HttpMethod.Post, sitePath + "/contacts", world.Token1, ContactBody("existing")));
            Assert.Equal(201, existing.Status);
            var contactPath = $"{sitePath}/contacts/{existing.Json.GetProperty("contact_id").GetInt64()}";

            var requests = new List<(string Kind, Func<HttpRequestMessage> Make)>
            {
                ("POST", () => Request(HttpMethod.Post, sitePath + "/contacts", world.Token1, ContactBody("new-1"))),
                ("PUT", () => Request(HttpMethod.Put, contactPath, world.Token1, "{\"first_name\":\"Writer\"}")),
                ("SITE", () => Request(HttpMethod.Put, sitePath, world.Token1, "{\"name\":\"Renamed\"}")),
                ("DELETE", () => Request(HttpMethod.Delete, sitePath, world.Token1)),
                ("SITE", () => Request(HttpMethod.Patch, sitePath + "/arming-settings", world.Token1, "{\"security_type\":3}")),
                ("POST", () => Request(HttpMethod.Post, sitePath + "/contacts", world.Token1, ContactBody("new-2"))),
            };

            var answers = await SendAllAsync(world, requests.Select(r => r.Make));
            var results = requests.Zip(answers, (r, a) => (r.Kind, Answer: a)).ToList();
            var summary = $"round {round}: " + string.Join(" | ", results.Select(r => $"{r.Kind} {r.Answer.Status} {r.Answer.Text}")) + ServerProblems(world);
            Assert.True(results.All(r => r.Answer.Status < 500), summary);
            Assert.True(results.Single(r => r.Kind == "DELETE").Answer.Status == 204, summary);
            Assert.True(results.Where(r => r.Kind == "POST").All(r => r.Answer.Status is 201 or 404), summary);
            Assert.True(results.Where(r => r.Kind is "PUT" or "SITE").All(r => r.Answer.Status is 200 or 404), summary);
            Assert.Equal(0, await CountAsync(world, "SELECT COUNT(*) FROM contacts WHERE site_id = @siteId", new { siteId }));
            Assert.Equal(0, await CountAsync(world, "SELECT COUNT(*) FROM sites WHERE id = @siteId", new { siteId }));
        }
    }
}
