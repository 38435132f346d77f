using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vidline.Contracts;
using Vidline.Media;
using Vidline.ServiceDefaults;

namespace Vidline.StageWorker;

/// <summary>Section <c>StageWork</c>.</summary>
public sealed class StageWorkOptions
{
    /// <summary>Minimum time between two progress events of one job (about two a second by default).</summary>
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Jobs one process works on at once (one ffmpeg each: scale out with more processes).</summary>
    public int Concurrency { get; set; } = 1;

    /// <summary>How often a working node tells the saga it is alive (keep well under the saga's stall timeout).</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>In-process retries of a transient fault (I/O) before the stage reports failure to the saga.</summary>
    public int TransientRetries { get; set; } = 3;
}

/// <summary>A stage gave up on purpose: retrying the same input would fail the same way.</summary>
public sealed class PermanentStageFailure(string reason) : Exception(reason);

/// <summary>What every stage consumer is given by the service it runs in.</summary>
public sealed class StageRuntime(RunningJobs running, IOptions<StageWorkOptions> options, ILoggerFactory loggers, ServiceIdentity identity)
{
    /// <summary>This process, named in progress and heartbeats so an operator sees which node runs which job.</summary>
    public string Node => identity.Node;
    public RunningJobs Running => running;
    public StageWorkOptions Options => options.Value;
    public ILogger Logger { get; } = loggers.CreateLogger("Vidline.StageWorker");
}

/// <summary>
/// A stage's consumer. The subclass does the work and returns the event that reports it done; this base does
/// what every stage does around it: skip a cancelled job, stop when the job is cancelled, beat the heart,
/// report the start, and turn exceptions into the saga's language. Permanent faults (bad media, a failed
/// quality gate) fail the job at once; transient ones are retried here with backoff, then handed to the saga,
/// which dispatches the stage again or gives up.
/// </summary>
public abstract class StageConsumer<TCommand>(StageRuntime runtime) : IConsumer<TCommand>
    where TCommand : class, IStageCommand
{
    /// <summary>The stage this consumer does, from the stage table.</summary>
    protected static readonly PipelineStage Stage = Stages.StartedBy(typeof(TCommand));

    /// <summary>Does the work of one attempt and returns the event that says it is done.</summary>
    protected abstract Task<IStageCompleted> WorkAsync(TCommand command, StageProgress progress, CancellationToken cancellationToken);

    /// <summary>Removes what an unfinished attempt wrote (after a cancellation or a permanent failure).</summary>
    protected virtual Task RemovePartialOutputAsync(TCommand command) => Task.CompletedTask;

    public async Task Consume(ConsumeContext<TCommand> context)
    {
        var command = context.Message;
        var (jobId, attempt, logger) = (command.JobId, command.Attempt, runtime.Logger);
        if (runtime.Running.WasCancelled(jobId))
        {
            logger.LogInformation("Job {JobId} was cancelled; skipping {Stage}", jobId, Stage);
            return;
        }
        if (context.GetRetryAttempt() == 0 && context.SentTime is { } sent) StageMetrics.QueueWait.Record(Math.Max(0, (DateTime.UtcNow - sent).TotalSeconds), StageMetrics.StageTag(Stage));
        var started = Stopwatch.GetTimestamp();
        var outcome = "failed";
        using var registration = runtime.Running.Start(jobId, context.CancellationToken);
        var progress = new StageProgress(context, jobId, command.Run, Stage, runtime.Options.ProgressInterval, node: runtime.Node);
        await using var heartbeats = new StageHeartbeats(context, new StageHeartbeat(jobId, Stage, attempt, default, runtime.Node),
            runtime.Options.HeartbeatInterval, logger, registration.Token);
        try
        {
            await progress.ReportAsync(0, command.Run > 1 ? $"{Stage} started (run {command.Run})" : $"{Stage} started",
                force: true, cancellationToken: registration.Token);
            var completed = await WorkAsync(command, progress, registration.Token);
            await context.Publish(completed, completed.GetType(), registration.Token);
            outcome = "completed";
        }
        catch (OperationCanceledException) when (registration.JobCancelled)
        {
            logger.LogInformation("Job {JobId} cancelled during {Stage}; removing partial output", jobId, Stage);
            outcome = "cancelled";
            await RemovePartialOutputAsync(command);
        }
        catch (Exception e) when (Permanent(e) is { } reason)
        {
            logger.LogWarning("Job {JobId} {Stage} failed permanently: {Reason}", jobId, Stage, reason);
            outcome = "permanent_failure";
            await RemovePartialOutputAsync(command);
            await context.Publish(new StageFailed(jobId, Stage, attempt, reason, Permanent: true));
        }
        catch (IOException e) when (context.GetRetryAttempt() < runtime.Options.TransientRetries)
        {
            logger.LogWarning(e, "Job {JobId} {Stage}: transient fault, retrying", jobId, Stage);
            outcome = "retried";
            throw; // the endpoint's retry policy runs the message again after a backoff
        }
        catch (Exception e) when (!context.CancellationToken.IsCancellationRequested)
        {
            logger.LogError(e, "Job {JobId} {Stage} attempt {Attempt} failed", jobId, Stage, attempt);
            await context.Publish(new StageFailed(jobId, Stage, attempt, $"{Stage} failed: {e.Message}", Permanent: false));
        }
        finally
        {
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            StageMetrics.Duration.Record(seconds, StageMetrics.StageTag(Stage), new("outcome", outcome));
            logger.LogInformation("Job {JobId} {Stage} attempt {Attempt}: {Outcome} in {Seconds:0.00} s", jobId, Stage, attempt, outcome, seconds);
        }
    }

    private static string? Permanent(Exception e) => e switch
    {
        PermanentStageFailure failure => failure.Message,
        UnusableMediaException unusable => unusable.Reason,
        FfmpegException ffmpeg => $"ffmpeg could not process the video: {ffmpeg.Summary}",
        _ => null,
    };
}
