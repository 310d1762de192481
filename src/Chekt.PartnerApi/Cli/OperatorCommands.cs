using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Chekt.PartnerApi.Auth;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Validation;
using Microsoft.Extensions.Options;

namespace Chekt.PartnerApi.Cli;

/// <summary>The operator commands of spec §9 that print one JSON object and exit.</summary>
public static class OperatorCommands
{
    public static async Task<JsonObject> AddPartnerAsync(CliArguments args, IServiceProvider services, CliConsole console, CancellationToken cancellationToken)
    {
        var name = Text(args.Required("name"), "--name", FieldRules.NameMaxLength);
        var partnerId = await services.GetRequiredService<Operator>().AddPartnerAsync(name, cancellationToken);
        return new JsonObject { ["partner_id"] = partnerId };
    }

    public static async Task<JsonObject> AddClientAsync(CliArguments args, IServiceProvider services, CliConsole console, CancellationToken cancellationToken)
    {
        var partnerId = Id(args.Required("partner"), "--partner");
        var name = Text(args.Required("name"), "--name", FieldRules.NameMaxLength);
        var redirectUris = Urls(args.All("redirect-uri"), "--redirect-uri");
        var logoutUrls = Urls(args.All("logout-url"), "--logout-url");
        var isPublic = args.Flag("public");

        var scopes = args.Optional("scopes") is { } requested
            ? requested.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : [.. Scopes.Api, .. Scopes.User];
        if (scopes.Length == 0)
        {
            throw new CliUsageException("--scopes must name at least one scope.");
        }

        if (scopes.FirstOrDefault(scope => !Scopes.All.Contains(scope)) is { } unknown)
        {
            throw new CliUsageException($"Unknown scope '{unknown}'. Known scopes: {string.Join(' ', Scopes.Api.Concat(Scopes.User))}.");
        }

        IReadOnlyList<ClientKey> keys = [];
        if (args.Optional("jwks-file") is { } jwksFile)
        {
            if (args.Has("public-key-pem") || args.Has("kid"))
            {
                throw new CliUsageException("Give either --jwks-file or --public-key-pem with --kid, not both.");
            }

            keys = ClientKey.FromJwksFile(jwksFile);
        }
        else if (args.Optional("public-key-pem") is { } pemFile)
        {
            var kid = Text(args.Optional("kid") ?? throw new CliUsageException("--public-key-pem needs --kid."), "--kid", FieldRules.ExternalIdMaxLength);
            keys = [ClientKey.FromPemFile(pemFile, kid)];
        }
        else if (args.Has("kid"))
        {
            throw new CliUsageException("--kid is used only with --public-key-pem.");
        }

        if (isPublic && keys.Count > 0)
        {
            throw new CliUsageException("A public client has no credentials: --public cannot be combined with keys.");
        }

        if (isPublic && redirectUris.Count == 0)
        {
            throw new CliUsageException("A public client needs at least one --redirect-uri.");
        }

        var @operator = services.GetRequiredService<Operator>();
        if (!await @operator.PartnerExistsAsync(partnerId, cancellationToken))
        {
            throw new CliUsageException($"Partner {partnerId} does not exist.");
        }

        // Note: public clients cannot keep a secret, so PKCE is their only protection for codes.
        var client = await @operator.AddClientAsync(
            new ClientRegistration(partnerId, name, isPublic, isPublic || args.Flag("require-pkce"), scopes, redirectUris, logoutUrls, keys),
            cancellationToken);
        return new JsonObject { ["client_id"] = client.ClientId, ["client_secret"] = client.ClientSecret };
    }

    public static async Task<JsonObject> AddDealerAsync(CliArguments args, IServiceProvider services, CliConsole console, CancellationToken cancellationToken)
    {
        var companyName = Text(args.Required("company-name"), "--company-name", FieldRules.NameMaxLength);
        var address1 = OptionalText(args.Optional("address1"), "--address1");
        var address2 = OptionalText(args.Optional("address2"), "--address2");
        var email = OptionalText(args.Optional("email"), "--email", FieldRules.EmailMaxLength);
        if (email is not null && !FieldRules.IsValidEmail(email))
        {
            throw new CliUsageException($"--email '{email}' is not a valid email address.");
        }

        var phone = OptionalText(args.Optional("phone"), "--phone", FieldRules.PhoneMaxLength);
        if (phone is not null && !FieldRules.IsValidPhone(phone))
        {
            throw new CliUsageException($"--phone '{phone}' is not a valid phone number (digits, optional leading +, spaces, dashes, dots, parentheses).");
        }

        var dealerId = await services.GetRequiredService<Operator>().AddDealerAsync(companyName, address1, address2, email, phone, cancellationToken);
        return new JsonObject { ["dealer_id"] = dealerId };
    }

