using System.Globalization;
using System.Runtime.ExceptionServices;
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
/// source at its own size: that also counts the resolution the rung gives up by design, so it is information only,
/// and null unless it was asked for.
/// </summary>
/// <param name="FrameRate">The rate the rendition should run at (the source's, capped).</param>
/// <param name="EncodeErrors">The encode loss frame by frame, to judge stretches of the video.</param>
public sealed record RenditionMeasurement(
    RenditionStructure Structure,
    double FrameRate,
    QualityMeasurement EncodeLoss,
    QualityMeasurement? FullSize,
    FrameErrors EncodeErrors,
    IReadOnlyList<TimeSpanOfVideo> RenditionFreezes,
    IReadOnlyList<TimeSpanOfVideo> SourceFreezes,
    IReadOnlyList<TimeSpanOfVideo> RenditionBlack,
    IReadOnlyList<TimeSpanOfVideo> SourceBlack);

/// <summary>A rendition's reading: its measurement, or why ffmpeg or ffprobe could not read it.</summary>
public sealed record RenditionReading(RenditionFile Rendition, RenditionMeasurement? Measurement, FfmpegException? Unreadable);

/// <summary>
/// Measures every rendition of a job against its source in one ffmpeg pass (<see cref="QualityPass"/>): the source is
/// decoded once for all of them. It goes through the same preparation the transcoder gave it (<see cref="SourcePicture"/>:
/// deinterlacing, tone mapping, frame rate), so frames pair up one to one, which is why it needs the same ladder
/// settings (<c>Media:Ladder</c>) as the transcoder. The pass also looks for frozen and black stretches in both, which
/// the gate compares.
/// </summary>
public sealed partial class QualityMeter(FfmpegRunner runner, LadderOptions options)
{
    /// <summary>What PSNR "inf" (identical frames) counts as, so scores stay finite numbers.</summary>
    public const double IdenticalPsnr = 100;

    /// <summary>Whether the configured ffmpeg offers the libvmaf filter (asked once, then remembered).</summary>
    public Task<bool> HasVmafAsync(CancellationToken cancellationToken = default) =>
        runner.Capabilities.HasFilterAsync("libvmaf", cancellationToken);

    /// <summary>One rendition alone; a rendition ffmpeg or ffprobe cannot read throws its <see cref="FfmpegException"/>.</summary>
    public async Task<RenditionMeasurement> MeasureAsync(RenditionFile rendition, string sourcePath, MediaInfo source,
        CancellationToken cancellationToken = default, Action<double>? onProgress = null, bool fullSize = false)
    {
        var reading = (await MeasureAllAsync([rendition], sourcePath, source, cancellationToken, onProgress, fullSize).ConfigureAwait(false))[0];
        if (reading.Unreadable is { } e) ExceptionDispatchInfo.Throw(e);
        return reading.Measurement!;
    }

