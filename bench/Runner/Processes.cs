using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Chekt.PartnerApi.Bench;

/// <summary>A process under test (a server or a peer), stopped when disposed.</summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;

    private ServiceProcess(string name, Process process, string baseUrl)
    {
        Name = name;
        _process = process;
        BaseUrl = baseUrl;
    }

    public string Name { get; }

    public string BaseUrl { get; }

    public int Pid => _process.Id;

    public static async Task<ServiceProcess> StartAsync(string name, string fileName, IEnumerable<string> arguments, string baseUrl, string readyPath,
        IDictionary<string, string>? environment = null, string? workingDirectory = null, string? logFile = null)
    {
        var info = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"Cannot start {name}.");
        var log = logFile is null ? null : new StreamWriter(logFile) { AutoFlush = true };
        process.OutputDataReceived += (_, line) => { lock (process) { log?.WriteLine(line.Data); } };
        process.ErrorDataReceived += (_, line) => { lock (process) { log?.WriteLine(line.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var service = new ServiceProcess(name, process, baseUrl);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{name} exited with code {process.ExitCode} while starting (see {logFile}).");
            }

            try
            {
                var response = await http.GetAsync(baseUrl + readyPath);
                if ((int)response.StatusCode < 500)
                {
                    return service;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(200);
        }

        await service.DisposeAsync();
        throw new TimeoutException($"{name} did not become ready at {baseUrl}{readyPath}.");
    }

    /// <summary>Resident set size in MiB, from /proc.</summary>
    public double ResidentMemoryMiB()
    {
        var line = File.ReadLines($"/proc/{_process.Id}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line is null ? double.NaN : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static async Task<(int ExitCode, string Output)> RunAsync(string fileName, params string[] arguments)
    {
        var info = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output);
    }
}

/// <summary>A throwaway PostgreSQL cluster from the installed binaries, tuned as a durable production default (fsync on).</summary>
public sealed class PgCluster : IAsyncDisposable
{
    private readonly string _directory;
    private readonly string _binDirectory;

    private PgCluster(string directory, string binDirectory, int port)
    {
        _directory = directory;
        _binDirectory = binDirectory;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString(string database) => $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database}";

    public static async Task<PgCluster?> StartAsync()
    {
        var bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(b => File.Exists(Path.Combine(b, "initdb"))).OrderDescending().FirstOrDefault()
            : null;
        if (bin is null)
        {
            return null;
        }

        var directory = Path.Combine(Path.GetTempPath(), $"chekt-bench-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        var root = Environment.UserName == "root";
        if (root)
        {
            await ServiceProcess.RunAsync("chown", "postgres", directory);
        }

        var cluster = new PgCluster(directory, bin, ServiceProcess.FreePort());
        await cluster.RunPgAsync(true, "initdb", "-D", Path.Combine(directory, "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C");
        await cluster.RunPgAsync(true, "pg_ctl", "-D", Path.Combine(directory, "data"), "-l", Path.Combine(directory, "log"), "-w", "-t", "60",
            "-o", $"-p {cluster.Port} -k {directory} -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=256MB", "start");
        return cluster;
    }

    /// <summary>
    /// Runs pgbench's custom <paramref name="script"/> with prepared statements and returns its transactions
    /// per second and the p99 of their latencies (from pgbench's per-transaction log), or null when pgbench is
    /// not installed or fails.
    /// </summary>
    public async Task<PgbenchResult?> PgbenchAsync(string database, string script, int clients, TimeSpan duration, string work)
    {
        var path = Path.Combine(_binDirectory, "pgbench");
        if (!File.Exists(path))
        {
            return null;
        }

        var name = $"pgbench-{Guid.NewGuid():N}";
        var file = Path.Combine(work, name + ".sql");
        await File.WriteAllTextAsync(file, script);
        var logPrefix = Path.Combine(work, name + "-log");
        var (exitCode, output) = await ServiceProcess.RunAsync(path,
            "-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", "postgres", "-n", "-M", "prepared",
            "-c", clients.ToString(CultureInfo.InvariantCulture), "-j", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture),
            "-T", ((int)duration.TotalSeconds).ToString(CultureInfo.InvariantCulture), "-l", "--log-prefix", logPrefix, "-f", file, database);
        var tps = System.Text.RegularExpressions.Regex.Match(output, @"tps = ([0-9.]+)");
        if (exitCode != 0 || !tps.Success)
        {
            return null;
        }

        // One line per transaction, one file per pgbench thread: "client transaction latency_us script epoch us".
        var latencies = Directory.GetFiles(work, Path.GetFileName(logPrefix) + ".*")
            .SelectMany(File.ReadLines)
            .Select(line => line.Split(' '))
            .Where(fields => fields.Length >= 3)
            .Select(fields => double.Parse(fields[2], CultureInfo.InvariantCulture) / 1000)
            .Order()
            .ToArray();
        double? p99 = latencies.Length == 0 ? null : latencies[(int)Math.Min(latencies.Length - 1, Math.Ceiling(latencies.Length * 0.99) - 1)];
        return new PgbenchResult(double.Parse(tps.Groups[1].Value, CultureInfo.InvariantCulture), p99);
    }

    public async Task CreateDatabaseAsync(string name)
    {
        await using var connection = new Npgsql.NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await RunPgAsync(false, "pg_ctl", "-D", Path.Combine(_directory, "data"), "-m", "immediate", "-w", "stop");
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task RunPgAsync(bool throwOnError, string tool, params string[] arguments)
    {
        var path = Path.Combine(_binDirectory, tool);
        var (exitCode, output) = Environment.UserName == "root"
            ? await ServiceProcess.RunAsync("runuser", ["-u", "postgres", "--", path, .. arguments])
            : await ServiceProcess.RunAsync(path, arguments);
        if (exitCode != 0 && throwOnError)
        {
            throw new InvalidOperationException($"{tool} failed: {output}");
        }
    }
}

/// <summary>What pgbench measured: transactions a second, and the p99 of their latencies in milliseconds.</summary>
public sealed record PgbenchResult(double PerSecond, double? P99Ms);
