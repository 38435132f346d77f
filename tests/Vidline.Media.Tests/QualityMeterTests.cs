namespace Vidline.Media.Tests;

[Collection(MediaCollection.Name)]
public class QualityMeterTests(TestMedia media)
{
    [Fact]
    public async Task A_rendition_scores_high_against_its_source()
    {
        var renditions = await media.Ladder720Async();
        var rendition480 = renditions.Single(r => r.Target.Name == "480p");

        var q = await new QualityMeter(media.Runner).MeasureAsync(rendition480.Path, media.Clip720, 1280, 720);

        Assert.InRange(q.Ssim, 0.9, 1.0);
        Assert.InRange(q.Psnr, 30, 99);
        Assert.Null(q.Vmaf);   // Debian's ffmpeg has no libvmaf
    }

    [Fact]
    public async Task An_identical_file_scores_perfectly()
    {
        var q = await new QualityMeter(media.Runner).MeasureAsync(media.Clip360, media.Clip360, 640, 360);

        Assert.Equal(1.0, q.Ssim, 4);
        Assert.Equal(QualityMeter.IdenticalPsnr, q.Psnr);
    }

    [Fact]
    public async Task Scoring_reports_how_far_through_the_source_it_is()
    {
        var duration = (await new MediaProbe(media.Runner).ProbeAsync(media.Clip360)).DurationSeconds;
        var seen = new List<double>();

        await new QualityMeter(media.Runner).MeasureAsync(media.Clip360, media.Clip360, 640, 360,
            sourceDurationSeconds: duration, onProgress: seen.Add);

        Assert.NotEmpty(seen);
        Assert.Equal(seen.Order(), seen);
        Assert.InRange(seen[^1], 90, 100);
    }

    [Fact]
    public async Task Detects_that_this_ffmpeg_lacks_libvmaf() =>
        Assert.False(await new QualityMeter(media.Runner).HasVmafAsync());
}
