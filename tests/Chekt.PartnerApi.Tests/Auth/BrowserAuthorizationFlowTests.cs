using System.Globalization;
using System.Text.Json;
using Chekt.PartnerApi.Auth;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.Playwright;

namespace Chekt.PartnerApi.Tests.Auth;

/// <summary>
/// The authorization code flow (RFC 6749 §4.1) in a real headless Chromium against the server on a
/// real socket: the login and consent pages as a browser renders and submits them (its cookie rules,
/// the pages' Content-Security-Policy, form encoding) and the redirect back to the client. The
/// protocol details are covered over HTTP, on both databases, elsewhere; SQLite is enough here.
/// </summary>
public sealed class BrowserAuthorizationFlowTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    // The client's web site is another origin, as in real life; the browser never reaches the network
    // for it: the test answers those requests itself (request routing), and aborts any other.
    private const string ClientOrigin = "https://client.example.test";
    private const string RedirectUri = ClientOrigin + "/callback";
    private const string PartnerName = "Acme Monitoring";
    private const string ClientName = "Acme Dispatch";
    private const string Email = "dana@dealer.example.com";
    private const string GenericSignInError =
        "Sign-in failed. Check your email and password. After 5 failed attempts, sign-in is paused for 15 minutes.";

    private sealed class Scenario(TestApp app, SeededClient client, long userId, BrowserSession browser) : IAsyncDisposable
    {
        public TestApp App => app;

        public SeededClient Client => client;

        public long UserId => userId;

        public BrowserSession Browser => browser;

        public IPage Page => browser.Page;

        /// <summary>The server's origin with a trailing slash, e.g. <c>http://127.0.0.1:40123/</c>.</summary>
        public string ServerOrigin => app.BaseAddress.GetLeftPart(UriPartial.Authority) + "/";

        public string AuthorizeUrl(string scope = "read:dealer", string? state = "xyz", string? clientId = null, string redirectUri = RedirectUri) =>
            UserFlow.AuthorizeUrl(clientId ?? client.ClientId, redirectUri, scope, state);

        public async ValueTask DisposeAsync()
        {
            await browser.DisposeAsync();
            await app.DisposeAsync();
        }
    }

    private async Task<Scenario> StartAsync()
    {
        var app = await TestApp.StartOnKestrelAsync(DatabaseProvider.Sqlite);
        BrowserSession? browser = null;
        try
        {
            Assert.Equal(Uri.UriSchemeHttp, app.BaseAddress.Scheme);
            Assert.NotEqual(0, app.BaseAddress.Port);
            var partner = await Seed.PartnerAsync(app, PartnerName);
            var client = await Seed.ClientAsync(app, partner, ClientName, redirectUris: [RedirectUri]);
            var dealer = await Seed.DealerAsync(app);
            var userId = await Seed.UserAsync(app, dealer, Email);

            browser = await chromium.NewSessionAsync(app.BaseAddress);
            var scenario = new Scenario(app, client, userId, browser);
            var serverOrigin = scenario.ServerOrigin;
            await browser.Context.RouteAsync(url => !url.StartsWith(serverOrigin, StringComparison.Ordinal), async route =>
            {
                if (route.Request.Url.StartsWith(ClientOrigin + "/", StringComparison.Ordinal))
                {
                    await route.FulfillAsync(new RouteFulfillOptions
                    {
                        Status = 200,
                        ContentType = "text/html; charset=utf-8",
                        Body = "<!doctype html><html><head><title>Client</title></head><body><h1>Client callback</h1></body></html>",
                    });
                }
                else
                {
                    await route.AbortAsync("blockedbyclient");
                }
            });
            return scenario;
        }
        catch
        {
            if (browser is not null)
            {
                await browser.DisposeAsync();
            }

            await app.DisposeAsync();
            throw;
        }
    }

    private static async Task SignInAsync(BrowserSession browser, string password)
    {
        var page = browser.Page;
        await page.GetByLabel("Email", new PageGetByLabelOptions { Exact = true }).FillAsync(Email);
        await page.GetByLabel("Password", new PageGetByLabelOptions { Exact = true }).FillAsync(password);
        await browser.SubmitAsync(page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Sign in", Exact = true }));
    }

    private static async Task AssertOnConsentPageAsync(IPage page)
    {
        await page.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = "Allow access?" }).WaitForAsync();
        Assert.Equal(1, await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Allow", Exact = true }).CountAsync());
        Assert.Equal(1, await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Deny", Exact = true }).CountAsync());
    }

    /// <summary>Asserts the browser shows the login page again, on the server, with the one generic error.</summary>
    private static async Task AssertBackOnLoginPageWithTheGenericErrorAsync(Scenario scenario)
    {
        var page = scenario.Page;
        Assert.StartsWith(scenario.ServerOrigin + "authorize", page.Url, StringComparison.Ordinal);
        await page.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = "Sign in" }).WaitForAsync();
        var alert = page.GetByRole(AriaRole.Alert);
        Assert.Equal(1, await alert.CountAsync());
        Assert.Equal("error", await alert.GetAttributeAsync("class"));
        Assert.Equal(GenericSignInError, (await alert.InnerTextAsync()).Trim());
        Assert.Equal(Email, await page.GetByLabel("Email", new PageGetByLabelOptions { Exact = true }).InputValueAsync());
        Assert.Equal("", await page.GetByLabel("Password", new PageGetByLabelOptions { Exact = true }).InputValueAsync());
        Assert.Equal(0, await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Allow", Exact = true }).CountAsync());
        Assert.DoesNotContain(scenario.Browser.Requests, url => url.StartsWith(ClientOrigin, StringComparison.Ordinal));
        Assert.DoesNotContain(await scenario.Browser.Context.CookiesAsync(), cookie => cookie.Name == LoginSession.CookieName);
    }

    /// <summary>Waits until the browser has landed on the client's redirect URI and returns where exactly.</summary>
    private static async Task<Uri> WaitForCallbackAsync(IPage page)
    {
        try
        {
            await page.WaitForURLAsync(url => url.StartsWith(RedirectUri + "?", StringComparison.Ordinal),
                new PageWaitForURLOptions { Timeout = (float)Chromium.StepTimeout.TotalMilliseconds });
        }
        catch (TimeoutException exception)
        {
            var text = await page.Locator("body").InnerTextAsync(new LocatorInnerTextOptions { Timeout = 1000 });
            throw new TimeoutException($"The browser did not land on {RedirectUri}; it is at {page.Url} showing: {text}", exception);
        }

        await page.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = "Client callback" }).WaitForAsync();
        return new Uri(page.Url);
    }

    private static Dictionary<string, string> CodeExchange(SeededClient client, string code) => new()
    {
        ["grant_type"] = "authorization_code",
        ["code"] = code,
        ["redirect_uri"] = RedirectUri,
        ["client_id"] = client.ClientId,
        ["client_secret"] = client.Secret!,
    };

    [ChromiumTheory]
    [InlineData("openid offline_access read:dealer read:sites")]
    [InlineData("read:dealer")]
    public async Task SigningInAndAllowingLandsOnTheRedirectUriWithACodeAndTheStateThatTheClientExchangesForTokens(string scope)
    {
        await using var scenario = await StartAsync();
        var page = scenario.Page;
        // The state must come back exactly, however it has to be encoded on the way.
        const string state = "s+t/a te=1&ü?#x";

        var login = await page.GotoAsync(scenario.AuthorizeUrl(scope, state));
        Assert.Equal(200, login!.Status);
        await page.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = "Sign in" }).WaitForAsync();
        var loginLead = await page.Locator("p.lead").InnerTextAsync();
        Assert.Contains(ClientName, loginLead, StringComparison.Ordinal);
        Assert.Contains(PartnerName, loginLead, StringComparison.Ordinal);

        await SignInAsync(scenario.Browser, Seed.Password);

        await AssertOnConsentPageAsync(page);
        Assert.StartsWith(scenario.ServerOrigin + "authorize?", page.Url, StringComparison.Ordinal);
        var consentLead = await page.Locator("p.lead").InnerTextAsync();
        Assert.Contains(ClientName, consentLead, StringComparison.Ordinal);
        Assert.Contains(PartnerName, consentLead, StringComparison.Ordinal);
        Assert.Contains(Email, consentLead, StringComparison.Ordinal);
        var requested = scope.Split(' ');
        Assert.Equal(requested, await page.Locator("ul.scopes li code").AllInnerTextsAsync());
        Assert.Contains("Read your dealer's company details", await page.Locator("ul.scopes").InnerTextAsync(), StringComparison.Ordinal);

        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Allow", Exact = true }).ClickAsync();
        var callback = await WaitForCallbackAsync(page);

        var code = UserFlow.QueryValue(callback, "code");
        Assert.False(string.IsNullOrEmpty(code), callback.ToString());
        Assert.Equal(state, UserFlow.QueryValue(callback, "state"));
        Assert.Null(UserFlow.QueryValue(callback, "error"));
        // Nothing (stylesheet, form post) was refused under the pages' Content-Security-Policy.
        Assert.Empty(scenario.Browser.ConsoleErrors);

        var response = await Seed.RequestTokenAsync(scenario.App.Client, CodeExchange(scenario.Client, code));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        var body = JsonDocument.Parse(text).RootElement;
        Assert.Equal("Bearer", body.GetProperty("token_type").GetString());

        var accessToken = new JsonWebToken(body.GetProperty("access_token").GetString());
        Assert.Equal(scenario.Client.ClientId, accessToken.GetPayloadValue<string>("azp"));
        Assert.Contains("read:dealer", accessToken.GetPayloadValue<string>("scope").Split(' '));

        var wantsRefresh = requested.Contains(Scopes.OfflineAccess);
        Assert.Equal(wantsRefresh, body.TryGetProperty("refresh_token", out var refresh));
        if (wantsRefresh)
        {
            Assert.False(string.IsNullOrEmpty(refresh.GetString()));
        }

        var wantsIdToken = requested.Contains(Scopes.OpenId);
        Assert.Equal(wantsIdToken, body.TryGetProperty("id_token", out var id));
        if (wantsIdToken)
        {
            var idToken = new JsonWebToken(id.GetString());
            Assert.Equal(scenario.UserId.ToString(CultureInfo.InvariantCulture), idToken.Subject);
            Assert.Equal([scenario.Client.ClientId], idToken.Audiences);
        }

        // The code was for one use only.
        var replay = await Seed.RequestTokenAsync(scenario.App.Client, CodeExchange(scenario.Client, code));
        Assert.Equal(400, (int)replay.StatusCode);
    }

    [ChromiumFact]
    public async Task DenyingLandsOnTheRedirectUriWithAccessDeniedAndTheStateAndNoCode()
    {
        await using var scenario = await StartAsync();
        var page = scenario.Page;

        await page.GotoAsync(scenario.AuthorizeUrl(state: "deny-state-42"));
        await SignInAsync(scenario.Browser, Seed.Password);
        await AssertOnConsentPageAsync(page);
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Deny", Exact = true }).ClickAsync();
        var callback = await WaitForCallbackAsync(page);

        Assert.Equal("access_denied", UserFlow.QueryValue(callback, "error"));
        Assert.Equal("deny-state-42", UserFlow.QueryValue(callback, "state"));
        Assert.Null(UserFlow.QueryValue(callback, "code"));
        Assert.Empty(scenario.Browser.ConsoleErrors);
    }

    [ChromiumFact]
    public async Task AWrongPasswordShowsTheLoginPageAgainWithAGenericErrorAndNeverRedirects()
    {
        await using var scenario = await StartAsync();
        var page = scenario.Page;

        await page.GotoAsync(scenario.AuthorizeUrl());
        Assert.Equal(0, await page.GetByRole(AriaRole.Alert).CountAsync());
        await SignInAsync(scenario.Browser, "not the password");

        await AssertBackOnLoginPageWithTheGenericErrorAsync(scenario);
    }

    [ChromiumFact]
    public async Task AfterFiveWrongPasswordsTheRightOneFailsWithTheSameMessageUntilTheLockoutEnds()
    {
        await using var scenario = await StartAsync();
        var page = scenario.Page;
        await page.GotoAsync(scenario.AuthorizeUrl());

        for (var attempt = 1; attempt <= DealerUserStore.MaxFailedSignIns; attempt++)
        {
            await SignInAsync(scenario.Browser, $"wrong password {attempt}");
            await AssertBackOnLoginPageWithTheGenericErrorAsync(scenario);
        }

        await SignInAsync(scenario.Browser, Seed.Password);
        await AssertBackOnLoginPageWithTheGenericErrorAsync(scenario);

        // Once the pause is over, the right password works again (so it was the lockout that refused it).
        scenario.App.Factory.Clock.Advance(DealerUserStore.LockoutDuration + TimeSpan.FromSeconds(1));
        await SignInAsync(scenario.Browser, Seed.Password);
        await AssertOnConsentPageAsync(page);
    }

    [ChromiumTheory]
    [InlineData(null, "https://attacker.example.test/callback", "The redirect_uri is not registered for this client.")]
    [InlineData(null, ClientOrigin + "/callback/other", "The redirect_uri is not registered for this client.")]
    [InlineData("no-such-client", RedirectUri, "Unknown client_id.")]
    public async Task AnUnregisteredRedirectUriOrUnknownClientShowsAnErrorPageAndTheBrowserNeverLeavesTheServer(
        string? clientId, string redirectUri, string message)
    {
        await using var scenario = await StartAsync();
        var page = scenario.Page;

        var response = await page.GotoAsync(scenario.AuthorizeUrl(state: "s1", clientId: clientId, redirectUri: redirectUri));

        Assert.Equal(400, response!.Status);
        await page.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = "This request cannot be completed" }).WaitForAsync();
        Assert.Equal(message, (await page.GetByRole(AriaRole.Alert).InnerTextAsync()).Trim());
        Assert.Equal(0, await page.Locator("form, a[href]").CountAsync());
        Assert.StartsWith(scenario.ServerOrigin + "authorize?", page.Url, StringComparison.Ordinal);
        Assert.NotEmpty(scenario.Browser.Requests);
        Assert.All(scenario.Browser.Requests, url => Assert.StartsWith(scenario.ServerOrigin, url, StringComparison.Ordinal));
    }

    [ChromiumFact]
    public async Task TheLoginAndConsentPagesHaveNoScriptAndAStrictContentSecurityPolicyAndCannotBeFramed()
    {
        await using var scenario = await StartAsync();
        var page = scenario.Page;

        var login = await page.GotoAsync(scenario.AuthorizeUrl());
        await AssertLockedDownAsync(page, login!);

        var consent = await page.RunAndWaitForResponseAsync(
            () => SignInAsync(scenario.Browser, Seed.Password),
            r => r.Request.Method == "GET" && r.Url.StartsWith(scenario.ServerOrigin + "authorize?", StringComparison.Ordinal));
        await AssertOnConsentPageAsync(page);
        await AssertLockedDownAsync(page, consent);
        Assert.Empty(scenario.Browser.ConsoleErrors);
    }

    private static async Task AssertLockedDownAsync(IPage page, IResponse response)
    {
        Assert.Equal(200, response.Status);
        Assert.Equal(0, await page.Locator("script").CountAsync());
        var headers = await response.AllHeadersAsync();
        var csp = headers["content-security-policy"];
        var directives = csp.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("script-src 'none'", directives);
        Assert.Contains("default-src 'none'", directives);
        Assert.Contains("frame-ancestors 'none'", directives);
        // Forms post only to the server, and its answer may redirect to the client's registered origin.
        // (Checked on the header: Chromium 156 does not apply form-action to a form post's redirects.)
        Assert.Contains($"form-action 'self' {ClientOrigin}", directives);
        Assert.Equal("DENY", headers["x-frame-options"]);
        Assert.Equal("nosniff", headers["x-content-type-options"]);
        Assert.Contains("no-store", headers["cache-control"], StringComparison.Ordinal);
    }
}
