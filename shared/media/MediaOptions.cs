namespace Vidline.Media;

/// <summary>Where the ffmpeg tools live and what sources we accept. Bound from the <c>Media</c> config section.</summary>
public sealed class MediaOptions
{
    public const string SectionName = "Media";

    public string FfmpegPath { get; set; } = "ffmpeg";
    public string FfprobePath { get; set; } = "ffprobe";

    // Limits that reject uploads before they tie up a transcoder for hours.
    public int MaxWidth { get; set; } = 7680;
    public int MaxHeight { get; set; } = 4320;
    public double MaxDurationSeconds { get; set; } = 6 * 3600;
}
