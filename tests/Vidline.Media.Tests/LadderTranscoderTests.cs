using System.Diagnostics;

namespace Vidline.Media.Tests;

[Collection(MediaCollection.Name)]
public class LadderTranscoderTests(TestMedia media)
{
    [Fact]
    public async Task Encodes_the_ladder_in_one_run_with_progress_and_aligned_keyframes()
    {
        var info = await new MediaProbe(media.Runner).ProbeAsync(media.Clip720);
        var options = new LadderOptions();
        var rungs = new RenditionLadder(options).For(info);
        var percents = new List<double>();

        var outputs = await new LadderTranscoder(media.Runner, options).TranscodeAsync(
            media.Clip720, info, rungs, media.NewWorkDirectory("transcode"), (_, percent) => percents.Add(percent));

        Assert.Equal(["720p", "480p", "360p"], outputs.Select(o => o.Target.Name));
        Assert.All(outputs, o => Assert.Equal(o.Target.Name + ".mp4", Path.GetFileName(o.Path)));

        Assert.NotEmpty(percents);
        Assert.Equal(percents.Order(), percents);   // never goes backwards
        Assert.Equal(100, percents[^1]);

        List<List<string>> keyframes = [];
        foreach (var output in outputs)
        {
            var stored = await new QualityMeter(media.Runner, new LadderOptions()).ReadStructureAsync(output.Path);
            Assert.Equal(output.Target.Height, stored.Height);
            Assert.Equal(output.Target.Width, stored.Width);
            Assert.True(stored.HasAudio);
            // Shown at the source's 16:9 whatever the rounding of the width (854x480 has pixels of 1280:1281).
            var shown = await new MediaProbe(media.Runner).ProbeAsync(output.Path);
            Assert.InRange((double)shown.Width / shown.Height, 16 / 9.0 - 0.003, 16 / 9.0 + 0.003);
            keyframes.Add(await KeyframeTimes(output.Path));
        }
        // A keyframe every 2 s in every rendition, at the same times: 0 and 2 in a 3 s clip.
        Assert.All(keyframes, k => Assert.Equal(["0.000000", "2.000000"], k));
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
        Assert.Empty(Directory.GetFiles(outputDir));
    }

    private async Task<List<string>> KeyframeTimes(string path)
    {
        var args = new List<string> { "-v", "error", "-select_streams", "v:0", "-skip_frame", "nokey",
            "-show_entries", "frame=pts_time", "-of", "csv=p=0" };
        HardenedInput.AddTo(args, path);
        var times = new List<string>();
        await media.Runner.RunFfprobeAsync(args, line => { if (line.Trim().Length > 0) times.Add(line.Trim().TrimEnd(',')); });
        return times;
    }
}
