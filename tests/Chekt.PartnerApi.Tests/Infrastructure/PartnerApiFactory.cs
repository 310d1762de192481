using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Chekt.PartnerApi.Tests.Infrastructure;

/// <summary>The real server (real middleware, real database) on an in-memory test server.</summary>
public sealed class PartnerApiFactory(TestDatabase database, Action<IWebHostBuilder>? configure = null) : WebApplicationFactory<Program>
{
    public const string Issuer = "http://localhost/";

    public LogCapture Logs { get; } = new();

    public TestClock Clock { get; } = new();

    public TestDatabase Database => database;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        foreach (var (key, value) in database.Settings)
        {
            builder.UseSetting(key, value);
        }

        builder.UseSetting("Auth:Issuer", Issuer);
        // A lighter password hash keeps the sign-in tests fast; the default work factor is covered by the CLI tests.
        builder.UseSetting("Auth:PasswordHashIterations", "2000");
        builder.ConfigureServices(services => services.AddSingleton<TimeProvider>(Clock));

        builder.ConfigureLogging(logging => logging.AddProvider(Logs));
        configure?.Invoke(builder);
    }
}
