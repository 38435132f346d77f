using Vidline.Contracts;

namespace Vidline.Media;

/// <summary>
/// One <c>-progress</c> block from ffmpeg. Values are null where ffmpeg printed <c>N/A</c>
/// (typical for speed in the first block).
/// </summary>
public sealed record FfmpegProgress(long? Frame, double? Fps, TimeSpan? OutTime, double? Speed, bool IsEnd)
{
    /// <summary>Share of <paramref name="sourceDurationSeconds"/> already written, 0–100.</summary>
    public double PercentOf(double sourceDurationSeconds) => Percent(OutTime, sourceDurationSeconds, IsEnd);

    /// <summary>Seconds left at the current speed, or null while speed is unknown.</summary>
    public double? EtaSeconds(double sourceDurationSeconds) => Eta(OutTime, sourceDurationSeconds, Speed);

    public ProgressDetails ToDetails(long? frameCount, double sourceDurationSeconds) =>
        new(Frame, frameCount, Fps, Speed, EtaSeconds(sourceDurationSeconds));

    public static double Percent(TimeSpan? outTime, double sourceDurationSeconds, bool isEnd = false)
    {
        // The final block means done, even when the output ran a few ms short of the probed duration.
        if (isEnd) return 100;
        if (outTime is null || !(sourceDurationSeconds > 0)) return 0;
        return Math.Clamp(outTime.Value.TotalSeconds / sourceDurationSeconds * 100, 0, 100);
    }

    public static double? Eta(TimeSpan? outTime, double sourceDurationSeconds, double? speed)
    {
        if (speed is not > 0 || !(sourceDurationSeconds > 0)) return null;
        var done = Math.Max(0, outTime?.TotalSeconds ?? 0);
        return Math.Max(0, sourceDurationSeconds - done) / speed.Value;
    }
}
