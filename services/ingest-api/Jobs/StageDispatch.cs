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
        var priority = (byte)Math.Clamp(context.Saga.Priority, 0, Stages.MaxPriority);
        await TransitionMessages.SendAsync(context, StageQueueTopology.AddressOf(Stages.Find(stage)!), commands[stage](context.Saga), priority);
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
            .PublishOnCommit(context => StatusOf(context.Saga, status));

    /// <summary>Publishes an event once the transition is stored (through the outbox: <see cref="TransitionMessages"/>).</summary>
    public static EventActivityBinder<VideoJobState, T> PublishOnCommit<T>(this EventActivityBinder<VideoJobState, T> binder,
        Func<BehaviorContext<VideoJobState, T>, object> message) where T : class =>
        binder.ThenAsync(x => TransitionMessages.PublishAsync(x, message(x)));

    public static EventActivityBinder<VideoJobState, T> Accept<T>(this EventActivityBinder<VideoJobState, T> binder,
        Func<BehaviorContext<VideoJobState, T>, string> message) where T : class, IJobMessage =>
        binder.ThenAsync(x => TransitionMessages.RespondAsync(x, new JobCommandAccepted(x.Saga.CorrelationId, message(x))));

    public static EventActivityBinder<VideoJobState, T> Refuse<T>(this EventActivityBinder<VideoJobState, T> binder,
        string reason, Func<BehaviorContext<VideoJobState, T>, string> detail) where T : class, IJobMessage =>
        binder.ThenAsync(x => TransitionMessages.RespondAsync(x, new JobCommandRefused(x.Saga.CorrelationId, reason, detail(x))));

    /// <summary>The job's public snapshot, as the gateway stores and streams it.</summary>
    public static JobStatusChanged StatusOf(VideoJobState saga, string status) =>
        new(NewId.NextGuid(), saga.CorrelationId, saga.Key, saga.Owner, saga.Priority, status, saga.Stage, saga.Run, saga.Attempt,
            saga.ErrorMessage, status == JobStatuses.Completed ? saga.Result() : null, saga.CreatedAt, saga.UpdatedAt);
}
