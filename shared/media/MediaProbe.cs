using System.Globalization;
using System.Text;
using System.Text.Json;
using Vidline.Contracts;
using static Vidline.Media.FfprobeFields;

namespace Vidline.Media;

/// <summary>
/// Asks ffprobe what a source file is and decides whether it is usable: a real, complete video
/// of sane size and length. Anything else becomes an <see cref="UnusableMediaException"/>.
/// </summary>
public sealed class MediaProbe(FfmpegRunner runner)
{
    // Formats whose "content" is references to other files or URLs. An upload is never legitimately
    // one of these, and accepting one would let it point the transcoder at files on this machine.
    private static readonly HashSet<string> IndirectFormats = ["hls", "dash", "concat", "webm_dash_manifest"];

    public async Task<MediaInfo> ProbeAsync(string path, CancellationToken cancellationToken = default)
    {
        var file = new FileInfo(path);
        if (!file.Exists) throw new FileNotFoundException("Source file not found.", path);
        if (file.Length == 0) throw new UnusableMediaException("The file is empty (0 bytes).");

        var args = new List<string> { "-v", "error", "-print_format", "json", "-show_format", "-show_streams" };
        HardenedInput.AddTo(args, file.FullName);

        var json = new StringBuilder();
        try
        {
            await runner.RunFfprobeAsync(args, line => json.AppendLine(line), cancellationToken).ConfigureAwait(false);
        }
        catch (FfmpegException e) when (e.ExitCode != -1)
        {
            throw Unreadable(e, file);
        }

        var claimed = Interpret(json.ToString(), runner.Options, out var reorderDelay);
        var read = await ReadAsync(file, claimed, cancellationToken).ConfigureAwait(false);
        return Confirm(claimed, read, runner.Options, reorderDelay);
    }

