using System.Text.Json;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;

namespace Chekt.PartnerApi.Tests.Auth;

/// <summary>Secrets, passwords, tokens and codes never reach the logs.</summary>
public sealed class SecretsInLogsTests
{
    private const string RedirectUri = "https://app.example.com/callback";

    [Theory, OnSqlite, OnPostgres]
    public async Task NoSecretPasswordTokenOrCodeIsLogged(DatabaseProvider provider)
    {
        await using var app = await TestApp.StartAsync(provider);
        var partner = await Seed.PartnerAsync(app);
        var web = await Seed.ClientAsync(app, partner, "Web", redirectUris: [RedirectUri]);
        var dealer = await Seed.DealerAsync(app);
        await Seed.ConnectAsync(app, partner, dealer, "d-1");
        await Seed.UserAsync(app, dealer, "admin@dealer.example.com");

        var secrets = new List<string> { web.Secret!, Seed.Password, "wrong-password-attempt" };
        using var flow = new UserFlow(app);
        var url = UserFlow.AuthorizeUrl(web.ClientId, RedirectUri, "read:dealer offline_access");
        await flow.SubmitAsync(await flow.Http.GetAsync(url), ("email", "admin@dealer.example.com"), ("password", "wrong-password-attempt"));
        var code = UserFlow.QueryValue(await flow.AuthorizeAsync(url, "admin@dealer.example.com"), "code")!;
        secrets.Add(code);

        var tokens = JsonDocument.Parse(await (await Seed.RequestTokenAsync(app.Client, new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = RedirectUri, ["client_id"] = web.ClientId, ["client_secret"] = web.Secret!,
        })).Content.ReadAsStringAsync()).RootElement;
        var access = tokens.GetProperty("access_token").GetString()!;
        var refresh = tokens.GetProperty("refresh_token").GetString()!;
        secrets.Add(access);
        secrets.Add(refresh);

        // Failures are logged too; they must not carry what was presented.
        await app.Client.SendAsync(Seed.Authorized(HttpMethod.Get, $"/partner/v1/dealers/{dealer}", access));
        await app.Client.SendAsync(Seed.Authorized(HttpMethod.Get, $"/partner/v1/dealers/{dealer}", access + "tampered"));
        await Seed.RequestTokenAsync(app.Client, new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token", ["refresh_token"] = refresh, ["client_id"] = web.ClientId, ["client_secret"] = web.Secret!,
        });
        await Seed.RequestTokenAsync(app.Client, new Dictionary<string, string> { ["grant_type"] = "client_credentials" }, (web.ClientId, "wrong-secret-attempt"));
        secrets.Add("wrong-secret-attempt");

        Assert.NotEmpty(app.Logs.Entries);
        var everything = string.Join('\n', app.Logs.Entries.Select(e =>
            $"{e.Message} {e.Exception} {string.Join(' ', e.Scope.Select(s => $"{s.Key}={s.Value}"))}"));
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, everything, StringComparison.Ordinal);
        }

        // Signature part alone (a token might be logged truncated).
        Assert.DoesNotContain(access.Split('.')[2], everything, StringComparison.Ordinal);
    }
}
