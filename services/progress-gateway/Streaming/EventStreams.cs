using System.Text.Json;
using Microsoft.Extensions.Options;
using Vidline.Contracts;

namespace Vidline.ProgressGateway.Streaming;

/// <summary>Opens the two kinds of stream: one job's, and many jobs' on one connection.</summary>
public sealed class EventStreams(LiveFeed feed, EventTailer tailer, EventHistory history, JobQueries jobs, IOptions<SseOptions> options)
{
    public const string JobScope = "job";
    public const string AllScope = "all";
    private const int SnapshotLimit = 100;

    /// <returns>The stream, 404 for an unknown job, or 204 (which tells EventSource to stop reconnecting)
    /// when the client already has the job's <c>done</c>.</returns>
    public async Task<IResult> ForJobAsync(Guid jobId, long? lastEventId, CancellationToken ct)
    {
        await tailer.Ready.WaitAsync(ct);
        // Subscribe before reading anything, so no event can fall between the read and the live feed.
        var subscription = feed.Subscribe(EventFilter.ForJob(jobId), options.Value.ClientBufferSize, JobScope);
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
            if (lastEventId is { } resumeFrom)
            {
                if (snapshot.DoneEventId is { } doneId && resumeFrom >= doneId)
                {
                    subscription.Dispose();
                    return TypedResults.NoContent();
                }
                return new EventStreamResult([], resumeFrom, subscription, history, options.Value, endsRun: run);
            }

            var status = new SseFrame(EventTypes.Status, Json(snapshot.Job), snapshot.SnapshotEventId);
            return new EventStreamResult([status], snapshot.SnapshotEventId ?? 0, subscription, history, options.Value, endsRun: run);
        }
        catch
        {
            subscription.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Many jobs on one connection; it never ends on a job's <c>done</c>. A fresh client first gets a status
    /// snapshot of each matching job (newest 100), all carrying the id they are current to.
    /// </summary>
    public async Task<IResult> ForManyAsync(EventFilter filter, long? lastEventId, CancellationToken ct)
    {
        await tailer.Ready.WaitAsync(ct);
        var subscription = feed.Subscribe(filter, options.Value.ClientBufferSize, AllScope);
        try
        {
            if (lastEventId is { } resumeFrom)
                return new EventStreamResult([], resumeFrom, subscription, history, options.Value, endsRun: null);

            var (snapshots, latestId) = await jobs.SnapshotsAsync(filter, SnapshotLimit, ct);
            var prelude = snapshots.Select(job => new SseFrame(EventTypes.Status, Json(job), latestId)).ToList();
            return new EventStreamResult(prelude, latestId, subscription, history, options.Value, endsRun: null);
        }
        catch
        {
            subscription.Dispose();
            throw;
        }
    }

    private static string Json(JobView job) => JsonSerializer.Serialize(job, ServiceDefaults.ServiceDefaults.ApiJson);
}
