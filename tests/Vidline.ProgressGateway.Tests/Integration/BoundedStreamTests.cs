using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Vidline.Contracts;

namespace Vidline.ProgressGateway.Tests.Integration;

/// <summary>What a stream sends at its start is capped in bytes, and a client beyond the cap is told, never left with a silent gap.</summary>
[Collection(nameof(GatewayFixture))]
public class BoundedStreamTests(GatewayFixture fixture)
{
    private readonly HttpClient _a = fixture.A.CreateClient();
    private readonly SseOptions _options = fixture.A.Services.GetRequiredService<IOptions<SseOptions>>().Value;
    private EventLog Log => fixture.A.Services.GetRequiredService<EventLog>();

    [Fact]
    public async Task A_client_too_far_behind_gets_a_status_snapshot_instead_of_the_replay_then_the_rest_exactly()
    {
        var job = Guid.NewGuid();
        await Log.ApplyStatusAsync(Messages.Status(job, JobStatuses.Processing, Stages.Transcoding), default);
        var resumeFrom = (await fixture.StoredIds(job))[0];
        await FillBeyondReplayCap(job);

        await using var stream = await SseClient.OpenAsync(_a, $"/jobs/{job}/stream", lastEventIdHeader: resumeFrom.ToString());
        var status = await stream.ExpectAsync(EventTypes.Status);
        Assert.Contains(stream.Comments, c => c.Contains("too much to replay"));
        Assert.Equal((await fixture.StoredIds(job))[^1], status.Id);

        await Log.ApplyStatusAsync(Messages.Status(job, JobStatuses.Completed, Stages.Storage, result: Messages.Result(job)), default);
        var rest = await stream.ReadToEndAsync();
        var ids = await fixture.StoredIds(job);
        Assert.Equal([EventTypes.Done], rest.Select(e => e.Event));
        Assert.Equal(ids[^1], rest[0].Id);

        // Within the cap, a resume is still an exact replay.
        await using var near = await SseClient.OpenAsync(_a, $"/jobs/{job}/stream", lastEventIdHeader: ids[^3].ToString());
        Assert.Equal([ids[^2], ids[^1]], (await near.ReadToEndAsync()).Select(e => e.Id!.Value));
    }

    [Fact]
    public async Task The_all_jobs_stream_falls_back_to_snapshots_of_the_newest_jobs_that_fit_its_byte_budget()
    {
        // One running job, first and so oldest, whose warnings outweigh the replay cap; then 60 failed jobs with the
        // longest key allowed and an error longer than the gateway keeps.
        var busy = Guid.NewGuid();
        await Log.ApplyStatusAsync(Messages.Status(busy, JobStatuses.Processing, Stages.Transcoding), default);
        var resumeFrom = (await fixture.StoredIds(busy))[0] - 1;
        await FillBeyondReplayCap(busy);
        var failed = Enumerable.Range(0, 60).Select(_ => Guid.NewGuid()).ToList();
        foreach (var job in failed)
            await Log.ApplyStatusAsync(Messages.Status(job, JobStatuses.Failed, Stages.Transcoding, error: new string('e', 20_000))
                with { Key = new string('k', 512) }, default);

        foreach (var lastEventId in new[] { "", $"&lastEventId={resumeFrom}" })
        {
            // A job that starts after the stream opened marks the end of its snapshots.
            var marker = Guid.NewGuid();
            await using var stream = await SseClient.OpenAsync(_a, $"/progress/stream?jobs={string.Join(',', [busy, .. failed, marker])}{lastEventId}");
            var snapshots = new List<SseEvent>();
            snapshots.Add(await stream.ExpectAsync(EventTypes.Status));
            await Log.ApplyStatusAsync(Messages.Status(marker, JobStatuses.Processing, Stages.Transcoding), default);
            while (await stream.NextAsync() is { Event: EventTypes.Status } e) snapshots.Add(e);

            Assert.InRange(snapshots.Sum(e => Encoding.UTF8.GetByteCount(e.Data)), 1, _options.SnapshotMaxBytes);
            Assert.InRange(snapshots.Count, 1, failed.Count - 1);
            // The newest jobs, oldest of them first; every error stored no longer than the gateway keeps.
            Assert.Equal(failed.TakeLast(snapshots.Count), snapshots.Select(e => e.Json.GetProperty("id").GetGuid()));
            Assert.All(snapshots, e => Assert.Equal(StoredFields.MaxChars, e.Json.GetProperty("error_message").GetString()!.Length));
        }
    }

    /// <summary>Warnings as long as the gateway stores them, until the job's events outweigh the replay cap.</summary>
    private async Task FillBeyondReplayCap(Guid job)
    {
        var warnings = _options.ReplayMaxBytes / StoredFields.MaxChars + 2;
        for (var i = 0; i < warnings; i++)
            await Log.AppendWarningAsync(Messages.Warning(job, Stages.Transcoding, new string('w', 10_000)), default);
    }
}
