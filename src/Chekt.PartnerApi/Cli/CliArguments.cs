namespace Chekt.PartnerApi.Cli;

/// <summary>Bad input to a CLI command: exit code 2 and the message on stderr.</summary>
public sealed class CliUsageException(string message) : Exception(message);

/// <summary>An option a command accepts.</summary>
public sealed record CliOption(string Name, bool HasValue = true, bool Repeatable = false);

/// <summary>The options given to one command, and the arguments left for configuration.</summary>
public sealed class CliArguments
{
    // Options that are configuration (e.g. --Database:Provider=Postgres, --urls) rather than command input.
    private static readonly HashSet<string> HostOptions = new(StringComparer.OrdinalIgnoreCase)
    {
        "urls", "environment", "contentRoot", "applicationName",
    };

    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);

    public IReadOnlyList<string> ConfigurationArgs { get; private init; } = [];

    public static CliArguments Parse(string commandName, IReadOnlyList<CliOption> options, IReadOnlyList<string> args)
    {
        var configuration = new List<string>();
        var parsed = new CliArguments { ConfigurationArgs = configuration };
        for (var i = 0; i < args.Count; i++)
        {
            var token = args[i];
            if (!token.StartsWith("--", StringComparison.Ordinal) || token.Length == 2)
            {
                throw new CliUsageException($"'{commandName}' does not take the argument '{token}'.");
            }

            var name = token[2..];
            string? inline = null;
            var equals = name.IndexOf('=', StringComparison.Ordinal);
            if (equals >= 0)
            {
                inline = name[(equals + 1)..];
                name = name[..equals];
            }

            var option = options.FirstOrDefault(o => o.Name == name);
            if (option is null)
            {
                if (!name.Contains(':', StringComparison.Ordinal) && !HostOptions.Contains(name))
                {
                    throw new CliUsageException($"'{commandName}' has no option --{name}.");
                }

                configuration.Add(token);
                if (inline is null && i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    configuration.Add(args[++i]);
                }

                continue;
            }

            if (!option.HasValue)
            {
                if (inline is not null)
                {
                    throw new CliUsageException($"--{name} takes no value.");
                }

                parsed._flags.Add(name);
                continue;
            }

            var value = inline ?? (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal)
                ? args[++i]
                : throw new CliUsageException($"--{name} needs a value."));
            if (!parsed._values.TryGetValue(name, out var values))
            {
                parsed._values[name] = values = [];
            }
            else if (!option.Repeatable)
            {
                throw new CliUsageException($"--{name} may be given only once.");
            }

            values.Add(value);
        }

        return parsed;
    }

    public string Required(string name) =>
        Optional(name) ?? throw new CliUsageException($"--{name} is required.");

    public string? Optional(string name) => _values.TryGetValue(name, out var values) ? values[0] : null;

    public IReadOnlyList<string> All(string name) => _values.TryGetValue(name, out var values) ? values : [];

    public bool Flag(string name) => _flags.Contains(name);

    public bool Has(string name) => _values.ContainsKey(name) || _flags.Contains(name);
}
