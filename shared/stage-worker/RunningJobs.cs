using System.Collections.Concurrent;
using MassTransit;
using Vidline.Contracts;

namespace Vidline.StageWorker;

/// <summary>
/// The jobs this process is working on right now, so a <see cref="JobCancelled"/> can stop them, and the
/// jobs recently cancelled, so a command still queued for one is dropped instead of worked on.
/// </summary>
public sealed class RunningJobs
{
    private readonly ConcurrentDictionary<Guid, CancellationTokenSource> _running = new();
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _cancelled = new();

    public bool WasCancelled(Guid jobId) => _cancelled.ContainsKey(jobId);

    /// <summary>A token that fires when the job is cancelled or <paramref name="consumeToken"/> fires; dispose to unregister.</summary>
    public Registration Start(Guid jobId, CancellationToken consumeToken)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(consumeToken);
        _running[jobId] = source;
        if (WasCancelled(jobId)) source.Cancel();
        return new Registration(this, jobId, source);
    }

    public void Cancel(Guid jobId)
    {
        _cancelled[jobId] = DateTimeOffset.UtcNow;
        if (_running.TryGetValue(jobId, out var source)) source.Cancel();
        // Forget old cancellations so the set stays small; a day is far longer than any queue wait.
        foreach (var (id, at) in _cancelled)
            if (at < DateTimeOffset.UtcNow.AddDays(-1)) _cancelled.TryRemove(id, out _);
    }

    public sealed class Registration(RunningJobs owner, Guid jobId, CancellationTokenSource source) : IDisposable
    {
        public CancellationToken Token => source.Token;
        public bool JobCancelled => owner.WasCancelled(jobId);

        public void Dispose()
        {
            owner._running.TryRemove(new KeyValuePair<Guid, CancellationTokenSource>(jobId, source));
            source.Dispose();
        }
    }
}

/// <summary>Every instance of a stage service hears every cancellation (a temporary queue per process).</summary>
public sealed class StopCancelledJob(RunningJobs running) : IConsumer<JobCancelled>
{
    public Task Consume(ConsumeContext<JobCancelled> context)
    {
        running.Cancel(context.Message.JobId);
        return Task.CompletedTask;
    }
}
