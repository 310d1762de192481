using System.Text.RegularExpressions;

namespace Chekt.PartnerApi.Devices;

/// <summary>Formats of device fields: zone numbers, additional zones, MAC addresses, device types.</summary>
public static partial class DeviceRules
{
    public static readonly IReadOnlySet<string> DeviceTypes = new HashSet<string>(StringComparer.Ordinal) { "camera", "bridge" };

    /// <summary>A zone number: a string of 1 to 4 digits, such as "001".</summary>
    public static bool IsZoneNumber(string value) => value.Length is >= 1 and <= 4 && value.All(char.IsAsciiDigit);

    /// <summary>"002, 003,002" → "002,003": trimmed, duplicates dropped, order kept; null when an entry is not a zone number.</summary>
    public static string? NormalizeAdditionalZones(string value)
    {
        var zones = value.Split(',').Select(zone => zone.Trim()).ToList();
        return zones.All(IsZoneNumber) ? string.Join(',', zones.Distinct(StringComparer.Ordinal)) : null;
    }

    /// <summary>Six hex pairs separated by ':' or '-', or twelve hex digits; normalised to <c>AA:BB:CC:DD:EE:FF</c>.</summary>
    public static string? NormalizeMac(string value)
    {
        if (!MacPattern().IsMatch(value))
        {
            return null;
        }

        var hex = value.Replace(":", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal).ToUpperInvariant();
        return string.Join(':', Enumerable.Range(0, 6).Select(i => hex.Substring(i * 2, 2)));
    }

    [GeneratedRegex("^(?:[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{12})\\z", RegexOptions.CultureInvariant)]
    private static partial Regex MacPattern();
}
