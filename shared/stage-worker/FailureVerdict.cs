using Vidline.Media;
using Vidline.Media.Storage;

namespace Vidline.StageWorker;

/// <summary>A stage gave up on purpose: retrying the same input would fail the same way.</summary>
public sealed class PermanentStageFailure(string reason) : Exception(reason);

/// <summary>
/// How an attempt's failure is reported to the saga: the reason a person reads (never with the server's folders in it),
/// and whether retrying can help.
/// </summary>
public sealed record FailureVerdict(string Reason, bool Permanent)
{
    public string Reason { get; init; } = ServerPaths.Hidden(Reason);

    /// <summary>A fault nobody foresaw: retried, then reported as transient.</summary>
    public static FailureVerdict Unexpected(string stage, Exception e) => new($"{stage} failed: {e.Message}", false);

    public const string DiskFull = "the disk is full";
    public const string KilledFromOutside = "ffmpeg was killed (out of memory?)";

    /// <summary>
    /// Faults of the machine (a full disk, the OOM killer) are transient: another node, or this one later, can do it.
    /// Faults of the input (unusable media, ffmpeg refusing it, segments that do not hold together, a failed quality
    /// gate) are permanent.
    /// Null for anything else: an unexpected fault, retried and then reported as transient.
    /// </summary>
    public static FailureVerdict? Of(Exception e) => e switch
    {
        IOException io when StorageFull.Is(io) => new(DiskFull, false),
        FfmpegException { DiskFull: true } => new(DiskFull, false),
        FfmpegException { KilledFromOutside: true } => new(KilledFromOutside, false),
        PermanentStageFailure failure => new(failure.Message, true),
        UnusableMediaException unusable => new(unusable.Reason, true),
        FfmpegException ffmpeg => new($"ffmpeg could not process the video: {ffmpeg.Summary}", true),
        // Segments that do not hold together, or a message naming renditions that cannot be folders: the same again.
        InvalidDataException data => new(data.Message, true),
        _ => null,
    };
}
