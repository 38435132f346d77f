namespace Vidline.Media;

/// <summary>Where the ffmpeg tools live and what sources we accept. Bound from the <c>Media</c> config section.</summary>
public sealed class MediaOptions
{
    public const string SectionName = "Media";

    public string FfmpegPath { get; set; } = "ffmpeg";
    public string FfprobePath { get; set; } = "ffprobe";

    /// <summary>
    /// ffmpeg and ffprobe run this much nicer than the service (0–19; 0 = not lowered). Encoding is batch work that
    /// takes every core it gets; on a shared machine the request path (progress events, SSE streams, the broker, the
    /// database) must not queue behind it. A niced encoder still gets all the CPU nobody else wants. ingest-api's probe
    /// of an upload runs at the same value: it shares the CPU with an encode as an equal, as before.
    /// </summary>
    public int Niceness { get; set; } = 10;

    // Limits that reject uploads before they tie up a transcoder for hours.
    public int MaxWidth { get; set; } = 7680;
    public int MaxHeight { get; set; } = 4320;
    public double MaxDurationSeconds { get; set; } = 6 * 3600;
}
