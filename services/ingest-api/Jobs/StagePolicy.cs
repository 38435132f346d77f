namespace Vidline.IngestApi.Jobs;

/// <summary>How hard the saga tries a stage (section <c>Stages</c>, e.g. <c>Stages__StallTimeout=00:02:00</c>).</summary>
public sealed class StagePolicy
{
    /// <summary>Dispatches of one stage before the job fails (a crash, a silent node or a transient fault each use one).</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>A stage that reports no progress for this long is presumed dead and dispatched again.</summary>
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often the sweep looks for stalled stages.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(10);
}