    /// <summary>
    /// Every rendition in one pass, in their order. A rendition ffmpeg or ffprobe cannot read is that rendition's
    /// reading, not an exception; what is not the renditions' fault (ffmpeg missing or killed from outside, a full
    /// disk, cancellation) still throws.
    /// </summary>
    /// <param name="onProgress">Called with the percent of the source compared so far (0–100, never decreasing, 100 at the end).</param>
    /// <param name="fullSize">Also compare each rendition, scaled back up, with the source at full size (<see cref="RenditionMeasurement.FullSize"/>).</param>
    public async Task<IReadOnlyList<RenditionReading>> MeasureAllAsync(
        IReadOnlyList<RenditionFile> renditions, string sourcePath, MediaInfo source,
        CancellationToken cancellationToken = default, Action<double>? onProgress = null, bool fullSize = false)
    {
        var readings = new RenditionReading?[renditions.Count];
        var structures = new RenditionStructure?[renditions.Count];
        // Every rung shares one sound track: it is read once, and a track ffprobe cannot read fails every rung that has it.
        var sounds = new Dictionary<string, Task<string>>();
        Task<string> SoundOf(string path) =>
            sounds.TryGetValue(path, out var probe) ? probe : sounds[path] = ProbeSoundAsync(path, cancellationToken);
        // A rendition ffprobe cannot read is broken before any picture is compared, and stays out of the pass.
        for (var i = 0; i < renditions.Count; i++)
        {
            try
            {
                var picture = await ProbePictureAsync(renditions[i].Path, cancellationToken).ConfigureAwait(false);
                structures[i] = Structure(picture, renditions[i].AudioPath is { } audio ? await SoundOf(audio).ConfigureAwait(false) : null);
            }
            catch (FfmpegException e) when (IsRenditionFault(e, cancellationToken)) { readings[i] = new RenditionReading(renditions[i], null, e); }
        }

        var readable = Enumerable.Range(0, renditions.Count).Where(i => readings[i] is null).ToList();
        if (readable.Count > 0)
        {
            var vmaf = await HasVmafAsync(cancellationToken).ConfigureAwait(false);
            var picture = await SourcePicture.ForAsync(source, options, runner.Capabilities, cancellationToken).ConfigureAwait(false);
            var progress = new SourceProgress(onProgress);

            // The pass over a group reports its share of the source compared as the stretch from..to of the whole.
            async Task MeasureGroupAsync(IReadOnlyList<int> group, double from, double to)
            {
                try
                {
                    var measured = await RunPassAsync(group.Select(i => (renditions[i], structures[i]!)).ToList(), sourcePath, source,
                        picture, vmaf, fullSize, percent => progress.Report(from + (to - from) * percent / 100), cancellationToken).ConfigureAwait(false);
                    for (var k = 0; k < group.Count; k++) readings[group[k]] = new RenditionReading(renditions[group[k]], measured[k], null);
                }
                catch (FfmpegException e) when (IsRenditionFault(e, cancellationToken))
                {
                    if (group.Count == 1)
                    {
                        readings[group[0]] = new RenditionReading(renditions[group[0]], null, e);
                        return;
                    }
                    // One rendition ffmpeg cannot compare ends the whole pass: measure each alone so the fault lands on its
                    // own, sharing what is left of the progress so it keeps moving forward.
                    var (start, step) = (progress.Best, (to - progress.Best) / group.Count);
                    for (var k = 0; k < group.Count; k++)
                        await MeasureGroupAsync([group[k]], start + k * step, start + (k + 1) * step).ConfigureAwait(false);
                }
            }
            await MeasureGroupAsync(readable, 0, 100).ConfigureAwait(false);
            // Done, even where the last pass failed early.
            progress.Report(100);
        }
        return readings.Select(r => r!).ToList();
    }

