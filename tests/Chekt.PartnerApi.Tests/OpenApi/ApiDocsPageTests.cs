using System.Net;
using Chekt.PartnerApi.Data;
using Chekt.PartnerApi.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Playwright;

namespace Chekt.PartnerApi.Tests.OpenApi;

/// <summary>
/// The browsable docs at <c>/docs</c> (spec §8): Swagger UI served by the server itself (no CDN, no
/// online validator) rendering <c>/openapi/v1.json</c>, without a token, under the server's middleware.
/// </summary>
public sealed class ApiDocsPageTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task DocsAndDocumentAreServedWithoutATokenFromTheServerItself()
    {
        await using var app = await TestApp.StartAsync(DatabaseProvider.Sqlite);
        using var document = await app.Client.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, document.StatusCode);
        Assert.Equal("application/json", document.Content.Headers.ContentType?.MediaType);
        Assert.Single(document.Headers.GetValues("x-partner-trace-id"));

        using var noRedirects = app.Factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        using var docs = await noRedirects.GetAsync("/docs");
        Assert.True((int)docs.StatusCode is >= 300 and < 400, $"/docs: {(int)docs.StatusCode}");
        var index = new Uri(new Uri(app.BaseAddress, "/docs"), docs.Headers.Location!);
        Assert.Equal("/docs/index.html", index.AbsolutePath);

        using var page = await app.Client.GetAsync(index);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<title>CHeKT Partner API</title>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal); // every asset is relative: served here

        var script = await app.Client.GetStringAsync("/docs/index.js");
        Assert.Contains("\"url\":\"/openapi/v1.json\"", script, StringComparison.Ordinal);
        Assert.DoesNotContain("validatorUrl\":", script, StringComparison.Ordinal);
        foreach (var asset in new[] { "/docs/swagger-ui-bundle.js", "/docs/swagger-ui-standalone-preset.js", "/docs/swagger-ui.css" })
        {
            using var response = await app.Client.GetAsync(asset);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{asset}: {(int)response.StatusCode}");
        }
    }

    [ChromiumFact]
    public async Task DocsPageRendersTheOperationsInChromiumWithoutConsoleErrors()
    {
        await using var app = await TestApp.StartOnKestrelAsync(DatabaseProvider.Sqlite);
        await using var browser = await chromium.NewSessionAsync(app.BaseAddress);
        var origin = app.BaseAddress.GetLeftPart(UriPartial.Authority) + "/";
        // Nothing may come from elsewhere (CDN, validator): such requests are refused and would show as errors.
        await browser.Context.RouteAsync(url => !url.StartsWith(origin, StringComparison.Ordinal), route => route.AbortAsync());

        var response = await browser.Page.GotoAsync("/docs");
        Assert.Equal(200, response!.Status);
        Assert.EndsWith("/docs/index.html", browser.Page.Url, StringComparison.Ordinal);
        await Assertions.Expect(browser.Page.Locator(".information-container .title")).ToContainTextAsync("CHeKT Partner API");

        foreach (var tag in new[] { "Dealers", "Sites", "Contacts", "MonitoringStations", "Devices" })
        {
            await Assertions.Expect(browser.Page.Locator($"#operations-tag-{tag}")).ToBeVisibleAsync();
        }

        foreach (var (tag, operationId) in new[]
        {
            ("Dealers", "ConnectDealer"), ("Dealers", "GetDealer"), ("Sites", "CreateSite"), ("Sites", "ListSites"),
            ("Contacts", "CreateContact"), ("Contacts", "ListContacts"), ("Contacts", "DeleteContact"),
        })
        {
            var operation = browser.Page.Locator($"#operations-{tag}-{operationId}");
            await Assertions.Expect(operation).ToBeVisibleAsync();
            await Assertions.Expect(operation.Locator(".opblock-summary-operation-id")).ToHaveTextAsync(operationId);
        }

        // Opening an operation shows its parameters and the error answers.
        await browser.Page.Locator("#operations-Contacts-CreateContact .opblock-summary").First.ClickAsync();
        var opened = browser.Page.Locator("#operations-Contacts-CreateContact");
        await Assertions.Expect(opened.Locator("text=x-partner-trace-id").First).ToBeVisibleAsync();
        await Assertions.Expect(opened.Locator(".response[data-code='409']")).ToBeVisibleAsync();

        Assert.Empty(browser.ConsoleErrors);
        Assert.All(browser.Requests, url => Assert.StartsWith(origin, url, StringComparison.Ordinal));
        Assert.Contains(browser.Requests, url => url == origin + "openapi/v1.json");
    }
}
