using Chekt.PartnerApi.Client.Tests.Infrastructure;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Chekt.PartnerApi.Client.Tests;

/// <summary><c>services.AddChektPartnerClient(...)</c> against the real server.</summary>
public sealed class DependencyInjectionTests
{
    [Theory, OnSqlite, OnPostgres]
    public async Task AddChektPartnerClientResolvesWorkingClientsThatShareOneTokenCache(DatabaseProvider provider)
    {
        await using var world = await SdkWorld.StartAsync(provider);
        var traffic = new RecordingHandler(world.App.Factory.Server.CreateHandler());
        var services = new ServiceCollection();
        services
            .AddChektPartnerClient(options =>
            {
                options.BaseAddress = world.App.BaseAddress;
                options.Credentials = new ClientSecretCredentials(world.M2M.ClientId, world.M2M.Secret!);
                options.Retry.MaxAttempts = 2;
            })
            .ConfigurePrimaryHttpMessageHandler(() => traffic);
        await using var provider1 = services.BuildServiceProvider(validateScopes: true);

        await using (var scope = provider1.CreateAsyncScope())
        {
            var client = scope.ServiceProvider.GetRequiredService<PartnerApiClient>();
            var site = await client.Sites.CreateAsync(world.DealerId, new CreateSiteRequest { ExternalSiteId = "di-1", Name = "DI", Timezone = "UTC" });
            Assert.Equal("di-1", site.ExternalSiteId);
        }

        await using (var scope = provider1.CreateAsyncScope())
        {
            var client = scope.ServiceProvider.GetRequiredService<PartnerApiClient>();
            Assert.Single(await client.Sites.ListAsync(world.DealerId));
        }

        Assert.Equal(1, traffic.TokenRequests);
        Assert.Equal(2, traffic.ApiRequests);
    }

    [Fact]
    public void AMissingBaseAddressIsReportedWhenTheClientIsResolved()
    {
        var services = new ServiceCollection();
        services.AddChektPartnerClient(_ => { });
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<PartnerApiClient>());
        Assert.Contains("BaseAddress", error.Message, StringComparison.Ordinal);
    }
}
