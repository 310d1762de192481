using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Chekt.PartnerApi.Bench;

/// <summary>Runs the measurements and renders bench/results/*.md: targets first, then every raw figure.</summary>
internal sealed class Report(BenchOptions options)
{
    private readonly List<Measurement> _measurements = [];
    private readonly List<string> _notes = [];
    private readonly Dictionary<string, double> _peerRatios = [];
    private (double Start, double Half, double End, double Max, long Requests)? _memory;
    private double? _signaturesPerSecond;
    private (PgbenchResult? Reads, PgbenchResult? Inserts)? _postgresAlone;

    /// <summary>GET dealer on the 10x set (A) against the normal set (B), in alternating runs.</summary>
    public const string LargeVersusNormal = "GET dealer, SQLite 10x data vs normal data";

    private sealed record Measurement(string Scenario, IReadOnlyList<WrkResult> A, IReadOnlyList<WrkResult> B)
    {
        public IReadOnlyList<double> Ratios => [.. A.Zip(B, (a, b) => a.RequestsPerSecond / b.RequestsPerSecond)];

        public double MedianRatio => Median(Ratios);

        public bool Clean => A.All(r => r.IsClean) && B.All(r => r.IsClean);

        /// <summary>"none", or which side had errors and how many: a peer's timeouts are not the server's.</summary>
        public string Errors
        {
            get
            {
                static string? Side(string name, IReadOnlyList<WrkResult> runs) =>
                    runs.All(r => r.IsClean)
                        ? null
                        : $"{name}: {runs.Sum(r => r.Non2xx)} non-2xx, {runs.Sum(r => r.SocketErrors)} socket errors";
                var sides = new[] { Side("A", A), Side("B", B) }.OfType<string>().ToList();
                return sides.Count == 0 ? "none" : string.Join("; ", sides) + ": run invalid";
            }
        }
    }

    /// <summary>Warm-up, then A,B pairs; the ratio of a pair is A's throughput over B's.</summary>
    public async Task MeasureAsync(string scenario, ServiceProcess server, WrkRequest request, ServiceProcess baseline, WrkRequest baselineRequest, string work)
    {
        Console.WriteLine($"Measuring {scenario}...");
        await Wrk.RunAsync(server.BaseUrl, request, options.Connections, options.Warmup, work);
        await Wrk.RunAsync(baseline.BaseUrl, baselineRequest, options.Connections, options.Warmup, work);
        var a = new List<WrkResult>();
        var b = new List<WrkResult>();
        for (var pair = 0; pair < options.Pairs; pair++)
        {
            a.Add(await Wrk.RunAsync(server.BaseUrl, request, options.Connections, options.Duration, work));
            b.Add(await Wrk.RunAsync(baseline.BaseUrl, baselineRequest, options.Connections, options.Duration, work));
        }

        var measurement = new Measurement(scenario, a, b);
        _measurements.Add(measurement);
        Console.WriteLine($"  {a.Average(r => r.RequestsPerSecond):0} req/s vs baseline {b.Average(r => r.RequestsPerSecond):0} → ratio {measurement.MedianRatio:0.00}{(measurement.Clean ? "" : $" ({measurement.Errors})")}");
    }

