using System.Globalization;
using Vidline.Contracts;

namespace Vidline.Media;

/// <summary>
/// The picture every rendition is made from, and every rendition is judged against: the decoded source
/// (ffmpeg has already turned it upright) deinterlaced, tone-mapped to SDR and held to a constant frame rate
/// no higher than the configured maximum. <c>Filters</c> is that chain as an ffmpeg filter description.
/// </summary>
public sealed record SourcePicture(string Filters, double FrameRate, IReadOnlyList<string> Warnings)
{
    public static async Task<SourcePicture> ForAsync(
        MediaInfo source, LadderOptions options, FfmpegCapabilities capabilities, CancellationToken cancellationToken = default) =>
        For(source, options, await capabilities.FiltersAsync(cancellationToken).ConfigureAwait(false));

    /// <param name="filters">The filters this ffmpeg has.</param>
    internal static SourcePicture For(MediaInfo source, LadderOptions options, IReadOnlySet<string> filters)
    {
        var chain = new List<string>();
        var warnings = new List<string>();

        if (source.Interlaced)
        {
            // Fields woven into frames comb on every movement; bwdif (else yadif) makes one frame per frame.
            if (filters.Contains("bwdif")) chain.Add("bwdif=mode=send_frame:deint=all");
            else if (filters.Contains("yadif")) chain.Add("yadif=mode=send_frame:deint=all");
            else warnings.Add("The source is interlaced, but this ffmpeg has no deinterlacer (bwdif or yadif); renditions will show combing.");
        }

        if (source.Hdr)
        {
            if (filters.Contains("zscale") && filters.Contains("tonemap"))
                // PQ/HLG to linear light, into BT.709 primaries, tone-mapped, then back to BT.709 video levels.
                chain.Add("zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0," +
                          "zscale=t=bt709:m=bt709:r=tv");
            else
                warnings.Add("The source is HDR (BT.2100), but this ffmpeg lacks the zscale and tonemap filters; " +
                             "renditions are not tone-mapped and will look washed out on SDR screens.");
        }

        // Players and segmenters want a constant rate; variable-rate phone video gets its average.
        var rate = source.FrameRate > 0 ? source.FrameRate : 25;
        if (rate > options.MaxFrameRate)
        {
            warnings.Add($"The source runs at {rate:0.##} fps; renditions are capped at {options.MaxFrameRate:0.##} fps.");
            rate = options.MaxFrameRate;
        }
        chain.Add($"fps={RateText(rate)}");
        chain.Add("format=yuv420p");
        return new SourcePicture(string.Join(",", chain), rate, warnings);
    }

    /// <summary>NTSC rates as their exact fractions (30000/1001), anything else as a decimal.</summary>
    internal static string RateText(double rate)
    {
        var ntsc = Math.Round(rate * 1.001);
        return Math.Abs(rate - ntsc / 1.001) < 0.005 && Math.Abs(rate - ntsc) > 0.01
            ? $"{ntsc.ToString(CultureInfo.InvariantCulture)}000/1001"
            : Math.Round(rate, 3).ToString(CultureInfo.InvariantCulture);
    }
}
