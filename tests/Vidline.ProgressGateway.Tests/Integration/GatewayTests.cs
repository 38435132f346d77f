using System.Net;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Vidline.Contracts;

namespace Vidline.ProgressGateway.Tests.Integration;

/// <summary>Against real PostgreSQL and RabbitMQ. Every test works on its own fresh job ids.</summary>
public class GatewayTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private readonly HttpClient _a = fixture.A.CreateClient();
    private readonly HttpClient _b = fixture.B.CreateClient();

    [Fact]
    public async Task Job_json_shows_the_row_and_its_latest_events()
    {
        var job = Guid.NewGuid();
        await fixture.Bus.Publish(Messages.Status(job, JobStatuses.Processing, Stages.Transcoding));
        await WaitForJob(job);
        await fixture.Bus.Publish(Messages.Progress(job, Stages.Transcoding, 50));
        await Eventually(async () => (await GetJob(job)).GetProperty("progress").GetDouble() == 30);

        var json = await GetJob(job);
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
        foreach (var job in jobs) await WaitForJob(job, status: "cancelled");

        var first = await GetJson("/jobs?status=cancelled&limit=2");
        Assert.Equal([jobs[2], jobs[1]], first.GetProperty("items").EnumerateArray().Select(j => j.GetProperty("id").GetGuid()));
        var cursor = first.GetProperty("next_cursor").GetString();
        Assert.NotNull(cursor);

        var second = await GetJson($"/jobs?status=cancelled&limit=2&cursor={Uri.EscapeDataString(cursor)}");
        Assert.Equal([jobs[0]], second.GetProperty("items").EnumerateArray().Select(j => j.GetProperty("id").GetGuid()));
        Assert.Equal(JsonValueKind.Null, second.GetProperty("next_cursor").ValueKind);
    }

    [Fact]
    public async Task Job_stream_sends_status_progress_stage_warning_done_then_closes()
    {
        var job = Guid.NewGuid();
        await fixture.Bus.Publish(Messages.Status(job, JobStatuses.Processing, Stages.Transcoding));
        await WaitForJob(job);

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
        Assert.Equal($"/outputs/{job}/hls/master.m3u8", done.Json.GetProperty("result").GetProperty("hls_manifest_url").GetString());
        Assert.Contains("heartbeat", stream.Comments);
        Assert.Null(await stream.NextAsync()); // closed by the server

        var json = await GetJob(job);
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
        var all = await StoredIds(job);
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
    public async Task Resume_mid_job_across_instances_has_no_gap_and_no_duplicate()
    {
        var job = Guid.NewGuid();
        await fixture.Bus.Publish(Messages.Status(job, JobStatuses.Processing, Stages.Transcoding));
        await WaitForJob(job);

        long lastSeen;
        await using (var first = await SseClient.OpenAsync(_a, $"/jobs/{job}/stream"))
        {
            await first.ExpectAsync(EventTypes.Status);
            await fixture.Bus.Publish(Messages.Progress(job, Stages.Transcoding, 10));
            lastSeen = (await first.ExpectAsync(EventTypes.Progress)).Id!.Value;
        }
        // While disconnected, more happens.
        for (var p = 20; p <= 60; p += 10) await fixture.Bus.Publish(Messages.Progress(job, Stages.Transcoding, p));
        await Eventually(async () => (await StoredIds(job)).Count == 7);

        await using var second = await SseClient.OpenAsync(_b, $"/jobs/{job}/stream", lastEventIdHeader: lastSeen.ToString());
        var received = new List<long>();
        for (var i = 0; i < 5; i++) received.Add((await second.ExpectAsync(EventTypes.Progress)).Id!.Value);
        await fixture.Bus.Publish(Messages.Status(job, JobStatuses.Completed, Stages.Storage, result: Messages.Result(job)));
        received.AddRange((await second.ReadToEndAsync()).Select(e => e.Id!.Value));

        Assert.Equal((await StoredIds(job)).Where(id => id > lastSeen), received);
    }

    [Fact]
    public async Task Concurrent_writers_on_both_instances_reach_a_streaming_client_complete_and_in_order()
    {
        var job = Guid.NewGuid();
        var logs = new[] { fixture.A, fixture.B }.Select(f => f.Services.GetRequiredService<EventLog>()).ToArray();
        await logs[0].ApplyStatusAsync(Messages.Status(job, JobStatuses.Processing, Stages.Transcoding), default);

        await using var stream = await SseClient.OpenAsync(_b, $"/jobs/{job}/stream");
        await stream.ExpectAsync(EventTypes.Status);

        var writers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 25; i++)
                await logs[w % 2].AppendProgressAsync([Messages.Progress(job, Stages.Transcoding, i * 4)], default);
        }));
        await Task.WhenAll(writers);
        await logs[1].ApplyStatusAsync(Messages.Status(job, JobStatuses.Completed, Stages.Storage, result: Messages.Result(job)), default);

        var received = (await stream.ReadToEndAsync()).Select(e => e.Id!.Value).ToList();
        Assert.Equal((await StoredIds(job)).Skip(1), received);
        Assert.Equal(201, received.Count);
    }

    [Fact]
    public async Task The_web_page_and_its_script_are_served()
    {
        var page = await _a.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("app.js", html);
        Assert.Contains("name=\"video\"", html);
        var script = await _a.GetStringAsync("/app.js");
        Assert.Contains("new EventSource('/progress/stream')", script);
    }

    [Fact]
    public async Task A_redelivered_progress_report_is_stored_once()
    {
        var job = Guid.NewGuid();
        await fixture.Bus.Publish(Messages.Status(job, JobStatuses.Processing, Stages.Transcoding));
        var duplicate = Messages.Progress(job, Stages.Transcoding, 40);
        await fixture.Bus.Publish(duplicate);
        await fixture.Bus.Publish(duplicate);
        await fixture.Bus.Publish(Messages.Progress(job, Stages.Transcoding, 45));
        await Eventually(async () => (await StoredIds(job)).Count >= 3);
        await Task.Delay(500); // let any straggling copy land

        await using var count = fixture.Db.CreateCommand("SELECT count(*) FROM progress_events WHERE message_id = @m");
        count.Parameters.AddWithValue("m", duplicate.EventId);
        Assert.Equal(1L, await count.ExecuteScalarAsync());
        Assert.Equal(3, (await StoredIds(job)).Count);

        // The same through the log directly reports nothing new stored.
        var log = fixture.A.Services.GetRequiredService<EventLog>();
        Assert.Equal(0, await log.AppendProgressAsync([duplicate, duplicate], CancellationToken.None));
    }

    [Fact]
    public async Task Progress_never_moves_backwards_and_a_finished_job_ignores_late_progress()
    {
        var job = Guid.NewGuid();
        var log = fixture.A.Services.GetRequiredService<EventLog>();

        // Progress before any status: a placeholder row keeps it.
        Assert.Equal(1, await log.AppendProgressAsync([Messages.Progress(job, Stages.Validation, 50)], default));
        var placeholder = await GetJob(job);
        Assert.Equal("pending", placeholder.GetProperty("status").GetString());
        Assert.Equal("", placeholder.GetProperty("key").GetString());
        Assert.Equal(60, placeholder.GetProperty("progress").GetDouble());

        // The status fills the row in; a report from an earlier stage arrives late.
        await log.ApplyStatusAsync(Messages.Status(job, JobStatuses.Processing, Stages.Validation), default);
        Assert.Equal(1, await log.AppendProgressAsync([Messages.Progress(job, Stages.Transcoding, 90)], default));
        var json = await GetJob(job);
        Assert.Equal($"videos/{job:N}.mp4", json.GetProperty("key").GetString());
        Assert.Equal(60, json.GetProperty("progress").GetDouble());
        Assert.Equal("validation", json.GetProperty("stage").GetString());

        // An older status delivered late changes nothing.
        var stale = Messages.Status(job, JobStatuses.Processing, Stages.Transcoding) with { Timestamp = DateTimeOffset.UtcNow.AddHours(-1) };
        Assert.Equal(0, await log.ApplyStatusAsync(stale, default));
        Assert.Equal("validation", (await GetJob(job)).GetProperty("stage").GetString());

        await log.ApplyStatusAsync(Messages.Status(job, JobStatuses.Cancelled, Stages.Validation), default);
        var before = await StoredIds(job);
        Assert.Equal(0, await log.AppendProgressAsync([Messages.Progress(job, Stages.Validation, 99)], default));
        Assert.Equal(0, await log.AppendWarningAsync(Messages.Warning(job, Stages.Validation, "late"), default));
        var after = await GetJob(job);
        Assert.Equal("cancelled", after.GetProperty("status").GetString());
        Assert.Equal(60, after.GetProperty("progress").GetDouble());
        Assert.Equal(before, await StoredIds(job));
    }

    [Fact]
    public async Task Progress_made_after_a_failure_belongs_to_a_retry_and_is_kept_but_earlier_progress_is_not()
    {
        var job = Guid.NewGuid();
        var log = fixture.A.Services.GetRequiredService<EventLog>();
        var madeBeforeFailure = Messages.Progress(job, Stages.Validation, 40);
        await log.ApplyStatusAsync(Messages.Status(job, JobStatuses.Processing, Stages.Validation), default);
        await log.ApplyStatusAsync(Messages.Status(job, JobStatuses.Failed, Stages.Validation, error: "gate"), default);

        // A straggler from before the failure stays out; the retried stage's first report (made after
        // the failure, overtaking the retry's status) is kept.
        Assert.Equal(0, await log.AppendProgressAsync([madeBeforeFailure], default));
        Assert.Equal(1, await log.AppendProgressAsync([Messages.Progress(job, Stages.Validation, 0)], default));
    }

    [Fact]
    public async Task A_client_on_instance_B_sees_events_stored_by_instance_A()
    {
        var job = Guid.NewGuid();
        var logA = fixture.A.Services.GetRequiredService<EventLog>();
        await logA.ApplyStatusAsync(Messages.Status(job, JobStatuses.Processing, Stages.Transcoding), default);

        await using var onB = await SseClient.OpenAsync(_b, $"/jobs/{job}/stream");
        await using var onA = await SseClient.OpenAsync(_a, $"/jobs/{job}/stream");
        await onB.ExpectAsync(EventTypes.Status);
        await onA.ExpectAsync(EventTypes.Status);

        await logA.AppendProgressAsync([Messages.Progress(job, Stages.Transcoding, 30)], default);
        await logA.AppendWarningAsync(Messages.Warning(job, Stages.Transcoding, "odd audio"), default);
        // And through the broker: whichever instance consumes them, both clients see them.
        for (var p = 40; p <= 80; p += 10) await fixture.Bus.Publish(Messages.Progress(job, Stages.Transcoding, p));
        await Eventually(async () => (await StoredIds(job)).Count == 8);
        await logA.ApplyStatusAsync(Messages.Status(job, JobStatuses.Completed, Stages.Storage, result: Messages.Result(job)), default);

        var seenOnB = await onB.ReadToEndAsync();
        var seenOnA = await onA.ReadToEndAsync();
        var stored = await StoredIds(job);
        Assert.Equal(stored.Skip(1), seenOnB.Select(e => e.Id!.Value));
        Assert.Equal(stored.Skip(1), seenOnA.Select(e => e.Id!.Value));
        Assert.Equal(EventTypes.Done, seenOnB[^1].Event);
    }

    [Fact]
    public async Task All_jobs_stream_filters_by_job_ids_and_resumes()
    {
        var (watched1, watched2, other) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        foreach (var job in new[] { watched1, other })
            await fixture.Bus.Publish(Messages.Status(job, JobStatuses.Processing, Stages.Transcoding));
        await WaitForJob(watched1);
        await WaitForJob(other);

        await using var stream = await SseClient.OpenAsync(_b, $"/progress/stream?jobs={watched1},{watched2}");
        var snapshot = await stream.ExpectAsync(EventTypes.Status);
        Assert.Equal(watched1, snapshot.Json.GetProperty("id").GetGuid());

        await fixture.Bus.Publish(Messages.Progress(other, Stages.Transcoding, 10));
        await fixture.Bus.Publish(Messages.Progress(watched1, Stages.Transcoding, 10));
        var first = await stream.ExpectAsync(EventTypes.Progress);
        Assert.Equal(watched1, first.Json.GetProperty("job_id").GetGuid());

        await fixture.Bus.Publish(Messages.Status(watched2, JobStatuses.Processing, Stages.Transcoding));
        var second = await stream.ExpectAsync(EventTypes.Stage);
        Assert.Equal(watched2, second.Json.GetProperty("job_id").GetGuid());

        // Jobs finishing does not end the many-jobs stream.
        await fixture.Bus.Publish(Messages.Status(watched1, JobStatuses.Completed, Stages.Storage, result: Messages.Result(watched1)));
        var done = await stream.ExpectAsync(EventTypes.Done);
        await fixture.Bus.Publish(Messages.Progress(watched2, Stages.Transcoding, 50));
        var after = await stream.ExpectAsync(EventTypes.Progress);
        Assert.Equal(watched2, after.Json.GetProperty("job_id").GetGuid());
        Assert.True(first.Id < second.Id && second.Id < done.Id && done.Id < after.Id);

        // Resume on the other instance from the first event: exactly what followed, for these jobs only.
        await using var resumed = await SseClient.OpenAsync(_a, $"/progress/stream?jobs={watched1},{watched2}&lastEventId={first.Id}");
        var replay = new List<long>();
        for (var i = 0; i < 3; i++) replay.Add((await resumed.NextAsync())!.Id!.Value);
        Assert.Equal([second.Id!.Value, done.Id!.Value, after.Id!.Value], replay);
    }

    [Fact]
    public async Task All_jobs_stream_status_filter_and_stats()
    {
        var job = Guid.NewGuid();
        await fixture.Bus.Publish(Messages.Status(job, JobStatuses.Pending, Stages.Uploading));
        await WaitForJob(job, status: "pending");

        await using var processing = await SseClient.OpenAsync(_a, "/progress/stream?status=processing");
        await using var perJob = await SseClient.OpenAsync(_a, $"/jobs/{job}/stream");
        await perJob.ExpectAsync(EventTypes.Status);

        var stats = await GetJson("/progress/stats");
        Assert.False(string.IsNullOrEmpty(stats.GetProperty("instance_id").GetString()));
        Assert.True(stats.GetProperty("connected_clients").GetProperty("all").GetInt32() >= 1);
        Assert.True(stats.GetProperty("connected_clients").GetProperty("job").GetInt32() >= 1);
        Assert.True(stats.GetProperty("connected_clients").GetProperty("total").GetInt32() >= 2);
        Assert.True(stats.GetProperty("events_stored_total").GetInt64() >= 0);
        stats.GetProperty("events_per_second").GetDouble();
        Assert.NotEqual(stats.GetProperty("instance_id").GetString(),
            (await GetJson("/progress/stats", _b)).GetProperty("instance_id").GetString());

        // Progress of the pending job is not shown to the `processing` stream; once it is processing, it is.
        await fixture.Bus.Publish(Messages.Progress(job, Stages.Uploading, 50));
        await perJob.ExpectAsync(EventTypes.Progress);
        await fixture.Bus.Publish(Messages.Status(job, JobStatuses.Processing, Stages.Transcoding));
        await perJob.ExpectAsync(EventTypes.Stage);
        await fixture.Bus.Publish(Messages.Progress(job, Stages.Transcoding, 50));
        await perJob.ExpectAsync(EventTypes.Progress);

        SseEvent? seen;
        do seen = await processing.NextAsync(); while (seen is not null && !Is(seen, job));
        Assert.NotNull(seen);
        Assert.Equal(EventTypes.Stage, seen.Event);
        static bool Is(SseEvent e, Guid job) =>
            e.Json.TryGetProperty("job_id", out var id) ? id.GetGuid() == job : e.Json.GetProperty("id").GetGuid() == job;
    }

    [Fact]
    public async Task Retention_removes_old_jobs_their_events_and_files()
    {
        var (old, fresh) = (Guid.NewGuid(), Guid.NewGuid());
        var log = fixture.A.Services.GetRequiredService<EventLog>();
        await log.ApplyStatusAsync(Messages.Status(old, JobStatuses.Completed, Stages.Storage, result: Messages.Result(old)), default);
        await log.ApplyStatusAsync(Messages.Status(fresh, JobStatuses.Completed, Stages.Storage, result: Messages.Result(fresh)), default);
        await using (var age = fixture.Db.CreateCommand("UPDATE jobs SET completed_at = now() - interval '8 days', updated_at = now() - interval '8 days' WHERE id = @id"))
        {
            age.Parameters.AddWithValue("id", old);
            await age.ExecuteNonQueryAsync();
        }
        foreach (var folder in new[] { "outputs", "work", "uploads" })
        {
            Directory.CreateDirectory(Path.Combine(fixture.StorageRoot, folder, old.ToString("N"), "sub"));
            File.WriteAllText(Path.Combine(fixture.StorageRoot, folder, old.ToString("N"), "sub", "x.bin"), "x");
            Directory.CreateDirectory(Path.Combine(fixture.StorageRoot, folder, fresh.ToString("N")));
        }

        var removed = await fixture.B.Services.GetRequiredService<RetentionSweep>().SweepAsync(default);

        Assert.Contains(old, removed);
        Assert.DoesNotContain(fresh, removed);
        Assert.Equal(HttpStatusCode.NotFound, (await _a.GetAsync($"/jobs/{old}")).StatusCode);
        Assert.Empty(await StoredIds(old));
        Assert.Equal(HttpStatusCode.OK, (await _a.GetAsync($"/jobs/{fresh}")).StatusCode);
        foreach (var folder in new[] { "outputs", "work", "uploads" })
        {
            Assert.False(Directory.Exists(Path.Combine(fixture.StorageRoot, folder, old.ToString("N"))));
            Assert.True(Directory.Exists(Path.Combine(fixture.StorageRoot, folder, fresh.ToString("N"))));
        }
    }

    // ------------------------------------------------------------------------------------------ helpers

    /// <summary>A job run to its end through the broker: stage, progress, warning, stage, done.</summary>
    private async Task<Guid> FinishedJob(string finalStatus, string? error = null)
    {
        var job = Guid.NewGuid();
        await fixture.Bus.Publish(Messages.Status(job, JobStatuses.Processing, Stages.Transcoding));
        await WaitForJob(job);
        await fixture.Bus.Publish(Messages.Progress(job, Stages.Transcoding, 50));
        await fixture.Bus.Publish(Messages.Warning(job, Stages.Transcoding, "audio track missing"));
        await Eventually(async () => (await StoredIds(job)).Count == 3);
        await fixture.Bus.Publish(Messages.Status(job, JobStatuses.Processing, Stages.Packaging));
        await Eventually(async () => (await StoredIds(job)).Count == 4);
        await fixture.Bus.Publish(Messages.Status(job, finalStatus, Stages.Packaging, error: error,
            result: finalStatus == JobStatuses.Completed ? Messages.Result(job) : null));
        await WaitForJob(job, finalStatus);
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

    private async Task<List<long>> StoredIds(Guid job)
    {
        await using var command = fixture.Db.CreateCommand("SELECT id FROM progress_events WHERE job_id = @j ORDER BY id");
        command.Parameters.AddWithValue("j", job);
        var ids = new List<long>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) ids.Add(reader.GetInt64(0));
        return ids;
    }

    private async Task WaitForJob(Guid job, string? status = null) =>
        await Eventually(async () =>
        {
            var response = await _a.GetAsync($"/jobs/{job}");
            if (response.StatusCode != HttpStatusCode.OK) return false;
            var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            return status is null || json.GetProperty("status").GetString() == status;
        });

    private async Task<JsonElement> GetJob(Guid job) => await GetJson($"/jobs/{job}");

    private async Task<JsonElement> GetJson(string url, HttpClient? client = null)
    {
        var response = await (client ?? _a).GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{url}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement;
    }

    private static async Task Eventually(Func<Task<bool>> condition, int timeoutSeconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met in time");
            await Task.Delay(100);
        }
    }
}
