using MassTransit;
using Microsoft.Extensions.Options;
using Vidline.Contracts;
using Vidline.IngestApi.Persistence;

namespace Vidline.IngestApi.Jobs;

/// <summary>How long finished jobs are kept (section <c>Retention</c>).</summary>
public sealed class RetentionOptions
{
    public double Days { get; set; } = 7;
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>
/// ingest-api decides retention: a finished job older than <c>Retention:Days</c> is sent <see cref="ExpireJob"/>;
/// the saga retires it and publishes <see cref="JobExpired"/>, on which each owner removes its own data.
/// </summary>
public sealed class JobRetention(VideoJobTable jobs, VideoJobStateMachine machine, IBus bus,
    IOptions<RetentionOptions> retention, TimeProvider clock, ILogger<JobRetention> logger)
    : PeriodicSweep(retention.Value.SweepInterval, clock, logger)
{
    public override async Task<int> SweepOnceAsync(CancellationToken cancellationToken)
    {
        var finished = new[] { machine.Completed, machine.Failed, machine.Cancelled }.Select(s => s.Name);
        var expired = await jobs.FinishedBeforeAsync(finished, Clock.GetUtcNow() - TimeSpan.FromDays(retention.Value.Days), cancellationToken);
        foreach (var job in expired) await bus.Publish(new ExpireJob(job.CorrelationId), cancellationToken);
        if (expired.Count > 0) logger.LogInformation("Retention expires {Count} jobs", expired.Count);
        return expired.Count;
    }
}