    /// <summary>
    /// ffmpeg that cannot read a rendition is the rendition's fault; ffmpeg that could not start, the OOM killer or a
    /// full disk is the machine's, and a cancelled run nobody's.
    /// </summary>
    private static bool IsRenditionFault(FfmpegException e, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested && e.ExitCode != -1 && !e.KilledFromOutside && !e.DiskFull;

    private async Task<IReadOnlyList<RenditionMeasurement>> RunPassAsync(
        IReadOnlyList<(RenditionFile File, RenditionStructure Structure)> renditions, string sourcePath, MediaInfo source,
        SourcePicture picture, bool vmaf, bool fullSize, Action<double> onPercent, CancellationToken cancellationToken)
    {
        var pass = new QualityPass(renditions.Select(r => r.File).ToList(), sourcePath, source, picture, vmaf, fullSize,
            Math.Max(1, Environment.ProcessorCount), Path.Combine(Path.GetTempPath(), $"vidline-psnr-{Guid.NewGuid():N}"));
        var parser = new FfmpegProgressParser();
        void OnLine(string line)
        {
            if (parser.Feed(line) is { } p && source.DurationSeconds > 0) onPercent(p.PercentOf(source.DurationSeconds));
        }

        var stderr = "";
        try
        {
            await runner.RunFfmpegAsync(pass.Arguments, OnLine, s => stderr = s, cancellationToken).ConfigureAwait(false);
            return renditions.Select((r, i) =>
            {
                var end = r.Structure.DurationSeconds;
                // Read line by line: an hour of video is a few hundred thousand lines.
                var errors = FrameErrors.Parse(File.Exists(pass.PsnrLogs[i]) ? File.ReadLines(pass.PsnrLogs[i]) : [], picture.FrameRate);
                return new RenditionMeasurement(r.Structure, picture.FrameRate,
                    Parse(stderr, vmaf, QualityPass.EncodeName(i)),
                    pass.FullSize ? Parse(stderr, expectVmaf: false, pass.FullSizeName(i)) : null, errors,
                    Events(stderr, QualityPass.RenditionBranch(i), "lavfi.freezedetect.freeze", end),
                    Events(stderr, QualityPass.SourceBranch, "lavfi.freezedetect.freeze", end),
                    Events(stderr, QualityPass.RenditionBranch(i), "lavfi.black", end),
                    Events(stderr, QualityPass.SourceBranch, "lavfi.black", end));
            }).ToList();
        }
        finally
        {
            foreach (var log in pass.PsnrLogs)
                try { File.Delete(log); } catch (IOException) { }
        }
    }

    /// <summary>
    /// Size, duration and frame count of the picture in <paramref name="picturePath"/>, and where the audio starts and
    /// ends: in <paramref name="audioPath"/> when the sound is a file of its own, else in the picture's file.
    /// </summary>
    public async Task<RenditionStructure> ReadStructureAsync(string picturePath, string? audioPath = null,
        CancellationToken cancellationToken = default)
    {
        var picture = await ProbePictureAsync(picturePath, cancellationToken).ConfigureAwait(false);
        return Structure(picture, audioPath is null ? null : await ProbeSoundAsync(audioPath, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// The picture's file in one ffprobe run. Fragmented files and playlists carry no frame count in their headers,
    /// so the packets are counted in the same run (reading packets costs little next to starting a second ffprobe).
    /// </summary>
    private Task<string> ProbePictureAsync(string path, CancellationToken cancellationToken) =>
        ProbeAsync(path, ["-count_packets", "-show_entries", "stream=codec_type,width,height,start_time,duration,nb_frames,nb_read_packets:format=duration"],
            cancellationToken);

    private Task<string> ProbeSoundAsync(string path, CancellationToken cancellationToken) =>
        ProbeAsync(path, ["-show_entries", "stream=codec_type,start_time,duration:format=duration"], cancellationToken);

    private async Task<string> ProbeAsync(string path, IEnumerable<string> entries, CancellationToken cancellationToken)
    {
        var args = new List<string> { "-v", "error", "-print_format", "json" };
        args.AddRange(entries);
        HardenedInput.AddTo(args, path);
        var json = new System.Text.StringBuilder();
        await runner.RunFfprobeAsync(args, line => json.AppendLine(line), cancellationToken).ConfigureAwait(false);
        return json.ToString();
    }

    /// <param name="soundJson">ffprobe's answer for the sound's own file; null: the sound is in the picture's file.</param>
    internal static RenditionStructure Structure(string pictureJson, string? soundJson = null)
    {
        using var pictureDoc = JsonDocument.Parse(pictureJson);
        using var soundDoc = soundJson is null ? null : JsonDocument.Parse(soundJson);
        var video = StreamOf(pictureDoc, "video")
            ?? throw new FfmpegException("ffprobe", 0, "the rendition has no video stream", []);
        var audio = StreamOf(soundDoc ?? pictureDoc, "audio");
        return new RenditionStructure(
            (int)(Number(video.Element, "width") ?? 0), (int)(Number(video.Element, "height") ?? 0),
            video.Duration ?? 0, FrameCount(video.Element),
            audio is not null, audio is null ? null : audio.Start - video.Start, audio?.Duration);
    }

    /// <summary>The first stream of a type, with its start and duration.</summary>
    private sealed record ProbedStream(JsonElement Element, double Start, double? Duration);

    private static ProbedStream? StreamOf(JsonDocument doc, string codecType)
    {
        var streams = doc.RootElement.TryGetProperty("streams", out var s) ? s.EnumerateArray().ToList() : [];
        var stream = streams.FirstOrDefault(st => Text(st, "codec_type") == codecType);
        if (stream.ValueKind == JsonValueKind.Undefined) return null;
        // A file's own duration stands in for a stream's only when the file holds nothing else.
        var fileDuration = streams.Count == 1 && doc.RootElement.TryGetProperty("format", out var format) ? Number(format, "duration") : null;
        return new ProbedStream(stream, Number(stream, "start_time") ?? 0, Number(stream, "duration") ?? fileDuration);
    }

    /// <summary>The frame count the header states, else the picture's packets counted.</summary>
    private static long FrameCount(JsonElement video) =>
        Long(video, "nb_frames") is long stated and > 0 ? stated : Long(video, "nb_read_packets") ?? 0;

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
        if (expectVmaf && Regex.Match(stderr, $@"\[(?:Parsed_)?libvmaf(?:@{name}|_\d+) @[^\]]*\] VMAF score[:=]\s*([0-9.]+)") is { Success: true } v)
            vmaf = Score(v.Groups[1].Value);

        return new QualityMeasurement(Score(ssim.Groups[1].Value), Score(psnr.Groups[1].Value), vmaf);
    }

    private static double Score(string text) =>
        text.Equals("inf", StringComparison.OrdinalIgnoreCase)
            ? IdenticalPsnr
            : double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"\[metadata@(?<branch>\w+) @[^\]]*\] (?<key>lavfi\.[\w.]+)=(?<value>-?[0-9.]+)")]
    private static partial Regex MetadataLine();

    /// <summary>Percent of the source compared, never going back.</summary>
    private sealed class SourceProgress(Action<double>? onProgress)
    {
        public double Best { get; private set; }

        public void Report(double percent)
        {
            if (percent < Best) return;
            Best = percent;
            onProgress?.Invoke(percent);
        }
    }
}
