using System.Text.Json;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Chekt.PartnerApi.Tests.Auth;

/// <summary>The authorization code flow over HTTP (RFC 6749 §4.1, RFC 7636, RFC 7009, spec §2.2); the pages are also tested in Chromium.</summary>
public sealed class AuthorizationCodeFlowTests
{
    private const string RedirectUri = "https://app.example.com/callback";
    private const string LogoutUrl = "https://app.example.com/signed-out";
    private const string Email = "admin@dealer.example.com";

    private sealed record Context(TestApp App, SeededClient Web, long PartnerId, long DealerId, long UserId) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    private static async Task<Context> StartAsync(DatabaseProvider provider, bool requirePkce = false)
    {
        var app = await TestApp.StartAsync(provider);
        var partner = await Seed.PartnerAsync(app, "Acme Alarms");
        var web = await Seed.ClientAsync(app, partner, "Acme Web", redirectUris: [RedirectUri], logoutUrls: [LogoutUrl], requirePkce: requirePkce);
        var dealer = await Seed.DealerAsync(app);
        var user = await Seed.UserAsync(app, dealer, Email);
        return new Context(app, web, partner, dealer, user);
    }

    private static Task<HttpResponseMessage> ExchangeAsync(HttpClient http, SeededClient client, string code, string redirectUri = RedirectUri, string? verifier = null)
    {
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = redirectUri,
            ["client_id"] = client.ClientId,
        };
        if (client.Secret is not null)
        {
            form["client_secret"] = client.Secret;
        }

        if (verifier is not null)
        {
            form["code_verifier"] = verifier;
        }

