using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Vidline.Contracts;

namespace Vidline.EndToEnd.Tests;

/// <summary>Cancel, retry, priorities, restarts and stalled stages, on the real services.</summary>
public class OrchestrationTests(Pipeline pipeline) : IClassFixture<Pipeline>
{
    [Fact]
    public async Task Cancel_kills_the_ffmpeg_at_work_removes_partial_output_and_ends_the_stream()
    {
        var jobId = await pipeline.SubmitAsync(await pipeline.Clips.LongClipAsync("long-cancel"));
        await pipeline.WaitForJobAsync(jobId, j => j.GetProperty("stage").GetString() == "transcoding" && j.GetProperty("progress").GetDouble() > 11);
        Assert.NotEmpty(Pipeline.FfmpegProcessesOf(jobId));

        var stopwatch = Stopwatch.StartNew();
        var cancel = await pipeline.Edge.PostAsync($"/jobs/{jobId}/cancel", null);
        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        while (Pipeline.FfmpegProcessesOf(jobId).Count > 0 && stopwatch.Elapsed < TimeSpan.FromSeconds(5)) await Task.Delay(50);
        Assert.Empty(Pipeline.FfmpegProcessesOf(jobId));
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"ffmpeg lived {stopwatch.Elapsed.TotalSeconds:0.0} s after cancel");

        var events = await pipeline.StreamAsync(jobId, TimeSpan.FromSeconds(30));
        Assert.Equal("done", events[^1].Type);
        Assert.Equal("cancelled", events[^1].Json.GetProperty("status").GetString());
        var work = Path.Combine(pipeline.StorageRoot, "work", jobId.ToString("N"));
        for (var i = 0; i < 50 && Directory.Exists(work); i++) await Task.Delay(100);
        Assert.False(Directory.Exists(work), "partial outputs were left behind");