    /// <summary>The sandboxes an integrator would otherwise run: json-server and a Prism mock of our OpenAPI document.</summary>
    public async Task PeersAsync(ServiceProcess server, WrkRequest getDealer, ServiceProcess baseline, WrkRequest baselineRequest, string work, BenchOptions benchOptions)
    {
        var npx = Path.Combine(benchOptions.PeersDirectory, "node_modules", ".bin");
        if (!Directory.Exists(npx))
        {
            _notes.Add($"Peers skipped: run `npm ci --prefix {benchOptions.PeersDirectory}` first (bench/run.sh does).");
            return;
        }

        var db = Path.Combine(work, "json-server-db.json");
        await File.WriteAllTextAsync(db, JsonSerializer.Serialize(new
        {
            dealers = new[]
            {
                new Dictionary<string, object?>
                {
                    ["id"] = 12345, ["dealer_id"] = 12345, ["external_dealer_id"] = "adc-67890", ["company_name"] = "CHeKT Security Solutions Inc.",
                    ["company_address1"] = "456 Market Street", ["company_address2"] = "Suite 801, 8th Floor", ["company_email"] = "support@chektdealer.com",
                    ["company_phone_number"] = "+1-555-123-4567", ["created_at"] = "2024-03-27T12:34:56.000Z",
                },
            },
        }));
        var jsonServerPort = ServiceProcess.FreePort();
        try
        {
            await using var jsonServer = await ServiceProcess.StartAsync("json-server", Path.Combine(npx, "json-server"),
                ["--port", jsonServerPort.ToString(CultureInfo.InvariantCulture), "--host", "127.0.0.1", "--quiet", db],
                $"http://127.0.0.1:{jsonServerPort}", "/dealers/12345", logFile: Path.Combine(work, "json-server.log"));
            await MeasurePeerAsync("json-server (no auth)", server, getDealer, jsonServer, new WrkRequest("GET", "/dealers/12345", new Dictionary<string, string>()), work);
        }
        catch (Exception exception) when (exception is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
            _notes.Add($"json-server could not run: {exception.Message}");
        }

        if (File.Exists(benchOptions.OpenApiFile))
        {
            var prismPort = ServiceProcess.FreePort();
            try
            {
                await using var prism = await ServiceProcess.StartAsync("prism", Path.Combine(npx, "prism"),
                    // Note: Prism logs every request at its default level, which halves its throughput and pushes some answers past
                    // wrk's 2 s timeout; like the server (Warning) and json-server (--quiet), it runs with its request log off.
                    ["mock", "-h", "127.0.0.1", "-p", prismPort.ToString(CultureInfo.InvariantCulture), "--verboseLevel", "warn", benchOptions.OpenApiFile],
                    $"http://127.0.0.1:{prismPort}", "/partner/v1/dealers/12345", logFile: Path.Combine(work, "prism.log"));
                await MeasurePeerAsync("Prism mock of docs/openapi.json", server, getDealer, prism,
                    new WrkRequest("GET", "/partner/v1/dealers/12345", new Dictionary<string, string> { ["Authorization"] = "Bearer x" }), work);
            }
            catch (Exception exception) when (exception is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
            {
                _notes.Add($"Prism could not run: {exception.Message}");
            }
        }
        else
        {
            _notes.Add($"Prism skipped: {benchOptions.OpenApiFile} not found.");
        }

        async Task MeasurePeerAsync(string peerName, ServiceProcess ours, WrkRequest ourRequest, ServiceProcess peer, WrkRequest peerRequest, string directory)
        {
            Console.WriteLine($"Measuring against {peerName}...");
            // Note: a peer's slow answer is still an answer: Prism's slowest pass wrk's default 2 s timeout at 64
            // connections, which would count them as socket errors and leave them out of its throughput.
            var peerTimeout = TimeSpan.FromSeconds(10);
            await Wrk.RunAsync(peer.BaseUrl, peerRequest, options.Connections, options.Warmup, directory, peerTimeout);
            var ratios = new List<double>();
            var a = new List<WrkResult>();
            var b = new List<WrkResult>();
            for (var pair = 0; pair < options.Pairs; pair++)
            {
                a.Add(await Wrk.RunAsync(ours.BaseUrl, ourRequest, options.Connections, options.Duration, directory));
                b.Add(await Wrk.RunAsync(peer.BaseUrl, peerRequest, options.Connections, options.Duration, directory, peerTimeout));
                ratios.Add(a[^1].RequestsPerSecond / b[^1].RequestsPerSecond);
            }

            _measurements.Add(new Measurement($"GET dealer, SQLite vs {peerName}", a, b));
            _peerRatios[peerName] = Median(ratios);
            Console.WriteLine($"  ratio {Median(ratios):0.00}");
        }
    }

    /// <summary>
    /// The ceiling of token issuance on this machine: every access token carries its own RS256 signature
    /// (spec §2.2; RFC 7518 requires RSA keys of 2048 bits or more), so RSA-2048 signatures per second on
    /// all cores bound it, whatever the server does around them.
    /// </summary>
    public async Task SigningCeilingAsync()
    {
        Console.WriteLine("Measuring RSA-2048 signatures per second on all cores...");
        var payload = new byte[600];
        var stopAt = DateTime.UtcNow.AddSeconds(5);
        var counts = await Task.WhenAll(Enumerable.Range(0, Environment.ProcessorCount).Select(_ => Task.Run(() =>
        {
            using var rsa = System.Security.Cryptography.RSA.Create(2048);
            long signed = 0;
            while (DateTime.UtcNow < stopAt)
            {
                rsa.SignData(payload, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
                signed++;
            }

            return signed;
        })));
        _signaturesPerSecond = counts.Sum() / 5.0;
        Console.WriteLine($"  {_signaturesPerSecond:0} signatures/s");
    }

    /// <summary>
    /// What PostgreSQL alone does on this machine, with nothing else running: pgbench (prepared statements,
    /// as many clients as wrk has connections) sends GET dealer's access query, and commits single-row
    /// contact inserts, the least a create must do (fsync on, as for the server). The server's PostgreSQL
    /// rows share the cores with the database, so they cannot exceed these. Run after the PostgreSQL scenarios:
    /// the inserts add rows.
    /// </summary>
    public async Task PostgresAloneAsync(PgCluster pg, string database, SeededData seeded, string work)
    {
        Console.WriteLine("Measuring PostgreSQL alone with pgbench...");
        long partnerId;
        await using (var connection = new Npgsql.NpgsqlConnection(pg.ConnectionString(database)))
        {
            await connection.OpenAsync();
            await using var command = new Npgsql.NpgsqlCommand("SELECT partner_id FROM dealer_connections WHERE dealer_id = @dealer", connection);
            command.Parameters.AddWithValue("dealer", seeded.DealerId);
            partnerId = (long)(await command.ExecuteScalarAsync() ?? throw new InvalidOperationException("The seeded dealer has no connection."));
        }

        // The same query as the server's access check of GET dealer (PartnerApiAuthorization.AccessQuery).
        var reads = !options.Selects("GET dealer, PostgreSQL") ? null : await pg.PgbenchAsync(database, string.Create(CultureInfo.InvariantCulture, $"""
            \set dealer {seeded.DealerId}
            \set partner {partnerId}
            SELECT d.id, c.external_dealer_id, c.disconnected_at, d.id, d.company_name, d.company_address1, d.company_address2, d.company_email, d.company_phone_number, d.version, d.created_at FROM dealers d LEFT JOIN dealer_connections c ON c.dealer_id = d.id AND c.partner_id = :partner WHERE d.id = :dealer;

            """), options.Connections, options.Duration, work);
        var inserts = !options.Selects("create contact, PostgreSQL") ? null : await pg.PgbenchAsync(database, string.Create(CultureInfo.InvariantCulture, $"""
            \set site {seeded.WriteSiteId}
            INSERT INTO contacts (site_id, external_contact_id, first_name, last_name, phone_number, email, created_at, updated_at) VALUES (:site, 'pgbench-' || gen_random_uuid()::text, 'John', 'Doe', '1234567890', 'john.doe@example.com', 0, 0) RETURNING id, external_contact_id, first_name, last_name, phone_number, email, version, created_at, updated_at;

            """), options.Connections, options.Duration, work);
        _postgresAlone = (reads, inserts);
        Console.WriteLine($"  {reads?.PerSecond:0} access queries/s (p99 {reads?.P99Ms:0.0} ms), {inserts?.PerSecond:0} inserts/s");
    }

    /// <summary>Server memory over a long run of authenticated GETs, sampled from /proc.</summary>
    public async Task MemoryAsync(ServiceProcess server, WrkRequest request, string work)
    {
        var rate = _measurements.FirstOrDefault(m => m.Scenario.StartsWith("GET dealer, SQLite", StringComparison.Ordinal))?.A.Average(r => r.RequestsPerSecond) ?? 10_000;
        var seconds = (int)Math.Ceiling(options.MemoryRequests / Math.Max(rate, 1) * 1.1) + 1;
        Console.WriteLine($"Memory run: about {options.MemoryRequests} requests over {seconds} s...");
        var samples = new List<double>();
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                samples.Add(server.ResidentMemoryMiB());
                await Task.Delay(1000);
            }
        });
        var start = server.ResidentMemoryMiB();
        var result = await Wrk.RunAsync(server.BaseUrl, request, options.Connections, TimeSpan.FromSeconds(seconds), work);
        await stop.CancelAsync();
        await sampler;
        _memory = (start, samples[samples.Count / 2], samples[^1], samples.Max(), result.Requests);
    }

    public string Render()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"# Benchmark {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC").AppendLine();
        text.Append(CultureInfo.InvariantCulture, $"Machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; load generator wrk, {options.Connections} connections, ")
            .Append(CultureInfo.InvariantCulture, $"{options.Duration.TotalSeconds:0} s per run after a {options.Warmup.TotalSeconds:0} s warm-up, {options.Pairs} A/B pairs per figure (median of the per-pair ratios). ")
            .Append(CultureInfo.InvariantCulture, $"Data: {options.Dealers} dealers, {options.Dealers * options.SitesPerDealer} sites, {options.Dealers * options.SitesPerDealer * options.ContactsPerSite} contacts")
            .Append(options.Large ? " (and a 10x SQLite set)." : ".");
        if (!options.SkipPostgres)
        {
            // The database shares the machine's cores with the server; say how the server was configured for that.
            text.Append(CultureInfo.InvariantCulture, $" PostgreSQL: on the same machine, fsync on; appended to the server's connection string: `{(options.ServerPostgresOptions.Length > 0 ? options.ServerPostgresOptions[1..] : "nothing")}`.");
        }

        text.AppendLine();
        text.AppendLine().AppendLine("## Targets").AppendLine().AppendLine("| scenario | target | measured | met |").AppendLine("|---|---|---|---|");
        void Target(string scenario, string target, double? value, Func<double, bool> met, string format = "0.00")
        {
            var shown = value is { } v && !double.IsNaN(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "n/a";
            if (value is { } u && !double.IsNaN(u) && format == "0.00" && met(Math.Round(u, 2)) != met(u))
            {
                // A value just under its line must not read as on it (0.147 shown as 0.15, not met): one more decimal.
                shown = u.ToString("0.000", CultureInfo.InvariantCulture);
            }
            text.AppendLine(CultureInfo.InvariantCulture, $"| {scenario} | {target} | {shown} | {(value is { } x && !double.IsNaN(x) ? (met(x) ? "yes" : "**no**") : "n/a")} |");
        }

        double? Ratio(string scenario) => _measurements.FirstOrDefault(m => m.Scenario == scenario)?.MedianRatio;
        Target("authenticated GET dealer, SQLite", "≥ 0.50 × baseline", Ratio("GET dealer, SQLite"), v => v >= 0.50);
        Target("authenticated GET dealer, PostgreSQL", "≥ 0.35 × baseline", Ratio("GET dealer, PostgreSQL"), v => v >= 0.35);
        Target("list contacts of a site, SQLite", "≥ 0.35 × baseline", Ratio("list contacts (10), SQLite"), v => v >= 0.35);
        Target("create contact, SQLite", "≥ 0.15 × baseline", Ratio("create contact, SQLite"), v => v >= 0.15);
        Target("create contact, PostgreSQL", "≥ 0.15 × baseline", Ratio("create contact, PostgreSQL"), v => v >= 0.15);
        Target("token issuance, client secret (SQLite)", "≥ 0.20 × baseline", Ratio("token issuance (client secret), SQLite"), v => v >= 0.20);
        Target("authenticated GET dealer vs json-server (no auth)", "≥ 10×", _peerRatios.GetValueOrDefault("json-server (no auth)", double.NaN), v => v >= 10);
        var gets = _measurements.Where(m => m.Scenario.StartsWith("GET ", StringComparison.Ordinal) && !m.Scenario.Contains("vs", StringComparison.Ordinal) && !m.Scenario.Contains("10x", StringComparison.Ordinal)).ToList();
        Target("p99 latency of authenticated GETs at 64 connections", "≤ 10 ms", gets.Count == 0 ? null : gets.Max(m => m.A.Max(r => r.P99Ms)), v => v <= 10, "0.0 ms");
        var largeVersusNormal = _measurements.FirstOrDefault(m => m.Scenario == LargeVersusNormal);
        Target("GET latency with the 10× data set (p50, GET dealer)", "≤ 1.2 × normal set",
            largeVersusNormal is null ? null : Median([.. largeVersusNormal.A.Zip(largeVersusNormal.B, (large, normal) => large.P50Ms / normal.P50Ms)]), v => v <= 1.2);
        Target("server memory after the long run (RSS, MiB)", "≤ 256", _memory?.End, v => v <= 256, "0");
        Target("memory growth in the last half of the long run (MiB)", "≈ 0 (≤ 5% of RSS)", _memory is { } mem ? mem.End - mem.Half : null, v => v <= (_memory?.End ?? 0) * 0.05, "0.0");

        if (gets.Count > 0)
        {
            // The target takes the worst single run; say where it was, and how each database fares.
            var runs = gets.SelectMany(m => m.A.Select(r => (m.Scenario, r.P99Ms))).ToList();
            var worst = runs.MaxBy(r => r.P99Ms);
            var byDatabase = runs.GroupBy(r => r.Scenario[(r.Scenario.LastIndexOf(", ", StringComparison.Ordinal) + 2)..])
                .Select(g => $"{g.Key} {g.Max(r => r.P99Ms):0.0} ms");
            text.AppendLine().AppendLine(CultureInfo.InvariantCulture,
                $"GET p99: the worst single run was {worst.P99Ms:0.0} ms ({worst.Scenario}); worst run by database: {string.Join(", ", byDatabase)}. The raw table shows the median of the runs.");
        }

        var tokens = _measurements.FirstOrDefault(m => m.Scenario == "token issuance (client secret), SQLite");
        if (_signaturesPerSecond is { } signatures && tokens is not null)
        {
            var ceiling = signatures / Median([.. tokens.B.Select(r => r.RequestsPerSecond)]);
            text.AppendLine().AppendLine(CultureInfo.InvariantCulture,
                $"Token issuance ceiling: every token is signed RS256 (RSA-2048). This machine makes {signatures:0} such signatures per second on all cores with nothing else running (measured in this run), so no issuer can exceed {ceiling:0.00} × baseline here; the server reaches {tokens.MedianRatio / ceiling:P0} of that ceiling while sharing the cores with wrk.");
        }

        if (_postgresAlone is { } alone)
        {
            string Ceiling(string what, PgbenchResult? alone, string scenario)
            {
                var measured = _measurements.FirstOrDefault(m => m.Scenario == scenario);
                if (alone is null || measured is null)
                {
                    return $"{what}: not measured";
                }

                // Note: the p99 of PostgreSQL alone at the same number of clients bounds the server's p99 from below.
                var ceiling = alone.PerSecond / Median([.. measured.B.Select(r => r.RequestsPerSecond)]);
                var p99 = alone.P99Ms is { } latency ? string.Create(CultureInfo.InvariantCulture, $", p99 {latency:0.0} ms") : "";
                return string.Create(CultureInfo.InvariantCulture,
                    $"{what}: {alone.PerSecond:0} per second{p99} = {ceiling:0.00} × baseline (the server's \"{scenario}\" reaches {measured.MedianRatio / ceiling:P0} of it)");
            }

            text.AppendLine().AppendLine(CultureInfo.InvariantCulture,
                $"PostgreSQL alone (pgbench, prepared, {options.Connections} clients, nothing else running; the server shares these cores with it): {Ceiling("GET dealer's access query", alone.Reads, "GET dealer, PostgreSQL")}; {Ceiling("single-row contact inserts, each its own durable commit", alone.Inserts, "create contact, PostgreSQL")}.");
        }

        text.AppendLine().AppendLine("## Raw figures").AppendLine()
            .AppendLine("| scenario | A req/s (runs) | B req/s (runs) | ratio per pair | median ratio | A p50 / p99 ms | errors |")
            .AppendLine("|---|---|---|---|---|---|---|");
        foreach (var m in _measurements)
        {
            static string Runs(IEnumerable<WrkResult> runs) => string.Join(" / ", runs.Select(r => r.RequestsPerSecond.ToString("0", CultureInfo.InvariantCulture)));
            text.Append(CultureInfo.InvariantCulture,
                    $"| {m.Scenario} | {Runs(m.A)} | {Runs(m.B)} | {string.Join(" / ", m.Ratios.Select(r => r.ToString("0.00", CultureInfo.InvariantCulture)))} | {m.MedianRatio:0.00} | ")
                .AppendLine(CultureInfo.InvariantCulture,
                    $"{Median([.. m.A.Select(r => r.P50Ms)]):0.00} / {Median([.. m.A.Select(r => r.P99Ms)]):0.00} | {m.Errors} |");
        }

        if (_memory is { } memory)
        {
            text.AppendLine().AppendLine(CultureInfo.InvariantCulture,
                $"Memory: {memory.Requests} authenticated GETs; RSS {memory.Start:0} MiB at start, {memory.Half:0} MiB at half, {memory.End:0} MiB at the end, {memory.Max:0} MiB max.");
        }

        text.AppendLine().AppendLine("B is the plain-Kestrel baseline (bench/Baseline) answering the seed's dealer JSON, except in the rows against a peer, where B is that peer, and in the 10x-versus-normal row, where A is the 10x set and B the normal one (its target is the median of the per-pair p50 ratios).");
        foreach (var note in _notes)
        {
            text.AppendLine().AppendLine(note);
        }

        return text.ToString();
    }

    private static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
