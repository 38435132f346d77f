namespace Vidline.ProgressGateway;

/// <summary>Server-Sent Events tuning (section <c>Sse</c>).</summary>
public sealed class SseOptions
{
    public int HeartbeatSeconds { get; set; } = 15;

    /// <summary>Sent as the <c>retry:</c> field: how long a browser waits before reconnecting.</summary>
    public int RetryMilliseconds { get; set; } = 2000;

    /// <summary>Events a client may fall behind by before it is disconnected (it resumes with Last-Event-ID).</summary>
    public int ClientBufferSize { get; set; } = 1000;

    /// <summary>
    /// Most bytes of job snapshots a fresh all-jobs stream starts with: the newest jobs that fit (at most 100).
    /// Older jobs are a page of <c>GET /jobs</c> away.
    /// </summary>
    public int SnapshotMaxBytes { get; set; } = 256 * 1024;

    /// <summary>
    /// Most bytes of events replayed to a client resuming with Last-Event-ID. A client further behind gets what a
    /// fresh client gets (a <c>status</c> snapshot, then live events) instead of the replay.
    /// </summary>
    public int ReplayMaxBytes { get; set; } = 1024 * 1024;

    /// <summary>Streams that may be opening (reading and sending their snapshots or replay) at the same time.</summary>
    public int ConcurrentOpens { get; set; } = 16;

    /// <summary>How long a new stream waits for its turn to open before it is answered 503 with Retry-After.</summary>
    public int OpenWaitSeconds { get; set; } = 10;
}
