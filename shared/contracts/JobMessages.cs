namespace Vidline.Contracts;

// Messages that drive the VideoJob saga (hosted in ingest-api). Every message names its job.

/// <summary>A message about one job: the saga correlates every message by this id.</summary>
public interface IJobMessage
{
    Guid JobId { get; }
}

/// <summary>An upload began: the job exists from here on.</summary>
public record JobSubmitted(Guid JobId, string Key, string Owner, int Priority, DateTimeOffset SubmittedAt) : IJobMessage;

/// <summary>The upload finished and ffprobe accepted it. Repeats the submission so it can start the job on its own.</summary>
public record VideoUploaded(Guid JobId, string Key, string Owner, int Priority, DateTimeOffset SubmittedAt, string SourceKey, MediaInfo Source) : IJobMessage;

/// <summary>
/// The upload was aborted or the file is not usable media. Repeats the submission: the saga takes messages side by
/// side, so this can be handled before <see cref="JobSubmitted"/> and must be able to start (and fail) the job on its own.
/// </summary>
public record UploadRejected(Guid JobId, string Key, string Owner, int Priority, DateTimeOffset SubmittedAt, string Reason) : IJobMessage;

/// <summary>A caller's request about a job, answered with <see cref="JobCommandAccepted"/> or <see cref="JobCommandRefused"/>.</summary>
public interface IJobRequest : IJobMessage
{
    /// <summary>The caller's tenant: a job of another tenant is answered "not found".</summary>
    string RequestedBy { get; }
}

/// <summary>Stop the job.</summary>
public record CancelJob(Guid JobId, string RequestedBy) : IJobRequest;

/// <summary>Start a new run of a failed job from the stage that failed.</summary>
public record RetryJob(Guid JobId, string RequestedBy) : IJobRequest;

/// <summary>The saga did what <see cref="CancelJob"/> or <see cref="RetryJob"/> asked.</summary>
public record JobCommandAccepted(Guid JobId, string Message) : IJobMessage;

/// <summary>The saga refused: <c>Reason</c> is one of <see cref="RefusalReasons"/>, <c>Detail</c> says why in words.</summary>
public record JobCommandRefused(Guid JobId, string Reason, string Detail) : IJobMessage;

public static class RefusalReasons
{
    /// <summary>No such job, or not the caller's.</summary>
    public const string NotFound = "not-found";
    /// <summary>The job is not in a state the command applies to.</summary>
    public const string Conflict = "conflict";
    /// <summary>The job outlived its retention: its files are gone.</summary>
    public const string Expired = "expired";
}

/// <summary>The stall sweep saw no heartbeat for <c>Attempt</c> for too long.</summary>
public record StageStalled(Guid JobId, string Stage, int Attempt, DateTimeOffset? SilentSince = null) : IJobMessage;

/// <summary>A stage node is alive and working on <c>Attempt</c>: the saga's only signal of liveness.</summary>
public record StageHeartbeat(Guid JobId, string Stage, int Attempt, DateTimeOffset Timestamp, string? Node = null) : IJobMessage;

/// <summary>Fanned out to every stage node: stop work on this job now and remove partial outputs.</summary>
public record JobCancelled(Guid JobId) : IJobMessage;

/// <summary>The retention sweep asks the saga to retire a finished job.</summary>
public record ExpireJob(Guid JobId) : IJobMessage;

/// <summary>A job outlived its retention: its owners delete its files (ingest-api) and rows (progress-gateway).</summary>
public record JobExpired(Guid JobId) : IJobMessage;
