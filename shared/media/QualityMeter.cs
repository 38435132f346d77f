using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Vidline.Contracts;
using static Vidline.Media.FfprobeFields;

namespace Vidline.Media;

/// <summary>Full-reference scores of a rendition against its source. <c>Vmaf</c> is null without libvmaf.</summary>
public sealed record QualityMeasurement(double Ssim, double Psnr, double? Vmaf);

/// <summary>A stretch of a video, in seconds from its start.</summary>
public sealed record TimeSpanOfVideo(double Start, double End)
{
    public double Length => End - Start;

    public double Overlap(TimeSpanOfVideo other) => Math.Max(0, Math.Min(End, other.End) - Math.Max(Start, other.Start));

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Start:0.0}–{End:0.0} s");
}

/// <summary>What a rendition file is, read back with ffprobe.</summary>
/// <param name="AudioStart">Seconds the audio starts after the picture (negative: before); null without audio.</param>
public sealed record RenditionStructure(int Width, int Height, double DurationSeconds, long FrameCount,
    bool HasAudio, double? AudioStart, double? AudioDurationSeconds);

/// <summary>
/// Everything the gate needs to judge one rendition. <c>EncodeLoss</c> compares the rendition with the source
/// scaled to the rendition's own size: what the encoder lost. <c>FullSize</c> compares it, scaled back up, with the
/// source at its own size: that also counts the resolution the rung gives up by design, so it is information only.
/// </summary>
/// <param name="FrameRate">The rate the rendition should run at (the source's, capped).</param>
/// <param name="EncodeErrors">The encode loss frame by frame, to judge stretches of the video.</param>
public sealed record RenditionMeasurement(
    RenditionStructure Structure,
    double FrameRate,
    QualityMeasurement EncodeLoss,
    QualityMeasurement FullSize,
    FrameErrors EncodeErrors,
    IReadOnlyList<TimeSpanOfVideo> RenditionFreezes,
    IReadOnlyList<TimeSpanOfVideo> SourceFreezes,
    IReadOnlyList<TimeSpanOfVideo> RenditionBlack,
    IReadOnlyList<TimeSpanOfVideo> SourceBlack);

/// <summary>
/// Measures a rendition against its source in one ffmpeg pass. The source goes through the same preparation the
/// transcoder gave it (<see cref="SourcePicture"/>: deinterlacing, tone mapping, frame rate), so frames pair up one
/// to one, which is why it needs the same ladder settings (<c>Media:Ladder</c>) as the transcoder. The pass also
/// looks for frozen and black stretches in both, which the gate compares.
/// </summary>
public sealed partial class QualityMeter(FfmpegRunner runner, LadderOptions options)
{
    /// <summary>What PSNR "inf" (identical frames) counts as, so scores stay finite numbers.</summary>
    public const double IdenticalPsnr = 100;

    /// <summary>A picture this still for this long counts as frozen (freezedetect's noise floor and duration).</summary>
    private const string FreezeDetect = "freezedetect=n=-50dB:d=1";

    /// <summary>Black for half a second, 98% of the pixels near black.</summary>
    private const string BlackDetect = "blackdetect=d=0.5:pic_th=0.98:pix_th=0.1";

    /// <summary>Whether the configured ffmpeg offers the libvmaf filter (asked once, then remembered).</summary>
    public Task<bool> HasVmafAsync(CancellationToken cancellationToken = default) =>
        runner.Capabilities.HasFilterAsync("libvmaf", cancellationToken);

    /// <param name="onProgress">Called with the percent of the source compared so far (0–100, never decreasing).</param>
    public async Task<RenditionMeasurement> MeasureAsync(
        string renditionPath, string sourcePath, MediaInfo source, RenditionTarget target,
        CancellationToken cancellationToken = default, Action<double>? onProgress = null)
    {
        // A rendition ffprobe cannot read is broken before any picture is compared.
        var structure = await ReadStructureAsync(renditionPath, cancellationToken).ConfigureAwait(false);
        var vmaf = await HasVmafAsync(cancellationToken).ConfigureAwait(false);
        var picture = await SourcePicture.ForAsync(source, options, runner.Capabilities, cancellationToken).ConfigureAwait(false);
        var threads = Math.Max(1, Environment.ProcessorCount).ToString(CultureInfo.InvariantCulture);
        var psnrLog = Path.Combine(Path.GetTempPath(), $"vidline-psnr-{Guid.NewGuid():N}.log");

        var args = new List<string> { "-progress", "pipe:1", "-nostats" };
        // Decoder threads for both inputs; the comparison filters thread via -filter_threads.
        args.AddRange(["-threads", threads]);
        HardenedInput.AddTo(args, renditionPath);
        args.AddRange(["-threads", threads]);
        HardenedInput.AddTo(args, sourcePath);
        var video = source.VideoStream is { } v ? $"1:{v}" : "1:v:0";
        var size = $"{target.Width}:{target.Height}";
        var fullSize = $"{source.Width}:{source.Height}";
        // Same size, pixel format and square pixels on both sides of each comparison, else the filters refuse the pair.
        var graph =
            $"[{video}]{picture.Filters},split=2[src][srcfull];" +
            $"[src]scale={size}:flags=bicubic,setsar=1,split={(vmaf ? 4 : 3)}[ref0][ref1][ref2]{(vmaf ? "[ref3]" : "")};" +
            $"[srcfull]scale={fullSize}:flags=bicubic,setsar=1,split=2[full0][full1];" +
            $"[0:v]format=yuv420p,setsar=1,split={(vmaf ? 5 : 4)}[ren0][ren1][ren2][ren3]{(vmaf ? "[ren4]" : "")};" +
            "[ren0][ref0]ssim@encode;" +
            $"[ren1][ref1]psnr@encode=stats_file='{psnrLog}';" +
            $"[ren2]{FreezeDetect},{BlackDetect},metadata@rendition=mode=print,nullsink;" +
            $"[ref2]{FreezeDetect},{BlackDetect},metadata@source=mode=print,nullsink;" +
            $"[ren3]scale={fullSize}:flags=bicubic,setsar=1,split=2[up0][up1];" +
            "[up0][full0]ssim@full;[up1][full1]psnr@full" +
            (vmaf ? $";[ren4][ref3]libvmaf=n_threads={threads}" : "");
        args.AddRange(["-filter_threads", threads, "-lavfi", graph, "-an", "-f", "null", "-"]);

        var parser = new FfmpegProgressParser();
        var best = 0.0;
        void OnLine(string line)
        {
            if (parser.Feed(line) is not { } progress || onProgress is null || source.DurationSeconds <= 0) return;
            best = Math.Max(best, progress.PercentOf(source.DurationSeconds));
            onProgress(best);
        }

        var stderr = "";
        try
        {
            await runner.RunFfmpegAsync(args, OnLine, s => stderr = s, cancellationToken).ConfigureAwait(false);
            // Read line by line: an hour of video is a few hundred thousand lines.
            var errors = FrameErrors.Parse(File.Exists(psnrLog) ? File.ReadLines(psnrLog) : [], picture.FrameRate);
            return new RenditionMeasurement(structure, picture.FrameRate, Parse(stderr, vmaf, "encode"), Parse(stderr, expectVmaf: false, "full"), errors,
                Events(stderr, "rendition", "lavfi.freezedetect.freeze", structure.DurationSeconds),
                Events(stderr, "source", "lavfi.freezedetect.freeze", structure.DurationSeconds),
                Events(stderr, "rendition", "lavfi.black", structure.DurationSeconds),
                Events(stderr, "source", "lavfi.black", structure.DurationSeconds));
        }
        finally
        {
            try { File.Delete(psnrLog); } catch (IOException) { }
        }
    }

