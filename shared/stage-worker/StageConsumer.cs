using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vidline.Contracts;
using Vidline.ServiceDefaults;

namespace Vidline.StageWorker;

/// <summary>Section <c>StageWork</c>.</summary>
public sealed class StageWorkOptions
{
    /// <summary>Minimum time between two progress events of one job (about two a second by default).</summary>
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Jobs one process works on at once (one ffmpeg each: scale out with more processes).</summary>
    public int Concurrency { get; set; } = 1;

    /// <summary>How often a working node tells the saga it is alive while its work advances (keep well under the saga's stall timeout).</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>In-process retries of a transient fault (I/O) before the stage reports failure to the saga.</summary>
    public int TransientRetries { get; set; } = 3;

    /// <summary>An attempt whose ffmpeg makes no progress this long is stopped and fails as transient.</summary>
    public TimeSpan SilenceTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>An attempt may take this many times the media's duration (plus <see cref="DeadlineFloor"/>) before it is stopped.</summary>
    public double DeadlineFactor { get; set; } = 10;

    /// <summary>Time every attempt is given besides <see cref="DeadlineFactor"/> × the media's duration (start-up, short clips).</summary>
    public TimeSpan DeadlineFloor { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long a stopping node may take (SIGTERM): its ffmpeg is killed at once and its message returned to the
    /// queue within this time. scripts/services.sh sets it and waits a little longer before SIGKILL.
    /// </summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(15);
}

/// <summary>What every stage consumer is given by the service it runs in.</summary>
public sealed class StageRuntime(RunningJobs running, IOptions<StageWorkOptions> options, ILoggerFactory loggers, ServiceIdentity identity,
    ProgressOutbox outbox, CompletedAttempts completed)
{
    /// <summary>This process, named in progress and heartbeats so an operator sees which node runs which job.</summary>
    public string Node => identity.Node;
    public RunningJobs Running => running;
    public StageWorkOptions Options => options.Value;
    public ProgressOutbox Outbox => outbox;
    public CompletedAttempts Completed => completed;
    public ILogger Logger { get; } = loggers.CreateLogger("Vidline.StageWorker");
}

/// <summary>
/// A stage's consumer. The subclass does the work and returns the event that reports it done; this base does
/// what every stage does around it: skip a cancelled job, answer a command it already finished from its record,
/// stop when the job is cancelled, watch the attempt (heartbeats while it advances, silence and deadline), report
/// the start, and turn exceptions into the saga's language. Permanent faults (bad media, a failed quality gate)
/// fail the job at once; transient ones are retried here with backoff, then handed to the saga, which dispatches
/// the stage again or gives up. A node that is stopping reports nothing: its message goes back to the queue.
/// </summary>
public abstract class StageConsumer<TCommand>(StageRuntime runtime) : IConsumer<TCommand>
    where TCommand : class, IStageCommand
{
    /// <summary>The stage this consumer does, from the stage table.</summary>
    protected static readonly PipelineStage Stage = Stages.StartedBy(typeof(TCommand));

    /// <summary>What every attempt of this worker shares: its node, its running jobs, its outbox.</summary>
    protected StageRuntime Runtime => runtime;

    /// <summary>Does the work of one attempt and returns the event that says it is done.</summary>
    protected abstract Task<IStageCompleted> WorkAsync(TCommand command, StageProgress progress, CancellationToken cancellationToken);

    /// <summary>
    /// Removes what an unfinished attempt wrote (after a cancellation or a failure). <paramref name="final"/>: the job was
    /// cancelled or failed for good, so no later attempt can go on from anything the attempt kept.
    /// </summary>
    protected virtual Task RemovePartialOutputAsync(TCommand command, bool final) => Task.CompletedTask;

    /// <summary>Seconds of media the attempt works through, for its deadline (0 when the command does not say).</summary>
    protected virtual double MediaSeconds(TCommand command) => 0;

    public async Task Consume(ConsumeContext<TCommand> context)
    {
        var command = context.Message;
        var (jobId, attempt, logger) = (command.JobId, command.Attempt, runtime.Logger);
        if (runtime.Running.WasCancelled(jobId))
        {
            logger.LogInformation("Job {JobId} was cancelled; skipping {Stage}", jobId, Stage);
            return;
        }
        if (await runtime.Completed.FindAsync(command, Stage, context.CancellationToken) is { } done)
        {
            logger.LogInformation("Job {JobId} {Stage} attempt {Attempt} was already done; answering again", jobId, Stage, attempt);
            await PublishReliablyAsync(context, done);
            return;
        }
        if (context.GetRetryAttempt() == 0 && context.SentTime is { } sent) StageMetrics.QueueWait.Record(Math.Max(0, (DateTime.UtcNow - sent).TotalSeconds), StageMetrics.StageTag(Stage));
        var started = Stopwatch.GetTimestamp();
        var outcome = "failed";
        using var registration = runtime.Running.Start(jobId, context.CancellationToken);
        var options = runtime.Options;
        await using var watchdog = new AttemptWatchdog(runtime.Outbox, new StageHeartbeat(jobId, Stage, attempt, default, runtime.Node),
            WatchLimits.For(options, MediaSeconds(command)), logger, registration.Token);
        using var work = CancellationTokenSource.CreateLinkedTokenSource(registration.Token, watchdog.Token);
        var progress = new StageProgress(runtime.Outbox, jobId, command.Run, Stage, options.ProgressInterval, node: runtime.Node,
            onAdvance: watchdog.Advanced);
        try
        {
            await progress.ReportAsync(0, command.Run > 1 ? $"{Stage} started (run {command.Run})" : $"{Stage} started", force: true);
            var completed = await WorkAsync(command, progress, work.Token);
            await runtime.Completed.SaveAsync(command, Stage, completed, CancellationToken.None);
            await runtime.Outbox.TrySendPendingAsync(context.CancellationToken);
            await PublishReliablyAsync(context, completed);
            outcome = "completed";
        }
        catch (OperationCanceledException) when (registration.JobCancelled)
        {
            logger.LogInformation("Job {JobId} cancelled during {Stage}; removing partial output", jobId, Stage);
            outcome = "cancelled";
            await RemovePartialOutputAsync(command, final: true);
        }
        catch (OperationCanceledException) when (watchdog.Verdict is { } verdict && !context.CancellationToken.IsCancellationRequested)
        {
            outcome = "stopped";
            await RemovePartialOutputAsync(command, final: false);
            await PublishReliablyAsync(context, new StageFailed(jobId, Stage, attempt, verdict, Permanent: false));
        }
        catch (Exception e) when (FailureVerdict.Of(e) is { } verdict && !context.CancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Job {JobId} {Stage} attempt {Attempt} failed ({Kind}): {Reason}", jobId, Stage, attempt,
                verdict.Permanent ? "permanent" : "transient", verdict.Reason);
            outcome = verdict.Permanent ? "permanent_failure" : "failed";
            await RemovePartialOutputAsync(command, final: verdict.Permanent);
            await PublishReliablyAsync(context, new StageFailed(jobId, Stage, attempt, verdict.Reason, verdict.Permanent));
        }
        catch (IOException e) when (context.GetRetryAttempt() < options.TransientRetries && !context.CancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(e, "Job {JobId} {Stage}: transient fault, retrying", jobId, Stage);
            outcome = "retried";
            throw; // the endpoint's retry policy runs the message again after a backoff
        }
        catch (Exception e) when (!context.CancellationToken.IsCancellationRequested)
        {
            logger.LogError(e, "Job {JobId} {Stage} attempt {Attempt} failed", jobId, Stage, attempt);
            await PublishReliablyAsync(context, new StageFailed(jobId, Stage, attempt, FailureVerdict.Unexpected(Stage.ToString(), e).Reason, Permanent: false));
        }
        catch (Exception) when (context.CancellationToken.IsCancellationRequested)
        {
            // The node is stopping: nothing is reported and the message is not acknowledged, so the broker hands
            // the same attempt to the next node (or to this one after its restart), which starts it clean.
            outcome = "interrupted";
            throw;
        }
        finally
        {
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            StageMetrics.Duration.Record(seconds, StageMetrics.StageTag(Stage), new("outcome", outcome));
            logger.LogInformation("Job {JobId} {Stage} attempt {Attempt}: {Outcome} in {Seconds:0.00} s", jobId, Stage, attempt, outcome, seconds);
        }
    }

    /// <summary>
    /// An attempt's answer must reach the saga: while the broker is down, keep trying. If the node stops first, the
    /// message goes back to the queue unacknowledged and its redelivery answers from the attempt's record.
    /// </summary>
    private async Task PublishReliablyAsync(ConsumeContext context, object message)
    {
        var backoff = TimeSpan.FromMilliseconds(500);
        while (true)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(30));
                await context.Publish(message, message.GetType(), timeout.Token);
                return;
            }
            catch (Exception e) when (!context.CancellationToken.IsCancellationRequested)
            {
                runtime.Logger.LogWarning("Could not publish {Message} ({Error}); trying again in {Seconds:0.#} s",
                    message.GetType().Name, e.Message, backoff.TotalSeconds);
                await Task.Delay(backoff, context.CancellationToken);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
        }
    }
}
