using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;
using static Chekt.PartnerApi.Tests.Cli.CliTestHost;

namespace Chekt.PartnerApi.Tests.Cli;

/// <summary>
/// A setting the server cannot use stops <c>serve</c> (and every command) with exit code 1 and one line on
/// stderr that names the setting, not with an unhandled exception, and never prints a password.
/// </summary>
public sealed class StartupErrorTests
{
    private const string Password = "s3cret-not-for-logs";

    public static TheoryData<string[], string> BadSettings => new()
    {
        // Npgsql spells the pool size "Maximum Pool Size"; the SqlClient spelling is refused by the driver.
        { ["--Database:Provider=Postgres", $"--ConnectionStrings:Partner=Host=127.0.0.1;Password={Password};Max Pool Size=8"],
            "ConnectionStrings:Partner is not a valid PostgreSQL connection string" },
        { ["--Database:Provider=Postgres", $"--ConnectionStrings:Partner=Password={Password};this is not a connection string"],
            "ConnectionStrings:Partner is not a valid PostgreSQL connection string" },
        { ["--Database:Provider=Sqlite", $"--ConnectionStrings:Partner=Data Source=x.db;Password={Password};Cache=Sideways"],
            "ConnectionStrings:Partner is not a valid SQLite connection string" },
        { ["--Database:Provider=Postgres", "--ConnectionStrings:Partner="], "ConnectionStrings:Partner is not set" },
        { ["--Database:Provider=Oracle"], "'Database:Provider'" },
        // Auth settings are checked when the server starts, not when the first token is asked for (then a 500).
        { ["--Auth:AccessTokenLifetimeSeconds=abc"], "'Auth:AccessTokenLifetimeSeconds'" },
        { ["--Auth:AccessTokenLifetimeSeconds=-100"], "Auth:AccessTokenLifetimeSeconds must be between 1 and 86400" },
        { ["--Auth:Issuer=not-a-url"], "Auth:Issuer must be an absolute http or https URL ending with '/'" },
        { ["--Auth:Issuer=https://api.example.com"], "Auth:Issuer must be an absolute http or https URL ending with '/'" },
        { ["--Auth:Issuer=ftp://api.example.com/"], "Auth:Issuer must be an absolute http or https URL ending with '/'" },
        { ["--Auth:AccessTokenLifetimeSeconds=86401"], "Auth:AccessTokenLifetimeSeconds must be between 1 and 86400" },
        { ["--Auth:Audience= "], "Auth:Audience must not be empty" },
        { ["--Auth:PartnerClaimName= "], "Auth:PartnerClaimName must not be empty" },
        { ["--Auth:PasswordHashIterations=0"], "Auth:PasswordHashIterations must be positive" },
        // Without migrations on start, a database behind this version is refused at start, not request by request.
        { ["--Database:MigrateOnStart=false"], "Database:MigrateOnStart is false and the database lacks" },
    };

    [Theory, MemberData(nameof(BadSettings))]
    public async Task ServeStopsWithOneLineNamingTheSetting(string[] settings, string expected)
    {
        var run = await ProcessRunner.RunAsync("dotnet", [ServerDll, "serve", "--urls", "http://127.0.0.1:0", .. settings],
            workingDirectory: Directory.CreateTempSubdirectory("chekt-startup-").FullName, timeout: TimeSpan.FromMinutes(1));

        Assert.Equal(1, run.ExitCode);
        var line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, run.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", run.Stderr + run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServeOnAPortInUseStopsWithOneLine()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;

        var directory = Directory.CreateTempSubdirectory("chekt-startup-").FullName;
        var run = await ProcessRunner.RunAsync("dotnet",
            [ServerDll, "serve", "--urls", $"http://127.0.0.1:{port}", $"--ConnectionStrings:Partner=Data Source={Path.Combine(directory, "p.db")}"],
            workingDirectory: directory, timeout: TimeSpan.FromMinutes(1));

        Assert.Equal(1, run.ExitCode);
        var line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{port}", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServeWithAnAddressKestrelCannotParseStopsWithOneLine()
    {
        var directory = Directory.CreateTempSubdirectory("chekt-startup-").FullName;
        var run = await ProcessRunner.RunAsync("dotnet",
            [ServerDll, "serve", "--urls", "notaurl", $"--ConnectionStrings:Partner=Data Source={Path.Combine(directory, "p.db")}"],
            workingDirectory: directory, timeout: TimeSpan.FromMinutes(1));

        Assert.Equal(1, run.ExitCode);
        var line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("error: urls: Invalid url: 'notaurl'", line);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task WithoutMigrationsOnStartACommandOnADatabaseMissingOneIsAOneLineFailureAndMigrateStillWorks(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);
        var refused = await RunAsync(database, ["partners", "add", "--name", "x", "--Database:MigrateOnStart=false"]);
        Assert.Equal(1, refused.ExitCode);
        var line = Assert.Single(refused.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: Database:MigrateOnStart is false and the database lacks", line, StringComparison.Ordinal);
        Assert.Contains("0001_initial", line, StringComparison.Ordinal);

        Assert.Equal(0, (await RunAsync(database, ["migrate", "--Database:MigrateOnStart=false"])).ExitCode);
        Assert.Equal(0, (await RunAsync(database, ["partners", "add", "--name", "x", "--Database:MigrateOnStart=false"])).ExitCode);
    }

    [Fact]
    public async Task AnOperatorCommandWithABadConnectionStringIsAOneLineFailure()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await Chekt.PartnerApi.Cli.CliApp.RunAsync(
            ["partners", "add", "--name", "x", "--Database:Provider=Postgres", $"--ConnectionStrings:Partner=Host=127.0.0.1;Password={Password};Max Pool Size=8"],
            new Chekt.PartnerApi.Cli.CliConsole(new StringReader(""), output, error, true));

        Assert.Equal(1, exitCode);
        Assert.Equal("", output.ToString());
        var line = Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ConnectionStrings:Partner is not a valid PostgreSQL connection string", line, StringComparison.Ordinal);
        Assert.Contains("max pool size", line, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Password, line, StringComparison.Ordinal);
    }
}
