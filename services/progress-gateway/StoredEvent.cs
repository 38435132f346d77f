namespace Vidline.ProgressGateway;

/// <summary>
/// One row of <c>progress_events</c> as streamed: <c>Data</c> is the SSE payload, already JSON; <c>Run</c> the run
/// of the job it belongs to. <c>JobStatus</c> is the job's status when the row was read, for the <c>?status=</c> filter;
/// <c>JobOwner</c> the job's tenant, so an event reaches only its tenant's streams.
/// </summary>
public sealed record StoredEvent(long Id, Guid JobId, int Run, string Type, string Data, string JobStatus, string JobOwner = "")
{
    /// <summary>
    /// Read at or above the horizon: in order among its own job's events, but an id of another job may still commit
    /// below it, so only a stream of exactly one job may take it (<see cref="LiveFeed.Publish"/>).
    /// </summary>
    public bool PastHorizon { get; init; }

    private string? _wire;

    /// <summary>The event as every client is sent it: formatted once, not once per client.</summary>
    public string Wire => _wire ??= Streaming.SseFrame.For(this).ToString();

    /// <summary>The last event of run <paramref name="run"/> or a later one: a per-job stream that follows that run ends here.</summary>
    public bool EndsRun(int run) => Type == Vidline.Contracts.EventTypes.Done && Run >= run;
}
