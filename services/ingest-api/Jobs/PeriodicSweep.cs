namespace Vidline.IngestApi.Jobs;

/// <summary>A background pass over the saga table every <c>interval</c>; a failed pass is logged and tried again.</summary>
public abstract class PeriodicSweep(TimeSpan interval, TimeProvider clock, ILogger logger) : BackgroundService
{
    /// <returns>How many jobs the pass acted on.</returns>
    public abstract Task<int> SweepOnceAsync(CancellationToken cancellationToken);

    /// <summary>The clock the sweep ticks by; a pass reads "now" from it too.</summary>
    protected TimeProvider Clock => clock;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepOnceAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "{Sweep} failed; trying again next tick", GetType().Name);
            }
        }
    }
}
