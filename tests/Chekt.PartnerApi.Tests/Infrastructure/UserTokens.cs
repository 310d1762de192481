using System.Text.Json;

namespace Chekt.PartnerApi.Tests.Infrastructure;

/// <summary>A dealer user's access token through the real authorization code flow (sign-in, consent, code exchange).</summary>
public static class UserTokens
{
    public const string RedirectUri = "https://app.example.com/callback";

    /// <summary>Creates the user on <paramref name="dealerId"/> and returns an access token issued to <paramref name="webClient"/>.</summary>
    public static async Task<string> NewUserTokenAsync(TestApp app, SeededClient webClient, long dealerId, string email, string role = "admin",
        string scope = "read:dealer update:dealer")
    {
        await Seed.UserAsync(app, dealerId, email, role);
        using var flow = new UserFlow(app);
        var code = UserFlow.QueryValue(await flow.AuthorizeAsync(UserFlow.AuthorizeUrl(webClient.ClientId, RedirectUri, scope), email), "code")!;
        using var response = await Seed.RequestTokenAsync(app.Client, new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = RedirectUri,
            ["client_id"] = webClient.ClientId, ["client_secret"] = webClient.Secret!,
        });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("access_token").GetString()!;
    }
}
