using Vidline.Contracts;

namespace Vidline.ProgressGateway.Tests.Integration;

/// <summary>The many-jobs stream: filters by job ids and status, resume, and the stats it reports.</summary>
[Collection(nameof(GatewayFixture))]
public class AllJobsStreamTests(GatewayFixture fixture)
{
    private readonly HttpClient _a = fixture.A.CreateClient();
    private readonly HttpClient _b = fixture.B.CreateClient();

    [Fact]
    public async Task All_jobs_stream_filters_by_job_ids_and_resumes()
    {
        var (watched1, watched2, other) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        foreach (var job in new[] { watched1, other })
            await fixture.Bus.Publish(Messages.Status(job, JobStatuses.Processing, Stages.Transcoding));
        await fixture.WaitForJob(watched1);
        await fixture.WaitForJob(other);

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
        await fixture.WaitForJob(job, status: "pending");

        await using var processing = await SseClient.OpenAsync(_a, "/progress/stream?status=processing");
        await using var perJob = await SseClient.OpenAsync(_a, $"/jobs/{job}/stream");
        await perJob.ExpectAsync(EventTypes.Status);

        var stats = await fixture.GetJson("/progress/stats");
        Assert.False(string.IsNullOrEmpty(stats.GetProperty("instance_id").GetString()));
        Assert.True(stats.GetProperty("connected_clients").GetProperty("all").GetInt32() >= 1);
        Assert.True(stats.GetProperty("connected_clients").GetProperty("job").GetInt32() >= 1);
        Assert.True(stats.GetProperty("connected_clients").GetProperty("total").GetInt32() >= 2);
        Assert.True(stats.GetProperty("events_stored_total").GetInt64() >= 0);
        stats.GetProperty("events_per_second").GetDouble();
        Assert.NotEqual(stats.GetProperty("instance_id").GetString(),
            (await fixture.GetJson("/progress/stats", _b)).GetProperty("instance_id").GetString());

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
}
