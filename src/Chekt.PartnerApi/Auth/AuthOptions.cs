using Microsoft.Extensions.Options;

namespace Chekt.PartnerApi.Auth;

/// <summary>The <c>Auth</c> configuration section.</summary>
public sealed class AuthOptions
{
    public const string SectionName = "Auth";

    /// <summary>The public base URL with a trailing slash: <c>iss</c> of every token and base of the discovery documents.</summary>
    public string Issuer { get; set; } = "http://localhost:5000/";

    /// <summary>The API identifier tokens are issued for (<c>aud</c>).</summary>
    public string Audience { get; set; } = "https://api.chekt.com/partner";

    public int AccessTokenLifetimeSeconds { get; set; } = 3600;

    public string PartnerClaimName { get; set; } = "https://api.chekt.com/claims/partner";

    /// <summary>Work factor of the user password hash (PBKDF2-HMAC-SHA512 iterations).</summary>
    public int PasswordHashIterations { get; set; } = PasswordHasher.DefaultIterations;

    /// <summary>The clock skew tolerated when validating token lifetimes.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(30);

    /// <summary>The longest access token lifetime accepted: a day.</summary>
    public const int MaxAccessTokenLifetimeSeconds = 86_400;
}

/// <summary>
/// Refuses, when the server starts, the <c>Auth</c> settings it cannot work with, instead of answering 500 or issuing
/// tokens nobody can use (spec §10: the issuer is a URL with a trailing slash).
/// </summary>
public sealed class AuthOptionsValidation : IValidateOptions<AuthOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        var problems = new List<string>();
        if (!Uri.TryCreate(options.Issuer, UriKind.Absolute, out var issuer) || issuer.Scheme is not ("http" or "https")
            || !options.Issuer.EndsWith('/') || !string.IsNullOrEmpty(issuer.Query) || !string.IsNullOrEmpty(issuer.Fragment))
        {
            problems.Add($"Auth:Issuer must be an absolute http or https URL ending with '/', e.g. https://api.example.com/ (got '{options.Issuer}').");
        }

        if (string.IsNullOrWhiteSpace(options.Audience))
        {
            problems.Add("Auth:Audience must not be empty.");
        }

        if (options.AccessTokenLifetimeSeconds is <= 0 or > AuthOptions.MaxAccessTokenLifetimeSeconds)
        {
            problems.Add($"Auth:AccessTokenLifetimeSeconds must be between 1 and {AuthOptions.MaxAccessTokenLifetimeSeconds} (got {options.AccessTokenLifetimeSeconds}).");
        }

        if (string.IsNullOrWhiteSpace(options.PartnerClaimName))
        {
            problems.Add("Auth:PartnerClaimName must not be empty.");
        }

        if (options.PasswordHashIterations <= 0)
        {
            problems.Add($"Auth:PasswordHashIterations must be positive (got {options.PasswordHashIterations}).");
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
