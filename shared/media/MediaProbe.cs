using System.Globalization;
using System.Text;
using System.Text.Json;
using Vidline.Contracts;

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
            // Server paths mean nothing to the uploader; keep just the file name.
            var why = e.Summary.Replace(file.FullName, file.Name);
            throw new UnusableMediaException($"The file could not be read as video ({why}).", e);
        }

        return Interpret(json.ToString(), runner.Options);
    }

    /// <summary>Turns ffprobe's JSON into <see cref="MediaInfo"/>, applying our acceptance rules.</summary>
    internal static MediaInfo Interpret(string ffprobeJson, MediaOptions limits)
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

        // Cover art in audio files shows up as a one-frame "video" stream; it is not video.
        var video = streams.FirstOrDefault(st => Text(st, "codec_type") == "video" && !IsAttachedPicture(st));
        if (video.ValueKind == JsonValueKind.Undefined)
            throw new UnusableMediaException(streams.Any(st => Text(st, "codec_type") == "audio")
                ? "The file has no video stream (audio only)."
                : "The file has no video stream.");
        var hasAudio = streams.Any(st => Text(st, "codec_type") == "audio");

        var width = Int(video, "width") ?? 0;
        var height = Int(video, "height") ?? 0;
        if (width <= 0 || height <= 0)
            throw new UnusableMediaException("The video has no picture size (width or height is zero).");
        if (width > limits.MaxWidth || height > limits.MaxHeight)
            throw new UnusableMediaException($"The video is {width}x{height}; the largest accepted is {limits.MaxWidth}x{limits.MaxHeight}.");

        var duration = Number(format, "duration") ?? Number(video, "duration");
        if (duration is not > 0)
            throw new UnusableMediaException("The video's duration is unknown.");
        if (duration > limits.MaxDurationSeconds)
            throw new UnusableMediaException(
                $"The video claims to last {TimeSpan.FromSeconds(duration.Value):g}; the longest accepted is {TimeSpan.FromSeconds(limits.MaxDurationSeconds):g}.");

        // An mp4 whose index sits at the front still probes fine when its tail is cut off.
        // The streams' bitrates come from that index, the container's from the real file size;
        // a file holding much less than its index describes was truncated.
        var streamBits = streams.Select(st => Number(st, "bit_rate")).ToList();
        var formatBits = Number(format, "bit_rate");
        if (formatBits > 0 && streamBits.All(b => b > 0) && streamBits.Sum()!.Value > formatBits * 1.25)
            throw new UnusableMediaException("The file appears truncated: it holds less data than its index describes.");

        var nbFrames = Long(video, "nb_frames");
        var frameRate = Fraction(Text(video, "avg_frame_rate")) ?? Fraction(Text(video, "r_frame_rate"));
        if (frameRate is null && nbFrames > 0) frameRate = nbFrames.Value / duration.Value;
        if (frameRate is null)
            throw new UnusableMediaException("The video's frame rate is unknown.");
        var frameCount = nbFrames is > 0 ? nbFrames.Value : (long)Math.Round(duration.Value * frameRate.Value);

        return new MediaInfo(duration.Value, width, height, Math.Round(frameRate.Value, 3), frameCount, hasAudio,
            Text(video, "codec_name") ?? "unknown");
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

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var p)
            ? p.ValueKind == JsonValueKind.String ? p.GetString() : p.GetRawText()
            : null;

    private static double? Number(JsonElement element, string name) =>
        double.TryParse(Text(element, name), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) ? d : null;

    private static int? Int(JsonElement element, string name) =>
        int.TryParse(Text(element, name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : null;

    private static long? Long(JsonElement element, string name) =>
        long.TryParse(Text(element, name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? l : null;

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
