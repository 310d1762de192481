using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Chekt.PartnerApi.Bench;

// The benchmark of bench/README.md: every figure is a ratio against the plain-Kestrel baseline,
// measured in the same run, alternating A and B and reporting the median of the per-pair ratios.
if (BenchOptions.Check(args) is { } refusal)
{
    // --help, or an argument the runner does not know: say how to call it rather than start a long run.
    (refusal.Length == 0 ? Console.Out : Console.Error).WriteLine(refusal.Length == 0 ? BenchOptions.Usage : $"{refusal}\n\n{BenchOptions.Usage}");
    return refusal.Length == 0 ? 0 : 2;
}

var options = BenchOptions.Parse(args);
var work = Directory.CreateTempSubdirectory("chekt-bench-").FullName;
var report = new Report(options);
Console.WriteLine($"Working in {work}");

// The seeded databases take gigabytes. A run that wrote its report removes them once its processes have
// stopped (ProcessExit comes after the disposals below); a run that broke off, or --keep-work, keeps them
// and the server logs for diagnosis.
var reportWritten = false;
AppDomain.CurrentDomain.ProcessExit += (_, _) =>
{
    if (!reportWritten || options.KeepWork)
    {
        Console.WriteLine($"Work directory kept: {work}");
        return;
    }

    try
    {
        Directory.Delete(work, recursive: true);
    }
    catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
    {
        Console.WriteLine($"Could not remove the work directory {work}: {exception.Message}");
    }
};

if (options.SoakMinutes > 0)
{
    // The soak (documented in bench/README.md): one server on SQLite under a long mixed load.
    var soakConnection = $"Data Source={Path.Combine(work, "soak.db")}";
    var soakSeed = await Seeder.SeedAsync("Sqlite", soakConnection, options.Dealers, options.SitesPerDealer, options.ContactsPerSite);
    await using var soakServer = await StartServerAsync("soak", "Sqlite", soakConnection);
    var soakReport = await Soak.RunAsync(soakServer, soakSeed, await TokenAsync(soakServer.BaseUrl, soakSeed), TimeSpan.FromMinutes(options.SoakMinutes), options.Connections, work);
    Directory.CreateDirectory(options.ResultsDirectory);
    var soakFile = Path.Combine(options.ResultsDirectory, $"soak-{DateTime.UtcNow:yyyy-MM-dd-HHmm}.md");
    await File.WriteAllTextAsync(soakFile, soakReport);
    reportWritten = true;
    Console.WriteLine(soakReport);
    Console.WriteLine($"Report written to {soakFile}");
    return soakReport.Contains("**Passed**", StringComparison.Ordinal) ? 0 : 1;
}

await using var baseline = await ServiceProcess.StartAsync("baseline", "dotnet", [options.BaselineDll, "--urls", Url(out var baselinePort)],
    $"http://127.0.0.1:{baselinePort}", "/partner/v1/dealers/1", logFile: Path.Combine(work, "baseline.log"));
var baselineGet = new WrkRequest("GET", "/partner/v1/dealers/12345", new Dictionary<string, string>());

await using var pg = options.SkipPostgres ? null : await PgCluster.StartAsync();
var targets = new List<(string Name, string Provider, Func<string, Task<string>> Prepare)>
{
    ("SQLite", "Sqlite", async name => $"Data Source={Path.Combine(work, name + ".db")}"),
};
if (pg is not null)
{
    targets.Add(("PostgreSQL", "Postgres", async name => { await pg.CreateDatabaseAsync(name); return pg.ConnectionString(name) + options.ServerPostgresOptions; }));
}

