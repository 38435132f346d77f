using MassTransit;
using Microsoft.Extensions.Logging;
using Vidline.Contracts;

namespace Vidline.StageWorker;

/// <summary>
/// Tells the saga, every <c>interval</c> until disposed, that a node is alive and working on one attempt of a
/// stage. Heartbeats are the saga's only liveness signal: a long step that reports no percentage for minutes
/// still beats, and a killed node stops.
/// </summary>
public sealed class StageHeartbeats : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly Task _beating;

    public StageHeartbeats(IPublishEndpoint publisher, StageHeartbeat beat, TimeSpan interval, ILogger logger, CancellationToken cancellationToken)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _beating = BeatAsync(publisher, beat, interval, logger, _stop.Token);
    }

    private static async Task BeatAsync(IPublishEndpoint publisher, StageHeartbeat beat, TimeSpan interval, ILogger logger, CancellationToken ct)
    {
        try
        {
            // The first beat says the attempt has been taken from its queue; the saga times a started attempt by its heartbeats.
            using var timer = new PeriodicTimer(interval);
            do await publisher.Publish(beat with { Timestamp = DateTimeOffset.UtcNow }, ct);
            while (await timer.WaitForNextTickAsync(ct));
        }
        catch (OperationCanceledException) { }
        catch (Exception e)
        {
            logger.LogWarning(e, "Heartbeat for job {JobId} stopped", beat.JobId);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _beating;
        _stop.Dispose();
    }
}
