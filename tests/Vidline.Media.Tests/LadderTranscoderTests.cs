using System.Diagnostics;

namespace Vidline.Media.Tests;

[Collection(MediaCollection.Name)]
public class LadderTranscoderTests(TestMedia media)
{
    [Fact]
    public async Task Encodes_the_ladder_and_one_shared_sound_track_into_aligned_segments_in_one_run()
    {
        var info = await new MediaProbe(media.Runner).ProbeAsync(media.Clip720);
        var options = new LadderOptions();
        var rungs = new RenditionLadder(options).For(info);
        var percents = new List<double>();
        var dir = media.NewWorkDirectory("transcode");

        var outputs = await new LadderTranscoder(media.Runner, options).TranscodeAsync(
            media.Clip720, info, rungs, dir, (_, percent) => percents.Add(percent));

        Assert.Equal(["720p", "480p", "360p"], outputs.Select(o => o.Target.Name));
        // Each rung is a media playlist over its own segments; the sound is one track beside them, shared by all.
        Assert.All(outputs, o => Assert.Equal(Path.Combine(dir, o.Target.Name, "media.m3u8"), o.Path));
        Assert.All(outputs, o => Assert.Equal(Path.Combine(dir, "audio", "media.m3u8"), o.AudioPath));
        Assert.Equal(["360p", "480p", "720p", "audio"], Directory.GetDirectories(dir).Select(Path.GetFileName).Order());
        // No whole-file intermediates: init segments and media segments only.
        Assert.All(Directory.GetFiles(dir, "*.mp4", SearchOption.AllDirectories), f => Assert.Equal("init.mp4", Path.GetFileName(f)));

        Assert.NotEmpty(percents);
        Assert.Equal(percents.Order(), percents);   // never goes backwards
        Assert.Equal(100, percents[^1]);

        var tracks = outputs.Select(o => SegmentedTrack.Read(Path.GetDirectoryName(o.Path)!)).ToList();
        SegmentedTrack.CheckAligned(tracks);
        Assert.All(tracks, t => Assert.Equal(2, t.Segments.Count)); // 3 s in segments of 2 s
        var sound = SegmentedTrack.Read(Path.GetDirectoryName(outputs[0].AudioPath)!);
        Assert.Equal("mp4a.40.2", sound.Init.Codecs);

        List<List<double>> keyframes = [];
        foreach (var output in outputs)
        {
            var streams = await StreamKinds(output.Path);
            Assert.Equal([$"video,{output.Target.Width},{output.Target.Height}"], streams); // the picture only
            // Shown at the source's 16:9 whatever the rounding of the width (854x480 has pixels of 1280:1281).
            var sar = (await Probe(output.Path, "stream=sample_aspect_ratio"))[^1].Split(':').Select(double.Parse).ToArray();
            Assert.InRange(output.Target.Width * sar[0] / sar[1] / output.Target.Height, 16 / 9.0 - 0.003, 16 / 9.0 + 0.003);
            var frames = await Frames(output.Path);
            Assert.Equal(90, frames.Count); // 3 s at 30 fps
            keyframes.Add(frames.Where(f => f.Key).Select(f => f.Time - frames[0].Time).ToList());
        }
        // A keyframe every 2 s in every rendition, at the same times: 0 and 2 in a 3 s clip.
        Assert.All(keyframes, k => Assert.Equal([0, 2], k.Select(t => Math.Round(t, 3))));
        Assert.Equal(["audio"], await StreamKinds(outputs[0].AudioPath!));
    }

    [Fact]
    public async Task Cancelling_kills_ffmpeg_promptly_and_removes_partial_outputs()
    {
        var source = await media.Long1080Async();
        var info = await new MediaProbe(media.Runner).ProbeAsync(source);
        var options = new LadderOptions { Preset = "slow" };
        var rungs = new RenditionLadder(options).For(info);
        var outputDir = media.NewWorkDirectory("cancel");

        using var cts = new CancellationTokenSource();
        var ffmpegPids = new List<int>();
        var cancelWatch = new Stopwatch();
        var task = new LadderTranscoder(media.Runner, options).TranscodeAsync(source, info, rungs, outputDir, (progress, _) =>
        {
            // Once ffmpeg reports it is encoding, note its pid and pull the plug.
            if (cts.IsCancellationRequested || progress.Frame is not > 0) return;
            ffmpegPids.AddRange(ChildProcesses.Ffmpeg());
            cancelWatch.Start();
            cts.Cancel();
        }, cts.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task);
        cancelWatch.Stop();

        Assert.True(cts.IsCancellationRequested, "progress never started");
        Assert.True(cancelWatch.Elapsed < TimeSpan.FromSeconds(2), $"took {cancelWatch.Elapsed} to stop");
        var pid = Assert.Single(ffmpegPids);
        Assert.False(ChildProcesses.IsAlive(pid), $"ffmpeg {pid} survived cancellation");
        Assert.Empty(ChildProcesses.Ffmpeg());
        // Nothing half-written is left; complete segments may stay, for a next encode to go on from.
        Assert.Empty(Directory.GetFiles(outputDir, "*.tmp", SearchOption.AllDirectories));
        Assert.Empty(Directory.GetFiles(outputDir, "encoder*", SearchOption.AllDirectories));
    }

    /// <summary>"video,W,H" or "audio" per stream, as ffprobe lists them overall.</summary>
    private Task<List<string>> StreamKinds(string path) => Probe(path, "stream=codec_type,width,height");

    private async Task<List<string>> Probe(string path, string entries)
    {
        var args = new List<string> { "-v", "error", "-show_entries", entries, "-of", "csv=p=0" };
        HardenedInput.AddTo(args, path);
        var lines = new List<string>();
        await media.Runner.RunFfprobeAsync(args, line => { if (line.Trim().Length > 0) lines.Add(line.Trim().TrimEnd(',')); });
        // ffprobe lists streams once per program and once overall; the overall list comes last.
        return lines.Skip(lines.Count / 2).ToList();
    }

    private Task<List<(double Time, bool Key)>> Frames(string path) => DecodedFrames.ReadAsync(media.Runner, path);
}