foreach (var (name, provider, prepare) in targets)
{
    if (options.Only.Count > 0 && !Scenarios(new SeededData("", "", 0, 0, 0, 0, 0, 0), "").Any(s => options.Selects($"{s.Name}, {name}")))
    {
        continue;
    }

    Console.WriteLine($"Seeding {name}: {options.Dealers} dealers, {options.Dealers * options.SitesPerDealer} sites, {options.Dealers * options.SitesPerDealer * options.ContactsPerSite} contacts...");
    var connectionString = await prepare("normal");
    var seeded = await Seeder.SeedAsync(provider, connectionString, options.Dealers, options.SitesPerDealer, options.ContactsPerSite);
    await using var server = await StartServerAsync(name, provider, connectionString);
    var token = await TokenAsync(server.BaseUrl, seeded);
    foreach (var scenario in Scenarios(seeded, token).Where(s => options.Selects($"{s.Name}, {name}")))
    {
        await report.MeasureAsync($"{scenario.Name}, {name}", server, scenario.Request, baseline, baselineGet, work);
    }

    if (pg is not null && provider == "Postgres" && (options.Selects("GET dealer, PostgreSQL") || options.Selects("create contact, PostgreSQL")))
    {
        await report.PostgresAloneAsync(pg, "normal", seeded, work);
    }

    if (provider == "Sqlite" && options.Large && options.Only.Count == 0)
    {
        Console.WriteLine("Seeding the 10x SQLite data set...");
        var largeConnection = await prepare("large");
        var large = await Seeder.SeedAsync(provider, largeConnection, options.Dealers * 10, options.SitesPerDealer, options.ContactsPerSite);
        await using var largeServer = await StartServerAsync(name + " 10x", provider, largeConnection);
        var largeToken = await TokenAsync(largeServer.BaseUrl, large);
        foreach (var scenario in Scenarios(large, largeToken).Where(s => s.Name.StartsWith("GET", StringComparison.Ordinal)))
        {
            await report.MeasureAsync($"{scenario.Name}, {name} 10x data", largeServer, scenario.Request, baseline, baselineGet, work);
        }

        // The latency target compares the two sets directly: runs against the 10x server and the normal one
        // alternate, as every A/B pair does, so both sides of each ratio see the same moment of the machine.
        await report.MeasureAsync(Report.LargeVersusNormal, largeServer, Scenarios(large, largeToken).First().Request,
            server, Scenarios(seeded, token).First().Request, work);
    }

    if (provider == "Sqlite" && options.Only.Count == 0)
    {
        await report.PeersAsync(server, Scenarios(seeded, token).First().Request, baseline, baselineGet, work, options);
        if (options.MemoryRequests > 0)
        {
            await report.MemoryAsync(server, Scenarios(seeded, token).First().Request, work);
        }
    }
}

if (options.Selects("token issuance"))
{
    await report.SigningCeilingAsync();
}

var file = Path.Combine(options.ResultsDirectory, $"{DateTime.UtcNow:yyyy-MM-dd-HHmm}.md");
Directory.CreateDirectory(options.ResultsDirectory);
await File.WriteAllTextAsync(file, report.Render());
reportWritten = true;
Console.WriteLine($"Report written to {file}");
Console.WriteLine(report.Render());
return 0;

string Url(out int port)
{
    port = ServiceProcess.FreePort();
    return $"http://127.0.0.1:{port}";
}

async Task<ServiceProcess> StartServerAsync(string name, string provider, string connectionString)
{
    var url = Url(out var port);
    return await ServiceProcess.StartAsync($"server ({name})", "dotnet",
        [
            options.ServerDll, "serve", "--urls", url, $"--Database:Provider={provider}", $"--ConnectionStrings:Partner={connectionString}",
            $"--Auth:Issuer=http://127.0.0.1:{port}/",
            // Rate limits are a per-client safety net; the benchmark measures the work behind them.
            "--RateLimit:PermitsPerSecond=0", "--RateLimit:TokenEndpoint:PermitsPerSecond=0", "--RateLimit:TokenEndpoint:PermitsPerSecondPerAddress=0",
            "--Logging:LogLevel:Default=Warning",
        ],
        url, "/readyz", logFile: Path.Combine(work, $"server-{name.Replace(' ', '-')}.log"));
}

