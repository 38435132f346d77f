using Microsoft.Playwright;

namespace Vidline.EndToEnd.Tests;

/// <summary>The web page in headless Chromium (Debian's, no browser download), against the real pipeline.</summary>
public class WebPageTests(Pipeline pipeline) : IClassFixture<Pipeline>, IAsyncLifetime
{
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            // Root in a sandbox-less container; and no calls home, which this network refuses.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        });
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }

    [Fact]
    public async Task Uploading_from_the_page_shows_the_job_progress_live_until_completed_with_manifest_links()
    {
        var clip = await pipeline.Clips.ClipAsync("from-the-page", 640, 360, 3);
        var page = await _browser.NewPageAsync();
        await page.GotoAsync($"http://127.0.0.1:{pipeline.EdgePort}/");
        await Assertions.Expect(page.Locator("#connection")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("live", System.Text.RegularExpressions.RegexOptions.IgnoreCase));

        await page.Locator("input[name=video]").SetInputFilesAsync(clip);
        await page.Locator("input[name=key]").FillAsync("page-upload.mp4");
        await page.Locator("#upload button[type=submit]").ClickAsync();

        // The job appears through the EventSource feed and reaches completed without a reload.
        var job = page.Locator("li.job", new() { HasText = "page-upload.mp4" });
        await Assertions.Expect(job).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Assertions.Expect(job.Locator(".badge")).ToHaveTextAsync("completed", new() { Timeout = 90_000 });
        await Assertions.Expect(job.Locator(".bar-label")).ToHaveTextAsync("100.0%");
        var hls = await job.Locator(".job-links a", new() { HasText = "HLS" }).GetAttributeAsync("href");
        Assert.EndsWith("/master.m3u8", hls);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await pipeline.Edge.GetAsync(hls)).StatusCode);

        await page.ScreenshotAsync(new() { Path = Path.Combine(pipeline.StateDirectory, "web-page.png") });
    }

    [Fact]
    public async Task A_bad_file_uploaded_from_the_page_says_why()
    {
        var page = await _browser.NewPageAsync();
        await page.GotoAsync($"http://127.0.0.1:{pipeline.EdgePort}/");

        await page.Locator("input[name=video]").SetInputFilesAsync(await pipeline.Clips.TextFileAsync("page-notes.mp4"));
        await page.Locator("#upload button[type=submit]").ClickAsync();

        await Assertions.Expect(page.Locator("#upload-message")).ToContainTextAsync("Upload failed", new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator("#upload-message")).ToContainTextAsync("could not be read as video");
    }
}
