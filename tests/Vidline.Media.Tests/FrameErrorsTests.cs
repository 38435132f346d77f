using Vidline.Contracts;
using Vidline.Validator;

namespace Vidline.Media.Tests;

public class FrameErrorsTests
{
    // MSE 6.5 ≈ 40 dB, 650 ≈ 20 dB (8-bit).
    private static FrameErrors Errors(int good, int bad, int goodAfter, double rate = 10) =>
        new([.. Enumerable.Repeat(6.5, good), .. Enumerable.Repeat(650.0, bad), .. Enumerable.Repeat(6.5, goodAfter)], rate);

    [Fact]
    public void Reads_mse_avg_from_the_psnr_stats_log()
    {
        var errors = FrameErrors.Parse(["n:1 mse_avg:6.50 mse_y:7.00 psnr_avg:39.99", "n:2 mse_avg:inf", "n:3 mse_avg:1.25 psnr_avg:47.16"], 25);

        Assert.Equal([6.5, 1.25], errors.MeanSquaredErrors);
    }

    [Fact]
    public void The_worst_second_is_found_where_the_errors_are()
    {
        var worst = Errors(good: 20, bad: 10, goodAfter: 20).WorstSecond()!.Value;

        Assert.Equal(new TimeSpanOfVideo(2, 3), worst.When);
        Assert.Equal(20, worst.Psnr, 1);
    }

    [Fact]
    public void Psnr_during_a_stretch_counts_only_its_frames() =>
        Assert.Equal(40, Errors(good: 20, bad: 10, goodAfter: 20).PsnrDuring(new TimeSpanOfVideo(0, 1.5)), 1);

    [Fact]
    public void No_frames_no_worst_second() => Assert.Null(new FrameErrors([], 25).WorstSecond());
}

/// <summary>The gate's freeze rule on made-up measurements: a freeze counts only where the source moves under it.</summary>
public class FreezeRuleTests
{
    private static readonly RenditionTarget Rung = new("360p", 640, 360, 800, 96);
    private static readonly MediaInfo Source = new(5, 640, 360, 10, 50, false, "h264");

    private static RenditionMeasurement Measured(FrameErrors errors) => new(
        new RenditionStructure(640, 360, 5, 50, false, null, null), 10,
        new QualityMeasurement(0.95, 38, null), new QualityMeasurement(0.95, 38, null), errors,
        RenditionFreezes: [new TimeSpanOfVideo(2, 3)], SourceFreezes: [], RenditionBlack: [], SourceBlack: []);

    [Fact]
    public void A_frozen_stretch_that_loses_much_more_than_the_rest_is_a_defect()
    {
        var score = new QualityGate(new QualityGateOptions { MinWorstSecondPsnr = 0 }).Judge(Rung, Source,
            Measured(new FrameErrors([.. Enumerable.Repeat(6.5, 20), .. Enumerable.Repeat(100.0, 10), .. Enumerable.Repeat(6.5, 20)], 10)));

        Assert.Contains(score.Problems!, p => p.StartsWith("picture is frozen at 2.0–3.0 s"));
    }

    [Fact]
    public void A_still_rendition_of_a_noisy_still_scene_is_not()
    {
        // A tripod shot: the source's noise keeps it from counting as frozen, but the picture never moved.
        var score = new QualityGate(new QualityGateOptions()).Judge(Rung, Source, Measured(new FrameErrors([.. Enumerable.Repeat(10.0, 50)], 10)));

        Assert.True(score.Passed, string.Join("; ", score.Problems!));
    }
}
