using System.Text.Json;
using System.Text.RegularExpressions;
using Chekt.PartnerApi.Tests.Infrastructure;

namespace Chekt.PartnerApi.Tests.Cli;

/// <summary>The console log in its JSON format (<c>Logging:Console:FormatterName=json</c>), as a log shipper reads it.</summary>
public sealed partial class LogFormatTests
{
    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")]
    private static partial Regex Iso8601Utc();

    [Fact]
    public async Task EveryJsonLogLineIsAnObjectWithAnIso8601Timestamp()
    {
        var directory = Directory.CreateTempSubdirectory("chekt-log-").FullName;
        var port = ServerProcess.FreePort();
        await using (var server = await ServerProcess.StartAsync(
        [
            "serve", "--urls", $"http://127.0.0.1:{port}", "--Logging:Console:FormatterName=json",
            $"--ConnectionStrings:Partner=Data Source={Path.Combine(directory, "p.db")}",
        ]))
        {
            using var http = new HttpClient();
            using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{port}/partner/v1/dealers/1");
            request.Headers.Add("x-partner-trace-id", "log-format-1");
            Assert.Equal(401, (int)(await http.SendAsync(request)).StatusCode);

            var lines = server.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.NotEmpty(lines);
            foreach (var line in lines)
            {
                using var entry = JsonDocument.Parse(line);
                var timestamp = entry.RootElement.GetProperty("Timestamp").GetString()!;
                Assert.True(Iso8601Utc().IsMatch(timestamp), $"Timestamp '{timestamp}' in: {line}");
            }
        }
    }
}
