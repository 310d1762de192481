using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Chekt.PartnerApi.Auth;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;

namespace Chekt.PartnerApi.Tests.Cli;

/// <summary>The README's run command: <c>demo</c> seeds, prints credentials and a walk-through, and serves.</summary>
public sealed class DemoCommandTests
{
    [Theory, OnSqlite, OnPostgres]
    public async Task DemoSeedsPrintsWorkingCredentialsAndServes(DatabaseProvider provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider);

        var first = await RunDemoAsync(database);
        var second = await RunDemoAsync(database);

        Assert.Equal(first.GetProperty("partner_id").GetInt64(), second.GetProperty("partner_id").GetInt64());
        Assert.Equal(first.GetProperty("dealer_id").GetInt64(), second.GetProperty("dealer_id").GetInt64());
        Assert.Equal(first.GetProperty("m2m_client").GetProperty("client_id").GetString(), second.GetProperty("m2m_client").GetProperty("client_id").GetString());
        Assert.NotEqual(first.GetProperty("m2m_client").GetProperty("client_secret").GetString(), second.GetProperty("m2m_client").GetProperty("client_secret").GetString());

        await using var services = TestServices.For(database);
        var secrets = await services.QueryAsync<(string Hash, long? RevokedAt)>(
            "SELECT s.secret_hash, s.revoked_at FROM oauth_client_secrets s JOIN oauth_clients c ON c.id = s.client_pk WHERE c.client_id = @id ORDER BY s.id",
            new { id = second.GetProperty("m2m_client").GetProperty("client_id").GetString() });
        Assert.Equal(2, secrets.Count);
        Assert.NotNull(secrets[0].RevokedAt);
        Assert.Null(secrets[1].RevokedAt);
        Assert.True(Secrets.Verify(second.GetProperty("m2m_client").GetProperty("client_secret").GetString()!, secrets[1].Hash));

        var admin = second.GetProperty("dealer_admin");
        var passwordHash = await services.ScalarAsync<string>("SELECT password_hash FROM dealer_users WHERE email = @email", new { email = admin.GetProperty("email").GetString() });
        Assert.True(PasswordHasher.Verify(admin.GetProperty("password").GetString()!, passwordHash));
        Assert.Equal("adc-67890", await services.ScalarAsync<string>(
            "SELECT external_dealer_id FROM dealer_connections WHERE partner_id = @p AND dealer_id = @d AND disconnected_at IS NULL",
            new { p = second.GetProperty("partner_id").GetInt64(), d = second.GetProperty("dealer_id").GetInt64() }));
        Assert.Equal(1L, await services.ScalarAsync<long>("SELECT COUNT(*) FROM dealer_users"));
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080", "http://127.0.0.1:8080/")]
    [InlineData("https://0.0.0.0:8443;http://+:8080", "http://localhost:8080/")]
    [InlineData("http://[::]:80", "http://localhost/")]
    [InlineData("https://*:8443", "https://localhost:8443/")]
    [InlineData("http://127.0.0.1:0", null)]
    [InlineData("notaurl", null)]
    [InlineData(null, null)]
    public void TheDemosIssuerIsItsFirstPlainHttpAddress(string? urls, string? expected) =>
        Assert.Equal(expected, Chekt.PartnerApi.Cli.DemoCommand.IssuerFor(urls));

    /// <summary>Starts <c>demo</c> as a real process, reads its credentials, checks it serves, and stops it.</summary>
    private static async Task<JsonElement> RunDemoAsync(TestDatabase database)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // A fixed port, not 0: without a configured issuer the demo names its own address as the issuer, which it can
        // only do for an address known before it binds.
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }

        foreach (var argument in new[] { CliTestHost.ServerDll, "demo", "--urls", $"http://127.0.0.1:{port}" }.Concat(database.CliArgs))
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var stdout = new StringBuilder();
        var walkThroughSeen = new TaskCompletionSource();
        process.OutputDataReceived += (_, line) =>
        {
            lock (stdout)
            {
                stdout.AppendLine(line.Data);
            }

            if (line.Data?.StartsWith("Health:", StringComparison.Ordinal) == true)
            {
                walkThroughSeen.TrySetResult();
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await walkThroughSeen.Task.WaitAsync(TimeSpan.FromSeconds(60));
            string text;
            lock (stdout)
            {
                text = stdout.ToString();
            }

            // The credentials object runs from the first line that is "{" to the first that is "}".
            var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
            var start = lines.IndexOf("{");
            var end = lines.IndexOf("}", start);
            var credentials = JsonDocument.Parse(string.Join('\n', lines[start..(end + 1)])).RootElement.Clone();

            var baseUrl = credentials.GetProperty("base_url").GetString()!;
            Assert.Contains("/oauth/token", text, StringComparison.Ordinal);
            Assert.Contains(credentials.GetProperty("m2m_client").GetProperty("client_id").GetString()!, text, StringComparison.Ordinal);
            using var http = new HttpClient();
            Assert.Equal(200, (int)(await http.GetAsync(baseUrl + "/readyz")).StatusCode);
            Assert.Equal($"http://127.0.0.1:{port}", baseUrl);
            var discovery = JsonDocument.Parse(await http.GetStringAsync(baseUrl + "/.well-known/openid-configuration")).RootElement;
            Assert.Equal(baseUrl + "/", discovery.GetProperty("issuer").GetString());
            Assert.Equal(baseUrl + "/oauth/token", discovery.GetProperty("token_endpoint").GetString());
            return credentials;
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }
}
