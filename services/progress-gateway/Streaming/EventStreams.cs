using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Vidline.Contracts;

namespace Vidline.ProgressGateway.Streaming;

/// <summary>
/// Opens the two kinds of stream: one job's, and many jobs' on one connection. What a stream holds in memory is
/// bounded in bytes: its snapshots (<see cref="SseOptions.SnapshotMaxBytes"/>), its replay
/// (<see cref="SseOptions.ReplayMaxBytes"/>: a client further behind, or resuming from outside the stored history,
/// starts afresh with a <c>status</c> snapshot instead), its turn to open (<see cref="StreamOpenings"/>) and its live buffer (<see cref="SseOptions.ClientBufferSize"/> events, shared with every other client).
/// </summary>
public sealed class EventStreams(LiveFeed feed, EventTailer tailer, EventHistory history, JobQueries jobs, StreamOpenings openings,
    IOptions<SseOptions> options)
{
    public const string JobScope = "job";
    public const string AllScope = "all";
    private const int SnapshotLimit = 100;

    /// <returns>The stream, 404 for an unknown job (or another tenant's than <paramref name="owner"/>), or 204 (which
    /// tells EventSource to stop reconnecting) when the client already has the job's <c>done</c>.</returns>
    public Task<IResult> ForJobAsync(Guid jobId, string owner, long? lastEventId, CancellationToken ct) =>
        OpenAsync(EventFilter.ForJob(jobId, owner), JobScope, async opening =>
        {
            var snapshot = await jobs.SnapshotAsync(jobId, owner, ct);
            if (snapshot is null)
                return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Job not found",
                    detail: $"There is no job {jobId}.");
            // The stream follows the job's current run and ends at that run's `done`.
            var run = snapshot.Job.Run;
            List<SseFrame> prelude = [];
            if (lastEventId is { } resumeFrom)
            {
                var afresh = await ReasonToStartAfreshAsync(resumeFrom, opening.Filter, ct);
                if (afresh is null && snapshot.DoneEventId is { } doneId && resumeFrom >= doneId) return TypedResults.NoContent();
                if (afresh is null) return opening.Stream([], resumeFrom, endsRun: run);
                prelude.Add(afresh.Value);
            }

            prelude.Add(new SseFrame(EventTypes.Status, Json(snapshot.Job), snapshot.SnapshotEventId));
            return opening.Stream(prelude, snapshot.SnapshotEventId ?? 0, endsRun: run);
        }, ct);

    /// <summary>
    /// Many jobs on one connection; it never ends on a job's <c>done</c>. A fresh client first gets a status
    /// snapshot of each matching job (the newest 100 that fit in the snapshot budget), all carrying the id they
    /// are current to.
    /// </summary>
    public Task<IResult> ForManyAsync(EventFilter filter, long? lastEventId, CancellationToken ct) =>
        OpenAsync(filter, AllScope, async opening =>
        {
            List<SseFrame> prelude = [];
            if (lastEventId is { } resumeFrom)
            {
                if (await ReasonToStartAfreshAsync(resumeFrom, filter, ct) is not { } afresh)
                    return opening.Stream([], resumeFrom, endsRun: null);
                prelude.Add(afresh);
            }

            var snapshots = new List<string>();
            var budget = options.Value.SnapshotMaxBytes;
            var (latestId, reflected) = await jobs.SnapshotsAsync(filter, SnapshotLimit, job =>
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
            return opening.Stream(prelude, latestId, endsRun: null, alreadySent: new ReflectedEvents(reflected));
        }, ct);

    /// <summary>
    /// Whether a client resuming after <paramref name="resumeFrom"/> gets the exact replay (null) or starts afresh from
    /// status snapshots, told why in a comment: an id newer than any stored was never issued (resuming from it would skip
    /// every event up to it, <c>done</c> included); one older than the oldest stored, with an event after it forgotten
    /// (an expired job's), may have lost events to retention; and a replay heavier than
    /// <see cref="SseOptions.ReplayMaxBytes"/> costs more than a snapshot.
    /// </summary>
    private async Task<SseFrame?> ReasonToStartAfreshAsync(long resumeFrom, EventFilter filter, CancellationToken ct)
    {
        var (oldest, newest, forgotten) = await history.RetainedAsync(ct);
        if (resumeFrom > newest)
            return new SseFrame(Comment: "Last-Event-ID is newer than any event; starting afresh from a status snapshot");
        if (resumeFrom < forgotten && (resumeFrom < oldest || oldest == 0))
            return new SseFrame(Comment: "Last-Event-ID is older than the retained history; starting afresh from a status snapshot");
        if (await history.ExceedsAsync(resumeFrom, filter, options.Value.ReplayMaxBytes, ct))
            return new SseFrame(Comment: "too much to replay since Last-Event-ID; starting afresh from a status snapshot");
        return null;
    }

    /// <summary>
    /// Takes a turn to open (<see cref="StreamOpenings"/>) and subscribes before reading anything, so no event can
    /// fall between the read and the live feed. A stream keeps both; any other answer gives them back at once.
    /// </summary>
    private async Task<IResult> OpenAsync(EventFilter filter, string scope, Func<Opening, Task<IResult>> open, CancellationToken ct)
    {
        await tailer.Ready.WaitAsync(ct);
        var turn = await openings.EnterAsync(ct);
        var subscription = feed.Subscribe(filter, options.Value.ClientBufferSize, scope);
        try
        {
            var result = await open(new Opening(subscription, turn, history, options.Value));
            if (result is not EventStreamResult)
            {
                subscription.Dispose();
                turn.Dispose();
            }
            return result;
        }
        catch
        {
            subscription.Dispose();
            turn.Dispose();
            throw;
        }
    }

    private sealed record Opening(LiveFeed.Subscription Subscription, IDisposable Turn, EventHistory History, SseOptions Options)
    {
        public EventFilter Filter => Subscription.Filter;

        public EventStreamResult Stream(List<SseFrame> prelude, long cursor, int? endsRun, ReflectedEvents? alreadySent = null) =>
            new(prelude, cursor, Subscription, Turn, History, Options, endsRun, alreadySent);
    }

    private static string Json(JobView job) => JsonSerializer.Serialize(job, ServiceDefaults.ServiceDefaults.ApiJson);
}
