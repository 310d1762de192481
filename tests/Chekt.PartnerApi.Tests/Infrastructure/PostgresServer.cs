using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Chekt.PartnerApi.Tests.Infrastructure;

/// <summary>
/// A throwaway PostgreSQL cluster started from the installed binaries (initdb + pg_ctl) on a free
/// loopback port, or an existing server given by <c>PARTNER_TEST_POSTGRES</c> (an admin connection string).
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private static readonly Lazy<Task<PostgresServer>> Shared = new(() => StartExternalOrOwnAsync());

    private readonly string? _directory;
    private readonly int _port;

    private PostgresServer(string adminConnectionString, string? directory, int port)
    {
        AdminConnectionString = adminConnectionString;
        _directory = directory;
        _port = port;
    }

    public string AdminConnectionString { get; }

    public static string? BinDirectory { get; } = FindBinDirectory();

    public static string? ExternalConnectionString { get; } = Environment.GetEnvironmentVariable("PARTNER_TEST_POSTGRES");

    /// <summary>Under CI (or when asked) PostgreSQL tests must run: they fail instead of being skipped.</summary>
    public static bool Required =>
        string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase)
        || Environment.GetEnvironmentVariable("PARTNER_TESTS_REQUIRE_POSTGRES") is "1" or "true";

    public static bool CanStartOwnCluster => BinDirectory is not null;

    public static string? SkipReason =>
        Required || CanStartOwnCluster || ExternalConnectionString is not null
            ? null
            : "PostgreSQL is not installed here (no initdb found); install the postgresql package or set PARTNER_TEST_POSTGRES.";

    /// <summary>The server shared by the test run; each test creates its own database on it.</summary>
    public static Task<PostgresServer> GetSharedAsync() => Shared.Value;

    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"t_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
    }

    public async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Starts a new cluster of its own (used by outage tests that stop and restart it).</summary>
    public static async Task<PostgresServer> StartOwnAsync()
    {
        if (BinDirectory is null)
        {
            throw new InvalidOperationException("PostgreSQL binaries (initdb, pg_ctl) are not installed.");
        }

        var directory = Path.Combine(Path.GetTempPath(), $"chekt-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        if (IsRoot)
        {
            // initdb refuses to run as root; the cluster belongs to the postgres user.
            await ProcessRunner.RunAsync("chown", ["postgres", directory]);
        }

        await RunPgAsync("initdb", ["-D", Path.Combine(directory, "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C"]);
        var port = FreePort();
        var server = new PostgresServer(
            $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=true;Maximum Pool Size=20;Timeout=5",
            directory, port);
        await server.StartAsync();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.StopAsync(immediate: true).GetAwaiter().GetResult();
        return server;
    }

    public async Task StartAsync()
    {
        var options = $"-p {_port} -k {_directory} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off " +
                      "-c full_page_writes=off -c max_connections=300";
        await RunPgAsync("pg_ctl", ["-D", Path.Combine(_directory!, "data"), "-o", options, "-l", Path.Combine(_directory!, "log"), "-w", "-t", "60", "start"]);
    }

    public async Task StopAsync(bool immediate = false)
    {
        if (_directory is null)
        {
            throw new InvalidOperationException("An external server cannot be stopped by the tests.");
        }

        await RunPgAsync("pg_ctl", ["-D", Path.Combine(_directory, "data"), "-m", immediate ? "immediate" : "fast", "-w", "stop"], throwOnError: false);
    }

    /// <summary>
    /// Stops (SIGSTOP) or resumes (SIGCONT) every process of the cluster: a server that still accepts connections and
    /// queries at the socket level but never answers, as a hung host does.
    /// </summary>
    public async Task SignalAllAsync(string signal)
    {
        if (_directory is null)
        {
            throw new InvalidOperationException("An external server cannot be signalled by the tests.");
        }

        var postmaster = (await File.ReadAllLinesAsync(Path.Combine(_directory, "data", "postmaster.pid")))[0].Trim();
        await ProcessRunner.RunAsync("pkill", [$"-{signal}", "-P", postmaster]);
        await ProcessRunner.RunAsync("kill", [$"-{signal}", postmaster]);
    }

    public async ValueTask DisposeAsync()
    {
        if (_directory is not null)
        {
            await StopAsync(immediate: true);
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
                // Left for the OS to clean from the temp folder.
            }
        }
    }

    private static async Task<PostgresServer> StartExternalOrOwnAsync()
    {
        if (ExternalConnectionString is not null)
        {
            return new PostgresServer(ExternalConnectionString, null, 0);
        }

        if (BinDirectory is null)
        {
            throw new InvalidOperationException(
                "PostgreSQL tests are required here (CI) but PostgreSQL is not installed: install the postgresql package.");
        }

        return await StartOwnAsync();
    }

    private static bool IsRoot => Environment.UserName == "root";

    private static async Task RunPgAsync(string tool, string[] arguments, bool throwOnError = true)
    {
        var path = Path.Combine(BinDirectory!, tool);
        var result = IsRoot
            ? await ProcessRunner.RunAsync("runuser", ["-u", "postgres", "--", path, .. arguments])
            : await ProcessRunner.RunAsync(path, arguments);
        if (throwOnError && result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{tool} failed ({result.ExitCode}): {result.Stdout} {result.Stderr}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? FindBinDirectory()
    {
        if (Environment.GetEnvironmentVariable("PARTNER_TEST_PG_BIN") is { } configured && File.Exists(Path.Combine(configured, "initdb")))
        {
            return configured;
        }

        const string debianRoot = "/usr/lib/postgresql";
        if (Directory.Exists(debianRoot))
        {
            var newest = Directory.GetDirectories(debianRoot)
                .Select(dir => Path.Combine(dir, "bin"))
                .Where(bin => File.Exists(Path.Combine(bin, "initdb")))
                .OrderByDescending(bin => int.TryParse(Path.GetFileName(Path.GetDirectoryName(bin)), out var version) ? version : 0)
                .FirstOrDefault();
            if (newest is not null)
            {
                return newest;
            }
        }

        return (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault(dir => File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl")));
    }
}
