using System.Text.RegularExpressions;
using System.Web;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Chekt.PartnerApi.Tests.Infrastructure;

/// <summary>
/// Drives the login and consent pages over HTTP as a browser would (cookies kept, redirects not
/// followed), for tests that are about the protocol rather than the page. The pages themselves are
/// also exercised in Chromium.
/// </summary>
public sealed partial class UserFlow : IDisposable
{
    public UserFlow(TestApp app, string baseAddress = "http://localhost")
    {
        Http = app.Factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true, BaseAddress = new Uri(baseAddress) });
    }

    public HttpClient Http { get; }

    public static string AuthorizeUrl(string clientId, string redirectUri, string scope, string? state = "xyz", params (string Name, string Value)[] extra)
    {
        var query = HttpUtility.ParseQueryString("");
        query["response_type"] = "code";
        query["client_id"] = clientId;
        query["redirect_uri"] = redirectUri;
        query["scope"] = scope;
        if (state is not null)
        {
            query["state"] = state;
        }

        foreach (var (name, value) in extra)
        {
            query[name] = value;
        }

        return "/authorize?" + query;
    }

    /// <summary>Submits the form on <paramref name="page"/> with its hidden fields plus <paramref name="fields"/>.</summary>
    public async Task<HttpResponseMessage> SubmitAsync(HttpResponseMessage page, params (string Name, string Value)[] fields)
    {
        var html = await page.Content.ReadAsStringAsync();
        var action = HttpUtility.HtmlDecode(FormAction().Match(html).Groups[1].Value);
        var values = HiddenInput().Matches(html).Select(m => new KeyValuePair<string, string>(HttpUtility.HtmlDecode(m.Groups[1].Value), HttpUtility.HtmlDecode(m.Groups[2].Value))).ToList();
        values.AddRange(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)));
        return await Http.PostAsync(action, new FormUrlEncodedContent(values));
    }

    /// <summary>Signs in and allows; returns the redirect (to the client) with the code or error.</summary>
    public async Task<Uri> AuthorizeAsync(string authorizeUrl, string email, string password = Seed.Password, string decision = "allow")
    {
        var login = await Http.GetAsync(authorizeUrl);
        Assert.Equal(200, (int)login.StatusCode);
        var afterLogin = await SubmitAsync(login, ("email", email), ("password", password));
        Assert.Equal(302, (int)afterLogin.StatusCode);
        var consent = await Http.GetAsync(afterLogin.Headers.Location);
        Assert.Contains("name=\"decision\"", await consent.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var answer = await SubmitAsync(consent, ("decision", decision));
        Assert.Equal(302, (int)answer.StatusCode);
        return answer.Headers.Location!;
    }

    public static string? QueryValue(Uri uri, string name) => HttpUtility.ParseQueryString(uri.Query)[name];

    public void Dispose() => Http.Dispose();

    [GeneratedRegex("<form method=\"post\" action=\"([^\"]*)\"")]
    private static partial Regex FormAction();

    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]*)\" value=\"([^\"]*)\">")]
    private static partial Regex HiddenInput();
}
