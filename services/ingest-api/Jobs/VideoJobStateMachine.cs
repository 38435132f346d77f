using System.Linq.Expressions;
using MassTransit;
using Vidline.Contracts;

namespace Vidline.IngestApi.Jobs;

/// <summary>
/// The pipeline, top to bottom: uploading → transcoding → validation → packaging → storage → completed, with
/// failed and cancelled as the other ways out and expired after retention. While a job works, its state is
/// named after the stage at work (<see cref="Stages"/>). Each stage is driven by a command to its queue and
/// answered by its completed event or <see cref="StageFailed"/>; answers to an older attempt are ignored.
/// </summary>
public class VideoJobStateMachine : MassTransitStateMachine<VideoJobState>
{
    /// <summary>What each worked stage's command carries: everything its node needs, as nodes keep no state.</summary>
    private static readonly Dictionary<string, Func<VideoJobState, IStageCommand>> Commands = new()
    {
        [Stages.Transcoding] = job => new TranscodeVideo(job.CorrelationId, job.Run, job.Attempt, job.SourceKey!, job.Source!, job.WorkFolder("renditions")),
        [Stages.Validation] = job => new ValidateRenditions(job.CorrelationId, job.Run, job.Attempt, job.SourceKey!, job.Source!, job.Renditions),
        [Stages.Packaging] = job => new PackageRenditions(job.CorrelationId, job.Run, job.Attempt, job.Renditions, job.WorkFolder("package"), job.Source!.DurationSeconds),
        [Stages.Storage] = job => new StoreOutputs(job.CorrelationId, job.Run, job.Attempt, job.PackagePrefix!, job.HlsManifest!, job.DashManifest!),
    };

    private readonly Dictionary<string, State<VideoJobState>> _stageStates = new();

