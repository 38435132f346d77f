using System.Net;
using System.Text.Json;
using Vidline.Contracts;
using static Vidline.ProgressGateway.Tests.Integration.Polling;

namespace Vidline.ProgressGateway.Tests.Integration;

/// <summary>Reading jobs: one job as JSON, the filtered and paged list, and problems for bad ids and filters.</summary>
[Collection(nameof(GatewayFixture))]
public class JobQueryTests(GatewayFixture fixture)
{
    private readonly HttpClient _a = fixture.A.CreateClient();

    [Fact]
    public async Task Job_json_shows_the_row_and_its_latest_events()
    {
        var job = Guid.NewGuid();
        await fixture.Bus.Publish(Messages.Status(job, JobStatuses.Processing, Stages.Transcoding));
        await fixture.WaitForJob(job);
        await fixture.Bus.Publish(Messages.Progress(job, Stages.Transcoding, 50));
        await Eventually(async () => (await fixture.GetJob(job)).GetProperty("progress").GetDouble() == 30);

        var json = await fixture.GetJob(job);
        Assert.Equal(job, json.GetProperty("id").GetGuid());
        Assert.Equal($"videos/{job:N}.mp4", json.GetProperty("key").GetString());
        Assert.Equal("tester", json.GetProperty("owner").GetString());
        Assert.Equal("processing", json.GetProperty("status").GetString());
        Assert.Equal("transcoding", json.GetProperty("stage").GetString());
        Assert.Equal(3, json.GetProperty("priority").GetInt32());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("completed_at").ValueKind);
        Assert.Equal(JsonValueKind.Null, json.GetProperty("error_message").ValueKind);
        Assert.Equal(JsonValueKind.Null, json.GetProperty("result").ValueKind);
        json.GetProperty("created_at").GetDateTimeOffset();
        json.GetProperty("updated_at").GetDateTimeOffset();
        var latest = json.GetProperty("latest_events").EnumerateArray().ToList();
        Assert.Equal(["progress", "stage"], latest.Select(e => e.GetProperty("type").GetString()));
        Assert.Equal("transcoding 50%", latest[0].GetProperty("message").GetString());
        Assert.Equal(30, latest[0].GetProperty("progress").GetDouble());
        latest[0].GetProperty("created_at").GetDateTimeOffset();
    }

    [Fact]
    public async Task Malformed_and_unknown_ids_are_problems()
    {
        var malformed = await _a.GetAsync("/jobs/not-a-guid");
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal("application/problem+json", malformed.Content.Headers.ContentType?.MediaType);

        var unknown = await _a.GetAsync($"/jobs/{Guid.NewGuid()}");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);

        var stream = await _a.GetAsync($"/jobs/{Guid.NewGuid()}/stream");
        Assert.Equal(HttpStatusCode.NotFound, stream.StatusCode);
        Assert.Equal("application/problem+json", stream.Content.Headers.ContentType?.MediaType);

        Assert.Equal(HttpStatusCode.BadRequest, (await _a.GetAsync("/jobs?status=bogus")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _a.GetAsync("/jobs?cursor=garbage")).StatusCode);
    }

    [Fact]
    public async Task Job_list_is_newest_first_filtered_and_paged_by_cursor()
    {
        // Only this test cancels jobs, so `?status=cancelled` sees exactly these three.
        var jobs = Enumerable.Range(0, 3).Select(_ => Guid.NewGuid()).ToList();
        var created = DateTimeOffset.UtcNow.AddMinutes(-10);
        for (var i = 0; i < jobs.Count; i++)
            await fixture.Bus.Publish(Messages.Status(jobs[i], JobStatuses.Cancelled, Stages.Uploading, createdAt: created.AddSeconds(i)));
        foreach (var job in jobs) await fixture.WaitForJob(job, status: "cancelled");

        var first = await fixture.GetJson("/jobs?status=cancelled&limit=2");
        Assert.Equal([jobs[2], jobs[1]], first.GetProperty("items").EnumerateArray().Select(j => j.GetProperty("id").GetGuid()));
        var cursor = first.GetProperty("next_cursor").GetString();
        Assert.NotNull(cursor);

        var second = await fixture.GetJson($"/jobs?status=cancelled&limit=2&cursor={Uri.EscapeDataString(cursor)}");
        Assert.Equal([jobs[0]], second.GetProperty("items").EnumerateArray().Select(j => j.GetProperty("id").GetGuid()));
        Assert.Equal(JsonValueKind.Null, second.GetProperty("next_cursor").ValueKind);
    }
}
