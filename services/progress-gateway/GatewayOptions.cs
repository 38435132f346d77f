namespace Vidline.ProgressGateway;

/// <summary>Server-Sent Events tuning (section <c>Sse</c>).</summary>
public sealed class SseOptions
{
    public int HeartbeatSeconds { get; set; } = 15;

    /// <summary>Sent as the <c>retry:</c> field: how long a browser waits before reconnecting.</summary>
    public int RetryMilliseconds { get; set; } = 2000;

    /// <summary>Events a client may fall behind by before it is disconnected (it resumes with Last-Event-ID).</summary>
    public int ClientBufferSize { get; set; } = 1000;
}
