using System.Collections.Concurrent;
using Microsoft.Playwright;

namespace Chekt.PartnerApi.Tests.Infrastructure;

/// <summary>
/// The system's Chromium (Debian package <c>chromium</c>, <c>/usr/bin/chromium</c>), driven by
/// Playwright. Playwright's own browser downloads are never used; <c>PARTNER_TEST_CHROMIUM</c> may
/// point at another Chromium binary.
/// </summary>
public static class Chromium
{
    public static string ExecutablePath { get; } =
        Environment.GetEnvironmentVariable("PARTNER_TEST_CHROMIUM") is { Length: > 0 } configured ? configured : "/usr/bin/chromium";

    /// <summary>Headless in a container, as root, with nothing talking to the network besides the pages.</summary>
    public static IReadOnlyList<string> Args { get; } =
    [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
    ];

    /// <summary>How long one browser step (navigation, click, wait) may take before the test fails.</summary>
    public static TimeSpan StepTimeout { get; } = TimeSpan.FromSeconds(20);

    /// <summary>Under CI (or when asked) the browser tests must run: they fail instead of being skipped.</summary>
    public static bool Required =>
        string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase)
        || Environment.GetEnvironmentVariable("PARTNER_TESTS_REQUIRE_BROWSER") is "1" or "true";

    public static bool IsInstalled => File.Exists(ExecutablePath);

    public static string? SkipReason =>
        Required || IsInstalled ? null : $"Chromium is not installed here ({ExecutablePath} not found); install the chromium package.";
}

/// <summary>A fact that runs in Chromium; skipped, with the reason, when Chromium is not installed, except under CI.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute() => Skip = Chromium.SkipReason!;
}

/// <summary>A theory that runs in Chromium; skipped like <see cref="ChromiumFactAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ChromiumTheoryAttribute : TheoryAttribute
{
    public ChromiumTheoryAttribute() => Skip = Chromium.SkipReason!;
}

/// <summary>
/// One Chromium process for a test class (launched on first use, so skipped tests never start it);
/// every test gets a fresh context of its own (no cookies or cache shared between tests).
/// </summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>A new context and page whose relative URLs resolve against <paramref name="baseAddress"/>.</summary>
    public async Task<BrowserSession> NewSessionAsync(Uri baseAddress)
    {
        var browser = await GetBrowserAsync();
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseAddress.ToString(), Locale = "en-US" });
        context.SetDefaultTimeout((float)Chromium.StepTimeout.TotalMilliseconds);
        context.SetDefaultNavigationTimeout((float)Chromium.StepTimeout.TotalMilliseconds);
        return await BrowserSession.CreateAsync(context);
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
        _gate.Dispose();
    }

    private async Task<IBrowser> GetBrowserAsync()
    {
        await _gate.WaitAsync();
        try
        {
            if (_browser is not null)
            {
                return _browser;
            }

            if (!Chromium.IsInstalled)
            {
                throw new InvalidOperationException(
                    $"Browser tests are required here (CI) but Chromium is not installed ({Chromium.ExecutablePath} not found): install the chromium package.");
            }

            _playwright ??= await Playwright.CreateAsync();
            _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = Chromium.ExecutablePath,
                Headless = true,
                Args = Chromium.Args,
                Timeout = 60_000,
            });
            return _browser;
        }
        finally
        {
            _gate.Release();
        }
    }
}

/// <summary>One test's browser context and page, with a record of every request the page made and every console error.</summary>
public sealed class BrowserSession : IAsyncDisposable
{
    private readonly ConcurrentQueue<string> _requests = new();
    private readonly ConcurrentQueue<string> _consoleErrors = new();

    private BrowserSession(IBrowserContext context, IPage page)
    {
        Context = context;
        Page = page;
        page.Request += (_, request) => _requests.Enqueue(request.Url);
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                _consoleErrors.Enqueue(message.Text);
            }
        };
    }

    public IBrowserContext Context { get; }

    public IPage Page { get; }

    /// <summary>Every URL the page requested (navigations, redirects followed, stylesheets…), in order.</summary>
    public IReadOnlyList<string> Requests => [.. _requests];

    /// <summary>Console errors, such as the browser refusing something under the Content-Security-Policy.</summary>
    public IReadOnlyList<string> ConsoleErrors => [.. _consoleErrors];

    public static async Task<BrowserSession> CreateAsync(IBrowserContext context) => new(context, await context.NewPageAsync());

    /// <summary>
    /// Clicks <paramref name="submit"/> and waits until the document the submission leads to (after
    /// any redirects) has loaded; also right when the answer is the same URL again (a re-rendered form).
    /// </summary>
    public async Task SubmitAsync(ILocator submit)
    {
        var loaded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLoad(object? sender, IPage page) => loaded.TrySetResult();
        Page.Load += OnLoad;
        try
        {
            await submit.ClickAsync();
            await loaded.Task.WaitAsync(Chromium.StepTimeout);
        }
        catch (TimeoutException exception)
        {
            throw new TimeoutException($"No page loaded within {Chromium.StepTimeout} after the submission; the browser is at {Page.Url}.", exception);
        }
        finally
        {
            Page.Load -= OnLoad;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Context.CloseAsync();
        await Context.DisposeAsync();
    }
}