static async Task<string> TokenAsync(string baseUrl, SeededData seeded)
{
    using var http = new HttpClient();
    using var request = new HttpRequestMessage(HttpMethod.Post, baseUrl + "/oauth/token")
    {
        Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials" }),
    };
    request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{seeded.ClientId}:{seeded.ClientSecret}")));
    var response = await http.SendAsync(request);
    var body = await response.Content.ReadAsStringAsync();
    return JsonDocument.Parse(body).RootElement.GetProperty("access_token").GetString() ?? throw new InvalidOperationException(body);
}

static IEnumerable<(string Name, WrkRequest Request)> Scenarios(SeededData seeded, string token)
{
    var auth = new Dictionary<string, string> { ["Authorization"] = $"Bearer {token}" };
    var json = new Dictionary<string, string>(auth) { ["Content-Type"] = "application/json" };
    var dealer = $"/partner/v1/dealers/{seeded.DealerId}";
    var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{seeded.ClientId}:{seeded.ClientSecret}"));
    const string contact = "{\"external_contact_id\":\"{id}\",\"first_name\":\"John\",\"last_name\":\"Doe\",\"phone_number\":\"1234567890\",\"email\":\"john.doe@example.com\"}";
    yield return ("GET dealer", new WrkRequest("GET", dealer, auth));
    yield return ("GET site", new WrkRequest("GET", $"{dealer}/sites/{seeded.SiteId}", auth));
    yield return ("GET contact", new WrkRequest("GET", $"{dealer}/sites/{seeded.SiteId}/contacts/{seeded.ContactId}", auth));
    yield return ("list contacts (10)", new WrkRequest("GET", $"{dealer}/sites/{seeded.ListSiteId}/contacts", auth));
    yield return ("create contact", new WrkRequest("POST", $"{dealer}/sites/{seeded.WriteSiteId}/contacts", json, UniqueBodyTemplate: contact));
    yield return ("create contact + Idempotency-Key", new WrkRequest("POST", $"{dealer}/sites/{seeded.WriteSiteId}/contacts", json, UniqueBodyTemplate: contact, UniqueIdempotencyKey: true));
    yield return ("update contact", new WrkRequest("PUT", $"{dealer}/sites/{seeded.WriteSiteId}/contacts/{seeded.UpdateContactId}", json, "{\"first_name\":\"Jane\",\"phone_number\":\"9876543210\"}"));
    yield return ("token issuance (client secret)", new WrkRequest("POST", "/oauth/token",
        new Dictionary<string, string> { ["Authorization"] = $"Basic {basic}", ["Content-Type"] = "application/x-www-form-urlencoded" }, "grant_type=client_credentials"));
}

