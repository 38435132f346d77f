using Vidline.Contracts;

namespace Vidline.Media.Tests;

[Collection(MediaCollection.Name)]
public class MediaProbeTests(TestMedia media)
{
    private MediaProbe Probe => new(media.Runner);

    [Fact]
    public async Task Describes_a_good_clip()
    {
        var info = await Probe.ProbeAsync(media.Clip360);

        Assert.Equal(640, info.Width);
        Assert.Equal(360, info.Height);
        Assert.Equal(30, info.FrameRate);
        Assert.Equal(90, info.FrameCount);
        Assert.InRange(info.DurationSeconds, 2.9, 3.1);
        Assert.True(info.HasAudio);
        Assert.Equal("h264", info.VideoCodec);
    }

    [Fact]
    public async Task A_clip_with_b_frames_lasts_to_its_last_frame()
    {
        // x264 beyond ultrafast reorders frames: the last packet's decode time is two frames before its end.
        var path = media.In("bframes.mp4");
        var args = new List<string> { "-f", "lavfi" };
        HardenedInput.AddTo(args, "testsrc2=size=320x240:rate=25:duration=2");
        args.AddRange(["-c:v", "libx264", "-preset", "veryfast", "-bf", "3", "-pix_fmt", "yuv420p", path]);
        await media.Runner.RunFfmpegAsync(args);

        var info = await Probe.ProbeAsync(path);

        Assert.Equal((2.0, 50L), (info.DurationSeconds, info.FrameCount));
    }

    [Theory]
    [InlineData("zero", "empty")]
    [InlineData("text", "could not be read as video")]
    [InlineData("truncated", "moov atom not found")]
    [InlineData("truncated-faststart", "truncated")]
    [InlineData("audio", "no video stream (audio only)")]
    public async Task Rejects_bad_media_with_a_clear_reason(string which, string expectedReason)
    {
        var path = which switch
        {
            "zero" => media.ZeroBytes,
            "text" => media.TextFile,
            "truncated" => media.Truncated,
            "truncated-faststart" => media.TruncatedFaststart,
            _ => media.AudioOnly,
        };

        var e = await Assert.ThrowsAsync<UnusableMediaException>(() => Probe.ProbeAsync(path));

        Assert.Contains(expectedReason, e.Reason);
        Assert.DoesNotContain(media.Directory, e.Reason);   // no server paths in user-facing text
    }

    [Fact]
    public async Task Rejects_dimensions_over_the_configured_maximum()
    {
        var probe = new MediaProbe(new FfmpegRunner(new MediaOptions { MaxWidth = 1280, MaxHeight = 360 }));

        var e = await Assert.ThrowsAsync<UnusableMediaException>(() => probe.ProbeAsync(media.Clip720));

        Assert.Contains("1280x720", e.Reason);
    }

    [Fact]
    public async Task Rejects_durations_over_the_configured_maximum()
    {
        var probe = new MediaProbe(new FfmpegRunner(new MediaOptions { MaxDurationSeconds = 2 }));

        var e = await Assert.ThrowsAsync<UnusableMediaException>(() => probe.ProbeAsync(media.Clip360));

        Assert.Contains("longest accepted", e.Reason);
    }

    [Fact]
    public async Task A_missing_file_is_not_the_uploaders_fault() =>
        await Assert.ThrowsAsync<FileNotFoundException>(() => Probe.ProbeAsync(media.In("nope.mp4")));
}

/// <summary>The acceptance rules on ffprobe JSON that real clips cannot easily produce.</summary>
public class MediaProbeRulesTests
{
    private static readonly MediaOptions Limits = new();

    private static string Json(string videoStream, string format = """{"format_name":"mov,mp4,m4a,3gp,3g2,mj2","duration":"10.0"}""") =>
        $$"""{"streams":[{{videoStream}}],"format":{{format}}}""";