        var again = await pipeline.Edge.PostAsync($"/jobs/{jobId}/cancel", null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal("application/problem+json", again.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Retry_after_a_failed_quality_gate_resumes_at_validation_without_transcoding_again()
    {
        await pipeline.RestartAsync("validator", new Dictionary<string, string> { ["QualityGate__MinPsnr"] = "99" });
        try
        {
            var jobId = await pipeline.SubmitAsync(await pipeline.Clips.ClipAsync("gate", 640, 360, 2));
            var failed = await pipeline.WaitForStatusAsync(jobId, "failed");
            var error = failed.GetProperty("error_message").GetString()!;
            Assert.Contains("rendition 360p failed the quality gate", error);
            Assert.Contains("PSNR", error);
            Assert.Equal("validation", failed.GetProperty("stage").GetString());
            Assert.Equal(HttpStatusCode.Conflict, (await pipeline.Edge.PostAsync($"/jobs/{jobId}/cancel", null)).StatusCode);

            await pipeline.RestartAsync("validator");
            var retry = await pipeline.Edge.PostAsync($"/jobs/{jobId}/retry", null);
            Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
            await pipeline.WaitForStatusAsync(jobId, "completed");

            // Last-Event-ID 0: the job's whole history, not just the snapshot a late client gets.
            var events = await pipeline.StreamAsync(jobId, lastEventId: "0");
            var transcodingStarts = events.Count(e => e.Type == "progress" && e.Json.GetProperty("message").GetString()!.StartsWith("transcoding started"));
            var validationStarts = events.Count(e => e.Type == "progress" && e.Json.GetProperty("message").GetString()!.StartsWith("validation started"));
            var trace = string.Join("\n", events.Select(e => $"{e.Id} {e.Type} {e.Data[..Math.Min(160, e.Data.Length)]}"));
            Assert.True(transcodingStarts == 1, trace);
            Assert.True(validationStarts == 2, trace);
            Assert.Equal(HttpStatusCode.Conflict, (await pipeline.Edge.PostAsync($"/jobs/{jobId}/retry", null)).StatusCode);
        }
        finally
        {
            await pipeline.RestartAsync("validator");
        }
    }

    [Fact]
    public async Task A_job_survives_a_kill_of_ingest_api_in_the_middle()
    {
        var jobId = await pipeline.SubmitAsync(await pipeline.Clips.LongClipAsync("restart-ingest", 12));
        await pipeline.WaitForJobAsync(jobId, j => j.GetProperty("stage").GetString() == "transcoding");

        await pipeline.RestartAsync("ingest-api");

        var job = await pipeline.WaitForStatusAsync(jobId, "completed", TimeSpan.FromMinutes(3));
        Assert.Equal(100, job.GetProperty("progress").GetDouble());
    }

    [Fact]
    public async Task An_expired_job_is_forgotten_by_the_gateway_its_files_removed_and_retry_answers_410()
    {
        var jobId = await pipeline.SubmitAsync(await pipeline.Clips.ClipAsync("expire", 320, 180, 1));
        await pipeline.WaitForStatusAsync(jobId, "completed");
        var outputs = Path.Combine(pipeline.StorageRoot, "outputs", jobId.ToString("N"));
        Assert.True(Directory.Exists(outputs));

        // ingest-api decides retention: with a retention of about a second, its sweep expires the job.
        await pipeline.RestartAsync("ingest-api", new Dictionary<string, string>
        {
            ["Retention__Days"] = "0.00001", ["Retention__SweepInterval"] = "00:00:01",
        });
        try
        {
            for (var i = 0; i < 150 && (await pipeline.Edge.GetAsync($"/jobs/{jobId}")).StatusCode != HttpStatusCode.NotFound; i++) await Task.Delay(200);
            Assert.Equal(HttpStatusCode.NotFound, (await pipeline.Edge.GetAsync($"/jobs/{jobId}")).StatusCode);
            for (var i = 0; i < 50 && Directory.Exists(outputs); i++) await Task.Delay(100);
            Assert.False(Directory.Exists(outputs), "the expired job's outputs are still there");
            Assert.False(Directory.Exists(Path.Combine(pipeline.StorageRoot, "uploads", jobId.ToString("N"))));

            var retry = await pipeline.Edge.PostAsync($"/jobs/{jobId}/retry", null);
            Assert.Equal(HttpStatusCode.Gone, retry.StatusCode);
            Assert.Equal("application/problem+json", retry.Content.Headers.ContentType?.MediaType);
        }
        finally
        {
            await pipeline.RestartAsync("ingest-api");
        }
    }

    [Fact]
    public async Task A_dead_transcoder_is_noticed_and_its_stage_dispatched_again()
    {
        var jobId = await pipeline.SubmitAsync(await pipeline.Clips.LongClipAsync("stall", 12));
        await pipeline.WaitForJobAsync(jobId, j => j.GetProperty("stage").GetString() == "transcoding" && j.GetProperty("progress").GetDouble() > 11);

        pipeline["transcoder"].Kill();
        // No node reports for the stall timeout (8 s here): the sweep dispatches attempt 2.
        await pipeline.WaitForJobAsync(jobId, j => j.GetProperty("attempt").GetInt32() == 2, TimeSpan.FromSeconds(60));
        await pipeline["transcoder"].StartAsync();

        await pipeline.WaitForStatusAsync(jobId, "completed", TimeSpan.FromMinutes(3));
    }

    [Fact]
    public async Task A_stage_that_never_answers_fails_the_job_after_the_configured_attempts()
    {
        pipeline["packager"].Kill();
        try
        {
            var jobId = await pipeline.SubmitAsync(await pipeline.Clips.ClipAsync("no-packager", 320, 180, 1));
            var failed = await pipeline.WaitForStatusAsync(jobId, "failed", TimeSpan.FromSeconds(150));
            Assert.Equal("no packaging node took the job within 20 s; giving up after 3 attempts", failed.GetProperty("error_message").GetString());
        }
        finally
        {
            await pipeline["packager"].StartAsync();
            // Drain the commands the dead packager never took, so later tests start clean.
            for (var i = 0; i < 100 && await pipeline.QueueDepthAsync(Stages.Packaging.Queue) > 0; i++) await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Higher_priority_jobs_are_taken_first_by_the_stage_workers()
    {
        pipeline["transcoder"].Kill();
        var clip = await pipeline.Clips.ClipAsync("priority", 640, 360, 2);
        var low = new List<Guid>();
        for (var i = 0; i < 3; i++) low.Add(await pipeline.SubmitAsync(clip, priority: 0));
        var high = await pipeline.SubmitAsync(clip, priority: 9);
        foreach (var job in low.Append(high)) await pipeline.WaitForJobAsync(job, j => j.GetProperty("stage").GetString() == "transcoding");
        for (var i = 0; i < 50 && await pipeline.QueueDepthAsync(Stages.Transcoding.Queue) < 4; i++) await Task.Delay(100);

        await pipeline["transcoder"].StartAsync();
        var finished = new List<(Guid Job, DateTimeOffset TranscodingStarted)>();
        foreach (var job in low.Append(high))
        {
            await pipeline.WaitForStatusAsync(job, "completed");
            var events = await pipeline.StreamAsync(job, lastEventId: "0");
            var started = events.First(e => e.Type == "progress" && e.Json.GetProperty("stage").GetString() == "transcoding")
                .Json.GetProperty("timestamp").GetDateTimeOffset();
            finished.Add((job, started));
        }

        Assert.Equal(high, finished.MinBy(f => f.TranscodingStarted).Job);
    }

    [Fact]
    public async Task Starting_another_transcoder_process_adds_capacity()
    {
        var extra = await pipeline.StartAnotherAsync("transcoder");
        try
        {
            var clip = await pipeline.Clips.LongClipAsync("capacity", 16);
            var first = await pipeline.SubmitAsync(clip);
            var second = await pipeline.SubmitAsync(clip);

            // Each process takes one job at a time (prefetch 1): two jobs encode at once only with two nodes.
            var bothAtOnce = false;
            for (var i = 0; i < 600 && !bothAtOnce; i++)
            {
                bothAtOnce = Pipeline.FfmpegProcessesOf(first).Count > 0 && Pipeline.FfmpegProcessesOf(second).Count > 0;
                await Task.Delay(100);
            }
            Assert.True(bothAtOnce, "the two jobs were never transcoded at the same time");
            await pipeline.WaitForStatusAsync(first, "completed", TimeSpan.FromMinutes(3));
            await pipeline.WaitForStatusAsync(second, "completed", TimeSpan.FromMinutes(3));
        }
        finally
        {
            extra.Kill();
        }
    }
}
