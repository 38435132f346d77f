using Vidline.Contracts;

namespace Vidline.Media.Tests;

public class SourcePictureTests
{
    private static readonly MediaInfo Plain = new(10, 1280, 720, 30, 300, true, "h264");
    private static readonly HashSet<string> Everything = ["bwdif", "yadif", "zscale", "tonemap"];

    [Fact]
    public void A_plain_source_only_gets_its_frame_rate_held_and_8_bit_420()
    {
        var picture = SourcePicture.For(Plain, new LadderOptions(), Everything);

        Assert.Equal("fps=30,format=yuv420p", picture.Filters);
        Assert.Empty(picture.Warnings);
    }

    [Fact]
    public void Interlaced_sources_are_deinterlaced_with_bwdif_else_yadif_else_a_warning()
    {
        var interlaced = Plain with { Interlaced = true };

        Assert.StartsWith("bwdif=", SourcePicture.For(interlaced, new LadderOptions(), Everything).Filters);
        Assert.StartsWith("yadif=", SourcePicture.For(interlaced, new LadderOptions(), new HashSet<string> { "yadif" }).Filters);
        var none = SourcePicture.For(interlaced, new LadderOptions(), new HashSet<string>());
        Assert.DoesNotContain("dif", none.Filters);
        Assert.Contains(none.Warnings, w => w.Contains("no deinterlacer"));
    }

    [Fact]
    public void Hdr_is_tone_mapped_when_zscale_and_tonemap_exist_else_a_warning_says_so()
    {
        var hdr = Plain with { Hdr = true, BitDepth = 10 };

        var mapped = SourcePicture.For(hdr, new LadderOptions(), Everything);
        Assert.Contains("tonemap=tonemap=hable", mapped.Filters);
        Assert.Empty(mapped.Warnings);

        var unmapped = SourcePicture.For(hdr, new LadderOptions(), new HashSet<string> { "zscale" });
        Assert.DoesNotContain("tonemap", unmapped.Filters);
        Assert.Contains(unmapped.Warnings, w => w.Contains("not tone-mapped"));
    }

    [Theory]
    [InlineData(120, 60, "fps=60")]
    [InlineData(59.94, 59.94, "fps=60000/1001")]
    [InlineData(29.97, 29.97, "fps=30000/1001")]
    [InlineData(1, 1, "fps=1")]
    [InlineData(25, 25, "fps=25")]
    public void The_frame_rate_is_capped_at_the_configured_maximum(double source, double output, string filter)
    {
        var picture = SourcePicture.For(Plain with { FrameRate = source }, new LadderOptions { MaxFrameRate = 60 }, Everything);

        Assert.Equal(output, picture.FrameRate);
        Assert.StartsWith(filter + ",", picture.Filters);
        Assert.Equal(source > 60, picture.Warnings.Any(w => w.Contains("capped at 60 fps")));
    }
}
