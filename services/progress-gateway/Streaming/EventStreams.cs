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
            // Finished without a stored `done` (e.g. the row predates it): say so from the row rather than hang.
            SseFrame? doneFallback = snapshot.IsFinal && snapshot.DoneEventId is null ? DoneFrom(snapshot.Job) : null;
            // A `done` followed by a retry is history, not the end: only the job's latest `done` closes the stream.
            var staleDoneUpTo = snapshot.IsFinal ? (snapshot.DoneEventId ?? 1) - 1 : snapshot.DoneEventId ?? 0;

            if (lastEventId is { } resumeFrom)
            {
                if (snapshot.DoneEventId is { } doneId && snapshot.IsFinal && resumeFrom >= doneId)
                {
                    subscription.Dispose();
                    return TypedResults.NoContent();
                }
                return new EventStreamResult([], resumeFrom, subscription, history, options.Value, endAfterDone: true, doneFallback, staleDoneUpTo);
            }

            var status = new SseFrame(EventTypes.Status, Json(snapshot.Job), snapshot.SnapshotEventId);
            return new EventStreamResult([status], snapshot.SnapshotEventId ?? 0, subscription, history, options.Value,
                endAfterDone: true, doneFallback, staleDoneUpTo);
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
                return new EventStreamResult([], resumeFrom, subscription, history, options.Value, endAfterDone: false);

            var (snapshots, latestId) = await jobs.SnapshotsAsync(filter, SnapshotLimit, ct);
            var prelude = snapshots.Select(job => new SseFrame(EventTypes.Status, Json(job), latestId)).ToList();
            return new EventStreamResult(prelude, latestId, subscription, history, options.Value, endAfterDone: false);
        }
        catch
        {
            subscription.Dispose();
            throw;
        }
    }

    private static SseFrame DoneFrom(JobView job) => new(EventTypes.Done, JsonSerializer.Serialize(new
    {
        job_id = job.Id,
        status = job.Status,
        error_message = job.ErrorMessage,
        result = job.Result,
    }, ServiceDefaults.ServiceDefaults.ApiJson));

    private static string Json(JobView job) => JsonSerializer.Serialize(job, ServiceDefaults.ServiceDefaults.ApiJson);
}
