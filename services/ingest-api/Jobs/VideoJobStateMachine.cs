using System.Linq.Expressions;
using MassTransit;
using Vidline.Contracts;

namespace Vidline.IngestApi.Jobs;

/// <summary>
/// The pipeline, top to bottom: uploading → transcoding → validating → packaging → storing → completed,
/// with failed and cancelled as the other ways out. Each stage is driven by a command to its queue and
/// answered by a completed event or <see cref="StageFailed"/>; answers to an older attempt are ignored.
/// </summary>
public class VideoJobStateMachine : MassTransitStateMachine<VideoJobState>
{
    public VideoJobStateMachine(StagePolicy policy, TimeProvider clock)
    {
        InstanceState(x => x.CurrentState);

        JobEvent(() => JobSubmitted, startsJob: true);
        JobEvent(() => VideoUploaded, startsJob: true);
        JobEvent(() => UploadRejected);
        JobEvent(() => VideoTranscoded);
        JobEvent(() => RenditionsValidated);
        JobEvent(() => RenditionsPackaged);
        JobEvent(() => OutputsStored);
        JobEvent(() => StageFailed);
        JobEvent(() => StageStalled);
        JobEvent(() => ProgressReported);
        JobEvent(() => StageHeartbeat);
        JobEvent(() => CancelJob);
        JobEvent(() => RetryJob);

        // Duplicates and late answers land in states that have no use for them: every handler is
        // idempotent, so they are dropped rather than faulted.
        OnUnhandledEvent(context => context.Ignore());

        Initially(
            When(JobSubmitted)
                .Then(x => x.Saga.Accept(x.Message.Key, x.Message.Owner, x.Message.Priority, x.Message.SubmittedAt, clock))
                .TransitionTo(Uploading)
                .PublishStatus(JobStatuses.Processing, clock));

        // The upload can finish before JobSubmitted is handled: VideoUploaded carries enough to start the job itself.
        During([Initial, Uploading],
            When(VideoUploaded)
                .Then(x => x.Saga.Accept(x.Message.Key, x.Message.Owner, x.Message.Priority, x.Message.SubmittedAt, clock))
                .Then(x => x.Saga.SourceArrived(x.Message))
                .DispatchStage(Stages.Transcoding, clock)
                .TransitionTo(Transcoding)
                .PublishStatus(JobStatuses.Processing, clock));

        During(Uploading,
            // A long upload keeps the stall sweep away by reporting progress.
            When(ProgressReported, x => x.Message.Stage == Stages.Uploading)
                .Then(x => x.Saga.LastProgressAt = clock.GetUtcNow()),
            When(UploadRejected)
                .Then(x => x.Saga.Fail(x.Message.Reason, clock))
                .TransitionTo(Failed)
                .PublishStatus(JobStatuses.Failed, clock));

        During(Transcoding,
            When(VideoTranscoded, x => x.Message.Attempt == x.Saga.Attempt)
                .Then(x => x.Saga.Renditions = [.. x.Message.Renditions])
                .DispatchStage(Stages.Validation, clock)
                .TransitionTo(Validating)
                .PublishStatus(JobStatuses.Processing, clock));

        During(Validating,
            When(RenditionsValidated, x => x.Message.Attempt == x.Saga.Attempt)
                .Then(x => x.Saga.QualityScores = [.. x.Message.Scores])
                .DispatchStage(Stages.Packaging, clock)
                .TransitionTo(Packaging)
                .PublishStatus(JobStatuses.Processing, clock));

        During(Packaging,
            When(RenditionsPackaged, x => x.Message.Attempt == x.Saga.Attempt)
                .Then(x => (x.Saga.PackagePrefix, x.Saga.HlsManifest, x.Saga.DashManifest) =
                    (x.Message.PackagePrefix, x.Message.HlsManifest, x.Message.DashManifest))
                .DispatchStage(Stages.Storage, clock)
                .TransitionTo(Storing)
                .PublishStatus(JobStatuses.Processing, clock));

        During(Storing,
            When(OutputsStored, x => x.Message.Attempt == x.Saga.Attempt)
                .Then(x => x.Saga.Complete(x.Message, clock))
                .TransitionTo(Completed)
                .PublishStatus(JobStatuses.Completed, clock));

        During(Transcoding, Validating, Packaging, Storing,
            When(ProgressReported, x => x.Message.Stage == x.Saga.Stage)
                .Then(x => x.Saga.LastProgressAt = clock.GetUtcNow()),
            When(StageHeartbeat, x => x.Message.Stage == x.Saga.Stage && x.Message.Attempt == x.Saga.Attempt)
                .Then(x => x.Saga.LastProgressAt = clock.GetUtcNow()),
            // A transient fault or a silent node gets the stage sent again, up to the policy's limit.
            When(StageFailed, x => x.Message.Stage == x.Saga.Stage && x.Message.Attempt == x.Saga.Attempt)
                .IfElse(x => x.Message.Permanent || x.Saga.Attempt >= policy.MaxAttempts,
                    giveUp => giveUp
                        .Then(x => x.Saga.Fail(x.Message.Permanent
                            ? x.Message.Reason
                            : $"{x.Message.Stage} failed {x.Saga.Attempt} times; last error: {x.Message.Reason}", clock))
                        .TransitionTo(Failed)
                        .PublishStatus(JobStatuses.Failed, clock),
                    again => again
                        .RedispatchStage(clock)
                        .PublishStatus(JobStatuses.Processing, clock)),
            When(StageStalled, x => x.Message.Stage == x.Saga.Stage && x.Message.Attempt == x.Saga.Attempt)
                .IfElse(x => x.Saga.Attempt >= policy.MaxAttempts,
                    giveUp => giveUp
                        .Then(x => x.Saga.Fail(
                            $"{x.Saga.Stage} made no progress for {policy.StallTimeout.TotalSeconds:0} s on each of {x.Saga.Attempt} attempts; giving up", clock))
                        .TransitionTo(Failed)
                        .PublishStatus(JobStatuses.Failed, clock),
                    again => again
                        .RedispatchStage(clock)
                        .PublishStatus(JobStatuses.Processing, clock)));

        During([Uploading, Transcoding, Validating, Packaging, Storing],
            When(CancelJob)
                .Then(x => x.Saga.Cancel(clock))
                .TransitionTo(Cancelled)
                .Publish(x => new JobCancelled(x.Saga.CorrelationId))
                .PublishStatus(JobStatuses.Cancelled, clock));

        // Retry resumes from the stage that failed: earlier stages' outputs are still in storage.
        During(Failed,
            When(RetryJob, x => x.Saga.SourceKey is not null)
                .Then(x => (x.Saga.ErrorMessage, x.Saga.FinishedAt) = (null, null))
                .DispatchStage(x => x.Saga.Stage, clock)
                .ThenAsync(x => x.TransitionToState(StateOf(x.Saga.Stage)))
                .PublishStatus(JobStatuses.Processing, clock));
    }

