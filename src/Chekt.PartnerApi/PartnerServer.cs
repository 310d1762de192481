using Chekt.PartnerApi.Auth;
using Chekt.PartnerApi.Cli;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Health;
using Chekt.PartnerApi.MonitoringStations;
using Chekt.PartnerApi.OpenApi;
using Chekt.PartnerApi.Http;
using Chekt.PartnerApi.Contacts;
using Chekt.PartnerApi.Dealers;
using Chekt.PartnerApi.Devices;
using Chekt.PartnerApi.Sites;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.Options;

namespace Chekt.PartnerApi;

/// <summary>Composition of the server: services, middleware and endpoints.</summary>
public static class PartnerServer
{
    public static WebApplication Build(string[] args)
    {
        // Note: configuration is read once, at start. The host's default reloads appsettings.json on change by
        // watching the content root (the working directory) and everything under it, where the SQLite database
        // usually lives: every write would wake the watcher. Given first, an operator's own value still wins.
        var builder = WebApplication.CreateBuilder(["--hostBuilder:reloadConfigOnChange=false", .. args]);
        // Built-in defaults sit below every other configuration source, so appsettings.json,
        // environment variables and --Key=value all override them.
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = Defaults });
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = RequestLimits.MaxBodyBytes;
            // Room for oversized headers to reach the middleware, which answers them with the error
            // body (400 for an oversized trace id) instead of Kestrel's bare 431.
            kestrel.Limits.MaxRequestHeadersTotalSize = RequestLimits.MaxHeaderBytes;
        });

        // Note: the formatters share Logging:Console:FormatterOptions; the simple one's timestamp ends with the space that
        // separates it from the level, which in a JSON log would make the Timestamp value no longer ISO 8601.
        builder.Services.PostConfigure<Microsoft.Extensions.Logging.Console.JsonConsoleFormatterOptions>(
            options => options.TimestampFormat = options.TimestampFormat?.TrimEnd());

        // First hosted service: the schema must exist before anything else (Data Protection's key ring) reads it.
        builder.Services.AddHostedService<StartupTasks>();
        builder.Services.AddHostedService(provider => provider.GetRequiredService<Housekeeping>());
        builder.Services.AddPartnerCore(builder.Configuration);
        builder.Services.AddPartnerHttp();
        builder.Services.AddPartnerAuth(builder.Configuration);
        builder.Services.AddPartnerOpenApi();

        var app = builder.Build();
        app.UsePartnerHttp();
        app.MapHealthEndpoints();
        app.MapDiscoveryEndpoints();
        app.MapTokenEndpoints();
        app.MapAuthorizeEndpoints();
        app.MapLogoutEndpoints();

        var api = app.MapPartnerApi();
        api.MapDealerEndpoints();
        api.MapSiteEndpoints();
        api.MapContactEndpoints();
        api.MapMonitoringStationEndpoints();
        api.MapDeviceEndpoints();

        app.MapPartnerApiDocs();
        return app;
    }

    /// <summary>Services shared by the server and the operator CLI.</summary>
    public static IServiceCollection AddPartnerCore(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(TimeProvider.System);
        services.Configure<DatabaseOptions>(configuration.GetSection(DatabaseOptions.SectionName));
        services.AddOptions<AuthOptions>().Bind(configuration.GetSection(AuthOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidation>();
        services.AddSingleton<Db>();
        services.AddSingleton<Migrator>();
        services.AddSingleton<SigningKeyStore>();
        services.AddSingleton<Operator>();
        services.AddSingleton<Housekeeping>();
        return services;
    }

    /// <summary>The authorization server and the token validation of the API.</summary>
    public static IServiceCollection AddPartnerAuth(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<TokenEndpointRateLimitOptions>(configuration.GetSection(TokenEndpointRateLimitOptions.SectionName));
        services.AddSingleton<OAuthClientStore>();
        services.AddSingleton<ClientAuthenticator>();
        services.AddSingleton<TokenIssuer>();
        services.AddSingleton<GrantStore>();
        services.AddSingleton<DealerUserStore>();
        services.AddSingleton<RevokedAccessTokens>();
        services.AddSingleton<AccessTokenValidator>();
        services.AddSingleton<TokenEndpointRateLimiter>();
        services.Configure<RateLimitOptions>(configuration.GetSection(RateLimitOptions.SectionName));
        services.AddSingleton<ClientRateLimiter>();
        services.AddSingleton<LoginSession>();
        services.AddSingleton<DataProtectionKeyRepository>();
        services.AddDataProtection().SetApplicationName("chekt-partner-api");
        services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(provider =>
            new ConfigureOptions<KeyManagementOptions>(options => options.XmlRepository = provider.GetRequiredService<DataProtectionKeyRepository>()));
        services.AddAntiforgery(options =>
        {
            options.Cookie.Name = "chekt_antiforgery";
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            // Our pages send X-Frame-Options: DENY themselves (antiforgery would send SAMEORIGIN).
            options.SuppressXFrameOptionsHeader = true;
        });
        return services;
    }

    /// <summary>
    /// Configuration defaults. Logging: one line per entry with scopes (they carry the trace id),
    /// <c>Logging:Console:FormatterName</c> = <c>simple</c> or <c>json</c>; framework chatter at
    /// Warning because the server writes its own request line with the trace id.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string?> Defaults = new Dictionary<string, string?>
    {
        ["Logging:LogLevel:Default"] = "Information",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
        // Note: while this category is enabled at any level, ASP.NET Core starts a System.Diagnostics.Activity for
        // every request (a third of a GET's allocations) to scope its own request logs, which the server's request
        // line replaces. An ActivityListener (tracing) still gets its activities.
        ["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = "None",
        ["Logging:Console:FormatterName"] = "simple",
        ["Logging:Console:FormatterOptions:IncludeScopes"] = "true",
        ["Logging:Console:FormatterOptions:SingleLine"] = "true",
        ["Logging:Console:FormatterOptions:UseUtcTimestamp"] = "true",
        ["Logging:Console:FormatterOptions:TimestampFormat"] = "yyyy-MM-ddTHH:mm:ss.fffZ ",
    };

    /// <summary>Migrates (when configured) and makes sure a signing key exists before requests are served.</summary>
    private sealed class StartupTasks(
        Microsoft.Extensions.Options.IOptions<DatabaseOptions> options, Migrator migrator, SigningKeyStore keys) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            if (options.Value.MigrateOnStart)
            {
                await migrator.MigrateAsync(cancellationToken);
            }
            else
            {
                await migrator.EnsureNothingPendingAsync(cancellationToken);
            }

            await keys.EnsureSigningKeyAsync(cancellationToken);
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
