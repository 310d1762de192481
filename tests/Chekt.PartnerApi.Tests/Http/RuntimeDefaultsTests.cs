using System.Diagnostics;
using System.Text.Json;
using Chekt.PartnerApi.Data;
using Microsoft.AspNetCore.Builder;
using Chekt.PartnerApi.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;

namespace Chekt.PartnerApi.Tests.Http;

/// <summary>Settings the server ships with for the cost of every request: no per-request Activity, a small young generation.</summary>
public sealed class RuntimeDefaultsTests
{
    [Theory, OnSqlite]
    public async Task ByDefaultARequestRunsWithoutAnAspNetCoreActivity(DatabaseProvider provider)
    {
        var probe = new ActivityProbe();
        await using var world = await ApiWorld.StartAsync(provider, configure: probe.Install);

        await world.OkAsync(HttpMethod.Get, world.DealerPath);

        Assert.NotEmpty(probe.Seen);
        Assert.All(probe.Seen, activity => Assert.Null(activity));
    }

    [Theory, OnSqlite]
    public async Task WithTheHostingLogCategorySwitchedOnAspNetCoreStartsItsActivityAgain(DatabaseProvider provider)
    {
        var probe = new ActivityProbe();
        await using var world = await ApiWorld.StartAsync(provider, configure: builder =>
        {
            builder.UseSetting("Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics", "Information");
            probe.Install(builder);
        });

        await world.OkAsync(HttpMethod.Get, world.DealerPath);

        Assert.NotNull(probe.Seen.Last());
    }

    [Fact]
    public void TheServerRuntimeKeepsTheYoungGenerationSmallAndIdleWorkersFromSpinning()
    {
        var runtimeConfig = Path.ChangeExtension(typeof(PartnerServer).Assembly.Location, ".runtimeconfig.json");
        using var document = JsonDocument.Parse(File.ReadAllText(runtimeConfig));
        var properties = document.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");

        Assert.Equal(1_048_576, properties.GetProperty("System.GC.Gen0MaxBudget").GetInt32());
        Assert.True(properties.GetProperty("System.GC.Server").GetBoolean());
        Assert.Equal(0, properties.GetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit").GetInt32());
    }

    [Fact]
    public async Task TheServerReadsItsConfigurationFilesOnceUnlessTheOperatorAsksForReloading()
    {
        // Reloading would watch the working directory, where the SQLite database usually lives.
        await using var server = PartnerServer.Build([]);
        var files = ((IConfigurationRoot)server.Configuration).Providers.OfType<FileConfigurationProvider>().ToList();
        Assert.Contains(files, file => file.Source.Path == "appsettings.json");
        Assert.All(files, file => Assert.False(file.Source.ReloadOnChange, file.Source.Path));

        await using var reloading = PartnerServer.Build(["--hostBuilder:reloadConfigOnChange=true"]);
        Assert.Contains(((IConfigurationRoot)reloading.Configuration).Providers.OfType<FileConfigurationProvider>(),
            file => file.Source.Path == "appsettings.json" && file.Source.ReloadOnChange);
    }

    /// <summary>Records, first thing in the pipeline, the Activity ASP.NET Core started for each request (or null).</summary>
    private sealed class ActivityProbe : IStartupFilter
    {
        public List<Activity?> Seen { get; } = [];

        public void Install(IWebHostBuilder builder) => builder.ConfigureServices(services => services.AddSingleton<IStartupFilter>(this));

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, following) =>
            {
                lock (Seen)
                {
                    Seen.Add(context.Features.Get<IHttpActivityFeature>()?.Activity);
                }

                await following(context);
            });
            next(app);
        };
    }
}
