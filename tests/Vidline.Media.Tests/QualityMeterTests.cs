namespace Vidline.Media.Tests;

[Collection(MediaCollection.Name)]
public class QualityMeterTests(TestMedia media)
{
    [Fact]
    public async Task A_rendition_scores_high_on_encode_loss_and_lower_at_full_size()
    {
        var renditions = await media.Ladder720Async();
        var rendition480 = renditions.Single(r => r.Target.Name == "480p");
        var source = await new MediaProbe(media.Runner).ProbeAsync(media.Clip720);

        var m = await new QualityMeter(media.Runner, new LadderOptions()).MeasureAsync(rendition480, media.Clip720, source);

        Assert.InRange(m.EncodeLoss.Ssim, 0.9, 1.0);
        Assert.InRange(m.EncodeLoss.Psnr, 30, 99);
        Assert.True(m.FullSize.Psnr < m.EncodeLoss.Psnr, $"full size {m.FullSize.Psnr} vs encode loss {m.EncodeLoss.Psnr}");
        Assert.Null(m.EncodeLoss.Vmaf);   // Debian's ffmpeg has no libvmaf
        Assert.Equal((854, 480, 90L, true), (m.Structure.Width, m.Structure.Height, m.Structure.FrameCount, m.Structure.HasAudio));
        Assert.Empty(m.RenditionFreezes);
        Assert.Empty(m.RenditionBlack);
        Assert.True(m.EncodeErrors.WorstSecond()!.Value.Psnr > 30);
        Assert.Equal(90, m.EncodeErrors.MeanSquaredErrors.Count);
    }

    [Fact]
    public async Task An_identical_file_scores_perfectly()
    {
        var source = await new MediaProbe(media.Runner).ProbeAsync(media.Clip360);

        var m = await new QualityMeter(media.Runner, new LadderOptions()).MeasureAsync(new RenditionFile(media.Clip360, new RenditionTarget("360p", 640, 360, 800, 96), HasAudio: true), media.Clip360, source);

        Assert.Equal(1.0, m.EncodeLoss.Ssim, 4);
        Assert.Equal(QualityMeter.IdenticalPsnr, m.EncodeLoss.Psnr);
        Assert.Equal(QualityMeter.IdenticalPsnr, m.FullSize.Psnr);
    }

    [Fact]
    public async Task Scoring_reports_how_far_through_the_source_it_is()
    {
        var source = await new MediaProbe(media.Runner).ProbeAsync(media.Clip360);
        var seen = new List<double>();

        await new QualityMeter(media.Runner, new LadderOptions()).MeasureAsync(new RenditionFile(media.Clip360, new RenditionTarget("360p", 640, 360, 800, 96), HasAudio: true), media.Clip360, source,
            onProgress: seen.Add);

        Assert.NotEmpty(seen);
        Assert.Equal(seen.Order(), seen);
        Assert.InRange(seen[^1], 90, 100);
    }

    [Fact]
    public async Task Detects_that_this_ffmpeg_lacks_libvmaf() =>
        Assert.False(await new QualityMeter(media.Runner, new LadderOptions()).HasVmafAsync());
}
