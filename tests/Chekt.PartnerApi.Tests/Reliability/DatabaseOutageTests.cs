using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;

namespace Chekt.PartnerApi.Tests.Reliability;

/// <summary>PostgreSQL stops under a write load and comes back: bounded 503s, recovery without a restart, nothing acknowledged lost.</summary>
public sealed class DatabaseOutageTests
{
    [Theory, OnPostgres]
    public async Task AnIdempotentWriteWhoseConnectionIsKilledMidRequestIs503AndItsRetryRuns(DatabaseProvider provider)
    {
        await using var world = await ApiWorld.StartAsync(provider);
        await using var blocker = new Npgsql.NpgsqlConnection(world.App.Database.ConnectionString);
        await blocker.OpenAsync();
        await using var hold = await blocker.BeginTransactionAsync();
        await using (var lockSites = new Npgsql.NpgsqlCommand("LOCK TABLE sites IN EXCLUSIVE MODE", blocker, hold))
        {
            await lockSites.ExecuteNonQueryAsync();
        }

        const string body = "{\"external_site_id\":\"killed\",\"name\":\"Site\",\"timezone\":\"UTC\"}";
        HttpRequestMessage Create()
        {
            var request = Seed.Authorized(HttpMethod.Post, $"{world.DealerPath}/sites", world.Token, body);
            request.Headers.TryAddWithoutValidation("Idempotency-Key", "killed-mid-request");
            return request;
        }

        // The request's transaction waits for the lock; its backend is then terminated, as when PostgreSQL goes away.
        var pending = world.App.Client.SendAsync(Create());
        var terminated = 0L;
        for (var attempt = 0; attempt < 100 && terminated == 0; attempt++)
        {
            await Task.Delay(100);
            await using var terminate = new Npgsql.NpgsqlCommand(
                "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
                blocker, hold);
            terminated = (long)(await terminate.ExecuteScalarAsync())!;
        }

        Assert.Equal(1, terminated);
        using var answer = await pending;
        await answer.ReadErrorAsync(503, "database_unavailable");
        await hold.RollbackAsync();

        using var retry = await world.App.Client.SendAsync(Create());
        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        Assert.DoesNotContain(world.App.Logs.Entries, entry => entry.Level >= LogLevel.Error);
    }

    [OwnPostgresClusterFact]
    public async Task ReadinessAnswers503WithinItsTimeoutWhenTheDatabaseHangs()
    {
        await using var cluster = await PostgresServer.StartOwnAsync();
        await using var world = await ApiWorld.StartAsync(DatabaseProvider.Postgres, cluster);
        Assert.Equal(HttpStatusCode.OK, (await world.App.Client.GetAsync("/readyz")).StatusCode);

        await cluster.SignalAllAsync("STOP");
        try
        {
            var watch = Stopwatch.StartNew();
            using var hung = await world.App.Client.GetAsync("/readyz");
            await hung.ReadErrorAsync(503, "database_unavailable");
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"/readyz took {watch.Elapsed}");
        }
        finally
        {
            await cluster.SignalAllAsync("CONT");
        }

        var ready = false;
        for (var attempt = 0; attempt < 50 && !ready; attempt++)
        {
            ready = (await world.App.Client.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK;
            await Task.Delay(ready ? 0 : 200);
        }

        Assert.True(ready, "/readyz did not answer 200 again after the database resumed");
    }

    [OwnPostgresClusterFact]
    public async Task AnOutageUnderLoadIsBounded503sAndTheServerRecoversByItself()
    {
        await using var cluster = await PostgresServer.StartOwnAsync();
        // The writers retry fast while the database is down; the per-client rate limit is not what is tested here.
        await using var world = await ApiWorld.StartAsync(DatabaseProvider.Postgres, cluster,
            configure: builder => builder.UseSetting("RateLimit:PermitsPerSecond", "0"));
        var siteId = await world.CreateSiteAsync();
        var path = $"{world.DealerPath}/sites/{siteId}/contacts";

        var acknowledged = new ConcurrentBag<string>();
        var outageAnswers = new ConcurrentBag<(int Status, TimeSpan Took, string Body)>();
        var phase = 0; // 0 before, 1 during the outage, 2 after the restart
        var firstSuccessAfterRestart = new TaskCompletionSource<DateTime>();
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 4).Select(writer => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var externalId = $"w{writer}-{i}";
                var watch = Stopwatch.StartNew();
                var response = await world.SendAsync(HttpMethod.Post, path, $"{{\"external_contact_id\":\"{externalId}\",\"first_name\":\"A\",\"last_name\":\"B\"}}");
                var currentPhase = Volatile.Read(ref phase);
                if (response.StatusCode == HttpStatusCode.Created)
                {
                    acknowledged.Add(externalId);
                    if (currentPhase == 2)
                    {
                        firstSuccessAfterRestart.TrySetResult(DateTime.UtcNow);
                    }
                }
                else if (currentPhase == 1)
                {
                    outageAnswers.Add(((int)response.StatusCode, watch.Elapsed, await response.Content.ReadAsStringAsync()));
                }

                if (currentPhase == 1)
                {
                    await Task.Delay(50);
                }
            }
        })).ToList();

        await Task.Delay(TimeSpan.FromSeconds(1));
        await cluster.StopAsync();
        Volatile.Write(ref phase, 1);
        await Task.Delay(TimeSpan.FromSeconds(3));

        var restartedAt = DateTime.UtcNow;
        await cluster.StartAsync();
        Volatile.Write(ref phase, 2);
        var recoveredAt = await firstSuccessAfterRestart.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await stop.CancelAsync();
        await Task.WhenAll(writers);

        Assert.NotEmpty(outageAnswers);
        Assert.All(outageAnswers, answer =>
        {
            Assert.Equal(503, answer.Status);
            Assert.Contains("\"database_unavailable\"", answer.Body, StringComparison.Ordinal);
            Assert.True(answer.Took < TimeSpan.FromSeconds(10), $"a request took {answer.Took} during the outage");
        });
        Assert.True(recoveredAt - restartedAt < TimeSpan.FromSeconds(5) + TimeSpan.FromSeconds(2), $"recovery took {recoveredAt - restartedAt}");

        await using var connection = await world.App.Services.GetRequiredService<Db>().OpenAsync();
        var stored = (await Dapper.SqlMapper.QueryAsync<string>(connection, "SELECT external_contact_id FROM contacts WHERE site_id = @siteId", new { siteId })).ToHashSet();
        Assert.All(acknowledged, externalId => Assert.Contains(externalId, stored));
    }
}