    public State Uploading { get; private set; } = null!;
    public State Transcoding { get; private set; } = null!;
    public State Validating { get; private set; } = null!;
    public State Packaging { get; private set; } = null!;
    public State Storing { get; private set; } = null!;
    public State Completed { get; private set; } = null!;
    public State Failed { get; private set; } = null!;
    public State Cancelled { get; private set; } = null!;

    public Event<JobSubmitted> JobSubmitted { get; private set; } = null!;
    public Event<VideoUploaded> VideoUploaded { get; private set; } = null!;
    public Event<UploadRejected> UploadRejected { get; private set; } = null!;
    public Event<VideoTranscoded> VideoTranscoded { get; private set; } = null!;
    public Event<RenditionsValidated> RenditionsValidated { get; private set; } = null!;
    public Event<RenditionsPackaged> RenditionsPackaged { get; private set; } = null!;
    public Event<OutputsStored> OutputsStored { get; private set; } = null!;
    public Event<StageFailed> StageFailed { get; private set; } = null!;
    public Event<StageStalled> StageStalled { get; private set; } = null!;
    public Event<ProgressReported> ProgressReported { get; private set; } = null!;
    public Event<StageHeartbeat> StageHeartbeat { get; private set; } = null!;
    public Event<CancelJob> CancelJob { get; private set; } = null!;
    public Event<RetryJob> RetryJob { get; private set; } = null!;

    /// <summary>Every event is correlated by its job id; only the upload's messages may start a job.</summary>
    private void JobEvent<T>(Expression<Func<Event<T>>> @event, bool startsJob = false) where T : class, IJobMessage =>
        Event(@event, x =>
        {
            x.CorrelateById(m => m.Message.JobId);
            if (!startsJob) x.OnMissingInstance(m => m.Discard());
        });

    /// <summary>The state in which the saga waits for <paramref name="stage"/>.</summary>
    public State StateOf(string stage) => stage switch
    {
        Stages.Uploading => Uploading,
        Stages.Transcoding => Transcoding,
        Stages.Validation => Validating,
        Stages.Packaging => Packaging,
        Stages.Storage => Storing,
        _ => throw new ArgumentOutOfRangeException(nameof(stage), stage, "Unknown stage"),
    };
}
