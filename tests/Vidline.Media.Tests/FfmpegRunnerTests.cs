namespace Vidline.Media.Tests;

public class FfmpegRunnerUnitTests
{
    [Fact]
    public async Task Refuses_an_input_without_the_protocol_whitelist()
    {
        var runner = new FfmpegRunner(new MediaOptions());

        await Assert.ThrowsAsync<ArgumentException>(() => runner.RunFfprobeAsync(["-i", "/etc/hostname"]));
    }

    [Fact]
    public void HardenedInput_puts_the_whitelist_right_before_each_input()
    {
        var args = new List<string>();
        HardenedInput.AddTo(args, "a.mp4");
        HardenedInput.AddTo(args, "b.mp4");

        Assert.Equal(["-protocol_whitelist", "file,pipe", "-i", "a.mp4", "-protocol_whitelist", "file,pipe", "-i", "b.mp4"], args);
        Assert.True(HardenedInput.IsHardened(args));
    }

    [Fact]
    public void Summary_drops_component_tags_and_generic_trailers()
    {
        string[] tail =
        [
            "Input #0, lavfi, from 'x':",
            "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x563ebec4f240] moov atom not found",
            "/tmp/t.mp4: Invalid data found when processing input",
            "",
            "Conversion failed!",
        ];

        Assert.Equal("moov atom not found; /tmp/t.mp4: Invalid data found when processing input", FfmpegRunner.Summarize(tail));
    }

    [Fact]
    public void Summary_prefers_the_error_over_the_stream_listing_printed_after_it()
    {
        // Shape of the dash muxer's refusal: the real reason comes before the mapping chatter.
        string[] tail =
        [
            "Input #2, mov,mp4,m4a,3gp,3g2,mj2, from '360p.mp4':",
            "    Stream #2:0(und): Video: h264 (High) (avc1 / 0x31637661), yuv420p, 640x360",
            "[dash @ 0x55cb898c57c0] Conflicting stream aspect ratios values in Adaptation Set 1.",
            "Could not write header for output file #0 (incorrect codec parameters ?): Invalid argument",
            "Error initializing output stream 0:3 -- ",
            "Stream mapping:",
            "  Stream #0:0 -> #0:0 (copy)",
            "[dash @ 0x55cb898c57c0] Opening 'pkg/init-stream0.m4s' for writing",
            "    Last message repeated 1 times",
        ];

        Assert.Equal(
            "Conflicting stream aspect ratios values in Adaptation Set 1.; Could not write header for output file #0 (incorrect codec parameters ?): Invalid argument; Error initializing output stream 0:3 --",
            FfmpegRunner.Summarize(tail));
    }

    [Fact]
    public void Summary_falls_back_to_the_last_lines_when_nothing_reads_like_an_error() =>
        Assert.Equal("a; b; c", FfmpegRunner.Summarize(["x", "a", "b", "c", "Conversion failed!"]));

    [Fact]
    public async Task A_missing_executable_is_a_clear_error()
    {
        var runner = new FfmpegRunner(new MediaOptions { FfprobePath = "/nonexistent/ffprobe" });

        var e = await Assert.ThrowsAsync<FfmpegException>(() => runner.RunFfprobeAsync(["-version"]));
        Assert.Contains("could not start", e.Summary);
    }
}

[Collection(MediaCollection.Name)]
public class FfmpegRunnerTests(TestMedia media)
{
    [Fact]
    public async Task Non_zero_exit_gives_exit_code_and_stderr_summary()
    {
        var args = new List<string>();
        HardenedInput.AddTo(args, media.TextFile);
        args.AddRange(["-f", "null", "-"]);

        var e = await Assert.ThrowsAsync<FfmpegException>(() => media.Runner.RunFfmpegAsync(args));

        Assert.NotEqual(0, e.ExitCode);
        Assert.Contains("Invalid data found when processing input", e.Summary);
        Assert.DoesNotContain("@ 0x", e.Summary);
    }

    [Fact]
    public async Task Streams_stdout_lines_and_returns_the_run()
    {
        var lines = new List<string>();
        var result = await media.Runner.RunFfprobeAsync(["-version"], lines.Add);

        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("ffprobe version", lines[0]);
        Assert.True(result.Duration > TimeSpan.Zero);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(0)]
    public async Task Ffmpeg_runs_at_the_configured_niceness(int niceness)
    {
        var runner = new FfmpegRunner(new MediaOptions { Niceness = niceness });
        // A marker in the command line finds this run's ffmpeg among the other tests' children.
        var marker = $"vidline-niceness-{Guid.NewGuid():N}";
        var args = new List<string> { "-progress", "pipe:1", "-nostats", "-re" };
        HardenedInput.AddTo(args, media.Clip720);
        args.AddRange(["-metadata", $"comment={marker}", "-f", "null", "-"]);
        using var stop = new CancellationTokenSource();
        int? seen = null;

        var run = runner.RunFfmpegAsync(args, _ =>
        {
            if (seen is not null || ChildProcesses.WithArgument(marker) is not { } pid) return;
            seen = ChildProcesses.Niceness(pid);
            stop.Cancel();
        }, cancellationToken: stop.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        // nice adds to the caller's own value (a test runner may itself run niced).
        Assert.Equal(Math.Min(ChildProcesses.Niceness(Environment.ProcessId) + niceness, 19), seen);
    }

    [Fact]
    public async Task A_throwing_callback_stops_ffmpeg_and_surfaces()
    {
        var args = new List<string> { "-progress", "pipe:1", "-nostats" };
        HardenedInput.AddTo(args, media.Clip720);
        args.AddRange(["-f", "null", "-"]);

        await Assert.ThrowsAsync<InvalidTimeZoneException>(() =>
            media.Runner.RunFfmpegAsync(args, _ => throw new InvalidTimeZoneException()));
    }
}
