using System.Globalization;
using System.Text.RegularExpressions;

namespace Vidline.Media;

/// <summary>Full-reference scores of a rendition against its source. <c>Vmaf</c> is null without libvmaf.</summary>
public sealed record QualityMeasurement(double Ssim, double Psnr, double? Vmaf);

/// <summary>
/// Scores a rendition against its source in one ffmpeg pass: the rendition is scaled back up to
/// the source size and compared frame by frame with SSIM and PSNR (and VMAF where ffmpeg has it).
/// </summary>
public sealed partial class QualityMeter(FfmpegRunner runner)
{
    /// <summary>What PSNR "inf" (identical frames) counts as, so scores stay finite numbers.</summary>
    public const double IdenticalPsnr = 100;

    private Task<bool>? _hasVmaf;

    /// <summary>Whether the configured ffmpeg offers the libvmaf filter (asked once, then remembered).</summary>
    public async Task<bool> HasVmafAsync(CancellationToken cancellationToken = default)
    {
        // The detection itself is not cancelled, so one caller's cancellation is never remembered
        // as the answer; a failure (ffmpeg missing) is forgotten so the next call asks again.
        var detection = _hasVmaf ??= DetectVmafAsync();
        try
        {
            return await detection.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch when (detection.IsFaulted)
        {
            _hasVmaf = null;
            throw;
        }
    }

    private async Task<bool> DetectVmafAsync()
    {
        var hasVmaf = false;
        await runner.RunFfmpegAsync(["-filters"], line => hasVmaf |= line.Contains(" libvmaf "), null, CancellationToken.None)
            .ConfigureAwait(false);
        return hasVmaf;
    }

    /// <param name="onProgress">Called with the percent of the source compared so far (0–100, never decreasing).</param>
    public async Task<QualityMeasurement> MeasureAsync(
        string renditionPath, string sourcePath, int sourceWidth, int sourceHeight, CancellationToken cancellationToken = default,
        double sourceDurationSeconds = 0, Action<double>? onProgress = null)
    {
        var vmaf = await HasVmafAsync(cancellationToken).ConfigureAwait(false);
        var threads = Math.Max(1, Environment.ProcessorCount).ToString(CultureInfo.InvariantCulture);

        var args = new List<string> { "-progress", "pipe:1", "-nostats" };
        // Decoder threads for both inputs; the comparison filters thread via -filter_threads.
        args.AddRange(["-threads", threads]);
        HardenedInput.AddTo(args, renditionPath);
        args.AddRange(["-threads", threads]);
        HardenedInput.AddTo(args, sourcePath);

        var branches = vmaf ? 3 : 2;
        // Same size, pixel format and square pixels on both sides, else the filters refuse the pair.
        var graph =
            $"[0:v]scale={sourceWidth}:{sourceHeight}:flags=bicubic,setsar=1,format=yuv420p,split={branches}[d0][d1]{(vmaf ? "[d2]" : "")};" +
            $"[1:v]setsar=1,format=yuv420p,split={branches}[r0][r1]{(vmaf ? "[r2]" : "")};" +
            "[d0][r0]ssim;[d1][r1]psnr" +
            (vmaf ? $";[d2][r2]libvmaf=n_threads={threads}" : "");
        args.AddRange(["-filter_threads", threads, "-lavfi", graph, "-an", "-f", "null", "-"]);

        var parser = new FfmpegProgressParser();
        var best = 0.0;
        void OnLine(string line)
        {
            if (parser.Feed(line) is not { } progress || onProgress is null || sourceDurationSeconds <= 0) return;
            best = Math.Max(best, progress.PercentOf(sourceDurationSeconds));
            onProgress(best);
        }

        var stderr = "";
        await runner.RunFfmpegAsync(args, OnLine, s => stderr = s, cancellationToken).ConfigureAwait(false);
        return Parse(stderr, vmaf);
    }

    /// <summary>Reads the summary lines the ssim, psnr and libvmaf filters print when they finish.</summary>
    internal static QualityMeasurement Parse(string stderr, bool expectVmaf)
    {
        var ssim = SsimSummary().Match(stderr);
        var psnr = PsnrSummary().Match(stderr);
        if (!ssim.Success || !psnr.Success)
            throw new FfmpegException("ffmpeg", 0, "no SSIM/PSNR summary in the output", []);

        double? vmaf = null;
        if (expectVmaf && VmafSummary().Match(stderr) is { Success: true } v) vmaf = Score(v.Groups[1].Value);

        return new QualityMeasurement(Score(ssim.Groups[1].Value), Score(psnr.Groups[1].Value), vmaf);
    }

    private static double Score(string text) =>
        text.Equals("inf", StringComparison.OrdinalIgnoreCase)
            ? IdenticalPsnr
            : double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"SSIM .*?All:([0-9.]+|inf)")]
    private static partial Regex SsimSummary();

    [GeneratedRegex(@"PSNR .*?average:([0-9.]+|inf)")]
    private static partial Regex PsnrSummary();

    [GeneratedRegex(@"VMAF score[:=]\s*([0-9.]+)")]
    private static partial Regex VmafSummary();
}
