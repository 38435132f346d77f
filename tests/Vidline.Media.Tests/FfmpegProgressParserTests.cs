namespace Vidline.Media.Tests;

public class FfmpegProgressParserTests
{
    // As ffmpeg 5.1 prints them with -progress pipe:1 for a three-output encode.
    private const string StartBlock = """
        frame=0
        fps=0.00
        stream_0_0_q=0.0
        stream_1_0_q=0.0
        bitrate=N/A
        total_size=48
        out_time_us=-23220
        out_time_ms=-23220
        out_time=-00:00:00.023220
        dup_frames=0
        drop_frames=0
        speed=N/A
        progress=continue
        """;

    private const string MiddleBlock = """
        frame=79
        fps=77.27
        stream_0_0_q=27.0
        stream_1_0_q=23.0
        bitrate=2376.9kbits/s
        total_size=786480
        out_time_us=2647075
        out_time_ms=2647075
        out_time=00:00:02.647075
        dup_frames=0
        drop_frames=0
        speed=2.59x
        progress=continue
        """;

    private const string EndBlock = """
        frame=90
        fps=78.10
        stream_0_0_q=-1.0
        bitrate=2400.1kbits/s
        total_size=901234
        out_time_us=N/A
        out_time_ms=3000000
        out_time=00:00:03.000000
        dup_frames=0
        drop_frames=0
        speed=2.61x
        progress=end
        """;

    private static List<FfmpegProgress> Parse(params string[] blocks) =>
        new FfmpegProgressParser().FeedAll(string.Join("\n", blocks).Split('\n')).ToList();

    [Fact]
    public void Yields_one_record_per_block()
    {
        var records = Parse(StartBlock, MiddleBlock, EndBlock);

        Assert.Equal(3, records.Count);
        Assert.Equal([false, false, true], records.Select(r => r.IsEnd));
    }

    [Fact]
    public void Start_block_with_NA_and_negative_time_parses_as_nothing_done_yet()
    {
        var start = Parse(StartBlock).Single();

        Assert.Equal(0, start.Frame);
        Assert.Equal(0, start.Fps);
        Assert.Equal(TimeSpan.Zero, start.OutTime);
        Assert.Null(start.Speed);
        Assert.Equal(0, start.PercentOf(3));
        Assert.Null(start.EtaSeconds(3));
    }

    [Fact]
    public void Middle_block_reads_frame_fps_time_and_speed()
    {
        var middle = Parse(MiddleBlock).Single();

        Assert.Equal(79, middle.Frame);
        Assert.Equal(77.27, middle.Fps);
        Assert.Equal(TimeSpan.FromMicroseconds(2647075), middle.OutTime);
        Assert.Equal(2.59, middle.Speed);
    }

    [Fact]
    public void Out_time_ms_is_microseconds_and_used_when_out_time_us_is_NA()
    {
        var end = Parse(EndBlock).Single();

        Assert.Equal(TimeSpan.FromSeconds(3), end.OutTime);
        Assert.True(end.IsEnd);
    }

    [Fact]
    public void Values_do_not_leak_from_one_block_into_the_next()
    {
        var records = Parse(MiddleBlock, "progress=continue");

        Assert.Null(records[1].Frame);
        Assert.Null(records[1].OutTime);
        Assert.Null(records[1].Speed);
    }

    [Fact]
    public void Ignores_lines_that_are_not_key_value()
    {
        var parser = new FfmpegProgressParser();

        Assert.Null(parser.Feed(""));
        Assert.Null(parser.Feed("garbage"));
        Assert.Null(parser.Feed("=x"));
        Assert.NotNull(parser.Feed("progress=continue"));
    }

    [Theory]
    [InlineData(1.5, 3.0, 50.0)]
    [InlineData(0.0, 3.0, 0.0)]
    [InlineData(4.0, 3.0, 100.0)]   // muxed a little past the probed duration
    [InlineData(1.0, 0.0, 0.0)]     // unknown source duration
    [InlineData(-1.0, 3.0, 0.0)]
    public void Percent_is_clamped_to_0_100(double outSeconds, double duration, double expected) =>
        Assert.Equal(expected, FfmpegProgress.Percent(TimeSpan.FromSeconds(outSeconds), duration), 6);

    [Fact]
    public void Percent_is_100_at_the_end_block_even_if_short_of_the_duration() =>
        Assert.Equal(100, FfmpegProgress.Percent(TimeSpan.FromSeconds(2.97), 3.0, isEnd: true));

    [Fact]
    public void Percent_is_0_without_a_time() => Assert.Equal(0, FfmpegProgress.Percent(null, 3.0));

    [Theory]
    [InlineData(10.0, 60.0, 2.0, 25.0)]
    [InlineData(60.0, 60.0, 2.0, 0.0)]
    [InlineData(0.0, 30.0, 0.5, 60.0)]
    public void Eta_is_remaining_media_time_over_speed(double outSeconds, double duration, double speed, double expected) =>
        Assert.Equal(expected, FfmpegProgress.Eta(TimeSpan.FromSeconds(outSeconds), duration, speed)!.Value, 6);

    [Theory]
    [InlineData(null)]
    [InlineData(0.0)]
    public void Eta_is_unknown_without_a_positive_speed(double? speed) =>
        Assert.Null(FfmpegProgress.Eta(TimeSpan.FromSeconds(1), 10, speed));

    [Fact]
    public void ToDetails_carries_live_figures_for_the_progress_event()
    {
        var details = Parse(MiddleBlock).Single().ToDetails(frameCount: 90, sourceDurationSeconds: 3);

        Assert.Equal(79, details.CurrentFrame);
        Assert.Equal(90, details.FrameCount);
        Assert.Equal(2.59, details.Speed);
        Assert.Equal((3 - 2.647075) / 2.59, details.EtaSeconds!.Value, 6);
    }
}