    public VideoJobStateMachine(StagePolicy policy, TimeProvider clock)
    {
        InstanceState(x => x.CurrentState);
        foreach (var stage in Stages.InOrder) _stageStates[stage.Name] = State(stage.Name);
        var dispatch = new StageDispatch(Commands, StateOf, clock);

        JobEvent(() => JobSubmitted, startsJob: true);
        JobEvent(() => VideoUploaded, startsJob: true);
        JobEvent(() => UploadRejected, startsJob: true);
        JobEvent(() => VideoTranscoded);
        JobEvent(() => RenditionsValidated);
        JobEvent(() => RenditionsPackaged);
        JobEvent(() => OutputsStored);
        JobEvent(() => StageFailed);
        JobEvent(() => StageStalled);
        JobEvent(() => StageHeartbeat);
        JobEvent(() => ExpireJob);
        JobRequest(() => CancelJob);
        JobRequest(() => RetryJob);

        // Duplicates and late answers land in states that have no use for them: every handler is
        // idempotent, so they are dropped rather than faulted.
        OnUnhandledEvent(context => context.Ignore());

        Initially(
            When(JobSubmitted)
                .Then(x => x.Saga.Accept(x.Message.Key, x.Message.Owner, x.Message.Priority, x.Message.SubmittedAt, clock))
                .TransitionTo(StateOf(Stages.Uploading))
                .PublishStatus(JobStatuses.Processing, clock));

        // The upload can finish before JobSubmitted is handled: VideoUploaded carries enough to start the job itself.
        During([Initial, StateOf(Stages.Uploading)],
            When(VideoUploaded)
                .Then(x => x.Saga.Accept(x.Message.Key, x.Message.Owner, x.Message.Priority, x.Message.SubmittedAt, clock))
                .Then(x => x.Saga.SourceArrived(x.Message))
                .StartStage(Stages.Transcoding, dispatch)
                .Accept(_ => "Upload received."));

        // The job ended while its file was still arriving (it was cancelled, or the broker held the upload's heartbeats
        // past the stall timeout): the upload is refused, so the request that brought it answers with the reason and
        // removes the file instead of 202.
        During(Failed, Cancelled, Expired,
            When(VideoUploaded).Refuse(RefusalReasons.Conflict, x =>
                $"Job {x.Saga.CorrelationId} is {StatusOf(x.Saga)} ({x.Saga.ErrorMessage ?? "no reason given"}); its upload came too late. Submit the video again."));

        // A refused upload can overtake JobSubmitted too: it carries enough to record the job, failed.
        During([Initial, StateOf(Stages.Uploading)],
            When(UploadRejected)
                .Then(x => x.Saga.Accept(x.Message.Key, x.Message.Owner, x.Message.Priority, x.Message.SubmittedAt, clock))
                .Then(x => x.Saga.Fail(x.Message.Reason, clock))
                .TransitionTo(Failed)
                .PublishStatus(JobStatuses.Failed, clock));

        During(StateOf(Stages.Uploading),
            // Nobody can send an upload again: a silent one fails the job.
            When(StageStalled, IsStillSilent)
                .Then(x => x.Saga.Fail("The upload stopped before it completed.", clock))
                .TransitionTo(Failed)
                .PublishStatus(JobStatuses.Failed, clock));

        During(StateOf(Stages.Transcoding),
            When(VideoTranscoded, IsCurrentAttempt)
                .Then(x => x.Saga.Renditions = [.. x.Message.Renditions])
                .StartStage(Stages.Validation, dispatch));

        During(StateOf(Stages.Validation),
            When(RenditionsValidated, IsCurrentAttempt)
                .Then(x => x.Saga.QualityScores = [.. x.Message.Scores])
                .StartStage(Stages.Packaging, dispatch));

        During(StateOf(Stages.Packaging),
            When(RenditionsPackaged, IsCurrentAttempt)
                .Then(x => (x.Saga.PackagePrefix, x.Saga.HlsManifest, x.Saga.DashManifest) =
                    (x.Message.PackagePrefix, x.Message.HlsManifest, x.Message.DashManifest))
                .StartStage(Stages.Storage, dispatch));

        During(StateOf(Stages.Storage),
            When(OutputsStored, IsCurrentAttempt)
                .Then(x => x.Saga.Complete(x.Message, clock))
                .TransitionTo(Completed)
                .PublishStatus(JobStatuses.Completed, clock));

        // Liveness: a node working on the current stage beats; a silent stage is found by the stall sweep. A node
        // still busy with an earlier attempt of the stage counts too: the newer command waits behind it in the queue.
        During(Working,
            When(StageHeartbeat, x => x.Saga.IsAttemptOfCurrentStage(x.Message.Attempt))
                .Then(x => x.Saga.Seen(x.Message.Attempt, clock)));

        During(Worked,
            // A transient fault or a silent node gets the stage sent again, up to the policy's limit.
            When(StageFailed, x => x.Message.Attempt == x.Saga.Attempt)
                .IfElse(x => x.Message.Permanent || x.Saga.StageAttempts >= policy.MaxAttempts,
                    giveUp => giveUp
                        .Then(x => x.Saga.Fail(x.Message.Permanent
                            ? x.Message.Reason
                            : $"{x.Saga.Stage} failed {x.Saga.StageAttempts} times; last error: {x.Message.Reason}", clock))
                        .TransitionTo(Failed)
                        .PublishStatus(JobStatuses.Failed, clock),
                    again => again.RestartStage(dispatch)),
            When(StageStalled, IsStillSilent)
                .IfElse(x => x.Saga.StageAttempts >= policy.MaxAttempts,
                    giveUp => giveUp
                        .Then(x => x.Saga.Fail(x.Saga.AttemptStarted
                            ? $"{x.Saga.Stage} made no progress for {policy.StallTimeout.TotalSeconds:0} s on each of {x.Saga.StageAttempts} attempts; giving up"
                            : $"no {x.Saga.Stage} node took the job within {policy.QueueTimeout.TotalSeconds:0} s; giving up after {x.Saga.StageAttempts} attempts", clock))
                        .TransitionTo(Failed)
                        .PublishStatus(JobStatuses.Failed, clock),
                    again => again.RestartStage(dispatch)));

        // Cancel and retry are requests: the saga alone decides, and answers the API.
        DuringAny(
            When(CancelJob, x => !IsOwner(x)).Refuse(RefusalReasons.NotFound, x => $"There is no job {x.Saga.CorrelationId}."),
            When(RetryJob, x => !IsOwner(x)).Refuse(RefusalReasons.NotFound, x => $"There is no job {x.Saga.CorrelationId}."));

        During(Working,
            When(CancelJob, IsOwner)
                .Then(x => x.Saga.Cancel(clock))
                .TransitionTo(Cancelled)
                .PublishOnCommit(x => new JobCancelled(x.Saga.CorrelationId))
                .PublishStatus(JobStatuses.Cancelled, clock)
                .Accept(_ => "Cancellation requested."),
            When(RetryJob, IsOwner).Refuse(RefusalReasons.Conflict, x => $"Job {x.Saga.CorrelationId} is processing; only a failed job can be retried."));

        During(Completed, Failed, Cancelled,
            When(CancelJob, IsOwner).Refuse(RefusalReasons.Conflict, x => $"Job {x.Saga.CorrelationId} is {StatusOf(x.Saga)}; only a running job can be cancelled."),
            When(ExpireJob)
                .Then(x => x.Saga.Expire())
                .TransitionTo(Expired)
                .PublishOnCommit(x => new JobExpired(x.Saga.CorrelationId)));

        During(Completed, Cancelled,
            When(RetryJob, IsOwner).Refuse(RefusalReasons.Conflict, x => $"Job {x.Saga.CorrelationId} is {StatusOf(x.Saga)}; only a failed job can be retried."));

        // Retry is a new run that resumes from the stage that failed: earlier stages' outputs are still in storage.
        During(Failed,
            When(RetryJob, x => IsOwner(x) && x.Saga.SourceKey is not null)
                .ResumeRun(dispatch)
                .Accept(x => $"Retrying from {x.Saga.Stage} (run {x.Saga.Run})."),
            When(RetryJob, x => IsOwner(x) && x.Saga.SourceKey is null)
                .Refuse(RefusalReasons.Conflict, x => $"Job {x.Saga.CorrelationId} failed during upload: submit the video again."));

        During(Expired,
            When(CancelJob, IsOwner).Refuse(RefusalReasons.Expired, x => $"Job {x.Saga.CorrelationId} has expired."),
            When(RetryJob, IsOwner).Refuse(RefusalReasons.Expired, x => $"Job {x.Saga.CorrelationId} has expired and its files are gone: submit the video again."));
    }

