using System.Data.Common;
using System.Text.Json;
using System.Text.Json.Nodes;
using Chekt.PartnerApi.Data;
using Microsoft.Extensions.Options;

namespace Chekt.PartnerApi.Cli;

/// <summary>The standard streams, injectable so that tests can drive the CLI through its entry point.</summary>
public sealed record CliConsole(TextReader In, TextWriter Out, TextWriter Error, bool IsInputRedirected)
{
    public static CliConsole System => new(Console.In, Console.Out, Console.Error, Console.IsInputRedirected);
}

/// <summary>
/// The executable's entry: <c>serve</c> (default), <c>demo</c>, or one operator command that prints
/// one JSON object on stdout. Exit codes: 0 success, 2 bad input, 1 any other failure.
/// </summary>
public static class CliApp
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int UsageError = 2;

    private delegate Task<JsonObject> OperatorCommand(CliArguments args, IServiceProvider services, CliConsole console, CancellationToken cancellationToken);

    private sealed record CommandSpec(string Name, IReadOnlyList<CliOption> Options, OperatorCommand Run, string Usage);

    private static readonly CommandSpec[] Commands =
    [
        new("partners add", [new("name")], OperatorCommands.AddPartnerAsync, "partners add --name NAME"),
        new("clients add",
            [
                new("partner"), new("name"), new("redirect-uri", Repeatable: true), new("logout-url", Repeatable: true),
                new("public", HasValue: false), new("require-pkce", HasValue: false), new("scopes"),
                new("jwks-file"), new("public-key-pem"), new("kid"),
            ],
            OperatorCommands.AddClientAsync,
            "clients add --partner ID --name NAME [--redirect-uri URL]... [--logout-url URL]... [--public] [--require-pkce] [--scopes \"a b\"] [--jwks-file FILE | --public-key-pem FILE --kid KID]"),
        new("dealers add", [new("company-name"), new("address1"), new("address2"), new("email"), new("phone")],
            OperatorCommands.AddDealerAsync,
            "dealers add --company-name NAME [--address1 TEXT] [--address2 TEXT] [--email EMAIL] [--phone PHONE]"),
        new("users add", [new("dealer"), new("email"), new("role")], OperatorCommands.AddUserAsync,
            "users add --dealer ID --email EMAIL --role admin|member   (password on standard input)"),
        new("keys rotate", [], OperatorCommands.RotateKeysAsync, "keys rotate"),
        new("migrate", [], OperatorCommands.MigrateAsync, "migrate"),
    ];

    private static readonly JsonSerializerOptions OutputOptions = new() { WriteIndented = false };

    public static async Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancellationToken = default)
    {
        // --help or -h anywhere asks for help, never runs anything: the command's usage line, or the whole list.
        if (args.Any(arg => arg is "--help" or "-h"))
        {
            var asked = args.Length > 1 ? Commands.FirstOrDefault(c => c.Name == $"{args[0]} {args[1]}") : null;
            await console.Out.WriteLineAsync(asked is null ? UsageText() : $"Usage: Chekt.PartnerApi {asked.Usage}");
            return Success;
        }

        // No command, or options only: serve (this is also how the test host starts the server).
        if (args.Length == 0 || args[0].StartsWith('-'))
        {
            return await ServeAsync(args, console);
        }

        switch (args[0])
        {
            case "serve":
                return await ServeAsync(args[1..], console);
            case "demo":
                return await Guard(console, () => DemoCommand.RunAsync(ParseConfigurationOnly("demo", args[1..]), console, cancellationToken));
            case "help":
                await console.Out.WriteLineAsync(UsageText());
                return Success;
        }

        var command = Commands.FirstOrDefault(c => c.Name == args[0])
            ?? (args.Length > 1 ? Commands.FirstOrDefault(c => c.Name == $"{args[0]} {args[1]}") : null);
        if (command is null)
        {
            await console.Error.WriteLineAsync($"error: unknown command '{string.Join(' ', args.TakeWhile(a => !a.StartsWith('-')).Take(2))}'. Run 'help' for the list.");
            return UsageError;
        }

        var rest = args[command.Name.Split(' ').Length..];
        return await Guard(console, async () =>
        {
            var parsed = CliArguments.Parse(command.Name, command.Options, rest);
            await using var services = BuildServices(parsed.ConfigurationArgs);
            if (command.Name != "migrate")
            {
                var migrator = services.GetRequiredService<Migrator>();
                await (services.GetRequiredService<IOptions<DatabaseOptions>>().Value.MigrateOnStart
                    ? migrator.MigrateAsync(cancellationToken)
                    : migrator.EnsureNothingPendingAsync(cancellationToken));
            }

            var result = await command.Run(parsed, services, console, cancellationToken);
            await console.Out.WriteLineAsync(result.ToJsonString(OutputOptions));
            return Success;
        });
    }

    /// <summary>
    /// Runs the server until it is stopped. A startup failure (a setting that cannot be used, an unreachable
    /// database while migrating on start) ends the process with one line on stderr and exit code 1; the
    /// host has already logged it with its details.
    /// </summary>
    private static Task<int> ServeAsync(string[] args, CliConsole console) => Guard(console, async () =>
    {
        await PartnerServer.Build(args).RunAsync();
        return Success;
    });

    private static CliArguments ParseConfigurationOnly(string name, string[] args) => CliArguments.Parse(name, [], args);

    /// <summary>Runs a command and turns failures into one line on stderr and an exit code.</summary>
    private static async Task<int> Guard(CliConsole console, Func<Task<int>> run)
    {
        try
        {
            return await run();
        }
        catch (CliUsageException exception)
        {
            await console.Error.WriteLineAsync($"error: {OneLine(exception.Message)}");
            return UsageError;
        }
        catch (Exception exception) when (exception is DbException or TimeoutException
            || (exception is not IOException && DbErrors.IsUnavailable(exception)))
        {
            await console.Error.WriteLineAsync($"error: database: {OneLine(exception.GetBaseException().Message)}");
            return Failure;
        }
        catch (Exception exception) when (exception is InvalidOperationException or IOException or OptionsValidationException)
        {
            // IOException: for example Kestrel's "address already in use" when serve cannot bind.
            // OptionsValidationException: a setting outside what the server accepts (AuthOptions.Validate).
            await console.Error.WriteLineAsync($"error: {OneLine(exception.Message)}");
            return Failure;
        }
        catch (FormatException exception) when (exception.Message.StartsWith("Invalid url", StringComparison.Ordinal))
        {
            // Kestrel's answer to an address it cannot parse (--urls notaurl): a setting the server cannot use.
            await console.Error.WriteLineAsync($"error: urls: {OneLine(exception.Message)}");
            return Failure;
        }
    }

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();

    /// <summary>The services an operator command needs, configured like the server (appsettings, environment, --Key=value).</summary>
    private static ServiceProvider BuildServices(IReadOnlyList<string> configurationArgs)
    {
        var environment = Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT")
            ?? Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT")
            ?? "Production";
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(PartnerServer.Defaults)
            .SetBasePath(Directory.GetCurrentDirectory())
            .AddJsonFile("appsettings.json", optional: true)
            .AddJsonFile($"appsettings.{environment}.json", optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine([.. configurationArgs])
            .Build();

        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        // Standard output carries the command's JSON answer only, so nothing is logged there.
        services.AddLogging();
        services.AddPartnerCore(configuration);
        return services.BuildServiceProvider();
    }

    public static string UsageText() =>
        "Usage: Chekt.PartnerApi [command] [options] [--Configuration:Key=value ...]\n\n" +
        "Commands:\n" +
        "  serve                 run the server (the default)\n" +
        "  demo                  seed a demo partner, clients, dealer and admin user, print credentials and a walk-through, then serve\n" +
        string.Concat(Commands.Select(c => $"  {c.Usage}\n")) +
        "\nEvery operator command prints one JSON object on stdout; errors go to stderr with exit code 2 (bad input) or 1.";
}
