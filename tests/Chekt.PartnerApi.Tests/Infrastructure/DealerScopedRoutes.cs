using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Chekt.PartnerApi.Tests.Infrastructure;

/// <summary>How deep a dealer-scoped route goes: which path ids it takes after the dealer's.</summary>
public enum RouteLevel
{
    Dealer,
    Site,
    Contact,
}

/// <summary>One route of <c>/partner/v1</c> that takes a dealer id, with a valid body when it writes.</summary>
public sealed record DealerScopedRoute(HttpMethod Method, string Template, RouteLevel Level, string? Body = null, bool NeedsDealerAdmin = false)
{
    public string Path(long dealerId, long siteId = 0, long contactId = 0) =>
        "/partner/v1" + Template
            .Replace("{dealerId}", dealerId.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{siteId}", siteId.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{contactId}", contactId.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    public override string ToString() => $"{Method} {Template}";
}

/// <summary>
/// Every route and verb under <c>/partner/v1/dealers/{dealerId}</c> (spec §3–§5). Write bodies are
/// valid, so an answer other than the expected refusal means the request got through. Created
/// resources use the external ids <see cref="IntruderSiteId"/> and <see cref="IntruderContactId"/>,
/// so a test can look for them afterwards.
/// </summary>
public static class DealerScopedRoutes
{
    public const string IntruderSiteId = "intruder-site";
    public const string IntruderContactId = "intruder-contact";

    public static IReadOnlyList<DealerScopedRoute> All { get; } =
    [
        new(HttpMethod.Get, "/dealers/{dealerId}", RouteLevel.Dealer),
        new(HttpMethod.Put, "/dealers/{dealerId}", RouteLevel.Dealer, "{\"company_name\":\"Hijacked Inc.\",\"company_email\":\"evil@intruder.example.com\"}"),
        new(HttpMethod.Put, "/dealers/{dealerId}/disconnect", RouteLevel.Dealer, NeedsDealerAdmin: true),
        new(HttpMethod.Post, "/dealers/{dealerId}/sites", RouteLevel.Dealer,
            $"{{\"external_site_id\":\"{IntruderSiteId}\",\"name\":\"Intruder site\",\"timezone\":\"Asia/Seoul\",\"address1\":\"1 Evil Road\"}}"),
        new(HttpMethod.Get, "/dealers/{dealerId}/sites", RouteLevel.Dealer),
        new(HttpMethod.Get, "/dealers/{dealerId}/sites/{siteId}", RouteLevel.Site),
        new(HttpMethod.Put, "/dealers/{dealerId}/sites/{siteId}", RouteLevel.Site, "{\"name\":\"Hijacked site\",\"address2\":null}"),
        new(HttpMethod.Delete, "/dealers/{dealerId}/sites/{siteId}", RouteLevel.Site),
        new(HttpMethod.Get, "/dealers/{dealerId}/sites/{siteId}/arming-settings", RouteLevel.Site),
        new(HttpMethod.Patch, "/dealers/{dealerId}/sites/{siteId}/arming-settings", RouteLevel.Site, "{\"security_type\":4}"),
        new(HttpMethod.Post, "/dealers/{dealerId}/sites/{siteId}/contacts", RouteLevel.Site,
            $"{{\"external_contact_id\":\"{IntruderContactId}\",\"first_name\":\"Eve\",\"last_name\":\"Intruder\",\"phone_number\":\"+1 555 000 0000\"}}"),
        new(HttpMethod.Get, "/dealers/{dealerId}/sites/{siteId}/contacts", RouteLevel.Site),
        new(HttpMethod.Get, "/dealers/{dealerId}/sites/{siteId}/contacts/{contactId}", RouteLevel.Contact),
        new(HttpMethod.Put, "/dealers/{dealerId}/sites/{siteId}/contacts/{contactId}", RouteLevel.Contact, "{\"first_name\":\"Hijacked\",\"email\":null}"),
        new(HttpMethod.Delete, "/dealers/{dealerId}/sites/{siteId}/contacts/{contactId}", RouteLevel.Contact),
    ];

    /// <summary>Sends the route with the M2M token, or the dealer admin's user token where the route needs one.</summary>
    public static async Task<HttpResponseMessage> SendAsync(TestApp app, DealerScopedRoute route, string path, string m2mToken, string adminToken)
    {
        using var request = Seed.Authorized(route.Method, path, route.NeedsDealerAdmin ? adminToken : m2mToken, route.Body);
        return await app.Client.SendAsync(request);
    }

    /// <summary>
    /// Everything a partner sees of a dealer, read with <paramref name="token"/>: the dealer, the site
    /// list, every site, its arming settings, its contact list and every contact, each as status, ETag
    /// and the exact body text. Two snapshots are equal only when nothing visible changed.
    /// </summary>
    public static async Task<string> SnapshotAsync(TestApp app, string token, long dealerId)
    {
        var text = new StringBuilder();

        async Task<string> ReadAsync(string path)
        {
            using var request = Seed.Authorized(HttpMethod.Get, path, token);
            using var response = await app.Client.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True((int)response.StatusCode == 200, $"GET {path} answered {(int)response.StatusCode}: {body}");
            text.Append(CultureInfo.InvariantCulture, $"GET {path} -> {(int)response.StatusCode} ETag={response.Headers.ETag} {body}\n");
            return body;
        }

        var dealerPath = $"/partner/v1/dealers/{dealerId}";
        await ReadAsync(dealerPath);
        foreach (var site in JsonDocument.Parse(await ReadAsync(dealerPath + "/sites")).RootElement.EnumerateArray())
        {
            var sitePath = $"{dealerPath}/sites/{site.GetProperty("site_id").GetInt64()}";
            await ReadAsync(sitePath);
            await ReadAsync(sitePath + "/arming-settings");
            foreach (var contact in JsonDocument.Parse(await ReadAsync(sitePath + "/contacts")).RootElement.EnumerateArray())
            {
                await ReadAsync($"{sitePath}/contacts/{contact.GetProperty("contact_id").GetInt64()}");
            }
        }

        return text.ToString();
    }
}
