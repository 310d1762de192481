using System.Text.RegularExpressions;

namespace Chekt.PartnerApi.Validation;

/// <summary>Limits and formats shared by the API and the operator CLI (spec §7).</summary>
public static partial class FieldRules
{
    public const int NameMaxLength = 255;
    public const int ExternalIdMaxLength = 128;
    public const int EmailMaxLength = 254;
    public const int PhoneMaxLength = 32;
    public const int TextMaxLength = 255;

    public static bool IsBlank(string? value) => string.IsNullOrWhiteSpace(value);

    /// <summary>
    /// Whether <paramref name="value"/> has at most <paramref name="maxLength"/> characters, counted as Unicode code points:
    /// an emoji is one character, as for JSON Schema's <c>maxLength</c> and PostgreSQL's <c>length()</c>, not two UTF-16 units.
    /// </summary>
    public static bool IsWithinLength(string value, int maxLength) =>
        value.Length <= maxLength || (value.Length <= 2 * maxLength && value.EnumerateRunes().Count() <= maxLength);

    /// <summary>A practical subset of RFC 5322 addresses: dot-atom local part, a dotted host name with a letter TLD.</summary>
    public static bool IsValidEmail(string value)
    {
        if (value.Length > EmailMaxLength || !EmailPattern().IsMatch(value))
        {
            return false;
        }

        var local = value[..value.IndexOf('@', StringComparison.Ordinal)];
        return local.Length <= 64 && !local.StartsWith('.') && !local.EndsWith('.') && !local.Contains("..", StringComparison.Ordinal);
    }

    /// <summary>Digits with an optional leading <c>+</c>, spaces, dashes, dots and parentheses; 3 to 20 digits.</summary>
    public static bool IsValidPhone(string value)
    {
        if (value.Length > PhoneMaxLength || !PhonePattern().IsMatch(value))
        {
            return false;
        }

        var digits = value.Count(char.IsAsciiDigit);
        return digits is >= 3 and <= 20;
    }

    /// <summary>
    /// An IANA time zone id known to this machine's tz database (e.g. <c>Asia/Seoul</c>); Windows ids
    /// such as "Korea Standard Time" are refused even where the platform would translate them.
    /// </summary>
    public static bool IsIanaTimeZone(string value) =>
        value.Length <= 64 && TimeZoneInfo.TryFindSystemTimeZoneById(value, out var zone) && zone.HasIanaId
        && string.Equals(zone.Id, value, StringComparison.Ordinal);

    /// <summary>An absolute http(s) URL without a fragment (RFC 6749 §3.1.2 for redirect URIs).</summary>
    public static bool IsAbsoluteHttpUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
        && !string.IsNullOrEmpty(uri.Host)
        && string.IsNullOrEmpty(uri.Fragment)
        && !value.Contains('#', StringComparison.Ordinal);

    [GeneratedRegex(@"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,63}\z", RegexOptions.CultureInvariant)]
    private static partial Regex EmailPattern();

    [GeneratedRegex(@"^\+?[0-9 ().-]+\z", RegexOptions.CultureInvariant)]
    private static partial Regex PhonePattern();
}
