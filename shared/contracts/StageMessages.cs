namespace Vidline.Contracts;

// Commands the saga sends to each stage's queue, and the events the stages answer with.
// A command carries everything a node needs; files move between stages by storage key.
// Attempt lets the saga ignore answers to a superseded dispatch.

public record TranscodeVideo(Guid JobId, int Attempt, string SourceKey, MediaInfo Source, string OutputPrefix) : IJobMessage;

public record VideoTranscoded(Guid JobId, int Attempt, IReadOnlyList<Rendition> Renditions) : IJobMessage;

public record ValidateRenditions(Guid JobId, int Attempt, string SourceKey, MediaInfo Source, IReadOnlyList<Rendition> Renditions) : IJobMessage;

public record RenditionsValidated(Guid JobId, int Attempt, IReadOnlyList<QualityScore> Scores) : IJobMessage;

public record PackageRenditions(Guid JobId, int Attempt, IReadOnlyList<Rendition> Renditions, string OutputPrefix) : IJobMessage;

public record RenditionsPackaged(Guid JobId, int Attempt, string PackagePrefix, string HlsManifest, string DashManifest) : IJobMessage;

public record StoreOutputs(Guid JobId, int Attempt, string PackagePrefix, string HlsManifest, string DashManifest) : IJobMessage;

public record OutputsStored(Guid JobId, int Attempt, string HlsManifestUrl, string DashManifestUrl) : IJobMessage;

/// <summary>A stage gave up. <c>Permanent</c> faults (bad media, quality gate) are not worth re-dispatching.</summary>
public record StageFailed(Guid JobId, string Stage, int Attempt, string Reason, bool Permanent) : IJobMessage;
