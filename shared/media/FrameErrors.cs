using System.Globalization;
using System.Text.RegularExpressions;

namespace Vidline.Media;

/// <summary>
/// Per-frame mean squared error of a rendition against its source (8-bit), from the psnr filter's stats log,
/// for judging stretches of a video rather than only its average.
/// </summary>
public sealed partial class FrameErrors(IReadOnlyList<double> meanSquaredErrors, double frameRate)
{
    public IReadOnlyList<double> MeanSquaredErrors { get; } = meanSquaredErrors;
    public double FrameRate { get; } = frameRate > 0 ? frameRate : 1;

    /// <summary>Reads lines like "n:1 mse_avg:12.3 mse_y:… psnr_avg:37.2 …".</summary>
    public static FrameErrors Parse(IEnumerable<string> statsLines, double frameRate) =>
        new(statsLines.Select(l => MseAverage().Match(l)).Where(m => m.Success)
            .Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList(), frameRate);

    /// <summary>The one-second stretch with the worst PSNR (errors averaged, then turned into PSNR); null without frames.</summary>
    public (TimeSpanOfVideo When, double Psnr)? WorstSecond()
    {
        var mse = MeanSquaredErrors;
        if (mse.Count == 0) return null;
        var window = Math.Clamp((int)Math.Round(FrameRate), 1, mse.Count);
        var sum = mse.Take(window).Sum();
        var (worstStart, worstSum) = (0, sum);
        for (var i = window; i < mse.Count; i++)
        {
            sum += mse[i] - mse[i - window];
            if (sum > worstSum) (worstStart, worstSum) = (i - window + 1, sum);
        }
        return (new TimeSpanOfVideo(worstStart / FrameRate, (worstStart + window) / FrameRate), Psnr(worstSum / window));
    }

    /// <summary>PSNR over the frames of <paramref name="span"/>, or over all frames when it holds none.</summary>
    public double PsnrDuring(TimeSpanOfVideo span)
    {
        var first = Math.Clamp((int)Math.Floor(span.Start * FrameRate), 0, MeanSquaredErrors.Count);
        var last = Math.Clamp((int)Math.Ceiling(span.End * FrameRate), first, MeanSquaredErrors.Count);
        var frames = last > first ? MeanSquaredErrors.Skip(first).Take(last - first) : MeanSquaredErrors;
        return Psnr(frames.DefaultIfEmpty(0).Average());
    }

    private static double Psnr(double mse) =>
        mse <= 0 ? QualityMeter.IdenticalPsnr : Math.Min(QualityMeter.IdenticalPsnr, 10 * Math.Log10(255.0 * 255.0 / mse));

    [GeneratedRegex(@"mse_avg:([0-9.]+)")]
    private static partial Regex MseAverage();
}
