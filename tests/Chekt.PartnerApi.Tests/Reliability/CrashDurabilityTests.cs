using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Cli;
using Chekt.PartnerApi.Tests.Infrastructure;
using Dapper;

namespace Chekt.PartnerApi.Tests.Reliability;

/// <summary>
/// The real server under a write load is killed with SIGKILL and restarted on the same database:
/// every write it acknowledged is there and complete, nothing is half-written, and retrying every
/// request with its Idempotency-Key after the restart answers 201 (a replay or a fresh run) and creates
/// no duplicate. Creates sent without a key (on SQLite they commit in groups) must survive the same way.
/// </summary>
public sealed class CrashDurabilityTests
{
    [Theory, OnSqlite, OnPostgres]
    public Task AcknowledgedWritesSurviveKillNineAndRetriesDoNotDuplicate(DatabaseProvider provider) => KillUnderWriteLoadAsync(provider, withKeys: true);

    [Theory, OnSqlite, OnPostgres]
    public Task AcknowledgedCreatesWithoutAKeySurviveKillNine(DatabaseProvider provider) => KillUnderWriteLoadAsync(provider, withKeys: false);

    private static async Task KillUnderWriteLoadAsync(DatabaseProvider provider, bool withKeys)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var partner = (await CliTestHost.RunAsync(database, ["partners", "add", "--name", "Crash partner"])).Json.GetProperty("partner_id").GetInt64();
        var client = (await CliTestHost.RunAsync(database, ["clients", "add", "--partner", partner.ToString(System.Globalization.CultureInfo.InvariantCulture), "--name", "m2m"])).Json;
        var dealer = (await CliTestHost.RunAsync(database, ["dealers", "add", "--company-name", "Crash dealer"])).Json.GetProperty("dealer_id").GetInt64();
        await using (var services = TestServices.For(database))
        {
            await services.ExecuteAsync(
                "INSERT INTO dealer_connections (partner_id, dealer_id, external_dealer_id, company_name, connected_at) VALUES (@partner, @dealer, 'd', 'x', 0)",
                new { partner, dealer });
            await services.ExecuteAsync(
                "INSERT INTO sites (dealer_id, external_site_id, name, timezone, created_at, updated_at) VALUES (@dealer, 's', 'Site', 'UTC', 0, 0)", new { dealer });
        }

        var port = ServerProcess.FreePort();
        string[] serve = ["serve", "--urls", $"http://127.0.0.1:{port}", $"--Auth:Issuer=http://127.0.0.1:{port}/", "--RateLimit:PermitsPerSecond=0", .. database.CliArgs];
        var server = await ServerProcess.StartAsync(serve);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        var token = await TokenAsync(http, client.GetProperty("client_id").GetString()!, client.GetProperty("client_secret").GetString()!);
        var path = $"/partner/v1/dealers/{dealer}/sites/1/contacts";

        // Writers run until the server dies under them.
        var acknowledged = new ConcurrentDictionary<string, string>();
        var attempted = new ConcurrentBag<string>();
        var writers = Enumerable.Range(0, 8).Select(writer => Task.Run(async () =>
        {
            for (var i = 0; ; i++)
            {
                var externalId = $"w{writer}-{i}";
                attempted.Add(externalId);
                try
                {
                    var response = await http.SendAsync(Create(path, token, externalId, withKeys));
                    if (response.StatusCode == HttpStatusCode.Created)
                    {
                        acknowledged[externalId] = await response.Content.ReadAsStringAsync();
                    }
                }
                catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
                {
                    return; // the server is gone
                }
            }
        })).ToList();

        await Task.Delay(TimeSpan.FromSeconds(2));
        await server.KillAsync();
        await Task.WhenAll(writers);
        await server.DisposeAsync();
        Assert.True(acknowledged.Count > 10, $"only {acknowledged.Count} writes were acknowledged before the kill");

        await using var restarted = await ServerProcess.StartAsync(serve);
        token = await TokenAsync(http, client.GetProperty("client_id").GetString()!, client.GetProperty("client_secret").GetString()!);

        await using (var services = TestServices.For(database))
        {
            var rows = await services.QueryAsync<(string External, string First, string Last, string? Email)>(
                "SELECT external_contact_id, first_name, last_name, email FROM contacts");
            var stored = rows.ToDictionary(r => r.External);
            foreach (var (externalId, body) in acknowledged)
            {
                Assert.True(stored.TryGetValue(externalId, out var row), $"acknowledged contact {externalId} was lost");
                var answered = JsonDocument.Parse(body).RootElement;
                Assert.Equal(answered.GetProperty("first_name").GetString(), row.First);
            }

            // Nothing half-written: every stored row is complete, and no key was left claimed without its
            // answer (the claim, the contact and the answer commit together).
            Assert.All(rows, row => Assert.Equal((row.External, "Crash", $"{row.External}@example.com"), (row.External, row.First, row.Email)));
            Assert.Equal(0L, await services.ScalarAsync<long>("SELECT COUNT(*) FROM idempotency_records WHERE state <> 'completed'"));
        }

        if (!withKeys)
        {
            return;
        }

        // Every request is retried with its key: no duplicates.
        var statuses = new ConcurrentBag<int>();
        await Parallel.ForEachAsync(attempted.Distinct(), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (externalId, _) =>
        {
            var response = await http.SendAsync(Create(path, token, externalId, withKey: true));
            statuses.Add((int)response.StatusCode);
            if (acknowledged.TryGetValue(externalId, out var first) && response.Headers.Contains("Idempotent-Replayed"))
            {
                Assert.Equal(first, await response.Content.ReadAsStringAsync());
            }
        });
        // Each retry either replays a committed answer or runs afresh: all 201, never a 409 or a 5xx.
        Assert.All(statuses, status => Assert.Equal(201, status));
        await using (var services = TestServices.For(database))
        {
            var duplicates = await services.ScalarAsync<long>(
                "SELECT COUNT(*) FROM (SELECT external_contact_id FROM contacts GROUP BY external_contact_id HAVING COUNT(*) > 1) d");
            Assert.Equal(0L, duplicates);
        }
    }

    private static HttpRequestMessage Create(string path, string token, string externalId, bool withKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(
                $"{{\"external_contact_id\":\"{externalId}\",\"first_name\":\"Crash\",\"last_name\":\"Test\",\"email\":\"{externalId}@example.com\"}}",
                Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (withKey)
        {
            request.Headers.Add("Idempotency-Key", "key-" + externalId);
        }

        return request;
    }

    private static async Task<string> TokenAsync(HttpClient http, string clientId, string secret)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/oauth/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{clientId}:{secret}")));
        var response = await http.SendAsync(request);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString()!;
    }
}
