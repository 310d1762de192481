using System.Globalization;
using Microsoft.AspNetCore.DataProtection;

namespace Chekt.PartnerApi.Auth;

/// <summary>A signed-in dealer user of the authorization pages.</summary>
public sealed record LoginSessionState(long UserId, DateTimeOffset AuthenticatedAt);

/// <summary>
/// The login session of the authorization pages: an encrypted, authenticated cookie (ASP.NET Core
/// Data Protection, keys shared by instances through the database) holding the user id and sign-in time.
/// </summary>
public sealed class LoginSession(IDataProtectionProvider protection, TimeProvider clock)
{
    public const string CookieName = "chekt_session";
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(8);

    private readonly ITimeLimitedDataProtector _protector =
        protection.CreateProtector("Chekt.PartnerApi.LoginSession.v1").ToTimeLimitedDataProtector();

    public LoginSessionState? Read(HttpContext context)
    {
        if (!context.Request.Cookies.TryGetValue(CookieName, out var value) || string.IsNullOrEmpty(value))
        {
            return null;
        }

        try
        {
            var parts = _protector.Unprotect(value, out var expires).Split('|');
            return expires > clock.GetUtcNow() && parts.Length == 2
                && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var userId)
                && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var authenticatedAt)
                ? new LoginSessionState(userId, DateTimeOffset.FromUnixTimeMilliseconds(authenticatedAt))
                : null;
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return null; // tampered, or protected with a key that no longer exists
        }
    }

    public void SignIn(HttpContext context, long userId)
    {
        var now = clock.GetUtcNow();
        var value = _protector.Protect(
            string.Create(CultureInfo.InvariantCulture, $"{userId}|{now.ToUnixTimeMilliseconds()}"), now + Lifetime);
        context.Response.Cookies.Append(CookieName, value, CookieOptions(context));
    }

    public static void SignOut(HttpContext context) => context.Response.Cookies.Delete(CookieName, CookieOptions(context));

    // Note: HttpOnly (no script access), SameSite=Lax (not sent on cross-site POSTs), Secure whenever
    // the page is served over HTTPS.
    private static CookieOptions CookieOptions(HttpContext context) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Lax,
        Secure = context.Request.IsHttps,
        Path = "/",
        IsEssential = true,
    };
}