        return Seed.RequestTokenAsync(http, form);
    }

    private static async Task<string> OAuthErrorAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString()!;

    [Theory, OnSqlite, OnPostgres]
    public async Task SignInAndAllowGiveACodeThatBuysUserTokens(DatabaseProvider provider)
    {
        await using var context = await StartAsync(provider);
        using var flow = new UserFlow(context.App);
        var redirect = await flow.AuthorizeAsync(
            UserFlow.AuthorizeUrl(context.Web.ClientId, RedirectUri, "openid email offline_access read:dealer", "state-123", ("nonce", "n-1")), Email);

        Assert.Equal(RedirectUri, redirect.GetLeftPart(UriPartial.Path));
        Assert.Equal("state-123", UserFlow.QueryValue(redirect, "state"));
        var code = UserFlow.QueryValue(redirect, "code")!;

        var response = await ExchangeAsync(context.App.Client, context.Web, code);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.True(response.IsSuccessStatusCode, body.ToString());
        Assert.Equal(["access_token", "token_type", "expires_in", "scope", "refresh_token", "id_token"], body.EnumerateObject().Select(p => p.Name));

        var access = new JsonWebToken(body.GetProperty("access_token").GetString());
        Assert.Equal(context.UserId.ToString(System.Globalization.CultureInfo.InvariantCulture), access.Subject);
        Assert.Equal(context.Web.ClientId, access.GetPayloadValue<string>("azp"));
        Assert.Equal("openid email offline_access read:dealer", access.GetPayloadValue<string>("scope"));

        var idToken = new JsonWebToken(body.GetProperty("id_token").GetString());
        Assert.Equal([context.Web.ClientId], idToken.Audiences);
        Assert.Equal("n-1", idToken.GetPayloadValue<string>("nonce"));
        Assert.Equal(Email, idToken.GetPayloadValue<string>("email"));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task DenyRedirectsWithAccessDeniedAndTheState(DatabaseProvider provider)
    {
        await using var context = await StartAsync(provider);
        using var flow = new UserFlow(context.App);
        var redirect = await flow.AuthorizeAsync(UserFlow.AuthorizeUrl(context.Web.ClientId, RedirectUri, "read:dealer", "s-9"), Email, decision: "deny");
        Assert.Equal("access_denied", UserFlow.QueryValue(redirect, "error"));
        Assert.Equal("s-9", UserFlow.QueryValue(redirect, "state"));
        Assert.Null(UserFlow.QueryValue(redirect, "code"));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AWrongPasswordAndAnUnknownEmailGetTheSameAnswer(DatabaseProvider provider)
    {
        await using var context = await StartAsync(provider);
        using var flow = new UserFlow(context.App);
        var url = UserFlow.AuthorizeUrl(context.Web.ClientId, RedirectUri, "read:dealer");
        var wrongPassword = await flow.SubmitAsync(await flow.Http.GetAsync(url), ("email", Email), ("password", "wrong password!!"));
        var unknownEmail = await flow.SubmitAsync(await flow.Http.GetAsync(url), ("email", "nobody@dealer.example.com"), ("password", "wrong password!!"));

        Assert.Equal(wrongPassword.StatusCode, unknownEmail.StatusCode);
        Assert.Null(wrongPassword.Headers.Location);
        static string Alert(string html) => html[html.IndexOf("role=\"alert\"", StringComparison.Ordinal)..html.IndexOf("</p>", html.IndexOf("role=\"alert\"", StringComparison.Ordinal), StringComparison.Ordinal)];
        Assert.Equal(Alert(await wrongPassword.Content.ReadAsStringAsync()), Alert(await unknownEmail.Content.ReadAsStringAsync()));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task RepeatedFailuresLockTheAccount(DatabaseProvider provider)
    {
        await using var context = await StartAsync(provider);
        using var flow = new UserFlow(context.App);
        var url = UserFlow.AuthorizeUrl(context.Web.ClientId, RedirectUri, "read:dealer");
        for (var i = 0; i < 5; i++)
        {
            await flow.SubmitAsync(await flow.Http.GetAsync(url), ("email", Email), ("password", "wrong password " + i));
        }

        var locked = await flow.SubmitAsync(await flow.Http.GetAsync(url), ("email", Email), ("password", Seed.Password));
        Assert.Null(locked.Headers.Location);
        Assert.Contains("Sign-in failed", await locked.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        context.App.Factory.Clock.Advance(TimeSpan.FromMinutes(16));
        var unlocked = await flow.SubmitAsync(await flow.Http.GetAsync(url), ("email", Email), ("password", Seed.Password));
        Assert.Equal(302, (int)unlocked.StatusCode);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AnUnregisteredRedirectUriOrUnknownClientShowsAnErrorPageAndNeverRedirects(DatabaseProvider provider)
    {
        await using var context = await StartAsync(provider);
        using var flow = new UserFlow(context.App);
        foreach (var url in new[]
        {
            UserFlow.AuthorizeUrl(context.Web.ClientId, "https://evil.example.com/callback", "read:dealer"),
            UserFlow.AuthorizeUrl(context.Web.ClientId, RedirectUri + "/extra", "read:dealer"),
            UserFlow.AuthorizeUrl("no-such-client", RedirectUri, "read:dealer"),
            UserFlow.AuthorizeUrl(context.Web.ClientId, "https://evil.example.com/callback", "read:dealer", extra: ("response_type", "token")),
        })
        {
            var response = await flow.Http.GetAsync(url);
            Assert.Equal(400, (int)response.StatusCode);
            Assert.Null(response.Headers.Location);
            Assert.StartsWith("text/html", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        }
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task OtherAuthorizeErrorsRedirectBackWithTheState(DatabaseProvider provider)
    {
        await using var context = await StartAsync(provider);
        using var flow = new UserFlow(context.App);
        async Task<string?> ErrorOf(string url)
        {
            var response = await flow.Http.GetAsync(url);
            Assert.Equal(302, (int)response.StatusCode);
            Assert.Equal("st", UserFlow.QueryValue(response.Headers.Location!, "state"));
            return UserFlow.QueryValue(response.Headers.Location!, "error");
        }

        var client = context.Web.ClientId;
        Assert.Equal("unsupported_response_type", await ErrorOf(UserFlow.AuthorizeUrl(client, RedirectUri, "read:dealer", "st", ("response_type", "token"))));
        Assert.Equal("invalid_scope", await ErrorOf(UserFlow.AuthorizeUrl(client, RedirectUri, "read:dealer write:all", "st")));
        Assert.Equal("invalid_request", await ErrorOf(UserFlow.AuthorizeUrl(client, RedirectUri, "read:dealer", "st", ("code_challenge", new string('a', 43)), ("code_challenge_method", "plain"))));
        Assert.Equal("invalid_request", await ErrorOf(UserFlow.AuthorizeUrl(client, RedirectUri, "read:dealer", "st", ("code_challenge", new string('a', 43)))));
        Assert.Equal("invalid_request", await ErrorOf(UserFlow.AuthorizeUrl(client, RedirectUri, "read:dealer", "st", ("audience", "https://other.example.com"))));
        Assert.Equal("login_required", await ErrorOf(UserFlow.AuthorizeUrl(client, RedirectUri, "read:dealer", "st", ("prompt", "none"))));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task APublicClientMustUsePkceS256(DatabaseProvider provider)
    {
        await using var context = await StartAsync(provider);
        var spa = await Seed.ClientAsync(context.App, context.PartnerId, "SPA", redirectUris: [RedirectUri], isPublic: true);
        using var flow = new UserFlow(context.App);

        var withoutPkce = await flow.Http.GetAsync(UserFlow.AuthorizeUrl(spa.ClientId, RedirectUri, "read:dealer"));
        Assert.Equal("invalid_request", UserFlow.QueryValue(withoutPkce.Headers.Location!, "error"));

        var verifier = Chekt.PartnerApi.Auth.Secrets.NewOpaqueValue() + "-verifier";
        var challenge = Chekt.PartnerApi.Auth.TokenIssuer.S256(verifier);
        var url = UserFlow.AuthorizeUrl(spa.ClientId, RedirectUri, "read:dealer", "s", ("code_challenge", challenge), ("code_challenge_method", "S256"));

        var code1 = UserFlow.QueryValue(await flow.AuthorizeAsync(url, Email), "code")!;
        Assert.Equal("invalid_grant", await OAuthErrorAsync(await ExchangeAsync(context.App.Client, spa, code1)));                       // verifier missing
        var code2 = UserFlow.QueryValue(await flow.AuthorizeAsync(url, Email), "code")!;
        Assert.Equal("invalid_grant", await OAuthErrorAsync(await ExchangeAsync(context.App.Client, spa, code2, verifier: verifier + "x"))); // wrong verifier
        var code3 = UserFlow.QueryValue(await flow.AuthorizeAsync(url, Email), "code")!;
        var ok = await ExchangeAsync(context.App.Client, spa, code3, verifier: verifier);
        Assert.True(ok.IsSuccessStatusCode, await ok.Content.ReadAsStringAsync());
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AVerifierForACodeIssuedWithoutAChallengeIsRefused(DatabaseProvider provider)
    {
        await using var context = await StartAsync(provider);
        using var flow = new UserFlow(context.App);
        var code = UserFlow.QueryValue(await flow.AuthorizeAsync(UserFlow.AuthorizeUrl(context.Web.ClientId, RedirectUri, "read:dealer"), Email), "code")!;
        var response = await ExchangeAsync(context.App.Client, context.Web, code, verifier: new string('v', 50));
        Assert.Equal("invalid_grant", await OAuthErrorAsync(response));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task AClientRegisteredWithPkceRequiredCannotSkipIt(DatabaseProvider provider)
    {
        await using var context = await StartAsync(provider, requirePkce: true);
        using var flow = new UserFlow(context.App);
        var response = await flow.Http.GetAsync(UserFlow.AuthorizeUrl(context.Web.ClientId, RedirectUri, "read:dealer"));
        Assert.Equal("invalid_request", UserFlow.QueryValue(response.Headers.Location!, "error"));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ACodeIsSingleUseAndItsReuseRevokesWhatItIssued(DatabaseProvider provider)
    {
        await using var context = await StartAsync(provider);
        await Seed.ConnectAsync(context.App, context.PartnerId, context.DealerId, "ext-1");
        using var flow = new UserFlow(context.App);
        var code = UserFlow.QueryValue(await flow.AuthorizeAsync(UserFlow.AuthorizeUrl(context.Web.ClientId, RedirectUri, "read:dealer offline_access"), Email), "code")!;

        var first = JsonDocument.Parse(await (await ExchangeAsync(context.App.Client, context.Web, code)).Content.ReadAsStringAsync()).RootElement;
        var accessToken = first.GetProperty("access_token").GetString()!;
        var dealerPath = $"/partner/v1/dealers/{context.DealerId}";
        Assert.Equal(200, (int)(await context.App.Client.SendAsync(Seed.Authorized(HttpMethod.Get, dealerPath, accessToken))).StatusCode);

        Assert.Equal("invalid_grant", await OAuthErrorAsync(await ExchangeAsync(context.App.Client, context.Web, code)));

        Assert.Equal(401, (int)(await context.App.Client.SendAsync(Seed.Authorized(HttpMethod.Get, dealerPath, accessToken))).StatusCode);
        var refresh = await Seed.RequestTokenAsync(context.App.Client, new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token", ["refresh_token"] = first.GetProperty("refresh_token").GetString()!,
            ["client_id"] = context.Web.ClientId, ["client_secret"] = context.Web.Secret!,
        });
        Assert.Equal("invalid_grant", await OAuthErrorAsync(refresh));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ACodeExpiresAfterFiveMinutesAndIsBoundToItsClientAndRedirectUri(DatabaseProvider provider)
    {
        await using var context = await StartAsync(provider);
        var other = await Seed.ClientAsync(context.App, context.PartnerId, "Other", redirectUris: [RedirectUri]);
        using var flow = new UserFlow(context.App);
        var url = UserFlow.AuthorizeUrl(context.Web.ClientId, RedirectUri, "read:dealer");

        var code = UserFlow.QueryValue(await flow.AuthorizeAsync(url, Email), "code")!;
        Assert.Equal("invalid_grant", await OAuthErrorAsync(await ExchangeAsync(context.App.Client, other, code)));
        Assert.Equal("invalid_grant", await OAuthErrorAsync(await ExchangeAsync(context.App.Client, context.Web, code, redirectUri: RedirectUri + "?x=1")));

        var late = UserFlow.QueryValue(await flow.AuthorizeAsync(url, Email), "code")!;
        context.App.Factory.Clock.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        Assert.Equal("invalid_grant", await OAuthErrorAsync(await ExchangeAsync(context.App.Client, context.Web, late)));
        Assert.Equal("invalid_grant", await OAuthErrorAsync(await ExchangeAsync(context.App.Client, context.Web, "made-up-code")));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task RefreshTokensRotateAndReuseRevokesTheFamily(DatabaseProvider provider)
    {
        await using var context = await StartAsync(provider);
        using var flow = new UserFlow(context.App);
        var code = UserFlow.QueryValue(await flow.AuthorizeAsync(UserFlow.AuthorizeUrl(context.Web.ClientId, RedirectUri, "read:dealer offline_access"), Email), "code")!;
        var first = JsonDocument.Parse(await (await ExchangeAsync(context.App.Client, context.Web, code)).Content.ReadAsStringAsync()).RootElement.GetProperty("refresh_token").GetString()!;

        Task<HttpResponseMessage> Refresh(string token, string? scope = null)
        {
            var form = new Dictionary<string, string>
            {
                ["grant_type"] = "refresh_token", ["refresh_token"] = token, ["client_id"] = context.Web.ClientId, ["client_secret"] = context.Web.Secret!,
            };
            if (scope is not null)
            {
                form["scope"] = scope;
            }

            return Seed.RequestTokenAsync(context.App.Client, form);
        }

        var rotated = JsonDocument.Parse(await (await Refresh(first)).Content.ReadAsStringAsync()).RootElement;
        var second = rotated.GetProperty("refresh_token").GetString()!;
        Assert.NotEqual(first, second);
        Assert.Equal("read:dealer offline_access", rotated.GetProperty("scope").GetString());

        Assert.Equal("invalid_scope", await OAuthErrorAsync(await Refresh(second, "delete:sites")));
        var third = JsonDocument.Parse(await (await Refresh(second, "read:dealer")).Content.ReadAsStringAsync()).RootElement.GetProperty("refresh_token").GetString()!;

        // The first token is presented again: it leaked, so every token of the family dies.
        Assert.Equal("invalid_grant", await OAuthErrorAsync(await Refresh(first)));
        Assert.Equal("invalid_grant", await OAuthErrorAsync(await Refresh(third)));
    }

    private static Task<HttpResponseMessage> RefreshAsync(Context context, string token, params (string Name, string Value)[] extra)
    {
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token", ["refresh_token"] = token, ["client_id"] = context.Web.ClientId, ["client_secret"] = context.Web.Secret!,
        };
        foreach (var (name, value) in extra)
        {
            form[name] = value;
        }

        return Seed.RequestTokenAsync(context.App.Client, form);
    }

    private static async Task<JsonElement> TokenBodyAsync(HttpResponseMessage response)
    {
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.True(response.IsSuccessStatusCode, body.ToString());
        return body;
    }

    private static async Task<int> GetStatusAsync(Context context, string path, string accessToken) =>
        (int)(await context.App.Client.SendAsync(Seed.Authorized(HttpMethod.Get, path, accessToken))).StatusCode;

    [Theory, OnSqlite, OnPostgres]
    public async Task RedirectUriMayBeLeftOutWhereTheClientHasOnlyOne(DatabaseProvider provider)
    {
        await using var context = await StartAsync(provider);
        using var flow = new UserFlow(context.App);
        Task<HttpResponseMessage> ExchangeWithoutRedirectUri(SeededClient client, string code) => Seed.RequestTokenAsync(context.App.Client, new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["client_id"] = client.ClientId, ["client_secret"] = client.Secret!,
        });

        // Left out at /authorize and at the token endpoint: the one registered URI is meant.
        var url = UserFlow.AuthorizeUrl(context.Web.ClientId, RedirectUri, "read:dealer");
        url = System.Text.RegularExpressions.Regex.Replace(url, "[?&]redirect_uri=[^&]*", match => match.Value[0] == '?' ? "?" : "").Replace("?&", "?", StringComparison.Ordinal);
        Assert.DoesNotContain("redirect_uri", url, StringComparison.Ordinal);
        var code = UserFlow.QueryValue(await flow.AuthorizeAsync(url, Email), "code")!;
        Assert.True((await ExchangeWithoutRedirectUri(context.Web, code)).IsSuccessStatusCode);

        // A client with two URIs must say which one its code was issued for.
        var two = await Seed.ClientAsync(context.App, context.PartnerId, "Two URIs", redirectUris: [RedirectUri, RedirectUri + "/other"]);
        var twoCode = UserFlow.QueryValue(await flow.AuthorizeAsync(UserFlow.AuthorizeUrl(two.ClientId, RedirectUri, "read:dealer"), Email), "code")!;
        Assert.Equal("invalid_request", await OAuthErrorAsync(await ExchangeWithoutRedirectUri(two, twoCode)));
        Assert.True((await ExchangeAsync(context.App.Client, two, twoCode)).IsSuccessStatusCode);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ThePartnerClaimNarrowsUserTokensFromTheCodeAndEveryRefresh(DatabaseProvider provider)
    {
        await using var context = await StartAsync(provider);
        await Seed.ConnectAsync(context.App, context.PartnerId, context.DealerId, "ext-1");
        var otherDealer = await Seed.DealerAsync(context.App);
        await Seed.ConnectAsync(context.App, context.PartnerId, otherDealer, "ext-2");
        var claimName = context.App.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Chekt.PartnerApi.Auth.AuthOptions>>().Value.PartnerClaimName;
        var dealerPath = $"/partner/v1/dealers/{context.DealerId}";
        using var flow = new UserFlow(context.App);
        var url = UserFlow.AuthorizeUrl(context.Web.ClientId, RedirectUri, "read:dealer offline_access");

        // A malformed claim or another audience is refused, and the code stays good for a correct request.
        var code = UserFlow.QueryValue(await flow.AuthorizeAsync(url, Email), "code")!;
        Task<HttpResponseMessage> Exchange(params (string Name, string Value)[] extra)
        {
            var form = new Dictionary<string, string>
            {
                ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = RedirectUri,
                ["client_id"] = context.Web.ClientId, ["client_secret"] = context.Web.Secret!,
            };
            foreach (var (name, value) in extra)
            {
                form[name] = value;
            }

            return Seed.RequestTokenAsync(context.App.Client, form);
        }

        Assert.Equal("invalid_request", await OAuthErrorAsync(await Exchange((claimName, "not json"))));
        Assert.Equal("invalid_request", await OAuthErrorAsync(await Exchange(("audience", "https://elsewhere.example.com"))));

        // Narrowed to the other dealer, the token cannot read the user's own.
        var narrowed = await TokenBodyAsync(await Exchange((claimName, $"{{\"dealer_id\":\"{otherDealer}\"}}")));
        var access = new JsonWebToken(narrowed.GetProperty("access_token").GetString());
        Assert.Equal(otherDealer, access.GetPayloadValue<JsonElement>(claimName).GetProperty("dealer_id").GetString() is { } id ? long.Parse(id, System.Globalization.CultureInfo.InvariantCulture) : 0);
        Assert.Equal(403, await GetStatusAsync(context, dealerPath, access.EncodedToken));

        // A refresh keeps the family's claim; it may narrow it further but never widen or move it.
        var refreshToken = narrowed.GetProperty("refresh_token").GetString()!;
        Assert.Equal("invalid_request", await OAuthErrorAsync(await RefreshAsync(context, refreshToken, (claimName, $"{{\"dealer_id\":{context.DealerId}}}"))));
        Assert.Equal("invalid_request", await OAuthErrorAsync(await RefreshAsync(context, refreshToken, ("audience", "https://elsewhere.example.com"))));
        var refreshed = await TokenBodyAsync(await RefreshAsync(context, refreshToken));
        Assert.Equal(403, await GetStatusAsync(context, dealerPath, refreshed.GetProperty("access_token").GetString()!));
        var siteNarrowed = await TokenBodyAsync(await RefreshAsync(context, refreshed.GetProperty("refresh_token").GetString()!,
            (claimName, $"{{\"dealer_id\":{otherDealer},\"site_id\":7}}")));
        var siteClaim = new JsonWebToken(siteNarrowed.GetProperty("access_token").GetString()).GetPayloadValue<JsonElement>(claimName);
        Assert.Equal(7, siteClaim.GetProperty("site_id").GetInt64());

        // The rotated refresh token still carries the family's dealer-wide claim, not the site one asked for once.
        var again = await TokenBodyAsync(await RefreshAsync(context, siteNarrowed.GetProperty("refresh_token").GetString()!));
        var familyClaim = new JsonWebToken(again.GetProperty("access_token").GetString()).GetPayloadValue<JsonElement>(claimName);
        Assert.False(familyClaim.TryGetProperty("site_id", out _));

        // Without a claim, the user's token reads the user's dealer.
        var plain = UserFlow.QueryValue(await flow.AuthorizeAsync(url, Email), "code")!;
        var wide = await TokenBodyAsync(await ExchangeAsync(context.App.Client, context.Web, plain));
        Assert.Equal(200, await GetStatusAsync(context, dealerPath, wide.GetProperty("access_token").GetString()!));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task ReusingARefreshTokenRevokesEveryAccessTokenItsFamilyIssued(DatabaseProvider provider)
    {
        await using var context = await StartAsync(provider);
        await Seed.ConnectAsync(context.App, context.PartnerId, context.DealerId, "ext-1");
        var dealerPath = $"/partner/v1/dealers/{context.DealerId}";
        using var flow = new UserFlow(context.App);
        var url = UserFlow.AuthorizeUrl(context.Web.ClientId, RedirectUri, "read:dealer offline_access");

        var fromCode = await TokenBodyAsync(await ExchangeAsync(context.App.Client, context.Web, UserFlow.QueryValue(await flow.AuthorizeAsync(url, Email), "code")!));
        var first = await TokenBodyAsync(await RefreshAsync(context, fromCode.GetProperty("refresh_token").GetString()!));
        var second = await TokenBodyAsync(await RefreshAsync(context, first.GetProperty("refresh_token").GetString()!));
        var accessTokens = new[] { fromCode, first, second }.Select(body => body.GetProperty("access_token").GetString()!).ToList();
        foreach (var token in accessTokens)
        {
            Assert.Equal(200, await GetStatusAsync(context, dealerPath, token));
        }

        // Another family of the same user and client is not touched.
        var other = await TokenBodyAsync(await ExchangeAsync(context.App.Client, context.Web, UserFlow.QueryValue(await flow.AuthorizeAsync(url, Email), "code")!));

        Assert.Equal("invalid_grant", await OAuthErrorAsync(await RefreshAsync(context, fromCode.GetProperty("refresh_token").GetString()!)));
        foreach (var token in accessTokens)
        {
            Assert.Equal(401, await GetStatusAsync(context, dealerPath, token));
        }

        Assert.Equal(200, await GetStatusAsync(context, dealerPath, other.GetProperty("access_token").GetString()!));
        Assert.True((await RefreshAsync(context, other.GetProperty("refresh_token").GetString()!)).IsSuccessStatusCode);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task RevocationEndsARefreshTokenFamilyAndAlwaysAnswers200(DatabaseProvider provider)
    {
        await using var context = await StartAsync(provider);
        using var flow = new UserFlow(context.App);
        var code = UserFlow.QueryValue(await flow.AuthorizeAsync(UserFlow.AuthorizeUrl(context.Web.ClientId, RedirectUri, "read:dealer offline_access"), Email), "code")!;
        var refresh = JsonDocument.Parse(await (await ExchangeAsync(context.App.Client, context.Web, code)).Content.ReadAsStringAsync()).RootElement.GetProperty("refresh_token").GetString()!;

        Task<HttpResponseMessage> Revoke(string token, string? secret) => context.App.Client.PostAsync("/oauth/revoke", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["token"] = token, ["token_type_hint"] = "refresh_token", ["client_id"] = context.Web.ClientId, ["client_secret"] = secret ?? "",
        }));

        Assert.Equal("invalid_client", await OAuthErrorAsync(await Revoke(refresh, "wrong")));
        Assert.Equal(200, (int)(await Revoke("not-a-token", context.Web.Secret)).StatusCode);
        Assert.Equal(200, (int)(await Revoke(refresh, context.Web.Secret)).StatusCode);
        var after = await Seed.RequestTokenAsync(context.App.Client, new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token", ["refresh_token"] = refresh, ["client_id"] = context.Web.ClientId, ["client_secret"] = context.Web.Secret!,
        });
        Assert.Equal("invalid_grant", await OAuthErrorAsync(after));
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task LogoutRedirectsOnlyToARegisteredUrl(DatabaseProvider provider)
    {
        await using var context = await StartAsync(provider);
        using var flow = new UserFlow(context.App);
        await flow.AuthorizeAsync(UserFlow.AuthorizeUrl(context.Web.ClientId, RedirectUri, "read:dealer"), Email);

        var registered = await flow.Http.GetAsync($"/v2/logout?client_id={context.Web.ClientId}&returnTo={Uri.EscapeDataString(LogoutUrl)}");
        Assert.Equal(302, (int)registered.StatusCode);
        Assert.Equal(LogoutUrl, registered.Headers.Location!.ToString());
        Assert.Contains(registered.Headers.GetValues("Set-Cookie"), c => c.StartsWith("chekt_session=;", StringComparison.Ordinal));

        // Signed out: the authorization request shows the login page again.
        var again = await flow.Http.GetAsync(UserFlow.AuthorizeUrl(context.Web.ClientId, RedirectUri, "read:dealer"));
        Assert.Contains("name=\"password\"", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        foreach (var url in new[]
        {
            $"/v2/logout?client_id={context.Web.ClientId}&returnTo={Uri.EscapeDataString("https://evil.example.com/")}",
            $"/oauth/logout?returnTo={Uri.EscapeDataString(LogoutUrl)}",
            $"/oauth/logout?client_id=nope&post_logout_redirect_uri={Uri.EscapeDataString(LogoutUrl)}",
        })
        {
            var refused = await flow.Http.GetAsync(url);
            Assert.Equal(400, (int)refused.StatusCode);
            Assert.Null(refused.Headers.Location);
        }

        Assert.Equal(200, (int)(await flow.Http.GetAsync("/oauth/logout")).StatusCode);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task PagesCarrySecurityHeadersAndTheSessionCookieIsLockedDown(DatabaseProvider provider)
    {
        await using var context = await StartAsync(provider);
        using var flow = new UserFlow(context.App, "https://localhost");
        var url = UserFlow.AuthorizeUrl(context.Web.ClientId, RedirectUri, "read:dealer");
        var login = await flow.Http.GetAsync(url);
        var html = await login.Content.ReadAsStringAsync();

        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("script-src 'none'", login.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", login.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Equal("DENY", login.Headers.GetValues("X-Frame-Options").Single());
        Assert.Contains("name=\"__RequestVerificationToken\"", html, StringComparison.Ordinal);

        var signedIn = await flow.SubmitAsync(login, ("email", Email), ("password", Seed.Password));
        var cookie = signedIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("chekt_session=", StringComparison.Ordinal)).ToLowerInvariant();
        Assert.Contains("httponly", cookie, StringComparison.Ordinal);
        Assert.Contains("samesite=lax", cookie, StringComparison.Ordinal);
        Assert.Contains("secure", cookie, StringComparison.Ordinal);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task APostWithoutTheAntiforgeryTokenIsRefused(DatabaseProvider provider)
    {
        await using var context = await StartAsync(provider);
        using var flow = new UserFlow(context.App);
        var response = await flow.Http.PostAsync("/authorize", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["response_type"] = "code", ["client_id"] = context.Web.ClientId, ["redirect_uri"] = RedirectUri, ["scope"] = "read:dealer",
            ["email"] = Email, ["password"] = Seed.Password,
        }));
        Assert.Equal(400, (int)response.StatusCode);
        Assert.Null(response.Headers.Location);
    }

    [Theory, OnSqlite, OnPostgres]
    public async Task TheOAuthPrefixedAuthorizeEndpointWorksToo(DatabaseProvider provider)
    {
        await using var context = await StartAsync(provider);
        using var flow = new UserFlow(context.App);
        var url = UserFlow.AuthorizeUrl(context.Web.ClientId, RedirectUri, "read:dealer").Replace("/authorize?", "/oauth/authorize?", StringComparison.Ordinal);
        var redirect = await flow.AuthorizeAsync(url, Email);
        Assert.NotNull(UserFlow.QueryValue(redirect, "code"));
    }
}