/// <summary>Command-line options of the benchmark.</summary>
internal sealed record BenchOptions(
    string ServerDll, string BaselineDll, string ResultsDirectory, string PeersDirectory, string OpenApiFile,
    int Dealers, int SitesPerDealer, int ContactsPerSite, int Connections, TimeSpan Duration, TimeSpan Warmup, int Pairs,
    bool Large, bool SkipPostgres, long MemoryRequests, double SoakMinutes, IReadOnlyList<string> Only, string PostgresOptions, int PostgresPool, bool KeepWork)
{
    /// <summary>
    /// What the runner appends to the server's PostgreSQL connection string. The database runs on the same
    /// cores as the server here, so the pool is kept small, as docs/configuration.md advises for that case.
    /// </summary>
    public string ServerPostgresOptions =>
        (PostgresPool > 0 ? string.Create(CultureInfo.InvariantCulture, $";Maximum Pool Size={PostgresPool}") : "")
        + (PostgresOptions.Length > 0 ? ";" + PostgresOptions : "");

    /// <summary>Whether a scenario runs: all of them, or those whose name contains one of <c>--only</c>'s <c>|</c>-separated words (names contain commas, e.g. "GET dealer, PostgreSQL").</summary>
    public bool Selects(string scenario) => Only.Count == 0 || Only.Any(word => scenario.Contains(word, StringComparison.OrdinalIgnoreCase));

    public const string Usage = """
        Usage: bench/run.sh [options]   (see bench/README.md)
          --quick                      3 s per figure, one pair, no 10x set, no memory run
          --only "words|words"         only the scenarios whose name (with its database) contains one of them
          --duration SECONDS           per run (10)          --pairs N            A/B pairs (3)
          --connections N              wrk connections (64)  --dealers N          seed size (2000)
          --memory-requests N          memory run length (1000000)
          --no-large                   skip the 10x data set --no-postgres        SQLite only
          --postgres-pool N            the server's PostgreSQL pool size (8; 0 for Npgsql's default of 100)
          --postgres-options "K=V;…"   appended to the server's PostgreSQL connection string
          --soak [--soak-minutes N]    long mixed load on SQLite instead of the benchmark (10)
          --keep-work                  keep the seeded databases and logs (a run that breaks off keeps them anyway)
          --server, --baseline, --results, --peers, --openapi PATH   where the built pieces are
        """;

    private static readonly string[] Flags = ["--quick", "--no-large", "--no-postgres", "--soak", "--keep-work"];

    private static readonly string[] Valued =
    [
        "--server", "--baseline", "--results", "--peers", "--openapi", "--dealers", "--connections", "--duration",
        "--pairs", "--memory-requests", "--soak-minutes", "--only", "--postgres-options", "--postgres-pool",
    ];

    /// <summary>Null when the arguments can run; "" for --help; otherwise what is wrong with them.</summary>
    public static string? Check(string[] args)
    {
        for (var index = 0; index < args.Length; index++)
        {
            var arg = args[index];
            if (arg is "--help" or "-h" or "-?")
            {
                return "";
            }

            if (Valued.Contains(arg))
            {
                if (index + 1 >= args.Length)
                {
                    return $"{arg} needs a value.";
                }

                index++;
            }
            else if (!Flags.Contains(arg))
            {
                return $"Unknown argument '{arg}'.";
            }
        }

        return null;
    }

    public static BenchOptions Parse(string[] args)
    {
        // The last occurrence wins, so that what is passed to bench/run.sh overrides the paths it sets itself.
        string Value(string name, string fallback)
        {
            var index = Array.LastIndexOf(args, name);
            return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
        }

        var quick = args.Contains("--quick");
        return new BenchOptions(
            Value("--server", "out/server/Chekt.PartnerApi.dll"), Value("--baseline", "out/baseline/Baseline.dll"),
            Value("--results", "results"), Value("--peers", "peers"), Value("--openapi", "../docs/openapi.json"),
            int.Parse(Value("--dealers", "2000"), CultureInfo.InvariantCulture), 10, 5,
            int.Parse(Value("--connections", "64"), CultureInfo.InvariantCulture),
            TimeSpan.FromSeconds(int.Parse(Value("--duration", quick ? "3" : "10"), CultureInfo.InvariantCulture)),
            TimeSpan.FromSeconds(quick ? 1 : 3),
            int.Parse(Value("--pairs", quick ? "1" : "3"), CultureInfo.InvariantCulture),
            !args.Contains("--no-large") && !quick, args.Contains("--no-postgres"),
            long.Parse(Value("--memory-requests", quick ? "0" : "1000000"), CultureInfo.InvariantCulture),
            args.Contains("--soak") ? double.Parse(Value("--soak-minutes", "10"), CultureInfo.InvariantCulture) : 0,
            Value("--only", "").Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            Value("--postgres-options", ""),
            int.Parse(Value("--postgres-pool", "8"), CultureInfo.InvariantCulture),
            args.Contains("--keep-work"));
    }
}