    private static UnusableMediaException Rejected(string json) =>
        Assert.Throws<UnusableMediaException>(() => MediaProbe.Interpret(json, Limits));

    [Fact]
    public void Absurd_claimed_dimensions() =>
        Assert.Contains("largest accepted is 7680x4320",
            Rejected(Json("""{"codec_type":"video","width":65530,"height":65530,"avg_frame_rate":"30/1"}""")).Reason);

    [Fact]
    public void Zero_dimensions() =>
        Assert.Contains("width or height is zero",
            Rejected(Json("""{"codec_type":"video","width":0,"height":0,"avg_frame_rate":"30/1"}""")).Reason);

    private static readonly MediaInfo Claimed = new(10.0, 640, 360, 25, 250, true, "h264");

    [Fact]
    public void A_claimed_duration_alone_decides_nothing()
    {
        // Absurd or missing claims are kept as claims: what the read finds decides.
        Assert.Equal(9999999.0, MediaProbe.Interpret(Json("""{"codec_type":"video","width":640,"height":360,"avg_frame_rate":"30/1"}""",
            """{"format_name":"matroska,webm","duration":"9999999.0"}"""), Limits).DurationSeconds);
        Assert.Equal(0, MediaProbe.Interpret(Json("""{"codec_type":"video","width":640,"height":360,"avg_frame_rate":"30/1"}""",
            """{"format_name":"matroska,webm"}"""), Limits).DurationSeconds);
    }

    [Fact]
    public void Stopping_well_short_of_the_claim_with_read_errors_is_truncation() =>
        Assert.Contains("truncated: its video stops after 4.0 s of the 10.0 s",
            Assert.Throws<UnusableMediaException>(() => MediaProbe.Confirm(Claimed,
                new MediaProbe.SourceRead(100, 3.96, ["stream 0, offset 0x24d76: partial file"]), Limits)).Reason);

    [Fact]
    public void Stopping_short_cleanly_is_a_mislabelled_length_and_the_real_one_counts()
    {
        var info = MediaProbe.Confirm(Claimed, new MediaProbe.SourceRead(100, 3.96, []), Limits);

        Assert.Equal((4.0, 100L), (info.DurationSeconds, info.FrameCount));
    }

    [Fact]
    public void Packets_read_up_to_their_decode_time_still_count_every_frame() =>
        Assert.Equal(10.0, MediaProbe.Confirm(Claimed, new MediaProbe.SourceRead(250, 9.88, []), Limits, reorderDelay: 2).DurationSeconds);

    [Fact]
    public void A_stated_rate_below_the_real_one_does_not_stretch_the_length() =>
        // 300 frames of 30 fps video stated as 24 fps, in a file whose audio runs to 12 s: the picture still ends at 10 s.
        Assert.InRange(MediaProbe.Confirm(Claimed with { FrameRate = 24, DurationSeconds = 12 },
            new MediaProbe.SourceRead(300, 9.967, []), Limits).DurationSeconds, 9.95, 10.05);

    [Fact]
    public void The_reorder_delay_is_read_from_the_chosen_video_stream()
    {
        // Cover art comes first and claims a delay of its own; the video chosen after it holds back two frames.
        const string json = """
            {"format":{"format_name":"mov,mp4,m4a,3gp,3g2,mj2","duration":"10.0"},"streams":[
              {"index":0,"codec_type":"video","width":600,"height":600,"has_b_frames":5,"disposition":{"attached_pic":1}},
              {"index":1,"codec_type":"audio"},
              {"index":2,"codec_type":"video","width":640,"height":360,"avg_frame_rate":"25/1","has_b_frames":2}]}
            """;
        var info = MediaProbe.Interpret(json, Limits, out var reorderDelay);
        Assert.Equal((2, 2), (info.VideoStream, reorderDelay));
    }

