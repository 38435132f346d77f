using System.Globalization;
using System.Text;
using Vidline.Contracts;

namespace Vidline.Media;

/// <summary>
/// The one ffmpeg run that measures every rendition of a job against its source. The source is input 0, decoded and
/// prepared (<see cref="SourcePicture"/>) once and split to every comparison; rendition <c>i</c> is input <c>i + 1</c>,
/// read only through <see cref="HardenedInput"/>. Per rendition the graph compares it with the source scaled to its
/// size (encode loss, its PSNR frame by frame into <see cref="PsnrLogs"/>), looks for frozen and black stretches in it
/// and, when asked for the full-size figures, compares it scaled up with the source at full size (a quarter or more of the
/// pass's work, for figures the gate only reports). The source's own frozen and black stretches are looked for once,
/// at the smallest rendition's size: the detectors see motion there as well as at full size and need far fewer pixels.
/// </summary>
internal sealed class QualityPass
{
    /// <summary>A picture this still for this long counts as frozen (freezedetect's noise floor and duration).</summary>
    private const string FreezeDetect = "freezedetect=n=-50dB:d=1";

    /// <summary>Black for half a second, 98% of the pixels near black.</summary>
    private const string BlackDetect = "blackdetect=d=0.5:pic_th=0.98:pix_th=0.1";

    /// <summary>The metadata branch that prints the source's frozen and black stretches.</summary>
    public const string SourceBranch = "source";

    private readonly IReadOnlyList<RenditionFile> _renditions;
    private readonly MediaInfo _source;

    /// <param name="workPrefix">Path prefix for the per-rendition PSNR logs (a fresh temporary name).</param>
    public QualityPass(IReadOnlyList<RenditionFile> renditions, string sourcePath, MediaInfo source, SourcePicture picture,
        bool vmaf, bool fullSize, int threads, string workPrefix)
    {
        if (renditions.Count == 0) throw new ArgumentException("A pass needs at least one rendition.", nameof(renditions));
        _renditions = renditions;
        _source = source;
        FullSize = fullSize;
        PsnrLogs = renditions.Select((_, i) => $"{workPrefix}-{i}.log").ToList();
        Arguments = BuildArguments(sourcePath, picture, vmaf, threads.ToString(CultureInfo.InvariantCulture));
    }

    public IReadOnlyList<string> Arguments { get; }

    /// <summary>Whether the pass compares each rendition, scaled up, with the source at full size.</summary>
    public bool FullSize { get; }

    /// <summary>Where rendition <c>i</c>'s encode-loss PSNR is logged frame by frame.</summary>
    public IReadOnlyList<string> PsnrLogs { get; }

    /// <summary>Filter instance names of rendition <c>i</c>'s comparisons and detectors, as its summary lines are tagged.</summary>
    public static string EncodeName(int i) => $"encode{i}";

    public string FullSizeName(int i) => AtSourceSize(i) ? EncodeName(i) : $"full{i}";

    public static string RenditionBranch(int i) => $"rendition{i}";

    /// <summary>
    /// A rung at the source's own size is compared once: scaled "to its size" and "back up" are the same picture, so
    /// its encode loss and its full-size figures are one comparison.
    /// </summary>
    private bool AtSourceSize(int i) => _renditions[i].Target.Width == _source.Width && _renditions[i].Target.Height == _source.Height;

    private bool ScaledUp(int i) => FullSize && !AtSourceSize(i);

    private List<string> BuildArguments(string sourcePath, SourcePicture picture, bool vmaf, string threads)
    {
        var args = new List<string> { "-progress", "pipe:1", "-nostats" };
        // Decoder threads per input; the filters thread via -filter_threads. One process now holds every comparison.
        args.AddRange(["-threads", threads]);
        HardenedInput.AddTo(args, sourcePath);
        foreach (var rendition in _renditions)
        {
            args.AddRange(["-threads", threads]);
            HardenedInput.AddTo(args, rendition.Path);
        }
        args.AddRange(["-filter_threads", threads, "-lavfi", Graph(picture, vmaf, threads), "-an", "-f", "null", "-"]);
        return args;
    }

    private string Graph(SourcePicture picture, bool vmaf, string threads)
    {
        var n = _renditions.Count;
        var smallest = Enumerable.Range(0, n).MinBy(i => (long)_renditions[i].Target.Width * _renditions[i].Target.Height);
        var scaledUp = Enumerable.Range(0, n).Where(ScaledUp).ToList();
        var video = _source.VideoStream is { } v ? $"0:{v}" : "0:v:0";
        var fullSize = $"{_source.Width}:{_source.Height}";
        var graph = new StringBuilder();

        // The source once: prepared, then one copy per rendition and one at full size for the scaled-up comparisons, if any.
        var copies = Enumerable.Range(0, n).Select(i => $"[src{i}]").ToList();
        if (scaledUp.Count > 0) copies.Add("[srcfull]");
        graph.Append($"[{video}]{picture.Filters},split={copies.Count}{string.Concat(copies)};");
        if (scaledUp.Count > 0)
            graph.Append($"[srcfull]scale={fullSize}:flags=bicubic,setsar=1,split={2 * scaledUp.Count}")
                .Append(string.Concat(scaledUp.Select(i => $"[full{i}s][full{i}p]"))).Append(';');

        // Same size, pixel format and square pixels on both sides of each comparison, else the filters refuse the pair.
        for (var i = 0; i < n; i++)
        {
            var target = _renditions[i].Target;
            var reference = new List<string> { $"[ref{i}s]", $"[ref{i}p]" };
            if (vmaf) reference.Add($"[ref{i}v]");
            if (i == smallest) reference.Add("[srcdetect]");
            graph.Append($"[src{i}]scale={target.Width}:{target.Height}:flags=bicubic,setsar=1,split={reference.Count}{string.Concat(reference)};");

            var rendition = new List<string> { $"[ren{i}s]", $"[ren{i}p]", $"[ren{i}d]" };
            if (vmaf) rendition.Add($"[ren{i}v]");
            if (ScaledUp(i)) rendition.Add($"[ren{i}u]");
            graph.Append($"[{i + 1}:v]format=yuv420p,setsar=1,split={rendition.Count}{string.Concat(rendition)};");

            graph.Append($"[ren{i}s][ref{i}s]ssim@{EncodeName(i)};");
            graph.Append($"[ren{i}p][ref{i}p]psnr@{EncodeName(i)}=stats_file='{PsnrLogs[i]}';");
            graph.Append($"[ren{i}d]{FreezeDetect},{BlackDetect},metadata@{RenditionBranch(i)}=mode=print,nullsink;");
            if (vmaf) graph.Append($"[ren{i}v][ref{i}v]libvmaf@{EncodeName(i)}=n_threads={threads};");
            if (ScaledUp(i))
                graph.Append($"[ren{i}u]scale={fullSize}:flags=bicubic,setsar=1,split=2[up{i}s][up{i}p];")
                    .Append($"[up{i}s][full{i}s]ssim@{FullSizeName(i)};[up{i}p][full{i}p]psnr@{FullSizeName(i)};");
        }
        graph.Append($"[srcdetect]{FreezeDetect},{BlackDetect},metadata@{SourceBranch}=mode=print,nullsink");
        return graph.ToString();
    }
}
