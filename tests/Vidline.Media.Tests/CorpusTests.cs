using Vidline.Contracts;
using Xunit.Abstractions;

namespace Vidline.Media.Tests;

/// <summary>
/// Every kind of video in <see cref="MediaCorpus"/> through the stages' own code: each completes with HLS and DASH that
/// ffprobe reads back with every rendition at the right size, display aspect, frame rate and audio layout.
/// </summary>
[Collection(MediaCollection.Name)]
public class CorpusTests(TestMedia media, ITestOutputHelper output)
{
    private readonly MediaCorpus _corpus = new(media);
    private readonly StageRun _stages = new(media);

    private async Task<StageOutcome> RunAsync(string kind)
    {
        var outcome = await _stages.RunAsync(await _corpus.PathOf(kind), gateOptions: new() { FullSizeScores = true });
        // The scores in the test log, full size included: what thresholds are judged against (docs/media.md quotes them).
        foreach (var s in outcome.Scores)
            output.WriteLine($"{kind} {s.Rendition}: encode loss SSIM {s.Ssim} PSNR {s.Psnr} dB; full size SSIM {s.FullSizeSsim} PSNR {s.FullSizePsnr} dB");
        return outcome;
    }

    [Theory]
    // Issue 9's three failures: an unset sample aspect with MP3 and a data track; a Theora text screencast; a Spark FLV.
    [InlineData("unset-aspect", "1280x720 854x480 640x360", 16, 9, 20, 2)]
    [InlineData("text-screencast", "954x720 636x480 478x360", 976, 736, 15, 2)]
    [InlineData("spark-flv", "320x240", 4, 3, 25, 2)]
    // Anamorphic PAL: shown 4:3 and 16:9, made into square-pixel rungs of that shape.
    [InlineData("anamorphic-16-15", "640x480 480x360", 4, 3, 25, 2)]
    [InlineData("anamorphic-64-45", "854x480 640x360", 16, 9, 25, 2)]
    [InlineData("odd-dimensions", "952x720 636x480 476x360", 975, 737, 25, 2)]
    [InlineData("av1", "320x240", 4, 3, 25, 2)]
    [InlineData("vp9", "320x240", 4, 3, 25, 2)]
    [InlineData("hevc-10bit", "320x240", 4, 3, 25, 2)]
    [InlineData("vp9-10bit", "320x240", 4, 3, 25, 2)]
    [InlineData("120fps", "320x240", 4, 3, 60, 2)]
    [InlineData("1fps", "320x240", 4, 3, 1, 2)]
    [InlineData("cover-art", "320x240", 4, 3, 25, 2)]
    [InlineData("data-and-timecode", "320x240", 4, 3, 25, 2)]
    [InlineData("surround-5.1", "320x240", 4, 3, 25, 2)]
    [InlineData("mono", "320x240", 4, 3, 25, 2)]
    [InlineData("no-audio", "320x240", 4, 3, 25, 0)]
    [InlineData("single-frame", "320x240", 4, 3, 25, 0)]
    [InlineData("16x16", "16x16", 1, 1, 25, 2)]
    [InlineData("very-tall", "200x1600", 1, 8, 25, 2)]
    [InlineData("very-wide", "1600x200", 8, 1, 25, 2)]
    public async Task Completes_with_every_rendition_right(string kind, string sizes, int aspectNum, int aspectDen, double fps, int channels)
    {
        var outcome = await RunAsync(kind);

        AssertPlays(outcome, sizes, (double)aspectNum / aspectDen, fps, channels);
    }

    [Theory]
    [InlineData("portrait-90")]
    [InlineData("portrait-270")]
    public async Task A_phone_video_with_rotation_metadata_comes_out_upright_with_swapped_dimensions(string kind)
    {
        var outcome = await RunAsync(kind);

        Assert.Equal(kind == "portrait-90" ? 90 : 270, outcome.Source.Rotation);
        // Stored 640x360, shown 360x640: the short side picks the 360p rung, which is portrait.
        AssertPlays(outcome, "360x640", 9.0 / 16, 25, 2);
    }

    [Fact]
    public async Task A_variable_frame_rate_video_comes_out_at_a_constant_average_rate()
    {
        var outcome = await RunAsync("variable-frame-rate");

        Assert.InRange(outcome.Source.FrameRate, 20, 23);   // about 7 of every 10 frames of 30 fps
        AssertPlays(outcome, "320x240", 4.0 / 3, outcome.Source.FrameRate, 2);
    }

    [Fact]
    public async Task Interlaced_video_is_deinterlaced()
    {
        var outcome = await RunAsync("interlaced");

        Assert.True(outcome.Source.Interlaced);
        Assert.StartsWith("bwdif=", (await new LadderTranscoder(media.Runner, new LadderOptions()).PictureAsync(outcome.Source)).Filters);
        AssertPlays(outcome, "600x480 450x360", 720.0 / 576, 25, 2);
        foreach (var rendition in outcome.Renditions)
            Assert.All(await InterlacedFlagsAsync(rendition.Path), interlaced => Assert.Equal("0", interlaced));
    }

