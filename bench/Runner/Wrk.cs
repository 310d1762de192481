using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Chekt.PartnerApi.Bench;

/// <summary>One wrk run: throughput, latency percentiles and every kind of error.</summary>
public sealed record WrkResult(double RequestsPerSecond, double P50Ms, double P99Ms, long Requests, long Non2xx, long SocketErrors, string Raw)
{
    public bool IsClean => Non2xx == 0 && SocketErrors == 0 && Requests > 0;
}

/// <summary>A request shape for wrk: method, path, headers and a body, with optional per-request uniqueness.</summary>
public sealed record WrkRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, string? Body = null, string? UniqueBodyTemplate = null, bool UniqueIdempotencyKey = false);

public static partial class Wrk
{
    /// <summary>
    /// Runs wrk against <paramref name="baseUrl"/> with a Lua script built from the request. <paramref name="timeout"/>
    /// is how long wrk waits for an answer before it counts a socket error; wrk's own default (2 s) when null.
    /// </summary>
    public static async Task<WrkResult> RunAsync(string baseUrl, WrkRequest request, int connections, TimeSpan duration, string workDirectory, TimeSpan? timeout = null)
    {
        var script = Path.Combine(workDirectory, $"wrk-{Guid.NewGuid():N}.lua");
        await File.WriteAllTextAsync(script, Script(request));
        var info = new ProcessStartInfo("wrk") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[]
        {
            "-t", "2", "-c", connections.ToString(CultureInfo.InvariantCulture), "-d", $"{(int)duration.TotalSeconds}s",
            "--latency", "-s", script, baseUrl + request.Path,
        })
        {
            info.ArgumentList.Add(argument);
        }

        if (timeout is { } wait)
        {
            info.ArgumentList.Add("--timeout");
            info.ArgumentList.Add($"{(int)wait.TotalSeconds}s");
        }

        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        File.Delete(script);
        return Parse(output + errors);
    }

    /// <summary>Runs wrk with a ready-made Lua script (for mixed loads).</summary>
    public static async Task<WrkResult> RunScriptAsync(string url, string luaScript, int connections, TimeSpan duration, string workDirectory)
    {
        var script = Path.Combine(workDirectory, $"wrk-{Guid.NewGuid():N}.lua");
        await File.WriteAllTextAsync(script, luaScript);
        var info = new ProcessStartInfo("wrk") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[]
        {
            "-t", "2", "-c", connections.ToString(CultureInfo.InvariantCulture), "-d", $"{(int)duration.TotalSeconds}s", "--latency", "-s", script, url,
        })
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        File.Delete(script);
        return Parse(output);
    }

    public static WrkResult Parse(string output)
    {
        double Latency(string percentile)
        {
            var match = Regex.Match(output, $@"^\s*{percentile}%\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
            return match.Success ? ToMilliseconds(match.Groups[1].Value, match.Groups[2].Value) : double.NaN;
        }

        var rps = RequestsPerSecond().Match(output);
        var total = TotalRequests().Match(output);
        var non2xx = Non2xx().Match(output);
        var socket = SocketErrors().Match(output);
        long socketErrors = 0;
        if (socket.Success)
        {
            for (var group = 1; group <= 4; group++)
            {
                socketErrors += long.Parse(socket.Groups[group].Value, CultureInfo.InvariantCulture);
            }
        }

        return new WrkResult(
            rps.Success ? double.Parse(rps.Groups[1].Value, CultureInfo.InvariantCulture) : 0,
            Latency("50"), Latency("99"),
            total.Success ? long.Parse(total.Groups[1].Value, CultureInfo.InvariantCulture) : 0,
            non2xx.Success ? long.Parse(non2xx.Groups[1].Value, CultureInfo.InvariantCulture) : 0,
            socketErrors, output);
    }

    private static double ToMilliseconds(string value, string unit)
    {
        var number = double.Parse(value, CultureInfo.InvariantCulture);
        return unit switch { "us" => number / 1000, "s" => number * 1000, _ => number };
    }

    /// <summary>The Lua script: fixed headers and body, or a body/key made unique per request (thread id + counter).</summary>
    private static string Script(WrkRequest request)
    {
        static string Lua(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
        var headers = string.Join("\n", request.Headers.Select(h => $"wrk.headers[{Lua(h.Key)}] = {Lua(h.Value)}"));
        if (request.UniqueBodyTemplate is null && !request.UniqueIdempotencyKey)
        {
            return $"""
                wrk.method = {Lua(request.Method)}
                {headers}
                {(request.Body is null ? "" : $"wrk.body = {Lua(request.Body)}")}
                """;
        }

        // Each wrk thread gets its own prefix (run start time + thread number), so generated ids never
        // collide across threads or runs.
        var template = Lua(request.UniqueBodyTemplate ?? request.Body ?? "");
        var idempotency = request.UniqueIdempotencyKey ? "headers[\"Idempotency-Key\"] = \"bench-\" .. id" : "";
        return $$"""
            local threads = 0
            function setup(thread)
              threads = threads + 1
              thread:set("prefix", tostring(os.time()) .. "-" .. threads)
            end
            {{headers}}
            local counter = 0
            function request()
              counter = counter + 1
              local id = prefix .. "-" .. counter
              local body = string.gsub({{template}}, "{id}", id)
              local headers = {}
              for k, v in pairs(wrk.headers) do headers[k] = v end
              {{idempotency}}
              return wrk.format({{Lua(request.Method)}}, nil, headers, body)
            end
            """;
    }

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"(\d+) requests in")]
    private static partial Regex TotalRequests();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex Non2xx();

    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")]
    private static partial Regex SocketErrors();
}
