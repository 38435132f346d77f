using System.Net;
using System.Text.Json;
using Vidline.Contracts;
using static Vidline.ProgressGateway.Tests.Integration.Polling;

namespace Vidline.ProgressGateway.Tests.Integration;

/// <summary>
/// Every read needs a key, and a tenant sees only its own jobs: another tenant's job is answered exactly like a job
/// that does not exist, and its events never reach another tenant's streams.
/// </summary>
[Collection(nameof(GatewayFixture))]
public class TenantIsolationTests(GatewayFixture fixture)
{
    /// <summary>Another tenant, new for each test (the tests share one database).</summary>
    private readonly string Other = $"other-{Guid.NewGuid():N}"[..20];
    private readonly HttpClient _tester = fixture.A.CreateClient();

    [Theory]
    [InlineData("/jobs")]
    [InlineData("/jobs/00000000-0000-0000-0000-000000000001")]
    [InlineData("/jobs/00000000-0000-0000-0000-000000000001/stream")]
    [InlineData("/progress/stream")]
    [InlineData("/progress/stats")]
    public async Task Every_job_read_answers_401_problem_json_without_a_key(string path)
    {
        using var anonymous = fixture.A.AnonymousClient();

        var response = await anonymous.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
        Assert.Contains("needs an API key", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/health")]
    [InlineData("/metrics")]
    [InlineData("/stages")]
    [InlineData("/openapi/v1.json")]
    [InlineData("/api")]
    public async Task Operational_endpoints_and_the_stage_table_stay_public(string path)
    {
        using var anonymous = fixture.A.AnonymousClient();
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(path)).StatusCode);
    }

    [Fact]
    public async Task A_browser_opening_a_job_url_gets_the_page_without_a_key()
    {
        using var anonymous = fixture.A.AnonymousClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/jobs/{Guid.NewGuid()}");
        request.Headers.Accept.ParseAdd("text/html,application/xhtml+xml,*/*;q=0.8");

        var response = await anonymous.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Another_tenants_job_is_answered_like_a_missing_one_and_never_listed()
    {
        var job = Guid.NewGuid();
        await fixture.Bus.Publish(Messages.Status(job, JobStatuses.Processing, Stages.Transcoding));
        await fixture.WaitForJob(job);
        using var other = await fixture.A.TenantClientAsync(Other);
        var missing = Guid.NewGuid();

        foreach (var suffix in new[] { "", "/stream" })
        {
            var foreign = await other.GetAsync($"/jobs/{job}{suffix}", HttpCompletionOption.ResponseHeadersRead);
            var absent = await other.GetAsync($"/jobs/{missing}{suffix}", HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
            Assert.Equal(await Shape(absent, missing, job), await Shape(foreign));
        }

        var ownJob = Guid.NewGuid();
        await fixture.Bus.Publish(Messages.Status(ownJob, JobStatuses.Processing, Stages.Transcoding) with { Owner = Other });
        await Eventually(async () => (await other.GetAsync($"/jobs/{ownJob}")).IsSuccessStatusCode);
        var page = await fixture.GetJson("/jobs?limit=200", other);
        var listed = page.GetProperty("items").EnumerateArray().Select(j => j.GetProperty("id").GetGuid()).ToList();
        Assert.Equal([ownJob], listed);
        Assert.Contains(job, (await fixture.GetJson("/jobs?limit=200")).GetProperty("items").EnumerateArray().Select(j => j.GetProperty("id").GetGuid()));
    }

    [Fact]
    public async Task The_all_jobs_stream_carries_only_the_callers_jobs_even_when_it_names_foreign_ones()
    {
        var (foreign, own) = (Guid.NewGuid(), Guid.NewGuid());
        await fixture.Bus.Publish(Messages.Status(foreign, JobStatuses.Processing, Stages.Transcoding));
        await fixture.Bus.Publish(Messages.Status(own, JobStatuses.Processing, Stages.Transcoding) with { Owner = Other });
        await fixture.WaitForJob(foreign);
        using var other = await fixture.B.TenantClientAsync(Other);
        await Eventually(async () => (await other.GetAsync($"/jobs/{own}")).IsSuccessStatusCode);

        await using var everything = await SseClient.OpenAsync(other, "/progress/stream");
        await using var named = await SseClient.OpenAsync(other, $"/progress/stream?jobs={foreign},{own}");
        // Snapshots first: the caller's job only.
        Assert.Equal(own, (await everything.ExpectAsync(EventTypes.Status)).Json.GetProperty("id").GetGuid());
        Assert.Equal(own, (await named.ExpectAsync(EventTypes.Status)).Json.GetProperty("id").GetGuid());

        // Live: the foreign job's event is stored first; the stream's next event is the caller's, later one.
        await fixture.Bus.Publish(Messages.Progress(foreign, Stages.Transcoding, 10));
        await Eventually(async () => (await fixture.StoredIds(foreign)).Count > 1);
        await fixture.Bus.Publish(Messages.Progress(own, Stages.Transcoding, 20));
        foreach (var stream in new[] { everything, named })
            Assert.Equal(own, (await stream.ExpectAsync(EventTypes.Progress)).Json.GetProperty("job_id").GetGuid());

        // Replayed from the start: still only the caller's events.
        await using var replayed = await SseClient.OpenAsync(other, $"/progress/stream?jobs={foreign},{own}&lastEventId=0");
        var ownIds = await fixture.StoredIds(own);
        var replay = new List<SseEvent>();
        for (var i = 0; i < ownIds.Count; i++) replay.Add((await replayed.NextAsync())!);
        Assert.All(replay, e => Assert.Equal(own, e.Json.GetProperty("job_id").GetGuid()));
        Assert.Equal(ownIds, replay.Select(e => e.Id!.Value));
    }

    [Fact]
    public async Task The_running_list_in_stats_holds_only_the_callers_jobs()
    {
        var (foreign, own) = (Guid.NewGuid(), Guid.NewGuid());
        await fixture.Bus.Publish(Messages.Status(foreign, JobStatuses.Processing, Stages.Transcoding));
        await fixture.Bus.Publish(Messages.Status(own, JobStatuses.Processing, Stages.Transcoding) with { Owner = Other });
        await fixture.WaitForJob(foreign);
        await fixture.Bus.Publish(Messages.Progress(foreign, Stages.Transcoding, 10));
        await fixture.Bus.Publish(Messages.Progress(own, Stages.Transcoding, 10));
        using var other = await fixture.A.TenantClientAsync(Other);

        await Eventually(async () => Running(await fixture.GetJson("/progress/stats")).Contains(foreign)
                                     && Running(await fixture.GetJson("/progress/stats", other)).Contains(own));

        Assert.DoesNotContain(own, Running(await fixture.GetJson("/progress/stats")));
        Assert.DoesNotContain(foreign, Running(await fixture.GetJson("/progress/stats", other)));
    }

    private static List<Guid> Running(JsonElement stats) =>
        stats.GetProperty("running").EnumerateArray().Select(r => r.GetProperty("job_id").GetGuid()).ToList();

    /// <summary>A problem's members and values but its trace id; <paramref name="from"/> is rewritten as <paramref name="to"/>.</summary>
    private static async Task<string> Shape(HttpResponseMessage response, Guid? from = null, Guid? to = null)
    {
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var text = string.Join("\n", problem.EnumerateObject().Where(p => p.Name != "trace_id").Select(p => $"{p.Name}={p.Value}"));
        return from is null ? text : text.Replace(from.ToString()!, to.ToString());
    }
}
