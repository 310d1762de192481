using System.Globalization;
using System.Text.Json;

namespace Chekt.PartnerApi.Auth;

/// <summary>
/// The partner claim (spec §2.1): <c>{"dealer_id":"12345","site_id":"1"}</c>, ids as strings or
/// numbers. Requested at the token endpoint, copied into the token, and narrowing what it may touch.
/// </summary>
public sealed record PartnerClaim(long DealerId, long? SiteId)
{
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 2, AllowDuplicateProperties = false };

    /// <summary>Validates the parameter value; returns the JSON to copy into the token.</summary>
    public static (string? Json, string? Error) ParseParameter(string? value)
    {
        if (value is null)
        {
            return (null, null);
        }

        try
        {
            using var document = JsonDocument.Parse(value, Options);
            var claim = FromElement(document.RootElement);
            return claim is null
                ? (null, "The partner claim must be a JSON object with a positive dealer_id and optionally a positive site_id.")
                : (JsonSerializer.Serialize(document.RootElement), null);
        }
        catch (JsonException)
        {
            return (null, "The partner claim is not valid JSON.");
        }
    }

    /// <summary>Reads the claim from a token; null when it is not a well-formed partner claim.</summary>
    public static PartnerClaim? FromElement(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        long? dealerId = null, siteId = null;
        foreach (var property in element.EnumerateObject())
        {
            var id = ReadId(property.Value);
            switch (property.Name)
            {
                case "dealer_id" when id is not null:
                    dealerId = id;
                    break;
                case "site_id" when id is not null:
                    siteId = id;
                    break;
                default:
                    return null;
            }
        }

        return dealerId is { } dealer ? new PartnerClaim(dealer, siteId) : null;
    }

    private static long? ReadId(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number when value.TryGetInt64(out var number) && number > 0 => number,
        JsonValueKind.String when long.TryParse(value.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed > 0 => parsed,
        _ => null,
    };
}