    [Fact]
    public void Running_past_a_short_claim_counts_the_real_length() =>
        Assert.Equal(30.0, MediaProbe.Confirm(Claimed with { DurationSeconds = 1 }, new MediaProbe.SourceRead(750, 29.96, []), Limits).DurationSeconds);

    [Fact]
    public void The_stated_rate_counts_even_over_sparse_frames_and_the_counted_one_only_without_it()
    {
        // Screen recorders store a frame only when the picture changes: 3 frames in 2 s, declared 15 fps.
        Assert.Equal(15, MediaProbe.Confirm(Claimed with { FrameRate = 15, DurationSeconds = 2 }, new MediaProbe.SourceRead(3, 1.667, []), Limits).FrameRate);
        Assert.Equal(30, MediaProbe.Confirm(Claimed with { FrameRate = 0 }, new MediaProbe.SourceRead(150, 4.967, []), Limits).FrameRate, 2);
    }

    [Fact]
    public void The_real_length_is_held_to_the_maximum() =>
        Assert.Contains("longest accepted",
            Assert.Throws<UnusableMediaException>(() => MediaProbe.Confirm(Claimed with { DurationSeconds = 0 },
                new MediaProbe.SourceRead(10, 99999, []), Limits)).Reason);

    [Fact]
    public void No_video_frames_at_all() =>
        Assert.Contains("no readable video",
            Assert.Throws<UnusableMediaException>(() => MediaProbe.Confirm(Claimed, new MediaProbe.SourceRead(0, null, []), Limits)).Reason);

    [Theory]
    [InlineData(720, 576, "16:15", 0, 768, 576)]
    [InlineData(720, 576, "64:45", 0, 1024, 576)]
    [InlineData(1280, 720, "0:1", 0, 1280, 720)]
    [InlineData(1280, 720, null, 0, 1280, 720)]
    [InlineData(1920, 1080, "1:1", 90, 1080, 1920)]
    [InlineData(1920, 1080, "1:1", 270, 1080, 1920)]
    [InlineData(1920, 1080, "1:1", 180, 1920, 1080)]
    public void Display_size_applies_sample_aspect_and_rotation(int w, int h, string? sar, int rotation, int displayW, int displayH) =>
        Assert.Equal((displayW, displayH), MediaProbe.DisplaySize(w, h, sar, rotation));

    [Fact]
    public void Cover_art_is_not_video() =>
        Assert.Contains("audio only", Rejected("""
            {"streams":[{"codec_type":"audio"},
                        {"codec_type":"video","width":600,"height":600,"disposition":{"attached_pic":1}}],
             "format":{"format_name":"mp3","duration":"180.0"}}
            """).Reason);

    [Fact]
    public void Still_images_are_not_video() =>
        Assert.Contains("still image",
            Rejected(Json("""{"codec_type":"video","width":640,"height":360,"avg_frame_rate":"25/1"}""",
                """{"format_name":"image2","duration":"0.04"}""")).Reason);

    [Fact]
    public void Frame_rate_falls_back_to_r_frame_rate_and_frame_count_to_duration_times_rate()
    {
        var info = MediaProbe.Interpret(
            Json("""{"codec_type":"video","codec_name":"vp9","width":640,"height":360,"avg_frame_rate":"0/0","r_frame_rate":"30000/1001"}"""),
            Limits);

        Assert.Equal(new MediaInfo(10.0, 640, 360, 29.97, 300, false, "vp9"), info with { VideoStream = null });
    }

    [Theory]
    [InlineData("30/1", 30.0)]
    [InlineData("30000/1001", 29.97002997)]
    [InlineData("25", 25.0)]
    [InlineData("0/0", null)]
    [InlineData("x/y", null)]
    [InlineData(null, null)]
    public void Frame_rate_fractions(string? text, double? expected)
    {
        var rate = MediaProbe.Fraction(text);
        if (expected is null) Assert.Null(rate);
        else Assert.Equal(expected.Value, rate!.Value, 6);
    }
}
