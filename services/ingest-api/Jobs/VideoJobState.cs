using MassTransit;
using Vidline.Contracts;

namespace Vidline.IngestApi.Jobs;

/// <summary>One video job as the saga remembers it (persisted as a row in <c>video_job_saga</c>).</summary>
public class VideoJobState : SagaStateMachineInstance, ISagaVersion
{
    public Guid CorrelationId { get; set; }
    public string CurrentState { get; set; } = "";
    public int Version { get; set; }

    public string Key { get; set; } = "";
    public string Owner { get; set; } = "";
    public int Priority { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    public string? SourceKey { get; set; }
    public MediaInfo? Source { get; set; }

    /// <summary>The stage at work (or the one that failed); Attempt counts its dispatches.</summary>
    public string Stage { get; set; } = Stages.Uploading;
    public int Attempt { get; set; }
    public DateTimeOffset LastProgressAt { get; set; }

    public List<Rendition> Renditions { get; set; } = [];
    public List<QualityScore> QualityScores { get; set; } = [];
    public string? PackagePrefix { get; set; }
    public string? HlsManifest { get; set; }
    public string? DashManifest { get; set; }
    public string? HlsManifestUrl { get; set; }
    public string? DashManifestUrl { get; set; }

    public string? ErrorMessage { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }

    public void Accept(string key, string owner, int priority, DateTimeOffset submittedAt, TimeProvider clock)
    {
        if (CreatedAt != default) return;
        (Key, Owner, Priority, CreatedAt) = (key, owner, priority, submittedAt);
        (Stage, Attempt, LastProgressAt) = (Stages.Uploading, 1, clock.GetUtcNow());
    }

    public void SourceArrived(VideoUploaded upload) =>
        (Key, Priority, SourceKey, Source) = (upload.Key, upload.Priority, upload.SourceKey, upload.Source);

    public void Complete(OutputsStored stored, TimeProvider clock) =>
        (HlsManifestUrl, DashManifestUrl, FinishedAt) = (stored.HlsManifestUrl, stored.DashManifestUrl, clock.GetUtcNow());

    public void Fail(string reason, TimeProvider clock) => (ErrorMessage, FinishedAt) = (reason, clock.GetUtcNow());

    public void Cancel(TimeProvider clock) => (ErrorMessage, FinishedAt) = ("cancelled by request", clock.GetUtcNow());

    public JobResult Result() => new(HlsManifestUrl, DashManifestUrl, Renditions, QualityScores);
}
