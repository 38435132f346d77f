using MassTransit;
using Microsoft.Extensions.Options;
using Vidline.Contracts;
using Vidline.IngestApi.Persistence;

namespace Vidline.IngestApi.Jobs;

/// <summary>
/// Finds stages that went quiet — a node at work stopped beating (it died), or a command waited in its queue far
/// longer than a busy queue explains (it was lost) — and tells the saga. The broker
/// here has no delayed-message plugin, so instead of scheduled timeouts a periodic sweep reads the saga table.
/// Any number of ingest-api instances may sweep: the saga ignores a StageStalled for an attempt it has left.
/// </summary>
public sealed class StalledStageSweep(VideoJobTable jobs, VideoJobStateMachine machine, IBus bus,
    IOptions<StagePolicy> policy, TimeProvider clock, ILogger<StalledStageSweep> logger)
    : PeriodicSweep(policy.Value.SweepInterval, clock, logger)
{
    public override async Task<int> SweepOnceAsync(CancellationToken cancellationToken)
    {
        var now = Clock.GetUtcNow();
        var silent = await jobs.SilentSinceAsync(machine.Working.Select(s => s.Name),
            startedCutoff: now - policy.Value.StallTimeout, queuedCutoff: now - policy.Value.QueueTimeout, cancellationToken);
        foreach (var job in silent)
        {
            logger.LogWarning("Job {JobId}: {Stage} attempt {Attempt} silent since {LastSeenAt}", job.CorrelationId, job.Stage, job.Attempt, job.LastSeenAt);
            await bus.Publish(new StageStalled(job.CorrelationId, job.Stage, job.Attempt, job.LastSeenAt), cancellationToken);
        }
        return silent.Count;
    }
}
