namespace Vidline.IngestApi.Jobs;

/// <summary>How hard the saga tries a stage (section <c>Stages</c>, e.g. <c>Stages__StallTimeout=00:02:00</c>).</summary>
public sealed class StagePolicy
{
    /// <summary>Dispatches of one stage before the job fails (a crash, a silent node or a transient fault each use one).</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>A node at work that sends no heartbeat for this long is presumed dead; the stage is dispatched again.</summary>
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// A command no node has taken for this long is presumed lost and dispatched again. Waiting in a busy queue is
    /// normal, so this is much longer than <see cref="StallTimeout"/>.
    /// </summary>
    public TimeSpan QueueTimeout { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often the sweep looks for stalled stages.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(10);
}
