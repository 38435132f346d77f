using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Vidline.Contracts;

namespace Vidline.ProgressGateway.Streaming;

/// <summary>
/// Opens the two kinds of stream: one job's, and many jobs' on one connection. What a stream holds in memory is
/// bounded in bytes: its snapshots (<see cref="SseOptions.SnapshotMaxBytes"/>), its replay
/// (<see cref="SseOptions.ReplayMaxBytes"/>: a client further behind starts afresh with a <c>status</c> snapshot
/// instead) and its live buffer (<see cref="SseOptions.ClientBufferSize"/> events, shared with every other client).
/// </summary>
public sealed class EventStreams(LiveFeed feed, EventTailer tailer, EventHistory history, JobQueries jobs, IOptions<SseOptions> options)
{
    public const string JobScope = "job";
    public const string AllScope = "all";
    private const int SnapshotLimit = 100;
    private static readonly SseFrame ReplayTooLarge =
        new(Comment: "too much to replay since Last-Event-ID; starting afresh from a status snapshot");

    /// <returns>The stream, 404 for an unknown job, or 204 (which tells EventSource to stop reconnecting)
    /// when the client already has the job's <c>done</c>.</returns>
    public async Task<IResult> ForJobAsync(Guid jobId, long? lastEventId, CancellationToken ct)
    {
        await tailer.Ready.WaitAsync(ct);
        // Subscribe before reading anything, so no event can fall between the read and the live feed.
        var filter = EventFilter.ForJob(jobId);
        var subscription = feed.Subscribe(filter, options.Value.ClientBufferSize, JobScope);
        try
        {
            var snapshot = await jobs.SnapshotAsync(jobId, ct);
            if (snapshot is null)
            {
                subscription.Dispose();
                return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Job not found",
                    detail: $"There is no job {jobId}.");
            }
            // The stream follows the job's current run and ends at that run's `done`.
            var run = snapshot.Job.Run;
            List<SseFrame> prelude = [];
            if (lastEventId is { } resumeFrom)
            {
                if (snapshot.DoneEventId is { } doneId && resumeFrom >= doneId)
                {
                    subscription.Dispose();
                    return TypedResults.NoContent();
                }
                if (!await history.ExceedsAsync(resumeFrom, filter, options.Value.ReplayMaxBytes, ct))
                    return Stream([], resumeFrom, subscription, endsRun: run);
                prelude.Add(ReplayTooLarge);
            }

            prelude.Add(new SseFrame(EventTypes.Status, Json(snapshot.Job), snapshot.SnapshotEventId));
            return Stream(prelude, snapshot.SnapshotEventId ?? 0, subscription, endsRun: run);
        }
        catch
        {
            subscription.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Many jobs on one connection; it never ends on a job's <c>done</c>. A fresh client first gets a status
    /// snapshot of each matching job (the newest 100 that fit in the snapshot budget), all carrying the id they
    /// are current to.
    /// </summary>
    public async Task<IResult> ForManyAsync(EventFilter filter, long? lastEventId, CancellationToken ct)
    {
        await tailer.Ready.WaitAsync(ct);
        var subscription = feed.Subscribe(filter, options.Value.ClientBufferSize, AllScope);
        try
        {
            List<SseFrame> prelude = [];
            if (lastEventId is { } resumeFrom)
            {
                if (!await history.ExceedsAsync(resumeFrom, filter, options.Value.ReplayMaxBytes, ct))
                    return Stream([], resumeFrom, subscription, endsRun: null);
                prelude.Add(ReplayTooLarge);
            }

            var snapshots = new List<string>();
            var budget = options.Value.SnapshotMaxBytes;
            var latestId = await jobs.SnapshotsAsync(filter, SnapshotLimit, job =>
            {
                var json = Json(job);
                budget -= Encoding.UTF8.GetByteCount(json);
                if (budget < 0) return false;
                snapshots.Add(json);
                return true;
            }, ct);
            // Oldest first, so a client that appends rows as they come shows the newest at the end it expects.
            snapshots.Reverse();
            prelude.AddRange(snapshots.Select(json => new SseFrame(EventTypes.Status, json, latestId)));
            return Stream(prelude, latestId, subscription, endsRun: null);
        }
        catch
        {
            subscription.Dispose();
            throw;
        }
    }

    private EventStreamResult Stream(List<SseFrame> prelude, long cursor, LiveFeed.Subscription subscription, int? endsRun) =>
        new(prelude, cursor, subscription, history, options.Value, endsRun);

    private static string Json(JobView job) => JsonSerializer.Serialize(job, ServiceDefaults.ServiceDefaults.ApiJson);
}
