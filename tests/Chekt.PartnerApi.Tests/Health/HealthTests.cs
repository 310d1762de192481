using System.Diagnostics;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;

namespace Chekt.PartnerApi.Tests.Health;

public sealed class HealthTests
{
    [Theory, OnSqlite, OnPostgres]
    public async Task HealthzAndReadyzAre200WhenTheDatabaseIsUp(DatabaseProvider provider)
    {
        await using var app = await TestApp.StartAsync(provider);
        var live = await app.Client.GetAsync("/healthz");
        var ready = await app.Client.GetAsync("/readyz");
        Assert.Equal(200, (int)live.StatusCode);
        Assert.Equal("ok", (await live.ReadJsonAsync()).GetProperty("status").GetString());
        Assert.Equal(200, (int)ready.StatusCode);
        Assert.Equal("ready", (await ready.ReadJsonAsync()).GetProperty("status").GetString());
    }

    [OwnPostgresClusterFact]
    public async Task ReadyzIs503WhilePostgresIsDownAndRecoversWithoutARestart()
    {
        await using var cluster = await PostgresServer.StartOwnAsync();
        await using var app = await TestApp.StartAsync(DatabaseProvider.Postgres, server: cluster);
        Assert.Equal(200, (int)(await app.Client.GetAsync("/readyz")).StatusCode);

        await cluster.StopAsync();
        var watch = Stopwatch.StartNew();
        var down = await app.Client.GetAsync("/readyz");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"readyz took {watch.Elapsed} while the database was down");
        await down.ReadErrorAsync(503, "database_unavailable");
        Assert.NotNull(down.Headers.RetryAfter);
        Assert.Equal(200, (int)(await app.Client.GetAsync("/healthz")).StatusCode);

        await cluster.StartAsync();
        var recovered = false;
        for (var attempt = 0; attempt < 50 && !recovered; attempt++)
        {
            recovered = (int)(await app.Client.GetAsync("/readyz")).StatusCode == 200;
            if (!recovered)
            {
                await Task.Delay(200);
            }
        }

        Assert.True(recovered, "readyz did not return to 200 after PostgreSQL came back");
    }
}
