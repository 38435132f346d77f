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

/// <summary>The upload was aborted or the file is not usable media.</summary>
public record UploadRejected(Guid JobId, string Reason) : IJobMessage;

public record CancelJob(Guid JobId, string RequestedBy) : IJobMessage;

public record RetryJob(Guid JobId, string RequestedBy) : IJobMessage;

/// <summary>The stall sweep saw no progress from <c>Stage</c> for too long while on <c>Attempt</c>.</summary>
public record StageStalled(Guid JobId, string Stage, int Attempt) : IJobMessage;

/// <summary>A stage node is still alive and working on <c>Attempt</c>, even when it has no new percentage to report.</summary>
public record StageHeartbeat(Guid JobId, string Stage, int Attempt, DateTimeOffset Timestamp) : IJobMessage;

/// <summary>Fanned out to every stage node: stop work on this job now and remove partial outputs.</summary>
public record JobCancelled(Guid JobId) : IJobMessage;
