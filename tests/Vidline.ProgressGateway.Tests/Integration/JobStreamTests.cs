using System.Net;
using Vidline.Contracts;
using static Vidline.ProgressGateway.Tests.Integration.Polling;

namespace Vidline.ProgressGateway.Tests.Integration;

/// <summary>One job's event stream: the live sequence, a late client, and resuming with Last-Event-ID.</summary>
[Collection(nameof(GatewayFixture))]
public class JobStreamTests(GatewayFixture fixture)
{
    private readonly HttpClient _a = fixture.A.CreateClient();
    private readonly HttpClient _b = fixture.B.CreateClient();

    [Fact]
    public async Task Job_stream_sends_status_progress_stage_warning_done_then_closes()
    {
        var job = Guid.NewGuid();
        await fixture.Bus.Publish(Messages.Status(job, JobStatuses.Processing, Stages.Transcoding));
        await fixture.WaitForJob(job);

        await using var stream = await SseClient.OpenAsync(_a, $"/jobs/{job}/stream");
        Assert.Equal("text/event-stream", stream.Response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("no-cache", stream.Response.Headers.CacheControl?.ToString());
        Assert.Equal("no", stream.Response.Headers.GetValues("X-Accel-Buffering").Single());

        var status = await stream.ExpectAsync(EventTypes.Status);
        Assert.Equal("processing", status.Json.GetProperty("status").GetString());
        Assert.Equal(2000, stream.Retry);

        await fixture.Bus.Publish(Messages.Progress(job, Stages.Transcoding, 25));
        var progress = await stream.ExpectAsync(EventTypes.Progress);
        Assert.Equal(20, progress.Json.GetProperty("progress").GetDouble());
        Assert.Equal(25, progress.Json.GetProperty("stage_progress").GetDouble());
        Assert.Equal(48.5, progress.Json.GetProperty("fps").GetDouble());
        Assert.Equal(12, progress.Json.GetProperty("eta_seconds").GetDouble());
        Assert.Equal(250, progress.Json.GetProperty("current_frame").GetInt64());
        Assert.True(progress.Id > (status.Id ?? 0));

        await fixture.Bus.Publish(Messages.Status(job, JobStatuses.Processing, Stages.Validation));
        var stage = await stream.ExpectAsync(EventTypes.Stage);
        Assert.Equal("validation", stage.Json.GetProperty("stage").GetString());
        Assert.Equal(1, stage.Json.GetProperty("attempt").GetInt32());
        Assert.True(stage.Id > progress.Id);

        await fixture.Bus.Publish(Messages.Warning(job, Stages.Validation, "VMAF unavailable; scoring with SSIM/PSNR"));
        var warning = await stream.ExpectAsync(EventTypes.Warning);
        Assert.Equal("VMAF unavailable; scoring with SSIM/PSNR", warning.Json.GetProperty("message").GetString());

        // A heartbeat comment arrives while nothing happens (1 s in tests).
        await Task.Delay(1500);
        await fixture.Bus.Publish(Messages.Status(job, JobStatuses.Completed, Stages.Storage, result: Messages.Result(job)));
        var done = await stream.ExpectAsync(EventTypes.Done);
        Assert.Equal("completed", done.Json.GetProperty("status").GetString());
        Assert.Matches($"^/outputs/[0-9]+/[A-Za-z0-9_-]{{22}}/{job:N}/hls/master.m3u8$", done.Json.GetProperty("result").GetProperty("hls_manifest_url").GetString());
        Assert.Contains("heartbeat", stream.Comments);
        Assert.Null(await stream.NextAsync()); // closed by the server

        var json = await fixture.GetJob(job);
        Assert.Equal(100, json.GetProperty("progress").GetDouble());
        json.GetProperty("completed_at").GetDateTimeOffset();
    }

    [Fact]
    public async Task A_client_connecting_after_the_end_gets_snapshot_and_done_at_once()
    {
        var job = await FinishedJob(JobStatuses.Failed, error: "transcoder crashed");

        await using var stream = await SseClient.OpenAsync(_b, $"/jobs/{job}/stream");
        var events = await stream.ReadToEndAsync(TimeSpan.FromSeconds(5));
        Assert.Equal([EventTypes.Status, EventTypes.Done], events.Select(e => e.Event));
        Assert.Equal("failed", events[0].Json.GetProperty("status").GetString());
        Assert.Equal("transcoder crashed", events[1].Json.GetProperty("error_message").GetString());
        Assert.True(events[1].Id > (events[0].Id ?? 0));
    }

    [Fact]
    public async Task Resume_with_Last_Event_ID_yields_exactly_the_missed_events()
    {
        var job = await FinishedJob(JobStatuses.Completed);
        var all = await fixture.StoredIds(job);
        Assert.True(all.Count >= 5);

        for (var k = 0; k < all.Count; k++)
        {
            var viaHeader = await ResumeIds(_a, $"/jobs/{job}/stream", header: all[k].ToString());
            var viaQuery = await ResumeIds(_b, $"/jobs/{job}/stream?lastEventId={all[k]}", header: null);
            var expected = all.Skip(k + 1).ToList();
            if (expected.Count == 0)
            {
                Assert.Null(viaHeader); // 204: nothing left, and EventSource stops reconnecting
                Assert.Null(viaQuery);
                continue;
            }
            Assert.Equal(expected, viaHeader);
            Assert.Equal(expected, viaQuery);
        }
    }

    [Fact]
    public async Task A_retried_job_streams_its_new_run_and_ends_at_that_runs_done_not_the_old_one()
    {
        var job = await FinishedJob(JobStatuses.Failed, error: "gate");
        await fixture.Bus.Publish(Messages.Status(job, JobStatuses.Processing, Stages.Packaging, attempt: 5, run: 2));
        await fixture.WaitForJob(job, JobStatuses.Processing);

        await using var stream = await SseClient.OpenAsync(_a, $"/jobs/{job}/stream");
        var status = await stream.ExpectAsync(EventTypes.Status);
        Assert.Equal(2, status.Json.GetProperty("run").GetInt32());
        await fixture.Bus.Publish(Messages.Progress(job, Stages.Packaging, 50, run: 2));
        Assert.Equal(2, (await stream.ExpectAsync(EventTypes.Progress)).Json.GetProperty("run").GetInt32());
        await fixture.Bus.Publish(Messages.Status(job, JobStatuses.Completed, Stages.Storage, result: Messages.Result(job), run: 2));
        var done = await stream.ExpectAsync(EventTypes.Done);
        Assert.Equal(2, done.Json.GetProperty("run").GetInt32());
        Assert.Equal("completed", done.Json.GetProperty("status").GetString());
        Assert.Null(await stream.NextAsync());
    }

    [Fact]
    public async Task Resuming_from_inside_a_failed_run_continues_through_its_done_into_the_retry()
    {
        var job = await FinishedJob(JobStatuses.Failed, error: "gate");
        var firstRun = await fixture.StoredIds(job);
        await fixture.Bus.Publish(Messages.Status(job, JobStatuses.Processing, Stages.Packaging, attempt: 5, run: 2));
        await fixture.Bus.Publish(Messages.Progress(job, Stages.Packaging, 30, run: 2));
        await Eventually(async () => (await fixture.StoredIds(job)).Count == firstRun.Count + 2);

        // The client last saw the second event of run 1; it missed the rest of run 1, its done, and run 2 so far.
        await using var stream = await SseClient.OpenAsync(_b, $"/jobs/{job}/stream", lastEventIdHeader: firstRun[1].ToString());
        var replayed = new List<SseEvent>();
        for (var i = 0; i < firstRun.Count; i++) replayed.Add((await stream.NextAsync())!);
        Assert.Equal([.. firstRun.Skip(2), .. (await fixture.StoredIds(job)).Skip(firstRun.Count)], replayed.Select(e => e.Id!.Value));
        Assert.Equal(EventTypes.Done, replayed[firstRun.Count - 3].Event); // run 1's done passed; the stream goes on

        await fixture.Bus.Publish(Messages.Status(job, JobStatuses.Completed, Stages.Storage, result: Messages.Result(job), run: 2));
        Assert.Equal(2, (await stream.ExpectAsync(EventTypes.Done)).Json.GetProperty("run").GetInt32());
        Assert.Null(await stream.NextAsync());
    }

    // ------------------------------------------------------------------------------------------ helpers

    /// <summary>A job run to its end through the broker: stage, progress, warning, stage, done.</summary>
    private async Task<Guid> FinishedJob(string finalStatus, string? error = null)
    {
        var job = Guid.NewGuid();
        await fixture.Bus.Publish(Messages.Status(job, JobStatuses.Processing, Stages.Transcoding));
        await fixture.WaitForJob(job);
        await fixture.Bus.Publish(Messages.Progress(job, Stages.Transcoding, 50));
        await fixture.Bus.Publish(Messages.Warning(job, Stages.Transcoding, "audio track missing"));
        await Eventually(async () => (await fixture.StoredIds(job)).Count == 3);
        await fixture.Bus.Publish(Messages.Status(job, JobStatuses.Processing, Stages.Packaging));
        await Eventually(async () => (await fixture.StoredIds(job)).Count == 4);
        await fixture.Bus.Publish(Messages.Status(job, finalStatus, Stages.Packaging, error: error,
            result: finalStatus == JobStatuses.Completed ? Messages.Result(job) : null));
        await fixture.WaitForJob(job, finalStatus);
        return job;
    }

    /// <returns>Ids received until the server closed the stream, or null for 204 No Content.</returns>
    private static async Task<List<long>?> ResumeIds(HttpClient client, string url, string? header)
    {
        await using var stream = await SseClient.OpenAsync(client, url, header);
        if (stream.Response.StatusCode == HttpStatusCode.NoContent) return null;
        var events = await stream.ReadToEndAsync();
        Assert.DoesNotContain(events, e => e.Event == EventTypes.Status); // a resume has no snapshot
        return events.Select(e => e.Id!.Value).ToList();
    }
}
