using System.Globalization;
using System.Text.Json;

namespace Chekt.PartnerApi.Client;

/// <summary>
/// Narrows a client-credentials token to one dealer (and optionally one site): calls outside it are
/// refused with <c>403</c>. Sent as the partner-claim parameter of the token request.
/// </summary>
/// <param name="DealerId">The dealer the token is restricted to.</param>
/// <param name="SiteId">The site the token is restricted to, if any.</param>
public sealed record PartnerClaim(long DealerId, long? SiteId = null)
{
    /// <summary>The default name of the partner-claim parameter (and of the claim in the token).</summary>
    public const string DefaultName = "https://api.chekt.com/claims/partner";

    /// <summary>The parameter's JSON value, such as <c>{"dealer_id":"12345","site_id":"1"}</c>.</summary>
    public string ToJson()
    {
        var values = new Dictionary<string, string> { ["dealer_id"] = DealerId.ToString(CultureInfo.InvariantCulture) };
        if (SiteId is { } siteId)
        {
            values["site_id"] = siteId.ToString(CultureInfo.InvariantCulture);
        }

        return JsonSerializer.Serialize(values);
    }
}
