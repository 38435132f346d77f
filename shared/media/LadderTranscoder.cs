using System.Globalization;
using Vidline.Contracts;
using Vidline.Media.Storage;

namespace Vidline.Media;

/// <summary>
/// Encodes a whole ladder in one ffmpeg process: the source is decoded once, its picture split into every rung and its
/// sound encoded once, all written straight into fMP4 segments (<see cref="LadderFolder"/>) that HLS and DASH both
/// describe. Keyframes are forced on the same timestamps in every rung, so segments line up and players can switch
/// between rungs at every segment. An encode interrupted (killed, stopped) leaves its complete segments; the next encode
/// of the same ladder into the same folder goes on after the last segment complete in every track.
/// </summary>
public sealed class LadderTranscoder(FfmpegRunner runner, LadderOptions options)
{
    /// <param name="onProgress">Called per ffmpeg progress block with the percent done of the whole source (0–100, never decreasing; a resumed encode starts where it resumed).</param>
    /// <param name="onResume">Called once before encoding when the folder held segments to go on from.</param>
    public async Task<IReadOnlyList<RenditionFile>> TranscodeAsync(
        string sourcePath,
        MediaInfo source,
        IReadOnlyList<RenditionTarget> rungs,
        string outputDirectory,
        Action<FfmpegProgress, double>? onProgress = null,
        CancellationToken cancellationToken = default,
        Action<EncodeResume, double>? onResume = null)
    {
        if (rungs.Count == 0) throw new ArgumentException("No renditions requested.", nameof(rungs));
        if (RenditionTarget.NamesProblem(rungs.Select(r => r.Name)) is { } problem) throw new ArgumentException(problem, nameof(rungs));

        // One sound track for every rung, at the best bitrate any rung asked for.
        var audioKbps = rungs.Max(r => r.AudioBitrateKbps);
        var targets = rungs.Select(r => r with { AudioBitrateKbps = audioKbps }).ToList();
        var folder = new LadderFolder(outputDirectory,
            [.. targets.Select(t => t.Name), .. source.HasAudio ? [LadderFolder.AudioTrack] : Array.Empty<string>()]);
        var picture = await PictureAsync(source, cancellationToken).ConfigureAwait(false);

        // The ffmpeg build and the arguments of a fresh encode, without paths, say what the segments are made with: only
        // segments made the same way are gone on from.
        var version = await runner.Capabilities.VersionAsync(cancellationToken).ConfigureAwait(false);
        var record = version + "\n" + string.Join("\n", BuildArguments("source", source, picture, targets, new LadderFolder("/encode", []), EncodeResume.FromStart)
            .Select(a => a.Replace(Path.GetFullPath("/encode"), "")));
        var resume = folder.Prepare(record, options.KeyframeIntervalSeconds);
        var startPercent = FfmpegProgress.Percent(TimeSpan.FromSeconds(resume.VideoSeconds), source.DurationSeconds);
        if (resume.IsResumed) onResume?.Invoke(resume, startPercent);

        var best = startPercent;
        async Task EncodeAsync(EncodeResume from)
        {
            var parser = new FfmpegProgressParser();
            var framesBefore = (long)Math.Round(from.VideoSeconds * picture.FrameRate);
            void OnLine(string line)
            {
                if (parser.Feed(line) is not { } progress || onProgress is null) return;
                // A resumed encoder counts from where it started; the caller hears about the whole source.
                var whole = progress with { OutTime = progress.OutTime + TimeSpan.FromSeconds(from.VideoSeconds), Frame = progress.Frame + framesBefore };
                // Output time can wobble between blocks; callers want a bar that only moves forward.
                best = Math.Max(best, whole.PercentOf(source.DurationSeconds));
                onProgress(whole, best);
            }

            if (from.VideoSeconds < source.DurationSeconds)
            {
                try
                {
                    await runner.RunFfmpegAsync(BuildArguments(sourcePath, source, picture, targets, folder, from), OnLine, null, cancellationToken)
                        .ConfigureAwait(false);
                }
                catch
                {
                    // Complete segments stay for the next encode to go on from; a half-written one is of no use to it.
                    folder.DiscardEncoderLeftovers();
                    throw;
                }
            }
            try
            {
                folder.Finish();
            }
            catch (InvalidDataException broken) when (StorageFull.Explains(folder.Directory, broken) is { } full)
            {
                throw full;
            }
        }

        try
        {
            await EncodeAsync(resume).ConfigureAwait(false);
        }
        catch (ResumeMismatchException) when (resume.IsResumed)
        {
            // The earlier segments cannot be continued after all (Finish forgot them): encode the whole source instead.
            await EncodeAsync(folder.Prepare(record, options.KeyframeIntervalSeconds)).ConfigureAwait(false);
        }
        var audioPath = source.HasAudio ? folder.MediaPlaylist(LadderFolder.AudioTrack) : null;
        return targets.Select(t => new RenditionFile(folder.MediaPlaylist(t.Name), t, source.HasAudio, audioPath)).ToList();
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

    internal List<string> BuildArguments(string sourcePath, MediaInfo source, SourcePicture picture, IReadOnlyList<RenditionTarget> targets,
        LadderFolder folder, EncodeResume resume)
    {
        var args = new List<string> { "-progress", "pipe:1", "-nostats" };
        // The picture's input starts at the resume point; the sound, when resumed, from an input of its own (its segments end
        // elsewhere). Only the picture of the first input and the sound of the last are decoded.
        if (resume.IsResumed) args.AddRange(["-ss", LadderFolder.Seconds(resume.VideoSeconds)]);
        HardenedInput.AddTo(args, sourcePath);
        var audioInput = 0;
        if (resume.IsResumed && source.HasAudio)
        {
            args.AddRange(["-ss", LadderFolder.Seconds(resume.AudioSeconds)]);
            HardenedInput.AddTo(args, sourcePath);
            audioInput = 1;
        }

        // The source picture is prepared once, then split into the rungs. Each rung's pixel shape is set explicitly so
        // that it shows at the source's display aspect: widths are rounded to even numbers (854x480 needs pixels of
        // 1280:1281 to show 16:9), and an unset source aspect must not pass through to some rungs and not others.
        var video = source.VideoStream is { } v ? $"0:{v}" : "0:v:0";
        var labels = string.Concat(targets.Select((_, i) => $"[s{i}]"));
        var graph = new List<string> { $"[{video}]{picture.Filters},split={targets.Count}{labels}" };
        graph.AddRange(targets.Select((t, i) =>
        {
            var (num, den) = t.DisplayAspect.SampleAspectFor(t.Width, t.Height);
            return $"[s{i}]scale={t.Width}:{t.Height},setsar=sar={num}/{den}:max={int.MaxValue}[v{i}]";
        }));
        if (source.HasAudio)
        {
            // A resumed sound is sought a little past the picture's resume point; moving it by as much keeps it in place.
            var shift = resume.IsResumed ? $"asetpts=PTS+{LadderFolder.Seconds(resume.AudioSeconds - resume.VideoSeconds)}/TB," : "";
            var sound = source.AudioStream is { } a ? $"{audioInput}:{a}" : $"{audioInput}:a:0";
            // Audio that stops early is padded with silence (and audio that runs on is cut with the picture), so the sound lasts as long as the picture.
            graph.Add($"[{sound}]{shift}apad[a]");
        }
        args.AddRange(["-filter_complex", string.Join(";", graph)]);

        var k = options.KeyframeIntervalSeconds.ToString(CultureInfo.InvariantCulture);
        for (var i = 0; i < targets.Count; i++)
        {
            var kbps = targets[i].VideoBitrateKbps;
            args.AddRange(["-map", $"[v{i}]", $"-b:v:{i}", $"{kbps}k", $"-maxrate:v:{i}", $"{kbps}k", $"-bufsize:v:{i}", $"{kbps * 2}k"]);
        }
        args.AddRange([
            "-c:v", "libx264",
            "-preset", options.Preset,
            // Same keyframe times in every rendition, and no extra scene-cut keyframes, so segments line up across the
            // ladder. The times count from the encode's start, which is always on a segment boundary.
            "-force_key_frames", $"expr:gte(t,n_forced*{k})",
            "-sc_threshold", "0",
            "-pix_fmt", "yuv420p",
        ]);
        if (source.Hdr) args.AddRange(["-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709"]);
        // Stereo whatever the source has (5.1 is downmixed, mono doubled): what every player and device plays.
        if (source.HasAudio) args.AddRange(["-map", "[a]", "-c:a", "aac", "-b:a", $"{targets[0].AudioBitrateKbps}k", "-ac", "2"]);

        // Renditions last exactly as long as the source; chapters, timecode and other side tracks are dropped.
        var left = Math.Max(0, source.DurationSeconds - resume.VideoSeconds);
        args.AddRange(["-t", left.ToString("0.###", CultureInfo.InvariantCulture), "-map_chapters", "-1", "-map_metadata", "-1",
            "-output_ts_offset", LadderFolder.Seconds(LadderFolder.TimelineStartSeconds + resume.VideoSeconds)]);

        var streams = targets.Select((t, i) => $"v:{i},name:{t.Name}").ToList();
        if (source.HasAudio) streams.Add($"a:0,name:{LadderFolder.AudioTrack}");
        args.AddRange([
            "-f", "hls",
            "-hls_time", k,
            "-hls_segment_type", "fmp4",
            "-hls_playlist_type", "vod",
            "-hls_list_size", "0",
            // A segment is written under a temporary name and renamed once complete: a segment file that exists is whole.
            "-hls_flags", "temp_file+independent_segments",
            "-start_number", (resume.Segments + 1).ToString(CultureInfo.InvariantCulture),
            // Each segment's decode time is taken from its timestamps, so a resumed encode's segments continue the timeline.
            "-hls_segment_options", "movflags=+frag_discont",
            "-hls_fmp4_init_filename", LadderFolder.EncoderInitName,
            "-hls_segment_filename", folder.EncoderPattern(SegmentedTrack.SegmentPattern),
            "-var_stream_map", string.Join(" ", streams),
            folder.EncoderPattern(LadderFolder.EncoderPlaylistName),
        ]);
        return args;
    }
}
