using System.Globalization;
using Vidline.Contracts;

namespace Vidline.Media;

/// <summary>
/// Encodes a whole ladder in one ffmpeg process: the source is decoded once and split into
/// every rung, with keyframes forced on the same timestamps so the renditions can be switched
/// between at every segment boundary.
/// </summary>
public sealed class LadderTranscoder(FfmpegRunner runner, LadderOptions options)
{
    /// <param name="onProgress">Called per ffmpeg progress block with the percent done (0–100, never decreasing).</param>
    public async Task<IReadOnlyList<RenditionFile>> TranscodeAsync(
        string sourcePath,
        MediaInfo source,
        IReadOnlyList<RenditionTarget> rungs,
        string outputDirectory,
        Action<FfmpegProgress, double>? onProgress = null,
        CancellationToken cancellationToken = default)
    {
        if (rungs.Count == 0) throw new ArgumentException("No renditions requested.", nameof(rungs));
        foreach (var rung in rungs)
            if (rung.Name.IndexOfAny(['/', '\\']) >= 0 || rung.Name is "" or "." or "..")
                throw new ArgumentException($"Rendition name '{rung.Name}' is not a plain file name.", nameof(rungs));

        Directory.CreateDirectory(outputDirectory);
        var outputs = rungs.Select(r => new RenditionFile(
            Path.GetFullPath(Path.Combine(outputDirectory, r.Name + ".mp4")), r, source.HasAudio)).ToList();

        var parser = new FfmpegProgressParser();
        var best = 0.0;
        void OnLine(string line)
        {
            if (parser.Feed(line) is not { } progress || onProgress is null) return;
            // Output time can wobble between blocks; callers want a bar that only moves forward.
            best = Math.Max(best, progress.PercentOf(source.DurationSeconds));
            onProgress(progress, best);
        }

        var picture = await PictureAsync(source, cancellationToken).ConfigureAwait(false);
        try
        {
            await runner.RunFfmpegAsync(BuildArguments(sourcePath, source, picture, outputs), OnLine, null, cancellationToken)
                .ConfigureAwait(false);
        }
        catch
        {
            // Half-written mp4s are useless (no moov) and would confuse a retry.
            foreach (var output in outputs) TryDelete(output.Path);
            throw;
        }
        return outputs;
    }

    /// <summary>What the renditions of <paramref name="source"/> will start from (and what a viewer should be warned of).</summary>
    public Task<SourcePicture> PictureAsync(MediaInfo source, CancellationToken cancellationToken = default) =>
        SourcePicture.ForAsync(source, options, runner.Capabilities, cancellationToken);

    /// <summary>What a job's owner should know before the renditions are made: what the pipeline will change or cannot do.</summary>
    public async Task<IReadOnlyList<string>> WarningsAsync(MediaInfo source, CancellationToken cancellationToken = default)
    {
        var warnings = new List<string>();
        if (!source.HasAudio) warnings.Add("The source has no audio track; renditions will be silent.");
        warnings.AddRange((await PictureAsync(source, cancellationToken).ConfigureAwait(false)).Warnings);
        return warnings;
    }

    internal List<string> BuildArguments(string sourcePath, MediaInfo source, SourcePicture picture, IReadOnlyList<RenditionFile> outputs)
    {
        var args = new List<string> { "-progress", "pipe:1", "-nostats" };
        HardenedInput.AddTo(args, sourcePath);

        // The source picture is prepared once, then split into the rungs. Each rung's pixel shape is set
        // explicitly so that it shows at the source's display aspect: widths are rounded to even numbers
        // (854x480 needs pixels of 1280:1281 to show 16:9), and an unset source aspect must not pass through
        // to some rungs and not others, or the dash muxer refuses the adaptation set.
        var video = source.VideoStream is { } v ? $"0:{v}" : "0:v:0";
        var labels = string.Concat(outputs.Select((_, i) => $"[s{i}]"));
        var scales = outputs.Select((o, i) =>
        {
            var (num, den) = o.Target.DisplayAspect.SampleAspectFor(o.Target.Width, o.Target.Height);
            return $"[s{i}]scale={o.Target.Width}:{o.Target.Height},setsar=sar={num}/{den}:max={int.MaxValue}[v{i}]";
        });
        args.AddRange(["-filter_complex", $"[{video}]{picture.Filters},split={outputs.Count}{labels};" + string.Join(";", scales)]);

        var k = options.KeyframeIntervalSeconds.ToString(CultureInfo.InvariantCulture);
        // Renditions last exactly as long as the source's video: audio that runs on is cut, audio that stops early
        // is padded with silence, so every segment has both and they stay in step.
        var duration = source.DurationSeconds.ToString("0.###", CultureInfo.InvariantCulture);
        for (var i = 0; i < outputs.Count; i++)
        {
            var target = outputs[i].Target;
            args.AddRange(["-map", $"[v{i}]"]);
            if (source.HasAudio) args.AddRange(["-map", source.AudioStream is { } a ? $"0:{a}" : "0:a:0"]);
            args.AddRange([
                "-c:v", "libx264",
                "-preset", options.Preset,
                "-b:v", $"{target.VideoBitrateKbps}k",
                "-maxrate", $"{target.VideoBitrateKbps}k",
                "-bufsize", $"{target.VideoBitrateKbps * 2}k",
                // Same keyframe times in every rendition, and no extra scene-cut keyframes,
                // so segments line up across the ladder.
                "-force_key_frames", $"expr:gte(t,n_forced*{k})",
                "-sc_threshold", "0",
                "-pix_fmt", "yuv420p",
            ]);
            if (source.Hdr) args.AddRange(["-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709"]);
            // Stereo whatever the source has (5.1 is downmixed, mono doubled): what every player and device plays.
            if (source.HasAudio) args.AddRange(["-c:a", "aac", "-b:a", $"{target.AudioBitrateKbps}k", "-ac", "2", "-af", "apad"]);
            // Chapters, timecode and other side tracks are dropped; only the picture and the one audio track go on.
            args.AddRange(["-t", duration, "-map_chapters", "-1", "-map_metadata", "-1", "-movflags", "+faststart", outputs[i].Path]);
        }
        return args;
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