    /// <summary>The state in which the saga waits for <paramref name="stage"/>.</summary>
    public State StateOf(string stage) =>
        _stageStates.TryGetValue(stage, out var state) ? state : throw new ArgumentOutOfRangeException(nameof(stage), stage, "Unknown stage");

    /// <summary>The states in which a job works: one per stage.</summary>
    public State[] Working => [.. _stageStates.Values];

    /// <summary>The states in which a stage worker works on the job (all but the upload).</summary>
    public State[] Worked => [.. Stages.Worked.Select(s => StateOf(s))];

    public State Completed { get; private set; } = null!;
    public State Failed { get; private set; } = null!;
    public State Cancelled { get; private set; } = null!;
    public State Expired { get; private set; } = null!;

    public Event<JobSubmitted> JobSubmitted { get; private set; } = null!;
    public Event<VideoUploaded> VideoUploaded { get; private set; } = null!;
    public Event<UploadRejected> UploadRejected { get; private set; } = null!;
    public Event<VideoTranscoded> VideoTranscoded { get; private set; } = null!;
    public Event<RenditionsValidated> RenditionsValidated { get; private set; } = null!;
    public Event<RenditionsPackaged> RenditionsPackaged { get; private set; } = null!;
    public Event<OutputsStored> OutputsStored { get; private set; } = null!;
    public Event<StageFailed> StageFailed { get; private set; } = null!;
    public Event<StageStalled> StageStalled { get; private set; } = null!;
    public Event<StageHeartbeat> StageHeartbeat { get; private set; } = null!;
    public Event<CancelJob> CancelJob { get; private set; } = null!;
    public Event<RetryJob> RetryJob { get; private set; } = null!;
    public Event<ExpireJob> ExpireJob { get; private set; } = null!;

    /// <summary>The job's status as the public API names it.</summary>
    public string StatusOf(VideoJobState job) =>
        job.CurrentState == Completed.Name ? JobStatuses.Completed
        : job.CurrentState == Failed.Name ? JobStatuses.Failed
        : job.CurrentState == Cancelled.Name ? JobStatuses.Cancelled
        : job.CurrentState == Expired.Name ? "expired"
        : JobStatuses.Processing;

    private static bool IsCurrentAttempt<T>(BehaviorContext<VideoJobState, T> x) where T : class, IStageCompleted =>
        x.Message.Attempt == x.Saga.Attempt;

    /// <summary>
    /// The stall is about the current attempt, and nothing was heard from it since the sweep looked: a heartbeat
    /// handled between the sweep's read and this message makes the stall stale (busy machines hit that window).
    /// </summary>
    private static bool IsStillSilent(BehaviorContext<VideoJobState, StageStalled> x) =>
        x.Message.Attempt == x.Saga.Attempt &&
        (x.Message.SilentSince is not { } since || x.Saga.LastSeenAt - since < TimeSpan.FromMilliseconds(1));

    private static bool IsOwner<T>(BehaviorContext<VideoJobState, T> x) where T : class, IJobRequest =>
        x.Saga.IsOwnedBy(x.Message.RequestedBy);

    /// <summary>Every event is correlated by its job id; only the upload's messages may start a job.</summary>
    private void JobEvent<T>(Expression<Func<Event<T>>> @event, bool startsJob = false) where T : class, IJobMessage =>
        Event(@event, x =>
        {
            x.CorrelateById(m => m.Message.JobId);
            if (!startsJob) x.OnMissingInstance(m => m.Discard());
        });

    /// <summary>A request about a job: one that does not exist is answered "not found".</summary>
    private void JobRequest<T>(Expression<Func<Event<T>>> @event) where T : class, IJobRequest =>
        Event(@event, x =>
        {
            x.CorrelateById(m => m.Message.JobId);
            // Nothing to store, so nothing to be atomic with: the answer goes straight back.
            x.OnMissingInstance(m => m.ExecuteAsync(context => context.RespondAsync(
                new JobCommandRefused(context.Message.JobId, RefusalReasons.NotFound, $"There is no job {context.Message.JobId}."))));
        });
}
