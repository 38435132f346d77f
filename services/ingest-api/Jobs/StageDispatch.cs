using MassTransit;
using Vidline.Contracts;
using Vidline.Media.Storage;
using Vidline.ServiceDefaults;

namespace Vidline.IngestApi.Jobs;

/// <summary>The saga's verbs: send a stage its command, and tell the world what the job looks like now.</summary>
public static class StageDispatch
{
    /// <summary>Starts <paramref name="stage"/> at attempt 1.</summary>
    public static EventActivityBinder<VideoJobState, T> DispatchStage<T>(this EventActivityBinder<VideoJobState, T> binder,
        string stage, TimeProvider clock) where T : class =>
        binder.DispatchStage(_ => stage, clock);

    public static EventActivityBinder<VideoJobState, T> DispatchStage<T>(this EventActivityBinder<VideoJobState, T> binder,
        Func<BehaviorContext<VideoJobState, T>, string> stage, TimeProvider clock) where T : class =>
        binder.ThenAsync(context =>
        {
            context.Saga.Stage = stage(context);
            context.Saga.Attempt = 1;
            return Send(context, clock);
        });

    /// <summary>Sends the current stage again as a new attempt; answers to the old attempt will be ignored.</summary>
    public static EventActivityBinder<VideoJobState, T> RedispatchStage<T>(this EventActivityBinder<VideoJobState, T> binder,
        TimeProvider clock) where T : class =>
        binder.ThenAsync(context =>
        {
            context.Saga.Attempt++;
            return Send(context, clock);
        });

    public static EventActivityBinder<VideoJobState, T> PublishStatus<T>(this EventActivityBinder<VideoJobState, T> binder,
        string status, TimeProvider clock) where T : class =>
        binder
            .Then(context => context.Saga.UpdatedAt = clock.GetUtcNow())
            .Publish(context => StatusOf(context.Saga, status));

    /// <summary>The job's public snapshot, as the gateway stores and streams it.</summary>
    public static JobStatusChanged StatusOf(VideoJobState saga, string status) =>
        new(NewId.NextGuid(), saga.CorrelationId, saga.Key, saga.Owner, saga.Priority, status, saga.Stage, saga.Attempt,
            saga.ErrorMessage, status == JobStatuses.Completed ? saga.Result() : null, saga.CreatedAt, saga.UpdatedAt);

    private static async Task Send<T>(BehaviorContext<VideoJobState, T> context, TimeProvider clock) where T : class
    {
        var saga = context.Saga;
        saga.LastProgressAt = clock.GetUtcNow();
        var (queue, command) = CommandFor(saga);
        var endpoint = await context.GetSendEndpoint(StageQueueTopology.AddressOf(queue));
        // Higher-priority jobs jump the stage queue (RabbitMQ x-max-priority).
        await endpoint.Send(command, send =>
        {
            if (send.TryGetPayload<RabbitMqSendContext>(out var rabbit))
                rabbit.SetPriority((byte)Math.Clamp(saga.Priority, 0, StageQueues.MaxPriority));
        });
    }

    /// <summary>
    /// Everything the stage's node needs is in the command: nodes keep no state of their own. Each attempt
    /// writes to its own folder, so a slow node and its replacement never write the same files.
    /// </summary>
    public static (string Queue, object Command) CommandFor(VideoJobState saga)
    {
        var id = saga.CorrelationId;
        return saga.Stage switch
        {
            Stages.Transcoding => (StageQueues.Transcode,
                new TranscodeVideo(id, saga.Attempt, saga.SourceKey!, saga.Source!, $"{StorageKeys.Renditions(id)}/attempt-{saga.Attempt}")),
            Stages.Validation => (StageQueues.Validate,
                new ValidateRenditions(id, saga.Attempt, saga.SourceKey!, saga.Source!, saga.Renditions)),
            Stages.Packaging => (StageQueues.Package,
                new PackageRenditions(id, saga.Attempt, saga.Renditions, $"{StorageKeys.Package(id)}/attempt-{saga.Attempt}")),
            Stages.Storage => (StageQueues.Store,
                new StoreOutputs(id, saga.Attempt, saga.PackagePrefix!, saga.HlsManifest!, saga.DashManifest!)),
            _ => throw new InvalidOperationException($"Stage '{saga.Stage}' has no worker to dispatch to."),
        };
    }
}
