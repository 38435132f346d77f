using System.Text.Json;
using System.Text.Json.Serialization;

namespace Vidline.ProgressGateway;

/// <summary>A job as the public API shows it (snake_case on the wire).</summary>
public sealed record JobView(
    Guid Id,
    string Key,
    string Owner,
    string Status,
    string Stage,
    double Progress,
    int Priority,
    int Run,
    int Attempt,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? CompletedAt,
    string? ErrorMessage,
    JsonElement? Result)
{
    /// <summary>The job's last ten events, newest first; left out of list pages to keep them light.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<EventSummary>? LatestEvents { get; init; }
}

public sealed record EventSummary(long Id, string Type, string? Stage, double? Progress, string? Message, DateTimeOffset CreatedAt);

public sealed record JobPage(IReadOnlyList<JobView> Items, string? NextCursor);

/// <summary>
/// A job read together with the event ids that frame its current run, in one statement, so the snapshot and
/// the id a client resumes from agree: every event up to <see cref="SnapshotEventId"/> is reflected in the view,
/// and the current run's <c>done</c> (<see cref="DoneEventId"/>), if it has one, comes after it.
/// </summary>
public sealed record JobSnapshot(JobView Job, long? SnapshotEventId, long? DoneEventId)
{
    public bool IsFinal => Vidline.Contracts.JobStatuses.IsFinal(Job.Status);
}
