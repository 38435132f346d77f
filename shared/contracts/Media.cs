namespace Vidline.Contracts;

/// <summary>What ffprobe told us about a source video.</summary>
public record MediaInfo(
    double DurationSeconds,
    int Width,
    int Height,
    double FrameRate,
    long FrameCount,
    bool HasAudio,
    string VideoCodec);

/// <summary>One rung of the ABR ladder as produced by the transcoder; <c>Key</c> locates it in storage.</summary>
public record Rendition(
    string Name,
    int Width,
    int Height,
    int VideoBitrateKbps,
    int AudioBitrateKbps,
    string Key);

/// <summary>Quality of one rendition against the source. <c>Vmaf</c> is null when ffmpeg lacks libvmaf.</summary>
public record QualityScore(
    string Rendition,
    double Ssim,
    double Psnr,
    double? Vmaf,
    bool Passed);

/// <summary>What a completed job produced: manifest URLs (relative to the edge) and the renditions with their scores.</summary>
public record JobResult(
    string? HlsManifestUrl,
    string? DashManifestUrl,
    IReadOnlyList<Rendition> Renditions,
    IReadOnlyList<QualityScore> QualityScores);
