using System.Diagnostics;
using System.Text.Json;
using Microsoft.Playwright;

namespace Vidline.EndToEnd.Tests;

/// <summary>
/// Headless Debian Chromium (no browser download) for the web page tests. It first builds the page from web/
/// (scripts/web.sh: npm ci when needed, a build when a source changed), so the tests drive the current source.
/// </summary>
public sealed class WebBrowser : IAsyncDisposable
{
    private static readonly SemaphoreSlim BuildOnce = new(1, 1);
    private static bool _built;
    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;


    private WebBrowser(IPlaywright playwright, IBrowser browser, string repoRoot)
    {
        _playwright = playwright;
        _browser = browser;
        RepoRoot = repoRoot;
    }

    public string RepoRoot { get; }

    /// <summary>Screenshots land here, one per step, as test artifacts.</summary>
    public string ArtifactDirectory => Path.Combine(RepoRoot, "TestResults", "web");

    public static async Task<WebBrowser> LaunchAsync(string repoRoot)
    {
        await BuildPageAsync(repoRoot);
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            // Root in a sandbox-less container; no calls home, which this network refuses; and the player may start
            // without a click (a test has no user gesture to give).
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--autoplay-policy=no-user-gesture-required"],
        });
        return new WebBrowser(playwright, browser, repoRoot);
    }

    /// <summary>The API key a new page finds in its localStorage, as if its user had entered it before (for the origin given).</summary>
    public (string Origin, string Key)? RememberedKey { get; set; }

    /// <param name="withKey">Start with <see cref="RememberedKey"/> stored; false: a first visit, which asks for a key.</param>
    public async Task<WatchedPage> NewPageAsync(int width = 1280, int height = 900, bool withKey = true)
    {
        var options = new BrowserNewContextOptions { ViewportSize = new() { Width = width, Height = height } };
        if (withKey && RememberedKey is var (origin, key))
            options.StorageState = JsonSerializer.Serialize(new
            {
                cookies = Array.Empty<object>(),
                origins = new[] { new { origin, localStorage = new[] { new { name = "vidline.apiKey", value = key } } } },
            });
        var context = await _browser.NewContextAsync(options);
        return new WatchedPage(await context.NewPageAsync(), this);
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }

    private static async Task BuildPageAsync(string repoRoot)
    {
        await BuildOnce.WaitAsync();
        try
        {
            if (_built) return;
            var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = repoRoot };
            info.ArgumentList.Add(Path.Combine(repoRoot, "scripts", "web.sh"));
            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (process.ExitCode != 0) throw new InvalidOperationException($"scripts/web.sh failed:\n{await output}\n{error}");
            _built = true;
        }
        finally
        {
            BuildOnce.Release();
        }
    }
}

/// <summary>A page whose console errors are collected, with axe-core and step screenshots at hand.</summary>
public sealed class WatchedPage
{
    private readonly WebBrowser _browser;

    public WatchedPage(IPage page, WebBrowser browser)
    {
        Page = page;
        _browser = browser;
        page.Console += (_, message) => { if (message.Type == "error") ConsoleErrors.Add($"{message.Text} ({message.Location})"); };
        page.PageError += (_, error) => ConsoleErrors.Add($"uncaught: {error}");
    }

    public IPage Page { get; }
    public List<string> ConsoleErrors { get; } = [];

    public ILocator this[string selector] => Page.Locator(selector);

    /// <summary>axe-core (from web/node_modules) in the page as it is now: no serious or critical violation.</summary>
    public async Task AssertAccessibleAsync(string step)
    {
        if (await Page.EvaluateAsync<bool>("() => typeof window.axe === 'undefined'"))
            await Page.AddScriptTagAsync(new() { Path = Path.Combine(_browser.RepoRoot, "web", "node_modules", "axe-core", "axe.min.js") });
        var violations = await Page.EvaluateAsync<string[]>("""
            async () => (await axe.run(document, { resultTypes: ['violations'] })).violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)
            """);
        Assert.True(violations.Length == 0, $"axe-core, {step}:\n{string.Join("\n", violations)}");
    }

    /// <param name="expectedStatuses">HTTP refusals the test provoked on purpose (the browser logs each as an error).</param>
    public void AssertNoConsoleErrors(params int[] expectedStatuses)
    {
        var unexpected = ConsoleErrors.Where(e => !expectedStatuses.Any(status => e.Contains($"status of {status} "))).ToList();
        Assert.True(unexpected.Count == 0, $"console errors:\n{string.Join("\n", unexpected)}");
    }

    public async Task ScreenshotAsync(string step)
    {
        Directory.CreateDirectory(_browser.ArtifactDirectory);
        await Page.ScreenshotAsync(new() { Path = Path.Combine(_browser.ArtifactDirectory, $"{step}.png"), FullPage = true });
    }

    /// <summary>The page does not scroll sideways (it fits a phone's width).</summary>
    public async Task AssertFitsWidthAsync()
    {
        var (content, viewport) = (await Page.EvaluateAsync<int>("() => document.documentElement.scrollWidth"), Page.ViewportSize!.Width);
        Assert.True(content <= viewport, $"the page is {content}px wide in a {viewport}px viewport");
    }

    /// <summary>The ids of the events the job view received, in order (its event history list).</summary>
    public async Task<long[]> EventIdsAsync() =>
        (await Page.Locator("#history li").EvaluateAllAsync<string[]>("items => items.map(i => i.dataset.eventId)")).Select(long.Parse).ToArray();
}
