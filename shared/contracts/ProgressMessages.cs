namespace Vidline.Contracts;

// Events the progress-gateway stores and streams. EventId makes redelivery harmless; Run says which run of
// the job the event belongs to (a retry starts a new run), so the gateway can tell stale news from new.

/// <summary>A stage's progress within its own band, 0–100; <c>Node</c> is the process doing the work (e.g. <c>transcoder-2</c>).</summary>
public record ProgressReported(
    Guid EventId,
    Guid JobId,
    int Run,
    string Stage,
    double Progress,
    string Message,
    DateTimeOffset Timestamp,
    ProgressDetails? Details = null,
    string? Node = null) : IJobMessage;

/// <summary>Live figures from ffmpeg, where the stage has them.</summary>
public record ProgressDetails(
    long? CurrentFrame = null,
    long? FrameCount = null,
    double? Fps = null,
    double? Speed = null,
    double? EtaSeconds = null);

/// <summary>A non-fatal problem worth showing the user.</summary>
public record WarningReported(Guid EventId, Guid JobId, int Run, string Stage, string Message, DateTimeOffset Timestamp) : IJobMessage;

/// <summary>Published by the saga on every transition: the job's public snapshot.</summary>
public record JobStatusChanged(
    Guid EventId,
    Guid JobId,
    string Key,
    string Owner,
    int Priority,
    string Status,
    string Stage,
    int Run,
    int Attempt,
    string? ErrorMessage,
    JobResult? Result,
    DateTimeOffset CreatedAt,
    DateTimeOffset Timestamp) : IJobMessage;
