using MassTransit;
using Microsoft.Extensions.Options;
using Vidline.Contracts;
using Vidline.IngestApi.Persistence;

namespace Vidline.IngestApi.Jobs;

/// <summary>
/// Finds stages that went quiet (their node died, or the command was lost) and tells the saga. The broker
/// here has no delayed-message plugin, so instead of scheduled timeouts a periodic sweep reads the saga table.
/// Any number of ingest-api instances may sweep: the saga ignores a StageStalled for an attempt it has left.
/// </summary>
public sealed class StalledStageSweep(SagaTable<VideoJobState> sagas, VideoJobStateMachine machine, IBus bus,
    IOptions<StagePolicy> policy, TimeProvider clock, ILogger<StalledStageSweep> logger) : BackgroundService
{
    private readonly string[] _workingStates =
        [.. new[] { machine.Uploading, machine.Transcoding, machine.Validating, machine.Packaging, machine.Storing }.Select(s => s.Name)];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(policy.Value.SweepInterval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepOnceAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Stall sweep failed; trying again next tick");
            }
        }
    }

    public async Task<int> SweepOnceAsync(CancellationToken cancellationToken)
    {
        var cutoff = clock.GetUtcNow() - policy.Value.StallTimeout;
        var stalled = await sagas.QueryAsync(
            "current_state = ANY(@states) AND (data->>'LastProgressAt')::timestamptz < @cutoff",
            new { states = _workingStates, cutoff }, cancellationToken);
        foreach (var job in stalled)
        {
            logger.LogWarning("Job {JobId}: {Stage} attempt {Attempt} silent since {LastProgressAt}", job.CorrelationId, job.Stage, job.Attempt, job.LastProgressAt);
            if (job.Stage == Stages.Uploading)
                await bus.Publish(new UploadRejected(job.CorrelationId, "The upload stopped before it completed."), cancellationToken);
            else
                await bus.Publish(new StageStalled(job.CorrelationId, job.Stage, job.Attempt), cancellationToken);
        }
        return stalled.Count;
    }
}