    public static async Task<JsonObject> AddUserAsync(CliArguments args, IServiceProvider services, CliConsole console, CancellationToken cancellationToken)
    {
        var dealerId = Id(args.Required("dealer"), "--dealer");
        var email = args.Required("email").Trim();
        if (!FieldRules.IsValidEmail(email))
        {
            throw new CliUsageException($"--email '{email}' is not a valid email address.");
        }

        var role = args.Required("role");
        if (role is not ("admin" or "member"))
        {
            throw new CliUsageException($"--role must be admin or member, not '{role}'.");
        }

        var password = await ReadPasswordAsync(console, cancellationToken);
        var @operator = services.GetRequiredService<Operator>();
        if (!await @operator.DealerExistsAsync(dealerId, cancellationToken))
        {
            throw new CliUsageException($"Dealer {dealerId} does not exist.");
        }

        var iterations = services.GetRequiredService<IOptions<AuthOptions>>().Value.PasswordHashIterations;
        var userId = await @operator.AddUserAsync(dealerId, email, role, PasswordHasher.Hash(password, iterations), cancellationToken)
            ?? throw new CliUsageException($"A user with the email '{email}' already exists.");
        return new JsonObject { ["user_id"] = userId };
    }

    public static async Task<JsonObject> RotateKeysAsync(CliArguments args, IServiceProvider services, CliConsole console, CancellationToken cancellationToken)
    {
        var kid = await services.GetRequiredService<SigningKeyStore>().RotateAsync(cancellationToken);
        return new JsonObject { ["kid"] = kid };
    }

    public static async Task<JsonObject> MigrateAsync(CliArguments args, IServiceProvider services, CliConsole console, CancellationToken cancellationToken)
    {
        var applied = await services.GetRequiredService<Migrator>().MigrateAsync(cancellationToken);
        return new JsonObject
        {
            ["applied"] = new JsonArray([.. applied.Select(id => JsonValue.Create(id))]),
            ["database"] = services.GetRequiredService<Db>().Describe(),
        };
    }

    /// <summary>
    /// The password comes on standard input (piped), never as an argument where it would land in
    /// the shell history and the process list. One trailing line break is not part of it.
    /// </summary>
    private static async Task<string> ReadPasswordAsync(CliConsole console, CancellationToken cancellationToken)
    {
        string password;
        if (console.IsInputRedirected)
        {
            password = await console.In.ReadToEndAsync(cancellationToken);
            if (password.EndsWith('\n'))
            {
                password = password[..^1];
            }

            if (password.EndsWith('\r'))
            {
                password = password[..^1];
            }
        }
        else
        {
            await console.Error.WriteAsync("Password: ");
            var typed = new StringBuilder();
            for (var key = Console.ReadKey(intercept: true); key.Key != ConsoleKey.Enter; key = Console.ReadKey(intercept: true))
            {
                if (key.Key == ConsoleKey.Backspace && typed.Length > 0)
                {
                    typed.Length--;
                }
                else if (!char.IsControl(key.KeyChar))
                {
                    typed.Append(key.KeyChar);
                }
            }

            await console.Error.WriteLineAsync();
            password = typed.ToString();
        }

        if (password.Length == 0)
        {
            throw new CliUsageException("No password on standard input (pipe it in, e.g. `echo \"$PASSWORD\" | ... users add ...`).");
        }

        if (password.Length < PasswordHasher.MinimumPasswordLength)
        {
            throw new CliUsageException($"The password must be at least {PasswordHasher.MinimumPasswordLength} characters long.");
        }

        if (password.Length > 1024)
        {
            throw new CliUsageException("The password must be at most 1024 characters long.");
        }

        return password;
    }

    private static long Id(string value, string option) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0
            ? id
            : throw new CliUsageException($"{option} must be a positive integer id, not '{value}'.");

    private static string Text(string value, string option, int maxLength)
    {
        if (FieldRules.IsBlank(value))
        {
            throw new CliUsageException($"{option} must not be empty.");
        }

        return !FieldRules.IsWithinLength(value, maxLength)
            ? throw new CliUsageException($"{option} must be at most {maxLength} characters.")
            : value.Trim();
    }

    private static string? OptionalText(string? value, string option, int maxLength = FieldRules.TextMaxLength) =>
        value is null ? null : Text(value, option, maxLength);

    private static List<string> Urls(IReadOnlyList<string> values, string option)
    {
        foreach (var value in values)
        {
            if (!FieldRules.IsAbsoluteHttpUrl(value))
            {
                throw new CliUsageException($"{option} '{value}' is not an absolute http(s) URL without a fragment.");
            }
        }

        return [.. values];
    }
}
