using System.Text.Json.Serialization;
using MassTransit;
using Vidline.Contracts;

namespace Vidline.IngestApi.Jobs;

/// <summary>One video job as the saga remembers it (a row of <c>video_job_saga</c>).</summary>
public class VideoJobState : SagaStateMachineInstance, ISagaVersion
{
    public Guid CorrelationId { get; set; }
    /// <summary>The saga state; while the job works it is the name of the stage at work (see <see cref="Stages"/>).</summary>
    public string CurrentState { get; set; } = "";
    public int Version { get; set; }

    public string Key { get; set; } = "";
    public string Owner { get; set; } = "";
    public int Priority { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    public string? SourceKey { get; set; }
    public MediaInfo? Source { get; set; }

    /// <summary>The job's runs: 1, then one more for each retry.</summary>
    public int Run { get; set; }
    /// <summary>Numbers every dispatch of the job and never resets: late answers to an older one are ignored.</summary>
    public int Attempt { get; set; }
    /// <summary>Dispatches of the current stage in this run, counted against the policy's limit.</summary>
    public int StageAttempts { get; set; }
    /// <summary>When the working node last said it is alive (a heartbeat, or the dispatch itself).</summary>
    public DateTimeOffset LastSeenAt { get; set; }
    /// <summary>A node has taken the current attempt (its first heartbeat came); until then its command waits in the queue.</summary>
    public bool AttemptStarted { get; set; }

    /// <summary>The stage at which the job failed or was cancelled; a retry resumes there.</summary>
    public string? StoppedAt { get; set; }

    public List<Rendition> Renditions { get; set; } = [];
    public List<QualityScore> QualityScores { get; set; } = [];
    public string? PackagePrefix { get; set; }
    public string? HlsManifest { get; set; }
    public string? DashManifest { get; set; }
    public string? HlsManifestUrl { get; set; }
    public string? DashManifestUrl { get; set; }

    public string? ErrorMessage { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>The stage the job is at (or stopped at), derived from its state.</summary>
    [JsonIgnore]
    public string Stage => Stages.Find(CurrentState)?.Name ?? StoppedAt ?? Stages.InOrder[^1].Name;

    /// <summary>This attempt's own work folder, so a slow node and its replacement never write the same files.</summary>
    public string WorkFolder(string step) => $"work/{CorrelationId:N}/{step}/attempt-{Attempt}";

    public void Accept(string key, string owner, int priority, DateTimeOffset submittedAt, TimeProvider clock)
    {
        if (CreatedAt != default) return;
        (Key, Owner, Priority, CreatedAt) = (key, owner, priority, submittedAt);
        // Attempt 0 is the upload; every dispatch to a stage worker takes the next number.
        (Run, Attempt, StageAttempts, LastSeenAt, AttemptStarted) = (1, 0, 1, clock.GetUtcNow(), true);
    }

    public void SourceArrived(VideoUploaded upload) =>
        (Key, Priority, SourceKey, Source) = (upload.Key, upload.Priority, upload.SourceKey, upload.Source);

    /// <summary>A new dispatch: of the next stage (<paramref name="sameStage"/> false) or of the current one again.</summary>
    public void Dispatched(bool sameStage, TimeProvider clock)
    {
        Attempt++;
        StageAttempts = sameStage ? StageAttempts + 1 : 1;
        LastSeenAt = clock.GetUtcNow();
        AttemptStarted = false;
    }

    /// <summary>A node working on <paramref name="attempt"/>, one of the current stage's, is alive.</summary>
    public void Seen(int attempt, TimeProvider clock)
    {
        LastSeenAt = clock.GetUtcNow();
        AttemptStarted |= attempt == Attempt;
    }

    /// <summary>Whether <paramref name="attempt"/> is one of the dispatches of the current stage in this run.</summary>
    public bool IsAttemptOfCurrentStage(int attempt) => attempt > Attempt - StageAttempts && attempt <= Attempt;

    public void Complete(OutputsStored stored, TimeProvider clock) =>
        (HlsManifestUrl, DashManifestUrl, FinishedAt) = (stored.HlsManifestUrl, stored.DashManifestUrl, clock.GetUtcNow());

    public void Fail(string reason, TimeProvider clock) => (StoppedAt, ErrorMessage, FinishedAt) = (Stage, reason, clock.GetUtcNow());

    public void Cancel(TimeProvider clock) => (StoppedAt, ErrorMessage, FinishedAt) = (Stage, "cancelled by request", clock.GetUtcNow());

    /// <summary>A retry is a new run that resumes where the last one stopped.</summary>
    public void BeginRun() => (Run, StoppedAt, ErrorMessage, FinishedAt) = (Run + 1, null, null, null);

    /// <summary>Retention is over: only the tombstone stays, so a late retry learns the job expired.</summary>
    public void Expire() => (Renditions, QualityScores, Source) = ([], [], null);

    public bool IsOwnedBy(string caller) => Owner == caller;

    public JobResult Result() => new(HlsManifestUrl, DashManifestUrl, Renditions, QualityScores);
}
