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

        try
        {
            await runner.RunFfmpegAsync(BuildArguments(sourcePath, source, outputs), OnLine, null, cancellationToken)
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

    internal List<string> BuildArguments(string sourcePath, MediaInfo source, IReadOnlyList<RenditionFile> outputs)
    {
        var args = new List<string> { "-progress", "pipe:1", "-nostats" };
        HardenedInput.AddTo(args, sourcePath);

        // No setsar=1 here: widths are rounded to even numbers, and scale compensates with a
        // slightly non-square pixel aspect (854x480 gets 1280:1281) so every rendition keeps the
        // source's exact display aspect. The dash muxer refuses an adaptation set whose aspects differ.
        var labels = string.Concat(outputs.Select((_, i) => $"[s{i}]"));
        var scales = outputs.Select((o, i) => $"[s{i}]scale={o.Target.Width}:{o.Target.Height}[v{i}]");
        args.AddRange(["-filter_complex", $"[0:v]split={outputs.Count}{labels};" + string.Join(";", scales)]);

        var k = options.KeyframeIntervalSeconds.ToString(CultureInfo.InvariantCulture);
        for (var i = 0; i < outputs.Count; i++)
        {
            var target = outputs[i].Target;
            args.AddRange(["-map", $"[v{i}]"]);
            if (source.HasAudio) args.AddRange(["-map", "0:a:0"]);
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
            if (source.HasAudio) args.AddRange(["-c:a", "aac", "-b:a", $"{target.AudioBitrateKbps}k"]);
            args.AddRange(["-movflags", "+faststart", outputs[i].Path]);
        }
        return args;
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