    /// <summary>Size, duration and frame count of the picture, and where the audio starts and ends.</summary>
    public async Task<RenditionStructure> ReadStructureAsync(string path, CancellationToken cancellationToken = default)
    {
        var args = new List<string> { "-v", "error", "-print_format", "json",
            "-show_entries", "stream=codec_type,width,height,start_time,duration,nb_frames" };
        HardenedInput.AddTo(args, path);
        var json = new System.Text.StringBuilder();
        await runner.RunFfprobeAsync(args, line => json.AppendLine(line), cancellationToken).ConfigureAwait(false);
        return Structure(json.ToString());
    }

    internal static RenditionStructure Structure(string ffprobeJson)
    {
        using var doc = JsonDocument.Parse(ffprobeJson);
        var streams = doc.RootElement.TryGetProperty("streams", out var s) ? s.EnumerateArray().ToList() : [];
        var video = streams.FirstOrDefault(st => Text(st, "codec_type") == "video");
        var audio = streams.FirstOrDefault(st => Text(st, "codec_type") == "audio");
        if (video.ValueKind == JsonValueKind.Undefined)
            throw new FfmpegException("ffprobe", 0, "the rendition has no video stream", []);
        var videoStart = Number(video, "start_time") ?? 0;
        var hasAudio = audio.ValueKind != JsonValueKind.Undefined;
        return new RenditionStructure(
            (int)(Number(video, "width") ?? 0), (int)(Number(video, "height") ?? 0),
            Number(video, "duration") ?? 0, (long)(Number(video, "nb_frames") ?? 0),
            hasAudio, hasAudio ? (Number(audio, "start_time") ?? 0) - videoStart : null,
            hasAudio ? Number(audio, "duration") : null);
    }

    /// <summary>
    /// Stretches that metadata@<paramref name="branch"/> printed as <c>{prefix}_start=</c> … <c>{prefix}_end=</c>;
    /// one still open at the end lasts to <paramref name="end"/>.
    /// </summary>
    internal static List<TimeSpanOfVideo> Events(string stderr, string branch, string prefix, double end)
    {
        var found = new List<TimeSpanOfVideo>();
        double? start = null;
        foreach (Match m in MetadataLine().Matches(stderr))
        {
            if (m.Groups["branch"].Value != branch || !m.Groups["key"].Value.StartsWith(prefix + "_", StringComparison.Ordinal)) continue;
            var value = double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
            if (m.Groups["key"].Value.EndsWith("_start", StringComparison.Ordinal)) start = value;
            else if (m.Groups["key"].Value.EndsWith("_end", StringComparison.Ordinal) && start is { } s)
            {
                found.Add(new TimeSpanOfVideo(s, value));
                start = null;
            }
        }
        if (start is { } open && end > open) found.Add(new TimeSpanOfVideo(open, end));
        return found;
    }

    /// <summary>Reads the summary lines the ssim@name, psnr@name and libvmaf filters print when they finish.</summary>
    internal static QualityMeasurement Parse(string stderr, bool expectVmaf, string name = "encode")
    {
        var ssim = Regex.Match(stderr, $@"\[(?:Parsed_)?ssim(?:@{name}|_\d+) @[^\]]*\] SSIM .*?All:([0-9.]+|inf)");
        var psnr = Regex.Match(stderr, $@"\[(?:Parsed_)?psnr(?:@{name}|_\d+) @[^\]]*\] PSNR .*?average:([0-9.]+|inf)");
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

    [GeneratedRegex(@"VMAF score[:=]\s*([0-9.]+)")]
    private static partial Regex VmafSummary();

    [GeneratedRegex(@"\[metadata@(?<branch>\w+) @[^\]]*\] (?<key>lavfi\.[\w.]+)=(?<value>-?[0-9.]+)")]
    private static partial Regex MetadataLine();
}