    [Fact]
    public async Task Hdr_pq_is_tone_mapped_to_8_bit_sdr()
    {
        var outcome = await RunAsync("hdr-pq");

        Assert.True(outcome.Source.Hdr);
        Assert.Equal(10, outcome.Source.BitDepth);
        // This ffmpeg has zscale and tonemap, so nothing to warn about; SourcePictureTests cover the warning.
        Assert.Empty(outcome.Warnings);
        AssertPlays(outcome, "320x240", 4.0 / 3, 25, 2);
        Assert.All(outcome.HlsVideo.Concat(outcome.DashVideo), s => Assert.Equal("bt709", s.ColorTransfer));
    }

    [Fact]
    public async Task Of_several_audio_tracks_the_default_one_is_used()
    {
        var outcome = await RunAsync("several-audio-tracks");

        Assert.Equal(2, outcome.Source.AudioStream);   // stream 0 is video, 1 and 3 are silent
        AssertPlays(outcome, "320x240", 4.0 / 3, 25, 2);
        Assert.True(await MeanVolumeAsync(outcome.Renditions[0].AudioPath!) > -40, "the rendition carries a silent track");
    }

    [Theory]
    [InlineData("audio-longer", 1.0)]
    [InlineData("audio-shorter", 2.0)]
    public async Task Audio_is_cut_or_padded_to_the_length_of_the_picture(string kind, double seconds)
    {
        var outcome = await RunAsync(kind);

        Assert.Equal(seconds, outcome.Source.DurationSeconds, 1);
        AssertPlays(outcome, "320x240", 4.0 / 3, 25, 2);
        // The shared sound track lasts as long as every rung's picture (its first AAC frame of priming aside).
        var sound = SegmentedTrack.Read(Path.GetDirectoryName(outcome.Renditions[0].AudioPath)!);
        Assert.Equal(seconds, sound.EndSeconds - sound.StartSeconds, 1);
        foreach (var rendition in outcome.Renditions)
        {
            var picture = SegmentedTrack.Read(Path.GetDirectoryName(rendition.Path)!);
            Assert.Equal(seconds, picture.EndSeconds - picture.StartSeconds, 1);
        }
    }

    [Fact]
    public async Task A_container_that_claims_ten_minutes_but_holds_two_seconds_is_worked_on_for_two_seconds()
    {
        var outcome = await RunAsync("lying-duration");

        Assert.InRange(outcome.Source.DurationSeconds, 1.9, 2.1);
        Assert.Equal(50, outcome.Source.FrameCount);
        AssertPlays(outcome, "320x240", 4.0 / 3, 25, 2);
    }

    [Fact]
    public async Task A_camera_like_clip_passes_the_gate_at_every_rung_with_default_thresholds()
    {
        // The default ladder and preset (veryfast), as a default deployment runs them; noise and motion throughout.
        var outcome = await RunAsync("camera-like");

        AssertPlays(outcome, "1920x1080 1280x720 854x480 640x360", 16.0 / 9, 30, 2);
    }

    /// <summary>Completed, passed the gate, and every HLS variant and DASH stream reads back as it should.</summary>
    private static void AssertPlays(StageOutcome outcome, string sizes, double aspect, double fps, int channels)
    {
        Assert.All(outcome.Scores, s => Assert.True(s.Passed, $"{s.Rendition}: {string.Join("; ", s.Problems ?? [])}"));
        var expected = sizes.Split(' ');
        Assert.Equal(expected, outcome.HlsVideo.Select(s => s.Size));
        Assert.Equal(expected, outcome.DashVideo.Select(s => s.Size));
        Assert.All(outcome.HlsVideo.Concat(outcome.DashVideo), s =>
        {
            Assert.True(Math.Abs(s.DisplayAspect / aspect - 1) < 0.003, $"{s.Size} at {s.SampleAspect} shows {s.DisplayAspect:0.####}, not {aspect:0.####}");
            Assert.Equal(fps, s.FramesPerSecond, 1);
            Assert.Equal("yuv420p", s.PixelFormat);
        });
        if (channels == 0) Assert.Empty(outcome.AllAudio);
        else Assert.All(outcome.AllAudio, s => Assert.Equal(channels, s.Channels));
        Assert.NotEmpty(outcome.HlsVariants);
    }

    /// <summary>Every decoded picture's interlaced_frame flag ("0": progressive).</summary>
    private async Task<List<string>> InterlacedFlagsAsync(string path)
    {
        var args = new List<string> { "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=interlaced_frame", "-of", "csv=p=0" };
        HardenedInput.AddTo(args, path);
        var flags = new List<string>();
        await media.Runner.RunFfprobeAsync(args, line => { if (line.Trim().Length > 0) flags.Add(line.Trim().TrimEnd(',')); });
        Assert.NotEmpty(flags);
        return flags;
    }

    private async Task<double> MeanVolumeAsync(string path)
    {
        var args = new List<string>();
        HardenedInput.AddTo(args, path);
        args.AddRange(["-map", "0:a", "-af", "volumedetect", "-f", "null", "-"]);
        var stderr = "";
        await media.Runner.RunFfmpegAsync(args, null, s => stderr = s);
        var line = stderr.Split('\n').Single(l => l.Contains("mean_volume:"));
        return double.Parse(line[(line.IndexOf("mean_volume:") + 12)..].Replace("dB", "").Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
