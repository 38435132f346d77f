using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Vidline.EndToEnd.Tests;

/// <summary>
/// The web page in headless Chromium against the real pipeline, as a person would use it: every view is checked
/// with axe-core and for console errors, and each step leaves a screenshot in TestResults/web/.
/// </summary>
public class WebPageTests(Pipeline pipeline) : IClassFixture<Pipeline>, IAsyncLifetime
{
    private static readonly string[] StageNames = ["uploading", "transcoding", "validation", "packaging", "storage"];
    private WebBrowser _browser = null!;

    private string Url(string path) => $"http://127.0.0.1:{pipeline.EdgePort}{path}";

    public async Task InitializeAsync() => _browser = await WebBrowser.LaunchAsync(pipeline.RepoRoot, pipeline.ApiKey);

    public async Task DisposeAsync() => await _browser.DisposeAsync();

    [Fact]
    public async Task Two_uploads_at_once_one_watched_to_the_player_and_one_cancelled_then_both_on_the_dashboard_and_by_link()
    {
        var first = await pipeline.Clips.ClipAsync("web-first", 854, 480, 4); // two renditions: 480p and 360p
        var second = await pipeline.Clips.LongClipAsync("web-second", 30);
        var web = await _browser.NewPageAsync();
        var page = web.Page;
        await page.GotoAsync(Url("/"));
        await Expect(web["#connection"]).ToHaveTextAsync("Live");
        await web.AssertAccessibleAsync("empty home");

        // Several files at once, each with its own key field and its own progress row.
        await web["#file-input"].SetInputFilesAsync(new[] { first, second });
        await Expect(web["#staged li"]).ToHaveCountAsync(2);
        await web["#staged li"].Nth(0).Locator("input").FillAsync("first-clip.mp4");
        await web["#staged li"].Nth(1).Locator("input").FillAsync("second-clip.mp4");
        await web["#priority"].SelectOptionAsync("3");
        await web.ScreenshotAsync("01-staged-uploads");
        await web["#upload-button"].ClickAsync();

        var firstUpload = web["#uploads li"].Filter(new() { HasText = "first-clip.mp4" });
        var secondUpload = web["#uploads li"].Filter(new() { HasText = "second-clip.mp4" });
        foreach (var upload in new[] { firstUpload, secondUpload })
        {
            await Expect(upload.Locator(".upload-outcome")).ToContainTextAsync("Accepted", new() { Timeout = 60_000 });
            await Expect(upload.GetByRole(AriaRole.Progressbar)).ToHaveAttributeAsync("aria-valuenow", "100");
        }
        var firstId = JobIdOf(await firstUpload.Locator("a").GetAttributeAsync("href"));
        var secondId = JobIdOf(await secondUpload.Locator("a").GetAttributeAsync("href"));
        await web.ScreenshotAsync("02-uploaded");

        // The long one is cancelled at once, after a confirmation. (It may still wait for the transcoder behind the
        // first: the test's short stall timeout would count a long wait against the one queued.)
        await secondUpload.Locator("a").ClickAsync();
        await Expect(page).ToHaveURLAsync(Url($"/jobs/{secondId}"));
        await Expect(web["#job-title"]).ToHaveTextAsync("second-clip.mp4");
        await Expect(Stage(web, "uploading")).ToHaveClassAsync(new Regex(@"\bdone\b"));
        await web.ScreenshotAsync("03-second-job");
        await web.AssertAccessibleAsync("job view while running");

        await web["#cancel-button"].ClickAsync();
        await Expect(web["#cancel-dialog"]).ToBeVisibleAsync();
        await web.AssertAccessibleAsync("cancel confirmation");
        await web["#confirm-cancel"].ClickAsync();
        await Expect(web["#job-status"]).ToHaveTextAsync("cancelled", new() { Timeout = 30_000 });
        await Expect(web["#stage-list .stage.cancelled"]).ToHaveCountAsync(1);
        await Expect(web["#cancel-button"]).ToBeHiddenAsync();
        // The reason shows once, not as both the last message and the outcome.
        Assert.Equal(1, Regex.Matches(await web["main"].InnerTextAsync(), "cancelled by request").Count);
        await web.ScreenshotAsync("04-cancelled");

        // The short one, opened from the dashboard: every stage bar reaches done and the player plays.
        await web["a.back"].ClickAsync();
        await web[$".job-row[data-job-id='{firstId}'] a"].ClickAsync();
        await Expect(page).ToHaveURLAsync(Url($"/jobs/{firstId}"));
        await Expect(web["#job-title"]).ToHaveTextAsync("first-clip.mp4");
        await ExpectCompletedAsync(web, firstId);
        foreach (var stage in StageNames)
        {
            await Expect(Stage(web, stage)).ToHaveClassAsync(new Regex(@"\bdone\b"));
            await Expect(Stage(web, stage).GetByRole(AriaRole.Progressbar)).ToHaveAttributeAsync("aria-valuenow", "100");
        }
        await Expect(web["#overall-bar"]).ToHaveAttributeAsync("aria-valuenow", "100");
        await Expect(web["#scores tbody tr"]).ToHaveCountAsync(2);
        await Expect(web["#downloads a"]).ToHaveCountAsync(4); // HLS, DASH, and each rendition's playlist
        await Expect(web["#quality-select option"]).ToHaveCountAsync(3); // auto, 480p, 360p
        // Choose the lower rendition, then play: the picture is that rendition's, and time advances.
        var lower = await web["#quality-select option"].Filter(new() { HasText = "360p" }).GetAttributeAsync("value");
        await web["#quality-select"].SelectOptionAsync(lower!);
        await web["#player"].EvaluateAsync("v => { v.muted = true; return v.play(); }");
        await page.WaitForFunctionAsync("() => { const v = document.getElementById('player'); return v.currentTime > 0.5 && v.videoHeight === 360; }",
            null, new() { Timeout = 30_000 });
        await Expect(web["#player-status"]).ToHaveTextAsync("Showing 360p");
        foreach (var link in await web["#downloads a"].AllAsync())
            Assert.Equal(HttpStatusCode.OK, (await pipeline.Edge.GetAsync(await link.GetAttributeAsync("href"))).StatusCode);
        await web["#history"].EvaluateAsync("list => list.closest('details').open = true");
        await web.ScreenshotAsync("05-completed-playing");
        await web.AssertAccessibleAsync("completed job view with player");

        // The dashboard: both jobs with their states, counts per status, filtering.
        await web["a.back"].ClickAsync();
        await Expect(web[$".job-row[data-job-id='{firstId}'] .badge"]).ToHaveTextAsync("completed");
        await Expect(web[$".job-row[data-job-id='{secondId}'] .badge"]).ToHaveTextAsync("cancelled");
        await Expect(web[$".job-row[data-job-id='{firstId}'] [role=progressbar]"]).ToHaveAttributeAsync("aria-valuenow", "100");
        await Expect(web["[data-status=cancelled] .count"]).Not.ToHaveTextAsync("0");
        // By keyboard alone: filter to the cancelled jobs, move to the one listed, see the focus ring, open it.
        await web["[data-status=cancelled]"].FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(web[$".job-row[data-job-id='{firstId}']"]).ToBeHiddenAsync();
        await Expect(web[$".job-row[data-job-id='{secondId}']"]).ToBeVisibleAsync();
        await page.Keyboard.PressAsync("Tab");
        await Expect(web[$".job-row[data-job-id='{secondId}'] a"]).ToBeFocusedAsync();
        Assert.Equal("solid", await page.EvaluateAsync<string>("() => getComputedStyle(document.activeElement).outlineStyle"));
        await page.Keyboard.PressAsync("Enter");
        await Expect(page).ToHaveURLAsync(Url($"/jobs/{secondId}"));
        await page.GoBackAsync();
        await web["[data-status=all]"].ClickAsync();
        await Expect(web[$".job-row[data-job-id='{firstId}']"]).ToBeVisibleAsync();
        await web.ScreenshotAsync("06-dashboard");
        await web.AssertAccessibleAsync("dashboard");
        web.AssertNoConsoleErrors();

        // A job's address opens the page in a browser, while API clients still get JSON there.
        var linked = await _browser.NewPageAsync();
        await linked.Page.GotoAsync(Url($"/jobs/{firstId}"));
        await Expect(linked["#job-title"]).ToHaveTextAsync("first-clip.mp4");
        await Expect(linked["#job-status"]).ToHaveTextAsync("completed");
        await Expect(linked["#result"]).ToBeVisibleAsync();
        linked.AssertNoConsoleErrors();
        Assert.Equal("completed", (await pipeline.JobAsync(firstId)).GetProperty("status").GetString());
        using var curlLike = new HttpRequestMessage(HttpMethod.Get, $"/jobs/{firstId}") { Headers = { Accept = { new MediaTypeWithQualityHeaderValue("*/*") } } };
        Assert.Equal("application/json", (await pipeline.Edge.SendAsync(curlLike)).Content.Headers.ContentType?.MediaType);

        // A phone: both views fit 390 px, and pass axe there too.
        var phone = await _browser.NewPageAsync(390, 844);
        await phone.Page.GotoAsync(Url("/"));
        await Expect(phone[$".job-row[data-job-id='{firstId}'] .badge"]).ToHaveTextAsync("completed");
        await phone.AssertFitsWidthAsync();
        await phone.AssertAccessibleAsync("dashboard on a phone");
        await phone.ScreenshotAsync("07-phone-dashboard");
        await phone[$".job-row[data-job-id='{secondId}'] a"].ClickAsync();
        await Expect(phone["#job-status"]).ToHaveTextAsync("cancelled");
        await phone.Page.GoBackAsync();
        await phone[$".job-row[data-job-id='{firstId}'] a"].ClickAsync();
        await Expect(phone["#result"]).ToBeVisibleAsync();
        await phone.AssertFitsWidthAsync();
        await phone.AssertAccessibleAsync("job view on a phone");
        await phone.ScreenshotAsync("08-phone-job-view");
        phone.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task After_the_gateway_is_killed_and_restarted_mid_job_the_page_resumes_without_a_missing_or_repeated_event()
    {
        var clip = await pipeline.Clips.LongClipAsync("web-restart", 24);
        var jobId = await pipeline.SubmitAsync(clip);
        var view = await _browser.NewPageAsync();
        var dashboard = await _browser.NewPageAsync();
        await view.Page.GotoAsync(Url($"/jobs/{jobId}"));
        await dashboard.Page.GotoAsync(Url("/"));
        // While transcoding, ffmpeg's figures: frame counter, fps, speed, time left.
        await Expect(view["#fig-frame"]).ToHaveTextAsync(new Regex(@"^\d+ / 600$"), new() { Timeout = 90_000 });
        await Expect(view["#fig-fps"]).ToHaveTextAsync(new Regex(@"^\d+\.\d fps$"));
        await Expect(view["#fig-speed"]).ToHaveTextAsync(new Regex(@"^\d+\.\d\d×$"));
        await Expect(view["#fig-eta"]).ToHaveTextAsync(new Regex(@"^\d+:\d\d$"));
        await Expect(Stage(view, "uploading")).ToHaveClassAsync(new Regex(@"\bdone\b"));
        await Expect(Stage(view, "transcoding")).ToHaveClassAsync(new Regex(@"\brunning\b"));
        await view.ScreenshotAsync("09-transcoding");
        await view.AssertAccessibleAsync("job view while transcoding");
        await Expect(dashboard[$".job-row[data-job-id='{jobId}'] .badge"]).ToHaveTextAsync("processing");
        var seenBeforeKill = (await view.EventIdsAsync()).Max();

        pipeline["progress-gateway"].Kill();
        await Expect(view["#connection"]).ToHaveTextAsync("Reconnecting…", new() { Timeout = 15_000 });
        await Expect(dashboard["#connection"]).ToHaveTextAsync("Reconnecting…", new() { Timeout = 15_000 });
        await view.ScreenshotAsync("10-gateway-down");
        await pipeline["progress-gateway"].StartAsync();
        await Expect(view["#connection"]).ToHaveTextAsync("Live", new() { Timeout = 30_000 });
        await Expect(dashboard["#connection"]).ToHaveTextAsync("Live", new() { Timeout = 30_000 });

        await ExpectCompletedAsync(view, jobId);
        await Expect(dashboard[$".job-row[data-job-id='{jobId}'] .badge"]).ToHaveTextAsync("completed", new() { Timeout = 30_000 });
        foreach (var stage in StageNames) await Expect(Stage(view, stage)).ToHaveClassAsync(new Regex(@"\bdone\b"));
        await view.ScreenshotAsync("11-recovered-completed");

        // The page holds exactly the job's stored history: each event once, in order, including those the
        // gateway stored after it came back.
        var stored = (await pipeline.StreamAsync(jobId, lastEventId: "0")).Select(e => long.Parse(e.Id!)).ToArray();
        var shown = await view.EventIdsAsync();
        Assert.Equal(stored, shown);
        Assert.Contains(shown, id => id > seenBeforeKill);
        // The outage itself logs failed requests (502 from the edge); the page's own code must not have thrown.
        foreach (var page in new[] { view, dashboard }) Assert.DoesNotContain(page.ConsoleErrors, e => e.StartsWith("uncaught"));
    }

    [Fact]
    public async Task A_dropped_file_that_is_not_video_is_refused_with_the_reason_and_its_failed_job_says_why_it_cannot_be_retried()
    {
        var web = await _browser.NewPageAsync();
        await web.Page.GotoAsync(Url("/"));
        // Dropped on the page, as from a file manager.
        await web["#drop-zone"].EvaluateAsync("""
            zone => {
                const files = new DataTransfer();
                files.items.add(new File(['this is not a video, just some text\n'], 'page-notes.mp4', { type: 'video/mp4' }));
                zone.dispatchEvent(new DragEvent('drop', { dataTransfer: files, bubbles: true, cancelable: true }));
            }
            """);
        await Expect(web["#staged li"]).ToHaveCountAsync(1);
        await web["#upload-button"].ClickAsync();

        var upload = web["#uploads li"].Filter(new() { HasText = "page-notes.mp4" });
        await Expect(upload.Locator(".upload-outcome")).ToContainTextAsync("could not be read as video", new() { Timeout = 30_000 });
        await Expect(upload).ToHaveClassAsync(new Regex(@"\brefused\b"));
        // Its failed job is on the dashboard, on top (newest first).
        var failedId = JobIdOf(await upload.Locator("a").GetAttributeAsync("href"));
        await Expect(web[".job-row"].First).ToHaveAttributeAsync("data-job-id", failedId.ToString());
        await Expect(web[".job-row"].First.Locator(".badge")).ToHaveTextAsync("failed");
        await web.ScreenshotAsync("20-refused-upload");
        await web.AssertAccessibleAsync("refused upload");

        await upload.Locator("a").ClickAsync();
        await Expect(web["#job-status"]).ToHaveTextAsync("failed");
        await Expect(web["#job-error"]).ToContainTextAsync("could not be read as video");
        await Expect(Stage(web, "uploading")).ToHaveClassAsync(new Regex(@"\bfailed\b"));
        await web["#retry-button"].ClickAsync();
        await Expect(web["#command-message"]).ToContainTextAsync("submit the video again");
        await web.ScreenshotAsync("21-failed-job");
        await web.AssertAccessibleAsync("failed job view");
        // Chromium logs every non-2xx answer; these two are the refusals this test asks for.
        web.AssertNoConsoleErrors(expectedStatuses: [422, 409]);
    }

    /// <summary>Waits for the job view to show the job completed; if it does not, says why (the job as the API
    /// has it, and the services' logs) and leaves a screenshot.</summary>
    private async Task ExpectCompletedAsync(WatchedPage web, Guid jobId)
    {
        try
        {
            await Expect(web["#job-status"]).ToHaveTextAsync("completed", new() { Timeout = 150_000 });
        }
        catch (PlaywrightException e)
        {
            await web.ScreenshotAsync($"failed-{jobId}");
            throw new Xunit.Sdk.XunitException($"{e.Message}\njob: {await pipeline.JobAsync(jobId)}\n{pipeline.Logs()}");
        }
    }

    private static ILocator Stage(WatchedPage page, string name) => page[$"#stage-list [data-stage='{name}']"];

    private static Guid JobIdOf(string? href) => Guid.Parse(href!.Split('/').Last());

    private static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);

    private static IPageAssertions Expect(IPage page) => Assertions.Expect(page);
}
