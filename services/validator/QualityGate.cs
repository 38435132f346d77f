using Vidline.Contracts;
using Vidline.Media;

namespace Vidline.Validator;

/// <summary>Minimum scores a rendition must reach (section <c>QualityGate</c>). VMAF counts only where ffmpeg has it.</summary>
public sealed class QualityGateOptions
{
    public double MinSsim { get; set; } = 0.80;
    public double MinPsnr { get; set; } = 25;
    public double MinVmaf { get; set; } = 60;

    /// <summary>Renditions scored at once (each is one ffmpeg process).</summary>
    public int Parallelism { get; set; } = 2;
}

/// <summary>Judges a measurement against the thresholds and says, in words, why a rendition failed.</summary>
public sealed class QualityGate(QualityGateOptions options)
{
    public QualityScore Judge(string rendition, QualityMeasurement m)
    {
        var passed = m.Ssim >= options.MinSsim && m.Psnr >= options.MinPsnr && (m.Vmaf is null || m.Vmaf >= options.MinVmaf);
        return new QualityScore(rendition, Math.Round(m.Ssim, 4), Math.Round(m.Psnr, 2), m.Vmaf is null ? null : Math.Round(m.Vmaf.Value, 2), passed);
    }

    public string Explain(QualityScore score)
    {
        var shortfalls = new List<string>();
        if (score.Ssim < options.MinSsim) shortfalls.Add($"SSIM {score.Ssim:0.####} (minimum {options.MinSsim})");
        if (score.Psnr < options.MinPsnr) shortfalls.Add($"PSNR {score.Psnr:0.##} dB (minimum {options.MinPsnr})");
        if (score.Vmaf < options.MinVmaf) shortfalls.Add($"VMAF {score.Vmaf:0.##} (minimum {options.MinVmaf})");
        return $"rendition {score.Rendition} failed the quality gate: {string.Join(", ", shortfalls)}";
    }
}
