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
}
