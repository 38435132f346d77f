using MassTransit;
using Vidline.Contracts;
using Vidline.StageWorker;

namespace Vidline.IngestApi.Jobs;

/// <summary>Sends a stage its command: the next stage, the same one again, or the stage a retried run resumes at.</summary>
public sealed class StageDispatch(IReadOnlyDictionary<string, Func<VideoJobState, IStageCommand>> commands,
    Func<string, State> stateOf, TimeProvider clock)
{
    public TimeProvider Clock => clock;

    public async Task StartAsync<T>(BehaviorContext<VideoJobState, T> context, string stage, bool sameStage) where T : class
    {
        context.Saga.Dispatched(sameStage, clock);
        await context.TransitionToState(stateOf(stage));
        var endpoint = await context.GetSendEndpoint(StageQueueTopology.AddressOf(Stages.Find(stage)!));
        var priority = (byte)Math.Clamp(context.Saga.Priority, 0, Stages.MaxPriority);
        var command = commands[stage](context.Saga);
        // Higher-priority jobs jump the stage queue (RabbitMQ x-max-priority).
        await endpoint.Send(command, command.GetType(), send =>
        {
            if (send.TryGetPayload<RabbitMqSendContext>(out var rabbit)) rabbit.SetPriority(priority);
        });
    }
}

/// <summary>The saga's verbs, as activities the state machine chains.</summary>
public static class StageDispatchActivities
{
    public static EventActivityBinder<VideoJobState, T> StartStage<T>(this EventActivityBinder<VideoJobState, T> binder,
        string stage, StageDispatch dispatch) where T : class =>
        binder.ThenAsync(x => dispatch.StartAsync(x, stage, sameStage: false)).PublishStatus(JobStatuses.Processing, dispatch.Clock);

    /// <summary>Sends the current stage again as a new attempt; answers to the old attempt will be ignored.</summary>
    public static EventActivityBinder<VideoJobState, T> RestartStage<T>(this EventActivityBinder<VideoJobState, T> binder,
        StageDispatch dispatch) where T : class =>
        binder.ThenAsync(x => dispatch.StartAsync(x, x.Saga.Stage, sameStage: true)).PublishStatus(JobStatuses.Processing, dispatch.Clock);

    /// <summary>Begins a new run at the stage where the last one stopped.</summary>
    public static EventActivityBinder<VideoJobState, T> ResumeRun<T>(this EventActivityBinder<VideoJobState, T> binder,
        StageDispatch dispatch) where T : class =>
        binder.ThenAsync(x =>
        {
            var stage = x.Saga.Stage;
            x.Saga.BeginRun();
            return dispatch.StartAsync(x, stage, sameStage: false);
        }).PublishStatus(JobStatuses.Processing, dispatch.Clock);

    public static EventActivityBinder<VideoJobState, T> PublishStatus<T>(this EventActivityBinder<VideoJobState, T> binder,
        string status, TimeProvider clock) where T : class =>
        binder
            .Then(context => context.Saga.UpdatedAt = clock.GetUtcNow())
            .Publish(context => StatusOf(context.Saga, status));

    public static EventActivityBinder<VideoJobState, T> Accept<T>(this EventActivityBinder<VideoJobState, T> binder,
        Func<BehaviorContext<VideoJobState, T>, string> message) where T : class, IJobRequest =>
        binder.ThenAsync(x => x.RespondAsync(new JobCommandAccepted(x.Saga.CorrelationId, message(x))));

    public static EventActivityBinder<VideoJobState, T> Refuse<T>(this EventActivityBinder<VideoJobState, T> binder,
        string reason, Func<BehaviorContext<VideoJobState, T>, string> detail) where T : class, IJobRequest =>
        binder.ThenAsync(x => x.RespondAsync(new JobCommandRefused(x.Saga.CorrelationId, reason, detail(x))));

    /// <summary>The job's public snapshot, as the gateway stores and streams it.</summary>
    public static JobStatusChanged StatusOf(VideoJobState saga, string status) =>
        new(NewId.NextGuid(), saga.CorrelationId, saga.Key, saga.Owner, saga.Priority, status, saga.Stage, saga.Run, saga.Attempt,
            saga.ErrorMessage, status == JobStatuses.Completed ? saga.Result() : null, saga.CreatedAt, saga.UpdatedAt);
}
