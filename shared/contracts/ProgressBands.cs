namespace Vidline.Contracts;

/// <summary>
/// Maps a stage's own 0–100 progress onto the job's overall 0–100, so overall progress only ever
/// moves forward: uploading 0–10, transcoding 10–50, validation 50–70, packaging 70–85, storage 85–100.
/// </summary>
public static class ProgressBands
{
    private static readonly Dictionary<string, (double Start, double End)> Bands = new()
    {
        [Stages.Uploading] = (0, 10),
        [Stages.Transcoding] = (10, 50),
        [Stages.Validation] = (50, 70),
        [Stages.Packaging] = (70, 85),
        [Stages.Storage] = (85, 100),
    };

    public static (double Start, double End) Of(string stage) =>
        Bands.TryGetValue(stage, out var band) ? band : throw new ArgumentException($"Unknown stage '{stage}'.", nameof(stage));

    /// <summary>Overall job progress for <paramref name="stageProgress"/> (0–100, clamped) within <paramref name="stage"/>.</summary>
    public static double Overall(string stage, double stageProgress)
    {
        var (start, end) = Of(stage);
        var clamped = Math.Clamp(double.IsNaN(stageProgress) ? 0 : stageProgress, 0, 100);
        return Math.Round(start + (end - start) * clamped / 100, 2);
    }
}
