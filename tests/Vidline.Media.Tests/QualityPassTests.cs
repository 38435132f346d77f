using System.Text.RegularExpressions;
using Vidline.Contracts;

namespace Vidline.Media.Tests;

/// <summary>The arguments of the validator's one pass: the source is one input however many renditions it is compared with.</summary>
public class QualityPassTests
{
    private const string SourcePath = "/work/job/source.mov";
    private static readonly MediaInfo Source = new(10, 1920, 1080, 30, 300, true, "h264");
    private static readonly SourcePicture Picture = new("fps=30,format=yuv420p", 30, []);

    private static readonly RenditionFile[] Ladder =
    [
        new("/work/job/1080p/video.m3u8", new RenditionTarget("1080p", 1920, 1080, 5000, 128), true, "/work/job/audio.m3u8"),
        new("/work/job/720p/video.m3u8", new RenditionTarget("720p", 1280, 720, 2800, 128), true, "/work/job/audio.m3u8"),
        new("/work/job/480p/video.m3u8", new RenditionTarget("480p", 854, 480, 1400, 128), true, "/work/job/audio.m3u8"),
        new("/work/job/360p/video.m3u8", new RenditionTarget("360p", 640, 360, 800, 96), true, "/work/job/audio.m3u8"),
        new("/work/job/240p/video.m3u8", new RenditionTarget("240p", 426, 240, 400, 64), true, "/work/job/audio.m3u8"),
    ];

    private static QualityPass PassOf(int rungs, bool vmaf = false, bool fullSize = false) =>
        new(Ladder.Take(rungs).ToList(), SourcePath, Source, Picture, vmaf, fullSize, threads: 2, workPrefix: "/tmp/psnr");

    private static string Graph(QualityPass pass) => pass.Arguments[pass.Arguments.ToList().IndexOf("-lavfi") + 1];

    private static int Count(string text, string pattern) => Regex.Matches(text, pattern).Count;

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    public void The_source_is_one_input_decoded_once_for_every_rendition(int rungs)
    {
        var pass = PassOf(rungs);
        var inputs = pass.Arguments.Select((a, i) => (a, i)).Where(x => x.a == "-i").Select(x => pass.Arguments[x.i + 1]).ToList();

        Assert.Equal([SourcePath, .. Ladder.Take(rungs).Select(r => r.Path)], inputs);
        Assert.True(HardenedInput.IsHardened(pass.Arguments));
        var graph = Graph(pass);
        // One reading of input 0, prepared once; every rendition is read once.
        Assert.Equal(1, Count(graph, @"\[0:v:0\]"));
        Assert.Equal(1, Count(graph, Regex.Escape(Picture.Filters)));
        for (var i = 1; i <= rungs; i++) Assert.Equal(1, Count(graph, $@"\[{i}:v\]"));
    }

    [Fact]
    public void Each_rendition_gets_its_comparisons_and_detectors_and_the_source_is_searched_for_defects_once()
    {
        var pass = PassOf(5);
        var graph = Graph(pass);

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(1, Count(graph, $"ssim@encode{i};"));
            Assert.Equal(1, Count(graph, $"psnr@encode{i}=stats_file='{Regex.Escape(pass.PsnrLogs[i])}'"));
            Assert.Equal(1, Count(graph, $"metadata@rendition{i}=mode=print"));
        }
        Assert.Equal(5, pass.PsnrLogs.Distinct().Count());
        Assert.Equal(1, Count(graph, "metadata@source="));
        Assert.Equal(6, Count(graph, "freezedetect"));
        Assert.DoesNotContain("libvmaf", graph);
    }

    [Fact]
    public void A_rung_at_the_source_size_is_compared_once_for_encode_loss_and_full_size()
    {
        var pass = PassOf(2, fullSize: true);
        var graph = Graph(pass);

        Assert.Equal("encode0", pass.FullSizeName(0));
        Assert.Equal("full1", pass.FullSizeName(1));
        Assert.DoesNotContain("ssim@full0", graph);
        Assert.Contains("ssim@full1", graph);
        Assert.Contains("psnr@full1", graph);
    }

    [Fact]
    public void Without_full_size_figures_nothing_is_scaled_up_or_compared_at_the_source_size()
    {
        var pass = PassOf(5);
        var graph = Graph(pass);

        Assert.False(pass.FullSize);
        Assert.DoesNotContain("srcfull", graph);
        Assert.DoesNotContain("@full", graph);
        // Scaled to the source's size only as the 1080p rung's own reference; nothing else is scaled up.
        Assert.Equal(1, Count(graph, $"scale={Source.Width}:{Source.Height}"));
        Assert.Equal(5, Count(graph, "scale="));
        // Only the encode-loss comparisons: one SSIM and one PSNR per rendition.
        Assert.Equal(5, Count(graph, "ssim@"));
        Assert.Equal(5, Count(graph, "psnr@"));
    }

    [Fact]
    public void Vmaf_scores_every_rendition_by_its_own_name()
    {
        var graph = Graph(PassOf(3, vmaf: true));

        for (var i = 0; i < 3; i++) Assert.Equal(1, Count(graph, $"libvmaf@encode{i}=n_threads=2"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Every_filter_output_is_used_exactly_once(bool fullSize)
    {
        var graph = Graph(PassOf(5, vmaf: true, fullSize));
        // "[x]" labels: each defined once (after a filter) and consumed once (before one).
        var labels = Regex.Matches(graph, @"\[([a-z]\w*)\]").Select(m => m.Groups[1].Value).ToList();

        Assert.All(labels.GroupBy(l => l), g => Assert.Equal(2, g.Count()));
    }
}
