namespace Vidline.Contracts;

// Commands the saga sends to each stage's queue, and the events the stages answer with.
// A command carries everything a node needs; files move between stages by storage key.
// Attempt numbers every dispatch of a job and never repeats, so the saga can ignore answers to a
// superseded dispatch and every attempt gets a work folder of its own. Run numbers the job's runs:
// the first, and one more for each retry; progress events carry it.

/// <summary>A command that starts one attempt of a stage.</summary>
public interface IStageCommand : IJobMessage
{
    int Run { get; }
    int Attempt { get; }
}

/// <summary>The event with which a stage reports its attempt finished.</summary>
public interface IStageCompleted : IJobMessage
{
    int Attempt { get; }
}

public record TranscodeVideo(Guid JobId, int Run, int Attempt, string SourceKey, MediaInfo Source, string OutputPrefix) : IStageCommand;

public record VideoTranscoded(Guid JobId, int Attempt, IReadOnlyList<Rendition> Renditions) : IStageCompleted;

public record ValidateRenditions(Guid JobId, int Run, int Attempt, string SourceKey, MediaInfo Source, IReadOnlyList<Rendition> Renditions) : IStageCommand;

public record RenditionsValidated(Guid JobId, int Attempt, IReadOnlyList<QualityScore> Scores) : IStageCompleted;

/// <summary><c>MediaSeconds</c>: the source's duration, which sets the attempt's deadline.</summary>
public record PackageRenditions(Guid JobId, int Run, int Attempt, IReadOnlyList<Rendition> Renditions, string OutputPrefix,
    double MediaSeconds = 0) : IStageCommand;

public record RenditionsPackaged(Guid JobId, int Attempt, string PackagePrefix, string HlsManifest, string DashManifest) : IStageCompleted;

public record StoreOutputs(Guid JobId, int Run, int Attempt, string PackagePrefix, string HlsManifest, string DashManifest) : IStageCommand;

public record OutputsStored(Guid JobId, int Attempt, string HlsManifestUrl, string DashManifestUrl) : IStageCompleted;

/// <summary>A stage gave up. <c>Permanent</c> faults (bad media, quality gate) are not worth re-dispatching.</summary>
public record StageFailed(Guid JobId, string Stage, int Attempt, string Reason, bool Permanent) : IJobMessage;
