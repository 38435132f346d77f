using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vidline.Contracts;
using Vidline.Media;

namespace Vidline.ServiceDefaults;

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

/// <summary>
/// What every stage worker does around its real work: skip cancelled jobs, stop when a job is cancelled,
/// report progress, and turn exceptions into the saga's language: permanent faults (bad media, a failed
/// quality gate) fail the job at once; transient ones are retried here with backoff, then handed to the
/// saga, which dispatches the stage again or gives up.
/// </summary>
public sealed class StageWork(RunningJobs running, IOptions<StageWorkOptions> options, ILogger<StageWork> logger)
{
    public delegate Task Work(StageProgress progress, CancellationToken cancellationToken);

    public async Task RunAsync(ConsumeContext context, Guid jobId, int attempt, string stage, Work work, Func<Task> removePartialOutput)
    {
        if (running.WasCancelled(jobId))
        {
            logger.LogInformation("Job {JobId} was cancelled; skipping {Stage}", jobId, stage);
            return;
        }
        using var registration = running.Start(jobId, context.CancellationToken);
        var progress = new StageProgress(context, jobId, stage, options.Value.ProgressInterval);
        using var stopHeartbeat = CancellationTokenSource.CreateLinkedTokenSource(registration.Token);
        var heartbeat = HeartbeatAsync(context, new StageHeartbeat(jobId, stage, attempt, default), stopHeartbeat.Token);
        try
        {
            await progress.ReportAsync(0, $"{stage} started (attempt {attempt})", force: true, cancellationToken: registration.Token);
            await work(progress, registration.Token);
        }
        catch (OperationCanceledException) when (registration.JobCancelled)
        {
            logger.LogInformation("Job {JobId} cancelled during {Stage}; removing partial output", jobId, stage);
            await removePartialOutput();
        }
        catch (Exception e) when (Permanent(e) is { } reason)
        {
            logger.LogWarning("Job {JobId} {Stage} failed permanently: {Reason}", jobId, stage, reason);
            await removePartialOutput();
            await context.Publish(new StageFailed(jobId, stage, attempt, reason, Permanent: true));
        }
        catch (IOException e) when (context.GetRetryAttempt() < options.Value.TransientRetries)
        {
            logger.LogWarning(e, "Job {JobId} {Stage}: transient fault, retrying", jobId, stage);
            throw; // the endpoint's retry policy runs the message again after a backoff
        }
        catch (Exception e) when (!context.CancellationToken.IsCancellationRequested)
        {
            logger.LogError(e, "Job {JobId} {Stage} attempt {Attempt} failed", jobId, stage, attempt);
            await context.Publish(new StageFailed(jobId, stage, attempt, $"{stage} failed: {e.Message}", Permanent: false));
        }
        finally
        {
            await stopHeartbeat.CancelAsync();
            await heartbeat;
        }
    }

    /// <summary>
    /// Long steps (scoring a long rendition, say) may report no percentage for minutes; the heartbeat keeps
    /// the saga's stall sweep from mistaking a busy node for a dead one. A killed node stops beating.
    /// </summary>
    private async Task HeartbeatAsync(IPublishEndpoint publisher, StageHeartbeat beat, CancellationToken cancellationToken)
    {
        try
        {
            using var timer = new PeriodicTimer(options.Value.HeartbeatInterval);
            while (await timer.WaitForNextTickAsync(cancellationToken))
                await publisher.Publish(beat with { Timestamp = DateTimeOffset.UtcNow }, cancellationToken);
        }
        catch (OperationCanceledException) { }
        catch (Exception e)
        {
            logger.LogWarning(e, "Heartbeat for job {JobId} stopped", beat.JobId);
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

public static class StageWorkerRegistration
{
    /// <summary>What every stage service registers besides its own consumers.</summary>
    public static IHostApplicationBuilder AddStageWorker(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<StageWorkOptions>(builder.Configuration.GetSection("StageWork"));
        builder.Services.AddSingleton<RunningJobs>();
        builder.Services.AddSingleton<StageWork>();
        return builder;
    }

    /// <summary>The fan-out endpoint for <see cref="JobCancelled"/>: one temporary queue per process.</summary>
    public static void AddCancellationListener(this IBusRegistrationConfigurator bus, string service) =>
        bus.AddConsumer<StopCancelledJob>().Endpoint(e =>
        {
            e.Name = $"{service}-cancellations-{Environment.MachineName}-{Environment.ProcessId}".ToLowerInvariant();
            e.Temporary = true;
        });
}
