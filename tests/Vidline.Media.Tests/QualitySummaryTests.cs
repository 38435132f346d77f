namespace Vidline.Media.Tests;

public class QualitySummaryTests
{
    // Tail of a real ffmpeg 5.1 run with ssim and psnr on a 360p rendition scaled to 720p.
    private const string Stderr = """
        Output #0, null, to 'pipe:':
          Stream #0:0: Video: wrapped_avframe, yuv420p(progressive), 1280x720, q=2-31, 200 kb/s, 30 fps, 30 tbn
        frame=   90 fps=0.0 q=-0.0 Lsize=N/A time=00:00:03.00 bitrate=N/A speed=9.65x
        video:42kB audio:0kB subtitle:0kB other streams:0kB global headers:0kB muxing overhead: unknown
        [Parsed_psnr_6 @ 0x55b043563380] PSNR y:35.500265 u:32.499141 v:28.981104 average:33.077184 min:32.760668 max:33.506985
        [Parsed_ssim_5 @ 0x55b043562b40] SSIM Y:0.967398 (14.867608) U:0.959922 (13.970930) V:0.964184 (14.459190) All:0.965617 (14.636501)
        """;

    private const string IdenticalStderr = """
        [Parsed_psnr_4 @ 0x55f6c2d03a00] PSNR y:inf u:inf v:inf average:inf min:inf max:inf
        [Parsed_ssim_3 @ 0x55f6c2d031c0] SSIM Y:1.000000 (inf) U:1.000000 (inf) V:1.000000 (inf) All:1.000000 (inf)
        """;

    [Fact]
    public void Reads_ssim_all_and_psnr_average()
    {
        var q = QualityMeter.Parse(Stderr, expectVmaf: false);

        Assert.Equal(0.965617, q.Ssim);
        Assert.Equal(33.077184, q.Psnr);
        Assert.Null(q.Vmaf);
    }

    [Fact]
    public void Infinite_psnr_of_identical_video_counts_as_100()
    {
        var q = QualityMeter.Parse(IdenticalStderr, expectVmaf: false);

        Assert.Equal(1.0, q.Ssim);
        Assert.Equal(QualityMeter.IdenticalPsnr, q.Psnr);
    }

    [Fact]
    public void Reads_vmaf_when_expected()
    {
        var q = QualityMeter.Parse(Stderr + "\n[Parsed_libvmaf_7 @ 0x55d1] VMAF score: 93.412345\n", expectVmaf: true);

        Assert.Equal(93.412345, q.Vmaf);
    }

    [Fact]
    public void Missing_summary_is_an_error() =>
        Assert.Throws<FfmpegException>(() => QualityMeter.Parse("frame=90 fps=0.0", expectVmaf: false));
}
