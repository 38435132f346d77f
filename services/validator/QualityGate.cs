using Vidline.Contracts;
using Vidline.Media;

namespace Vidline.Validator;

/// <summary>Encode-loss minimums for one rung; unset values fall back to the gate's defaults.</summary>
public sealed class RungThresholds
{
    public double? MinSsim { get; set; }
    public double? MinPsnr { get; set; }
    public double? MinVmaf { get; set; }
}

/// <summary>
/// What the gate accepts (section <c>QualityGate</c>). The score minimums apply to encode loss (each rendition against
/// the source scaled to its own size) and can be set per rung under <c>Rungs:{name}</c>. VMAF counts only where
/// ffmpeg has it. The other rules catch what a viewer would call broken.
/// </summary>
public sealed class QualityGateOptions
{
    public double MinSsim { get; set; } = 0.80;
    public double MinPsnr { get; set; } = 25;
    public double MinVmaf { get; set; } = 60;

    /// <summary>Per-rung minimums by rung name ("360p"), overriding the three above.</summary>
    public Dictionary<string, RungThresholds> Rungs { get; set; } = [];

    /// <summary>No one-second stretch may fall below this PSNR: garbled, green or stale pictures do, briefly or not.</summary>
    public double MinWorstSecondPsnr { get; set; } = 18;

    /// <summary>How far a rendition's length may stray from the source's (at least two frames are always allowed).</summary>
    public double MaxDurationErrorSeconds { get; set; } = 0.25;

    /// <summary>Share of the expected frames that may be missing or extra (at least two frames are always allowed).</summary>
    public double MaxFrameCountError { get; set; } = 0.02;

    /// <summary>How far the audio may start from the picture, and how much earlier than it the audio may end.</summary>
    public double MaxAudioOffsetSeconds { get; set; } = 0.1;
    public double MaxAudioShortfallSeconds { get; set; } = 0.25;

    /// <summary>Frozen (or black) stretches shorter than this are not counted, nor ones the source has too.</summary>
    public double MinDefectSeconds { get; set; } = 0.5;

    /// <summary>How much worse than the whole a frozen stretch must score to count as the source moving under it.</summary>
    public double FreezePsnrDrop { get; set; } = 3;

    /// <summary>
    /// Also report each rendition scaled back up against the source at full size. Never judged, and it costs a quarter
    /// or more of the validation pass, so it is off unless someone wants the figures.
    /// </summary>
    public bool FullSizeScores { get; set; }

    public (double Ssim, double Psnr, double Vmaf) MinimumsFor(string rung) =>
        Rungs.TryGetValue(rung, out var r)
            ? (r.MinSsim ?? MinSsim, r.MinPsnr ?? MinPsnr, r.MinVmaf ?? MinVmaf)
            : (MinSsim, MinPsnr, MinVmaf);
}

/// <summary>
/// Judges a measured rendition. It fails what a viewer would call broken — wrong size, length or frame count,
/// missing or drifting audio, a picture frozen, black or garbled where the source is not — and encode-loss scores
/// below the rung's minimums. It does not fail a rung for being smaller than the source: that is what a rung is.
/// </summary>
public sealed class QualityGate(QualityGateOptions options)
{
    /// <summary>Whether the scores carry the full-size figures, which the measurement must then include.</summary>
    public bool ReportsFullSize => options.FullSizeScores;

    public QualityScore Judge(RenditionTarget rendition, MediaInfo source, RenditionMeasurement m)
    {
        var problems = new List<string>();
        var s = m.Structure;
        var outputFrameRate = m.FrameRate;
        var frame = 1 / Math.Max(outputFrameRate, 1e-3);

        if (s.Width != rendition.Width || s.Height != rendition.Height)
            problems.Add($"picture is {s.Width}x{s.Height}, not {rendition.Width}x{rendition.Height}");
        if (Math.Abs(s.DurationSeconds - source.DurationSeconds) > Math.Max(options.MaxDurationErrorSeconds, 2 * frame))
            problems.Add($"lasts {s.DurationSeconds:0.###} s where the source lasts {source.DurationSeconds:0.###} s");
        var expectedFrames = Math.Max(1, (long)Math.Round(source.DurationSeconds * outputFrameRate));
        if (Math.Abs(s.FrameCount - expectedFrames) > Math.Max(2, expectedFrames * options.MaxFrameCountError))
            problems.Add($"has {s.FrameCount} frames where {expectedFrames} were expected");

        if (source.HasAudio && !s.HasAudio)
            problems.Add("has no audio although the source has");
        if (s.AudioStart is { } offset && Math.Abs(offset) > options.MaxAudioOffsetSeconds)
            problems.Add($"audio starts {offset:+0.###;-0.###} s off the picture (out of sync)");
        if (s.AudioDurationSeconds is { } audio && s.DurationSeconds - audio > options.MaxAudioShortfallSeconds)
            problems.Add($"audio ends {s.DurationSeconds - audio:0.##} s before the picture");

        // A still rendition of a noisy but still scene (a tripod shot) is no defect: the source only "moves" where
        // the frozen picture loses clearly more against it than the encode does overall.
        foreach (var freeze in Unexplained(m.RenditionFreezes, m.SourceFreezes)
                     .Where(f => m.EncodeErrors.PsnrDuring(f) < m.EncodeLoss.Psnr - options.FreezePsnrDrop))
            problems.Add($"picture is frozen at {freeze} while the source moves");
        foreach (var black in Unexplained(m.RenditionBlack, m.SourceBlack))
            problems.Add($"picture is black at {black} where the source is not");
        if (m.EncodeErrors.WorstSecond() is { } worst && worst.Psnr < options.MinWorstSecondPsnr)
            problems.Add($"picture is garbled at {worst.When} (PSNR {worst.Psnr:0.##} dB against the source, minimum {options.MinWorstSecondPsnr})");

        var (minSsim, minPsnr, minVmaf) = options.MinimumsFor(rendition.Name);
        var loss = m.EncodeLoss;
        if (loss.Ssim < minSsim) problems.Add($"SSIM {loss.Ssim:0.####} (minimum {minSsim})");
        if (loss.Psnr < minPsnr) problems.Add($"PSNR {loss.Psnr:0.##} dB (minimum {minPsnr})");
        if (loss.Vmaf < minVmaf) problems.Add($"VMAF {loss.Vmaf:0.##} (minimum {minVmaf})");

        return new QualityScore(rendition.Name, Math.Round(loss.Ssim, 4), Math.Round(loss.Psnr, 2), Rounded(loss.Vmaf, 2),
            problems.Count == 0, Rounded(m.FullSize?.Ssim, 4), Rounded(m.FullSize?.Psnr, 2), problems);
    }

    private static double? Rounded(double? score, int digits) => score is { } s ? Math.Round(s, digits) : null;

    /// <summary>A rendition that could not be measured at all (ffmpeg could not decode or read it).</summary>
    public QualityScore Unreadable(string rendition, string why) =>
        new(rendition, 0, 0, null, false, Problems: [$"could not be decoded ({why})"]);

    public string Explain(QualityScore score) =>
        $"rendition {score.Rendition} failed the quality gate: {string.Join("; ", score.Problems ?? [])}";

    /// <summary>Defect stretches long enough to see that the source does not share (mostly).</summary>
    private IEnumerable<TimeSpanOfVideo> Unexplained(IReadOnlyList<TimeSpanOfVideo> rendition, IReadOnlyList<TimeSpanOfVideo> source) =>
        rendition.Where(r => r.Length >= options.MinDefectSeconds && source.Sum(r.Overlap) < r.Length / 2);
}
