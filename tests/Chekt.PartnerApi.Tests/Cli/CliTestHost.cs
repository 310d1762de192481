using System.Text.Json;
using Chekt.PartnerApi.Cli;
using Chekt.PartnerApi.Tests.Infrastructure;

namespace Chekt.PartnerApi.Tests.Cli;

public sealed record CliRun(int ExitCode, string Stdout, string Stderr)
{
    public JsonElement Json => JsonDocument.Parse(Stdout).RootElement;
}

/// <summary>Drives the CLI through its entry point with the streams captured, or as a real process.</summary>
public static class CliTestHost
{
    public static async Task<CliRun> RunAsync(TestDatabase database, string[] args, string? stdin = null)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var console = new CliConsole(new StringReader(stdin ?? ""), output, error, IsInputRedirected: true);
        var exitCode = await CliApp.RunAsync([.. args, .. database.CliArgs], console);
        return new CliRun(exitCode, output.ToString(), error.ToString());
    }

    public static async Task<CliRun> RunProcessAsync(TestDatabase database, string[] args, string? stdin = null)
    {
        var result = await ProcessRunner.RunAsync("dotnet", [ServerDll, .. args, .. database.CliArgs], stdin);
        return new CliRun(result.ExitCode, result.Stdout, result.Stderr);
    }

    /// <summary>The server assembly, copied beside the tests with its runtime configuration.</summary>
    public static string ServerDll => Path.Combine(AppContext.BaseDirectory, "Chekt.PartnerApi.dll");

    public static void AssertUsageError(CliRun run, string expectedFragment)
    {
        Assert.Equal(2, run.ExitCode);
        Assert.Equal("", run.Stdout);
        var line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        Assert.Contains(expectedFragment, line, StringComparison.OrdinalIgnoreCase);
    }
}