    /// <summary>
    /// Reads every video packet the file holds (demuxing, no decoding: seconds even for long files), counting
    /// frames and noting where the video really ends and what went wrong on the way. The read stops just past
    /// the longest accepted duration, so a file's claims never decide how much work it causes.
    /// </summary>
    private async Task<SourceRead> ReadAsync(FileInfo file, MediaInfo claimed, CancellationToken cancellationToken)
    {
        var args = new List<string> { "-v", "error", "-progress", "pipe:1", "-nostats" };
        HardenedInput.AddTo(args, file.FullName);
        var limit = (runner.Options.MaxDurationSeconds + 1).ToString(CultureInfo.InvariantCulture);
        args.AddRange(["-map", claimed.VideoStream is { } v ? $"0:{v}" : "0:v:0", "-c", "copy", "-t", limit, "-f", "null", "-"]);

        var parser = new FfmpegProgressParser();
        FfmpegProgress? last = null;
        var stderr = "";
        try
        {
            await runner.RunFfmpegAsync(args, line => last = parser.Feed(line) ?? last, s => stderr = s, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (FfmpegException e) when (e.ExitCode != -1)
        {
            throw Unreadable(e, file);
        }
        var errors = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => FfmpegRunner.WithoutComponentTag(line).Replace(file.FullName, file.Name)).ToList();
        return new SourceRead(last?.Frame ?? 0, last?.OutTime?.TotalSeconds, errors);
    }

    private static UnusableMediaException Unreadable(FfmpegException e, FileInfo file) =>
        // Server paths mean nothing to the uploader; keep just the file name.
        new($"The file could not be read as video ({e.Summary.Replace(file.FullName, file.Name)}).", e);

    /// <summary>What reading the whole video stream found.</summary>
    /// <param name="LastFrameTime">Time of the last frame read, from the start of the video (null: none).</param>
    /// <param name="Errors">What the demuxer and parsers complained about, one line each.</param>
    internal sealed record SourceRead(long Frames, double? LastFrameTime, IReadOnlyList<string> Errors);

    /// <summary>
    /// Holds the container's claims against what was really read. A file whose video stops well short of its
    /// claimed length, with read errors on the way, was cut off. One that stops short cleanly (or runs longer)
    /// merely mislabels its length: it is accepted, and everything downstream works from what is really there.
    /// </summary>
    /// <param name="reorderDelay">Frames the decoder holds back for B-frames (ffprobe's <c>has_b_frames</c>).</param>
    internal static MediaInfo Confirm(MediaInfo claimed, SourceRead read, MediaOptions limits, int reorderDelay = 0)
    {
        if (read.Frames <= 0 || read.LastFrameTime is null)
            throw new UnusableMediaException(read.Errors.Count > 0
                ? $"The file holds no readable video ({read.Errors[0]})."
                : "The file holds no readable video: its video stream has no frames.");

        var rate = claimed.FrameRate > 0 ? claimed.FrameRate : read.Frames / Math.Max(read.LastFrameTime.Value, 1e-3);
        // The read's clock is the last packet's decode time: the picture ends one frame after it, plus the frames a
        // decoder holds back to reorder B-frames (two for x264's defaults), which would otherwise be cut off.
        var real = read.LastFrameTime.Value + (1 + reorderDelay) / rate;
        var claim = claimed.DurationSeconds;
        if (claim > 0 && real < claim * 0.9 && claim - real > 0.5 && read.Errors.Count > 0)
            throw new UnusableMediaException(
                $"The file appears truncated: its video stops after {real:0.0} s of the {claim:0.0} s its container describes ({read.Errors[^1]}).");
        if (real > limits.MaxDurationSeconds)
            throw new UnusableMediaException(
                $"The video lasts more than {TimeSpan.FromSeconds(limits.MaxDurationSeconds):g}, the longest accepted.");

        // The stated rate, when there is one, even if fewer frames were counted: screen recorders store a frame
        // only when the picture changes, and the renditions should still move at the rate the file declares.
        return claimed with
        {
            DurationSeconds = Math.Round(real, 3),
            FrameCount = read.Frames,
            FrameRate = claimed.FrameRate > 0 ? claimed.FrameRate : Math.Round(read.Frames / real, 3),
        };
    }

    /// <summary>
    /// Turns ffprobe's JSON into <see cref="MediaInfo"/>, applying our acceptance rules. Duration and frame count are
    /// the container's claims (0 when it makes none) until <see cref="Confirm"/> replaces them with what was read.
    /// </summary>
    internal static MediaInfo Interpret(string ffprobeJson, MediaOptions limits) => Interpret(ffprobeJson, limits, out _);

    /// <param name="reorderDelay">Frames the chosen video stream's decoder holds back for B-frames (ffprobe's
    /// <c>has_b_frames</c>, 0–16; 0 when unknown): what <see cref="Confirm"/> adds to the read's last decode time.</param>
    internal static MediaInfo Interpret(string ffprobeJson, MediaOptions limits, out int reorderDelay)
    {
        using var doc = ParseJson(ffprobeJson);
        var root = doc.RootElement;
        var format = root.TryGetProperty("format", out var f) ? f : default;
        var streams = root.TryGetProperty("streams", out var s) && s.ValueKind == JsonValueKind.Array
            ? s.EnumerateArray().ToList()
            : [];

        var formatName = Text(format, "format_name") ?? "";
        if (formatName.Split(',').Any(IndirectFormats.Contains))
            throw new UnusableMediaException($"Playlists and file lists ({formatName}) are not accepted; upload the video file itself.");

        // image2 also expands "%d" patterns into sequences of other files; a still is not a video anyway.
        if (formatName.Split(',').Any(n => n is "image2" or "image2pipe" || n.EndsWith("_pipe", StringComparison.Ordinal)))
            throw new UnusableMediaException("The file is a still image, not a video.");

        // Cover art (in audio files and in videos alike) shows up as a one-frame "video" stream; it is not video.
        var video = streams.FirstOrDefault(st => Text(st, "codec_type") == "video" && !IsAttachedPicture(st));
        if (video.ValueKind == JsonValueKind.Undefined)
            throw new UnusableMediaException(streams.Any(st => Text(st, "codec_type") == "audio")
                ? "The file has no video stream (audio only)."
                : "The file has no video stream.");
        var audios = streams.Where(st => Text(st, "codec_type") == "audio").ToList();
        // Several audio tracks (languages, commentary): the one the file marks as default, else the first.
        var audio = audios.FirstOrDefault(st => st.TryGetProperty("disposition", out var d) && Int(d, "default") == 1);
        if (audio.ValueKind == JsonValueKind.Undefined && audios.Count > 0) audio = audios[0];

        var codedWidth = Int(video, "width") ?? 0;
        var codedHeight = Int(video, "height") ?? 0;
        if (codedWidth <= 0 || codedHeight <= 0)
            throw new UnusableMediaException("The video has no picture size (width or height is zero).");
        if (codedWidth > limits.MaxWidth || codedHeight > limits.MaxHeight)
            throw new UnusableMediaException($"The video is {codedWidth}x{codedHeight}; the largest accepted is {limits.MaxWidth}x{limits.MaxHeight}.");

        // The stream's own duration first: the container's is the longest stream's, and audio may outlast the video.
        var duration = Number(video, "duration") ?? Number(format, "duration") ?? 0;
        var nbFrames = Long(video, "nb_frames");
        var frameRate = Fraction(Text(video, "avg_frame_rate")) ?? Fraction(Text(video, "r_frame_rate"));
        if (frameRate is null && nbFrames > 0 && duration > 0) frameRate = nbFrames.Value / duration;
        var frameCount = nbFrames is > 0 ? nbFrames.Value : (long)Math.Round(duration * (frameRate ?? 0));

        reorderDelay = Math.Clamp(Int(video, "has_b_frames") ?? 0, 0, 16);
        var rotation = Rotation(video);
        var (width, height) = DisplaySize(codedWidth, codedHeight, Text(video, "sample_aspect_ratio"), rotation);
        return new MediaInfo(duration, width, height, Math.Round(frameRate ?? 0, 3), frameCount, audio.ValueKind != JsonValueKind.Undefined,
            Text(video, "codec_name") ?? "unknown",
            Rotation: rotation,
            VideoStream: Int(video, "index"),
            AudioStream: audio.ValueKind == JsonValueKind.Undefined ? null : Int(audio, "index"),
            Interlaced: Text(video, "field_order") is "tt" or "bb" or "tb" or "bt",
            Hdr: Text(video, "color_transfer") is "smpte2084" or "arib-std-b67",
            BitDepth: BitDepth(video));
    }

    /// <summary>
    /// The picture as shown: stretched by its sample aspect (an unset or "0:1" one means square pixels)
    /// and turned upright.
    /// </summary>
    internal static (int Width, int Height) DisplaySize(int codedWidth, int codedHeight, string? sampleAspect, int rotation)
    {
        var width = codedWidth;
        if (DisplayAspect.Parse(sampleAspect) is { } sar && sar.Num != sar.Den)
            width = Math.Max(1, (int)Math.Round(codedWidth * sar.Value));
        return rotation is 90 or 270 ? (codedHeight, width) : (width, codedHeight);
    }

    /// <summary>Display rotation in degrees, 0/90/180/270, from the display matrix or the older "rotate" tag.</summary>
    private static int Rotation(JsonElement video)
    {
        double? degrees = null;
        if (video.TryGetProperty("side_data_list", out var sideData) && sideData.ValueKind == JsonValueKind.Array)
            foreach (var entry in sideData.EnumerateArray())
                degrees ??= Number(entry, "rotation");
        if (video.TryGetProperty("tags", out var tags)) degrees ??= Number(tags, "rotate");
        var quarterTurns = (int)Math.Round((degrees ?? 0) / 90);
        return (quarterTurns % 4 + 4) % 4 * 90;
    }

    private static int BitDepth(JsonElement video)
    {
        if (Int(video, "bits_per_raw_sample") is int bits and > 0) return bits;
        var pixelFormat = Text(video, "pix_fmt") ?? "";
        return pixelFormat.Contains("p10") ? 10 : pixelFormat.Contains("p12") ? 12 : 8;
    }

    private static JsonDocument ParseJson(string json)
    {
        try
        {
            return JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new UnusableMediaException("The file could not be read as video (ffprobe gave no usable answer).", e);
        }
    }

    private static bool IsAttachedPicture(JsonElement stream) =>
        stream.TryGetProperty("disposition", out var d) && Int(d, "attached_pic") == 1;

    /// <summary>"30000/1001" → 29.97; "0/0" and junk → null.</summary>
    internal static double? Fraction(string? text)
    {
        if (string.IsNullOrEmpty(text)) return null;
        var parts = text.Split('/');
        if (!double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var num)) return null;
        var den = 1.0;
        if (parts.Length == 2 && !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out den)) return null;
        var rate = num / den;
        return double.IsFinite(rate) && rate > 0 ? rate : null;
    }
}
