namespace Vidline.Contracts;

/// <summary>
/// What ffprobe and one read of the whole file told us about a source video. <c>Width</c> x <c>Height</c> is the
/// picture as a viewer sees it: upright (rotation applied) and in square pixels (sample aspect applied).
/// <c>DurationSeconds</c> and <c>FrameCount</c> are what the file really holds, not what its container claims.
/// </summary>
/// <param name="Rotation">Degrees the stored picture is turned for display (0, 90, 180 or 270); ffmpeg applies it when decoding.</param>
/// <param name="VideoStream">Index of the video stream to use (cover art is never chosen); null means the first.</param>
/// <param name="AudioStream">Index of the audio stream to use (the default one); null means the first.</param>
/// <param name="Interlaced">The picture is stored as fields and needs deinterlacing.</param>
/// <param name="Hdr">The transfer is PQ or HLG (BT.2100): the picture needs tone mapping for SDR output.</param>
/// <param name="BitDepth">Bits per sample of the stored picture.</param>
public record MediaInfo(
    double DurationSeconds,
    int Width,
    int Height,
    double FrameRate,
    long FrameCount,
    bool HasAudio,
    string VideoCodec,
    int Rotation = 0,
    int? VideoStream = null,
    int? AudioStream = null,
    bool Interlaced = false,
    bool Hdr = false,
    int BitDepth = 8);

/// <summary>
/// One rung of the ABR ladder as produced by the transcoder; <c>Key</c> locates its picture in storage (the rung's HLS
/// media playlist over its segments). <c>AudioKey</c>, when set, locates the one sound track every rung shares; null
/// means the sound, if any, is in <c>Key</c>. <c>DisplayAspect</c> ("16:9") is the one display aspect every rendition
/// of the job shares.
/// </summary>
public record Rendition(
    string Name,
    int Width,
    int Height,
    int VideoBitrateKbps,
    int AudioBitrateKbps,
    string Key,
    string? DisplayAspect = null,
    string? AudioKey = null);

/// <summary>
/// Quality of one rendition. <c>Ssim</c>/<c>Psnr</c>/<c>Vmaf</c> measure encode loss: the rendition against the
/// source scaled to the rendition's own size (<c>Vmaf</c> is null when ffmpeg lacks libvmaf). The full-size scores
/// (rendition scaled back up to the source size) include the resolution given up on purpose and are information only.
/// <c>Problems</c> says, in words, what made the gate fail the rendition.
/// </summary>
public record QualityScore(
    string Rendition,
    double Ssim,
    double Psnr,
    double? Vmaf,
    bool Passed,
    double? FullSizeSsim = null,
    double? FullSizePsnr = null,
    IReadOnlyList<string>? Problems = null);

/// <summary>What a completed job produced: manifest URLs (relative to the edge) and the renditions with their scores.</summary>
public record JobResult(
    string? HlsManifestUrl,
    string? DashManifestUrl,
    IReadOnlyList<Rendition> Renditions,
    IReadOnlyList<QualityScore> QualityScores);
