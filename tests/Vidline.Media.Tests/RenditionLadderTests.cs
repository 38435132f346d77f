using Vidline.Contracts;

namespace Vidline.Media.Tests;

public class RenditionLadderTests
{
    private static MediaInfo Source(int width, int height) => new(10, width, height, 30, 300, true, "h264");

    private static readonly RenditionLadder Ladder = new(new LadderOptions());

    [Fact]
    public void A_1080p_source_gets_every_default_rung()
    {
        var rungs = Ladder.For(Source(1920, 1080));

        Assert.Equal(["1080p", "720p", "480p", "360p"], rungs.Select(r => r.Name));
        Assert.Equal([(1920, 1080), (1280, 720), (854, 480), (640, 360)], rungs.Select(r => (r.Width, r.Height)));
        Assert.Equal([5000, 2800, 1400, 800], rungs.Select(r => r.VideoBitrateKbps));
    }

    [Fact]
    public void Never_upscales()
    {
        var rungs = Ladder.For(Source(1280, 720));

        Assert.Equal(["720p", "480p", "360p"], rungs.Select(r => r.Name));
        Assert.All(rungs, r => Assert.True(r.Height <= 720));
    }

    [Fact]
    public void A_source_between_rungs_gets_the_rungs_below_it() =>
        Assert.Equal(["480p", "360p"], Ladder.For(Source(1024, 576)).Select(r => r.Name));

    [Theory]
    [InlineData(1920, 1080)]
    [InlineData(1440, 1080)]  // 4:3
    [InlineData(1080, 1920)]  // portrait
    [InlineData(2560, 1080)]  // 21:9
    [InlineData(1998, 1080)]  // DCI flat, gives odd raw widths
    public void Widths_keep_the_aspect_ratio_and_are_even(int width, int height)
    {
        foreach (var rung in Ladder.For(Source(width, height)))
        {
            Assert.Equal(0, rung.Width % 2);
            Assert.Equal(0, rung.Height % 2);
            Assert.InRange((double)rung.Width / rung.Height, (double)width / height - 0.01, (double)width / height + 0.01);
        }
    }

    [Fact]
    public void A_source_below_the_smallest_rung_gets_one_rung_at_its_own_even_height()
    {
        var rung = Assert.Single(Ladder.For(Source(321, 241)));

        Assert.Equal(240, rung.Height);
        Assert.Equal(320, rung.Width);
        Assert.Equal("240p", rung.Name);
        Assert.InRange(rung.VideoBitrateKbps, 100, 800);
    }

    [Fact]
    public void Configured_rungs_replace_the_defaults()
    {
        var options = new LadderOptions { Rungs = [new() { Name = "low", Height = 240, VideoBitrateKbps = 300, AudioBitrateKbps = 64 }] };

        var rung = Assert.Single(new RenditionLadder(options).For(Source(1920, 1080)));

        Assert.Equal(("low", 426, 240, 300, 64), (rung.Name, rung.Width, rung.Height, rung.VideoBitrateKbps, rung.AudioBitrateKbps));
    }

    [Fact]
    public void ToRendition_carries_the_storage_key()
    {
        var rendition = Ladder.For(Source(1280, 720))[0].ToRendition("jobs/1/720p.mp4");

        Assert.Equal(new Rendition("720p", 1280, 720, 2800, 128, "jobs/1/720p.mp4", "16:9"), rendition);
    }
}
